"""Ctrl-C during a parallel AudioFeatures run: a KeyboardInterrupt, and no alarming warnings."""

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


def test_an_interrupted_parallel_run_ends_without_leak_warnings(tmp_path):
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
    assert "leaked" not in err, err[-3000:]
