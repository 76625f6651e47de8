"""check_device: the device parameter of the nets and of MusicnnFeatures, checked up front."""

import numpy as np
import pytest
import torch

from skfma import MFCC, KostrzewaCNN, MelSpectrogram, MusicnnFeatures, Spectrogram
from skfma.exceptions import ParameterError
from skfma.utils._device import check_device, indexed_device


@pytest.fixture
def no_gpu(monkeypatch):
    """A machine whose torch finds no CUDA device (whatever this one has)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def one_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_the_cpu_is_always_there():
    assert check_device("cpu") == torch.device("cpu")
    assert check_device(torch.device("cpu")) == torch.device("cpu")
    assert check_device(None, allow_none=True) is None


@pytest.mark.parametrize(
    ("device", "match"),
    [
        ("gpu", "device='gpu' is not a torch device"),
        ("cuda:x", "not a torch device"),
        (3, "device must be a str or torch.device.*got 3"),
        (None, "device must be a str or torch.device.*got None"),
        ("cuda", "torch finds no cuda device on this machine"),
        ("cuda:0", "torch finds no cuda device"),
    ],
)
def test_unusable_devices_are_refused_by_name(no_gpu, device, match):
    with pytest.raises(ParameterError, match=match):
        check_device(device)


def test_an_index_beyond_the_devices_present_is_refused(one_gpu):
    assert check_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(ParameterError, match="has 1 cuda device"):
        check_device("cuda:1")


@pytest.mark.parametrize("device", ["cuda", "gpu", 3])
def test_every_estimator_with_a_device_checks_it_before_computing(no_gpu, device):
    X = np.zeros((4, 8, 8), dtype=np.float32)
    with pytest.raises(ParameterError, match=r"KostrzewaCNN: device"):
        KostrzewaCNN(module__filters=(2,), max_epochs=1, device=device).fit(X, [0, 1, 0, 1])
    waveforms = np.zeros((2, 16000), np.float32)
    for transformer in (MusicnnFeatures(), Spectrogram(), MelSpectrogram(), MFCC()):
        name = type(transformer).__name__
        with pytest.raises(ParameterError, match=f"{name}: device"):
            transformer.set_params(device=device).fit_transform(waveforms)


def test_pretrained_cnn_features_check_the_device(no_gpu):
    pytest.importorskip("torchvision")
    from skfma import PretrainedCNNFeatures

    with pytest.raises(ParameterError, match="PretrainedCNNFeatures: device='cuda'"):
        PretrainedCNNFeatures(device="cuda", weights=None).fit(np.zeros((2, 3, 32, 32), np.float32))


def test_indexed_device_names_the_current_gpu_so_caches_hold_one_copy(monkeypatch):
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 1)
    assert indexed_device("cuda") == indexed_device("cuda:1") == torch.device("cuda", 1)
    assert indexed_device("cuda:0") == torch.device("cuda", 0)
    assert indexed_device("cpu") == torch.device("cpu")
