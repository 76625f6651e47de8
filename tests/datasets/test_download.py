"""fetch_fma against a real HTTP server on 127.0.0.1 serving zips made here."""

import hashlib
import http.server
import io
import os
import re
import socket
import threading
import zipfile

import numpy as np
import pytest

from skfma.datasets import _download, fetch_fma, get_data_home, load_fma
from skfma.exceptions import DownloadError, ParameterError

#: Socket timeout of every fetch here, in seconds: no test can hang on the network.
TIMEOUT = 5.0


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files``; honours ``Range`` if ``server.ranges``; cuts ``server.drops``
    responses off halfway."""

    def do_GET(self):
        server = self.server
        server.log.append((self.path, self.headers.get("Range")))
        data = server.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and server.ranges:
            start = int(match.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if server.drops:
            server.drops -= 1
            self.wfile.write(body[: len(body) // 2])  # then the connection closes
            return
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1: set ``.files``, ``.drops``, ``.ranges``; read ``.log``."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.files, httpd.drops, httpd.ranges, httpd.log = {}, 0, True, []
    httpd.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/fma/"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(TIMEOUT)


def make_zip(top, files, *, checksums=True, wrong_hash_for=None, extra_names=()):
    """A bzip2 zip as the FMA's: ``top/<files>`` and ``top/checksums``; returns its bytes."""
    buffer, lines = io.BytesIO(), []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_BZIP2) as archive:
        for name, data in files.items():
            archive.writestr(f"{top}/{name}", data)
            digest = hashlib.sha1(b"tampered" if name == wrong_hash_for else data).hexdigest()
            lines.append(f"{digest}  {name}\n")
        if checksums:
            archive.writestr(f"{top}/checksums", "".join(lines))
        for name in extra_names:
            archive.writestr(name, b"gotcha")
    return buffer.getvalue()


def clips(n=3, size=40_000, seed=0):
    """Fake incompressible MP3 files in the FMA layout: ``{"000/000002.mp3": bytes, ...}``."""
    rng = np.random.default_rng(seed)
    return {f"000/{2 + i:06d}.mp3": rng.bytes(size) for i in range(n)}


def serve(server, subset, data):
    server.files[f"/fma/fma_{subset}.zip"] = data
    return hashlib.sha1(data).hexdigest()


def fetch(server, subset, data_home, **kwargs):
    kwargs = {"progress": False, "timeout": TIMEOUT, "base_url": server.base_url, **kwargs}
    return fetch_fma(subset, data_home=data_home, **kwargs)


def test_fetch_unpack_and_load_fma(server, tmp_path, fma_like):
    """The metadata and small zips of an FMA-like dataset, fetched, read by load_fma."""
    for subset in ("metadata", "small"):
        folder = fma_like / f"fma_{subset}"
        files = {
            os.path.relpath(os.path.join(d, f), folder).replace(os.sep, "/"): open(
                os.path.join(d, f), "rb"
            ).read()
            for d, _, names in os.walk(folder)
            for f in names
            if f != "checksums"
        }
        sha1 = serve(server, subset, make_zip(f"fma_{subset}", files))
        path = fetch(server, subset, tmp_path, sha1=sha1, verify_files=True)
        assert path == str(tmp_path / f"fma_{subset}")
        assert os.path.isfile(os.path.join(path, ".skfma_complete"))
    assert sorted(os.listdir(tmp_path)) == ["fma_metadata", "fma_small"]  # zips deleted
    fetched, original = load_fma(tmp_path), load_fma(fma_like)
    np.testing.assert_array_equal(fetched.track_ids, original.track_ids)
    np.testing.assert_array_equal(fetched.target, original.target)
    for ours, theirs in zip(fetched.filenames, original.filenames, strict=True):
        assert open(ours, "rb").read() == open(theirs, "rb").read()


def test_second_call_does_nothing(server, tmp_path):
    sha1 = serve(server, "small", make_zip("fma_small", clips()))
    first = fetch(server, "small", tmp_path, sha1=sha1, keep_archive=True)
    assert len(server.log) == 1 and os.path.isfile(tmp_path / "fma_small.zip")
    server.files.clear()  # a new download would now fail
    assert fetch(server, "small", tmp_path, sha1=sha1) == first
    assert len(server.log) == 1


def test_a_folder_of_another_release_is_refused_not_returned(server, tmp_path):
    """Asked for another zip (another SHA-1) than the one unpacked: never the old data."""
    sha1 = serve(server, "small", make_zip("fma_small", clips()))
    fetch(server, "small", tmp_path, sha1=sha1)
    other = "0" * 40
    with pytest.raises(DownloadError, match=f"SHA-1 {sha1}, not the {other} asked for"):
        fetch(server, "small", tmp_path, sha1=other)
    assert fetch(server, "small", tmp_path, sha1=sha1.upper()) == str(tmp_path / "fma_small")


def test_resume_after_dropped_connection(server, tmp_path):
    data = make_zip("fma_small", clips())
    sha1 = serve(server, "small", data)
    server.drops = 1
    with pytest.raises(DownloadError, match=r"fma_small\.zip interrupted.*resumes") as info:
        fetch(server, "small", tmp_path, sha1=sha1, n_retries=0)
    assert server.base_url in str(info.value)
    part = tmp_path / "fma_small.zip.part"
    assert part.stat().st_size == len(data) // 2
    assert not (tmp_path / "fma_small").exists()
    path = fetch(server, "small", tmp_path, sha1=sha1)
    assert server.log[-1] == ("/fma/fma_small.zip", f"bytes={len(data) // 2}-")
    assert open(os.path.join(path, "000", "000003.mp3"), "rb").read() == clips()["000/000003.mp3"]
    assert not part.exists()


def test_retries_within_one_call(server, tmp_path, monkeypatch):
    monkeypatch.setattr(_download, "RETRY_DELAY", 0.01)
    data = make_zip("fma_small", clips())
    sha1 = serve(server, "small", data)
    server.drops = 2
    fetch(server, "small", tmp_path, sha1=sha1, n_retries=2)
    assert [range_ for _, range_ in server.log] == [
        None,
        f"bytes={len(data) // 2}-",
        f"bytes={len(data) // 2 + (len(data) - len(data) // 2) // 2}-",
    ]


def test_server_ignoring_range_starts_again(server, tmp_path):
    sha1 = serve(server, "small", make_zip("fma_small", clips()))
    server.drops, server.ranges = 1, False
    with pytest.raises(DownloadError):
        fetch(server, "small", tmp_path, sha1=sha1, n_retries=0)
    path = fetch(server, "small", tmp_path, sha1=sha1)
    assert server.log[-1][1] is not None  # asked to resume, got the whole file
    assert len(os.listdir(os.path.join(path, "000"))) == 3


def test_complete_part_file_is_not_downloaded_again(server, tmp_path):
    data = make_zip("fma_small", clips())
    sha1 = serve(server, "small", data)
    (tmp_path / "fma_small.zip.part").write_bytes(data)
    fetch(server, "small", tmp_path, sha1=sha1)
    assert server.log == [("/fma/fma_small.zip", f"bytes={len(data)}-")]  # answered 416
    assert (tmp_path / "fma_small" / "checksums").is_file()


def test_wrong_checksum(server, tmp_path):
    serve(server, "small", make_zip("fma_small", clips()))
    with pytest.raises(DownloadError, match=r"SHA-1 of http://127\.0\.0\.1:\d+/fma/fma_small\.zip"):
        fetch(server, "small", tmp_path, sha1="0" * 40)
    assert os.listdir(tmp_path) == []
    # The published value is used by default: our zip is not the real fma_small.zip.
    with pytest.raises(DownloadError, match="expected ade154f733639d52e35e32f5593efe5be76c6d70"):
        fetch(server, "small", tmp_path)


def test_existing_archive_with_other_checksum(server, tmp_path):
    (tmp_path / "fma_small.zip").write_bytes(b"not the zip")
    with pytest.raises(DownloadError, match=r"fma_small\.zip'? is not the published"):
        fetch(server, "small", tmp_path)
    assert server.log == []


@pytest.mark.parametrize("name", ["../evil", "fma_small/../../evil", "/tmp/skfma-evil", "C:/evil"])
def test_malicious_member_is_refused(server, tmp_path, name):
    sha1 = serve(server, "small", make_zip("fma_small", clips(1), extra_names=[name]))
    data_home = tmp_path / "home"
    with pytest.raises(DownloadError, match=rf"unsafe path '{re.escape(name)}'"):
        fetch(server, "small", data_home, sha1=sha1)
    assert sorted(os.listdir(data_home)) == ["fma_small.zip"]  # nothing unpacked, zip kept
    assert not (tmp_path / "evil").exists() and not os.path.exists("/tmp/skfma-evil")


def test_verify_files(server, tmp_path):
    files = clips()
    sha1 = serve(server, "small", make_zip("fma_small", files, wrong_hash_for="000/000003.mp3"))
    with pytest.raises(DownloadError, match=r"1 of 3 files .* 000/000003\.mp3 \(SHA-1 differs\)"):
        fetch(server, "small", tmp_path, sha1=sha1, verify_files=True)
    assert sorted(os.listdir(tmp_path)) == ["fma_small.zip"]  # atomic: no fma_small
    fetch(server, "small", tmp_path, sha1=sha1)  # unverified, it unpacks
    assert len(server.log) == 1  # the verified zip was kept and reused

    sha1 = serve(server, "medium", make_zip("fma_medium", files, checksums=False))
    with pytest.raises(DownloadError, match="no checksums file"):
        fetch(server, "medium", tmp_path, sha1=sha1, verify_files=True)


def test_interrupted_unpack_leaves_nothing_complete(server, tmp_path, monkeypatch):
    sha1 = serve(server, "small", make_zip("fma_small", clips()))
    extract = zipfile.ZipFile.extract
    calls = []

    def crash_on_second(self, member, path=None, pwd=None):
        calls.append(member)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return extract(self, member, path, pwd)

    monkeypatch.setattr(zipfile.ZipFile, "extract", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        fetch(server, "small", tmp_path, sha1=sha1)
    assert sorted(os.listdir(tmp_path)) == ["fma_small.zip"]
    monkeypatch.undo()
    path = fetch(server, "small", tmp_path, sha1=sha1)
    assert len(server.log) == 1 and len(os.listdir(os.path.join(path, "000"))) == 3


def test_folder_not_made_by_fetch_fma(server, tmp_path):
    (tmp_path / "fma_small").mkdir()
    with pytest.raises(DownloadError, match="exists but was not completed"):
        fetch(server, "small", tmp_path)


def test_network_errors_name_the_url(server, tmp_path):
    with pytest.raises(
        DownloadError, match=r"cannot download http://127.*fma_large\.zip: HTTP 404"
    ):
        fetch(server, "large", tmp_path)
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        with pytest.raises(DownloadError, match=r"fma_full\.zip interrupted .*timed out"):
            fetch_fma("full", data_home=tmp_path, base_url=url, timeout=0.3, n_retries=0)


def test_progress_bar(server, tmp_path, capsys):
    sha1 = serve(server, "metadata", make_zip("fma_metadata", {"tracks.csv": b"x" * 5000}))
    fetch(server, "metadata", tmp_path, sha1=sha1, progress=True)
    err = capsys.readouterr().err
    assert "fma_metadata.zip: 100%" in err and err.endswith("\n")
    assert "unpacking fma_metadata.zip: 100%" in err
    fetch(server, "metadata", tmp_path / "quiet", sha1=sha1)  # stderr is not a terminal
    assert capsys.readouterr().err == ""


def test_get_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SKFMA_DATA", str(tmp_path / "env"))
    assert get_data_home() == str(tmp_path / "env") and (tmp_path / "env").is_dir()
    monkeypatch.delenv("SKFMA_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home() == str(tmp_path / "skfma_data")
    assert get_data_home("~/x") == str(tmp_path / "x")


def test_parameter_errors(tmp_path):
    for kwargs, message in [
        ({"subset": "tiny"}, "subset must be one of"),
        ({"sha1": "abc"}, "sha1 must be 40 hexadecimal digits"),
        ({"n_retries": -1}, "n_retries must be an int >= 0"),
        ({"timeout": 0}, "timeout must be a finite number > 0"),
    ]:
        with pytest.raises(ParameterError, match=message):
            fetch_fma(**{"data_home": tmp_path, **kwargs})


def test_corrupt_compressed_data_names_the_archive(tmp_path):
    """bz2's "Invalid data stream" OSError named no file (headers intact, data damaged)."""
    from skfma.datasets._archive import extract_zip

    archive = tmp_path / "fma_x.zip"
    payload = np.random.default_rng(0).bytes(20000)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_BZIP2) as zipped:
        zipped.writestr("fma_x/000/000002.mp3", payload)
    data = bytearray(archive.read_bytes())
    start = data.index(b"BZh") + 10
    data[start : start + 200] = bytes(200)
    archive.write_bytes(bytes(data))
    with pytest.raises(DownloadError, match=r"cannot extract '.*fma_x\.zip': .*\(corrupt data\)"):
        extract_zip(str(archive), str(tmp_path / "out"))
