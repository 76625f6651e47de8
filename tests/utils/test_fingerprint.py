"""describe: functions and classes of the user's code count by their code in the cache keys."""

import functools
import json
import sys

import joblib
import numpy as np
import pytest
from sklearn.preprocessing import FunctionTransformer

from skfma import AudioFeatures, AudioLoader
from skfma.pipeline._cache import output_key
from skfma.utils._fingerprint import describe


def defined(source, name="f", **namespace):
    """The function ``name`` that ``source`` defines, as a notebook cell would."""
    namespace = {"__name__": "__main__", **namespace}
    exec(source, namespace)  # noqa: S102 (the test's own source)
    return namespace[name]


def key(value):
    return joblib.hash(describe(value))


def test_equal_code_gives_equal_keys_under_any_name_and_place():
    assert key(defined("def f(X):\n    return X * 2")) == key(
        defined("def f(X):\n    return X * 2")
    )
    assert key(defined("f = lambda X: X + 1")) == key(defined("f = lambda X: X + 1"))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("def f(X):\n    return X * 2", "def f(X):\n    return X * 3"),
        ("def f(X, k=2):\n    return X * k", "def f(X, k=3):\n    return X * k"),
        ("def f(X, *, k=2):\n    return X * k", "def f(X, *, k=3):\n    return X * k"),
        ("K = 2\ndef f(X):\n    return X * K", "K = 3\ndef f(X):\n    return X * K"),
        (
            "def g(X):\n    return X + 1\ndef f(X):\n    return g(X)",
            "def g(X):\n    return X - 1\ndef f(X):\n    return g(X)",
        ),
        (
            "def f(X):\n    return [x * 2 for x in X]",  # a nested code object
            "def f(X):\n    return [x * 3 for x in X]",
        ),
        ("f = lambda X: X + 1", "f = lambda X: X - 1"),
        (
            "K = 2\ndef f(X):\n    return [x * K for x in X]",  # a global of nested code
            "K = 3\ndef f(X):\n    return [x * K for x in X]",
        ),
        (
            "K = 2\ndef f(X):\n    g = lambda x: x * K\n    return g(X)",
            "K = 3\ndef f(X):\n    g = lambda x: x * K\n    return g(X)",
        ),
    ],
    ids=[
        "body",
        "default",
        "keyword default",
        "global",
        "helper",
        "nested code",
        "lambda",
        "global of a comprehension",
        "global of an inner lambda",
    ],
)
def test_a_redefinition_changes_the_key(before, after):
    assert key(defined(before)) != key(defined(after))


def test_closures_partials_and_recursion():
    def closure(k):
        return lambda X: X * k

    assert key(closure(2)) == key(closure(2)) != key(closure(3))
    f = defined("def f(X):\n    return f(X - 1) if X else 0")  # refers to itself
    assert key(f) == key(defined("def f(X):\n    return f(X - 1) if X else 0"))
    assert key(functools.partial(f, 1)) != key(functools.partial(f, 2))


def test_classes_of_the_users_code_count_by_their_methods():
    source = "class Scale:\n    def __call__(self, X):\n        return X * {}\n"
    first, second = (defined(source.format(k), "Scale") for k in (2, 3))
    assert first.__name__ == second.__name__ and key(first) != key(second)
    assert key(first) == key(defined(source.format(2), "Scale"))


def test_installed_code_is_named_not_read():
    assert describe(json.dumps) == ("function", "json.dumps")
    assert describe(FunctionTransformer)[1] == (
        "sklearn.preprocessing._function_transformer.FunctionTransformer"
    )


@pytest.mark.parametrize(
    ("folder", "read"), [("site-packages", False), ("dist-packages", False), ("src", True)]
)
def test_packages_on_the_search_path_are_installed_code(tmp_path, monkeypatch, folder, read):
    """A site-packages folder that only sys.path names (a .pth file, PYTHONPATH, Debian's).

    Its code is named, as the interpreter's own site-packages' is; a project's
    source folder is the user's code, and read.
    """
    package = tmp_path / folder / f"fake_{folder.replace('-', '_')}"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("def scale(X):\n    return X * 2\n")
    monkeypatch.syspath_prepend(str(tmp_path / folder))
    module = __import__(package.name)
    monkeypatch.delitem(sys.modules, package.name)
    description = describe(module.scale)
    assert description[:2] == ("function", f"{package.name}.scale")
    assert (len(description) > 2) is read


def test_what_a_function_reads_from_a_module_of_the_users_counts(tmp_path, monkeypatch):
    """``features.summary(X)`` in a lambda: editing the user's module changes the key."""
    (tmp_path / "user_features").mkdir()
    (tmp_path / "user_features" / "__init__.py").write_text("from . import stats\n")
    stats = tmp_path / "user_features" / "stats.py"
    monkeypatch.syspath_prepend(str(tmp_path))
    keys = []
    for body in ("X.mean()", "X.max() * 100", "X.max() * 100"):
        stats.write_text(f"def summary(X):\n    return {body}\n")
        for name in ("user_features", "user_features.stats"):
            monkeypatch.delitem(sys.modules, name, raising=False)
        module = __import__("user_features")
        keys.append(
            key(defined("f = lambda X: user_features.stats.summary(X)", user_features=module))
        )
    assert keys[0] != keys[1] == keys[2]
    installed = describe(defined("f = lambda X: json.dumps(X)", json=json))[-1]
    assert "json" not in dict(installed)  # an installed module is named by its version, not read


def test_a_function_redefined_under_its_name_does_not_find_the_old_features(tmp_path):
    """The notebook case: the same cell run again with a fix, the same cache."""
    from skfma.datasets import make_genre_clips

    paths, _ = make_genre_clips(
        2, n_genres=2, duration=0.25, sr=8000, directory=tmp_path, audio_format="wav"
    )

    def features(function):
        steps = [
            ("load", AudioLoader(sr=8000, duration=0.25)),
            ("f", FunctionTransformer(function)),
        ]
        return AudioFeatures(steps, memory=tmp_path / "cache").fit_transform(paths)

    doubled = features(defined("def f(X):\n    return X * 2"))
    tripled = features(defined("def f(X):\n    return X * 3"))
    np.testing.assert_allclose(tripled, doubled * 1.5, rtol=1e-6)
    lambdas = [features(defined(f"f = lambda X: X * {k}")) for k in (2, 3)]
    np.testing.assert_allclose(lambdas[0], doubled)
    np.testing.assert_allclose(lambdas[1], tripled)
    steps = [("load", AudioLoader()), ("f", FunctionTransformer(defined("f = lambda X: X")))]
    assert isinstance(output_key(steps), str)
