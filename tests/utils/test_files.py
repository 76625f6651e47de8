"""write_atomically: a file is replaced whole or left as it was; files_digest: which files."""

import shutil

import pytest

from skfma.utils import files_digest, write_atomically


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


def test_files_digest_follows_the_files_not_their_folder(tmp_path):
    root = tmp_path / "fma"
    (root / "000").mkdir(parents=True)
    for name, size in (("2.mp3", 10), ("5.mp3", 20)):
        (root / "000" / name).write_bytes(b"x" * size)
    paths = [root / "000" / "2.mp3", root / "000" / "5.mp3"]
    digest = files_digest(paths, root)
    shutil.copytree(root, tmp_path / "copy")  # moved or copied with its folder: the same
    assert (
        files_digest([tmp_path / "copy" / "000" / p.name for p in paths], tmp_path / "copy")
        == digest
    )
    assert files_digest(paths[::-1], root) != digest  # another order
    assert files_digest(paths[:1], root) != digest
    paths[1].write_bytes(b"y" * 21)  # another size
    assert files_digest(paths, root) != digest
    paths[1].unlink()  # missing
    assert files_digest(paths, root) not in (digest, files_digest(paths[:1], root))
