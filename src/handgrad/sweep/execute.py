"""Running the trainings: in this process one after another, or as Dask tasks.

Both ways call the same function (``train_trial``) with one BLAS thread, so the same setting
and seed give the same bits wherever they run. On Dask a task trains one training or, when
trainings are short, a batch of them (``batches``). Each finished task's trainings are handed
to ``on_done`` at once (the caller writes one record per training), in the order the tasks
finish.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

from ._pipeline import BLAS_ENV, _one_blas_thread, train_trial
from .batches import Batcher
from .grid import Trial

__all__ = [
    "Progress",
    "run_serial",
    "run_dask",
    "train_batch",
    "dask_client",
    "parallel_map",
    "install_message",
]


def install_message() -> str:
    """What to do without Dask, fitted to how handgrad was installed."""
    from ..install import install_hint

    return f"handgrad sweep needs Dask: {install_hint('sweep')}"


Finished = tuple[Trial, dict[str, Any], int]  # (trial, measured part, attempts)
OnDone = Callable[[list[Finished]], None]  # one task's trainings, in the task's order

# Our own LocalCluster's workers spend less of the cores on watching themselves: no sampling
# profiler (2-4 % of a training's CPU), and the event-loop, system and memory monitors at a
# slower pace (a worker process's CPU beyond its training thread: ~5 % -> ~1 %, measured on a
# 200-epoch digits training). The dashboard's profile page stays empty; memory limits are
# still enforced, checked every second instead of every 100 ms.
# And glibc's malloc keeps its defaults: Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536
# (to hand freed memory back to the system sooner), which also fixes malloc's mmap threshold,
# so every array over 128 KiB is a fresh mmap: ~10x the page faults and 4-5 % more CPU per
# training than in a plain process (200-epoch digits trainings, measured). None = unset; a
# value in this process's environment still wins.
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
}


class Progress:
    """One status line on a terminal: a bar, trainings done, running and failed, elapsed time."""

    def __init__(self, total: int, stream: TextIO | None = None, slots: int = 1):
        self.total, self.slots = total, slots
        self.done = self.failed = 0
        self.stream = stream
        self.start = time.perf_counter()
        self.shown = False

    def update(self, status: str) -> None:
        self.done += 1
        self.failed += status != "ok"
        self.show()

    def show(self) -> None:
        if self.stream is None or not self.total:
            return
        self.shown = True
        running = min(self.slots, self.total - self.done)
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        seconds = int(time.perf_counter() - self.start)
        self.stream.write(
            f"\rsweep [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} done, "
            f"{running} running, {self.failed} failed, {seconds // 60}:{seconds % 60:02d}"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _error(exc: BaseException) -> dict[str, Any]:
    """The measured part of a training that never finished: its reason."""
    text = " ".join(str(exc).split()) or "(no message)"
    return {"status": "error", "reason": f"{type(exc).__name__}: {text}"}


def train_batch(
    dataset: Any, configs: list[dict[str, Any]], max_retries: int
) -> list[tuple[dict[str, Any], int]]:
    """Train each configuration in turn in this process: [(measured part, attempts)].

    A training that raises is tried again up to ``max_retries`` times, then recorded as an
    error with its reason; the next training of the batch runs either way."""
    return [_train_with_retries(dataset, config, max_retries) for config in configs]


def _train_with_retries(
    dataset: Any, config: dict[str, Any], max_retries: int
) -> tuple[dict[str, Any], int]:
    for attempt in range(1, max_retries + 2):
        try:
            return train_trial(dataset, config), attempt
        except Exception as exc:  # noqa: BLE001 - one bad setting never stops the sweep
            if attempt > max_retries:
                return _error(exc), attempt
    raise AssertionError("unreachable")  # pragma: no cover


def run_serial(dataset: Any, trials: list[Trial], on_done: OnDone, *, max_retries: int = 2) -> None:
    """Each training in this process, in grid order; an exception is retried, then recorded."""
    for trial in trials:
        [(measured, attempts)] = train_batch(dataset, [trial.config], max_retries)
        on_done([(trial, measured, attempts)])


# --- Dask -----------------------------------------------------------------------------------


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ImportError(install_message()) from None
    return distributed


@contextlib.contextmanager
def dask_client(
    scheduler: Any = None, *, n_workers: int | None = None, max_retries: int = 2, echo=None
) -> Iterator[Any]:
    """A ``distributed.Client``: on a new LocalCluster (``scheduler`` None), on a running
    scheduler (``"tcp://HOST:PORT"``), or the Client given (left open).

    The LocalCluster has one single-threaded worker process per core, BLAS pinned to one
    thread in each, Dask's own monitoring turned down (``QUIET_WORKERS``), workers that exit
    at once when closed (``_exit.ExitAtOnce``), and listens on 127.0.0.1 only. A worker that
    dies while running a training costs that training one of its ``max_retries + 1`` attempts.
    """
    distributed = _distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    import dask

    settings: dict[str, Any] = {"distributed.scheduler.allowed-failures": max_retries}
    if scheduler is None:
        settings.update(QUIET_WORKERS)
    with dask.config.set(settings), _environ_kept_from_nannies() as restore_environ:
        if scheduler is None:
            with _workers_ignore_ctrl_c():
                cluster = distributed.LocalCluster(
                    n_workers=n_workers or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",
                    env=dict(BLAS_ENV),
                    silence_logs=logging.ERROR,  # e.g. the cancelled tasks after a Ctrl-C
                )
            restore_environ()  # the workers have their environment; this process keeps its own
            client = distributed.Client(cluster)
            from ._exit import ExitAtOnce

            client.register_plugin(ExitAtOnce())  # closing waits on the workers' exit
        else:
            cluster = None
            try:
                client = distributed.Client(scheduler, timeout="20s")
            except OSError as exc:
                raise ConnectionError(
                    f"cannot reach the Dask scheduler {scheduler}: {exc}"
                ) from None
        try:
            if echo is not None:
                echo(_describe(client, cluster))
            yield client
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


@contextlib.contextmanager
def _environ_kept_from_nannies() -> Iterator[Callable[[], None]]:
    """Keep this process's environment as it was: each Dask nanny sets its workers'
    variables (``distributed.nanny.pre-spawn-environ``: OMP_NUM_THREADS=1, MKL_NUM_THREADS=1,
    OPENBLAS_NUM_THREADS=1, and PYTHONHASHSEED) in ``os.environ`` of the process that starts
    it, before spawning the worker. Left there, they would pin to one thread every BLAS or
    OpenMP library this process loads later (SciPy's, scikit-learn's) and every subprocess it
    starts. Yields ``restore`` (call it once the workers are up); it runs again on exit (a
    worker restarted during the sweep sets them again). A variable changed since by someone
    else is left alone."""
    import dask
    import distributed  # noqa: F401 - registers the defaults read below (the nannies' variables)

    config = dask.config.get("distributed.nanny.pre-spawn-environ", {})
    # what a nanny writes: a key's configured value when this process has none, and
    # PYTHONHASHSEED=6640 when it has none or "0" (Dask's choice)
    written = {(key, str(value)) for key, value in config.items() if value is not None}
    written.add(("PYTHONHASHSEED", "6640"))
    saved = {key: os.environ.get(key) for key in {*config, "PYTHONHASHSEED"}}

    def restore() -> None:
        for key, value in saved.items():
            now = os.environ.get(key)
            if now == value or (key, now) not in written:
                continue  # untouched, or changed by someone else since
            if value is None:
                del os.environ[key]
            else:
                os.environ[key] = value

    try:
        yield restore
    finally:
        restore()


@contextlib.contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Start processes that ignore SIGINT (the disposition is inherited): Ctrl-C in a terminal
    reaches the whole process group, and only this process should handle it, by cancelling
    the tasks and closing the cluster in order."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _describe(client: Any, cluster: Any) -> str:
    workers = client.scheduler_info().get("workers", {})
    threads = sum(w.get("nthreads", 1) for w in workers.values())
    where = (
        "a local cluster" if cluster is not None else f"the scheduler {client.scheduler.address}"
    )
    text = f"running on {where}: {len(workers)} workers, {threads} threads"
    if cluster is not None and "dashboard" in getattr(cluster.scheduler, "services", {}):
        text += f"; dashboard {client.dashboard_link}"
    return text


def run_dask(
    client: Any,
    dataset: Any,
    trials: list[Trial],
    on_done: OnDone,
    *,
    max_retries: int = 2,
    progress: Progress | None = None,
    per_task: int | None = None,
) -> None:
    """The trainings as tasks on ``client``'s cluster; records are written as tasks finish.

    The data set is sent to every worker once. A task trains one training, or several when
    they are short (``batches.Batcher``; ``per_task`` fixes how many). Two tasks per worker
    thread are in flight, so a worker finds its next task waiting when it finishes one. A
    training that raises is retried in its task (``train_batch``); a worker lost mid-task
    sends the task elsewhere (the scheduler's ``allowed-failures``). A task the scheduler
    cancels because the data set's last copy died with its worker (``scatter`` sends it only
    to the workers running at that moment) is sent again, with the data scattered anew, up to
    ``max_retries`` times. What still fails is recorded with its reason. On Ctrl-C the
    remaining tasks are cancelled; what finished is already on disk.
    """
    distributed = _distributed()
    slots = max(sum(client.nthreads().values()), 1)
    if progress is not None:
        progress.slots = slots
        progress.show()

    def scattered() -> Any:
        # hash=False: a fresh key, never one an interrupted sweep is still releasing
        [future] = client.scatter([dataset], broadcast=True, hash=False)
        return future

    data = scattered()
    run_id = uuid.uuid4().hex[:8]  # fresh task keys: nothing reused from an earlier sweep
    rows, features = dataset.frame.shape
    plan = Batcher(trials, rows, features, slots, per_task=per_task)
    running: dict[Any, tuple[list[Trial], int]] = {}  # future -> (its trials, times sent again)
    finished = distributed.as_completed()

    def submit(batch: list[Trial], resent: int = 0) -> None:
        configs = [t.config for t in batch]
        again = f"-again{resent}" if resent else ""
        key = f"train-{'+'.join(t.key for t in batch)}-{run_id}{again}"  # names its trials
        future = client.submit(
            train_batch, data, configs, max_retries, key=key, retries=max_retries
        )
        running[future] = (batch, resent)
        finished.add(future)

    def submit_next() -> None:
        batch = plan.next_batch()
        if batch:
            submit(batch)

    try:
        for _ in range(2 * slots):
            submit_next()
        for future in finished:
            batch, resent = running.pop(future)
            try:
                # a result whose only copy died with its worker after the task finished is
                # "lost", not failed: result() waits while the scheduler computes it again
                results = future.result()
            except (KeyboardInterrupt, SystemExit):
                raise
            except distributed.client.FutureCancelledError as exc:
                # only Ctrl-C cancels our tasks (below): the scheduler cancelled this one,
                # because the data set it needs is gone (its workers died)
                if resent >= max_retries:
                    results = [(_error(exc), max_retries + 1)] * len(batch)
                else:
                    future.release()
                    if data.status != "finished":
                        data = scattered()
                    submit(batch, resent + 1)
                    continue
            except BaseException as exc:  # noqa: BLE001 - erred after its retries
                results = [(_error(exc), max_retries + 1)] * len(batch)
            future.release()
            for trial, (measured, _) in zip(batch, results):
                plan.learn(trial, measured.get("seconds"))
            submit_next()  # before the records: the workers never wait on the client's disk
            on_done([(t, m, a) for t, (m, a) in zip(batch, results)])
    except BaseException:
        client.cancel(list(running))
        raise


def default_stream() -> TextIO | None:
    """stderr when it is a terminal (the progress line), else nothing."""
    return sys.stderr if sys.stderr.isatty() else None


# --- any function, for loops that are not `handgrad train` (e.g. an experiment's seeds) -----


def _pinned(fn: Callable[[Any, Any], Any], shared: Any, item: Any) -> Any:
    with _one_blas_thread():
        return fn(shared, item)


def parallel_map(
    fn: Callable[[Any, Any], Any],
    items: Iterable[Any],
    *,
    shared: Any = None,
    scheduler: Any = None,
    n_workers: int | None = None,
) -> list[Any]:
    """``[fn(shared, item) for item in items]``, one Dask task per item, in the items' order.

    The same machinery as a sweep, for a loop of one's own (an experiment's seed study):
    ``scheduler`` as in ``run_sweep`` (None: a LocalCluster; ``"serial"``: this process);
    ``shared`` (e.g. the data) is sent to each worker once; ``fn`` travels with Dask's
    pickling (a module-level function of an installed module is the safe kind). BLAS runs
    on one thread in every case, so a deterministic ``fn`` gives the same bits serially and
    distributed. Errors propagate.
    """
    items = list(items)
    if scheduler == "serial":
        return [_pinned(fn, shared, item) for item in items]
    with dask_client(scheduler, n_workers=n_workers, max_retries=0) as client:
        [data] = client.scatter([shared], broadcast=True, hash=False)
        futures = [client.submit(_pinned, fn, data, item, pure=False) for item in items]
        return client.gather(futures)
