"""NeuralClassifier(checkpoint=...): a fit killed with SIGKILL resumes after its last epoch."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skfma.exceptions import CheckpointError, ParameterError
from skfma.models import KostrzewaCNN

#: The run, as the killed subprocess and the test both build it: a learning-rate schedule
#: stepped every batch, a shuffled stratified validation split and dropout all depend on
#: the restored state.
RUN = textwrap.dedent(
    """
    import numpy as np
    import torch
    from skorch.dataset import ValidSplit
    from skfma.models import KostrzewaCNN, OneCycleSchedule

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    y = np.array(["Rock", "Folk", "Hip-Hop"] * 40)
    X = 2.0 * rng.standard_normal((len(y), 16, 32)).astype(np.float32)
    for k, genre in enumerate(["Rock", "Folk", "Hip-Hop"]):
        X[y == genre, 4 * k : 4 * k + 4] += 1.0


    def make_net(checkpoint, **params):
        settings = dict(
            module__filters=(4, 8), module__kernel_size=3, batch_size=8, max_epochs=12,
            train_split=ValidSplit(0.25, stratified=True, random_state=0),
            callbacks=[("one_cycle", OneCycleSchedule())], random_state=0,
        )
        return KostrzewaCNN(checkpoint=checkpoint, **{**settings, **params})
    """
)


def the_run():
    namespace = {}
    exec(RUN, namespace)
    return namespace


def saved_epochs(folder):
    """Epochs in the folder's checkpoint (0 while there is none or it is being replaced)."""
    try:
        state = torch.load(folder / "checkpoint.pt", weights_only=False)
    except (OSError, EOFError, RuntimeError):
        return 0
    return len(state["history_"])


def test_a_run_killed_mid_training_resumes_and_ends_as_the_uninterrupted_run(tmp_path):
    run = the_run()
    folder = tmp_path / "checkpoint"
    script = RUN + f"\nmake_net({str(folder)!r}).fit(X, y)\n"
    child = subprocess.Popen([sys.executable, "-c", script])
    try:
        while saved_epochs(folder) < 3:  # killed in the middle of the training
            assert child.poll() is None, "the training ended before it could be killed"
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    done = saved_epochs(folder)
    max_epochs = run["make_net"](None).max_epochs
    assert 3 <= done < max_epochs

    torch.set_num_threads(1)  # as in the killed run: the same kernels, the same round-off
    try:
        resumed = run["make_net"](folder).fit(run["X"], run["y"])
        uninterrupted = run["make_net"](None).fit(run["X"], run["y"])
    finally:
        torch.set_num_threads(os.cpu_count())
    assert len(resumed.history_) == len(uninterrupted.history_) == max_epochs
    np.testing.assert_allclose(
        resumed.history_[:, "valid_loss"], uninterrupted.history_[:, "valid_loss"], rtol=1e-5
    )
    resumed_weights, weights = resumed.module_.state_dict(), uninterrupted.module_.state_dict()
    for name, value in weights.items():
        # the same operations on the same CPU; float32 round-off only if a kernel differs
        np.testing.assert_allclose(resumed_weights[name], value, rtol=1e-5, atol=1e-6)
    # the one-cycle schedule went on where it stopped
    lrs = [net.optimizer_.param_groups[0]["lr"] for net in (resumed, uninterrupted)]
    assert lrs[0] == lrs[1]


def small_fit(checkpoint, **params):
    run = the_run()
    net = run["make_net"](checkpoint, max_epochs=2, **params)
    return net.fit(run["X"], run["y"]), run


class _CtrlC(Callback):
    """Ctrl-C at the end of one epoch: a real SIGINT to this process."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture
def ctrl_c_raises():
    """SIGINT raises KeyboardInterrupt, as in a terminal (a test worker may ignore it)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_ctrl_c_stops_the_fit_and_the_next_fit_resumes(tmp_path, method, ctrl_c_raises):
    """skorch swallows Ctrl-C and returns a half-trained net; skfma's nets raise it."""
    run = the_run()
    net = run["make_net"](tmp_path, max_epochs=4, callbacks=[("ctrl_c", _CtrlC(2))])
    with pytest.raises(KeyboardInterrupt):
        getattr(net, method)(run["X"], run["y"])
    assert saved_epochs(tmp_path) == 1  # the interrupted epoch is not saved
    resumed = run["make_net"](tmp_path, max_epochs=4, callbacks=None).fit(run["X"], run["y"])
    assert len(resumed.history_) == 4 and resumed.epochs_in_call_ == 3


def test_a_callback_ending_training_with_keyboard_interrupt_is_not_a_ctrl_c(ctrl_c_raises):
    """skorch's EarlyStopping raises KeyboardInterrupt to end training: the fit returns."""

    class Stop(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt

    run = the_run()
    net = run["make_net"](None, max_epochs=4, callbacks=[("stop", Stop())]).fit(run["X"], run["y"])
    assert len(net.history_) == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_a_finished_run_is_loaded_not_trained_again(tmp_path):
    first, run = small_fit(tmp_path)
    again = run["make_net"](tmp_path, max_epochs=2).fit(run["X"], run["y"])
    assert len(again.history_) == 2
    np.testing.assert_array_equal(again.predict_proba(run["X"]), first.predict_proba(run["X"]))


def test_a_run_ended_by_early_stopping_is_saved_with_its_stop(tmp_path, capsys):
    """Its last epoch used to go unsaved: every rerun trained it again."""
    from skorch.callbacks import EarlyStopping

    run = the_run()

    def net():
        stop = EarlyStopping(patience=1, threshold=10.0)  # no epoch improves that much
        return run["make_net"](tmp_path, callbacks=[("stop", stop)], verbose=1)

    first = net().fit(run["X"], run["y"])
    assert len(first.history_) == 2 < first.max_epochs  # stopped after its second epoch
    assert saved_epochs(tmp_path) == 2
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line[:1] == " "]
    assert rows[-1] == "2"  # the table shows the epoch that stopped it (skorch's did not)
    again = net().fit(run["X"], run["y"])
    out = capsys.readouterr().out
    assert "after epoch 2, where early stopping ended it." in out
    assert len(again.history_) == 2
    np.testing.assert_array_equal(again.predict_proba(run["X"]), first.predict_proba(run["X"]))


def test_more_epochs_continue_a_finished_run(tmp_path):
    small_fit(tmp_path)
    run = the_run()
    longer = run["make_net"](tmp_path, max_epochs=3, callbacks=None).fit(run["X"], run["y"])
    assert len(longer.history_) == 3


def test_the_random_states_resume_wherever_map_location_puts_the_tensors(tmp_path, monkeypatch):
    # Resuming on a GPU loads the checkpoint with map_location=cuda, which moves its tensors
    # there, while torch sets its generators from the CPU only. "meta" stands for the GPU.
    small_fit(tmp_path / "moved")
    shutil.copytree(tmp_path / "moved", tmp_path / "kept")
    load = torch.load

    def load_moving_tensors(*args, **kwargs):
        state = load(*args, **kwargs)
        moved = {key: value.to("meta") for key, value in state.items() if torch.is_tensor(value)}
        return {**state, **moved}

    monkeypatch.setattr(torch, "load", load_moving_tensors)
    run = the_run()
    moved = run["make_net"](tmp_path / "moved", max_epochs=3).fit(run["X"], run["y"])
    monkeypatch.undo()
    kept = run["make_net"](tmp_path / "kept", max_epochs=3).fit(run["X"], run["y"])
    np.testing.assert_array_equal(moved.history_[:, "valid_loss"], kept.history_[:, "valid_loss"])


def test_a_resumed_fit_prints_its_table_with_the_header(tmp_path, capsys):
    small_fit(tmp_path, verbose=1)
    capsys.readouterr()
    run = the_run()
    run["make_net"](tmp_path, max_epochs=3, verbose=1).fit(run["X"], run["y"])
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["epoch"])
    assert "Resuming" in lines[header - 1] and lines[header + 2].split()[0] == "3"


def test_more_epochs_after_a_finished_cycle_run_a_new_cycle_over_them(tmp_path):
    """A quick try, then the full run: the one-cycle schedule anneals over the epochs left,
    where it stayed at its final, smallest rate."""
    small_fit(tmp_path)  # 2 epochs: a whole cycle
    run = the_run()
    net = run["make_net"](tmp_path, max_epochs=6).fit(run["X"], run["y"])
    epochs = [
        [batch["event_lr"] for batch in batches if "event_lr" in batch]  # training batches
        for batches in net.history_[2:, "batches"]
    ]
    rates = [rate for epoch in epochs for rate in epoch]
    assert len(epochs) == 4 and len(rates) == 4 * len(epochs[0])
    peak = max(rates)
    assert peak == pytest.approx(net.lr, rel=1e-3)  # the new cycle's peak, then down again
    assert rates.index(peak) < len(rates) // 2 and rates[-1] < net.lr / 100


def test_a_checkpoint_of_other_data_is_refused_naming_the_folder(tmp_path):
    _, run = small_fit(tmp_path)
    net = run["make_net"](tmp_path, max_epochs=2)
    with pytest.raises(ParameterError, match="another training run .*data"):
        net.fit(run["X"][::-1].copy(), run["y"])


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"module__filters": (8, 8)}, "module__filters"),
        ({"lr": 0.5, "batch_size": 4}, "batch_size, lr"),
        ({"optimizer__weight_decay": 0.1}, "optimizer__weight_decay"),  # only in one of them
        ({"precision": "bfloat16"}, "precision"),
        ({"train_split": None}, "train_split"),
    ],
)
def test_a_checkpoint_of_other_settings_is_refused_naming_them(tmp_path, params, named):
    """Another architecture or learning rate is another run: never the old net returned."""
    _, run = small_fit(tmp_path)
    net = run["make_net"](tmp_path, max_epochs=2, **params)
    with pytest.raises(ParameterError, match=f"another training run \\(its {named} differ"):
        net.fit(run["X"], run["y"])


def test_a_checkpoint_of_more_epochs_than_asked_is_refused(tmp_path):
    """Never a net trained longer than max_epochs says (a rerun with fewer --epochs)."""
    _, run = small_fit(tmp_path)
    with pytest.raises(ParameterError, match="holds 2 epochs of this run, more than max_epochs=1"):
        run["make_net"](tmp_path, max_epochs=1).fit(run["X"], run["y"])


def test_a_saved_callback_of_other_settings_is_refused_naming_it(tmp_path):
    """A schedule resumes from its saved state: with other settings it would be another run."""
    from skfma.models import OneCycleSchedule

    _, run = small_fit(tmp_path)
    net = run["make_net"](
        tmp_path, max_epochs=2, callbacks=[("one_cycle", OneCycleSchedule(pct_start=0.5))]
    )
    with pytest.raises(ParameterError, match=r"\(its callbacks__one_cycle differ"):
        net.fit(run["X"], run["y"])


def test_how_long_where_and_what_it_reports_may_change_on_resume(tmp_path):
    _, run = small_fit(tmp_path)
    net = run["make_net"](
        tmp_path,
        max_epochs=3,
        verbose=1,
        device="cpu",
        callbacks=None,
        iterator_train__num_workers=0,
    )
    assert len(net.fit(run["X"], run["y"]).history_) == 3


def test_params_fingerprint_tells_values_apart():
    from skorch.dataset import ValidSplit

    from skfma.models._resume import params_fingerprint

    def described(value):
        return params_fingerprint({"value": value})["value"]

    assert described((4, 8)) != described([4, 8])
    assert described(np.arange(3)) == described(np.arange(3)) != described(np.arange(1, 4))
    assert described(torch.ones(2)) == described(torch.ones(2)) != described(torch.zeros(2))
    assert described(torch.ones(2)) != described(torch.ones(2, dtype=torch.bfloat16))
    module = torch.nn.Linear(2, 3)
    before = described(module)
    with torch.no_grad():
        module.weight.add_(1.0)  # trained in place: the same module, the same settings
    assert described(module) == before == described(torch.nn.Linear(2, 3))
    assert before != described(torch.nn.Linear(2, 4))
    assert described({"b": 1, "a": 2}) == described({"a": 2, "b": 1})
    split = described(ValidSplit(0.25, stratified=True, random_state=0))
    assert split == described(ValidSplit(0.25, stratified=True, random_state=0))
    assert split != described(ValidSplit(0.25, stratified=True, random_state=1))


def test_a_folder_that_cannot_be_written_fails_before_training(tmp_path):
    (tmp_path / "a file").write_text("")
    run = the_run()
    net = run["make_net"](tmp_path / "a file" / "checkpoint")
    with pytest.raises(CheckpointError, match="cannot write the training checkpoint .*a file"):
        net.fit(run["X"], run["y"])
    assert not net.history_  # unfitted, as before the call


def test_a_failed_save_says_the_space_left_on_the_disk(tmp_path, monkeypatch):
    """torch's writer on a full disk says only "unexpected pos 64 vs 0"."""

    def full_disk(*args, **kwargs):
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", full_disk)
    run = the_run()
    with pytest.raises(CheckpointError, match=r"checkpoint.pt' \([\d,]+ bytes free on its disk\)"):
        run["make_net"](tmp_path).fit(run["X"], run["y"])


def test_a_callback_that_cannot_be_saved_is_an_error_at_the_first_epoch(tmp_path):
    from skorch.callbacks import Callback

    class Unpicklable(Callback):
        def __init__(self):
            self.handle = lambda: None

    with pytest.raises(CheckpointError, match="checkpoint.pt.* pickle"):
        small_fit(tmp_path, callbacks=[("unpicklable", Unpicklable())])
    assert not list(tmp_path.iterdir())  # no partial file left behind


def test_a_damaged_checkpoint_is_named(tmp_path):
    (tmp_path / "checkpoint.pt").write_bytes(b"not a pickle")
    with pytest.raises(CheckpointError, match="cannot read the training checkpoint .*\\.pt"):
        small_fit(tmp_path)


def test_a_home_folder_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    small_fit("~/runs/one")
    assert (tmp_path / "runs" / "one" / "checkpoint.pt").is_file()


def test_partial_fit_saves_every_epoch(tmp_path):
    run = the_run()
    net = run["make_net"](tmp_path, max_epochs=1, train_split=None)
    net.partial_fit(run["X"], run["y"]).partial_fit(run["X"], run["y"])
    assert saved_epochs(tmp_path) == 2


@pytest.mark.parametrize("bad", ["", 3])
def test_a_bad_checkpoint_value_is_named(bad):
    run = the_run()
    with pytest.raises(ParameterError, match="checkpoint must (be a path|name a folder)"):
        run["make_net"](bad).fit(run["X"], run["y"])


def test_without_a_checkpoint_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    net = KostrzewaCNN(module__filters=(4,), module__kernel_size=3, max_epochs=1)
    net.fit(np.random.default_rng(0).standard_normal((8, 8, 8)), ["a", "b"] * 4)
    assert not list(tmp_path.iterdir())
