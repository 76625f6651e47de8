"""extract_fma / ``skfma extract`` and load_extracted: a feature store of an FMA subset."""

import json
import os
import shutil

import librosa
import numpy as np
import pandas as pd
import pytest

from skfma import AudioLoader, FMAFeatures, MelSpectrogram, TemporalStatistics
from skfma.cli import main
from skfma.datasets import load_fma, make_fma_like
from skfma.exceptions import ParameterError
from skfma.pipeline import extract_fma, load_extracted
from skfma.pipeline._extract import STORE_FILES
from skfma.utils import files_digest


@pytest.fixture
def fma_root(tmp_path):
    """A fresh make_fma_like dataset of 12 half-second clips (the test may damage it)."""
    root = tmp_path / "fma"
    make_fma_like(root, n_clips=12, n_genres=3, duration=0.5, random_state=0)
    return root


def test_command_writes_a_store_that_loads_back(fma_root, tmp_path, capsys):
    out = tmp_path / "store"
    assert main(["extract", str(fma_root), "--out", str(out), "--features", "logmel-stats"]) == 0
    assert "logmel-stats features of 12 tracks, shape (12, 896)" in capsys.readouterr().out
    X, track_ids = load_extracted(out)
    fma = load_fma(fma_root)
    np.testing.assert_array_equal(track_ids, fma.track_ids)
    expected = TemporalStatistics().fit_transform(
        MelSpectrogram(n_mels=128).fit_transform(
            AudioLoader(sr=22050, duration=30.0).fit_transform(fma.filenames)
        )
    )
    np.testing.assert_array_equal(X, expected)
    index = pd.read_csv(out / "index.csv")
    assert list(index.columns) == ["track_id", "filename", "split", "genre_top", "failed", "reason"]
    assert list(index["genre_top"]) == list(fma.target) and not index["failed"].any()
    info = json.loads((out / "info.json").read_text())
    assert info["features"] == "logmel-stats" and info["shape"] == [12, 896]
    assert info["root"] == os.path.abspath(fma_root)
    assert info["sources"] == files_digest(fma.filenames, fma_root)


def test_logmel_store_is_memory_mapped_and_resumes(fma_root, tmp_path, decodes):
    out = tmp_path / "store"
    X, _ = extract_fma(fma_root, out, features="logmel", batch_size=4)
    assert X.shape == (12, 128, 1292) and isinstance(X, np.memmap)
    decodes["n"] = 0
    for name in STORE_FILES:  # as if the run had been interrupted before the end
        os.remove(out / name)
    again, _ = extract_fma(fma_root, out, features="logmel")
    assert decodes["n"] == 0
    np.testing.assert_array_equal(again, X)


def test_a_failed_file_is_a_zero_row_marked_in_the_index(fma_root, tmp_path):
    fma = load_fma(fma_root)
    os.remove(fma.filenames[3])
    out = tmp_path / "store"
    with pytest.warns(UserWarning, match="1 of 12 tracks .* could not be decoded"):
        X, track_ids = extract_fma(fma_root, out, features="logmel-stats")
    assert len(X) == 12 and not X[3].any() and X[[0, 4]].any()
    index = pd.read_csv(out / "index.csv", keep_default_na=False)
    assert list(index["failed"]) == [row == 3 for row in range(12)]
    assert index.loc[3, "reason"] and index.loc[3, "track_id"] == track_ids[3]


def test_a_store_of_mixed_extractions_is_refused(fma_root, tmp_path):
    out = tmp_path / "store"
    extract_fma(fma_root, out, features="logmel-stats")
    np.save(out / "features.npy", np.zeros((12, 5)))  # as if another run had replaced it
    with pytest.raises(ParameterError, match="parts of different extractions"):
        load_extracted(out)
    os.remove(out / "info.json")  # an extraction that did not finish
    with pytest.raises(ParameterError, match="not a feature store"):
        load_extracted(out)
    assert not list(out.glob("*.tmp"))


def test_the_fma_set_is_computed_at_the_rate_of_the_released_features(
    fixtures_dir, fma_mp3, tmp_path
):
    """The released features.csv was computed at each clip's native rate, 44.1 kHz here."""
    with pytest.warns(UserWarning, match="could not be decoded"):  # the excerpt's other tracks
        X, track_ids = extract_fma(fixtures_dir / "fma", tmp_path / "store", features="fma")
    row = X[list(track_ids).index(2)]
    waveform = AudioLoader(sr=44100, duration=30.0).fit_transform([fma_mp3])
    np.testing.assert_array_equal(row, FMAFeatures(sr=44100).fit_transform(waveform)[0])
    # The recipe's own decoding (librosa.load(sr=None), no padding): the store differs only
    # through the 23 ms of zeros that pad the 29.977 s clip to 30 s. At 22,050 Hz the
    # median feature differs by about 19% (measured on this clip).
    native, sr = librosa.load(fma_mp3, sr=None, mono=True)
    recipe = FMAFeatures(sr=sr).fit_transform(native[None])[0]
    difference = np.abs(row - recipe) / np.maximum(np.abs(recipe), 1e-8)
    assert sr == 44100 and np.median(difference) < 2e-3


def test_the_command_sets_the_rate(fma_root, tmp_path):
    out = tmp_path / "store"
    command = ["extract", str(fma_root), "--out", str(out), "--features", "fma", "--sr", "22050"]
    assert main(command) == 0
    info = json.loads((out / "info.json").read_text())
    assert info["steps"] == [repr(AudioLoader(sr=22050.0)), repr(FMAFeatures(sr=22050.0))]
    X, _ = load_extracted(out)
    waveforms = AudioLoader(sr=22050).fit_transform(load_fma(fma_root).filenames)
    np.testing.assert_array_equal(X, FMAFeatures(sr=22050).fit_transform(waveforms))
    assert main(["extract", str(fma_root), "--out", str(out), "--sr", "0", "--overwrite"]) == 1


def test_load_extracted_refuses_what_is_not_a_store(tmp_path):
    with pytest.raises(ParameterError, match="not a feature store"):
        load_extracted(tmp_path)


def test_unknown_feature_set_is_refused_before_any_work(fma_root, tmp_path):
    with pytest.raises(ParameterError, match="features must be one of"):
        extract_fma(fma_root, tmp_path / "store", features="chroma")
    with pytest.raises(SystemExit):
        main(["extract", str(fma_root), "--out", str(tmp_path), "--features", "chroma"])


def test_a_subset_without_tracks_is_refused_naming_it(fma_root, tmp_path, capsys):
    tracks = fma_root / "fma_metadata" / "tracks.csv"
    tracks.write_text(tracks.read_text().replace(",small,", ",large,"))  # no small track left
    with pytest.raises(ParameterError, match="subset='small': the tracks.csv of .* lists no"):
        extract_fma(fma_root, tmp_path / "store")
    assert main(["extract", str(fma_root), "--out", str(tmp_path / "store")]) != 0
    assert "lists no track of it" in capsys.readouterr().err


def test_a_folder_holding_a_store_is_refused_unless_told_to_overwrite(fma_root, tmp_path, capsys):
    out = tmp_path / "store"
    out.mkdir()
    (out / "index.csv").write_text("a user's own index\n")
    with pytest.raises(ParameterError, match=r"out=.*store' already holds index.csv.*overwrite"):
        extract_fma(fma_root, out, features="logmel-stats")
    assert (out / "index.csv").read_text() == "a user's own index\n"
    with pytest.raises(ParameterError, match="overwrite must be True or False; got 1"):
        extract_fma(fma_root, out, features="logmel-stats", overwrite=1)
    assert main(["extract", str(fma_root), "--out", str(out), "--features", "logmel-stats"]) == 1
    assert "already holds index.csv" in capsys.readouterr().err
    X, _ = extract_fma(fma_root, out, features="logmel-stats", overwrite=True)
    assert main(["extract", str(fma_root), "--out", str(out), "--overwrite"]) == 0
    assert load_extracted(out)[0].shape == (12, 128, 1292)  # the other feature set replaced it


def test_folders_expand_the_home_folder(fma_root, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    X, _ = extract_fma(fma_root, "~/store", features="logmel-stats")
    assert (tmp_path / "store" / "info.json").exists() and not os.path.exists("~")
    np.testing.assert_array_equal(load_extracted("~/store")[0], X)


@pytest.mark.parametrize("out", ["", 3])
def test_an_empty_or_non_path_folder_is_refused(fma_root, out):
    with pytest.raises(ParameterError, match="out must"):
        extract_fma(fma_root, out, features="logmel-stats")


@pytest.fixture(scope="module")
def finished_store(tmp_path_factory):
    """A finished logmel-stats store, to copy and damage."""
    folder = tmp_path_factory.mktemp("finished")
    make_fma_like(folder / "fma", n_clips=12, n_genres=3, duration=0.5, random_state=0)
    extract_fma(folder / "fma", folder / "store", features="logmel-stats")
    return folder / "store"


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda out: truncate(out / "features.npy"), r"cannot read .*features.npy"),
        (lambda out: (out / "features.npy").write_bytes(b"not numpy"), r"cannot read .*features"),
        (lambda out: (out / "index.csv").write_text(""), r"cannot read .*index.csv.*EmptyData"),
        (
            lambda out: (
                pd.read_csv(out / "index.csv")
                .drop(columns="failed")
                .to_csv(out / "index.csv", index=False)
            ),
            r"index.csv' lacks the column\(s\) failed",
        ),
        (
            lambda out: pd.read_csv(out / "index.csv").head(0).to_csv(out / "index.csv"),
            r"index.csv' lists no tracks",
        ),
        (
            lambda out: (
                pd.read_csv(out / "index.csv")
                .assign(failed="maybe")
                .to_csv(out / "index.csv", index=False)
            ),
            r"'failed' column must be True/False",
        ),
        (lambda out: (out / "info.json").write_text("{not json"), r"info.json.*JSONDecodeError"),
        (lambda out: (out / "info.json").write_text("{}"), r"info.json' has no 'shape'"),
        (lambda out: (out / "info.json").write_text("[1, 2]"), r"info.json' has no 'shape'"),
    ],
)
@pytest.mark.parametrize("mmap_mode", ["r", None])
def test_a_damaged_store_is_refused_naming_the_file(
    finished_store, tmp_path, damage, match, mmap_mode
):
    out = tmp_path / "store"
    shutil.copytree(finished_store, out)
    damage(out)
    with pytest.raises(ParameterError, match=match):
        load_extracted(out, mmap_mode=mmap_mode)
