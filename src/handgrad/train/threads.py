"""Worker threads for the fast step's large element-wise work (NumPy releases the GIL in
its loops, so threads of one process use several cores).

How many: ``set_threads(n)`` when called, else the CPUs this process may run on
(``os.sched_getaffinity``), lowered by ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS``
when set and by the BLAS's own thread count (which ``threadpoolctl.threadpool_limits``
lowers), so that a user who asked for one thread gets one. The pool is created at first
use and kept for the process.

How the work is split: the caller cuts it into parts, one per thread, none smaller than
``MIN_PER_THREAD`` elements (below that, starting a thread costs more than it saves:
``benchmarks/thread_threshold.py`` measures it), and ``run_parts`` runs them. Only
element-wise work is split (today the batch gather, by rows; the SGD updates use the
BLAS's own threads, ``blas``): each element is computed by the same expression whatever
the thread count, so the bits are the same with 1 thread or 8.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = [
    "set_threads",
    "thread_count",
    "available",
    "busy_elsewhere",
    "run_parts",
    "MIN_PER_THREAD",
]

# the fewest elements worth giving a thread (benchmarks/thread_threshold.py). On the
# 2-vCPU host this was measured on, two threads lost to one at every size up to 4 Mi
# elements (the SGD update and the batch gather: 10-40x slower at 4 Ki, 1.1x at 1 Mi on
# an idle machine, 1.3-1.7x at 4 Mi under load): handing work to a second thread costs
# 20-100 us, and one core already saturates the memory bandwidth. So only work beyond
# that splits; the machinery and its bit-for-bit tests stay for machines where it pays.
MIN_PER_THREAD = 1 << 22

_requested: int | None = None
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_blas: list[Any] | None = None  # threadpoolctl's BLAS controllers, found once
_static: int | None = None  # CPUs and environment limits, read once


def set_threads(n: int | None) -> None:
    """Use ``n`` threads for the fast step's element-wise work (``None``: the default,
    see the module docstring). Bits do not depend on it; only speed does."""
    global _requested
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ValueError(f"threads must be a positive integer or None, got {n!r}")
    _requested = n


def _env_limit(name: str) -> int | None:
    value = os.environ.get(name, "").strip().split(",")[0]
    return int(value) if value.isdigit() and int(value) > 0 else None


def _blas_threads() -> int | None:
    """The smallest thread count of the BLAS libraries loaded (None without threadpoolctl)."""
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _blas = []
        else:
            _blas = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
    counts = [c.get_num_threads() for c in _blas]
    return min(counts) if counts else None


def thread_count() -> int:
    """The threads the fast step may use now (>= 1): the process's CPUs and the
    environment's limits as they were at the first call (as OpenMP reads them once), and
    the BLAS's thread count as it is now."""
    global _static
    if _requested is not None:
        return _requested
    if _static is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        limits = [cpus or os.cpu_count() or 1]
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            limit = _env_limit(name)
            limits += [] if limit is None else [limit]
        _static = min(limits)
    blas = _blas_threads()
    return max(1, _static if blas is None else min(_static, blas))


def available(work: int) -> int:
    """The threads worth using for ``work`` elements now: 1 when too little work to split
    (without asking the system anything), else ``thread_count()`` lowered to the cores
    that other processes leave idle at this moment, unless ``set_threads`` asked for a
    number. A core where another job runs makes a second thread wait for its turn, and the
    split then costs several times what it saves (``benchmarks/thread_threshold.py``)."""
    if work < 2 * MIN_PER_THREAD:
        return 1
    count = thread_count()
    if count > 1 and _requested is None:
        cpus = _static or count
        count = min(count, max(1, cpus - busy_elsewhere()))
    return count


def busy_elsewhere(proc: str = "/proc") -> int:
    """The threads of other processes runnable at this moment: the system's runnable count
    (``/proc/loadavg``) minus this process's own running threads (its BLAS threads
    included, which the load average would count against it); 0 where ``/proc`` is not.

    Not the load average: it counts this process too, so that a training alone on the
    machine, its BLAS on every core, saw a full machine and fell back to one thread."""
    try:
        with open(f"{proc}/loadavg", "rb") as f:
            runnable = int(f.read().split()[3].split(b"/")[0])
        own = 0
        for task in os.listdir(f"{proc}/self/task"):
            try:
                with open(f"{proc}/self/task/{task}/stat", "rb") as f:
                    stat = f.read()
            except OSError:  # a thread that ended meanwhile
                continue
            own += stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] == b"R"
    except (OSError, ValueError, IndexError):
        return 0
    return max(0, runnable - own)


def run_parts(work: Callable[[Any], None], parts: Sequence[Any]) -> None:
    """``work(part)`` for every part: the first in this thread, the others in the pool at
    the same time, under this thread's ``np.errstate``; returns when all are done (an
    exception in any is raised here)."""
    if len(parts) == 1:
        work(parts[0])
        return
    pool = _pool_for(len(parts) - 1)
    errors = dict(np.geterr())  # NumPy's error handling is per thread: the workers take ours
    futures = [pool.submit(_with_errstate, errors, work, part) for part in parts[1:]]
    try:
        work(parts[0])
    finally:
        for f in futures:
            f.result()


def _with_errstate(errors: dict[str, Any], work: Callable[[Any], None], part: Any) -> None:
    with np.errstate(**errors):
        work(part)


def _forget_pool() -> None:
    """In a forked child: the parent's worker threads do not exist here; start anew."""
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _pool_for(workers: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size < workers:
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool = ThreadPoolExecutor(workers, thread_name_prefix="handgrad")
        _pool_size = workers
    return _pool
