"""Where splitting the fast step's element-wise work across threads starts to pay.

    python benchmarks/thread_threshold.py [--threads 2] [--repeats 15]

For batches of 4 Ki to 4 Mi elements (float64 and float32), the fast path's batch gather
of 128 rows on one thread and on ``--threads`` threads (the split forced), alternated call
by call. (The SGD updates no longer split: they use NumPy's BLAS threads,
``benchmarks/blas_threshold.py``.) Prints the median wall microseconds of each and their ratio; the
threshold (``threads.MIN_PER_THREAD``, elements per thread) is the smallest size per
thread from which the split is faster. Wall time: the point is the time saved
with a second core busy. Read it with the load average it prints.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from handgrad.train import fast, threads


def _median_us(fns, repeats: int, inner: int) -> list[float]:
    """Median microseconds per call of each fn, the fns alternated batch by batch."""
    clock = time.perf_counter
    times: list[list[float]] = [[] for _ in fns]
    for fn in fns:
        fn()
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t0 = clock()
            for _ in range(inner):
                fn()
            times[k].append((clock() - t0) / inner * 1e6)
    return [float(np.median(t)) for t in times]


def measure(n: int, dtype, count: int, repeats: int) -> tuple[float, float]:
    """(gather 1 thread, gather split) in microseconds."""
    rng = np.random.default_rng(0)
    saved = threads.MIN_PER_THREAD
    threads.MIN_PER_THREAD = 64
    try:
        width = max(1, n // 128)
        rows = min(20_000, max(1024, (1 << 24) // width))  # at most 16 Mi elements of X
        X = rng.standard_normal((rows, width)).astype(dtype)
        idx = rng.permutation(rows)[:128]
        g1 = fast.BatchGather(X, thread_count=1)
        gn = fast.BatchGather(X, thread_count=count)
        inner = max(1, 200_000 // n)
        b1, bn = _median_us([lambda: g1(idx), lambda: gn(idx)], repeats, inner)
    finally:
        threads.MIN_PER_THREAD = saved
    return b1, bn


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f}; {args.threads} threads against 1; wall us")
    print(f"{'dtype':8s} {'elements':>9s} {'gather 1':>9s} {'split':>9s} {'ratio':>6s}")
    for dtype in (np.float64, np.float32):
        for n in (1 << k for k in range(12, 23, 2)):
            b1, bn = measure(n, dtype, args.threads, args.repeats)
            name = np.dtype(dtype).name
            print(f"{name:8s} {n:9d} {b1:9.1f} {bn:9.1f} {bn / b1:6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
