"""The skfma command line and the demo."""

import subprocess
import sys

import pytest

from skfma import run_demo
from skfma.cli import main


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
