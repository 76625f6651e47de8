"""Ctrl-C during a parallel AudioFeatures run: a KeyboardInterrupt, and no resource left behind."""

import ast
import re
import signal
import subprocess
import sys
import textwrap
import time

SCRIPT = textwrap.dedent(
    """
    import os, signal, time
    # Ctrl-C raises KeyboardInterrupt, as in a terminal (a test runner's worker may have
    # started this process with SIGINT ignored, which Python would then keep).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from sklearn.preprocessing import FunctionTransformer
    from skfma import AudioFeatures, AudioLoader
    from skfma.datasets import make_genre_clips

    parent = os.getpid()

    def slow(X):  # a second a clip: 24 clips take 12 s on 2 workers, whatever the CPU
        if os.getpid() != parent:  # a worker is computing: the test may interrupt now
            open({started!r}, "a").close()
        time.sleep(1.0)
        return X

    paths, _ = make_genre_clips(24, n_genres=2, duration=0.5, sr=8000, directory={folder!r},
                                audio_format="wav")
    steps = [("load", AudioLoader(sr=8000, duration=0.5)), ("slow", FunctionTransformer(slow))]
    print("start", flush=True)
    AudioFeatures(steps, n_jobs=2, batch_size=1).fit_transform(paths)
    print("finished", flush=True)
    """
)


def test_an_interrupted_parallel_run_leaves_nothing_behind(tmp_path):
    started = tmp_path / "a worker started"
    script = SCRIPT.format(folder=str(tmp_path / "clips"), started=str(started))
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "start"
    # Interrupted while the workers compute, not while the pool starts (another code path).
    while not started.exists() and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert "finished" not in out, "the run ended before it could be interrupted"
    assert "KeyboardInterrupt" in err
    assert not resources_left_behind(err), err[-3000:]
    # Any other mention of a leak (not the tracker's report parsed above) fails too.
    assert err.count("leaked") == len(TRACKER_REPORT.findall(err)), err[-3000:]


#: loky's resource tracker's report, at shutdown, of the resources it still holds. joblib 1.6
#: reports a semaphore that the parent did unlink, but whose unregistration the tracker missed,
#: about once in 50-60 interrupted runs without skfma (``Parallel(n_jobs=2,
#: return_as="generator")`` of tasks that import torch, SIGINT 0.5-4 s after the start); its
#: second unlink then fails with FileNotFoundError: nothing is left behind.
TRACKER_REPORT = re.compile(r"leaked \w+ objects to clean up at shutdown: (\{[^}]*\})")


def resources_left_behind(err):
    """The resources loky's tracker reports leaked at shutdown that still existed then.

    Parameters
    ----------
    err : str
        The interrupted process's standard error.

    Returns
    -------
    names : list of str
        Every reported name but those the tracker then failed to remove with
        ``FileNotFoundError`` (already removed by their owner).
    """
    names = [name for found in TRACKER_REPORT.findall(err) for name in ast.literal_eval(found)]
    return [name for name in names if f"{name}: FileNotFoundError" not in err]


def test_a_leak_report_of_an_existing_resource_is_caught():
    """The check above ignores only what was already gone."""
    gone = (
        "UserWarning: resource_tracker: There appear to be 1 leaked semlock objects to clean up "
        "at shutdown: {'/loky-1-ab': 1}\n"
        "UserWarning: resource_tracker: /loky-1-ab: FileNotFoundError(2, 'No such file')\n"
    )
    assert resources_left_behind(gone) == []
    left = gone.replace("FileNotFoundError", "OSError")
    assert resources_left_behind(left) == ["/loky-1-ab"]
    folder = "There appear to be 1 leaked folder objects to clean up at shutdown: {'/dev/shm/x': 1}"
    assert resources_left_behind(folder) == ["/dev/shm/x"]
