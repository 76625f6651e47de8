"""The published architectures as plain torch modules."""

import pytest
import torch

from skfma.exceptions import ParameterError
from skfma.nn import DNNModule, KostrzewaCNNModule, UNetEncoderCNNModule


def n_trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_kostrzewa_has_the_reference_parameter_count():
    assert n_trainable(KostrzewaCNNModule(input_shape=(1, 128, 128), n_classes=8)) == 735_944


def test_kostrzewa_layout():
    net = KostrzewaCNNModule(input_shape=(1, 128, 128), n_classes=8)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128]
    assert all(c.kernel_size == (5, 5) and c.padding == (0, 0) for c in convs)
    # 128 -> 124 -> 62 -> 58 -> 29 -> 25 -> 12 -> 8 -> 4: 128 maps of 4 x 4 into the classes.
    assert net.layers[-1].in_features == 128 * 4 * 4
    kinds = [type(m).__name__ for m in net.layers[:4]]
    assert kinds == ["Conv2d", "ReLU", "BatchNorm2d", "MaxPool2d"]


@pytest.mark.parametrize(
    ("net", "x"),
    [
        (KostrzewaCNNModule(input_shape=(1, 32, 32), n_classes=3, filters=(4, 8)), (5, 1, 32, 32)),
        (KostrzewaCNNModule(input_shape=(32, 32), n_classes=3, filters=(4, 8)), (5, 32, 32)),
        (KostrzewaCNNModule(input_shape=(2, 32, 40), n_classes=3, filters=(4,)), (5, 2, 32, 40)),
        (
            UNetEncoderCNNModule(input_shape=(1, 32, 32), n_classes=3, filters=(4, 8)),
            (5, 1, 32, 32),
        ),
        (UNetEncoderCNNModule(input_shape=(7,), n_classes=3, filters=(4, 8)), (5, 7)),
        (DNNModule(input_shape=(7,), n_classes=3, hidden_layer_sizes=(16, 8)), (5, 7)),
        (DNNModule(input_shape=(1, 8, 6), n_classes=3, hidden_layer_sizes=()), (5, 1, 8, 6)),
    ],
)
def test_output_is_logits_per_class(net, x):
    out = net.eval()(torch.randn(*x))
    assert out.shape == (5, 3)
    assert not torch.allclose(out.softmax(-1).sum(-1), out.sum(-1))  # logits, not probabilities


def test_small_maps_shrink_kernels_and_pools():
    """A 1-bin-high map gets 1-high kernels and pools instead of failing."""
    net = KostrzewaCNNModule(input_shape=(3,), n_classes=2, filters=(4, 4, 4, 4), kernel_size=5)
    assert net(torch.randn(4, 3)).shape == (4, 2)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs[0].kernel_size == (3, 1)


def test_unet_blocks_and_xavier_init():
    net = UNetEncoderCNNModule(input_shape=(1, 64, 64), n_classes=4, filters=(8, 16, 32, 64))
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 8, 16, 16, 32, 32, 64, 64]
    assert all(c.kernel_size == (3, 3) and c.padding == (1, 1) for c in convs)
    assert net.layers[-1].in_features == 64 * 4 * 4
    assert all(not c.bias.detach().any() for c in convs)
    # Xavier uniform: |w| <= sqrt(6 / (fan_in + fan_out)).
    first = convs[0].weight
    assert float(first.detach().abs().max()) <= (6 / (1 * 9 + 8 * 9)) ** 0.5


def test_unet_pools_before_its_second_relu_as_unet_after_it():
    """Pooling then ReLU is U-Net's ReLU then pooling: outputs and gradients."""
    torch.manual_seed(0)
    net = UNetEncoderCNNModule(input_shape=(1, 16, 16), n_classes=3, filters=(4, 6), dropout=0)
    net = net.double()  # its blocks normalise pooled maps, which round apart in float32
    unet_order = list(net.layers)
    pools = [i for i, layer in enumerate(unet_order) if isinstance(layer, torch.nn.MaxPool2d)]
    assert len(pools) == 2
    for i in pools:  # each ReLU back before its pool
        assert isinstance(unet_order[i + 1], torch.nn.ReLU)
        unet_order[i], unet_order[i + 1] = unet_order[i + 1], unet_order[i]
    x = torch.randn(5, 1, 16, 16, dtype=torch.float64)
    ours = net(x)
    ours.square().sum().backward()
    our_grads = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    theirs = torch.nn.Sequential(*unet_order)(x)
    theirs.square().sum().backward()
    # The same function: float64 round-off apart.
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    for ours_grad, p in zip(our_grads, net.parameters(), strict=True):
        torch.testing.assert_close(ours_grad, p.grad, rtol=1e-10, atol=1e-12)


def test_mlp_layers():
    net = DNNModule(input_shape=(518,), n_classes=8)
    kinds = [type(m).__name__ for m in net.layers]
    assert kinds[:5] == ["Flatten", "Linear", "BatchNorm1d", "LeakyReLU", "Dropout"]
    widths = [m.out_features for m in net.layers if isinstance(m, torch.nn.Linear)]
    assert widths == [512, 256, 8]
    assert net.layers[4].p == 0.2


@pytest.mark.parametrize(
    ("cls", "kwargs", "name"),
    [
        (KostrzewaCNNModule, {"filters": ()}, "filters"),
        (KostrzewaCNNModule, {"kernel_size": 0}, "kernel_size"),
        (KostrzewaCNNModule, {"input_shape": (1, 2, 3, 4)}, "input_shape"),
        (UNetEncoderCNNModule, {"dropout": 1.0}, "dropout"),
        (DNNModule, {"n_classes": 0}, "n_classes"),
        (DNNModule, {"hidden_layer_sizes": (8, -1)}, "hidden_layer_sizes"),
    ],
)
def test_invalid_arguments_name_the_parameter(cls, kwargs, name):
    with pytest.raises(ParameterError, match=name):
        cls(**kwargs)


@pytest.mark.parametrize("cls", [DNNModule, KostrzewaCNNModule, UNetEncoderCNNModule])
def test_every_argument_is_keyword_only_with_a_default(cls):
    import inspect

    params = list(inspect.signature(cls).parameters.values())
    assert all(p.kind is p.KEYWORD_ONLY and p.default is not p.empty for p in params)


@pytest.mark.parametrize(
    ("batch_norm", "expected"),
    [(False, 518 * 512 + 512 + 512 * 256 + 256 + 256 * 8 + 8), (True, 400_648)],
)
def test_dnn_parameter_count_with_and_without_batch_norm(batch_norm, expected):
    """Report 001's Table 1 counts the features MLP without batch normalisation."""
    net = DNNModule(input_shape=(518,), n_classes=8, batch_norm=batch_norm)
    assert sum(p.numel() for p in net.parameters()) == expected
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in net.modules()) is batch_norm


@pytest.mark.parametrize("activation", ["leaky_relu", "relu", "sigmoid", "tanh"])
def test_dnn_activation_and_dropout_are_switchable(activation):
    net = DNNModule(input_shape=(6,), n_classes=3, activation=activation, dropout=0.0)
    kinds = {type(m).__name__ for m in net.modules()}
    expected = {"leaky_relu": "LeakyReLU", "relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}
    assert expected[activation] in kinds and "Dropout" not in kinds
    assert net(torch.randn(4, 6)).shape == (4, 3)
    with pytest.raises(ParameterError, match="activation"):
        DNNModule(activation="softmax")


@pytest.mark.parametrize(
    ("shape", "got"),
    [((3, 7), r"\(3, 7\) \(7 values per example\)"), ((3,), r"\(3,\) \(no batch axis\)")],
)
def test_dnn_input_of_the_wrong_width_names_both_widths(shape, got):
    module = DNNModule(input_shape=(5,), n_classes=2)
    with pytest.raises(ValueError, match=rf"input_shape=\(5,\) \(5 values each\); .*{got}"):
        module(torch.zeros(shape))
    assert module(torch.zeros(3, 5)).shape == (3, 2)
    assert DNNModule(input_shape=(2, 3), n_classes=2)(torch.zeros(4, 6)).shape == (4, 2)
