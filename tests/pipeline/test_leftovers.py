"""Temporary files named after their writer; those of ended processes of this host removed."""

import os

from skfma.pipeline._leftovers import SEPARATOR, owner_tag, remove_orphans


def test_only_files_of_ended_processes_of_this_host_are_orphans(tmp_path, ended_pid):
    tag = owner_tag()
    _, host, pid, _ = tag.split(SEPARATOR)
    assert pid == str(os.getpid())
    names = {
        "ended": f"out.npy.tmp{SEPARATOR}{host}{SEPARATOR}{ended_pid}{SEPARATOR}ab",
        "alive": f"out.npy.tmp{tag}cd",
        "other host": f"out.npy.tmp{SEPARATOR}elsewhere{SEPARATOR}1{SEPARATOR}ef",
        "not a tag": f"out.npy.tmp{SEPARATOR}{host}{SEPARATOR}pid{SEPARATOR}gh",
        "old name": "out.npy.0123abcd.tmp",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"")
    removed = remove_orphans(str(tmp_path / "*.npy.tmp*"))
    assert removed == [str(tmp_path / names["ended"])]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        name for key, name in names.items() if key != "ended"
    )
