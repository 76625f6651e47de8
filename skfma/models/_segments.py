"""Fixed-length windows of clips, for nets trained on segments, and their aggregation."""

import numpy as np
import torch
from skorch.dataset import unpack_data

__all__ = ["AGGREGATES", "ClipWindows", "aggregate_windows", "window_starts"]

#: How a clip's window probabilities may be combined.
AGGREGATES = ("mean", "max", "sum")


def window_starts(n_frames, segment_length, *, hop=None, n_segments=None):
    """First frame of each window of a clip.

    Parameters
    ----------
    n_frames : int
        Frames (or samples) per clip.
    segment_length : int
        Window length.
    hop : int or None, default=None
        Frames between window starts; windows that would run past the end
        are not made. ``None`` means ``segment_length``.
    n_segments : int or None, default=None
        Exactly this many windows instead, spread evenly from the clip's
        start to its end (the first starts at frame 0, the last ends at the
        last frame); ``hop`` is then ignored.

    Returns
    -------
    starts : list of int
        ``[0]`` (or ``n_segments`` zeros) for a clip shorter than a window.
    """
    room = n_frames - segment_length
    if n_segments is not None:
        if room <= 0 or n_segments == 1:
            return [0] * n_segments
        return [round(i * room / (n_segments - 1)) for i in range(n_segments)]
    return list(range(0, max(room, 0) + 1, hop or segment_length))


class ClipWindows(torch.utils.data.Dataset):
    """Every window of every clip of a dataset, with its clip's target.

    Item ``i`` is window ``i % n_windows`` of clip ``i // n_windows``; windows
    are views, so memory does not grow with the overlap. Clips shorter than a
    window are padded at the end with silence: each row's minimum for
    spectrograms (decibels), zeros for 1-D waveforms.

    Parameters
    ----------
    dataset : Dataset
        Yields ``(clip, target)`` with clips of shape ``(..., n_frames)``, or
        waveforms of shape ``(n_samples,)``.
    n_frames : int
        Frames (or samples) per clip.
    segment_length : int
        Window length in frames (or samples).
    starts : list of int
        Each window's first frame (:func:`window_starts`).
    """

    def __init__(self, dataset, n_frames, segment_length, starts):
        self.dataset = dataset
        self.segment_length = segment_length
        self.starts = starts
        self.n_frames = n_frames
        self.n_windows = len(starts)

    def __len__(self):
        return len(self.dataset) * self.n_windows

    def __getitem__(self, index):
        clip, window = divmod(index, self.n_windows)
        Xi, yi = unpack_data(self.dataset[clip])
        if self.n_frames < self.segment_length:
            pad = [(0, 0)] * (Xi.ndim - 1) + [(0, self.segment_length - self.n_frames)]
            return np.pad(Xi, pad, mode="constant" if Xi.ndim == 1 else "minimum"), yi
        start = self.starts[window]
        return Xi[..., start : start + self.segment_length], yi


def aggregate_windows(windows, how):
    """Combine window probabilities ``(n_clips, n_windows, n_outputs)`` over windows."""
    return {"mean": np.mean, "max": np.max, "sum": np.sum}[how](windows, axis=1)
