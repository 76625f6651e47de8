"""skfma: scikit-learn compatible music genre classification and tagging for the FMA.

The public classes are importable from the top level (``from skfma import
MelSpectrogram``) but loaded lazily (PEP 562), so ``import skfma`` stays fast.
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
    "Resize": "features",
    "SpectrogramScaler": "features",
    "FMAFeatures": "features",
    "SpecAugment": "nn",
    "NeuralClassifier": "models",
    "DNNClassifier": "models",
    "KostrzewaCNN": "models",
    "UNetEncoderCNN": "models",
    "PretrainedCNNFeatures": "transfer",
    "MusicnnFeatures": "transfer",
    "musicnn_tags": "transfer",
    "ChoiCRNN": "models",
    "ZhangResNet": "models",
    "predict_tags": "models",
    "HyperbandSearchCV": "model_selection",
    "BayesianSearchCV": "model_selection",
    "make_genre_clips": "datasets",
    "run_demo": "_demo",
    "SkfmaError": "exceptions",
    "AudioDecodeError": "exceptions",
    "CheckpointError": "exceptions",
    "DownloadError": "exceptions",
    "ParameterError": "exceptions",
    "MetadataError": "exceptions",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
