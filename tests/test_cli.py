"""The skfma command line and the demo."""

import io
import json
import re
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_pipeline

from skfma import AudioLoader, ChoiCRNN, MelSpectrogram, run_demo
from skfma._demo import N_FFT, N_FOLDS, SR
from skfma.cli import main
from skfma.datasets import GENRE_STYLES, make_genre_clips
from skfma.datasets._fma_like import _artists_and_splits
from skfma.exceptions import ParameterError
from skfma.models import predict_tags


def test_python_m_skfma_help():
    result = subprocess.run(
        [sys.executable, "-m", "skfma", "demo", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "--n-clips" in result.stdout


def test_unknown_command_fails():
    with pytest.raises(SystemExit) as info:
        main(["nonsense"])
    assert info.value.code == 2


def test_demo_end_to_end(tmp_path):
    lines = []
    result = run_demo(tmp_path, n_clips=24, n_genres=3, duration=1.0, print_fn=lines.append)
    output = "\n".join(lines)
    assert "Cross-validation results" in output and "Test accuracy" in output
    assert result["test_accuracy"] > 0.6
    assert result["confusion_matrix"].to_numpy().sum() == 12
    assert (tmp_path / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    again = []
    run_demo(tmp_path, n_clips=24, n_genres=3, duration=1.0, print_fn=again.append)
    assert "Reusing 24 clips" in again[0]
    other = []
    run_demo(tmp_path, n_clips=24, n_genres=3, duration=1.5, print_fn=other.append)
    assert "Writing 24 synthetic 1.5 s" in other[0]


def test_demo_command(tmp_path, capsys):
    assert (
        main(
            [
                "demo",
                "--output-dir",
                str(tmp_path),
                "--n-clips",
                "14",  # the fewest clips and the shortest duration the demo accepts
                "--n-genres",
                "2",
                "--duration",
                str(N_FFT / SR),
            ]
        )
        == 0
    )
    assert "Test accuracy" in capsys.readouterr().out


@pytest.fixture(scope="module")
def saved_tagger(tmp_path_factory):
    """Clip paths, a fitted AudioLoader -> MelSpectrogram -> ChoiCRNN tagger, and its file."""
    directory = tmp_path_factory.mktemp("tagger")
    paths, genres = make_genre_clips(
        12, n_genres=2, duration=1.0, sr=8000, directory=directory, audio_format="wav"
    )
    tags = pd.DataFrame({"calm": genres == "Classical", "beat": genres != "Classical"}, dtype=int)
    pipe = make_pipeline(
        AudioLoader(sr=8000, duration=1.0),
        MelSpectrogram(sr=8000, n_fft=256, hop_length=128, n_mels=16),
        ChoiCRNN(module__filters=(4, 4, 4, 4), max_epochs=2, batch_size=4, random_state=0),
    ).fit(paths, tags)
    model = directory / "model.joblib"
    joblib.dump(pipe, model)
    return paths, pipe, model


def test_tag_command_on_a_saved_pipeline(saved_tagger, capsys):
    paths, pipe, model = saved_tagger
    assert main(["tag", paths[0], paths[1], "--model", str(model), "--top-k", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == paths[0] and lines[2] == paths[1]
    expected = predict_tags(pipe, paths[:2], top_k=1)
    for line, [(name, score)] in zip(lines[1::2], expected, strict=True):
        assert line.split() == [name, f"{score:.3f}"]
    main(["tag", paths[0], "--model", str(model), "--top-k", "1", "--no-prior"])
    [[(name, score)]] = predict_tags(pipe, paths[:1], top_k=1, divide_by_prior=False)
    out = capsys.readouterr().out.splitlines()
    assert out == [paths[0], f"  {name:<24} {score:8.3f}"]


def test_tag_command_uses_pretrained_musicnn_without_a_model(fixtures_dir, capsys):
    wav = fixtures_dir / "musicnn" / "vibe_ace_16k_30s.wav"
    reference = json.loads((fixtures_dir / "musicnn" / "reference.json").read_text())
    assert main(["tag", str(wav), "--top-k", "5", "--musicnn", "MTT_musicnn"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(wav)
    assert [line[:26].strip() for line in lines[1:]] == reference[wav.name]["MTT_musicnn"]["top5"]


def _one_line_error(capsys, command, match):
    """The reported error: one stderr line ``skfma COMMAND: error: ...`` matching ``match``."""
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert line.startswith(f"skfma {command}: error: ") and "Traceback" not in captured.err
    assert re.search(match, line), line
    return captured.out


@pytest.fixture
def bad_inputs(tmp_path, saved_tagger):
    """Files for the user-error cases: a plain file, a corrupt model, wrong kinds of model."""
    _, pipe, _ = saved_tagger
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "corrupt.joblib").write_bytes(b"\x80\x04 not a pickle" * 10)
    buffer = io.BytesIO()
    joblib.dump(pipe, buffer)
    (tmp_path / "truncated.joblib").write_bytes(buffer.getvalue()[:200])
    joblib.dump({"not": "a model"}, tmp_path / "dict.joblib")
    joblib.dump(pipe[-1], tmp_path / "bare_net.joblib")
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2
    joblib.dump(make_pipeline(LogisticRegression()).fit(X, y), tmp_path / "sklearn.joblib")
    joblib.dump(make_pipeline(AudioLoader(), ChoiCRNN()), tmp_path / "unfitted.joblib")
    fma = tmp_path / "fma" / "fma_metadata"
    fma.mkdir(parents=True)
    (fma / "tracks.csv").write_text(",set\n,split\ntrack_id,\n2,training\n")
    (tmp_path / "fma" / "fma_small").mkdir()
    return tmp_path


USER_ERRORS = {
    "tag: missing model": (
        ["tag", "x.wav", "--model", "{d}/none.joblib"],
        r"model file not found: .*none\.joblib",
    ),
    "tag: corrupt model": (
        ["tag", "x.wav", "--model", "{d}/corrupt.joblib"],
        r"cannot load the model .*corrupt\.joblib",
    ),
    "tag: truncated model": (
        ["tag", "x.wav", "--model", "{d}/truncated.joblib"],
        r"cannot load the model .*truncated\.joblib",
    ),
    "tag: a dict": (
        ["tag", "x.wav", "--model", "{d}/dict.joblib"],
        r"is a dict, not a fitted Pipeline",
    ),
    "tag: a bare net": (
        ["tag", "x.wav", "--model", "{d}/bare_net.joblib"],
        r"is a ChoiCRNN, not a fitted Pipeline",
    ),
    "tag: an sklearn model": (
        ["tag", "x.wav", "--model", "{d}/sklearn.joblib"],
        r"is a Pipeline, not a fitted Pipeline .* skfma classifier",
    ),
    "tag: an unfitted model": (
        ["tag", "x.wav", "--model", "{d}/unfitted.joblib"],
        r"not a fitted Pipeline",
    ),
    "tag: --top-k 0": (
        ["tag", "x.wav", "--top-k", "0"],
        r"--top-k must be a positive integer; got 0",
    ),
    "demo: 1 genre": (["demo", "--n-genres", "1"], r"n_genres must be an int from 2 to 8; got 1"),
    "demo: 9 genres": (["demo", "--n-genres", "9"], r"n_genres must be an int from 2 to 8; got 9"),
    "demo: too few clips": (
        ["demo", "--n-genres", "2", "--n-clips", "13"],
        r"n_clips must be at least 7 per genre \(14 .*got 13",
    ),
    "demo: no clips": (["demo", "--n-clips", "0"], r"n_clips must be a positive integer"),
    "demo: too short": (["demo", "--duration", "0.09"], r"duration must be at least 0\.0929 s"),
    "demo: NaN duration": (["demo", "--duration", "nan"], r"duration must be a finite number"),
    "demo: --n-jobs 0": (["demo", "--n-jobs", "0"], r"n_jobs must be None or a non-zero integer"),
    "demo: negative seed": (
        ["demo", "--random-state", "-1"],
        r"random_state must be an int from 0",
    ),
    "demo: output under a file": (
        [
            "demo",
            "--n-clips",
            "14",
            "--n-genres",
            "2",
            "--duration",
            "0.1",
            "--output-dir",
            "{d}/a_file/out",
        ],
        r"Not a directory: .*a_file",
    ),
    "extract: missing root": (
        ["extract", "{d}/nowhere", "--out", "{d}/out"],
        r"no FMA metadata in .*nowhere",
    ),
    "extract: malformed tracks.csv": (
        ["extract", "{d}/fma", "--out", "{d}/out"],
        r"metadata file .*tracks\.csv.*header rows|required column",
    ),
    "extract: output under a file": (
        ["extract", "{d}/fma", "--out", "{d}/a_file/out"],
        r"cannot write to the output folder .*a_file/out.* \(--out\): Not a directory",
    ),
    "extract: --batch-size 0": (
        ["extract", "{d}/fma", "--out", "{d}/out", "--batch-size", "0"],
        r"batch_size|required column",
    ),
}


@pytest.mark.parametrize("case", sorted(USER_ERRORS))
def test_user_errors_print_one_line(bad_inputs, capsys, case):
    argv, match = USER_ERRORS[case]
    argv = [arg.format(d=bad_inputs) for arg in argv]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(argv) == 1
    assert _one_line_error(capsys, argv[0], match) == ""


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(tmp_path, capsys, where):
    argv = ["demo", "--n-genres", "1", "--output-dir", str(tmp_path)]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and "ParameterError" in err
    assert err.splitlines()[-1].startswith("skfma demo: error: run_demo: n_genres must be")
    assert main(["tag", str(tmp_path / "none.wav"), "--debug"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("Traceback") and "AudioDecodeError" in err[-3]
    assert err[-2].startswith("skfma tag: error: cannot decode audio file")


def test_bad_option_syntax_is_argparse_usage(capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--n-clips", "many"])
    assert info.value.code == 2
    assert "invalid int value: 'many'" in capsys.readouterr().err


def test_tag_goes_on_after_bad_files(saved_tagger, tmp_path, capsys):
    paths, pipe, model = saved_tagger
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF not really" * 50)
    missing = str(tmp_path / "missing.wav")
    files = [paths[0], missing, str(corrupt), paths[1]]
    assert main(["tag", *files, "--model", str(model), "--top-k", "1"]) == 1
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    expected = predict_tags(pipe, paths[:2], top_k=1)
    assert out[0::2] == [paths[0], paths[1]]
    assert [line.split()[0] for line in out[1::2]] == [name for [(name, _)] in expected]
    err = captured.err.splitlines()
    assert len(err) == 3 and "Traceback" not in captured.err
    assert "missing.wav" in err[0] and "corrupt.wav" in err[1]
    assert err[2] == "skfma tag: error: 2 of 4 files could not be tagged."


def test_musicnn_tag_goes_on_after_a_bad_file(tone_file, tmp_path, capsys):
    good = str(tone_file(sr=16000, seconds=3.5))
    assert main(["tag", str(tmp_path / "missing.wav"), good, "--top-k", "2"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == good and len(captured.out.splitlines()) == 3
    assert len(captured.err.splitlines()) == 2


def _folds_train_every_genre(n_clips, n_genres, seed):
    """Whether the demo's artist-grouped folds of make_fma_like's training split hold every
    genre in every fold's training part (the splitting of make_fma_like and run_demo)."""
    genres = np.arange(n_clips) % n_genres  # make_genre_clips deals genres round-robin
    artists, splits = _artists_and_splits(genres, 2, np.random.RandomState(seed))
    train = splits == "training"
    if train.all() or len(set(genres[~train])) < n_genres:
        return False
    y, groups = genres[train], artists[train]
    folds = StratifiedGroupKFold(n_splits=N_FOLDS, shuffle=True, random_state=seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return all(len(set(y[fit])) == n_genres for fit, _ in folds.split(y, y, groups))
    except ValueError:  # too few groups or members for the folds
        return False


class _Accepted(Exception):
    """Raised in place of making the demo's dataset: the sizes passed every check."""


@pytest.mark.parametrize("n_genres", range(2, len(GENRE_STYLES) + 1))
def test_demo_accepts_exactly_the_usable_sizes(n_genres, tmp_path, monkeypatch):
    def accepted(*args):
        raise _Accepted

    monkeypatch.setattr("skfma._demo._make_or_reuse_dataset", accepted)
    for n_clips in range(1, 7 * n_genres + 25):
        usable = all(_folds_train_every_genre(n_clips, n_genres, seed) for seed in range(4))
        with pytest.raises((ParameterError, _Accepted)) as info:
            run_demo(tmp_path / "never", n_clips=n_clips, n_genres=n_genres)
        assert (info.type is _Accepted) == usable, (n_clips, n_genres, str(info.value))
        if not usable:
            assert "n_clips" in str(info.value)
    assert not (tmp_path / "never" / "fma_like").exists()


def test_benchmark_list_names_every_pipeline(capsys):
    assert main(["benchmark", "--list"]) == 0
    printed = capsys.readouterr().out
    for name in ("fma-mfcc+contrast-svm", "musicnn+fma-lr", "kostrzewa-cnn"):
        assert name in printed


def test_benchmark_smoke_runs_end_to_end(tmp_path, capsys):
    """The built-in pipelines and one net, on make_fma_like data: the CI's smoke run."""
    out = tmp_path / "bench"
    assert (
        main(["benchmark", "--smoke", "--out", str(out), "--pipelines", "default", "kostrzewa-cnn"])
        == 0
    )
    table = pd.read_csv(out / "results.csv", index_col=0)
    assert len(table) == 30 and table["accuracy"].between(0, 1).all()
    assert table.loc["kostrzewa-cnn", "published_accuracy"] == 0.3975
    assert (out / "results.md").exists()
    assert "musicnn+fma-lr" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        (["benchmark", "--out", "{tmp}"], "give the FMA folder ROOT, or --smoke"),
        (["benchmark", "--smoke", "{tmp}/fma", "--out", "{tmp}"], "give the FMA folder ROOT"),
        (
            ["benchmark", "--smoke", "--pipelines", "nonsense", "--out", "{tmp}"],
            "unknown benchmark pipeline 'nonsense'",
        ),
        (["benchmark", "--smoke", "--device", "gpu", "--out", "{tmp}"], "device"),
    ],
)
def test_benchmark_user_errors_are_one_line(arguments, match, tmp_path, capsys):
    arguments = [argument.format(tmp=tmp_path) for argument in arguments]
    assert main(arguments) == 1
    error = capsys.readouterr().err
    assert error.startswith("skfma benchmark: error: ") and len(error.splitlines()) == 1
    assert re.search(match, error)
