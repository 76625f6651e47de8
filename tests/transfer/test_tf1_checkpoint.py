"""The NumPy-only TF1 checkpoint reader, on checkpoints that the tests write in the TF1 format."""

import struct

import numpy as np
import pytest

from skfma.transfer._tf1_checkpoint import (
    TABLE_MAGIC,
    crc32c,
    masked_crc32c,
    read_tf1_checkpoint,
    tf1_checkpoint_variables,
)

#: TensorFlow's DataType enum values of the dtypes written here.
DTYPES = {
    np.dtype("float32"): 1,
    np.dtype("float64"): 2,
    np.dtype("int32"): 3,
    np.dtype("int64"): 9,
}


def varint(value):
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number, wire_type, payload):
    """One protobuf field: varint payloads are ints, length-delimited ones bytes."""
    key = varint(number << 3 | wire_type)
    if wire_type == 0:
        return key + varint(payload)
    if wire_type == 5:
        return key + struct.pack("<I", payload)
    return key + varint(len(payload)) + payload


def bundle_entry(dtype, shape, offset, size, crc):
    """A BundleEntryProto: dtype = 1, shape = 2, shard_id = 3 (0, omitted), offset = 4, ..."""
    dims = b"".join(field(2, 2, field(1, 0, dim)) for dim in shape)
    return (
        field(1, 0, dtype)
        + field(2, 2, dims)
        + (field(4, 0, offset) if offset else b"")
        + field(5, 0, size)
        + field(6, 5, crc)
    )


def block(entries, restart_interval):
    """An SSTable block: prefix-compressed keys, a restart point every ``restart_interval``."""
    out, restarts, previous = bytearray(), [], b""
    for i, (key, value) in enumerate(entries):
        shared = 0
        if i % restart_interval:
            while shared < min(len(key), len(previous)) and key[shared] == previous[shared]:
                shared += 1
        else:
            restarts.append(len(out))
        out += varint(shared) + varint(len(key) - shared) + varint(len(value))
        out += key[shared:] + value
        previous = key
    out += b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))
    return bytes(out)


def write_tf1_checkpoint(prefix, arrays, *, entries_per_block=2, restart_interval=2):
    """Write ``arrays`` as a TF1 checkpoint (one data shard), as TF's BundleWriter does.

    The index holds the header under the empty key, then the sorted names, in
    data blocks of ``entries_per_block`` entries with an index block and the
    footer, so that the reader meets several blocks, restart points and
    prefix-compressed keys.
    """
    data, entries = bytearray(), []
    for name in sorted(arrays):
        raw = np.ascontiguousarray(arrays[name]).astype(arrays[name].dtype.newbyteorder("<"))
        raw = raw.tobytes()
        shape, dtype = arrays[name].shape, DTYPES[arrays[name].dtype]
        entries.append(
            (name.encode(), bundle_entry(dtype, shape, len(data), len(raw), masked_crc32c(raw)))
        )
        data += raw
    header = field(1, 0, 1)  # num_shards = 1; little-endian (0) is the default
    entries.insert(0, (b"", header))
    table, index_entries = bytearray(), []
    for start in range(0, len(entries), entries_per_block):
        chunk = entries[start : start + entries_per_block]
        contents = block(chunk, restart_interval)
        handle = varint(len(table)) + varint(len(contents))
        table += contents + b"\0" + struct.pack("<I", masked_crc32c(contents + b"\0"))
        index_entries.append((chunk[-1][0], handle))
    metaindex = block([], restart_interval)
    metaindex_handle = varint(len(table)) + varint(len(metaindex))
    table += metaindex + b"\0" + struct.pack("<I", masked_crc32c(metaindex + b"\0"))
    index = block(index_entries, 1)
    index_handle = varint(len(table)) + varint(len(index))
    table += index + b"\0" + struct.pack("<I", masked_crc32c(index + b"\0"))
    footer = (metaindex_handle + index_handle).ljust(40, b"\0") + struct.pack("<Q", TABLE_MAGIC)
    with open(f"{prefix}.index", "wb") as file:
        file.write(table + footer)
    with open(f"{prefix}.data-00000-of-00001", "wb") as file:
        file.write(data)


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    return {
        # Names that share long prefixes, as TF's "scope/variable" names do.
        "batch_normalization/beta": rng.standard_normal(3).astype(np.float32),
        "batch_normalization/gamma": rng.standard_normal(3).astype(np.float32),
        "batch_normalization_1/moving_mean": rng.standard_normal(5).astype(np.float64),
        "conv2d/kernel": rng.standard_normal((7, 4, 1, 6)).astype(np.float32),
        "conv2d/kernel/Adam": rng.standard_normal((7, 4, 1, 6)).astype(np.float32),
        "dense/kernel": rng.standard_normal((300, 2)).astype(np.float32),
        "global_step": np.array(1234567, dtype=np.int64),
        "steps": np.arange(4, dtype=np.int32),
    }


def test_crc32c_check_value():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C catalogue's check value
    assert crc32c(b"") == 0


@pytest.mark.parametrize(("entries_per_block", "restart_interval"), [(2, 2), (3, 1), (100, 16)])
def test_round_trip(tmp_path, arrays, entries_per_block, restart_interval):
    prefix = tmp_path / "model.ckpt"
    write_tf1_checkpoint(
        prefix, arrays, entries_per_block=entries_per_block, restart_interval=restart_interval
    )
    read = read_tf1_checkpoint(prefix)
    assert list(read) == sorted(arrays)
    for name, value in arrays.items():
        assert read[name].dtype == value.dtype and read[name].shape == value.shape
        np.testing.assert_array_equal(read[name], value)
    variables = tf1_checkpoint_variables(prefix)
    assert variables["conv2d/kernel"] == (np.dtype("float32"), (7, 4, 1, 6))
    assert variables["global_step"] == (np.dtype("int64"), ())


def test_reads_only_the_names_asked(tmp_path, arrays):
    prefix = tmp_path / "ckpt"
    write_tf1_checkpoint(prefix, arrays)
    read = read_tf1_checkpoint(prefix, names=["dense/kernel", "steps"])
    assert list(read) == ["dense/kernel", "steps"]
    with pytest.raises(KeyError, match="nope"):
        read_tf1_checkpoint(prefix, names=["nope"])


def test_corrupt_tensor_fails_its_crc(tmp_path, arrays):
    prefix = tmp_path / "ckpt"
    write_tf1_checkpoint(prefix, arrays)
    path = tmp_path / "ckpt.data-00000-of-00001"
    data = bytearray(path.read_bytes())
    data[5] ^= 0x01  # a bit of the first tensor ("batch_normalization/beta")
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"data-00000-of-00001: batch_normalization/beta fails"):
        read_tf1_checkpoint(prefix)
    read_tf1_checkpoint(prefix, names=["steps"])  # the other tensors are intact


def test_truncated_data_names_the_file(tmp_path, arrays):
    prefix = tmp_path / "ckpt"
    write_tf1_checkpoint(prefix, arrays)
    path = tmp_path / "ckpt.data-00000-of-00001"
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(ValueError, match=r"ckpt\.data-00000-of-00001: steps has the wrong size"):
        read_tf1_checkpoint(prefix, names=["steps"])


def test_corrupt_index(tmp_path, arrays):
    prefix = tmp_path / "ckpt"
    write_tf1_checkpoint(prefix, arrays)
    path = tmp_path / "ckpt.index"
    index = bytearray(path.read_bytes())
    index[10] ^= 0x01
    path.write_bytes(bytes(index))
    with pytest.raises(ValueError, match=r"ckpt\.index: a block fails its CRC32C check"):
        read_tf1_checkpoint(prefix)
    path.write_bytes(b"not a table" * 10)
    with pytest.raises(ValueError, match=r"ckpt\.index: not a TF1 checkpoint index"):
        read_tf1_checkpoint(prefix)


def test_missing_files(tmp_path, arrays):
    with pytest.raises(FileNotFoundError, match="nothing.index"):
        read_tf1_checkpoint(tmp_path / "nothing")
    write_tf1_checkpoint(tmp_path / "ckpt", arrays)
    (tmp_path / "ckpt.data-00000-of-00001").unlink()
    with pytest.raises(FileNotFoundError, match=r"ckpt\.data-00000-of-00001"):
        read_tf1_checkpoint(tmp_path / "ckpt")
