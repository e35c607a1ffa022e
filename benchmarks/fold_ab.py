"""The folded SGD update (``handgrad.train.fast_fold``) against the same step unfolded,
epoch for epoch in one process, alternated (the order swapped every round).

    python benchmarks/fold_ab.py --workloads W2 --dtypes float64             # default threads
    OPENBLAS_NUM_THREADS=1 python benchmarks/fold_ab.py --clock cpu          # one thread

Two models of the workload, one ``fit(epochs=1)`` each per round; the "unfolded" one trains
with ``FoldedUpdate.of`` giving None while its step is built (its first call; the step is
then kept for its next calls), so the only difference is the fold. Prints the median
seconds per epoch of each, the median per-round ratio (folded / unfolded) with its
25th-75th percentiles, ``uptime`` before and after, and whether the two models' weights
are the same bits after all rounds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

import handgrad as hg
from handgrad.train import fast_fold

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workloads import LEARNING_RATE, MODEL_SEED, WORKLOADS, make_data  # noqa: E402

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def trainer(w, X, y, clock, folded: bool):
    """A closure training one epoch of ``w`` (its step built with or without the fold)."""
    model = hg.mlp(list(w.sizes), "relu", seed=MODEL_SEED, dtype=X.dtype)
    loss = hg.SoftmaxCrossEntropyLoss() if w.loss == "softmax_ce" else hg.BCEWithLogitsLoss()
    opt = hg.SGD(model.parameters(), lr=LEARNING_RATE)
    rng = np.random.default_rng(0)
    real = fast_fold.FoldedUpdate.of

    def epoch() -> float:
        if not folded:
            fast_fold.FoldedUpdate.of = classmethod(lambda cls, *a: None)  # type: ignore[assignment]
        try:
            start = clock()
            hg.fit(model, loss, opt, X, y, epochs=1, batch_size=w.batch_size, rng=rng)
            return clock() - start
        finally:
            fast_fold.FoldedUpdate.of = real  # type: ignore[method-assign]

    return epoch, model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="W1,W2")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    args = parser.parse_args(argv)
    print("uptime:", os.popen("uptime").read().strip())
    print("| workload | folded s/epoch | unfolded s/epoch | folded / unfolded | 25th-75th", end="")
    print(" | same bits |")
    print("|---|---|---|---|---|---|")
    for name in args.workloads.split(","):
        w = WORKLOADS[name]
        for dtype in args.dtypes.split(","):
            X, y = make_data(w, dtype)
            clock = CLOCKS[args.clock]
            runs = {key: trainer(w, X, y, clock, key == "folded") for key in ("folded", "unfolded")}
            for run, _ in runs.values():  # warm-up (and the steps built)
                run()
            times: dict[str, list[float]] = {"folded": [], "unfolded": []}
            for r in range(args.rounds):
                order = ["folded", "unfolded"] if r % 2 == 0 else ["unfolded", "folded"]
                for key in order:
                    times[key].append(runs[key][0]())
            ratios = np.array(times["folded"]) / np.array(times["unfolded"])
            q25, q50, q75 = np.percentile(ratios, [25, 50, 75])
            same = all(
                np.array_equal(p.value, q.value)
                for p, q in zip(runs["folded"][1].parameters(), runs["unfolded"][1].parameters())
            )
            print(
                f"| {name} {dtype} | {np.median(times['folded']):.4g} | "
                f"{np.median(times['unfolded']):.4g} | {q50:.3f} | {q25:.3f}-{q75:.3f} | {same} |",
                flush=True,
            )
    print("uptime:", os.popen("uptime").read().strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
