import copy

import pytest
import torch
from torch import nn

from skfma.nn import ChoiCRNNModule, KostrzewaCNNModule, _norm_pool
from skfma.nn._norm_pool import NormPoolSequential, _fuses


@pytest.fixture
def fused_calls(monkeypatch):
    """The (norm, pool) pairs that ran fused, in order."""
    calls = []
    fused = _norm_pool._batch_norm_then_max_pool

    def spy(norm, pool, x):
        calls.append((norm, pool))
        return fused(norm, pool, x)

    monkeypatch.setattr(_norm_pool, "_batch_norm_then_max_pool", spy)
    return calls


def pair(weights, kernel=2, ceil_mode=False, momentum=0.1):
    """A batch norm of ``weights`` (and random biases) then a max pooling, in float64."""
    norm = nn.BatchNorm2d(len(weights), momentum=momentum).double()
    with torch.no_grad():
        norm.weight.copy_(torch.tensor(weights, dtype=torch.float64))
        norm.bias.copy_(torch.randn(len(weights), dtype=torch.float64))
    return [norm, nn.MaxPool2d(kernel, ceil_mode=ceil_mode)]


def train_twice(layers, x, grad):
    """Two training steps' outputs, and the gradients and state after them."""
    outputs, grads = [], []
    for _ in range(2):
        x_ = x.clone().requires_grad_()
        out = layers(x_)
        params = [p for p in layers.parameters() if p.requires_grad]
        grads.append(torch.autograd.grad(out, [x_, *params], grad))
        outputs.append(out)
    return outputs, grads, layers.state_dict()


@pytest.mark.parametrize(
    ("weights", "kernel", "ceil_mode", "momentum"),
    [
        ([1.5, 0.5, 2.0], 2, False, 0.1),
        ([1.5, -0.5, 2.0, -1.0], 2, False, 0.1),  # the minimum where the scale is negative
        ([0.7, -1.2], (3, 2), True, 0.1),  # partial windows at the edges
        ([0.7, 1.2], (1, 4), True, None),  # a cumulative moving average
    ],
)
def test_pooling_first_is_batch_norm_then_pooling(
    weights, kernel, ceil_mode, momentum, fused_calls
):
    """Outputs, gradients and running statistics, in float64: equal to round-off."""
    torch.manual_seed(0)
    layers = pair(weights, kernel, ceil_mode, momentum)
    ours = NormPoolSequential(*copy.deepcopy(layers))
    theirs = nn.Sequential(*layers)
    x = torch.randn(3, len(weights), 10, 13, dtype=torch.float64)
    x = x.contiguous(memory_format=torch.channels_last)
    grad = torch.randn_like(theirs(x.clone()))
    theirs.load_state_dict(ours.state_dict())  # forget that pass
    (out, grads, state), (ref_out, ref_grads, ref_state) = (
        train_twice(ours, x, grad),
        train_twice(theirs, x, grad),
    )
    for a, b in zip(out, ref_out, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    for step, ref_step in zip(grads, ref_grads, strict=True):
        for a, b in zip(step, ref_step, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert fused_calls == [tuple(ours)] * 2
    assert state.keys() == ref_state.keys()
    for key, value in state.items():
        torch.testing.assert_close(value, ref_state[key], rtol=1e-12, atol=1e-12)


def test_bfloat16_under_autocast_rounds_as_batch_norm_then_pooling(fused_calls):
    """The same values rounded to bfloat16 once: equal but for a last-bit tie in rounding."""
    torch.manual_seed(0)
    layers = [nn.BatchNorm2d(8), nn.MaxPool2d(2)]
    ours, theirs = NormPoolSequential(*copy.deepcopy(layers)), nn.Sequential(*layers)
    x = torch.randn(4, 8, 16, 16).to(torch.bfloat16).contiguous(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, ref = ours(x), theirs(x)
    assert fused_calls and out.dtype == ref.dtype == torch.bfloat16
    # Both round a float32 value to bfloat16 (2**-8 relative apart); the float32 values may
    # differ in their last bits, computed in another order, and so round apart.
    torch.testing.assert_close(out, ref, rtol=2**-8, atol=1e-6)
    torch.testing.assert_close(ours[0].running_var, theirs[0].running_var)


@pytest.mark.parametrize(
    "net",
    [
        KostrzewaCNNModule(
            input_shape=(1, 20, 20), n_classes=3, filters=(4, 4), kernel_size=3, dropout=0.0
        ),
        ChoiCRNNModule(
            input_shape=(1, 24, 40),
            n_classes=3,
            filters=(4, 6),
            pool_sizes=((2, 3), (3, 2)),
            dropout=0.0,
        ),
    ],
    ids=["KostrzewaCNN", "ChoiCRNN"],
)
def test_the_nets_train_as_with_a_plain_sequential(net, fused_calls):
    torch.manual_seed(0)
    net = net.double()
    plain = copy.deepcopy(net)
    name = "layers" if hasattr(net, "layers") else "conv"
    assert isinstance(getattr(net, name), NormPoolSequential)
    setattr(plain, name, nn.Sequential(*getattr(plain, name)))
    x = torch.randn(5, 1, *net_input(net), dtype=torch.float64)
    for model in (net, plain):
        model(x).square().sum().backward()
    assert len(fused_calls) == 2  # each block's batch norm and pooling
    for p, q in zip(net.parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-10, atol=1e-12)
    net.eval(), plain.eval()
    torch.testing.assert_close(net(x), plain(x), rtol=0, atol=0)


def net_input(net):
    return (20, 20) if isinstance(net, KostrzewaCNNModule) else (24, 40)


@pytest.mark.parametrize(
    ("pool", "training", "fuses"),
    [
        (nn.MaxPool2d(2), True, True),
        (nn.MaxPool2d(2), False, False),  # the running statistics: batch norm first
        (nn.MaxPool2d(3, stride=2), True, False),  # overlapping windows
        (nn.MaxPool2d(2, padding=1), True, False),
        (nn.MaxPool2d(2, return_indices=True), True, False),
        (nn.AvgPool2d(2), True, False),  # not monotonic in each value
    ],
)
def test_only_a_training_batch_norm_then_tiling_max_pooling_fuses(pool, training, fuses):
    norm = nn.BatchNorm2d(3).train(training)
    assert _fuses(norm, pool, torch.zeros(1, 3, 4, 4)) is fuses


def test_hooks_see_the_modules_called():
    """A forward hook on either module (or a global one) keeps both modules' own calls."""
    layers = NormPoolSequential(nn.BatchNorm2d(3), nn.MaxPool2d(2))
    x = torch.randn(2, 3, 4, 4)
    assert _fuses(*layers, x)
    seen = []
    handle = layers[1].register_forward_hook(lambda module, inputs, output: seen.append(module))
    layers(x)
    handle.remove()
    handle = nn.modules.module.register_module_forward_hook(
        lambda module, inputs, output: seen.append(module)
    )
    layers(x)
    handle.remove()
    assert seen == [layers[1], layers[0], layers[1], layers]
    assert _fuses(*layers, x)
    assert not _fuses(*layers, x.to("meta"))  # on a CPU only


def test_backward_hooks_see_the_modules_called():
    """A backward hook on either module (or a global one) keeps both modules' own calls."""
    x = torch.randn(2, 3, 4, 4, requires_grad=True)
    seen = []
    layers = NormPoolSequential(nn.BatchNorm2d(3), nn.MaxPool2d(2))
    layers[0].register_full_backward_hook(lambda module, grad_in, grad_out: seen.append(module))
    layers(x).sum().backward()
    assert seen == [layers[0]]
    layers = NormPoolSequential(nn.BatchNorm2d(3), nn.MaxPool2d(2))
    handle = nn.modules.module.register_module_full_backward_pre_hook(
        lambda module, grad_out: seen.append(module)
    )
    try:
        layers(x).sum().backward()
    finally:
        handle.remove()
    assert seen[1:] == [layers, layers[1], layers[0]]


@pytest.mark.parametrize(
    ("shape", "error"),
    [
        ((1, 3, 2, 2), None),  # one map of 2 x 2: four values per channel
        ((1, 3, 1, 1), ValueError),  # one value per channel: no variance
        ((2, 4, 4, 4), RuntimeError),  # four channels into a batch norm of three
        ((0, 3, 4, 4), None),  # an empty batch
    ],
)
def test_input_batch_norm_rejects_fails_as_it_does_and_leaves_its_statistics(
    shape, error, fused_calls
):
    layers = NormPoolSequential(nn.BatchNorm2d(3), nn.MaxPool2d(1))
    plain = nn.Sequential(*copy.deepcopy(layers))
    running = torch.zeros(2, 8)  # the statistics inside larger buffers, to see any write past them
    with torch.no_grad():
        for norm in (layers[0], plain[0]):
            running[1, :3] = 1.0
            norm.running_mean, norm.running_var = running[0, :3], running[1, :3]
    x = torch.randn(shape)
    if error is None:
        torch.testing.assert_close(layers(x), plain(x))
        assert len(fused_calls) == (x.numel() > 0)
        return
    with pytest.raises(error) as fused_error:
        layers(x)
    with pytest.raises(error) as plain_error:
        plain(x)
    assert str(fused_error.value) == str(plain_error.value)
    assert not fused_calls
    torch.testing.assert_close(running, torch.tensor([[0.0] * 8, [1.0] * 3 + [0.0] * 5]))


def test_batch_norm_without_a_bias_or_with_zero_eps_is_the_modules():
    x = torch.randn(4, 3, 4, 4, requires_grad=True)
    norm = nn.BatchNorm2d(3, bias=False)
    layers = NormPoolSequential(norm, nn.MaxPool2d(2))
    assert not _fuses(*layers, x)
    layers(x).sum().backward()
    assert norm.weight.grad is not None
    assert not _fuses(nn.BatchNorm2d(3, eps=0.0), nn.MaxPool2d(2), x)


def test_torch_compile_traces_the_modules_not_the_fused_step(fused_calls):
    """Dynamo runs the eager check of a pair (which it cannot trace whole) outside the trace,
    where is_compiling() is False: forward asks before, and compiles the two modules."""
    torch.manual_seed(0)
    net = KostrzewaCNNModule(input_shape=(1, 12, 12), n_classes=3, filters=(4,), kernel_size=3)
    x = torch.randn(4, 1, 12, 12)
    plain = copy.deepcopy(net)
    torch.compile(net)(x).sum().backward()
    assert fused_calls == []
    plain(x).sum().backward()  # eager: fused
    assert len(fused_calls) == 1
