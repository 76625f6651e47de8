"""scikit-learn classifiers wrapping the :mod:`skfma.nn` networks through skorch."""

from ._callbacks import OneCycleSchedule
from ._classifiers import DNNClassifier, KostrzewaCNN, UNetEncoderCNN
from ._crnn import ChoiCRNN
from ._neural import NeuralClassifier
from ._resnet import ZhangResNet
from ._tagging import predict_tags

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
