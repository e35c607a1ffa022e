"""Where one handgrad training step spends its time, phase by phase.

    python benchmarks/profile_step.py W3 float64 [--epochs 5]

Runs the same calls as ``fit``'s inner loop (``handgrad.fastpath.FastStep``: the batch
gather, the model's and the loss's kernels, the gradient check, the SGD step), timing each
phase of every step, and prints the median microseconds per step beside the
matrix-multiply bound per step. The phases are timed separately, so the sum is a little
above a real step.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import handgrad as hg
from handgrad.fastpath import FastStep
from handgrad.train import _loss_target, batches

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matmul_bound  # noqa: E402
from workloads import LEARNING_RATE, MODEL_SEED, WORKLOADS, make_data  # noqa: E402

PHASES = ("gather", "forward", "loss", "backward", "grad check", "SGD step")


def profile(name: str, dtype: str, epochs: int) -> dict[str, float]:
    w = WORKLOADS[name]
    X, y = make_data(w, dtype)
    model = hg.mlp(list(w.sizes), "relu", seed=MODEL_SEED, dtype=X.dtype)
    loss = hg.SoftmaxCrossEntropyLoss() if w.loss == "softmax_ce" else hg.BCEWithLogitsLoss()
    opt = hg.SGD(model.parameters(), lr=LEARNING_RATE)
    target = _loss_target(loss, y, (X.shape[0], w.sizes[-1]), X.dtype)
    path = FastStep(model, loss, opt, None, X, target, None)
    rng = np.random.default_rng(0)
    clock = time.perf_counter
    samples: dict[str, list[float]] = {p: [] for p in PHASES}
    buffers = matmul_bound.make_buffers(w.sizes, w.batch_size, X.dtype)
    bound_epochs = []
    for _ in range(epochs):  # alternate a training epoch and a bound epoch: same conditions
        for idx in batches(X.shape[0], w.batch_size, rng=rng):
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
        start = clock()
        matmul_bound.one_epoch(w.batch_sizes(), *buffers)
        bound_epochs.append(clock() - start)
    medians = {p: float(np.median(v)) * 1e6 for p, v in samples.items()}
    medians["matmul bound"] = float(np.median(bound_epochs)) / w.steps_per_epoch * 1e6
    return medians


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("dtype", choices=("float32", "float64"))
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    medians = profile(args.workload, args.dtype, args.epochs)
    bound = medians.pop("matmul bound")
    total = sum(medians.values())
    print(f"{args.workload} {args.dtype}: median microseconds per step")
    for phase, us in medians.items():
        print(f"  {phase:13s} {us:9.1f}  {us / total:6.1%}")
    print(f"  {'sum':13s} {total:9.1f}")
    print(f"  matmul bound  {bound:9.1f}  (the step's matrix products alone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
