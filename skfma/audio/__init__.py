"""Decoding, resampling and cropping of audio files.

:func:`load_audio` and :class:`AudioLoader` are what users call; :func:`load_window`
(one clip as ``AudioLoader`` decodes it), :func:`open_audio` (a header probe) and
:func:`resample` serve the subpackages that decode files themselves.
"""

from ._load import load_audio, load_window, open_audio, resample
from ._loader import AudioLoader

__all__ = ["AudioLoader", "load_audio", "load_window", "open_audio", "resample"]
