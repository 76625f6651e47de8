"""scikit-learn classifiers wrapping the :mod:`skfma.nn` networks through skorch."""

from ._base import NeuralClassifier, OneCycleSchedule
from ._classifiers import DNNClassifier, KostrzewaCNN, UNetEncoderCNN
from ._crnn import ChoiCRNN
from ._resnet import ZhangResNet
from ._tags import predict_tags

__all__ = [
    "ChoiCRNN",
    "DNNClassifier",
    "KostrzewaCNN",
    "NeuralClassifier",
    "OneCycleSchedule",
    "UNetEncoderCNN",
    "ZhangResNet",
    "predict_tags",
]
