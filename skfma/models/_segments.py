"""Fixed-length windows of clips, for nets trained on segments, and their aggregation."""

import numpy as np
import torch
from skorch.dataset import unpack_data

__all__ = [
    "AGGREGATES",
    "ClipWindows",
    "aggregate_windows",
    "cut_windows",
    "probability_aggregate",
    "window_starts",
]

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
            return pad_clips(torch.tensor(np.asarray(Xi))[None], self.segment_length)[0], yi
        start = self.starts[window]
        return Xi[..., start : start + self.segment_length], yi


def pad_clips(clips, length):
    """Pad a batch of clips at the end with silence to ``length`` frames.

    Parameters
    ----------
    clips : Tensor, shape (batch, ..., n_frames)
        Spectrograms (3-D or more) or waveforms ``(batch, n_samples)``.
    length : int
        Frames (or samples) wanted, at least ``n_frames``.

    Returns
    -------
    Tensor, shape (batch, ..., length)
        Padded with each row's minimum (decibels) for spectrograms, with
        zeros for waveforms.
    """
    missing = length - clips.shape[-1]
    if clips.dim() == 2:
        fill = clips.new_zeros(clips.shape[0], missing)
    else:
        fill = clips.amin(dim=-1, keepdim=True).expand(*clips.shape[:-1], missing)
    return torch.cat([clips, fill], dim=-1)


def cut_windows(clips, segment_length, starts):
    """The windows of a batch of clips, as one batch of windows.

    Parameters
    ----------
    clips : Tensor, shape (batch, ..., n_frames)
        Clips of one length.
    segment_length : int
        Window length in frames (or samples).
    starts : list of int
        Each window's first frame (:func:`window_starts`).

    Returns
    -------
    Tensor, shape (batch * n_windows, ..., segment_length)
        Window ``j`` of clip ``i`` at row ``i * n_windows + j``, as in
        :class:`ClipWindows`; clips shorter than a window are padded
        (:func:`pad_clips`).
    """
    if clips.shape[-1] < segment_length:
        clips = pad_clips(clips, segment_length)
    windows = torch.stack([clips[..., start : start + segment_length] for start in starts], dim=1)
    return windows.reshape(-1, *windows.shape[2:])


def aggregate_windows(windows, how):
    """Combine window probabilities ``(n_clips, n_windows, n_outputs)`` (ndarray or Tensor)."""
    if how == "max":
        return windows.amax(1) if isinstance(windows, torch.Tensor) else windows.max(axis=1)
    return windows.mean(1) if how == "mean" else windows.sum(1)


def probability_aggregate(how):
    """The aggregate that gives probabilities and ranks clips as ``how`` does.

    Summed scores run up to the number of windows; every clip having as many
    windows, their mean ranks the clips (and the classes) alike.
    """
    return "mean" if how == "sum" else how
