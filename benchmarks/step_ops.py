"""A large-layer step (W1, W2) operation by operation, at the threads set now.

    python benchmarks/step_ops.py W2 float64 [--steps 300] [--threads N] [--fused]

Runs the NumPy and BLAS calls of the fast step's SGD step in their order, on buffers
shaped like the fast step's: the batch gather; each layer's product, bias add and ReLU
(in place); from a synthetic upstream gradient, each layer's weight-gradient product,
bias sum, input-gradient product, the ReLU's mask and the masked gradient (in place);
the large gradients' finiteness (``blas.all_finite``); the SGD update (``blas.axpy`` for
the large weights). It times every call and prints each one's median microseconds, then
the products' total against the rest: what a step spends outside its matrix products.
The loss (10 columns) is left out: ``profile_step.py`` times it with the real step.

``--fused``: also, alternated with the above, the first layer's weight gradient, its
finiteness check and its update as the fast step does them (product into the gradient,
sum of |g|, y += a x) against one BLAS product that updates the weights in place (gemm
with beta = 1, alpha = -lr: W <- W - lr X^T G), and how far apart the two leave the
weights. The fast step does not do that: the gradient would be neither written nor
checked before the update (docs/performance.md, "Large layers, fifth pass").
"""

from __future__ import annotations

import argparse
import ctypes
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from handgrad.train import blas

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workloads import LEARNING_RATE, WORKLOADS, make_data  # noqa: E402

PRODUCT = ("forward product", "weight gradient", "input gradient")


class Timer:
    """Calls ``f(*args)`` and keeps its seconds under ``name`` (median later)."""

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = {}

    def __call__(self, name: str, f: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        start = time.perf_counter()
        f(*args, **kwargs)
        self.samples.setdefault(name, []).append(time.perf_counter() - start)

    def medians(self) -> dict[str, float]:
        return {k: float(np.median(v)) * 1e6 for k, v in self.samples.items()}


def step_ops(name: str, dtype: str, steps: int, seed: int = 0) -> dict[str, float]:
    """Median microseconds of each call of ``steps`` SGD steps of workload ``name``."""
    w = WORKLOADS[name]
    X, _ = make_data(w, dtype)
    dt, m, sizes = X.dtype, w.batch_size, w.sizes
    rng = np.random.default_rng(seed)
    pairs = list(zip(sizes[:-1], sizes[1:]))
    weights = [(rng.standard_normal((i, o)) * np.sqrt(2 / i)).astype(dt) for i, o in pairs]
    biases = [np.zeros(o, dt) for o in sizes[1:]]
    dW = [np.empty_like(W) for W in weights]
    db = [np.empty_like(b) for b in biases]
    scratch = [np.empty_like(W) for W in weights]
    ys = [np.empty((m, o), dt) for o in sizes[1:]]
    dxs = [np.empty((m, i), dt) for i in sizes[:-1]]
    masks = [np.empty((m, o), np.bool_) for o in sizes[1:]]
    ones, zero, xb = np.ones(m, dt), np.zeros((), dt), np.empty((m, sizes[0]), dt)
    t, last = Timer(), len(weights) - 1
    for _ in range(steps):
        idx = rng.choice(X.shape[0], m, replace=False)
        t("gather", X.take, idx, axis=0, out=xb, mode="clip")
        acts = [xb]
        for i, (W, b, y) in enumerate(zip(weights, biases, ys)):
            t(f"{PRODUCT[0]} {i}", acts[i].dot, W, out=y)
            t(f"bias add {i}", np.add, y, b, out=y)
            if i < last:
                t(f"ReLU {i}", np.maximum, y, zero, out=y)
            acts.append(y)
        g = (rng.standard_normal((m, sizes[-1])) / m).astype(dt)
        for i in range(last, -1, -1):
            t(f"{PRODUCT[1]} {i}", acts[i].T.dot, g, out=dW[i])
            t(f"bias sum {i}", ones.dot, g, out=db[i])
            if i > 0:
                t(f"{PRODUCT[2]} {i}", g.dot, weights[i].T, out=dxs[i])
                t(f"ReLU mask {i - 1}", np.greater, acts[i], zero, out=masks[i - 1])
                t(f"ReLU gradient {i - 1}", np.multiply, dxs[i], masks[i - 1], out=dxs[i])
                g = dxs[i]
        for i, grad in enumerate(dW):
            if grad.size > blas.DOT_CHECK_MAX:
                t(f"finite? {i}", blas.all_finite, grad)
        for i, (W, grad, b, gb) in enumerate(zip(weights, dW, biases, db)):
            if W.size >= blas.MIN_SIZE:
                t(f"SGD weight {i}", blas.axpy, -LEARNING_RATE, grad, W, scratch[i])
            else:
                t(f"SGD weight {i}", _sgd, W, grad, scratch[i])
            t(f"SGD bias {i}", _sgd, b, gb, np.empty_like(gb))
    return t.medians()


def _sgd(w: np.ndarray, g: np.ndarray, buf: np.ndarray) -> None:
    np.multiply(g, LEARNING_RATE, out=buf)
    np.subtract(w, buf, out=w)


def _gemm(dtype: np.dtype) -> Callable[..., None]:
    """NumPy's own CBLAS gemm (the lookup of ``handgrad.train.blas``)."""
    prefix, suffix, integer = blas._names()
    letter, scalar = ("d", ctypes.c_double) if dtype == np.float64 else ("s", ctypes.c_float)
    gemm = getattr(blas._core_library(), f"{prefix}cblas_{letter}gemm{suffix}")
    pointer = ctypes.c_void_p
    gemm.argtypes = [integer] * 6 + [scalar, pointer, integer, pointer, integer, scalar]
    gemm.argtypes += [pointer, integer]
    gemm.restype = None
    return gemm


def fused(name: str, dtype: str, steps: int, seed: int = 0) -> tuple[dict[str, float], float]:
    """The first layer's gradient, check and update as the fast step does them against
    one gemm W <- W - lr X^T G, alternated; (median microseconds, the largest difference
    of the two weights after ``steps`` updates each, in units of the weights' largest)."""
    w = WORKLOADS[name]
    dt, m, (i, o) = np.dtype(dtype), w.batch_size, w.sizes[:2]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((m, i)).astype(dt)
    g = (rng.standard_normal((m, o)) / m).astype(dt)
    now_w = rng.standard_normal((i, o)).astype(dt)
    fused_w, grad, scratch = now_w.copy(), np.empty_like(now_w), np.empty_like(now_w)
    gemm, lr = _gemm(dt), LEARNING_RATE

    def now() -> None:
        x.T.dot(g, out=grad)
        blas.all_finite(grad)
        blas.axpy(-lr, grad, now_w, scratch)

    def one_gemm() -> None:  # row-major (101), X transposed (112), G as it is (111)
        gemm(101, 112, 111, i, o, m, -lr, x.ctypes.data, i, g.ctypes.data, o, 1.0,
             fused_w.ctypes.data, o)  # fmt: skip

    t = Timer()
    for k in range(steps):
        runs = [("gradient, check, update", now), ("one gemm, beta = 1", one_gemm)]
        for label, f in runs if k % 2 else runs[::-1]:
            t(label, f)
    return t.medians(), float(np.abs(now_w - fused_w).max() / np.abs(now_w).max())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=("W1", "W2"))
    parser.add_argument("dtype", choices=("float32", "float64"))
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, help="BLAS threads (default: as set)")
    parser.add_argument("--fused", action="store_true", help="also time the fused update")
    args = parser.parse_args(argv)
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    medians = step_ops(args.workload, args.dtype, args.steps)
    products = sum(us for k, us in medians.items() if k.startswith(PRODUCT))
    total = sum(medians.values())
    print(f"{args.workload} {args.dtype}: median microseconds per call")
    for k, us in medians.items():
        print(f"  {k:22s} {us:8.1f}")
    print(f"  {'products':22s} {products:8.1f}")
    print(f"  {'the rest':22s} {total - products:8.1f}  (sum / products {total / products:.3f})")
    if args.fused:
        times, difference = fused(args.workload, args.dtype, args.steps)
        print("first layer's weight gradient and SGD update:")
        for k, us in times.items():
            print(f"  {k:26s} {us:8.1f}")
        print(f"  after {args.steps} updates each, largest difference / largest weight: "
              f"{difference:.3g}" + (" (the same bits)" if difference == 0 else ""))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
