"""How far gradcheck's verdicts are from the line, on the broad set of trained models.

    python benchmarks/gradcheck_margins.py [--checkpoints 0,100,3000]

Trains every model of tests/nn/gradcheck_zoo.py (4 activations x 3 losses x float64/float32
x three depth/scale shapes) and, at each checkpoint, prints the largest err/allowed of the
correct model (PASSED needs <= 1) and, at the first and last checkpoints, the smallest
err/allowed of each injected wrong backward (FAILED needs > 1). docs/gradcheck.md quotes
the figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import sys
import time
from pathlib import Path

import handgrad as hg

ZOO_PATH = Path(__file__).parents[1] / "tests" / "nn" / "gradcheck_zoo.py"
SHAPES = ((2, 1.0), (5, 0.1), (2, 10.0))


def load_zoo():
    spec = importlib.util.spec_from_file_location("gradcheck_zoo", ZOO_PATH)
    zoo = importlib.util.module_from_spec(spec)
    sys.modules["gradcheck_zoo"] = zoo
    spec.loader.exec_module(zoo)
    return zoo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", default="0,100,3000", help="Adam steps, comma-separated")
    args = parser.parse_args(argv)
    checkpoints = tuple(int(c) for c in args.checkpoints.split(","))
    zoo = load_zoo()
    correct: list[tuple[float, str]] = []
    wrong: dict[str, list[tuple[float, str]]] = {name: [] for name in zoo.INJECTIONS}
    started = time.perf_counter()
    for act, loss, dtype in itertools.product(zoo.ACTIVATIONS, zoo.LOSSES, ("float64", "float32")):
        for depth, scale in SHAPES:
            setting = zoo.Setting(act, loss, dtype, depth, scale)
            for step, model, L, X, y in zoo.trajectory(setting, checkpoints):
                report = hg.gradcheck(model, L, X, y)
                correct.append((report.worst_ratio, f"{setting} step {step}"))
                if step in (checkpoints[0], checkpoints[-1]):
                    for name, inject in zoo.INJECTIONS.items():
                        bad = hg.gradcheck(inject(model), L, X, y)
                        wrong[name].append((bad.worst_ratio, f"{setting} step {step}"))
    print(f"{len(correct)} checks of correct models, {sum(map(len, wrong.values()))} of wrong ones")
    print(f"({time.perf_counter() - started:.0f} s)")
    worst = max(correct)
    print(f"correct: largest err/allowed {worst[0]:.3g} ({worst[1]}); "
          f"{sum(r > 1 for r, _ in correct)} FAILED")  # fmt: skip
    for name, ratios in wrong.items():
        least = min(ratios)
        print(f"{name}: smallest err/allowed {least[0]:.4g} ({least[1]}); "
              f"{sum(r <= 1 for r, _ in ratios)} PASSED")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
