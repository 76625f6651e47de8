"""Choi et al.'s CRNN as a plain torch module."""

import inspect

import numpy as np
import pytest
import torch

from skfma.exceptions import ParameterError
from skfma.nn import ChoiCRNNModule


def n_trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_reference_net_has_0_4m_parameters():
    net = ChoiCRNNModule(input_shape=(1, 96, 1366), n_classes=50)
    convs = 9 * (1 * 64 + 64 * 128 + 128 * 128 + 128 * 128) + (64 + 3 * 128)  # weights + biases
    norms = 2 * 96 + 2 * (64 + 3 * 128)  # input norm over 96 mel bins, then one per convolution
    grus = 3 * (128 * 32 + 32 * 32 + 2 * 32) + 3 * (32 * 32 + 32 * 32 + 2 * 32)
    dense = 32 * 50 + 50
    assert n_trainable(net) == convs + norms + grus + dense == 394_290


def test_reference_layout():
    net = ChoiCRNNModule()
    convs = [m for m in net.conv if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 128, 128, 128]
    assert all(c.kernel_size == (3, 3) and c.padding == (1, 1) for c in convs)
    pools = [m.kernel_size for m in net.conv if isinstance(m, torch.nn.MaxPool2d)]
    assert pools == [(2, 2), (3, 3), (4, 4), (4, 4)]
    kinds = [type(m).__name__ for m in net.conv[:5]]
    # The ELU follows the pool, where it costs less and gives the same map (next test).
    assert kinds == ["Conv2d", "BatchNorm2d", "MaxPool2d", "ELU", "Dropout"]
    assert all(m.p == 0.1 for m in net.modules() if isinstance(m, torch.nn.Dropout))
    assert (net.gru.hidden_size, net.gru.num_layers, net.gru.input_size) == (32, 2, 128)
    # 96 mel bins pool to 1; 1366 frames -> 683 -> 228 -> 57 -> 15 steps (rounding up).
    assert net.time_steps == 15
    features = net.conv(torch.zeros(1, 1, 96, 1366))
    assert features.shape == (1, 128, 1, 15)
    assert net.eval()(torch.randn(2, 1, 96, 1366)).shape == (2, 50)


def paper_order(blocks):
    """The same modules with each ELU before its pool, as the paper lists them."""
    layers = list(blocks)
    for index, layer in enumerate(layers[:-1]):
        if isinstance(layer, torch.nn.MaxPool2d):
            layers[index], layers[index + 1] = layers[index + 1], layer
    return torch.nn.Sequential(*layers)


def test_pooling_before_the_elu_is_the_papers_block():
    torch.manual_seed(0)
    # float64: the block normalises the pooled map, which rounds apart in float32.
    blocks = ChoiCRNNModule(input_shape=(1, 24, 70), filters=(4, 6, 6, 6)).conv.double()
    for dropout in blocks[4::5]:
        dropout.p = 0.0
    x = torch.randn(3, 1, 24, 70, dtype=torch.float64) * 4  # the ELU saturates on part of each map
    ours = blocks(x)
    ours.square().sum().backward()
    our_grads = [p.grad.clone() for p in blocks.parameters()]
    blocks.zero_grad()
    theirs = paper_order(blocks)(x)
    theirs.square().sum().backward()
    # The same function: the values and gradients of another order of float64 operations.
    torch.testing.assert_close(ours, theirs)
    for ours_grad, p in zip(our_grads, blocks.parameters(), strict=True):
        torch.testing.assert_close(ours_grad, p.grad)


@pytest.mark.parametrize(
    ("input_shape", "image"),
    [
        ((1, 32, 65), (1, 32, 65)),
        ((32, 65), (1, 32, 65)),
        ((2, 128, 200), (2, 128, 200)),
        ((7,), (1, 7, 1)),  # feature vectors: one frame
    ],
)
def test_pooling_adapts_to_other_inputs(input_shape, image):
    net = ChoiCRNNModule(input_shape=input_shape, n_classes=4, filters=(4, 8, 8, 8), gru_units=6)
    assert net.eval()(torch.randn(3, *input_shape)).shape == (3, 4)
    # Whatever the number of bins, the last block leaves one.
    assert net.conv(torch.zeros(1, *image)).shape[:3] == (1, 8, 1)


def test_trailing_frames_are_pooled_not_dropped():
    net = ChoiCRNNModule(input_shape=(1, 8, 9), n_classes=2, filters=(2,), pool_sizes=((2, 4),))
    assert net.time_steps == 3  # ceil(9 / 4): the ninth frame gets its own step


def test_gru_runs_over_time_and_the_output_is_logits():
    net = ChoiCRNNModule(
        input_shape=(1, 16, 64), n_classes=3, filters=(4, 4), pool_sizes=((2, 2),) * 2
    )
    net.eval()
    x = torch.randn(2, 1, 16, 64)
    late = x.clone()
    late[..., 48:] += 5.0  # change only the end of the clip
    assert net.time_steps == 16
    assert not torch.allclose(net(x), net(late))
    out = net(x)
    assert not torch.allclose(out.sigmoid(), out)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"filters": ()}, "filters"),
        ({"pool_sizes": ((2, 2),)}, "pool_sizes"),
        ({"pool_sizes": ((2, 2), (3, 3), (4, 0), (4, 4))}, "pool_sizes"),
        ({"gru_units": 0}, "gru_units"),
        ({"gru_layers": 1.5}, "gru_layers"),
        ({"dropout": -0.1}, "dropout"),
        ({"n_classes": 0}, "n_classes"),
        ({"input_shape": (1, 2, 3, 4)}, "input_shape"),
    ],
)
def test_invalid_arguments_name_the_parameter(kwargs, name):
    with pytest.raises(ParameterError, match=name):
        ChoiCRNNModule(**kwargs)


def test_every_argument_is_keyword_only_with_a_default():
    params = list(inspect.signature(ChoiCRNNModule).parameters.values())
    assert all(p.kind is p.KEYWORD_ONLY and p.default is not p.empty for p in params)


def test_numpy_integer_sizes_from_a_parameter_grid():
    # torch's GRU takes only Python ints; np.arange grids give NumPy ones.
    i = np.int64
    net = ChoiCRNNModule(
        input_shape=(i(1), i(16), i(32)),
        n_classes=i(3),
        filters=(i(4), i(4)),
        pool_sizes=((i(2), i(2)), (i(2), i(2))),
        gru_units=i(8),
        gru_layers=i(1),
    )
    assert (net.gru.hidden_size, net.gru.num_layers) == (8, 1)
    assert net.eval()(torch.randn(2, 1, 16, 32)).shape == (2, 3)


def test_choi_code_options_gru_dropout_and_per_frame_input_norm():
    """Choi's Keras code: dropout 0.3 after the GRU, input batch norm along the time axis."""
    net = ChoiCRNNModule(input_shape=(1, 32, 64), n_classes=4, gru_dropout=0.3, input_norm="time")
    assert net.dropout.p == 0.3 and net.conv[4].p == 0.1
    assert net.input_norm.num_features == 64  # one mean and scale per frame
    x = torch.randn(3, 1, 32, 64)
    assert net(x).shape == (3, 4)
    default = ChoiCRNNModule(input_shape=(1, 32, 64), n_classes=4)
    assert default.input_norm.num_features == 32 and default.dropout.p == 0.1
    net.train()
    net.input_norm.momentum = 1.0  # the running statistics become the last batch's
    net(x)
    np.testing.assert_allclose(
        net.input_norm.running_mean.numpy(), x.mean(dim=(0, 1, 2)).numpy(), atol=1e-5
    )
    with pytest.raises(ParameterError, match="input_norm"):
        ChoiCRNNModule(input_norm="channel")
