"""The parameter-count table of docs/reproducing.rst: every row's net is built and counted."""

import re
from pathlib import Path

import pytest

from skfma import nn

PAGE = Path(__file__).resolve().parents[1] / "docs" / "reproducing.rst"


def table_rows():
    """``(report, net code, skfma count, published)`` of each row of the parameter counts' table."""
    if not PAGE.exists():  # an installed package without the repository's docs
        return []
    section = PAGE.read_text().split("Parameter counts\n----------------\n", 1)[1]
    table = section.split(".. list-table::", 1)[1]
    cells = re.findall(r"^ {3}[* ] - (.*)$", table, flags=re.MULTILINE)
    rows = [cells[i : i + 4] for i in range(0, len(cells), 4)]
    assert rows[0] == ["report", "net", "skfma", "published"]
    return rows[1:]


def count(text):
    return int(text.replace(",", ""))


def n_trainable(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


ROWS = table_rows()


def test_the_table_has_a_row_for_every_report():
    if not PAGE.exists():
        pytest.skip("docs/reproducing.rst is not there (installed package)")
    reports = {report for row in ROWS for report in re.findall(r"\d{3}", row[0])}
    assert reports == {"000", "001", "002", "003", "004"}


@pytest.mark.parametrize(("report", "code", "skfma", "published"), ROWS, ids=[r[1] for r in ROWS])
def test_parameter_count(report, code, skfma, published):
    module = eval(code.strip("`"), vars(nn))  # the page's own code, e.g. ``DNNModule(...)``
    assert n_trainable(module) == count(skfma)
    if published.endswith(" M"):  # "0.4 M": the paper's rounding to 0.1 million
        assert round(count(skfma) / 1e6, 1) == float(published[:-2])
    elif published != "\\-":
        assert count(skfma) == count(published)
