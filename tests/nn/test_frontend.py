"""SpectrogramFrontEnd: the STFT inside a net, as the Spectrogram transformer computes it."""

import numpy as np
import pytest
import torch

from skfma import Spectrogram
from skfma.exceptions import ParameterError
from skfma.nn import SpectrogramFrontEnd


@pytest.mark.parametrize(
    ("params", "n_samples"),
    [
        ({"n_fft": 4096}, 66150),  # the reference: 3 s at 22,050 Hz, 50% overlap
        ({"n_fft": 512, "hop_length": 128, "power": 2.0}, 5000),
        ({"n_fft": 256, "db": True}, 3000),
        ({"n_fft": 256, "power": 2.0, "db": True, "top_db": 40.0}, 3000),
    ],
)
def test_front_end_matches_the_spectrogram_transformer(params, n_samples):
    x = np.random.default_rng(0).uniform(-1, 1, (3, n_samples)).astype(np.float32)
    front_end = SpectrogramFrontEnd(**params)
    hop = params.get("hop_length", params["n_fft"] // 2)
    transformer = Spectrogram(**{**params, "hop_length": hop})
    ours = front_end(torch.from_numpy(x)).numpy()
    reference = transformer.fit_transform(x)
    assert ours.shape == reference.shape == (3, front_end.n_bins, 1 + n_samples // hop)
    np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-5 * np.abs(reference).max())


def test_front_end_validates_its_arguments():
    for kwargs, name in [
        ({"n_fft": 0}, "n_fft"),
        ({"hop_length": -1}, "hop_length"),
        ({"power": 0}, "power"),
        ({"top_db": -3}, "top_db"),
    ]:
        with pytest.raises(ParameterError, match=name):
            SpectrogramFrontEnd(**kwargs)
