"""Fixtures of the sweep tests: small grids and serial references (the Dask cluster fixtures,
`dask_client` and `own_dask_client`, are in tests/conftest.py)."""

from __future__ import annotations

import pytest

# a small grid on iris (150 rows): each training takes well under a second
SMALL_GRID = {"hidden": [8, 16], "lr": [0.003, 0.03], "epochs": 8}


@pytest.fixture
def small_grid():
    from handgrad.sweep import make_grid

    return make_grid("iris", SMALL_GRID, seeds="0-1")


@pytest.fixture(scope="session")
def serial_reference(tmp_path_factory):
    """The small grid run serially once, uninterrupted: what every other way must reproduce."""
    from handgrad.sweep import make_grid, run_sweep

    grid = make_grid("iris", SMALL_GRID, seeds="0-1")
    out = tmp_path_factory.mktemp("serial-reference")
    return run_sweep(grid, out=out, scheduler="serial", report=False)
