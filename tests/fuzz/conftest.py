"""Fuzz tests: property-based (hypothesis), asserting each public function's contract.

The contract everywhere: bad input gets a clean ValueError or TypeError before anything
changes, and good input a finite, correct result. ``make test`` runs these with the
default profile (a few examples each, a few seconds in all); ``make fuzz`` sets
HYPOTHESIS_PROFILE=fuzz (registered in tests/conftest.py) for thousands of examples.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/fuzz/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.fuzz)


def pytest_configure(config):
    config.addinivalue_line("markers", "fuzz: property-based fuzz tests (tests/fuzz, `make fuzz`)")
