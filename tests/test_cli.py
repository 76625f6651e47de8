"""The skfma command line and the demo."""

import json
import subprocess
import sys

import joblib
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from skfma import AudioLoader, ChoiCRNN, MelSpectrogram, predict_tags, run_demo
from skfma.cli import main
from skfma.datasets import make_genre_clips


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
                "16",
                "--n-genres",
                "2",
                "--duration",
                "1",
            ]
        )
        == 0
    )
    assert "Test accuracy" in capsys.readouterr().out


def test_tag_command_on_a_saved_pipeline(tmp_path, capsys):
    paths, genres = make_genre_clips(
        12, n_genres=2, duration=1.0, sr=8000, directory=tmp_path, audio_format="wav"
    )
    tags = pd.DataFrame({"calm": genres == "Classical", "beat": genres != "Classical"}, dtype=int)
    pipe = make_pipeline(
        AudioLoader(sr=8000, duration=1.0),
        MelSpectrogram(sr=8000, n_fft=256, hop_length=128, n_mels=16),
        ChoiCRNN(module__filters=(4, 4, 4, 4), max_epochs=2, batch_size=4, random_state=0),
    ).fit(paths, tags)
    model = tmp_path / "model.joblib"
    joblib.dump(pipe, model)
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
