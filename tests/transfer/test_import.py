"""skfma.transfer without torchvision: importable, and fit says how to install it."""

import subprocess
import sys

import numpy as np
import pytest

from skfma.transfer import PretrainedCNNFeatures


def test_missing_torchvision_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)  # makes `import torchvision` fail
    X = np.zeros((1, 8, 8), dtype=np.float32)
    with pytest.raises(ImportError, match=r'pip install "skfma\[transfer\]"'):
        PretrainedCNNFeatures(weights=None).fit(X)


def test_import_skfma_and_transfer_do_not_import_torchvision():
    code = (
        "import sys, skfma; skfma.PretrainedCNNFeatures; import skfma.transfer; "
        "print('torchvision' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.split() == ["False"], result.stderr
