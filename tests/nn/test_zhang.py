"""Zhang et al.'s residual CNN."""

import inspect

import numpy as np
import pytest
import torch

from skfma.exceptions import ParameterError
from skfma.nn import SpectrogramFrontEnd, ZhangResNetModule

INPUTS = ["spectrogram", "waveform", "both"]
REPORT = {"dropout": 0.2, "conv_dropout": 0.2}  # with first_kernel_size=4: report 004's variant


def n_trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# Shared part for 256 maps and 8 classes: batch norm of the first layer (weight and bias), two
# residual convolutions of 3 frames with their norms, dense 512 -> 256 -> 128 -> 8 with norms.
SHARED = (
    2 * 256
    + 2 * (256 * 256 * 3 + 256 + 2 * 256)
    + (512 * 256 + 256 + 2 * 256)
    + (256 * 128 + 128 + 2 * 128)
    + (128 * 8 + 8)
)  # = 561,288


def test_parameter_counts_of_the_three_variants():
    # n_fft 2048: 1025 bins. Per spectrogram map: 3 frames of 1025 bins and a bias; per
    # waveform map: 2048 taps (one frame) and a bias.
    spectrogram_maps = 1025 * 3 + 1
    waveform_maps = 2048 + 1
    counts = {i: n_trainable(ZhangResNetModule(input=i, n_classes=8)) for i in INPUTS}
    assert SHARED == 561_288
    assert counts == {
        "spectrogram": SHARED + 256 * spectrogram_maps,
        "waveform": SHARED + 256 * waveform_maps,
        "both": SHARED + 128 * (spectrogram_maps + waveform_maps),
    }
    # 561,288 + 787,456; + 524,544; + 128 * 5125 = 656,000
    assert counts == {"spectrogram": 1_348_744, "waveform": 1_085_832, "both": 1_217_288}


def test_parameter_counts_of_report_004s_variant():
    # First layer of 4 frames without padding: per spectrogram map 4 frames of 1025 bins and a
    # bias; per waveform map the 2048 + 3 * 1024 = 5120 samples of 4 frames and a bias.
    # Dropout has no parameters.
    spectrogram_maps = 1025 * 4 + 1
    waveform_maps = 2048 + 3 * 1024 + 1
    counts = {
        i: n_trainable(ZhangResNetModule(input=i, first_kernel_size=4, **REPORT)) for i in INPUTS
    }
    assert counts == {
        "spectrogram": SHARED + 256 * spectrogram_maps,
        "waveform": SHARED + 256 * waveform_maps,
        "both": SHARED + 128 * (spectrogram_maps + waveform_maps),
    }
    # 561,288 + 1,049,856; + 1,310,976; + 128 * 9222 = 1,180,416
    assert counts == {"spectrogram": 1_611_144, "waveform": 1_872_264, "both": 1_741_704}


def test_default_stft_gives_the_reports_shape():
    # Centred frames every 1024 samples: 1 + n_samples // 1024 = 977 for 999,424 samples (up to
    # 1,000,447). The former default (n_fft 4096, hop 2048) gave (2049, 489) on this input.
    net = ZhangResNetModule()
    assert (net.n_fft, net.hop_length, net.spectrogram.n_bins) == (2048, 1024, 1025)
    for n_samples in (999_424, 1_000_447):
        assert net.spectrogram(torch.zeros(1, n_samples)).shape == (1, 1025, 977)
    assert net.spectrogram(torch.zeros(1, 999_423)).shape == (1, 1025, 976)


@pytest.mark.parametrize("input", INPUTS)
def test_reports_first_layer_gives_256_maps_of_974_frames(input):
    net = ZhangResNetModule(input=input, first_kernel_size=4, **REPORT)
    with torch.no_grad():
        maps = net.first_layer(torch.randn(1, 999_424))
    assert maps.shape == (1, 256, 974)  # 977 - 4 + 1
    if input == "both":  # 128 + 128
        assert net.spectrogram_conv.out_channels == net.waveform_conv.out_channels == 128
        assert net.spectrogram_conv.kernel_size == (4,) and net.spectrogram_conv.padding == (0,)
        assert net.waveform_conv.kernel_size == (5120,) and net.waveform_conv.stride == (1024,)
    # The residual block keeps the length ("same" padding).
    assert net.conv2[0].padding == net.conv3[0].padding == "same"


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


@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize("input", INPUTS)
def test_first_kernel_size_drops_k_minus_one_frames_in_both_branches(input, k):
    net = ZhangResNetModule(input=input, n_fft=256, hop_length=100, filters=6, first_kernel_size=k)
    for n_samples in (1000, 1050, 100 * (k - 1)):
        n_frames = 1 + n_samples // 100
        assert net.first_layer(torch.randn(2, n_samples)).shape == (2, 6, n_frames - k + 1)
    assert net(torch.randn(2, 100 * (k - 1))).shape == (2, 8)


def test_first_kernel_size_spans_k_frames_of_the_spectrogram_without_padding():
    net = ZhangResNetModule(input="both", n_fft=64, filters=6, first_kernel_size=3)
    x = torch.randn(2, 640)
    spectrogram = net.spectrogram(x)
    assert spectrogram.shape == (2, 33, 21)
    expected = torch.nn.functional.conv1d(
        spectrogram, net.spectrogram_conv.weight, net.spectrogram_conv.bias
    )
    maps = net.first_layer(x)
    assert expected.shape == (2, 3, 19)
    torch.testing.assert_close(maps[:, :3], expected)


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


def test_waveform_kernel_covers_the_samples_of_k_frames():
    # n_fft 8, hop 4, 3 frames: 8 + 2 * 4 = 16 taps; window t covers STFT frames t, t + 1 and
    # t + 2, centred on samples 4 t, 4 (t + 1) and 4 (t + 2): taps 4, 8 and 12.
    net = ZhangResNetModule(input="waveform", n_fft=8, hop_length=4, filters=3, first_kernel_size=3)
    assert net.waveform_conv.weight.shape == (3, 1, 16)
    with torch.no_grad():
        net.waveform_conv.weight.zero_()
        net.waveform_conv.bias.zero_()
        for channel, tap in enumerate((4, 8, 12)):
            net.waveform_conv.weight[channel, 0, tap] = 1.0
    x = torch.arange(1.0, 21.0)[None]  # 20 samples: 6 frames, 4 windows
    maps = net.first_layer(x)[0].detach().numpy()
    np.testing.assert_array_equal(
        maps, [[1.0, 5.0, 9.0, 13.0], [5.0, 9.0, 13.0, 17.0], [9.0, 13.0, 17.0, 0.0]]
    )


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


class DropAll(torch.nn.Module):
    """A dropout that drops every value."""

    def forward(self, x):
        return torch.zeros_like(x)


def test_dropout_follows_every_layer_but_the_last():
    net = ZhangResNetModule(n_fft=64, filters=8, dense_units=(6, 4), dropout=0.3, conv_dropout=0.2)
    dropouts = {name: m.p for name, m in net.named_modules() if isinstance(m, torch.nn.Dropout)}
    # After the first layer, each residual convolution, and each hidden dense layer; none
    # after the output layer.
    assert dropouts == {
        "first_dropout": 0.2,
        "conv2_dropout": 0.2,
        "conv3_dropout": 0.2,
        "dense.3": 0.3,
        "dense.7": 0.3,
    }
    assert isinstance(net.dense[-1], torch.nn.Linear)
    # Order of the calls: each dropout comes after its layer's batch norm and ELU (after the
    # residual sum's ELU for the third convolution), before the next layer.
    calls = []
    for name, module in net.named_modules():
        if name and not isinstance(module, torch.nn.Sequential | ZhangResNetModule):
            module.register_forward_hook(lambda m, i, o, name=name: calls.append(name))
    net(torch.randn(3, 640))
    assert [c for c in calls if not c.startswith("spectrogram")] == [
        "first_norm", "elu", "first_dropout",
        "conv2.0", "conv2.1", "elu", "conv2_dropout",
        "conv3.0", "conv3.1", "elu", "conv3_dropout",
        "dense.0", "dense.1", "dense.2", "dense.3",
        "dense.4", "dense.5", "dense.6", "dense.7",
        "dense.8",
    ]  # fmt: skip
    # The residual block and its shortcut both take the dropped maps: dropping every value of
    # the first layer leaves no trace of the input.
    net.eval()
    net.first_dropout = DropAll()
    torch.testing.assert_close(net(torch.randn(3, 640)), net(torch.randn(3, 640)))


def test_dropout_is_active_in_training_and_the_identity_in_evaluation():
    torch.manual_seed(0)
    x = torch.randn(4, 640)
    net = ZhangResNetModule(n_fft=64, filters=8, first_kernel_size=4, dropout=0.5, conv_dropout=0.5)
    plain = ZhangResNetModule(n_fft=64, filters=8, first_kernel_size=4)
    plain.load_state_dict(net.state_dict())
    net.eval()
    plain.eval()
    torch.testing.assert_close(net(x), plain(x))
    seen = {}
    net.first_dropout.register_forward_hook(lambda m, i, o: seen.update(input=i[0], output=o))
    net.train()
    plain.train()
    first, second = net(x), net(x)  # batch norm uses batch statistics: only dropout differs
    assert not torch.allclose(first, second)
    torch.testing.assert_close(plain(x), plain(x))
    dropped = seen["output"] == 0
    assert 0.3 < dropped.float().mean() < 0.7
    torch.testing.assert_close(seen["output"][~dropped], 2 * seen["input"][~dropped])


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
        ({"first_kernel_size": 0}, "first_kernel_size"),
        ({"first_kernel_size": 2.0}, "first_kernel_size"),
        ({"first_kernel_size": True}, "first_kernel_size"),
        ({"conv_dropout": 1.0}, "conv_dropout"),
        ({"conv_dropout": -0.1}, "conv_dropout"),
        ({"conv_dropout": None}, "conv_dropout"),
        ({"n_classes": 0}, "n_classes"),
    ],
)
def test_invalid_arguments_name_the_parameter(kwargs, name):
    with pytest.raises(ParameterError, match=rf"^ZhangResNetModule: .*\b{name}\b"):
        ZhangResNetModule(**kwargs)


@pytest.mark.parametrize("input", INPUTS)
def test_inputs_shorter_than_the_first_kernel_are_refused_with_the_lengths(input):
    # hop 32: 4 frames need 96 samples; 95 make 3 frames.
    net = ZhangResNetModule(input=input, n_fft=64, filters=4, first_kernel_size=4)
    assert net(torch.randn(2, 96)).shape == (2, 8)
    message = r"first_kernel_size=4 .* 96 samples .* got 95 samples \(3 frames\)"
    with pytest.raises(ValueError, match=message):
        net(torch.randn(2, 95))


@pytest.mark.parametrize("cls", [ZhangResNetModule, SpectrogramFrontEnd])
def test_every_argument_is_keyword_only_with_a_default(cls):
    params = list(inspect.signature(cls).parameters.values())
    assert all(p.kind is p.KEYWORD_ONLY and p.default is not p.empty for p in params)
