"""Batches from memory-mapped arrays: collated without warnings, sent to workers by reference.

With the ``spawn`` and ``forkserver`` start methods (the defaults on macOS and
Windows, and on Linux from Python 3.14), a DataLoader pickles its dataset into
every worker, and pickling a numpy array copies its data: a dataset over a
20 GB feature store (``load_extracted``) would be copied whole into each
worker, and into the pickle in the parent first. :class:`WorkerDataset`
pickles the arrays that view a read-only or shared file mapping as the file's
name, the byte range and the view's layout instead, and the worker maps the
same bytes again. Forked workers share the parent's memory and pickle nothing.

:func:`collate_examples` stacks numpy examples with numpy, so that examples
viewing a read-only map (a store of ``skfma extract``) make a batch without
torch's warning that it cannot write to them.
"""

import io
import mmap
import pickle

import numpy as np
import torch
from torch.utils.data._utils.collate import collate, default_collate_fn_map

__all__ = ["WorkerDataset", "collate_examples"]

#: Mapping modes whose pages always equal the file's: a private copy-on-write map ("c") may
#: hold changes that only this process sees, so its arrays are pickled with their data.
_SHARED_MODES = ("r", "r+")


def file_reference(array):
    """Where a view of a memory-mapped file lies in the file, or None for other arrays.

    Parameters
    ----------
    array : ndarray
        Any array: a ``np.memmap``, a view of one (slices, ``np.asarray``,
        an added axis), or memory of its own.

    Returns
    -------
    tuple or None
        The arguments of :func:`open_file_view` that give the same view
        again: the file's name, the byte offset and length of the bytes the
        view spans, the view's data offset within them, its shape, strides and
        dtype, and the mapping's mode. None when the array does not view a
        file mapped read-only (``"r"``) or shared (``"r+"``), or is empty.
    """
    owner, memmap = array, None
    while isinstance(owner, np.ndarray):
        if isinstance(owner, np.memmap):
            memmap = owner
        owner = owner.base
    if not isinstance(owner, mmap.mmap) or memmap is None or array.size == 0:
        return None
    if memmap.mode not in _SHARED_MODES or memmap.filename is None:
        return None
    # np.memmap maps from the allocation boundary below its offset (numpy.memmap.__new__).
    mapping_start = memmap.offset - memmap.offset % mmap.ALLOCATIONGRANULARITY
    mapping_address = np.frombuffer(owner, np.uint8).ctypes.data
    reach = [stride * (n - 1) for n, stride in zip(array.shape, array.strides, strict=True)]
    low = array.ctypes.data + sum(step for step in reach if step < 0)
    high = array.ctypes.data + sum(step for step in reach if step > 0) + array.itemsize
    return (
        memmap.filename,
        mapping_start + low - mapping_address,
        high - low,
        array.ctypes.data - low,
        array.shape,
        array.strides,
        array.dtype,
        memmap.mode,
    )


def open_file_view(filename, offset, length, data_offset, shape, strides, dtype, mode):
    """Map the bytes of a :func:`file_reference` again and view them as the array was.

    Returns
    -------
    ndarray
        A view of a new ``np.memmap`` of the file's bytes ``offset`` to
        ``offset + length``: no data is read until it is used.
    """
    raw = np.memmap(filename, dtype=np.uint8, mode=mode, offset=offset, shape=(length,))
    return np.ndarray(shape, dtype, buffer=raw, offset=data_offset, strides=strides)


class _FileViewPickler(pickle.Pickler):
    """A pickler that writes views of shared file mappings as references to the file."""

    def reducer_override(self, obj):
        if isinstance(obj, np.ndarray):
            reference = file_reference(obj)
            if reference is not None:
                return open_file_view, reference
        return NotImplemented


def _unpickle_worker_dataset(payload):
    return WorkerDataset(pickle.loads(payload))


class WorkerDataset(torch.utils.data.Dataset):
    """A dataset that pickles the memory-mapped arrays it holds by reference.

    Items and length are those of ``dataset``. Pickled (for a DataLoader
    worker started by ``spawn`` or ``forkserver``), every array inside it that
    views a file mapped read-only or shared becomes a reference to the file's
    bytes (:func:`file_reference`), mapped again when unpickled: the worker
    reads the same file without a copy. Other arrays and objects pickle as
    usual.

    Parameters
    ----------
    dataset : Dataset
        A map-style dataset (``__getitem__`` and ``__len__``).
    """

    def __init__(self, dataset):
        self.dataset = dataset

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.dataset[index]

    def __reduce__(self):
        buffer = io.BytesIO()
        _FileViewPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(self.dataset)
        return _unpickle_worker_dataset, (buffer.getvalue(),)


def _stack_arrays(batch, *, collate_fn_map=None):
    """One tensor of numpy examples of equal shape (a copy, so writable whatever they view)."""
    return torch.from_numpy(np.stack([np.asarray(example) for example in batch]))


def collate_examples(batch):
    """torch's ``default_collate``, with numpy examples stacked by numpy.

    ``default_collate`` makes a tensor of each numpy example before stacking
    them, and warns when one is read-only (a view of a store that
    ``load_extracted`` maps read-only): the warning is harmless, as the stacked
    batch is a copy, but says that writing may be undefined. Stacking with
    numpy first gives the same batch without it.

    Parameters
    ----------
    batch : list
        Examples as a Dataset yields them: ``(X, y)`` tuples of arrays,
        tensors or numbers, nested as ``default_collate`` accepts.

    Returns
    -------
    The batch as ``default_collate`` returns it: numpy examples of shape
    ``s`` become a tensor of shape ``(len(batch), *s)`` and their dtype.
    """
    return collate(batch, collate_fn_map={**default_collate_fn_map, np.ndarray: _stack_arrays})
