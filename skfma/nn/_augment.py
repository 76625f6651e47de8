"""SpecAugment: random frequency and time masks on spectrogram batches (training only)."""

import torch

from ..exceptions import ParameterError
from ..utils import check_int, is_finite_number, names_its_errors

__all__ = ["SpecAugment"]


class SpecAugment(torch.nn.Module):
    """Mask random frequency bands and time spans of spectrograms while training.

    The masking of SpecAugment (Park et al., 2019) without time warping: every
    example of a batch gets ``n_masks`` frequency masks and ``n_masks`` time
    masks, drawn independently. A frequency mask covers ``f`` consecutive bins,
    ``f`` uniform in ``[0, freq_mask]``; a time mask covers ``t`` consecutive
    frames, ``t`` uniform in ``[0, min(time_mask, p * n_frames)]``. Masked cells
    are set to ``fill``: the example's mean by default, which is the value 0
    of the paper's zero-mean normalised input, or a constant (the
    Milano-Bicocca report filled with 0).

    The module changes its input only in training mode: in evaluation mode
    (``module.eval()``, which skorch sets for prediction and validation) it
    returns the input unchanged.

    Parameters
    ----------
    freq_mask : int, default=27
        Largest frequency mask width ``F`` in bins.
    time_mask : int, default=100
        Largest time mask width ``T`` in frames.
    n_masks : int, default=2
        Number of frequency masks and of time masks per example.
    p : float, default=1.0
        Upper bound of a time mask as a fraction of the number of frames
        (the paper's ``p``), in ``[0, 1]``.
    fill : "mean" or float, default="mean"
        What masked cells become: each example's mean, or this constant.

    Notes
    -----
    Input tensors have shape ``(batch, ..., n_bins, n_frames)``: frequency is
    the second-to-last axis and time the last. Random numbers come from
    torch's global generator, which :class:`skfma.models.NeuralClassifier`
    seeds from its ``random_state``.

    References
    ----------
    .. [1] D. S. Park et al., "SpecAugment: A Simple Data Augmentation Method
       for Automatic Speech Recognition", Interspeech 2019.

    Examples
    --------
    >>> import torch
    >>> from skfma.nn import SpecAugment
    >>> augment = SpecAugment(freq_mask=8, time_mask=10)
    >>> x = torch.randn(4, 1, 32, 64)
    >>> bool((augment.eval()(x) == x).all())
    True
    >>> augment.train()(x).shape
    torch.Size([4, 1, 32, 64])
    """

    @names_its_errors
    def __init__(self, *, freq_mask=27, time_mask=100, n_masks=2, p=1.0, fill="mean"):
        super().__init__()
        if not (isinstance(p, int | float) and 0.0 <= p <= 1.0):
            raise ParameterError(f"p must be a number in [0, 1]; got {p!r}.")
        if not (fill == "mean" if isinstance(fill, str) else is_finite_number(fill)):
            raise ParameterError(f"fill must be 'mean' or a finite number; got {fill!r}.")
        self.fill = fill
        self.freq_mask = check_int("freq_mask", freq_mask, minimum=0)
        self.time_mask = check_int("time_mask", time_mask, minimum=0)
        self.n_masks = check_int("n_masks", n_masks, minimum=0)
        self.p = p

    def forward(self, x):
        """Mask ``x`` in training mode; return it unchanged in evaluation mode.

        Parameters
        ----------
        x : Tensor, shape (batch, ..., n_bins, n_frames)

        Returns
        -------
        Tensor, same shape and dtype as ``x``

        Raises
        ------
        TypeError
            If ``x`` is not a torch tensor (a NumPy array, say: convert it
            with ``torch.from_numpy``).
        ValueError
            If ``x`` has fewer than 3 dimensions.
        """
        if not isinstance(x, torch.Tensor):
            raise TypeError(
                "SpecAugment takes x as a torch.Tensor of shape (batch, ..., n_bins, n_frames); "
                f"got {type(x).__module__}.{type(x).__qualname__}"
                + (" (convert it with torch.from_numpy)." if hasattr(x, "__array__") else ".")
            )
        if x.dim() < 3:
            raise ValueError(
                f"SpecAugment needs a batch of spectrograms (batch, ..., n_bins, n_frames); "
                f"got a {x.dim()}-D tensor of shape {tuple(x.shape)}."
            )
        if not self.training or self.n_masks == 0:
            return x
        n_bins, n_frames = x.shape[-2:]
        max_time = min(self.time_mask, int(self.p * n_frames))
        masked = _band_masks(x.shape[0], n_bins, min(self.freq_mask, n_bins), self.n_masks, x)
        timed = _band_masks(x.shape[0], n_frames, max_time, self.n_masks, x)
        # (batch, n_bins, 1) | (batch, 1, n_frames) -> (batch, n_bins, n_frames)
        cells = masked[:, :, None] | timed[:, None, :]
        cells = cells.reshape(x.shape[0], *([1] * (x.dim() - 3)), n_bins, n_frames)
        if self.fill == "mean":
            value = x.mean(dim=tuple(range(1, x.dim())), keepdim=True)
        else:
            value = torch.tensor(self.fill, dtype=x.dtype, device=x.device)
        return torch.where(cells, value, x)

    def extra_repr(self):
        return (
            f"freq_mask={self.freq_mask}, time_mask={self.time_mask}, "
            f"n_masks={self.n_masks}, p={self.p}, fill={self.fill!r}"
        )


def _band_masks(batch, length, max_width, n_masks, like):
    """Union of ``n_masks`` random bands per example along an axis of ``length``.

    Each band has a width uniform in ``[0, max_width]`` and a start uniform in
    ``[0, length - width]``.

    Returns
    -------
    mask : Tensor of bool, shape (batch, length)
    """
    device = like.device
    widths = (torch.rand(batch, n_masks, device=device) * (max_width + 1)).floor()
    starts = (torch.rand(batch, n_masks, device=device) * (length - widths + 1)).floor()
    positions = torch.arange(length, device=device)[None, None, :]
    inside = (positions >= starts[..., None]) & (positions < (starts + widths)[..., None])
    return inside.any(dim=1)
