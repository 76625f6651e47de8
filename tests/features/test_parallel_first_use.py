"""Parallel feature extraction on a fresh numba cache: compiled once, before the workers start."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from skfma import AudioFeatures, AudioLoader, FMAFeatures
    from skfma.datasets import make_genre_clips

    paths, _ = make_genre_clips(4, n_genres=2, duration=1.0, sr=22050, directory={folder!r},
                                audio_format="wav")
    X = AudioLoader(duration=1.0).fit_transform(paths)
    alone = FMAFeatures(sr=22050).fit_transform(X)
    parallel = FMAFeatures(sr=22050, n_jobs=2, batch_size=1).fit_transform(X)
    np.testing.assert_allclose(parallel, alone)
    steps = [("load", AudioLoader(duration=1.0)), ("fma", FMAFeatures(sr=22050))]
    np.testing.assert_allclose(AudioFeatures(steps, n_jobs=2, batch_size=1).fit_transform(paths),
                               alone)
    print("ok")
    """
)


def test_parallel_features_on_a_fresh_numba_cache(tmp_path):
    """A fresh process and numba cache: FMAFeatures and AudioFeatures in 2 worker processes.

    Two workers compiling librosa's numba functions into an empty cache at once crashed
    with a segmentation fault; the parent computes the first clip (or the probe) first.
    """
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba_cache")}
    folder = tmp_path / "clips"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(folder=str(folder))],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]
    assert "leaked" not in result.stderr, result.stderr[-3000:]
