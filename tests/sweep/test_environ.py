"""A sweep's LocalCluster leaves the environment of the process that started it as it was.

Dask's nannies write their workers' variables (OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1,
MKL_NUM_THREADS=1, PYTHONHASHSEED) into ``os.environ`` of the starting process; left there,
every BLAS library that process loads afterwards (SciPy's) runs on one thread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
KEYS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "PYTHONHASHSEED")

# A fresh process with none of KEYS set: NumPy's BLAS loaded before the sweep, SciPy's after.
SCRIPT = """
import json, os, sys
import numpy
from threadpoolctl import threadpool_info

KEYS = %r

def worker_env(_, key):
    return os.environ.get(key)

def blas_pools():
    return {p["filepath"]: p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}

if __name__ == "__main__":
    numpy.ones((2, 2)) @ numpy.ones((2, 2))
    before = {k: os.environ.get(k) for k in KEYS}
    pools_before = blas_pools()
    from handgrad.sweep import parallel_map
    in_worker = parallel_map(worker_env, KEYS, n_workers=1)
    after = {k: os.environ.get(k) for k in KEYS}
    import scipy.linalg  # its own BLAS, loaded now: it reads the environment as it is now
    scipy.linalg.solve(numpy.eye(3), numpy.ones(3))
    pools_after = blas_pools()
    print(json.dumps(dict(before=before, after=after, in_worker=in_worker,
                          pools_before=pools_before, pools_after=pools_after)))
"""


@pytest.mark.slow
def test_a_sweep_cluster_leaves_this_process_environment_and_blas_threads_alone(tmp_path):
    pytest.importorskip("distributed")
    script = tmp_path / "leak.py"
    script.write_text(SCRIPT % (KEYS,))
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    env["PYTHONPATH"] = str(SRC)
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert seen["before"] == dict.fromkeys(KEYS)
    assert seen["after"] == seen["before"]
    # the workers still got their one-thread environment
    assert seen["in_worker"][:3] == ["1", "1", "1"] and seen["in_worker"][3] is not None

    [numpy_blas] = seen["pools_before"].values()
    loaded_later = {k: v for k, v in seen["pools_after"].items() if k not in seen["pools_before"]}
    assert loaded_later, "SciPy's BLAS was already loaded before the sweep: nothing to check"
    assert set(loaded_later.values()) == {numpy_blas}  # the default thread count, as NumPy's


def test_restoring_undoes_what_a_nanny_wrote_and_nothing_else(monkeypatch):
    """The restore puts back the values a nanny writes (Dask's configured ones, the hash seed
    6640) and leaves a variable someone else changed meanwhile."""
    pytest.importorskip("dask")
    from handgrad.sweep.execute import _environ_kept_from_nannies

    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # set first, so the undo removes them
        monkeypatch.setenv(key, "")  # (delenv of an absent variable records nothing to undo)
        monkeypatch.delenv(key)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    with _environ_kept_from_nannies() as restore:
        os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="6640")
        restore()
        assert "OMP_NUM_THREADS" not in os.environ and "MKL_NUM_THREADS" not in os.environ
        assert os.environ["PYTHONHASHSEED"] == "0"
        assert os.environ["OPENBLAS_NUM_THREADS"] == "3"  # the nanny keeps a value already set
        os.environ["OMP_NUM_THREADS"] = "1"  # a worker restarted during the sweep
        os.environ["MKL_NUM_THREADS"] = "2"  # the user's own change
    assert "OMP_NUM_THREADS" not in os.environ
    assert os.environ["MKL_NUM_THREADS"] == "2"
