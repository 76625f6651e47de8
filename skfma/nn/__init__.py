"""Plain torch modules: the published nets, a spectral front end, augmentation, dropout and ELU.

Naming rule: the module behind an estimator of :mod:`skfma.models` carries
the estimator's name (less a ``Classifier`` suffix) followed by ``Module``,
as skorch's ``MLPModule``: ``KostrzewaCNN`` trains a
:class:`KostrzewaCNNModule`, ``DNNClassifier`` a :class:`DNNModule`. Every
constructor argument is keyword-only with a default.

This subpackage imports torch only (never scikit-learn or skorch). The signal
processing the modules share with the feature transformers lives in
:mod:`skfma.functional`.
"""

from ._augment import SpecAugment
from ._crnn import ChoiCRNNModule
from ._dropout import Dropout
from ._elu import ELU
from ._frontend import SpectrogramFrontEnd
from ._musicnn import MusicnnModule, MusicnnVGGModule
from ._nets import DNNModule, KostrzewaCNNModule, UNetEncoderCNNModule
from ._resnet import ZhangResNetModule

__all__ = [
    "ChoiCRNNModule",
    "DNNModule",
    "Dropout",
    "ELU",
    "KostrzewaCNNModule",
    "MusicnnModule",
    "MusicnnVGGModule",
    "SpecAugment",
    "SpectrogramFrontEnd",
    "UNetEncoderCNNModule",
    "ZhangResNetModule",
]
