"""skfma: scikit-learn compatible music genre classification and tagging for the FMA.

The top level exports the estimators that pipelines are built from and the three
functions a user calls first (``load_audio``, ``make_audio_features``, ``run_demo``);
everything else comes from its subpackage (``skfma.datasets.load_fma``,
``skfma.exceptions.ParameterError``). They are loaded lazily (PEP 562), so
``import skfma`` stays fast. The rule and the layers: ``docs/contributing.rst``.
"""

from importlib.metadata import PackageNotFoundError, version

from ._lazy import lazy_exports

try:
    __version__ = version("skfma")  # one version: pyproject.toml's, as installed
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

#: Public name -> subpackage that defines it.
_LAZY = {
    "AudioLoader": "audio",
    "AudioFeatures": "pipeline",
    "make_audio_features": "pipeline",
    "load_audio": "audio",
    "Spectrogram": "features",
    "MelSpectrogram": "features",
    "MFCC": "features",
    "TemporalStatistics": "features",
    "SpectrogramScaler": "features",
    "FMAFeatures": "features",
    "NeuralClassifier": "models",
    "DNNClassifier": "models",
    "KostrzewaCNN": "models",
    "UNetEncoderCNN": "models",
    "PretrainedCNNFeatures": "transfer",
    "MusicnnFeatures": "transfer",
    "ChoiCRNN": "models",
    "ZhangResNet": "models",
    "HyperbandSearchCV": "model_selection",
    "BayesianSearchCV": "model_selection",
    "run_demo": "_demo",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
