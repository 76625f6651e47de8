"""run_benchmark: feature sets extracted once, pipelines fitted and tested, results resumable."""

import csv
import json
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skfma.benchmark import BenchmarkPipeline, run_benchmark
from skfma.benchmark._run import RESULTS_DIR
from skfma.exceptions import ParameterError, SkfmaError
from skfma.pipeline import load_extracted


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """A smoke run's data and its 'fma' store, made once for the module's tests."""
    out = tmp_path_factory.mktemp("benchmark")
    run_benchmark(smoke=True, out=out, pipelines=["fma-mfcc-lr"], verbose=0)
    return out


@pytest.fixture
def out(prepared, tmp_path):
    """A fresh output folder holding the prepared data and store, but no results."""
    folder = tmp_path / "out"
    for part in ("smoke-data", "features"):
        shutil.copytree(prepared / part, folder / part)
    return folder


def _spec(estimator, **settings):
    return BenchmarkPipeline(make_pipeline(StandardScaler(), estimator), "fma", **settings)


def test_a_users_pipeline_runs_beside_a_built_in_one_on_the_same_clips(out):
    result = run_benchmark(
        smoke=True,
        out=out,
        pipelines={"fma-all-lr": None, "mine": _spec(DummyClassifier(strategy="prior"))},
        verbose=0,
    )
    table = result.table
    assert list(table.index) == ["fma-all-lr", "mine"]  # best accuracy first
    assert table["n_test"].nunique() == 1 and table["n_training"].nunique() == 1
    X, _ = load_extracted(out / "features" / "fma")
    index = pd.read_csv(out / "features" / "fma" / "index.csv")
    assert table.loc["mine", "n_test"] == (index["split"] == "test").sum()
    assert table.loc["mine", "n_training"] == (index["split"] == "training").sum()
    # The prior's accuracy is the test split's share of the training split's majority genre.
    train, test = index[index["split"] == "training"], index[index["split"] == "test"]
    majority = train["genre_top"].value_counts().sort_index().idxmax()
    assert table.loc["mine", "accuracy"] == pytest.approx((test["genre_top"] == majority).mean())
    for column in ("accuracy", "balanced_accuracy", "f1_macro", "top_3_accuracy"):
        assert 0 <= table.loc["fma-all-lr", column] <= 1
    assert (
        (table[["fit_seconds", "extraction_seconds_per_clip", "peak_memory_mib"]] > 0).all().all()
    )
    assert set(result.per_class_f1.columns) == set(index["genre_top"])
    written = pd.read_csv(out / "results.csv", index_col=0)
    assert list(written.index) == list(table.index)
    markdown = (out / "results.md").read_text()
    assert "| mine |" in markdown and "F1 per genre" in markdown
    assert X.shape[1] == 518


def test_a_grid_is_tuned_on_the_validation_split_and_refitted_on_training(out):
    grid = {"logisticregression__C": [1e-6, 1.0]}
    spec = _spec(LogisticRegression(max_iter=1000), param_grid=grid)
    result = run_benchmark(smoke=True, out=out, pipelines={"tuned": spec}, verbose=0)
    saved = json.loads((out / RESULTS_DIR / "tuned.json").read_text())
    assert saved["best_params"] == {"logisticregression__C": "1.0"}
    assert result.table.loc["tuned", "best_params"] == "logisticregression__C=1.0"


def test_a_second_run_skips_finished_pipelines_and_reruns_changed_ones(out, capsys):
    pipelines = {"a": _spec(LogisticRegression()), "b": _spec(DummyClassifier())}
    run_benchmark(smoke=True, out=out, pipelines=pipelines, verbose=1)
    first = {name: (out / RESULTS_DIR / f"{name}.json").stat().st_mtime_ns for name in "ab"}
    capsys.readouterr()
    pipelines["b"] = _spec(DummyClassifier(strategy="uniform", random_state=0))
    run_benchmark(smoke=True, out=out, pipelines=pipelines, verbose=1)
    assert "1 done in a previous run, 1 to run" in capsys.readouterr().out
    assert (out / RESULTS_DIR / "a.json").stat().st_mtime_ns == first["a"]
    assert (out / RESULTS_DIR / "b.json").stat().st_mtime_ns != first["b"]


class _Broken(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("this classifier is broken")

    def predict(self, X):
        raise AssertionError("never fitted")


def test_a_failing_pipeline_is_reported_and_the_others_still_run(out, capsys):
    pipelines = {"broken": _spec(_Broken()), "fine": _spec(DummyClassifier())}
    result = run_benchmark(smoke=True, out=out, pipelines=pipelines, verbose=1)
    assert result.failed == {"broken": "RuntimeError: this classifier is broken"}
    assert list(result.table.index) == ["fine"]
    assert "broken FAILED: RuntimeError: this classifier is broken" in capsys.readouterr().out
    assert not (out / RESULTS_DIR / "broken.json").exists()  # retried by the next run


def test_a_changed_pipeline_that_fails_loses_its_old_result(out):
    pipelines = {"clf": _spec(DummyClassifier()), "fine": _spec(LogisticRegression())}
    run_benchmark(smoke=True, out=out, pipelines=pipelines, verbose=0)
    pipelines["clf"] = _spec(_Broken())
    result = run_benchmark(smoke=True, out=out, pipelines=pipelines, verbose=0)
    assert list(result.failed) == ["clf"] and list(result.table.index) == ["fine"]
    assert "clf" not in pd.read_csv(out / "results.csv")["pipeline"].tolist()


def test_a_run_whose_every_pipeline_fails_still_ends_with_an_empty_table(out):
    pytest.importorskip("matplotlib")
    run_benchmark(smoke=True, out=out, pipelines={"fine": _spec(DummyClassifier())}, verbose=0)
    assert (out / "accuracy_vs_cost.png").exists() and (out / "per_class_f1.png").exists()
    result = run_benchmark(smoke=True, out=out, pipelines={"broken": _spec(_Broken())}, verbose=0)
    assert list(result.failed) == ["broken"] and result.table.empty
    # The earlier run's figures are gone: none contradicts the empty table.
    assert (out / "results.md").exists() and not (out / "accuracy_vs_cost.png").exists()
    assert not (out / "per_class_f1.png").exists()


SCRIPT = textwrap.dedent(
    """
    import signal, sys, time
    from sklearn.dummy import DummyClassifier
    from skfma.benchmark import BenchmarkPipeline, run_benchmark

    signal.signal(signal.SIGINT, signal.default_int_handler)

    class SlowDummy(DummyClassifier):
        def fit(self, X, y):
            time.sleep(float(sys.argv[2]))
            return super().fit(X, y)

    pipelines = {name: BenchmarkPipeline(SlowDummy(), "fma") for name in ("p1", "p2", "p3")}
    run_benchmark(smoke=True, out=sys.argv[1], pipelines=pipelines)
    """
)


def test_a_killed_run_resumes_without_redoing_finished_pipelines(out, tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    run = subprocess.Popen([sys.executable, str(script), str(out), "3"], stdout=subprocess.PIPE)
    first = out / RESULTS_DIR / "p1.json"
    deadline = time.monotonic() + 300
    while not first.exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert first.exists() and not (out / RESULTS_DIR / "p3.json").exists()
    finished = {path.name: path.stat().st_mtime_ns for path in (out / RESULTS_DIR).glob("*.json")}
    again = subprocess.run(
        [sys.executable, str(script), str(out), "0"], capture_output=True, text=True, check=True
    )
    assert f"3 pipelines: {len(finished)} done in a previous run" in again.stdout
    for name, mtime in finished.items():
        assert (out / RESULTS_DIR / name).stat().st_mtime_ns == mtime
    table = pd.read_csv(out / "results.csv", index_col=0)
    assert sorted(table.index) == ["p1", "p2", "p3"]


def test_root_and_smoke_are_exclusive(out):
    with pytest.raises(ParameterError, match="smoke=True makes its own data"):
        run_benchmark(out / "smoke-data", smoke=True, out=out, pipelines=["fma-all-lr"])
    with pytest.raises(ParameterError, match="root is required"):
        run_benchmark(out=out, pipelines=["fma-all-lr"])
    with pytest.raises(ParameterError, match="smoke must be True or False; got 1"):
        run_benchmark(smoke=1, out=out, pipelines=["fma-all-lr"])


def test_a_store_of_another_recipe_is_refused(out):
    info_path = out / "features" / "fma" / "info.json"
    info = json.loads(info_path.read_text())
    info["steps"][1] = "FMAFeatures(sr=22050)"
    info_path.write_text(json.dumps(info))
    with pytest.raises(SkfmaError, match="holds features of another subset or recipe"):
        run_benchmark(smoke=True, out=out, pipelines=["fma-all-lr"], verbose=0)


def test_a_store_of_other_audio_files_is_refused(out, tmp_path):
    """A smoke run, then a run on another download with the same out: never the old clips."""
    from skfma.datasets import make_fma_like

    other = tmp_path / "other"
    make_fma_like(other, n_clips=30, n_genres=3, duration=2.0, random_state=5)
    with pytest.raises(SkfmaError, match="holds features of other audio files than the small"):
        run_benchmark(other, out=out, pipelines=["fma-mfcc-lr"], verbose=0)
    files = sorted((out / "smoke-data" / "fma_small").rglob("*.mp3"))
    with open(files[3], "ab") as file:  # the same download, one file changed since
        file.write(b"\0")
    with pytest.raises(SkfmaError, match="extracted from '.*smoke-data'"):
        run_benchmark(smoke=True, out=out, pipelines=["fma-mfcc-lr"], verbose=0)


def test_results_of_other_audio_files_are_not_reused(out, capsys):
    """After the refused store is deleted and extracted again, the pipelines run again too."""
    shutil.rmtree(out / "features")  # extracted here: its index names this folder's files
    run_benchmark(smoke=True, out=out, pipelines=["fma-mfcc-lr"], verbose=0)
    files = sorted((out / "smoke-data" / "fma_small").rglob("*.mp3"))
    first, second = files[3].read_bytes(), files[40].read_bytes()
    assert len(first) != len(second)
    files[3].write_bytes(second)  # two clips' audio swapped: the same tracks, decodable
    files[40].write_bytes(first)
    shutil.rmtree(out / "features")
    capsys.readouterr()
    run_benchmark(smoke=True, out=out, pipelines=["fma-mfcc-lr"], verbose=1)
    assert "0 done in a previous run, 1 to run" in capsys.readouterr().out


def test_undecodable_tracks_are_left_out_of_every_pipeline_and_said(out, capsys):
    shutil.rmtree(out / "features")
    files = sorted((out / "smoke-data" / "fma_small").rglob("*.mp3"))
    assert len(files) == 48
    files[0].write_bytes(b"not audio")
    with pytest.warns(UserWarning, match="1 of 48 tracks .* could not be decoded"):
        result = run_benchmark(smoke=True, out=out, pipelines=["fma-all-lr"], verbose=1)
    assert "1 tracks left out (undecodable, index.csv)" in capsys.readouterr().out
    row = result.table.iloc[0]
    assert row["n_training"] + row["n_validation"] + row["n_test"] == 47


def test_a_pipeline_needing_more_training_clips_is_skipped_with_the_reason(out, capsys):
    """The FMA paper's 200-neighbour k-NN failed on every small download, "to be retried"."""
    pipelines = {
        "needs-more": _spec(DummyClassifier(), min_training_clips=10_000),
        "fine": _spec(DummyClassifier()),
    }
    result = run_benchmark(out / "smoke-data", out=out, pipelines=pipelines, verbose=1)
    n_training = int(result.table.loc["fine", "n_training"])
    reason = f"needs at least 10000 training clips; the split has {n_training}"
    assert result.skipped == {"needs-more": reason} and result.failed == {}
    assert list(result.table.index) == ["fine"]
    assert f"needs-more skipped: {reason}" in capsys.readouterr().out
    smoke = run_benchmark(smoke=True, out=out, pipelines=pipelines, verbose=0)  # smoke runs all
    assert smoke.skipped == {} and "needs-more" in smoke.table.index


def test_the_fma_papers_knn_needs_its_200_neighbours():
    from skfma.benchmark._pipelines import _builtins

    assert _builtins()["fma-all-knn"].min_training_clips == 200
    assert _builtins()["fma-all-lr"].min_training_clips == 0
    with pytest.raises(ParameterError, match="min_training_clips"):
        _spec(DummyClassifier(), min_training_clips=-1)


def _move_tracks(root, move):
    """Rewrite the ('set', 'split') of tracks in ``root``'s tracks.csv: ``move(row) -> split``.

    The audio stays as it is, as after a corrected metadata release.
    """
    path = root / "fma_metadata" / "tracks.csv"
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    header = list(zip(rows[0], rows[1], strict=True))
    split, genre = header.index(("set", "split")), header.index(("track", "genre_top"))
    for row in rows[3:]:
        row[split] = move(int(row[0]), row[genre], row[split])
    with open(path, "w", newline="", encoding="utf-8") as file:
        csv.writer(file, lineterminator="\n").writerows(rows)


def test_splits_and_genres_come_from_tracks_csv_at_every_run(out, capsys):
    """A corrected tracks.csv counts, though the stores were extracted before it changed."""
    first = run_benchmark(smoke=True, out=out, pipelines=["fma-mfcc-lr"], verbose=0)
    index = pd.read_csv(out / "features" / "fma" / "index.csv")
    moved = int(index.loc[index["split"] == "training", "track_id"].iloc[0])
    _move_tracks(
        out / "smoke-data", lambda track, genre, split: "test" if track == moved else split
    )
    capsys.readouterr()
    second = run_benchmark(smoke=True, out=out, pipelines=["fma-mfcc-lr"], verbose=1)
    assert "0 done in a previous run, 1 to run" in capsys.readouterr().out
    before, after = first.table.loc["fma-mfcc-lr"], second.table.loc["fma-mfcc-lr"]
    assert after["n_test"] == before["n_test"] + 1
    assert after["n_training"] == before["n_training"] - 1


def test_a_genre_without_test_clips_has_no_f1_and_is_said(out, capsys):
    """Its F1 would be 0 for every pipeline, lowering every macro F1 alike."""
    index = pd.read_csv(out / "features" / "fma" / "index.csv")
    genre = sorted(index["genre_top"].unique())[0]
    _move_tracks(
        out / "smoke-data",
        lambda track, top, split: "validation" if top == genre and split == "test" else split,
    )
    result = run_benchmark(
        smoke=True, out=out, pipelines={"perfect": _spec(LogisticRegression())}, verbose=1
    )
    assert f"no test clip of {genre} (no F1 for them)" in capsys.readouterr().out
    row = result.per_class_f1.loc["perfect"]
    assert (
        genre not in row.index and row.notna().all() and len(row) == index.genre_top.nunique() - 1
    )
    assert result.table.loc["perfect", "f1_macro"] == pytest.approx(row.mean())


def test_a_split_without_tracks_is_refused_before_any_extraction(out):
    shutil.rmtree(out / "features")
    _move_tracks(
        out / "smoke-data", lambda track, genre, split: "validation" if split == "test" else split
    )
    with pytest.raises(SkfmaError, match="lists no track of the small subset's test split"):
        run_benchmark(smoke=True, out=out, pipelines=["fma-mfcc-lr"], verbose=0)
    assert not (out / "features").exists()


def test_the_device_reruns_only_the_pipelines_that_take_one(out, capsys):
    run_benchmark(smoke=True, out=out, pipelines=["fma-mfcc-lr"], verbose=0)
    capsys.readouterr()
    run_benchmark(smoke=True, out=out, pipelines=["fma-mfcc-lr"], device="cpu", verbose=1)
    assert "1 done in a previous run, 0 to run" in capsys.readouterr().out


def test_results_of_pipelines_not_chosen_are_named_not_shown(out, capsys):
    run_benchmark(smoke=True, out=out, pipelines=["fma-mfcc-lr"], verbose=0)
    capsys.readouterr()
    result = run_benchmark(smoke=True, out=out, pipelines=["fma-mfcc-svm"], verbose=1)
    assert list(result.table.index) == ["fma-mfcc-svm"]
    lines = capsys.readouterr().out.splitlines()
    assert any("pipelines not chosen in this run" in line for line in lines)
    assert any(line.endswith("name them to show them): fma-mfcc-lr") for line in lines)


def test_a_store_stopped_before_its_info_is_extracted_again(out):
    (out / "features" / "fma" / "info.json").unlink()  # killed before its last file
    result = run_benchmark(smoke=True, out=out, pipelines=["fma-mfcc-lr"], verbose=0)
    assert list(result.table.index) == ["fma-mfcc-lr"]
    assert (out / "features" / "fma" / "info.json").exists()


def test_a_damaged_result_file_runs_its_pipeline_again(out):
    run_benchmark(smoke=True, out=out, pipelines=["fma-mfcc-lr"], verbose=0)
    (out / RESULTS_DIR / "fma-mfcc-lr.json").write_text("[]")
    result = run_benchmark(smoke=True, out=out, pipelines=["fma-mfcc-lr"], verbose=0)
    assert list(result.table.index) == ["fma-mfcc-lr"]
    assert json.loads((out / RESULTS_DIR / "fma-mfcc-lr.json").read_text())["accuracy"] >= 0


def test_a_smoke_run_makes_the_small_subset_only(out):
    with pytest.raises(
        ParameterError, match="smoke=True makes a small subset; got subset='medium'"
    ):
        run_benchmark(smoke=True, subset="medium", out=out, pipelines=["fma-mfcc-lr"])
