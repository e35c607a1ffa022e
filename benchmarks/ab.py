"""handgrad against another checkout of itself, epoch for epoch in one process.

    python benchmarks/ab.py /tmp/engine-base/src --workloads W1,W2,W3,W4 --rounds 9

Loads the other checkout's ``handgrad`` package under another name, builds the same model
and data for both, and alternates one ``fit(epochs=1)`` of each (the order swapped every
round), so a change in the machine's load falls on both alike. Prints each version's
median seconds per epoch and the median of the per-round ratios (this / other) with its
25th-75th percentile.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

import handgrad

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workloads import LEARNING_RATE, MODEL_SEED, WORKLOADS, make_data  # noqa: E402


def load_other(src: str, name: str = "handgrad_other"):
    """The package at ``src``/handgrad, imported as ``name`` (its relative imports follow)."""
    init = Path(src) / "handgrad" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def trainer(hg, w, X, y):
    """A closure that trains one epoch of workload ``w`` with package ``hg``."""
    model = hg.mlp(list(w.sizes), "relu", seed=MODEL_SEED, dtype=X.dtype)
    loss = hg.SoftmaxCrossEntropyLoss() if w.loss == "softmax_ce" else hg.BCEWithLogitsLoss()
    opt = hg.SGD(model.parameters(), lr=LEARNING_RATE)
    rng = np.random.default_rng(0)

    def epoch() -> float:
        start = time.perf_counter()
        hg.fit(model, loss, opt, X, y, epochs=1, batch_size=w.batch_size, rng=rng)
        return time.perf_counter() - start

    return epoch


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other_src", help="the other checkout's src/ folder")
    parser.add_argument("--workloads", default="W1,W2,W3,W4")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    other = load_other(args.other_src)
    print("| workload | this s/epoch | other s/epoch | this / other (median) | 25th-75th |")
    print("|---|---|---|---|---|")
    for name in args.workloads.split(","):
        w = WORKLOADS[name]
        for dtype in w.dtypes:
            X, y = make_data(w, dtype)
            runs = {"this": trainer(handgrad, w, X, y), "other": trainer(other, w, X, y)}
            for run in runs.values():  # warm-up
                run()
            times: dict[str, list[float]] = {"this": [], "other": []}
            for r in range(args.rounds):
                order = ["this", "other"] if r % 2 == 0 else ["other", "this"]
                for key in order:
                    times[key].append(runs[key]())
            ratios = np.array(times["this"]) / np.array(times["other"])
            q25, q50, q75 = np.percentile(ratios, [25, 50, 75])
            print(
                f"| {name} {dtype} | {np.median(times['this']):.4g} | "
                f"{np.median(times['other']):.4g} | {q50:.3f} | {q25:.3f}-{q75:.3f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
