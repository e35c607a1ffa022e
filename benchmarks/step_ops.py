"""A large-layer step (W1, W2) operation by operation, at the threads set now.

    python benchmarks/step_ops.py W2 float64 [--steps 300] [--threads N] [--fused [--clock cpu]]

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
weights; then whole steps both ways, alternated, the fused ones checking the first
layer's gradient by a certificate (sum |X| * sum |G| far below the largest float) instead
of reading it. The fast step does not fuse: the gradient would be neither written nor
checked before the update (docs/performance.md, "Large layers at default threads, fifth
pass").
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


class StepCalls:
    """A workload's weights and the fast step's buffers; ``step`` makes one SGD step's
    calls, timed by a ``Timer``."""

    def __init__(self, name: str, dtype: str, seed: int = 0):
        w = WORKLOADS[name]
        self.X, _ = make_data(w, dtype)
        dt, m, sizes = self.X.dtype, w.batch_size, w.sizes
        self.rng = rng = np.random.default_rng(seed)
        pairs = list(zip(sizes[:-1], sizes[1:]))
        self.weights = [(rng.standard_normal((i, o)) * np.sqrt(2 / i)).astype(dt) for i, o in pairs]
        self.biases = [np.zeros(o, dt) for o in sizes[1:]]
        self.dW = [np.empty_like(W) for W in self.weights]
        self.db = [np.empty_like(b) for b in self.biases]
        self.scratch = [np.empty_like(W) for W in self.weights]
        self.ys = [np.empty((m, o), dt) for o in sizes[1:]]
        self.dxs = [np.empty((m, i), dt) for i in sizes[:-1]]
        self.masks = [np.empty((m, o), np.bool_) for o in sizes[1:]]
        self.ones, self.zero = np.ones(m, dt), np.zeros((), dt)
        self.xb = np.empty((m, sizes[0]), dt)
        self.m, self.outputs, self.gemm = m, sizes[-1], None

    def step(self, t: Timer, fused_first: bool = False) -> None:
        """One step's calls. ``fused_first``: the first layer's weight gradient, its check
        and its update become a certificate (the sums of |X| and |G| by asum) and one gemm
        W <- W - lr X^T G at the update, as a fused fast step would do them."""
        X, xb, zero, weights, dW = self.X, self.xb, self.zero, self.weights, self.dW
        last = len(weights) - 1
        idx = self.rng.choice(X.shape[0], self.m, replace=False)
        t("gather", X.take, idx, axis=0, out=xb, mode="clip")
        acts = [xb]
        for i, (W, b, y) in enumerate(zip(weights, self.biases, self.ys)):
            t(f"{PRODUCT[0]} {i}", acts[i].dot, W, out=y)
            t(f"bias add {i}", np.add, y, b, out=y)
            if i < last:
                t(f"ReLU {i}", np.maximum, y, zero, out=y)
            acts.append(y)
        g = (self.rng.standard_normal((self.m, self.outputs)) / self.m).astype(X.dtype)
        for i in range(last, -1, -1):
            if not (fused_first and i == 0):
                t(f"{PRODUCT[1]} {i}", acts[i].T.dot, g, out=dW[i])
            t(f"bias sum {i}", self.ones.dot, g, out=self.db[i])
            if i > 0:
                dx, mask = self.dxs[i], self.masks[i - 1]
                t(f"{PRODUCT[2]} {i}", g.dot, weights[i].T, out=dx)
                t(f"ReLU mask {i - 1}", np.greater, acts[i], zero, out=mask)
                t(f"ReLU gradient {i - 1}", np.multiply, dx, mask, out=dx)
                g = dx
        for i, grad in enumerate(dW):
            if fused_first and i == 0:
                t("certificate 0", _certificate, xb, g)
            elif grad.size > blas.DOT_CHECK_MAX:
                t(f"finite? {i}", blas.all_finite, grad)
        for i, (W, grad, b, gb) in enumerate(zip(weights, dW, self.biases, self.db)):
            if fused_first and i == 0:
                t(f"{PRODUCT[1]} and SGD 0", self._fused, xb, g, W)
            elif W.size >= blas.MIN_SIZE:
                t(f"SGD weight {i}", blas.axpy, -LEARNING_RATE, grad, W, self.scratch[i])
            else:
                t(f"SGD weight {i}", _sgd, W, grad, self.scratch[i])
            t(f"SGD bias {i}", _sgd, b, gb, np.empty_like(gb))

    def _fused(self, x: np.ndarray, g: np.ndarray, w: np.ndarray) -> None:
        """w <- w - lr x^T g by one gemm (row-major 101, x transposed 112, g as it is 111)."""
        if self.gemm is None:
            self.gemm = _gemm(w.dtype)
        (k, i), o = x.shape, w.shape[1]
        self.gemm(101, 112, 111, i, o, k, -LEARNING_RATE, x.ctypes.data, i, g.ctypes.data, o,
                  1.0, w.ctypes.data, o)  # fmt: skip


def _certificate(x: np.ndarray, g: np.ndarray) -> bool:
    """True if x^T g is surely finite: |x^T g|_ij <= sum|x| * sum|g|, with a factor 16 of
    room for the rounding of the two sums and of the product's terms (ample while the
    element counts times the unit roundoff stay well below 1, as for a batch); a NaN or
    inf in either makes its sum NaN or inf, and the answer False."""
    asum = blas._KERNELS[x.dtype][2]
    bound = asum(x.size, x.ctypes.data, 1) * asum(g.size, g.ctypes.data, 1)
    return bool(bound < float(np.finfo(x.dtype).max) / 16)


def step_ops(name: str, dtype: str, steps: int, seed: int = 0) -> dict[str, float]:
    """Median microseconds of each call of ``steps`` SGD steps of workload ``name``."""
    calls, t = StepCalls(name, dtype, seed), Timer()
    for _ in range(steps):
        calls.step(t)
    return t.medians()


def whole_steps(
    name: str, dtype: str, steps: int, clock: str = "wall", seed: int = 0
) -> dict[str, float]:
    """Steps as the fast step makes them and with the first layer fused, alternated, each
    timed whole on ``clock`` ("wall" or "cpu": this process's CPU time, steady on a loaded
    host at one thread): median microseconds of each kind and the median of the per-pair
    ratios fused / as now."""
    now = time.process_time if clock == "cpu" else time.perf_counter
    calls, times = StepCalls(name, dtype, seed), {False: [], True: []}
    for k in range(steps):
        for fused_first in (False, True) if k % 2 else (True, False):
            started = now()
            calls.step(Timer(), fused_first)
            times[fused_first].append(now() - started)
    plain, fused_ = np.array(times[False]), np.array(times[True])
    return {
        "as now": float(np.median(plain)) * 1e6,
        "first layer fused": float(np.median(fused_)) * 1e6,
        "ratio": float(np.median(fused_ / plain)),
    }


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
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall", help="for --fused")
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
        whole = whole_steps(args.workload, args.dtype, args.steps, args.clock)
        print(f"whole steps, alternated ({args.clock} clock):")
        print(f"  as now {whole['as now']:9.1f}")
        print(f"  first layer fused {whole['first layer fused']:9.1f}")
        print(f"  median per-step ratio fused / as now {whole['ratio']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
