"""A search's checkpoint: an interrupted search goes on after its saved trials."""

import re
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from skfma.exceptions import CheckpointError, ParameterError
from skfma.model_selection import BayesianSearchCV, HyperbandSearchCV
from skfma.model_selection._journal import FILENAME
from skfma.model_selection._search import BaseOptunaSearchCV
from skfma.models import DNNClassifier

pytest.importorskip("optuna")

SPACE = {"lr": [3e-2, 1e-2, 1e-3], "module__hidden_layer_sizes": [(), (32,)]}

#: The three ways a search trains its trials: full fits, Hyperband's rungs, pruned TPE.
SEARCHES = {
    "hyperband": lambda **params: HyperbandSearchCV(
        DNNClassifier(max_epochs=9, batch_size=16), SPACE, **{"cv": 3, "n_trials": 8, **params}
    ),
    "bayesian": lambda **params: BayesianSearchCV(
        DNNClassifier(max_epochs=4, batch_size=16), SPACE, **{"cv": 3, "n_trials": 6, **params}
    ),
    "bayesian-pruned": lambda **params: BayesianSearchCV(
        DNNClassifier(batch_size=16),
        SPACE,
        **{"cv": 3, "n_trials": 6, "pruning": True, "max_epochs": 9, "n_startup_trials": 2}
        | params,
    ),
}


def _same_search(a, b):
    assert a.cv_results_["params"] == b.cv_results_["params"]
    for key in ("split0_test_score", "split2_test_score", "rank_test_score", "state"):
        np.testing.assert_array_equal(a.cv_results_[key], b.cv_results_[key])
    assert a.best_params_ == b.best_params_


@pytest.mark.parametrize("kind", list(SEARCHES))
def test_more_trials_go_on_from_the_saved_ones_as_an_uninterrupted_search(
    kind, circles, tmp_path, monkeypatch
):
    make = SEARCHES[kind]
    uninterrupted = make(random_state=0).fit(*circles)
    n_trials = make().n_trials
    make(random_state=0, checkpoint=tmp_path, n_trials=n_trials // 2).fit(*circles)
    resumed = make(random_state=0, checkpoint=tmp_path).fit(*circles)
    _same_search(resumed, uninterrupted)
    # Started again when finished: no trial trains; the refit net loads its saved epochs.
    for method in ("_run_trial", "_run_trial_by_epochs"):
        monkeypatch.setattr(BaseOptunaSearchCV, method, _never)
    again = make(random_state=0, checkpoint=tmp_path).fit(*circles)
    _same_search(again, uninterrupted)
    X, _ = circles
    np.testing.assert_array_equal(again.predict_proba(X), resumed.predict_proba(X))


def _never(*args, **kwargs):
    raise AssertionError("a saved trial trained again")


def test_without_random_state_the_saved_trials_are_kept(circles, tmp_path):
    make = SEARCHES["bayesian"]
    first = make(checkpoint=tmp_path, n_trials=3).fit(*circles)
    resumed = make(checkpoint=tmp_path).fit(*circles)
    assert resumed.cv_results_["params"][:3] == first.cv_results_["params"]
    np.testing.assert_array_equal(
        resumed.cv_results_["split1_test_score"][:3], first.cv_results_["split1_test_score"]
    )
    assert len(resumed.cv_results_["params"]) == 6


def test_the_folder_of_another_search_is_refused_naming_what_differs(circles, tmp_path):
    SEARCHES["bayesian"](random_state=0, checkpoint=tmp_path, n_trials=1).fit(*circles)
    other = SEARCHES["bayesian"](random_state=0, checkpoint=tmp_path)
    with pytest.raises(ParameterError, match=r"holds the trials of another search \(its data"):
        other.fit(circles[0][:90], circles[1][:90])
    other.set_params(param_distributions={"lr": [1e-2]})
    with pytest.raises(ParameterError, match="its param_distributions differs"):
        other.fit(*circles)
    (tmp_path / FILENAME).write_bytes(b"not a journal")
    with pytest.raises(CheckpointError, match=f"cannot read the search's journal .*{FILENAME}"):
        SEARCHES["bayesian"](random_state=0, checkpoint=tmp_path).fit(*circles)


SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import torch
    from sklearn.datasets import make_circles
    from skfma.model_selection import HyperbandSearchCV
    from skfma.models import DNNClassifier

    torch.set_num_threads(1)
    X, y = make_circles(120, noise=0.1, factor=0.4, random_state=0)
    search = HyperbandSearchCV(
        DNNClassifier(max_epochs=9, batch_size=16),
        {"lr": [3e-2, 1e-2, 1e-3], "module__hidden_layer_sizes": [(), (32,)]},
        cv=3, n_trials=8, random_state=0, checkpoint=sys.argv[1] if len(sys.argv) > 1 else None,
    ).fit(X.astype(np.float32), y)
    print(search.cv_results_["params"], list(search.cv_results_["mean_test_score"]))
    """
)


def test_a_killed_search_goes_on_after_its_saved_trials(tmp_path):
    import pickle

    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    folder = tmp_path / "search"
    child = subprocess.Popen([sys.executable, str(script), str(folder)])
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and child.poll() is None:
            try:
                with open(folder / FILENAME, "rb") as file:
                    if len(pickle.load(file)["records"]) >= 3:
                        break
            except (OSError, EOFError, pickle.UnpicklingError, KeyError):
                pass
            time.sleep(0.01)
        assert child.poll() is None, "the search ended before it could be killed"
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    with open(folder / FILENAME, "rb") as file:
        assert 3 <= len(pickle.load(file)["records"]) < 8
    run = [sys.executable, str(script)]
    resumed = subprocess.run([*run, str(folder)], capture_output=True, text=True, check=True)
    uninterrupted = subprocess.run(run, capture_output=True, text=True, check=True)
    assert resumed.stdout == uninterrupted.stdout


def test_a_space_of_scipy_distributions_is_the_same_search_in_another_process(circles):
    """A frozen distribution holds NumPy's global generator, whose state moves between runs."""
    from scipy.stats import loguniform

    from skfma.model_selection._journal import search_fingerprint

    search = BayesianSearchCV(DNNClassifier(), {"lr": loguniform(1e-4, 1e-2)})
    X, y = circles
    folds = [(np.arange(60), np.arange(60, 120))]
    before = search_fingerprint(search, X, y, folds)
    search.param_distributions["lr"].rvs(size=3)  # its generator moves on, as in another run
    assert search_fingerprint(search, X, y, folds) == before
    search.set_params(param_distributions={"lr": loguniform(1e-4, 1e-3)})
    assert search_fingerprint(search, X, y, folds) != before


def test_each_trial_line_says_the_time_left(circles, tmp_path, capsys):
    """A search that runs for hours says how long: the trials left at the mean trial's time."""
    make = SEARCHES["bayesian"]
    make(random_state=0, checkpoint=tmp_path, n_trials=2).fit(*circles)
    capsys.readouterr()
    make(random_state=0, checkpoint=tmp_path, n_trials=4, verbose=1).fit(*circles)
    lines = [line for line in capsys.readouterr().out.splitlines() if " trial " in line]
    assert lines[0].startswith("[BayesianSearchCV] going on after trial 2/4, saved in")
    assert "trial 1/4 (saved) complete, 4 epochs: score" in lines[1] and "left" not in lines[1]
    assert re.search(
        r"trial 3/4 complete, 4 epochs: score \d\.\d{4}; about \d\d:\d\d left", lines[3]
    )
    assert "left" not in lines[4]  # the last
