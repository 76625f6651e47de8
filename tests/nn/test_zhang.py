"""Zhang et al.'s residual CNN."""

import inspect

import numpy as np
import pytest
import torch

from skfma.exceptions import ParameterError
from skfma.nn import SpectrogramFrontEnd, ZhangResNetModule

INPUTS = ["spectrogram", "waveform", "both"]


def n_trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_parameter_counts_of_the_three_variants():
    # Shared part for 256 maps and 8 classes: batch norm of the first layer, two residual
    # convolutions of 3 frames with their norms, dense 512 -> 256 -> 128 -> 8 with norms.
    shared = (
        2 * 256
        + 2 * (256 * 256 * 3 + 256 + 2 * 256)
        + (512 * 256 + 256 + 2 * 256)
        + (256 * 128 + 128 + 2 * 128)
        + (128 * 8 + 8)
    )
    spectrogram_maps = 2049 * 3 + 1  # per map: 3 frames of 2049 bins, and a bias
    waveform_maps = 4096 + 1  # per map: 4096 taps, and a bias
    counts = {i: n_trainable(ZhangResNetModule(input=i, n_classes=8)) for i in INPUTS}
    assert counts == {
        "spectrogram": shared + 256 * spectrogram_maps,
        "waveform": shared + 256 * waveform_maps,
        "both": shared + 128 * (spectrogram_maps + waveform_maps),
    }
    assert counts == {"spectrogram": 2_135_176, "waveform": 1_610_120, "both": 1_872_648}


def test_variants_share_everything_after_the_first_layer():
    def shapes(net):
        first = ("spectrogram", "waveform_conv")
        return {k: v.shape for k, v in net.state_dict().items() if not k.startswith(first)}

    nets = [ZhangResNetModule(input=i, n_fft=256, filters=16) for i in INPUTS]
    assert shapes(nets[0]) == shapes(nets[1]) == shapes(nets[2])
    both = nets[2]
    assert both.spectrogram_conv.out_channels == both.waveform_conv.out_channels == 8
    assert nets[0].waveform_conv is None and nets[1].spectrogram is None


@pytest.mark.parametrize("input", INPUTS)
def test_first_layer_gives_one_value_per_stft_frame(input):
    net = ZhangResNetModule(input=input, n_fft=256, hop_length=100, filters=6)
    for n_samples in (1000, 1050, 3):
        assert net.first_layer(torch.randn(2, n_samples)).shape == (2, 6, 1 + n_samples // 100)


def test_waveform_frames_are_centred_like_the_stft():
    net = ZhangResNetModule(input="waveform", n_fft=8, hop_length=4, filters=2)
    with torch.no_grad():
        net.waveform_conv.weight.zero_()
        net.waveform_conv.bias.zero_()
        net.waveform_conv.weight[:, 0, 4] = 1.0  # the tap at the centre of the window
    x = torch.arange(1.0, 21.0)[None]
    # Frame t is centred on sample 4 t; the last one, on sample 20, sees the zero padding.
    maps = net.first_layer(x)[0, 0].detach().numpy()
    np.testing.assert_array_equal(maps, [1.0, 5.0, 9.0, 13.0, 17.0, 0.0])


def test_both_concatenates_spectrogram_and_waveform_maps():
    net = ZhangResNetModule(input="both", n_fft=64, filters=5).eval()
    x = torch.randn(2, 640)
    maps = net.first_layer(x)
    expected_spec = net.spectrogram_conv(net.spectrogram(x))
    torch.testing.assert_close(maps[:, :3], expected_spec)
    assert maps.shape[1] == 5 and net.waveform_conv.out_channels == 2


def test_residual_block_and_pooling_layout():
    net = ZhangResNetModule(n_fft=64, filters=8, dense_units=(6, 4), dropout=0.3, n_classes=3)
    linears = [m for m in net.dense if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(16, 6), (6, 4), (4, 3)]
    kinds = [type(m).__name__ for m in net.dense[:4]]
    assert kinds == ["Linear", "BatchNorm1d", "ELU", "Dropout"]
    assert net.dense[3].p == 0.3
    # The third convolution's output gets the first layer's added: zeroing the second and
    # third convolutions leaves ELU(first + BN(0)), so the block passes the first layer on.
    net.eval()
    with torch.no_grad():
        for block in (net.conv2, net.conv3):
            block[0].weight.zero_()
            block[0].bias.zero_()
    x = torch.randn(2, 1000)
    first = net.elu(net.first_norm(net.first_layer(x)))
    conv3_out = net.conv3(net.elu(net.conv2(first)))
    pooled = torch.cat(
        [net.elu(first + conv3_out).amax(-1), net.elu(first + conv3_out).mean(-1)], 1
    )
    torch.testing.assert_close(net(x), net.dense(pooled))


@pytest.mark.parametrize("input", INPUTS)
def test_any_length_and_logits(input):
    net = ZhangResNetModule(input=input, n_fft=128, filters=4, n_classes=3).eval()
    for n_samples in (5, 800, 4000):
        out = net(torch.randn(2, n_samples))
        assert out.shape == (2, 3)
    assert not torch.allclose(out.softmax(-1).sum(-1), out.sum(-1))


def test_spectrogram_batches_are_refused_with_a_clear_message():
    net = ZhangResNetModule(n_fft=64, filters=4)
    with pytest.raises(ValueError, match="waveform batches"):
        net(torch.randn(2, 1, 33, 10))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"input": "mel"}, "input"),
        ({"n_fft": 255}, "n_fft"),
        ({"hop_length": 0}, "hop_length"),
        ({"filters": 0}, "filters"),
        ({"input": "both", "filters": 1}, "filters"),
        ({"kernel_size": 0}, "kernel_size"),
        ({"dense_units": ()}, "dense_units"),
        ({"dropout": 1.0}, "dropout"),
        ({"n_classes": 0}, "n_classes"),
    ],
)
def test_invalid_arguments_name_the_parameter(kwargs, name):
    with pytest.raises(ParameterError, match=name):
        ZhangResNetModule(**kwargs)


@pytest.mark.parametrize("cls", [ZhangResNetModule, SpectrogramFrontEnd])
def test_every_argument_is_keyword_only_with_a_default(cls):
    params = list(inspect.signature(cls).parameters.values())
    assert all(p.kind is p.KEYWORD_ONLY and p.default is not p.empty for p in params)
