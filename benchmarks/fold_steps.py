"""The folded SGD update against the same step unfolded, step by step: two fast steps of
one workload on the same batches, alternated at every step (the order swapped each time),
so that a change of the machine's load falls on both within milliseconds (steadier than
whole epochs on a shared host).

    python benchmarks/fold_steps.py W2 float64                # default threads, wall clock
    OPENBLAS_NUM_THREADS=1 python benchmarks/fold_steps.py W2 float64 --clock cpu

Each step is ``fit``'s order: gather, forward, loss, backward, the gradient check, the
update; the folded step has ``fold_updates(True)``, as ``fit`` sets it when nothing acts
between steps. Prints the median step of each, the median per-step ratio (folded /
unfolded) with its 25th-75th percentiles, ``uptime``, and whether the two models' weights
are the same bits at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

import handgrad as hg
from handgrad.train import batches, fast

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workloads import LEARNING_RATE, MODEL_SEED, WORKLOADS, make_data  # noqa: E402

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def build(w, X, y, folded: bool):
    """A fast step (and its model) of workload ``w`` on (X, y)."""
    model = hg.mlp(list(w.sizes), "relu", seed=MODEL_SEED, dtype=X.dtype)
    loss = hg.SoftmaxCrossEntropyLoss() if w.loss == "softmax_ce" else hg.BCEWithLogitsLoss()
    opt = hg.SGD(model.parameters(), lr=LEARNING_RATE)
    target = loss.prepare_target(y, (len(X), w.sizes[-1]), X.dtype)
    step = fast.fast_step(model, loss, opt, None, X, target, None)
    step.fold_updates(folded)
    return step, model


def one(step, idx, clock) -> float:
    start = clock()
    xb, tb, _ = step.batch(idx)
    step.loss(step.forward(xb), tb)
    step.backward()
    if not step.gradients_finite():
        raise SystemExit("a gradient is not finite")
    step.step()
    return clock() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", nargs="?", default="W2")
    parser.add_argument("dtype", nargs="?", default="float64")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    args = parser.parse_args(argv)
    w, clock = WORKLOADS[args.workload], CLOCKS[args.clock]
    X, y = make_data(w, args.dtype)
    steps = {key: build(w, X, y, key == "folded") for key in ("folded", "unfolded")}
    print("uptime:", os.popen("uptime").read().strip())
    times: dict[str, list[float]] = {"folded": [], "unfolded": []}
    rng = np.random.default_rng(0)
    for _ in range(args.epochs):
        for k, idx in enumerate(batches(len(X), w.batch_size, rng=rng)):
            for key in ("folded", "unfolded") if k % 2 else ("unfolded", "folded"):
                times[key].append(one(steps[key][0], idx, clock))
    for step, _ in steps.values():
        step.fold_updates(False)
    a, b = np.array(times["folded"][10:]), np.array(times["unfolded"][10:])  # (warm-up)
    ratios = a / b
    same = all(
        np.array_equal(p.value, q.value)
        for p, q in zip(steps["folded"][1].parameters(), steps["unfolded"][1].parameters())
    )
    print(
        f"{args.workload} {args.dtype} ({args.clock}, {len(a)} steps each): folded "
        f"{np.median(a) * 1e6:.0f} us, unfolded {np.median(b) * 1e6:.0f} us, ratio "
        f"{np.median(ratios):.3f} ({np.percentile(ratios, 25):.3f}-"
        f"{np.percentile(ratios, 75):.3f}); same bits: {same}"
    )
    print("uptime:", os.popen("uptime").read().strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
