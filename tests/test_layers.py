"""No subpackage imports another's private module (skfma.utils' private modules excepted).

The layers themselves are import-linter's contracts (pyproject.toml, run by CI's
``lint-imports``); this checks what import-linter cannot express.
"""

import ast
import pathlib
import sys

import skfma

PACKAGE = pathlib.Path(skfma.__file__).parent


def _private_imports_across_subpackages():
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = path.relative_to(PACKAGE).parts[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level >= 1 and node.module:
                parts = node.module.split(".")
                if node.level == 1 and path.parent != PACKAGE:
                    continue  # within its own subpackage
                if len(parts) >= 2 and parts[1].startswith("_") and parts[0] != importer:
                    # skfma.utils' private modules need sklearn or torch, so that skfma.utils
                    # itself stays NumPy-only; they are imported by name (utils' docstring).
                    if parts[0] != "utils":
                        yield f"{path.relative_to(PACKAGE)}: from {'.' * node.level}{node.module}"


def test_no_subpackage_imports_another_ones_private_module():
    assert list(_private_imports_across_subpackages()) == []


def test_the_check_finds_such_an_import(tmp_path, monkeypatch):
    """The check can fail: a module importing features' private _spectral is found."""
    fake = tmp_path / "skfma"
    (fake / "pipeline").mkdir(parents=True)
    (fake / "pipeline" / "_x.py").write_text("from ..features._spectral import stft\n")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert list(_private_imports_across_subpackages()) == [
        "pipeline/_x.py: from ..features._spectral"
    ]
