"""Fixtures of the sweep tests: a Dask LocalCluster started (and stopped) by the tests."""

from __future__ import annotations

from contextlib import contextmanager

import pytest


def _local_cluster(n_workers: int = 2):
    distributed = pytest.importorskip(
        "distributed", reason="the sweep extra is not installed: pip install '.[sweep]'"
    )

    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,  # separate processes: the data and results really are pickled
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # loopback only, a free port
        env={"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )


@contextmanager
def cluster_and_client():
    with _local_cluster() as cluster:
        import distributed

        with distributed.Client(cluster) as client:
            yield client


@pytest.fixture(scope="session")
def dask_client():
    """A two-worker cluster of processes shared by the sweep tests that do not break it."""
    with cluster_and_client() as client:
        yield client


@pytest.fixture
def own_dask_client():
    """A cluster for one test (which may kill its workers)."""
    with cluster_and_client() as client:
        yield client


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
