"""What gradcheck can resolve: allowed_i / |n_i| over every entry it checks on the attack's
correct networks (docs/gradcheck.md, "What it can resolve").

    PYTHONPATH=src python benchmarks/gradcheck_resolution.py 0 150 [builtin|stages|learner]

Prints percentiles over all entries, and over each network's significant entries (within
1e-3 of its largest |n|) the worst allowed/|n| per network: median, 90th percentile, and
the networks above 1.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

import handgrad as hg
from handgrad.nn import _gradcheck_report as report_module


def attack_harness():
    path = Path(__file__).parents[1] / "tests" / "nn" / "gradcheck_attack.py"
    spec = importlib.util.spec_from_file_location("gradcheck_attack", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gradcheck_attack"] = module
    spec.loader.exec_module(module)
    return module


def main(start: int, stop: int, which: str) -> None:
    attack = attack_harness()
    harness = attack if which == "builtin" else attack.learner_harness(f"gradcheck_{which}")
    entries: list[tuple[float, float]] = []  # (n, allowed) of every checked entry
    record = report_module.ParamCheck.record

    def recording(self, idx, a, n, allowed):
        entries.append((n, allowed))
        return record(self, idx, a, n, allowed)

    report_module.ParamCheck.record = recording
    worst_per_network = []
    for seed in range(start, stop):
        case = harness.draw(seed)
        with np.errstate(all="ignore"):
            try:
                model, loss, X, y = harness.build(case)
                m, X64, y64, _ = attack.float64_problem(model, X, y)
                finite = np.isfinite(loss.forward(m.forward(X64), y64))
            except ValueError:
                finite = False
        if not finite:
            continue
        first = len(entries)
        hg.gradcheck(model, loss, X, y, seed=seed)
        n, allowed = np.array(entries[first:]).reshape(-1, 2).T
        if n.size and np.abs(n).max() > 0:
            big = np.abs(n) > 1e-3 * np.abs(n).max()
            worst_per_network.append((float(np.max(allowed[big] / np.abs(n[big]))), str(case)))
    n, allowed = np.array(entries).T
    relative = allowed / np.maximum(np.abs(n), 1e-300)
    cuts = " ".join(f"{p}%: {np.percentile(relative, p):.2g}" for p in (50, 90, 99))
    print(f"{len(n)} entries; allowed/|n| {cuts}")
    worst = np.array([w for w, _ in worst_per_network])
    print(
        f"{len(worst)} networks; worst allowed/|n| of the significant entries: median "
        f"{np.median(worst):.2g}, 90% {np.percentile(worst, 90):.2g}; above 1 in "
        f"{int(np.sum(worst > 1))}:"
    )
    for w, case in sorted(worst_per_network, reverse=True):
        if w > 1:
            print(f"  {w:.2g}  {case}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "builtin")
