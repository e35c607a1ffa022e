"""From what size NumPy's BLAS axpy beats the NumPy expression for ``w -= lr * g``.

    python benchmarks/blas_threshold.py [--repeats 15]

For sizes from 256 to 256 Ki elements (float64 and float32): ``blas.axpy`` (the BLAS
forced, address lookups and the ctypes call included) against the two NumPy passes it
replaces, alternated batch by batch in one process. Prints the median wall microseconds
of each and their ratio; ``blas.MIN_SIZE`` is the smallest size from which the BLAS wins
at one thread and at the default threads (run it both ways: ``OPENBLAS_NUM_THREADS=1``).
Read it with the load average it prints.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from handgrad.train import blas
from thread_threshold import _median_us  # (run as a script: benchmarks/ is on the path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    print(f"load {os.getloadavg()[0]:.2f}; {blas.describe()}")
    print(f"{'dtype':8} {'elements':>9} {'numpy us':>9} {'blas us':>9} {'blas/numpy':>10}")
    saved = blas.MIN_SIZE
    blas.MIN_SIZE = 1  # the BLAS for every size
    try:
        for dtype in (np.float64, np.float32):
            for size in [1 << k for k in range(8, 19)]:
                rng = np.random.default_rng(0)
                w, g = rng.standard_normal((2, size)).astype(dtype)
                buf = np.empty_like(w)

                def numpy_update(w=w, g=g, buf=buf) -> None:
                    np.multiply(g, 1e-3, out=buf)
                    np.subtract(w, buf, out=w)

                def blas_update(w=w, g=g, buf=buf) -> None:
                    blas.axpy(-1e-3, g, w, buf)

                inner = max(1, (1 << 20) // size)
                a, b = _median_us([numpy_update, blas_update], args.repeats, inner)
                name = np.dtype(dtype).name
                print(f"{name:8} {size:9d} {a:9.2f} {b:9.2f} {b / a:10.2f}")
    finally:
        blas.MIN_SIZE = saved
    print(f"load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
