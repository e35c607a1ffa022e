"""Sweeps: many trainings of ``handgrad train`` at once, one Dask task each (or serially).

    from handgrad.sweep import run_sweep
    result = run_sweep({"hidden": [32, 64], "lr": [0.01, 0.1]}, data="digits",
                       seeds="0-2", out="runs/sweep")          # a LocalCluster by default
    result.best.settings, result.best.mean                       # the winner, over seeds

A grid file (``load_grid``) says the same in TOML. ``parallel_map`` runs any function over
a list (an experiment's seeds) on the same machinery. Dask is the optional extra ``sweep``;
``scheduler="serial"`` runs without it.
"""

from __future__ import annotations

from .core import SweepResult, run_sweep
from .execute import parallel_map
from .grid import DataSpec, Grid, GridError, Trial, load_grid, make_grid, parse_seeds

__all__ = [
    "DataSpec",
    "Grid",
    "GridError",
    "SweepResult",
    "Trial",
    "load_grid",
    "make_grid",
    "parallel_map",
    "parse_seeds",
    "run_sweep",
]
