"""Every report script of examples/reports runs end to end at a tiny scale (--smoke).

Also at a shrunk scale (``--epochs``, ``--clips-per-genre``, ``--trials``,
``--batch-size``), showing its progress, and the helpers the scripts share.
"""

import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPORTS = Path(__file__).resolve().parents[1] / "examples" / "reports"
SCRIPTS = sorted(REPORTS.glob("report_*.py")) if REPORTS.is_dir() else []
SEARCHES = ("report_001", "report_002")  # the scripts with a hyperparameter search

pytest.importorskip("matplotlib")


def run_script(script, out, *options):
    run = subprocess.run(
        [sys.executable, script.name, "--smoke", "--out", str(out), *options],
        cwd=script.parent,
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=900,  # a hung script fails its test instead of the whole run
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    return run.stdout


def test_there_is_a_script_per_report():
    if not REPORTS.is_dir():
        pytest.skip("examples/reports is not there (installed package)")
    numbers = sorted(script.name[len("report_") :][:3] for script in SCRIPTS)
    assert numbers == ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.stem for script in SCRIPTS])
def test_smoke_run_writes_tables_figures_and_the_published_numbers(script, tmp_path):
    stdout = run_script(script, tmp_path)
    published = pd.read_csv(tmp_path / "published_vs_this_run.csv", index_col=0)
    assert list(published.columns) == ["published", "this run"] and len(published)
    assert published["published"].notna().any()
    assert "published" in stdout  # printed beside this run's
    assert list(tmp_path.glob("*.md")) and list(tmp_path.glob("*.csv"))
    for figure in tmp_path.glob("*.png"):
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(tmp_path.glob("*.png"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.stem for script in SCRIPTS])
def test_a_shrunk_run_shows_its_progress_and_validates_on_every_genre(script, tmp_path):
    options = ["--epochs", "2", "--clips-per-genre", "3", "--batch-size", "4"]
    if script.stem.startswith(SEARCHES):
        options += ["--trials", "2"]
    stdout = run_script(script, tmp_path, *options)

    clips = pd.read_csv(tmp_path / "clips.csv", index_col=0).drop(index="All")
    assert list(clips.columns) == ["training", "validation", "test", "All"]
    assert clips[["training", "validation", "test"]].to_numpy().max() <= 3
    assert (clips["validation"] > 0).all(), clips  # every genre is validated on

    # The epoch tables (skorch's PrintLog) show the speed and the time left from the
    # first epoch on; a line gives the whole run's progress.
    header = next(line for line in stdout.splitlines() if line.lstrip().startswith("epoch "))
    assert {"clips_per_s", "run_left", "dur"} <= set(header.split())
    # A fit's own time left, but where each fit call is one epoch (report 003's partial_fit).
    assert ("time_left" in header.split()) is (not script.stem.startswith("report_003"))
    # Report 003 counts passes over chunks of songs, each a partial_fit, not epochs.
    unit = "chunk passes" if script.stem.startswith("report_003") else "epochs"
    assert re.search(rf"^\[run\] 1 of about \d+ {unit} in .+ of training left$", stdout, re.M)
    assert re.search(rf"^\[run\] \d+ of about \d+ {unit} in .*; about 0 s of train", stdout, re.M)
    if script.stem.startswith("report_003"):
        assert "epoch 2:" in stdout and "epoch 3:" not in stdout
        assert "batch size 4:" in stdout
    else:
        epochs = {int(n) for n in re.findall(r"^ +(\d+) +\d+\.\d+ ", stdout, re.M)}
        assert epochs == {1, 2}
    if script.stem.startswith("report_002"):
        assert len(pd.read_csv(tmp_path / "bayesian_search.csv")) == 2


def test_report_003_picks_the_batch_size_for_the_memory(tmp_path):
    (script,) = (script for script in SCRIPTS if script.stem.startswith("report_003"))
    stdout = run_script(script, tmp_path, "--epochs", "1")
    assert re.search(r"^batch size \d+: about .* GiB available$", stdout, re.M)


def test_report_001_without_transfer_writes_the_rest(tmp_path):
    (script,) = (script for script in SCRIPTS if script.stem.startswith("report_001"))
    run_script(script, tmp_path, "--no-transfer", "--epochs", "1", "--trials", "1")
    results = pd.read_csv(tmp_path / "results.csv", index_col=0)
    assert list(results.index) == ["features MLP", "log-mel CNN (Hyperband)"]
    assert not list(tmp_path.glob("transfer*"))


def interrupt_script(script, out, *options, epoch=1):
    """Run ``script`` (smoke), press Ctrl-C at ``epoch``'s row; return its exit code and output."""
    process = subprocess.Popen(
        [sys.executable, script.name, "--smoke", "--out", str(out), *options],
        cwd=script.parent,
        env={**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Python keeps SIGINT ignored if it starts so (as under some test runners).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if re.match(rf" +{epoch} +\d+\.\d+ ", line):  # a row of the epoch table
                process.send_signal(signal.SIGINT)
                break
        lines += process.stdout.readlines()
        process.wait(timeout=300)
    finally:
        process.kill()
    return process.returncode, "".join(lines)


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_ctrl_c_ends_a_run_saying_what_it_kept_and_a_rerun_goes_on(tmp_path):
    (script,) = (script for script in SCRIPTS if script.stem.startswith("report_004"))
    code, output = interrupt_script(script, tmp_path / "plain")
    assert code != 0 and "Traceback" not in output, output[-3000:]
    assert "Interrupted. No epoch was saved: with --checkpoint DIR" in output

    checkpoint = tmp_path / "checkpoint"
    options = ["--checkpoint", str(checkpoint)]
    # A net saves an epoch after its row is printed: the second row follows the first's save.
    code, output = interrupt_script(script, tmp_path / "out", *options, epoch=2)
    assert code != 0 and "Traceback" not in output, output[-3000:]
    assert f"last saved epoch is in {checkpoint}: run the same command" in output
    stdout = run_script(script, tmp_path / "out", *options)
    assert re.search(r"^Resuming from .*1-D.* after epoch \d+\.$", stdout, re.M)


@pytest.mark.parametrize("saved", [False, True])
def test_ctrl_c_says_whether_any_epoch_was_saved(common, monkeypatch, capsys, tmp_path, saved):
    """Stopped in a search or the extraction, nothing is in the folder to go on from."""
    from types import ModuleType, SimpleNamespace

    program = ModuleType("__main__")
    program.__file__ = "report_002_unet_tiles.py"
    monkeypatch.setitem(sys.modules, "__main__", program)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    checkpoint = tmp_path / "ck"
    if saved:
        (checkpoint / "net").mkdir(parents=True)
        (checkpoint / "net" / "checkpoint.pt").write_bytes(b"saved")
    args = SimpleNamespace(number="002", checkpoint=checkpoint, out=tmp_path, trials=3)
    common.explain_interruptions(args)
    sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    said = capsys.readouterr().err
    if saved:
        assert f"last saved epoch is in {checkpoint}" in said
    else:
        assert f"Interrupted before any net saved an epoch in {checkpoint}" in said


def test_report_003_resumes_only_its_own_run(tmp_path):
    """Its own restore compares what the net was trained with: never the old net, silently."""
    (script,) = (script for script in SCRIPTS if script.stem.startswith("report_003"))
    options = ["--epochs", "1", "--clips-per-genre", "3", "--checkpoint", str(tmp_path / "ck")]
    run_script(script, tmp_path / "out", *options)
    rerun = subprocess.run(
        [sys.executable, script.name, "--smoke", "--out", str(tmp_path / "out"), *options]
        + ["--epochs", "2", "--batch-size", "2"],
        cwd=script.parent,
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert rerun.returncode != 0
    assert "holds another run (its batch_size differ): give another folder" in rerun.stderr


def test_report_003_resumes_with_the_batch_size_it_chose(tmp_path):
    """Without --batch-size the size follows the memory free, which differs between runs."""
    (script,) = (script for script in SCRIPTS if script.stem.startswith("report_003"))
    options = ["--clips-per-genre", "3", "--checkpoint", str(tmp_path / "ck")]
    run_script(script, tmp_path / "out", *options, "--epochs", "1", "--batch-size", "2")
    stdout = run_script(script, tmp_path / "out", *options, "--epochs", "2")
    assert "batch size 2:" in stdout and "resuming after epoch 1" in stdout


@pytest.fixture
def common(monkeypatch):
    """The scripts' shared module, imported as they import it."""
    if not REPORTS.is_dir():
        pytest.skip("examples/reports is not there (installed package)")
    monkeypatch.syspath_prepend(str(REPORTS))
    import _reports_common

    return _reports_common


@pytest.mark.parametrize(
    "options, message",
    [
        (["--device", "gpu"], "device='gpu' is not a torch device"),
        (["--root", "fma", "--smoke"], "give --root or --smoke, not both"),
    ],
)
def test_options_that_cannot_run_are_refused_before_any_work(
    common, monkeypatch, capsys, options, message
):
    monkeypatch.setattr(sys, "argv", ["report_000_fma_baselines.py", *options])
    with pytest.raises(SystemExit):
        common.parse_args("000", "test")
    assert message in capsys.readouterr().err


def test_the_results_folder_expands_a_home_folder(common, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "argv", ["report_000_fma_baselines.py", "--smoke", "--out=~/res"])
    assert common.parse_args("000", "test").out == tmp_path / "res"
    assert (tmp_path / "res").is_dir()


def test_clips_per_genre_are_stratified_deterministic_and_nested(common, tmp_path):
    from types import SimpleNamespace

    from skfma.datasets import make_fma_like

    root = make_fma_like(tmp_path, n_clips=48, n_genres=4, duration=0.5, random_state=0)

    def load(n):
        return common.load_clips(root, SimpleNamespace(subset="small", clips_per_genre=n))

    everything, three, two = load(None), load(3), load(2)
    assert len(everything.track_ids) == 48
    counts = pd.crosstab(three.target, three.split)
    assert counts.to_numpy().max() == 3 and (counts > 0).all().all()
    assert set(two.track_ids) < set(three.track_ids)
    np.testing.assert_array_equal(load(3).track_ids, three.track_ids)
    for name in ("filenames", "target", "artist_ids", "split"):
        assert len(three[name]) == len(three.track_ids)
    assert list(three.tracks.index) == list(three.track_ids)


def test_search_epochs_counts_optunas_asynchronous_hyperband(common):
    # A single trial, first at each of its rungs, always goes on.
    assert common.search_epochs(1, 9) == 9 and common.search_epochs(1, 1) == 1
    # 3 trials of 9 epochs: 2 in bracket 0 (rungs 1, 3), 1 in bracket 1 (rung 3), none in 2:
    # 2 x 1 + 1.5 x 2 + 1.25 x 6 in bracket 0 (the second goes on with probability 1/2),
    # and 9: 21.5, against 27 trained in full.
    assert common.search_epochs(3, 9) == 22
    # Many trials: close to the synchronous count of Li et al. (2018), 69 epochs per 17
    # trials of 9 (brackets of 9, 5 and 3 trials: 9 + 3 x 2 + 6, 5 x 3 + 6, 3 x 9).
    assert 0.9 < common.search_epochs(1700, 9) / 6900 < 1.1
    # The reports' search: 49 trials of up to 30 epochs, about 433 epochs, not 49 x 30.
    assert common.search_epochs(49, 30) == 433


def test_the_run_clock_counts_parts_not_begun_at_the_mean_epoch_time(common):
    clock = common.RunClock({"fast": 2, "slow": 4})
    clock.seconds["fast"], clock.done["fast"] = 2.0, 1  # 2 s an epoch so far
    assert clock.seconds_left() == pytest.approx(1 * 2.0 + 4 * 2.0)
    clock.seconds["slow"], clock.done["slow"] = 10.0, 1
    assert clock.seconds_left() == pytest.approx(1 * 2.0 + 3 * 10.0)
    assert clock.status().startswith("[run] 2 of about 6 epochs in 12 s; about 32 s")


def test_the_run_clock_counts_a_part_not_begun_at_the_part_it_is_like(common):
    """The best CNN's fit is counted at its search's epoch time, not at the mean with an MLP's."""
    clock = common.RunClock({"MLP": 1, "search": 2, "best": 3}, like={"best": "search"})
    clock.seconds["MLP"], clock.done["MLP"] = 0.1, 1
    clock.seconds["search"], clock.done["search"] = 20.0, 1
    assert clock.seconds_left() == pytest.approx(1 * 20.0 + 3 * 20.0)
    clock.seconds["best"], clock.done["best"] = 30.0, 1  # its own time, once it has one
    assert clock.seconds_left() == pytest.approx(1 * 20.0 + 2 * 30.0)


def test_the_run_clock_leaves_out_a_part_unlike_the_others_until_it_is_timed(common):
    """Report 001: after the features MLP's epochs, its CNN's are not counted at the MLP's."""
    clock = common.RunClock(
        {"MLP": 2, "search": 4, "best": 3}, like={"best": "search"}, unlike=["search"]
    )
    clock.seconds["MLP"], clock.done["MLP"] = 0.2, 1
    assert math.isnan(clock.seconds_left())
    assert clock.status().endswith(
        "besides search and best (timed from their first epoch), about 0 s of training left"
    )
    clock.seconds["search"], clock.done["search"] = 20.0, 1
    assert clock.seconds_left() == pytest.approx(1 * 0.2 + 3 * 20.0 + 3 * 20.0)
    assert clock.status().endswith("about 2 min 00 s of training left")


class _Net:
    """What the clock reads of a net resumed after 3 of its 5 epochs, at its fourth: the three
    restored epochs and the current one in its history."""

    max_epochs, epochs_in_call_ = 5, 2
    history = [{"epoch": epoch} for epoch in (1, 2, 3, 4)]


def test_the_run_clock_counts_the_epochs_a_fit_resumed_from_its_checkpoint(common):
    """A net resumed after 3 of its 5 epochs leaves 1 to train after its first one here."""
    clock = common.RunClock({"net": 5})
    net = _Net()
    clock.epoch_done("net", time.perf_counter() - 2.0, net)
    clock.epoch_done("net", time.perf_counter() - 2.0, net)  # counted once per net
    assert clock.resumed["net"] == 3 and clock.done["net"] == 2
    assert clock.seconds_left() == 0
    assert clock.status().startswith("[run] 5 of about 5 epochs (3 resumed from checkpoints)")


def test_the_run_clock_counts_no_resumed_epoch_for_a_search_trial_trained_in_chunks(common):
    """Hyperband trains a trial with partial_fit a chunk of epochs at a time: its first chunk
    of one epoch (of max_epochs=10) resumed nothing."""
    from skfma.models import DNNClassifier

    clock = common.RunClock({"search": 20})
    X = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
    y = np.arange(16) % 2
    for _ in range(2):  # two trials, each one chunk of 1 epoch then one of 2
        net = DNNClassifier(
            module__hidden_layer_sizes=(4,),
            max_epochs=10,
            verbose=0,
            callbacks=clock.callbacks("search"),
        )
        net.partial_fit(X, y, epochs=1)
        net.partial_fit(X, y, epochs=2)
    assert clock.resumed["search"] == 0 and clock.done["search"] == 6


def test_the_run_clock_counts_epochs_a_script_restored_itself(common):
    """Report 003 restores its net itself, 2 of 10 epochs done: counted once, from its history.

    (The script once also told the clock of them, and the run counted them twice.)
    """
    clock = common.RunClock({"CRNN": 10})
    net = _Net()
    net.history = [{"epoch": epoch} for epoch in (1, 2, 3)]  # 2 restored, 1 trained here
    clock.epoch_done("CRNN", time.perf_counter() - 3.0, net)
    clock.fit_done("CRNN", net)  # a net's past counts once
    assert clock.seconds_left() == pytest.approx(7 * 3.0, rel=0.1)
    assert clock.status().startswith("[run] 3 of about 10 epochs (2 resumed from checkpoints)")


def test_the_run_clock_counts_a_fit_whose_checkpoint_held_every_epoch(common):
    """Run again after it finished, a net trains no epoch: its 4 count as resumed, none left."""
    clock = common.RunClock({"done": 4, "next": 2})
    net = _Net()
    clock.fit_done("done", net)
    clock.fit_done("done", net)  # counted once per net
    assert clock.resumed["done"] == 4 and clock.done["done"] == 0
    clock.resumed["next"] = 2  # and the next part too: nothing left, no epoch timed
    assert clock.seconds_left() == 0
    assert clock.status().startswith("[run] 6 of about 6 epochs (6 resumed from checkpoints)")
    assert "about 0 s of training left" in clock.status()


def test_the_run_clock_says_when_it_can_tell_the_time_left(common):
    """A rerun whose first net came whole from its checkpoint has timed no epoch yet."""
    clock = common.RunClock({"done": 4, "next": 2})
    clock.fit_done("done", _Net())
    assert clock.status() == (
        "[run] 4 of about 6 epochs (4 resumed from checkpoints) in 0 s; "
        "the training left is timed from this run's first epoch"
    )
    clock.epoch_done("next", time.perf_counter() - 3.0)
    assert "about 3 s of training left" in clock.status()


def test_a_saved_net_trains_on_without_its_run_clock(common):
    """Unpickled in another process, a report's net has no clock (or one without its part)."""
    import pickle

    from skfma.models import DNNClassifier

    X = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
    y = np.arange(16) % 2
    clock = common.RunClock({"net": 2})
    net = DNNClassifier(
        module__hidden_layer_sizes=(4,), max_epochs=2, verbose=0, callbacks=clock.callbacks("net")
    ).fit(X, y)
    saved = pickle.dumps(net)
    try:
        for current in (None, common.RunClock({"other": 3})):
            common.RunClock.current = current
            resumed = pickle.loads(saved).partial_fit(X, y)
            assert len(resumed.history) == 4
    finally:
        common.RunClock.current = None
    assert clock.done == {"net": 2}
