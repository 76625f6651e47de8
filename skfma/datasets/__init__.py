"""Datasets: the FMA (metadata, audio index, download), audio folders and synthetic data."""

from ._fetch import FMA_SHA1, FMA_URL, fetch_fma, get_data_home
from ._fma import NO_AUDIO_CLIPS, SHORT_CLIPS, fma_audio_path, load_fma
from ._fma_like import make_fma_like
from ._folder import AUDIO_EXTENSIONS, load_audio_folder
from ._metadata import load_fma_metadata
from ._synthetic import GENRE_STYLES, make_genre_clips

__all__ = [
    "AUDIO_EXTENSIONS",
    "FMA_SHA1",
    "FMA_URL",
    "GENRE_STYLES",
    "NO_AUDIO_CLIPS",
    "SHORT_CLIPS",
    "fetch_fma",
    "fma_audio_path",
    "get_data_home",
    "load_audio_folder",
    "load_fma",
    "load_fma_metadata",
    "make_fma_like",
    "make_genre_clips",
]
