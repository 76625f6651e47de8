"""Memory-mapped examples: collated without a warning, pickled to workers as file references."""

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from skfma.models._mapped_data import WorkerDataset, collate_examples, file_reference


@pytest.fixture
def stored(tmp_path):
    """A (6, 5, 7) float32 store saved with np.save, and its path."""
    path = tmp_path / "features.npy"
    data = np.arange(6 * 5 * 7, dtype=np.float32).reshape(6, 5, 7)
    np.save(path, data)
    return path, data


def maps_a_file(array):
    """Whether ``array``'s chain of bases ends at a memory mapping."""
    while isinstance(array, np.ndarray):
        array = array.base
    return array.__class__.__name__ == "mmap"


@pytest.mark.parametrize(
    "view",
    [
        lambda X: X,
        lambda X: np.asarray(X)[2:5],
        lambda X: np.asarray(X)[:, None],  # an added channel axis, as the nets' inputs
        lambda X: X[1, :, 3:],
        lambda X: X[::-2, 1],  # negative and uneven strides
        lambda X: X.transpose(2, 0, 1),
    ],
)
@pytest.mark.parametrize("mode", ["r", "r+"])
def test_views_of_a_shared_map_pickle_as_the_same_bytes_of_the_file(stored, view, mode):
    path, data = stored
    X = view(np.load(path, mmap_mode=mode))
    payload = pickle.dumps(WorkerDataset([X]))
    # The file's name and the layout, not the data (840 bytes for the whole array).
    assert np.ascontiguousarray(X).tobytes() not in payload
    assert len(payload) < 1000 + len(os.fsencode(path))
    (back,) = pickle.loads(payload).dataset
    np.testing.assert_array_equal(back, view(data))
    assert back.strides == X.strides and maps_a_file(back)


def test_copy_on_write_maps_and_plain_arrays_pickle_their_data(stored):
    """A private map may hold changes that the file lacks: its data go in the pickle."""
    path, data = stored
    changed = np.load(path, mmap_mode="c")
    changed[0] = -1
    assert file_reference(changed) is None and file_reference(data) is None
    (back, plain) = pickle.loads(pickle.dumps(WorkerDataset([changed, data]))).dataset
    np.testing.assert_array_equal(back[0], -1)
    np.testing.assert_array_equal(plain, data)
    assert not maps_a_file(back)


def test_writes_through_a_shared_map_are_seen_by_the_worker_view(stored):
    path, _ = stored
    X = np.load(path, mmap_mode="r+")
    (back,) = pickle.loads(pickle.dumps(WorkerDataset([X[3]]))).dataset
    X[3] = 42
    X.flush()
    np.testing.assert_array_equal(back, 42)


def test_the_dataset_gives_the_items_and_length_of_its_own(stored):
    path, data = stored
    dataset = WorkerDataset(list(np.load(path, mmap_mode="r")))
    assert len(dataset) == 6
    np.testing.assert_array_equal(dataset[4], data[4])


def test_read_only_examples_collate_as_torch_does_without_its_warning(stored):
    """In a fresh process: torch warns about a read-only array once per process."""
    path, _ = stored
    script = textwrap.dedent(
        f"""
        import warnings
        import numpy as np, torch
        from torch.utils.data import default_collate
        from skfma.models._mapped_data import collate_examples

        X = np.load({str(path)!r}, mmap_mode="r")
        batch = [(X[i], np.int64(i % 2)) for i in range(4)]
        with warnings.catch_warnings(record=True) as ours:
            warnings.simplefilter("always")
            inputs, targets = collate_examples(batch)
        with warnings.catch_warnings(record=True) as torchs:  # the control: torch's warns
            warnings.simplefilter("always")
            expected_inputs, expected_targets = default_collate(batch)
        torch.testing.assert_close(inputs, expected_inputs)
        torch.testing.assert_close(targets, expected_targets)
        inputs += 1  # a copy of the store's rows, writable
        assert float(X[0, 0, 0]) == 0.0
        print(len(ours), len(torchs))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["0", "1"], result.stderr


def test_tensors_and_nested_examples_collate_as_with_default_collate():
    batch = [(torch.ones(2), {"w": np.zeros(3, np.float32)}, 1.5) for _ in range(3)]
    got, expected = collate_examples(batch), default_collate(batch)
    torch.testing.assert_close(got[0], expected[0])
    torch.testing.assert_close(got[1]["w"], expected[1]["w"])
    torch.testing.assert_close(got[2], expected[2])
