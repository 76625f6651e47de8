"""Read TensorFlow 1 checkpoints (tensor bundles) with NumPy alone.

A TF1 checkpoint ``prefix`` is two or more files:

- ``{prefix}.index``: a sorted string table (LevelDB's SSTable format) whose
  keys are variable names and whose values are ``BundleEntryProto`` protocol
  buffers (dtype, shape, shard, offset, size, CRC32C of the bytes); the empty
  key holds a ``BundleHeaderProto`` (number of shards, byte order).
- ``{prefix}.data-{shard:05d}-of-{num_shards:05d}``: the raw tensor bytes.

The few protobuf fields needed are decoded by hand; neither TensorFlow nor
protobuf is needed. Every block of the index and every tensor is checked
against its CRC32C.
"""

import struct
from pathlib import Path

import numpy as np

__all__ = ["crc32c", "masked_crc32c", "read_tf1_checkpoint", "tf1_checkpoint_variables"]

#: LevelDB's table magic number, the last 8 bytes of the ``.index`` file.
TABLE_MAGIC = 0xDB4775248B80FB57
#: Footer: two block handles (varints) padded to 40 bytes, then the magic number.
FOOTER_SIZE = 48
#: After each block: 1 byte of compression type, 4 bytes of masked CRC32C.
BLOCK_TRAILER_SIZE = 5

#: TensorFlow ``DataType`` enum -> NumPy dtype (little-endian), the numeric types only.
TF_DTYPES = {
    1: np.dtype("<f4"),  # DT_FLOAT
    2: np.dtype("<f8"),  # DT_DOUBLE
    3: np.dtype("<i4"),  # DT_INT32
    4: np.dtype("u1"),  # DT_UINT8
    5: np.dtype("<i2"),  # DT_INT16
    6: np.dtype("i1"),  # DT_INT8
    9: np.dtype("<i8"),  # DT_INT64
    10: np.dtype("?"),  # DT_BOOL
    19: np.dtype("<f2"),  # DT_HALF
}


def _crc32c_table():
    """The 256-entry table of CRC32C (Castagnoli, reflected polynomial 0x82F63B78)."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return table


_CRC32C_TABLE = _crc32c_table()


def crc32c(data):
    """CRC32C (Castagnoli) of ``data``, as TensorFlow and LevelDB compute it.

    Parameters
    ----------
    data : bytes-like

    Returns
    -------
    crc : int
        Unsigned 32-bit checksum.
    """
    table = _CRC32C_TABLE
    crc = 0xFFFFFFFF
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """LevelDB's masked CRC32C (rotated and offset), as stored in block trailers and entries."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(buffer, position):
    """Decode a base-128 varint at ``position``; return (value, next position)."""
    value = shift = 0
    while True:
        if position >= len(buffer):
            raise ValueError("truncated varint")
        byte = buffer[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7


def _protobuf_fields(buffer):
    """Yield ``(field number, value)`` of a protobuf message's fields, in order.

    Varints and fixed-width fields give ints, length-delimited fields give bytes.
    """
    position = 0
    while position < len(buffer):
        key, position = _varint(buffer, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = _varint(buffer, position)
        elif wire_type == 1:
            (value,) = struct.unpack_from("<Q", buffer, position)
            position += 8
        elif wire_type == 2:
            length, position = _varint(buffer, position)
            value = bytes(buffer[position : position + length])
            position += length
        elif wire_type == 5:
            (value,) = struct.unpack_from("<I", buffer, position)
            position += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type}")
        yield number, value


def _entry(buffer):
    """Decode a ``BundleEntryProto``: dtype, shape, shard_id, offset, size, crc32c."""
    entry = {"dtype": 0, "shape": [], "shard_id": 0, "offset": 0, "size": 0, "crc32c": None}
    for number, value in _protobuf_fields(buffer):
        if number == 1:
            entry["dtype"] = value
        elif number == 2:  # TensorShapeProto: repeated Dim dim = 2 {int64 size = 1}
            for dim_number, dim in _protobuf_fields(value):
                if dim_number == 2:
                    sizes = [size for field, size in _protobuf_fields(dim) if field == 1]
                    entry["shape"].append(sizes[0] if sizes else 0)
        elif number == 3:
            entry["shard_id"] = value
        elif number == 4:
            entry["offset"] = value
        elif number == 5:
            entry["size"] = value
        elif number == 6:
            entry["crc32c"] = value
        elif number == 7:
            raise ValueError("partitioned (sliced) variables are not supported")
    return entry


def _block(data, handle, path):
    """The contents of the block at ``handle = (offset, size)``, its trailer checked."""
    offset, size = handle
    end = offset + size + BLOCK_TRAILER_SIZE
    if end > len(data):
        raise ValueError(f"{path}: a block runs past the end of the file (corrupt index)")
    contents = data[offset : offset + size]
    compression, stored_crc = struct.unpack_from("<BI", data, offset + size)
    if compression != 0:
        raise ValueError(f"{path}: compressed blocks (type {compression}) are not supported")
    if masked_crc32c(data[offset : offset + size + 1]) != stored_crc:
        raise ValueError(f"{path}: a block fails its CRC32C check (corrupt index)")
    return contents


def _block_entries(block):
    """Yield ``(key, value)`` of a block, undoing the prefix compression of the keys."""
    (n_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    end = len(block) - 4 - 4 * n_restarts
    position, key = 0, b""
    while position < end:
        shared, position = _varint(block, position)
        non_shared, position = _varint(block, position)
        value_length, position = _varint(block, position)
        key = key[:shared] + bytes(block[position : position + non_shared])
        position += non_shared
        yield key, bytes(block[position : position + value_length])
        position += value_length


def _read_index(path):
    """Every ``(key, value)`` of the ``.index`` table at ``path``, in key order."""
    data = Path(path).read_bytes()
    if len(data) < FOOTER_SIZE:
        raise ValueError(f"{path}: too short to be a TF1 checkpoint index")
    (magic,) = struct.unpack_from("<Q", data, len(data) - 8)
    if magic != TABLE_MAGIC:
        raise ValueError(f"{path}: not a TF1 checkpoint index (bad table magic number)")
    footer = data[len(data) - FOOTER_SIZE :]
    _, position = _varint(footer, _varint(footer, 0)[1])  # skip the metaindex handle
    index_offset, position = _varint(footer, position)
    index_size, _ = _varint(footer, position)
    entries = []
    for _, handle in _block_entries(_block(data, (index_offset, index_size), path)):
        offset, position = _varint(handle, 0)
        size, _ = _varint(handle, position)
        entries.extend(_block_entries(_block(data, (offset, size), path)))
    return entries


def _parse_index(prefix):
    """``(number of shards, {name: entry})`` of the checkpoint at ``prefix``."""
    path = f"{prefix}.index"
    if not Path(path).is_file():
        raise FileNotFoundError(f"No TF1 checkpoint index at {path!r}.")
    num_shards, entries = 1, {}
    for key, value in _read_index(path):
        if key == b"":  # BundleHeaderProto: num_shards = 1, endianness = 2 (0: little)
            header = dict(_protobuf_fields(value))
            num_shards = header.get(1, 1)
            if header.get(2, 0) != 0:
                raise ValueError(f"{path}: big-endian checkpoints are not supported")
        else:
            entries[key.decode("utf-8")] = _entry(value)
    return num_shards, entries


def tf1_checkpoint_variables(prefix):
    """Names, dtypes and shapes of the variables of a TF1 checkpoint.

    Parameters
    ----------
    prefix : str or os.PathLike
        The checkpoint prefix: ``{prefix}.index`` must exist.

    Returns
    -------
    variables : dict of str to (numpy.dtype, tuple of int)
        In the index's (sorted) order.
    """
    _, entries = _parse_index(prefix)
    return {
        name: (TF_DTYPES.get(entry["dtype"]), tuple(entry["shape"]))
        for name, entry in entries.items()
    }


def read_tf1_checkpoint(prefix, *, names=None):
    """Read the variables of a TF1 checkpoint as NumPy arrays.

    Parameters
    ----------
    prefix : str or os.PathLike
        The checkpoint prefix: ``{prefix}.index`` and its data shards
        ``{prefix}.data-00000-of-00001`` (...) must exist.
    names : iterable of str or None, default=None
        The variables to read; ``None`` reads them all.

    Returns
    -------
    arrays : dict of str to ndarray
        Each variable with its checkpoint dtype and shape.

    Raises
    ------
    FileNotFoundError
        If the index or a data shard is missing.
    KeyError
        If a name in ``names`` is not in the checkpoint.
    ValueError
        Naming the file, if it is not a TF1 checkpoint, is corrupt (a size or
        CRC32C that does not match) or holds a type this reader does not
        decode (strings, partitioned variables, compressed blocks).
    """
    prefix = str(prefix)
    num_shards, entries = _parse_index(prefix)
    names = list(entries) if names is None else list(names)
    missing = [name for name in names if name not in entries]
    if missing:
        raise KeyError(f"{prefix}.index has no variable(s) {missing}")
    shards, arrays = {}, {}
    for name in names:
        entry = entries[name]
        dtype = TF_DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ValueError(f"{prefix}.index: {name} has unsupported dtype {entry['dtype']}")
        path = f"{prefix}.data-{entry['shard_id']:05d}-of-{num_shards:05d}"
        if path not in shards:
            if not Path(path).is_file():
                raise FileNotFoundError(f"No TF1 checkpoint data shard at {path!r}.")
            shards[path] = Path(path).read_bytes()
        data = shards[path]
        start, size = entry["offset"], entry["size"]
        shape = tuple(entry["shape"])
        if size != dtype.itemsize * int(np.prod(shape)) or start + size > len(data):
            raise ValueError(f"{path}: {name} has the wrong size (corrupt checkpoint)")
        raw = data[start : start + size]
        if entry["crc32c"] is not None and masked_crc32c(raw) != entry["crc32c"]:
            raise ValueError(f"{path}: {name} fails its CRC32C check (corrupt checkpoint)")
        arrays[name] = (
            np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
        )
    return arrays
