"""Shared fixtures for the engine and training-loop tests.

Helpers are fixtures (not imports) so every test file stays independent of the others.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import warnings
import zlib
from contextlib import contextmanager
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Property tests: no per-example deadline (two shared cores, other jobs running), and a
# modest number of examples so the whole suite stays fast. Derandomized: every run of the
# same code tries the same examples (derandomize implies no examples database, so a local
# .hypothesis/ directory cannot make a run differ from CI's), so a red suite is a fact about
# the code, reproducible with the same command, never a draw; `make fuzz` is the search.
settings.register_profile(
    "handgrad",
    deadline=None,
    max_examples=60,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# `make fuzz`: HYPOTHESIS_PROFILE=fuzz, 50 times the examples (tests/fuzz scale their own
# budgets with it), random and with the examples database: a deeper search than the
# suite's fixed pass, finding what the suite's examples miss.
settings.register_profile(
    "fuzz",
    deadline=None,
    max_examples=3000,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "handgrad"))

mpmath.mp.dps = 60  # references far beyond float64 precision

# argparse wraps help at the terminal's width (COLUMNS, else the terminal pytest runs in):
# in a narrow terminal, or a CI that exports COLUMNS, the phrases the help tests look for
# would be split across lines. The tests and the commands they start see 80 columns.
os.environ["COLUMNS"] = "80"

# --- the order of the files under pytest-xdist ----------------------------------------------
# `make test` hands each worker whole files (--dist loadfile) in the order of collection
# (--no-loadscope-reorder: xdist's own order, by number of tests, ran the one-test files last,
# among them a wheel build and Dask clusters, while the other worker sat idle). Here the longest
# files go first and the short ones fill the end: seconds per file from an earlier run,
# refreshed with `HANDGRAD_FILE_SECONDS=tests/file_seconds.json make test`. The order only
# moves the end of the run: a stale or missing entry costs seconds of wall time, never a result.
FILE_SECONDS = Path(__file__).with_name("file_seconds.json")
_seconds_this_run: dict[str, float] = {}


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    if not hasattr(config, "workerinput"):  # one process: the files in their usual order
        return
    timed = json.loads(FILE_SECONDS.read_text()) if FILE_SECONDS.exists() else {}
    guessed: dict[str, float] = {}  # a file not timed yet: ~2 s a slow test, 0.05 s another
    for item in items:
        name = _file_of(item.nodeid)
        guessed[name] = guessed.get(name, 0.0) + (2.0 if item.get_closest_marker("slow") else 0.05)
    seconds = {**guessed, **{name: timed[name] for name in guessed.keys() & timed.keys()}}
    items.sort(key=lambda item: -seconds[_file_of(item.nodeid)])  # stable: a file stays whole


def pytest_runtest_logreport(report):
    name = _file_of(report.nodeid)
    _seconds_this_run[name] = _seconds_this_run.get(name, 0.0) + report.duration


def pytest_sessionfinish(session):
    """Under HANDGRAD_FILE_SECONDS=PATH, each file's seconds (set-up, call, tear-down) go to
    PATH, written by the main process (under xdist it sees every worker's reports)."""
    path = os.environ.get("HANDGRAD_FILE_SECONDS")
    if not path or hasattr(session.config, "workerinput") or not _seconds_this_run:
        return
    table = {name: round(s, 1) for name, s in sorted(_seconds_this_run.items())}
    partial = Path(f"{path}.partial")
    partial.write_text(json.dumps(table, indent=0) + "\n")
    partial.replace(path)


EPS64 = float(np.finfo(np.float64).eps)
SMALLEST_SUBNORMAL = float(np.finfo(np.float64).smallest_subnormal)


@pytest.fixture(autouse=True)
def _environment_restored():
    """What a test leaves in ``os.environ`` (written directly, or by a library it calls) is
    undone after it, so the tests after it in the same process run in the same environment
    whichever order xdist gave them (one did leave MKL_NUM_THREADS=2 behind)."""
    before = dict(os.environ)
    yield
    if dict(os.environ) != before:
        os.environ.clear()
        os.environ.update(before)


@pytest.fixture(autouse=True)
def _unseeded_draws_follow_the_test_id(request, monkeypatch):
    """``np.random.default_rng()`` without a seed draws from the operating system: a test that
    reaches one (a learner's slip it checks, ``random_state=None``) would pass or fail by chance.
    In the tests such a call draws from the test's id and a count of the calls instead: every
    call a fresh stream (two unseeded networks still differ), every run the same streams."""
    real_default_rng = np.random.default_rng
    test_id = zlib.crc32(request.node.nodeid.encode())
    calls = itertools.count()

    def default_rng(seed=None):
        return real_default_rng([test_id, next(calls)] if seed is None else seed)

    monkeypatch.setattr(np.random, "default_rng", default_rng)


@pytest.fixture
def cli_here(capsys):
    """Run ``handgrad ARGS`` in this process through ``handgrad.cli.main`` (what the console
    script calls) -> CompletedProcess (text), for the tests whose claim is not about the
    script itself (a subprocess costs an interpreter start and the pandas import, ~0.5 CPU s).
    Warnings are recorded and asserted absent, deprecations aside (Python shows a script the
    others on stderr), so a claim about stderr holds for the script too."""
    from handgrad.cli import main

    def run(*args) -> subprocess.CompletedProcess:
        argv = list(map(str, args))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                status = main(argv)
            except SystemExit as exit_:  # argparse: errors, --help
                status = exit_.code
        out, err = capsys.readouterr()
        shown = [w for w in caught if not issubclass(w.category, DeprecationWarning)]
        assert [str(w.message) for w in shown] == []
        return subprocess.CompletedProcess(argv, status, out, err)

    return run


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


def _params(obj) -> list:
    """Parameters of a Module, or a list of Parameters as given."""
    return obj.parameters() if hasattr(obj, "parameters") else list(obj)


@pytest.fixture
def unchanged():
    """Context manager: assert the parameters of the given modules are bit-identical afterwards.

    Use it outside ``pytest.raises`` so the check runs after the expected exception:

        with unchanged(model), pytest.raises(ValueError, match="NaN"):
            hg.fit(...)
    """

    @contextmanager
    def guard(*objs):
        params = [p for obj in objs for p in _params(obj)]
        before = [p.value.copy() for p in params]
        yield
        for p, old in zip(params, before):
            assert p.value.dtype == old.dtype
            assert np.array_equal(p.value, old), f"parameter {p.name!r} changed"

    return guard


@pytest.fixture
def assert_ulps():
    """assert_ulps(actual, exact, ulps=4): relative error against an mpmath value.

    Passes when |actual - exact| <= ulps * eps * |exact|, with an absolute allowance of one
    subnormal step for results below the float64 range (where 0 or a subnormal is the
    correctly rounded answer).
    """

    def check(actual, exact, ulps: float = 4.0, what: str = "") -> None:
        actual_f = float(actual)
        assert np.isfinite(actual_f), f"{what}: got {actual_f}"
        exact = mpmath.mpf(exact)
        err = abs(mpmath.mpf(actual_f) - exact)
        bound = ulps * EPS64 * abs(exact) + SMALLEST_SUBNORMAL
        assert err <= bound, (
            f"{what}: got {actual_f!r}, exact {mpmath.nstr(exact, 20)}, "
            f"relative error {mpmath.nstr(err / abs(exact), 5) if exact else err}"
        )

    return check


@pytest.fixture
def xor_data() -> tuple[np.ndarray, np.ndarray]:
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([0.0, 1.0, 1.0, 0.0])
    return X, y


@pytest.fixture
def blobs() -> tuple[np.ndarray, np.ndarray]:
    """Seed 004's three-class layout: 50 points each around (0, 0), (3, 3), (6, 0), unit std."""
    gen = np.random.default_rng(42)
    centers = np.array([[0.0, 0.0], [3.0, 3.0], [6.0, 0.0]])
    X = np.vstack([gen.standard_normal((50, 2)) + c for c in centers])
    y = np.repeat(np.arange(3), 50)
    return X, y


@pytest.fixture
def full_mnist_path() -> Path:
    """The full MNIST npz for evaluation (see ../shared/data/README.md), or a skip saying why."""
    env = os.environ.get("HANDGRAD_MNIST")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist.npz")
    path = next((p for p in candidates if p.exists()), None)
    if path is None:
        pytest.skip("full MNIST npz not found (set HANDGRAD_MNIST or put ../shared/data/mnist.npz)")
    return path


# --- Jupyter kernels ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kernel_config(tmp_path_factory):
    """``kernel_config()``: a configuration for nbclient (``NotebookClient(..., config=...)``)
    whose kernel talks over Unix sockets in a folder of its own instead of TCP ports.
    jupyter_client picks a kernel's five ports by binding port 0 and closing the socket; the
    kernel binds them a second or more later, once it has started: another process (the other
    xdist worker's kernel, Chromium, a Dask cluster) can take one in between, and the kernel
    dies at start (jupyter_client issue 487). A socket file in the test's folder has no such
    window."""
    config_module = pytest.importorskip("traitlets.config", reason="the test extra installs it")

    def config():
        config = config_module.Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(tmp_path_factory.mktemp("kernel") / "ipc")
        return config

    return config


# --- a real browser (report and playground pages) --------------------------------------------


def chromium_executable() -> str | None:
    """The system Chromium (Debian's package; `.ci/run` installs it when missing), or None."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


# Flags for a headless Chromium on a machine with no network but the loopback.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Playwright's waits (goto, click, wait_for_function, screenshot) give up after 30 s by
# default; on a loaded CI machine a page can take longer. Every wait is for an event, so a
# longer cap costs a passing test nothing.
BROWSER_WAIT_CAP_MS = 120_000


class PatientBrowser:
    """The Browser, whose new pages and contexts wait up to ``BROWSER_WAIT_CAP_MS``."""

    def __init__(self, browser) -> None:
        self._browser = browser

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        context.set_default_timeout(BROWSER_WAIT_CAP_MS)
        return context

    def new_page(self, **options):
        page = self._browser.new_page(**options)
        page.set_default_timeout(BROWSER_WAIT_CAP_MS)
        return page

    def __getattr__(self, name: str):
        return getattr(self._browser, name)


@pytest.fixture(scope="session")
def browser():
    """A Playwright Chromium browser for the session; skips with a reason without one."""
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium found (apt-get install chromium); browser tests skipped")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield PatientBrowser(launched)
        finally:
            launched.close()


# --- a Dask cluster started (and stopped) by the tests themselves -----------------------------


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
    """A two-worker cluster and its client. The nannies write their workers' variables
    (OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1, MKL_NUM_THREADS=1, PYTHONHASHSEED) into this
    process's environment; they are put back once the workers are up and again when the
    cluster closes (a restarted worker writes them again), so the tests after run with the
    environment the session started with (tests/sweep/test_cluster_fixture_environ.py)."""
    pytest.importorskip("distributed", reason="the sweep extra is not installed")
    import dask

    from handgrad.sweep.execute import _environ_kept_from_nannies

    # Dask gives up on a connection after 30 s; a worker starting on a loaded CI machine can
    # take longer (the nannies pass this configuration on to their workers)
    patient = {"distributed.comm.timeouts.connect": "120s", "distributed.comm.timeouts.tcp": "120s"}
    with (
        dask.config.set(patient),
        _environ_kept_from_nannies() as restore_environ,
        _local_cluster() as cluster,
    ):
        restore_environ()
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
