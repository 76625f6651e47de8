"""What a step computes, as a value to hash: code included, so that a redefinition shows.

The cache keys of :class:`~skfma.pipeline.AudioFeatures` hash the steps'
parameters. joblib's hash names a function (or a class) by its module and
name only, so that a function redefined under the same name (a notebook cell
run again with a fix) would find the old function's features in the cache,
and a lambda, which cannot be pickled by name, cannot be hashed at all.
:func:`describe` replaces every function and class of the user's code by its
code: its byte code and constants, its defaults, and the functions, classes
and constant values that it uses from its closure or module (not mutable
state such as a list it appends to, which would change the key at every
call). Code of
installed packages (site-packages, the standard library) and of skfma is
named, as its package's version stands for it.
"""

import functools
import os
import site
import sys
import sysconfig
import types

import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["describe"]

#: Names of the folders that package installers fill (pip, conda, Debian's apt).
_PACKAGE_FOLDERS = ("site-packages", "dist-packages")


@functools.lru_cache(maxsize=8)
def _installed_folders(search_path):
    """Folders of installed code and skfma's own, each ending with a separator.

    Their functions and classes are named, not read: the versions of their
    packages (in the cache key) stand for them. They are the interpreter's
    (standard library, site-packages, the user's site-packages) and every
    ``site-packages`` or ``dist-packages`` folder on the search path (a
    Debian system Python's, a virtual environment's put there by a ``.pth``
    file or ``PYTHONPATH``): reading the code of scikit-learn or torch would
    take seconds per key.

    Parameters
    ----------
    search_path : tuple of str
        ``sys.path`` as it is now (the cache's key).
    """
    folders = {
        *(sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")),
        *site.getsitepackages(),
        site.getusersitepackages(),
        *(folder for folder in search_path if os.path.basename(folder) in _PACKAGE_FOLDERS),
        os.path.dirname(os.path.dirname(__file__)),
    }
    return tuple(os.path.join(os.path.realpath(folder), "") for folder in folders)


#: Values that a function's description includes when it uses them (a global of its module
#: or a variable of its closure): what it computes with, not state it keeps (a list it
#: appends to, an object it counts calls in), which would change the key at every call.
_PLAIN = (bool, int, float, complex, str, bytes, type(None), np.ndarray, np.generic)


def _counts(value):
    """Whether a function's description includes ``value``, which it uses."""
    if isinstance(value, tuple | frozenset):
        return all(map(_counts, value))
    return isinstance(value, (types.FunctionType, type, functools.partial, *_PLAIN))


def _is_user_code(obj):
    """Whether ``obj`` (a function or class) comes from code outside installed packages.

    A function's file is its code's (``"<string>"`` for exec'd code, a notebook
    cell's own); a class's are its methods', or else its module's, and a
    module without a file (a notebook's or an interactive session's
    ``__main__``) is the user's.
    """
    if isinstance(obj, type):  # by its methods' files where it has some
        methods = [value for value in vars(obj).values() if isinstance(value, types.FunctionType)]
        if methods:
            return any(map(_is_user_code, methods))
    code = getattr(obj, "__code__", None)
    if code is not None:
        path = code.co_filename
    else:
        path = getattr(sys.modules.get(getattr(obj, "__module__", None) or ""), "__file__", None)
        if path is None:
            return True
    return not _is_installed(path)


def _is_installed(path):
    """Whether the file ``path`` is in a folder of installed code (or skfma's own)."""
    return os.path.realpath(path).startswith(_installed_folders(tuple(sys.path)))


def _named(obj):
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def _code(code, seen):
    """A code object's computation: byte code, constants (nested code too), names used."""
    constants = tuple(
        _code(constant, seen) if isinstance(constant, types.CodeType) else describe(constant, seen)
        for constant in code.co_consts
    )
    return ("code", code.co_code, constants, code.co_names, code.co_varnames, code.co_freevars)


def _function(function, seen):
    if not _is_user_code(function):
        return ("function", _named(function))
    cells = tuple(
        describe(cell.cell_contents, seen)
        for cell in function.__closure__ or ()
        if _cell_is_set(cell) and _counts(cell.cell_contents)
    )
    names = _global_names(function.__code__)  # with the attributes it reads: co_names has both
    return (
        "function",
        _named(function),
        _code(function.__code__, seen),
        describe(function.__defaults__, seen),
        describe(function.__kwdefaults__, seen),
        cells,
        _used(function.__globals__, names, seen),
    )


def _used(namespace, names, seen):
    """The values of ``names`` in ``namespace`` (a function's globals, a module's attributes)
    that a description counts, described; a module of the user's by what it holds of them."""
    used = {}
    for name in names:
        value = namespace.get(name)
        if _counts(value):
            used[name] = describe(value, seen)
        elif isinstance(value, types.ModuleType) and _is_user_module(value):
            used[name] = _module_attributes(value, names, seen)
    return sorted(used.items())


def _is_user_module(module):
    """Whether ``module`` is a file of the user's code (not installed, not built in)."""
    path = getattr(module, "__file__", None)
    return path is not None and not _is_installed(path)


def _module_attributes(module, names, seen):
    """What a function reads from a module of the user's (``features.summary``): its
    values of ``names``, as :func:`_used` describes them."""
    if id(module) in seen:
        return ("recursion", module.__name__)
    seen.add(id(module))
    try:
        return ("module", module.__name__, _used(vars(module), names, seen))
    finally:
        seen.discard(id(module))


def _global_names(code):
    """The names ``code`` and the code nested in it (comprehensions, lambdas, inner
    functions) may look up as globals, sorted."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names.update(_global_names(constant))
    return sorted(names)


def _cell_is_set(cell):
    try:
        cell.cell_contents  # noqa: B018 (an empty cell raises)
    except ValueError:
        return False
    return True


def _class(cls, seen):
    """A class's name, and the code of every class of its MRO that is the user's code."""
    own = [
        (
            _named(klass),
            sorted(
                (name, describe(value, seen))
                for name, value in vars(klass).items()
                if isinstance(value, types.FunctionType | staticmethod | classmethod | property)
            ),
        )
        for klass in cls.__mro__
        if _is_user_code(klass)
    ]
    return ("class", _named(cls), own)


def describe(value, seen=None):
    """``value`` with its functions and classes replaced by what they compute.

    Parameters
    ----------
    value : object
        A step, a parameter value, or a structure of them (lists, tuples,
        dicts, estimators' parameters).
    seen : set of int, optional
        Ids of the functions and classes being described (recursion guard).

    Returns
    -------
    object
        Picklable by joblib's hash; equal for equal computations, different
        when a function's or class's code (of the user's code), defaults,
        closure or used globals differ. Other values are returned as they are.
    """
    seen = set() if seen is None else seen
    if isinstance(value, types.FunctionType | type):
        if id(value) in seen:
            return ("recursion", _named(value))
        seen.add(id(value))
        try:
            return (
                _function(value, seen)
                if isinstance(value, types.FunctionType)
                else _class(value, seen)
            )
        finally:
            seen.discard(id(value))
    if isinstance(value, staticmethod | classmethod):
        return (type(value).__name__, describe(value.__func__, seen))
    if isinstance(value, property):
        return ("property", *(describe(f, seen) for f in (value.fget, value.fset, value.fdel)))
    if isinstance(value, types.MethodType):
        return ("method", describe(value.__func__, seen), describe(value.__self__, seen))
    if isinstance(value, functools.partial):
        return (
            "partial",
            describe(value.func, seen),
            describe(value.args, seen),
            describe(value.keywords, seen),
        )
    if isinstance(value, BaseEstimator):
        return (
            "estimator",
            describe(type(value), seen),
            describe(value.get_params(deep=False), seen),
        )
    if isinstance(value, list | tuple):
        return type(value)(describe(item, seen) for item in value)
    if isinstance(value, dict):
        return ("dict", sorted((repr(key), describe(item, seen)) for key, item in value.items()))
    return value
