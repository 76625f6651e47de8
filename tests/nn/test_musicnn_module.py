"""MusicnnModule and MusicnnVGGModule: shapes, layers, arguments and the pooled front end."""

import inspect

import pytest
import torch
import torch.nn.functional as F

from skfma.exceptions import ParameterError
from skfma.nn import MusicnnModule, MusicnnVGGModule
from skfma.nn._musicnn import _banded_filters, _complements, _filter_product, _pad_filters


def randomised(module, seed=0):
    """``module`` in eval mode with random batch-norm statistics, some scales negative."""
    generator = torch.Generator().manual_seed(seed)
    for layer in module.modules():
        if isinstance(layer, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
            n = layer.num_features
            layer.weight.data = torch.randn(n, generator=generator)
            layer.bias.data = torch.randn(n, generator=generator)
            layer.running_mean = torch.randn(n, generator=generator)
            layer.running_var = torch.rand(n, generator=generator) + 0.5
    return module.eval()


@pytest.mark.parametrize("cls", [MusicnnModule, MusicnnVGGModule])
def test_arguments_are_keyword_only_with_defaults(cls):
    parameters = list(inspect.signature(cls).parameters.values())
    assert parameters
    assert all(p.kind is p.KEYWORD_ONLY and p.default is not p.empty for p in parameters)


def test_musicnn_layers_and_widths():
    net = randomised(MusicnnModule())
    x = torch.randn(2, 96, 20)  # fully convolutional in time: any number of frames
    taggram, logits, penultimate, mean_pool, max_pool = net.extract(
        x, ["taggram", "logits", "penultimate", "mean_pool", "max_pool"]
    )
    assert taggram.shape == logits.shape == (2, 50)
    assert penultimate.shape == (2, 200)
    assert mean_pool.shape == max_pool.shape == (2, 753)
    torch.testing.assert_close(taggram, torch.sigmoid(logits))
    torch.testing.assert_close(net(x), logits)
    torch.testing.assert_close(net.extract(x, "mean_pool"), mean_pool)
    assert net.layer_widths == {
        "taggram": 50,
        "logits": 50,
        "penultimate": 200,
        "mean_pool": 753,
        "max_pool": 753,
    }


def test_musicnn_has_the_checkpoints_layout():
    net = MusicnnModule()
    shapes = {name: tuple(p.shape) for name, p in net.named_parameters()}
    assert shapes["timbral.0.conv.weight"] == (204, 1, 7, 38)
    assert shapes["timbral.1.conv.weight"] == (204, 1, 7, 67)
    assert [shapes[f"temporal.{i}.conv.weight"] for i in range(3)] == [
        (51, 1, 128, 1),
        (51, 1, 64, 1),
        (51, 1, 32, 1),
    ]
    assert shapes["midend.0.conv.weight"] == (64, 561, 7)
    assert shapes["dense.weight"] == (200, 1506)
    assert all(
        m.eps == 1e-3 for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
    )


def test_vgg_layers_and_widths():
    net = randomised(MusicnnVGGModule())
    pool5, taggram = net.extract(torch.randn(2, 96, 187), ("pool5", "taggram"))
    assert pool5.shape == (2, 256) and taggram.shape == (2, 50)
    small = MusicnnVGGModule(n_mels=64, n_frames=66, filters=8).eval()
    assert small.extract(torch.randn(3, 64, 66), "pool5").shape == (3, 8)


def test_pooled_front_end_equals_the_plain_layers():
    """ReLU and batch norm after the maximum over frequency give the plain blocks' output."""
    net = randomised(MusicnnModule(timbral_filters=8, temporal_filters=5))
    image = torch.randn(2, 1, 130, 96)  # unpadded: at least the longest kernel (128)
    with torch.inference_mode():
        for block in [*net.timbral, *net.temporal]:
            assert (block.bn.weight < 0).any() and (block.bn.weight > 0).any()
            plain = block(image).amax(dim=3)
            # float32 round-off of a few hundred products (the temporal ones are a matmul).
            torch.testing.assert_close(block.max_over_frequency(image), plain, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_the_maximum_of_the_bits_gives_the_relu_of_the_extreme(dtype):
    """The lowered front end's integer maxima: relu(max y) where scale >= 0, relu(min y) if < 0."""
    y = torch.randn(64, 8, generator=torch.Generator().manual_seed(0))
    y[:, 0:2] = -y[:, 0:2].abs() - 0.1  # all negative
    y[:, 2:4] = y[:, 2:4].abs() + 0.1  # all positive
    y[::2, 6:8] = 0.0  # signed zeros among negatives
    y[1::2, 6:8] = -0.0
    y[::3, 6:8] = -1.5
    y = y.to(dtype)  # columns 4 and 5 of both signs
    bn = torch.nn.BatchNorm1d(8)
    bn.weight.data = torch.tensor([1.0, -1.0] * 4)
    mask = _complements(bn, 16, dtype)
    assert mask.shape == (16,) and not mask[8:].any()
    mask = mask[:8]
    extreme = (y.view(mask.dtype).bitwise_xor(mask).amax(dim=0).bitwise_xor(mask)).view(dtype)
    want = torch.where(bn.weight < 0, y.amin(dim=0).float(), y.amax(dim=0).float()).relu()
    assert torch.equal(extreme.float().relu(), want)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_the_filter_product_is_the_matrix_product(dtype):
    gen = torch.Generator().manual_seed(0)
    operands = torch.randn(300, 67, generator=gen).to(dtype)
    weight = torch.randn(67, 40, generator=gen).to(dtype)
    got = _filter_product(weight, 256)(operands)
    assert got.dtype == dtype and got.shape == (300, 40)
    exact = operands.double() @ weight.double()
    # Float32 sums of 67 products, then the result rounded to dtype (unit round-off u).
    u = 2.0**-24 if dtype == torch.float32 else 2.0**-8
    bound = 67 * 2.0**-24 * (operands.double().abs() @ weight.double().abs()) + u * exact.abs()
    assert ((got.double() - exact).abs() <= bound).all()


@pytest.mark.parametrize(("length", "channels", "frames"), [(128, 51, 16), (7, 3, 16), (5, 2, 1)])
def test_banded_filters_give_the_convolution_at_each_frame_of_a_row(length, channels, frames):
    gen = torch.Generator().manual_seed(0)
    weight = torch.randn(length, channels, generator=gen, dtype=torch.float64)
    bias = torch.randn(channels, generator=gen, dtype=torch.float64)
    signal = torch.randn(frames + length - 1, generator=gen, dtype=torch.float64)
    banded = _banded_filters(weight, bias, frames, torch.float64)
    assert banded.shape == (frames + length, frames * channels) and banded.is_contiguous()
    got = (torch.cat([signal, signal.new_ones(1)]) @ banded).view(frames, channels)
    want = F.conv1d(signal[None, None], weight.T[:, None], bias)[0].T  # (frames, channels)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    # Outside each frame's filter the band holds exact zeros.
    support = torch.zeros(frames + length - 1, frames, dtype=torch.bool)
    for b in range(frames):
        support[b : b + length, b] = True
    outside = banded[:-1].view(frames + length - 1, frames, channels)[~support]
    assert not outside.any()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize(("channels", "padded"), [(204, 208), (51, 64), (64, 64), (1, 16)])
def test_filters_are_padded_to_whole_registers_of_float32_sums(dtype, channels, padded):
    # The products sum in float32 whatever the operands: 16 channels a 64-byte register.
    weight = torch.randn(267, channels).to(dtype)
    got = _pad_filters(weight)
    assert got.shape == (267, padded) and got.dtype == dtype and got.is_contiguous()
    assert torch.equal(got[:, :channels], weight)
    assert not got[:, channels:].any()


@pytest.mark.parametrize("missing", ["_reorder_linear_weight", "_linear_pointwise"])
def test_the_filter_product_without_onednn_is_torch_mm(monkeypatch, missing):
    def unavailable(*args):
        raise RuntimeError("no oneDNN")

    monkeypatch.setattr(torch.ops.mkldnn, missing, unavailable)
    operands, weight = torch.randn(30, 7), torch.randn(7, 5)
    assert torch.equal(_filter_product(weight, 30)(operands), torch.mm(operands, weight))


def test_training_mode_still_runs():
    net = MusicnnModule(timbral_filters=4, temporal_filters=4, midend_filters=8, dense_units=8)
    net(torch.randn(2, 96, 12)).sum().backward()
    assert net.timbral[0].conv.weight.grad is not None


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: MusicnnModule(dense_units=0), r"^MusicnnModule: dense_units"),
        (lambda: MusicnnModule(n_mels=2), r"^MusicnnModule: n_mels"),
        (lambda: MusicnnVGGModule(n_frames=65), r"^MusicnnVGGModule: n_frames and n_mels"),
        (lambda: MusicnnVGGModule(filters=1.5), r"^MusicnnVGGModule: filters"),
        (lambda: MusicnnModule().extract(torch.randn(1, 96, 5), "pool5"), r"layer must be one"),
        (lambda: MusicnnModule().extract(torch.randn(1, 96, 5), []), r"at least one layer"),
        (lambda: MusicnnModule()(torch.randn(1, 64, 5)), r"\(batch, 96, n_frames\)"),
        (lambda: MusicnnVGGModule()(torch.randn(1, 96, 100)), r"patches of 187 frames"),
    ],
)
def test_errors_name_the_argument(make, match):
    with pytest.raises(ParameterError, match=match):
        make()
