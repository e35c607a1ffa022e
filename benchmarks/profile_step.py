"""Where one handgrad training step spends its time, phase by phase.

    python benchmarks/profile_step.py W3 float64 [--epochs 5] [--against OTHER/src]

Runs the same calls as ``fit``'s inner loop (``handgrad.train.fast.fast_step``, with
the threads ``fit`` would use now (``--threads N`` sets them, and the BLAS's): the batch
gather, the model's and the loss's kernels, the gradient check, the SGD step), timing each
phase of every step, and prints the median microseconds per step beside the
matrix-multiply bound per step. The phases are timed separately, so the sum is a little
above a real step. (Plain SGD on a small network, W3/W4, computes lr * g inside the
gradient check, which it then tests with one dot product: there "grad check" holds half
of the update and "SGD step" only the subtractions.)

Beside it, step for step, the plain NumPy loop of ``plain_numpy.py`` (its own weights, its
own batch of the same size), timed in the phases it has: the batch (fancy indexing), the
forward pass, the loss with its gradient, and the backward pass with the update (which
that loop interleaves). The two alternate step by step, so a change of the machine's
speed falls on both.

``--against OTHER/src``: another checkout's fast step too (``ab.py``'s loader), its phases
timed in the same rotation, and each phase's median per-step ratio this / other.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

import handgrad as hg
from handgrad.train import batches, blas, threads

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ab  # noqa: E402
import matmul_bound  # noqa: E402
import plain_numpy  # noqa: E402
from workloads import LEARNING_RATE, MODEL_SEED, WORKLOADS, make_data  # noqa: E402

PHASES = ("gather", "forward", "loss", "backward", "grad check", "SGD step")
PLAIN_PHASES = ("gather", "forward", "loss", "backward + update")


class PlainStep:
    """``plain_numpy.train_epoch``'s step, cut into its phases (same code, timed)."""

    def __init__(self, sizes, X: np.ndarray, y: np.ndarray, loss: str):
        self.X, self.y, self.loss = X, y, loss
        self.weights, self.biases = plain_numpy.init_params(sizes, X.dtype, MODEL_SEED)
        self.times: dict[str, list[float]] = {p: [] for p in PLAIN_PHASES}

    def __call__(self, idx: np.ndarray) -> None:
        clock, weights, biases = time.perf_counter, self.weights, self.biases
        t0 = clock()
        xb, yb = self.X[idx], self.y[idx]
        m = xb.shape[0]
        t1 = clock()
        inputs, pre, a = [], [], xb
        for i, (W, b) in enumerate(zip(weights, biases)):
            inputs.append(a)
            z = a @ W + b
            pre.append(z)
            a = np.maximum(z, 0) if i < len(weights) - 1 else z
        t2 = clock()
        if self.loss == "softmax_ce":
            shifted = a - a.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            sums = exp.sum(axis=1, keepdims=True)
            log_probs = shifted - np.log(sums)
            float(-log_probs[np.arange(m), yb].mean())
            grad = exp / sums
            grad[np.arange(m), yb] -= 1
            grad /= m
        else:
            z = a[:, 0]
            float(np.mean(np.maximum(z, 0) - z * yb + np.log1p(np.exp(-np.abs(z)))))
            grad = ((1 / (1 + np.exp(-z))) - yb)[:, None] / m
        t3 = clock()
        for i in range(len(weights) - 1, -1, -1):
            dW = inputs[i].T @ grad
            db = grad.sum(axis=0)
            if i > 0:
                grad = (grad @ weights[i].T) * (pre[i - 1] > 0)
            weights[i] -= LEARNING_RATE * dW
            biases[i] -= LEARNING_RATE * db
        t4 = clock()
        for phase, a_, b_ in zip(PLAIN_PHASES, (t0, t1, t2, t3), (t1, t2, t3, t4)):
            self.times[phase].append(b_ - a_)


def build(package, w, X: np.ndarray, y: np.ndarray):
    """The fast step ``fit`` would build with ``package`` (a handgrad) for workload ``w``."""
    model = package.mlp(list(w.sizes), "relu", seed=MODEL_SEED, dtype=X.dtype)
    loss = (
        package.SoftmaxCrossEntropyLoss() if w.loss == "softmax_ce" else package.BCEWithLogitsLoss()
    )
    opt = package.SGD(model.parameters(), lr=LEARNING_RATE)
    target = loss.prepare_target(y, (X.shape[0], w.sizes[-1]), X.dtype)
    return package.train.fast.fast_step(model, loss, opt, None, X, target, None)


def timed_step(path, idx: np.ndarray, samples: dict[str, list[float]]) -> None:
    """One step of ``path`` on the rows ``idx``, each phase's seconds appended to ``samples``."""
    clock = time.perf_counter
    t0 = clock()
    xb, tb, _ = path.batch(idx)
    t1 = clock()
    out = path.forward(xb)
    t2 = clock()
    path.loss(out, tb)
    t3 = clock()
    path.backward()
    t4 = clock()
    path.gradients_finite()
    t5 = clock()
    path.step()
    t6 = clock()
    for phase, a, b in zip(PHASES, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6)):
        samples[phase].append(b - a)


def profile(
    name: str, dtype: str, epochs: int, steps: int | None = None, against: str | None = None
) -> tuple[dict[str, float], dict[str, float], dict[str, list[float]] | None]:
    """Median microseconds per step: handgrad's phases (and the bound), the plain loop's;
    with ``against``, the other checkout's per-step samples beside this one's (seconds,
    step for step; the ratios are taken by ``ratios``)."""
    w = WORKLOADS[name]
    X, y = make_data(w, dtype)
    path = build(hg, w, X, y)  # as fit builds it
    print(
        f"SGD step and large gradients' check: {blas.describe()} "
        f"(SGD from {blas.MIN_SIZE} elements); "
        f"batch gather: up to {path.batch.thread_count} thread(s)"
    )
    paths = {"this": path}
    if against is not None:
        paths["other"] = build(ab.load_other(against), w, X, y)
    rng = np.random.default_rng(0)
    clock = time.perf_counter
    samples = {key: {p: [] for p in PHASES} for key in paths}
    plain = PlainStep(w.sizes, X, y, w.loss)
    plain_rng = np.random.default_rng(1)
    buffers = matmul_bound.make_buffers(w.sizes, w.batch_size, X.dtype)
    bound_epochs = []
    for epoch in range(epochs):  # alternate a training epoch and a bound epoch: same conditions
        order = batches(X.shape[0], w.batch_size, rng=rng)
        for k, idx in enumerate(itertools.islice(order, steps)):
            keys = list(paths) if (k + epoch) % 2 == 0 else list(paths)[::-1]
            for key in keys:
                timed_step(paths[key], idx, samples[key])
            plain(plain_rng.choice(X.shape[0], len(idx), replace=False))
        start = clock()
        matmul_bound.one_epoch(w.batch_sizes(), *buffers)
        bound_epochs.append(clock() - start)
    medians = {p: float(np.median(v)) * 1e6 for p, v in samples["this"].items()}
    medians["matmul bound"] = float(np.median(bound_epochs)) / w.steps_per_epoch * 1e6
    plain_medians = {p: float(np.median(v)) * 1e6 for p, v in plain.times.items()}
    if against is None:
        return medians, plain_medians, None
    return medians, plain_medians, ratios(samples["this"], samples["other"])


def ratios(this: dict[str, list[float]], other: dict[str, list[float]]) -> dict[str, list[float]]:
    """Per phase and for the whole step: [median this us, median other us, median of the
    per-step ratios this / other, its 25th and 75th percentiles]."""
    this = {**this, "step": [sum(t) for t in zip(*this.values())]}
    other = {**other, "step": [sum(t) for t in zip(*other.values())]}
    out = {}
    for phase in this:
        a, b = np.array(this[phase]), np.array(other[phase])
        q25, q50, q75 = np.percentile(a / b, [25, 50, 75])
        out[phase] = [float(np.median(a)) * 1e6, float(np.median(b)) * 1e6, q50, q25, q75]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("dtype", choices=("float32", "float64"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, help="only the first N steps of each epoch")
    parser.add_argument("--threads", type=int, help="BLAS and handgrad threads (default: as set)")
    parser.add_argument("--against", metavar="OTHER_SRC", help="another checkout's src/ folder")
    args = parser.parse_args(argv)
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        threads.set_threads(args.threads)
    medians, plain, against = profile(
        args.workload, args.dtype, args.epochs, args.steps, args.against
    )
    bound = medians.pop("matmul bound")
    total = sum(medians.values())
    print(f"{args.workload} {args.dtype}: median microseconds per step")
    for phase, us in medians.items():
        print(f"  {phase:13s} {us:9.1f}  {us / total:6.1%}")
    print(f"  {'sum':13s} {total:9.1f}")
    print(f"  matmul bound  {bound:9.1f}  (the step's matrix products alone)")
    plain_total = sum(plain.values())
    print("the plain NumPy loop, alternated step by step:")
    for phase, us in plain.items():
        print(f"  {phase:17s} {us:9.1f}  {us / plain_total:6.1%}")
    print(f"  {'sum':17s} {plain_total:9.1f}  (handgrad / plain: {total / plain_total:.2f})")
    if against is not None:
        print(f"against {args.against}, alternated step by step (median us, per-step ratio):")
        print(f"  {'phase':13s} {'this':>9s} {'other':>9s}  this/other (25th-75th)")
        for phase, (a, b, q50, q25, q75) in against.items():
            print(f"  {phase:13s} {a:9.1f} {b:9.1f}  {q50:.3f} ({q25:.3f}-{q75:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
