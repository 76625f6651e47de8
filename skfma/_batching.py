"""Run a torch function over a NumPy array in batches of rows, on any device."""

import numpy as np
import torch

__all__ = ["map_batches"]


def map_batches(function, X, out, *, batch_size, device):
    """Fill ``out`` with ``function`` applied to consecutive batches of ``X``'s rows.

    Each batch is sent to ``device`` as float32 and computed under
    :func:`torch.inference_mode`; only one batch and its result are held
    beside ``X`` and ``out``.

    Parameters
    ----------
    function : callable
        Maps a float32 tensor of shape ``(batch, ...)`` on ``device`` to a
        tensor of shape ``(batch, *out.shape[1:])``.
    X : ndarray, shape (n_rows, ...)
        Float input (read-only arrays, such as joblib's memmaps, are copied
        batch by batch, since torch cannot protect them).
    out : ndarray, shape (n_rows, ...)
        Filled in place.
    batch_size : int
        Rows per batch.
    device : torch.device

    Returns
    -------
    out : ndarray
    """
    with torch.inference_mode():
        for start in range(0, X.shape[0], batch_size):
            rows = X[start : start + batch_size]
            rows = rows if rows.flags.writeable else np.array(rows)
            batch = torch.from_numpy(rows).to(device=device, dtype=torch.float32)
            out[start : start + batch_size] = function(batch).cpu().numpy()
    return out
