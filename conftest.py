"""Doctest collection (``--doctest-modules`` on ``skfma``): skip what an absent extra needs."""

import importlib.util

import pytest

#: Modules whose examples need an optional extra, and that extra's import name.
NEEDS = {"skfma.transfer._pretrained": "torchvision"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for module, package in NEEDS.items():
            if item.name.startswith(f"{module}.") and importlib.util.find_spec(package) is None:
                item.add_marker(pytest.mark.skip(reason=f"needs {package} (an optional extra)"))
