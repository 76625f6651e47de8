"""Fixed-length windows of clips, for nets trained on segments, and their aggregation."""

import numpy as np
import torch
from skorch.dataset import unpack_data

__all__ = ["AGGREGATES", "ClipWindows", "aggregate_windows"]

#: How a clip's window probabilities may be combined.
AGGREGATES = ("mean", "max", "sum")


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
    segment_length, hop : int
        Window length and hop in frames (or samples).
    """

    def __init__(self, dataset, n_frames, segment_length, hop):
        self.dataset = dataset
        self.segment_length = segment_length
        self.hop = hop
        self.n_frames = n_frames
        self.n_windows = 1 + max(0, n_frames - segment_length) // hop

    def __len__(self):
        return len(self.dataset) * self.n_windows

    def __getitem__(self, index):
        clip, window = divmod(index, self.n_windows)
        Xi, yi = unpack_data(self.dataset[clip])
        if self.n_frames < self.segment_length:
            pad = [(0, 0)] * (Xi.ndim - 1) + [(0, self.segment_length - self.n_frames)]
            return np.pad(Xi, pad, mode="constant" if Xi.ndim == 1 else "minimum"), yi
        start = window * self.hop
        return Xi[..., start : start + self.segment_length], yi


def aggregate_windows(windows, how):
    """Combine window probabilities ``(n_clips, n_windows, n_outputs)`` over windows."""
    return {"mean": np.mean, "max": np.max, "sum": np.sum}[how](windows, axis=1)
