"""scikit-learn classifiers wrapping the :mod:`skfma.nn` networks through skorch."""

from ._base import NeuralClassifier, OneCycleSchedule
from ._classifiers import DNNClassifier, KostrzewaCNN, UNetEncoderCNN

__all__ = [
    "DNNClassifier",
    "KostrzewaCNN",
    "NeuralClassifier",
    "OneCycleSchedule",
    "UNetEncoderCNN",
]
