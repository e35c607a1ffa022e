"""The test suite's own Dask clusters (tests/conftest.py) leave the pytest process's
environment as it was: a test after them runs with the variables the session started with.

Dask's nannies write their workers' variables (OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1,
MKL_NUM_THREADS=1, PYTHONHASHSEED) into the environment of the process that starts them;
``handgrad.train.threads`` reads OMP_NUM_THREADS, and a BLAS loaded later reads the others.
A fresh pytest process (none of those variables set) runs three tests with the suite's
fixtures: one on the session cluster, one on its own cluster whose workers restart, then one
that records the environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
SRC = TESTS.parent / "src"
KEYS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "PYTHONHASHSEED")

# the suite's conftest, loaded under another name (its fixtures are what is tested)
CONFTEST = f"""
import importlib.util

_spec = importlib.util.spec_from_file_location("suite_conftest", {str(TESTS / "conftest.py")!r})
_suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_suite)
dask_client = _suite.dask_client
own_dask_client = _suite.own_dask_client
"""

TEST_FILE = """
import json, os

KEYS = {keys!r}
OUT = {out!r}


def _environ():
    return {{k: os.environ.get(k) for k in KEYS}}


def _workers(client):
    return list(client.run(lambda: {{k: os.environ.get(k) for k in KEYS}}).values())


def test_1_on_the_session_cluster(dask_client):
    seen = {{"during_session_cluster": _environ(), "session_workers": _workers(dask_client)}}
    with open(OUT + ".1", "w") as f:
        json.dump(seen, f)


def test_2_on_an_own_cluster_whose_workers_restart(own_dask_client):
    seen = {{"during_own_cluster": _environ()}}
    own_dask_client.restart()  # new worker processes: the nannies write the variables again
    seen["restarted_workers"] = _workers(own_dask_client)
    with open(OUT + ".2", "w") as f:
        json.dump(seen, f)


def test_3_after():
    with open(OUT + ".3", "w") as f:
        json.dump({{"after": _environ()}}, f)
"""


@pytest.mark.slow
def test_the_suites_clusters_leave_the_pytest_process_environment_alone(tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "seen"
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_leak.py").write_text(TEST_FILE.format(keys=KEYS, out=str(out)))
    env = {k: v for k, v in os.environ.items() if k not in KEYS}
    env["PYTHONPATH"] = str(SRC)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "--rootdir", str(tmp_path), str(tmp_path / "test_leak.py")],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    seen: dict = {}
    for i in (1, 2, 3):
        seen.update(json.loads(Path(f"{out}.{i}").read_text()))

    unset = dict.fromkeys(KEYS)
    assert seen["during_session_cluster"] == unset
    assert seen["during_own_cluster"] == unset  # with the session cluster still running
    assert seen["after"] == unset  # after a cluster whose workers restarted
    # the workers still get their one-thread environment, restarted ones too
    for worker in seen["session_workers"] + seen["restarted_workers"]:
        assert worker["OMP_NUM_THREADS"] == worker["OPENBLAS_NUM_THREADS"] == "1"
        assert worker["MKL_NUM_THREADS"] == "1" and worker["PYTHONHASHSEED"] is not None
