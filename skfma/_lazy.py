"""PEP 562 lazy exports, shared by the packages that defer heavy imports."""

import importlib
import sys

__all__ = ["lazy_exports"]


def lazy_exports(package, sources):
    """Module-level ``__getattr__`` and ``__dir__`` that import public names on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    sources : dict of str to str
        Public name -> submodule (relative to ``package``) that defines it.

    Returns
    -------
    getattr_, dir_ : callable
        Assign them to the package's ``__getattr__`` and ``__dir__``. A name,
        once imported, is cached in the package's namespace.
    """

    def getattr_(name):
        if name not in sources:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{sources[name]}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    def dir_():
        return sorted(set(vars(sys.modules[package])) | set(sources))

    return getattr_, dir_
