"""Three ways to gradient-check a float32 model, on the attack's correct float32 models:

    a  the float64 copy's backward against the copy's finite differences (what gradcheck does)
    b  the model's own float32 backward against the float64 copy's finite differences
    c  the model's own float32 backward against differences of its own float32 loss

Every model is correct, so every FAIL is a false alarm (docs/gradcheck.md, "Why a copy").

    PYTHONPATH=src python benchmarks/gradcheck_float32_ways.py 0 300
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import numpy as np

import handgrad as hg
from handgrad.nn._gradcheck_copy import float64_problem, named_parameters

checker = importlib.import_module("handgrad.nn.gradcheck")


def attack_harness():
    path = Path(__file__).parents[1] / "tests" / "nn" / "gradcheck_attack.py"
    spec = importlib.util.spec_from_file_location("gradcheck_attack", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["gradcheck_attack"] = module
    spec.loader.exec_module(module)
    return module


def three_ways(model, loss, X, y, seed):
    """The three reports (a, b, c) for one float32 model."""
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    own = {name: p.grad.astype(np.float64) for name, p in named_parameters(model)}
    twin, X64, y64, _ = float64_problem(model, X, y)
    params = {name: p.value for name, p in named_parameters(twin)}
    mine = [p.value for _, p in named_parameters(model)]
    kept = [v.copy() for v in mine]

    def loss64():
        return loss.forward(twin.forward(X64), y64)

    def loss32():  # the float32 model at the float64 copy's (moved) parameters
        for v, w in zip(mine, params.values()):
            v[...] = w
        return loss.forward(model.forward(X), y)

    refuse = checker._full_precision  # gradcheck refuses a float32 loss: c is measured
    with np.errstate(all="ignore"):  # with the refusal off
        try:
            a = hg.gradcheck(model, loss, X, y, seed=seed)
            b = hg.gradcheck(loss64, params, own, seed=seed)
            checker._full_precision = lambda *args: None
            c = hg.gradcheck(loss32, params, own, seed=seed)
        finally:
            checker._full_precision = refuse
            for v, k in zip(mine, kept):
                v[...] = k
    return a, b, c


def main(start: int, stop: int) -> None:
    attack = attack_harness()
    fails, worst, count = [0, 0, 0], [0.0, 0.0, 0.0], 0
    for seed in range(start, stop):
        case = attack.draw(seed)
        if case.dtype != "float32":
            continue
        with np.errstate(all="ignore"):
            model, loss, X, y = attack.build(case)
            try:
                finite = np.isfinite(loss.forward(model.forward(X), y))
            except ValueError:
                finite = False
        if not finite:
            continue
        count += 1
        for k, report in enumerate(three_ways(model, loss, X, y, seed)):
            fails[k] += int(not report.passed)
            worst[k] = max(worst[k], report.worst_ratio)
    for k, way in enumerate("abc"):
        print(f"{way}: {fails[k]} FAILs of {count} correct float32 models (worst {worst[k]:.3g})")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
