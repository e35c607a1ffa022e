"""A second worker for the tour: chapters run two at a time on a machine with two cores.

The tour's own process takes the chapters one after the other from a shared queue; a helper
thread takes from the same queue and runs each of its chapters in one worker process. Each
chapter writes only its own folder, so the two never touch the same file; the report is
written afterwards in the course's order, as if the tour had run one chapter at a time.

The worker process is started before any thread exists (forking a process that runs
threads can deadlock it), and it inherits the tour's state where the platform forks.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ... import experiments as registry

__all__ = ["Outcome", "SharedQueue", "Helper"]


@dataclass
class Outcome:
    """What a chapter run in the worker process sends back."""

    name: str
    seconds: float
    title: str = ""
    stage: str = ""
    skipped: list[str] = field(default_factory=list)
    error: str | None = None
    trace: str = ""


def run_in_worker(name: str, out: Path, seed: int, quick: bool, options: dict) -> Outcome:
    """The worker process's side: one chapter, its exception caught and sent back as text."""
    started = time.perf_counter()
    try:
        result = registry.run_experiment(name, seed=seed, out_dir=out, quick=quick, **options)
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - reported in its section
        interrupted = isinstance(exc, KeyboardInterrupt)
        error = "interrupted (Ctrl-C)" if interrupted else f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - started
        return Outcome(name, seconds, error=error, trace=traceback.format_exc())
    return Outcome(name, result.seconds, result.title, result.stage, list(result.skipped))


class SharedQueue:
    """The tour's chapters as (position, name), taken one at a time by either worker."""

    def __init__(self, names: list[str]):
        self._jobs = deque(enumerate(names, 1))
        self._lock = threading.Lock()
        self.stopped = False

    def take(self) -> tuple[int, str] | None:
        with self._lock:
            if self.stopped or not self._jobs:
                return None
            return self._jobs.popleft()

    def stop(self) -> None:
        with self._lock:
            self.stopped = True


def _context():
    """fork where the platform has it (the worker inherits the tour's state), else spawn."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class Helper:
    """The second worker: a thread feeding one worker process from the shared queue.

    ``options(name)`` gives a chapter's keyword options; ``report(k, outcome)`` is called in
    the helper thread as each of its chapters ends.
    """

    def __init__(
        self,
        queue: SharedQueue,
        run_args: tuple[Path, int, bool],
        options: Callable[[str], dict],
        report: Callable[[int, Outcome], None],
        announce: Callable[[int, str], None],
    ):
        self.queue, self.run_args, self.options = queue, run_args, options
        self.report, self.announce = report, announce
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=_context())
        self.pool.submit(int).result()  # start the worker now, while no thread runs
        self.thread = threading.Thread(target=self._loop, name="handgrad-tour-helper", daemon=True)

    def start(self) -> Helper:
        self.thread.start()
        return self

    def _loop(self) -> None:
        out, seed, quick = self.run_args
        while (job := self.queue.take()) is not None:
            k, name = job
            self.announce(k, name)
            started = time.perf_counter()
            try:
                future = self.pool.submit(run_in_worker, name, out, seed, quick, self.options(name))
                outcome = future.result()
                if outcome.error == "interrupted (Ctrl-C)":
                    self.queue.stop()  # Ctrl-C: no chapter starts after this one
            except BaseException as exc:  # noqa: BLE001 - a lost worker, Ctrl-C
                seconds = time.perf_counter() - started
                outcome = Outcome(name, seconds, error=f"{type(exc).__name__}: {exc}")
                outcome.trace = traceback.format_exc()
                self.queue.stop()
            self.report(k, outcome)

    def finish(self, interrupted: bool = False) -> None:
        """Wait for the helper's last chapter (or cancel it on Ctrl-C), then stop the worker."""
        if interrupted:
            self.queue.stop()
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.thread.join()
        self.pool.shutdown(wait=True)
