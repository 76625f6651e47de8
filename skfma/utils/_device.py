"""The ``device`` parameter of the nets and of the torch-computed transformers."""

import torch

from ..exceptions import ParameterError

__all__ = ["check_device", "indexed_device"]


def check_device(device, *, allow_none=False):
    """Return ``device`` as a ``torch.device`` if torch can compute there, else raise.

    Parameters
    ----------
    device : str, torch.device or None
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``, ... (torch's names).
    allow_none : bool, default=False
        Accept None (skorch's "leave the module where it is"), returned as is.

    Returns
    -------
    torch.device or None

    Raises
    ------
    ParameterError
        Naming ``device``: not a device name, a device type torch does not
        know, one whose backend this torch was not built with or finds no
        hardware for (``"cuda"`` without an NVIDIA GPU and driver), or an
        index beyond the devices present.
    """
    if device is None and allow_none:
        return None
    if not isinstance(device, str | torch.device):
        allowed = "a str or torch.device such as 'cpu' or 'cuda'" + (", or None" * allow_none)
        raise ParameterError(f"device must be {allowed}; got {device!r}.")
    try:
        parsed = torch.device(device)
    except RuntimeError:
        raise ParameterError(
            f"device={device!r} is not a torch device: give 'cpu', 'cuda', 'cuda:<index>', "
            "'mps', ..."
        ) from None
    if parsed.type == "cpu":
        return parsed
    backend = getattr(torch, parsed.type, None)
    is_available = getattr(backend, "is_available", None)
    if parsed.type == "mps":
        is_available = torch.backends.mps.is_available
    if is_available is None or not is_available():
        raise ParameterError(
            f"device={device!r}: torch finds no {parsed.type} device on this machine "
            f"(torch.{parsed.type}.is_available() is False, or this torch build lacks the "
            "backend); use device='cpu'."
        )
    count = getattr(backend, "device_count", None)
    if parsed.index is not None and count is not None and parsed.index >= count():
        raise ParameterError(
            f"device={device!r}: this machine has {count()} {parsed.type} device(s), "
            f"numbered from 0."
        )
    return parsed


def indexed_device(device):
    """``device`` as a ``torch.device`` with its index: ``"cuda"`` is the current GPU's.

    A key for caches of what lives on a device: ``"cuda"`` and ``"cuda:0"``
    name the same GPU, which should not hold two copies of a network.

    Parameters
    ----------
    device : str or torch.device

    Returns
    -------
    torch.device
    """
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return device
