"""Datasets: synthetic genre clips (FMA metadata and audio index follow)."""

from ._synthetic import GENRE_STYLES, fma_audio_path, make_genre_clips

__all__ = ["GENRE_STYLES", "fma_audio_path", "make_genre_clips"]
