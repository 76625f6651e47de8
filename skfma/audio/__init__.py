"""Decoding, resampling and cropping of audio files."""

from ._load import load_audio
from ._loader import AudioLoader

__all__ = ["AudioLoader", "load_audio"]
