"""write_atomically: a file is replaced whole or left as it was."""

import pytest

from skfma.utils import write_atomically


def test_the_new_content_replaces_the_old_whole(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("old")
    write_atomically(str(path), lambda temporary: open(temporary, "w").write("new"))
    assert path.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("old")

    def half_then_fail(temporary):
        open(temporary, "w").write("ne")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(str(path), half_then_fail)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["table.csv"]
