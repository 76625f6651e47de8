"""Every report script of examples/reports runs end to end at a tiny scale (--smoke)."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPORTS = Path(__file__).resolve().parents[1] / "examples" / "reports"
SCRIPTS = sorted(REPORTS.glob("report_*.py")) if REPORTS.is_dir() else []

pytest.importorskip("matplotlib")


def test_there_is_a_script_per_report():
    if not REPORTS.is_dir():
        pytest.skip("examples/reports is not there (installed package)")
    numbers = sorted(script.name[len("report_") :][:3] for script in SCRIPTS)
    assert numbers == ["000", "001", "002", "003", "004"]


@pytest.mark.parametrize("script", SCRIPTS, ids=[script.stem for script in SCRIPTS])
def test_smoke_run_writes_tables_figures_and_the_published_numbers(script, tmp_path):
    run = subprocess.run(
        [sys.executable, script.name, "--smoke", "--out", str(tmp_path)],
        cwd=script.parent,
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=900,  # a hung script fails its test instead of the whole run
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    published = pd.read_csv(tmp_path / "published_vs_this_run.csv", index_col=0)
    assert list(published.columns) == ["published", "this run"] and len(published)
    assert "published" in run.stdout  # printed beside this run's
    assert list(tmp_path.glob("*.md")) and list(tmp_path.glob("*.csv"))
    for figure in tmp_path.glob("*.png"):
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(tmp_path.glob("*.png"))
