"""Datasets stored as one folder of audio files per label (``genre_name/*.wav``)."""

import os

import numpy as np
from sklearn.utils import Bunch

from ..exceptions import ParameterError
from ..utils import expand_path, validate_arguments

__all__ = ["load_audio_folder", "AUDIO_EXTENSIONS"]

#: File name endings that :func:`load_audio_folder` takes as audio by default.
AUDIO_EXTENSIONS = (".wav", ".mp3", ".ogg", ".oga", ".opus", ".flac", ".aif", ".aiff", ".au")


def _check_extensions(name, value):
    if (
        isinstance(value, str)
        or not isinstance(value, list | tuple)
        or not value
        or not all(isinstance(e, str) and e for e in value)
    ):
        # An empty ending would take every file; none, no file.
        raise ParameterError(
            f"{name} must be a non-empty list or tuple of file name endings (non-empty str); "
            f"got {value!r}."
        )
    return value


@validate_arguments({"root": expand_path, "extensions": _check_extensions})
def load_audio_folder(root, *, extensions=AUDIO_EXTENSIONS):
    """Index a dataset stored as one sub-folder of audio files per label.

    This is the layout of GTZAN (``genres/blues/blues.00000.au``) and of most
    home-made collections::

        root/Hip-Hop/any_name.wav
        root/Hip-Hop/more/nested/files.mp3
        root/Rock/...

    Every file under ``root/LABEL/`` (sub-folders included) whose name ends with
    one of ``extensions`` (any case) is a clip of ``LABEL``. Hidden files and
    folders (names starting with ``.``) and other files are ignored. Files are
    listed by label, then by path, so the result does not depend on the file
    system.

    Parameters
    ----------
    root : str or os.PathLike
        The folder holding one sub-folder per label.
    extensions : sequence of str, default=AUDIO_EXTENSIONS
        The audio file endings, with their dot: ``.wav``, ``.mp3``, ``.ogg``,
        ``.oga``, ``.opus``, ``.flac``, ``.aif``, ``.aiff`` and ``.au`` by default.

    Returns
    -------
    data : sklearn.utils.Bunch
        filenames : ndarray of str, shape (n_clips,)
            The audio file paths.
        target : ndarray of str, shape (n_clips,)
            Each file's label: the name of its sub-folder of ``root``.
        target_names : ndarray of str, shape (n_labels,)
            The labels, sorted; sub-folders without audio files are left out.

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a folder, or holds no audio file in a sub-folder.

    See Also
    --------
    load_fma : the FMA's own layout.

    Examples
    --------
    >>> from skfma.datasets import load_audio_folder
    >>> gtzan = load_audio_folder("gtzan/genres")  # doctest: +SKIP
    >>> gtzan.target_names  # doctest: +SKIP
    array(['blues', 'classical', ...], dtype=object)
    """
    if not os.path.isdir(root):
        raise FileNotFoundError(f"audio folder not found: {root!r}")
    endings = tuple(extension.lower() for extension in extensions)
    filenames, target = [], []
    for label in sorted(os.listdir(root)):
        folder = os.path.join(root, label)
        if label.startswith(".") or not os.path.isdir(folder):
            continue
        for path in _audio_files(folder, endings):
            filenames.append(path)
            target.append(label)
    if not filenames:
        raise FileNotFoundError(
            f"no audio files in the sub-folders of {root!r} (expected {root}/LABEL/*.wav and the "
            f"like, with endings {', '.join(endings)})."
        )
    return Bunch(
        filenames=np.array(filenames, dtype=object),
        target=np.array(target, dtype=object),
        target_names=np.array(sorted(set(target)), dtype=object),
    )


def _audio_files(folder, endings):
    """Sorted paths of the non-hidden files under ``folder`` that end with one of ``endings``.

    Linked folders are followed, as a linked label folder is, each folder once
    (a link back up is a loop).
    """
    paths = []
    seen = {os.path.realpath(folder)}
    for directory, subdirs, files in os.walk(folder, followlinks=True):
        kept = []
        for name in sorted(subdirs):
            real = os.path.realpath(os.path.join(directory, name))
            if not name.startswith(".") and real not in seen:
                seen.add(real)
                kept.append(name)
        subdirs[:] = kept
        paths.extend(
            os.path.join(directory, name)
            for name in files
            if not name.startswith(".") and name.lower().endswith(endings)
        )
    return sorted(paths)
