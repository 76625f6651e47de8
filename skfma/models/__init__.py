"""scikit-learn classifiers wrapping the :mod:`skfma.nn` networks through skorch."""

from ._callbacks import OneCycleSchedule
from ._classifiers import DNNClassifier, KostrzewaCNN, UNetEncoderCNN
from ._crnn import ChoiCRNN
from ._data_parallel import AccelerateMixin
from ._neural import NeuralClassifier
from ._progress import TrainingSpeed
from ._resnet import ZhangResNet
from ._tagging import predict_tags

__all__ = [
    "AccelerateMixin",
    "ChoiCRNN",
    "DNNClassifier",
    "KostrzewaCNN",
    "NeuralClassifier",
    "OneCycleSchedule",
    "TrainingSpeed",
    "UNetEncoderCNN",
    "ZhangResNet",
    "predict_tags",
]
