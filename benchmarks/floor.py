"""How close to the matrix-multiply bound can any NumPy training loop get?

    python benchmarks/floor.py [--workloads W1,W3] [--repeats 9]

The bound (``matmul_bound.py``) counts only the matrix products of an epoch. A training
step cannot avoid a few other things, and this script times them on top of the bound, in
the same process, alternating epochs so that a change in the machine's load falls on all
of them alike:

- **bound + gather**: the products, plus copying each batch's rows of X out of a fresh
  permutation (``X.take(idx, out=buffer)``): a shuffled minibatch has to be read somewhere.
- **bound + gather + SGD**: plus ``W -= lr * dW`` and ``b -= lr * db`` in place, two
  passes over every parameter (NumPy has no fused a*x+y); lr * g in one call over all
  gradients, kept in one flat vector as handgrad's optimizers keep them.
- **minimal step**: the fastest complete step we know how to write in NumPy: every array
  preallocated, ``out=`` everywhere, the textbook max-shifted softmax (no exact tail), no
  finiteness checks, no bookkeeping. It is what a loop that gives up handgrad's
  guarantees costs, not a loop handgrad could be.

Each row is the median (and min) seconds per epoch over the repeats, and its ratio to the
bound's median. If "bound + gather" alone is above a target ratio, no NumPy loop that
shuffles every epoch meets that target on this machine.

    python benchmarks/floor.py --loop W3 [--rounds 150]

``--loop`` splits handgrad's distance to the floor in two, CPU time at one BLAS thread,
epochs alternated in one process (a callback of one long ``fit`` runs the others): fit's
epoch against the same fast step driven by a bare loop (``fit``'s own work between steps:
history, guard, counters, callbacks), that bare loop against the minimal step (the step's
own work: exact softmax tail, gradient check, buffers, updates), and each against the plain
NumPy loop. Medians of per-round ratios with the 25th-75th percentiles.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matmul_bound  # noqa: E402
from workloads import LEARNING_RATE, WORKLOADS, Workload, make_data  # noqa: E402

ROWS = ("bound", "bound + gather", "bound + gather + SGD", "minimal step")


class MinimalLoop:
    """Preallocated arrays for one workload; ``epoch(kind)`` runs one epoch of a row above."""

    def __init__(self, w: Workload, X: np.ndarray, y: np.ndarray, seed: int = 0):
        self.w, self.X, self.y = w, X, y
        self.rng = np.random.default_rng(seed)
        dtype, b = X.dtype, w.batch_size
        self.bound = matmul_bound.make_buffers(w.sizes, b, dtype, seed)
        rng = np.random.default_rng(seed)
        pairs = list(zip(w.sizes[:-1], w.sizes[1:]))
        self.W0 = [(rng.standard_normal(s) * np.sqrt(2 / s[0])).astype(dtype) for s in pairs]
        self.W = [W.copy() for W in self.W0]
        self.b = [np.zeros(o, dtype) for _, o in pairs]
        # all gradients in one flat vector (as handgrad's optimizers keep them), so that the
        # update scales them in one call; the scratch for lr * g likewise
        self.flat_grad = np.empty(sum(v.size for v in self.W + self.b), dtype)
        self.flat_step = np.empty_like(self.flat_grad)
        grads, steps = _cut(self.flat_grad, self.W + self.b), _cut(self.flat_step, self.W + self.b)
        self.dW, self.db = grads[: len(self.W)], grads[len(self.W) :]
        self.steps = steps
        self.xb = np.empty((b, w.sizes[0]), dtype)
        self.yb = np.empty(b, y.dtype)
        self.acts = [np.empty((b, s), dtype) for s in w.sizes[1:]]  # post-activation
        self.grads = [np.empty((b, s), dtype) for s in w.sizes[1:]]
        self.mask = [np.empty((b, s), bool) for s in w.sizes[1:-1]]
        self.ones = np.ones(b, dtype)
        self.rows = np.arange(b) * w.sizes[-1]

    def reset(self) -> None:
        """Back to the initial weights (a long run of plain SGD, lr 0.01, drifts far off)."""
        for W, W0, b in zip(self.W, self.W0, self.b):
            W[...] = W0
            b.fill(0)

    def epoch(self, kind: str) -> None:
        if kind == "bound":
            matmul_bound.one_epoch(self.w.batch_sizes(), *self.bound)
            return
        n, bs = self.X.shape[0], self.w.batch_size
        order = self.rng.permutation(n)
        for start in range(0, n - bs + 1, bs):  # full batches: the short one is not the point
            idx = order[start : start + bs]
            self.X.take(idx, axis=0, out=self.xb, mode="clip")
            if kind == "minimal step":
                self.y.take(idx, out=self.yb, mode="clip")
                self.step()
            else:
                matmul_bound.one_epoch([bs], *self.bound)
                if kind == "bound + gather + SGD":
                    self.update()

    def step(self) -> None:
        W, b, acts, grads = self.W, self.b, self.acts, self.grads
        a = self.xb
        for i in range(len(W)):
            np.dot(a, W[i], out=acts[i])
            acts[i] += b[i]
            if i < len(W) - 1:
                np.maximum(acts[i], 0, out=acts[i])
            a = acts[i]
        g = grads[-1]
        if self.w.loss == "softmax_ce":  # softmax(z) - onehot(y), divided by the batch size
            np.subtract(a, a.max(axis=1, keepdims=True), out=g)
            np.exp(g, out=g)
            g /= g.sum(axis=1, keepdims=True) * len(g)
            at_label = self.rows + self.yb
            g.put(at_label, g.take(at_label) - 1.0 / len(g))
        else:  # sigmoid(z) - y, divided by the batch size
            np.negative(a, out=g)
            np.exp(g, out=g)
            g += 1.0
            np.divide(1.0, g, out=g)
            g -= self.yb[:, None]
            g /= len(g)
        for i in range(len(W) - 1, -1, -1):
            np.dot((acts[i - 1] if i else self.xb).T, grads[i], out=self.dW[i])
            np.dot(self.ones, grads[i], out=self.db[i])
            if i:
                np.dot(grads[i], W[i].T, out=grads[i - 1])
                np.greater(acts[i - 1], 0, out=self.mask[i - 1])
                grads[i - 1] *= self.mask[i - 1]
        self.update()

    def update(self) -> None:
        np.multiply(self.flat_grad, LEARNING_RATE, out=self.flat_step)
        for p, step in zip(self.W + self.b, self.steps):
            p -= step


def _cut(flat: np.ndarray, like: list[np.ndarray]) -> list[np.ndarray]:
    """Views of ``flat`` shaped like the arrays of ``like``, in order."""
    out, start = [], 0
    for a in like:
        out.append(flat[start : start + a.size].reshape(a.shape))
        start += a.size
    return out


def measure(name: str, dtype: str, repeats: int) -> dict[str, list[float]]:
    w = WORKLOADS[name]
    X, y = make_data(w, dtype)
    loop = MinimalLoop(w, X, y)
    times: dict[str, list[float]] = {row: [] for row in ROWS}
    for row in ROWS:  # warm-up
        loop.epoch(row)
    for r in range(repeats):
        for row in ROWS[r % len(ROWS) :] + ROWS[: r % len(ROWS)]:  # rotate the order
            loop.reset()
            start = time.perf_counter()
            loop.epoch(row)
            times[row].append(time.perf_counter() - start)
    # the gather rows skip the short last batch: scale them to the bound's batch count
    full = w.n_samples // w.batch_size
    for row in ROWS[1:]:
        times[row] = [t * w.steps_per_epoch / full for t in times[row]]
    return times


def markdown(results: dict[str, dict[str, list[float]]]) -> str:
    """A Markdown table of ``measure``'s results, keyed by "W1 float32" and the like."""
    lines = [
        "| workload | what runs | median s/epoch | min | median / bound |",
        "|---|---|---|---|---|",
    ]
    for key, times in results.items():
        bound = float(np.median(times["bound"]))
        for row in ROWS:
            med, low = float(np.median(times[row])), min(times[row])
            label = key if row == "bound" else ""
            lines.append(f"| {label} | {row} | {med:.4g} | {low:.4g} | {med / bound:.2f} |")
    return "\n".join(lines) + "\n"


def loop_parts(name: str, rounds: int) -> dict[str, np.ndarray]:
    """CPU seconds per epoch (``--loop``): fit, the bare fast-step loop, the minimal step
    (scaled to the epoch's batches) and the plain loop, one of each per round."""
    import handgrad as hg
    import plain_numpy
    from handgrad.train import batches, fast
    from workloads import MODEL_SEED

    w = WORKLOADS[name]
    X, y = make_data(w, "float64")
    clock = time.process_time

    def pieces():
        model = hg.mlp(list(w.sizes), "relu", seed=MODEL_SEED)
        loss = hg.SoftmaxCrossEntropyLoss() if w.loss == "softmax_ce" else hg.BCEWithLogitsLoss()
        return model, loss, hg.SGD(model.parameters(), lr=LEARNING_RATE)

    model, loss, opt = pieces()
    target = loss.prepare_target(y, (X.shape[0], w.sizes[-1]), X.dtype)
    step, rng = fast.fast_step(model, loss, opt, None, X, target, None), np.random.default_rng(0)

    def bare() -> None:  # fit's inner loop without fit: the same kernels and checks
        for idx in batches(len(X), w.batch_size, rng=rng):
            xb, tb, _ = step.batch(idx)
            step.loss(step.forward(xb), tb)
            step.backward()
            if not step.gradients_finite():
                raise FloatingPointError("a gradient is not finite")
            step.step()

    minimal = MinimalLoop(w, X, y)
    full = w.n_samples // w.batch_size

    def floor_epoch() -> None:
        minimal.reset()
        minimal.epoch("minimal step")

    weights, biases = plain_numpy.init_params(w.sizes, X.dtype, MODEL_SEED)
    plain_rng = np.random.default_rng(0)

    def plain() -> None:
        plain_numpy.train_epoch(
            X, y, weights, biases, w.loss, w.batch_size, LEARNING_RATE, plain_rng
        )

    others = {"bare step loop": bare, "minimal step": floor_epoch, "plain NumPy": plain}
    times: dict[str, list[float]] = {"fit": [], **{k: [] for k in others}}

    class Rivals(hg.train.Callback):
        def on_train_begin(self, ctx) -> None:
            self.resumed = clock()

        def on_epoch_end(self, ctx) -> None:
            times["fit"].append(clock() - self.resumed)
            names = list(others)
            shift = ctx.epoch % len(names)
            for key in names[shift:] + names[:shift]:
                started = clock()
                others[key]()
                times[key].append(clock() - started)
            self.resumed = clock()

    model, loss, opt = pieces()
    hg.fit(model, loss, opt, X, y, epochs=rounds + 1, batch_size=w.batch_size, seed=0,
           callbacks=[Rivals()])  # fmt: skip
    times["minimal step"] = [t * w.steps_per_epoch / full for t in times["minimal step"]]
    return {k: np.array(v[1:]) for k, v in times.items()}  # (the first round warms up)


def print_loop_parts(name: str, rounds: int) -> None:
    t = loop_parts(name, rounds)
    steps = WORKLOADS[name].steps_per_epoch
    print(f"{name}: CPU ms per epoch, one BLAS thread, {rounds} rounds")
    for key, v in t.items():
        print(f"  {key:15s} {np.median(v) * 1e3:.3f}")
    pairs = [
        ("fit", "bare step loop"),
        ("bare step loop", "minimal step"),
        ("fit", "minimal step"),
        ("fit", "plain NumPy"),
        ("bare step loop", "plain NumPy"),
        ("minimal step", "plain NumPy"),
    ]
    for a, b in pairs:
        q25, q50, q75 = np.percentile(t[a] / t[b], [25, 50, 75])
        print(f"  {a} / {b}: {q50:.3f} ({q25:.3f}-{q75:.3f})")
    for a, b in pairs[:2]:
        us = np.median(t[a] - t[b]) / steps * 1e6
        print(f"  {a} - {b}: {us:.2f} us a step")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--json", action="store_true", help="print the times as one JSON line")
    parser.add_argument("--loop", metavar="WORKLOAD", help="split fit's distance to the floor")
    parser.add_argument("--rounds", type=int, default=150, help="rounds of --loop")
    args = parser.parse_args(argv)
    if args.loop:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            print_loop_parts(args.loop, args.rounds)
        return 0
    results = {}
    for name in args.workloads.split(","):
        for dtype in WORKLOADS[name].dtypes:
            results[f"{name} {dtype}"] = measure(name, dtype, args.repeats)
    print(json.dumps(results) if args.json else markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
