"""Reproduce skfma/transfer/musicnn_weights/ from the musicnn 0.1.0 wheel.

The four TF1 checkpoints of ``musicnn==0.1.0`` (ISC licence) are read with
skfma's NumPy-only reader, mapped onto ``MusicnnModule`` and
``MusicnnVGGModule`` and written as float32 ``.npz`` files of the torch state
dicts, with musicnn's licence beside them. The wheel is fetched with
``pip download`` (or given with ``--wheel``) and checked against the SHA-256
recorded here; the ``.npz`` files are written byte for byte reproducibly
(fixed zip timestamps), so a rerun leaves ``git diff`` empty.

Usage::

    python tools/convert_musicnn.py [--wheel musicnn-0.1.0-py3-none-any.whl] [--out DIR]
"""

import argparse
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from skfma.transfer._musicnn import MUSICNN_LAYERS, state_dict_from_tf1, tf1_variable_names
from skfma.transfer._tf1_checkpoint import read_tf1_checkpoint

WHEEL = "musicnn-0.1.0-py3-none-any.whl"
#: SHA-256 of the wheel on PyPI (the one pip checks against the index).
WHEEL_SHA256 = "f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa"
LICENSE = "musicnn-0.1.0.dist-info/LICENSE.md"
OUT = Path(__file__).resolve().parents[1] / "skfma" / "transfer" / "musicnn_weights"
CHECKPOINT_FILES = (".index", ".data-00000-of-00001")


def fetch_wheel(directory):
    """``pip download`` the wheel into ``directory`` and return its path."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(directory)]
        + ["--only-binary=:all:", "musicnn==0.1.0"],
        check=True,
    )
    return Path(directory) / WHEEL


def write_npz(path, arrays):
    """``np.savez_compressed`` with fixed timestamps and order, so the bytes are reproducible."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, arrays[name], allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue())


def convert(wheel, out):
    """Convert the wheel's four checkpoints into ``out``; print each file's SHA-256."""
    digest = hashlib.sha256(Path(wheel).read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: SHA-256 {digest} is not the recorded {WHEEL_SHA256}")
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive, tempfile.TemporaryDirectory() as tmp:
        for model in MUSICNN_LAYERS:
            for suffix in CHECKPOINT_FILES:
                archive.extract(f"musicnn/{model}/{suffix}", tmp)
            # The checkpoints' prefix is the folder itself: "MTT_musicnn/.index".
            prefix = f"{Path(tmp) / 'musicnn' / model}/"
            arrays = read_tf1_checkpoint(prefix, names=tf1_variable_names(model))
            write_npz(out / f"{model}.npz", state_dict_from_tf1(arrays, model))
        licence = archive.read(LICENSE).decode("utf-8").strip()
    (out / "LICENSE").write_text(
        "The weights in this folder are the musicnn models of Jordi Pons and Xavier Serra,\n"
        "converted from the TF1 checkpoints of the musicnn 0.1.0 wheel\n"
        "(https://github.com/jordipons/musicnn) by tools/convert_musicnn.py.\n"
        "They are distributed under musicnn's ISC licence:\n\n" + licence + "\n"
    )
    for path in sorted(out.iterdir()):
        print(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="the musicnn 0.1.0 wheel (else pip download)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    args = parser.parse_args(argv)
    if args.wheel is not None:
        convert(args.wheel, args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        convert(fetch_wheel(tmp), args.out)


if __name__ == "__main__":
    main()
