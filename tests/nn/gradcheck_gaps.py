"""gradcheck attacked where the other harnesses do not reach: an activation after the last
layer (every loss behind every built-in activation), batches of one row or of duplicated
rows, one output unit, inputs of 10^-6 to 10^6 or exactly on the kinks (integers in
{-1, 0, 1}), float16, float32, float64 and mixed-dtype inputs (a float64 model fed float32
rows, a float32 model fed float64 ones), up to 10^4 Adam steps, and the playground's form
(a sample of ``max_entries`` entries per parameter: its correct backward only, since a
wrong one may differ only at entries the sample left out).

    draw(seed)              a random GapCase
    build(case)             (model, loss, X, y) trained as the case says
    attack(seeds, tally, attack_module)   as gradcheck_stages.attack

Wrong backwards: the attack's 18 and the common mistakes' 8 (tests/nn/gradcheck_kinds.py).

    PYTHONPATH=src python tests/nn/gradcheck_attack.py 0 200 --gaps
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

import handgrad as hg
from handgrad.nn.losses import PoissonLoss

harness: Any = None  # gradcheck_attack, set when its learner_harness loads this file

OUTPUTS = {"identity": None, "relu": hg.ReLU, "leaky_relu": hg.LeakyReLU,
           "tanh": hg.Tanh, "sigmoid": hg.Sigmoid}  # fmt: skip
HIDDEN = ("relu", "leaky_relu", "tanh", "sigmoid")  # Identity: no derivative to get wrong
LOSSES = ("mse", "bce", "softmax_ce", "poisson")
DTYPES = ("float64", "float32", "float16", "float64<-float32", "float32<-float64")
ROWS = ("one", "duplicated", "few", "many")
INPUTS = ("tiny", "normal", "huge", "on kinks")


@dataclass(frozen=True)
class GapCase:
    seed: int
    hidden: str
    output: str
    loss: str
    reduction: str
    dtype: str
    rows: str
    inputs: str
    sizes: tuple[int, ...]
    steps: int
    lr: float
    max_entries: int | None

    def __str__(self) -> str:
        return (
            f"gaps seed={self.seed} {self.hidden}->{self.output}-{self.loss}({self.reduction})"
            f"-{self.dtype} rows={self.rows} inputs={self.inputs} sizes={list(self.sizes)} "
            f"steps={self.steps} lr={self.lr:g} max_entries={self.max_entries}"
        )


def draw(seed: int) -> GapCase:
    rng = np.random.default_rng([seed, 91])
    loss = str(rng.choice(LOSSES))
    outputs = 1 if loss == "poisson" else int(rng.integers(2 if loss == "softmax_ce" else 1, 4))
    depth = int(rng.integers(0, 3))
    sizes = (int(rng.integers(1, 5)), *(int(rng.integers(1, 9)) for _ in range(depth)), outputs)
    return GapCase(
        seed=seed,
        hidden=str(rng.choice(HIDDEN)),
        output=str(rng.choice(list(OUTPUTS))),
        loss=loss,
        reduction=str(rng.choice(["mean", "sum"])),
        dtype=str(rng.choice(DTYPES)),
        rows=str(rng.choice(ROWS)),
        inputs=str(rng.choice(INPUTS)),
        sizes=sizes,
        steps=int(rng.choice([0, 30, 1000, 10000])),
        lr=float(10 ** rng.uniform(-3.5, -1.5)),
        max_entries=None if rng.random() < 0.7 else int(rng.integers(1, 9)),
    )


def _inputs(case: GapCase, rng: np.random.Generator) -> np.ndarray:
    n = {"one": 1, "duplicated": 3, "few": int(rng.integers(2, 6)), "many": 64}[case.rows]
    d = case.sizes[0]
    if case.inputs == "on kinks":
        X = rng.integers(-1, 2, (n, d)).astype(np.float64)
    else:
        scale = {"tiny": 10 ** rng.uniform(-6, -3), "normal": 1.0,
                 "huge": 10 ** rng.uniform(3, 6)}[case.inputs]  # fmt: skip
        X = rng.normal(size=(n, d)) * scale
    if case.rows == "duplicated":
        X = np.repeat(X[:1], n, axis=0) if rng.random() < 0.5 else np.vstack([X, X])
    return X


def _targets(case: GapCase, n: int, rng: np.random.Generator):
    k = case.sizes[-1]
    if case.loss == "mse":
        return rng.normal(size=(n, k)) * 10 ** rng.uniform(-2, 2), hg.MSELoss(case.reduction)
    if case.loss == "bce":
        return rng.integers(0, 2, (n, k)).astype(np.float64), hg.BCEWithLogitsLoss(case.reduction)
    if case.loss == "poisson":
        return rng.poisson(3.0, (n, k)).astype(np.float64), PoissonLoss(case.reduction)
    return rng.integers(0, k, n), hg.SoftmaxCrossEntropyLoss(case.reduction)


def build(case: GapCase):
    """(model, loss, X, y): the case's network trained by Adam on its rows, then cast."""
    rng = np.random.default_rng([case.seed, 93])
    X = _inputs(case, rng)
    y, loss = _targets(case, len(X), rng)
    if case.rows == "duplicated" and len(np.unique(X, axis=0)) == 1:
        y = np.repeat(y[:1], len(y), axis=0)  # the same row, the same target
    model_dtype, _, input_dtype = case.dtype.partition("<-")
    model = hg.mlp(list(case.sizes), case.hidden, seed=case.seed, dtype=np.dtype(model_dtype))
    if case.inputs == "on kinks":
        for p in model.parameters():  # weights and biases on a grid: ties, units at 0
            p.value[...] = np.round(p.value * 2) / 2
    output = OUTPUTS[case.output]
    if output is not None:
        model = hg.Sequential(*model.layers, output())
    X = X.astype(input_dtype or model_dtype)
    if y.dtype.kind == "f":
        y = y.astype(model_dtype)
    opt = hg.Adam(model.parameters(), lr=case.lr)
    with np.errstate(all="ignore"):
        for _ in range(case.steps):
            try:
                value = loss.forward(model.forward(X), y)
            except ValueError:  # diverged: a NaN reached the loss (the attack skips it)
                break
            if not np.isfinite(value):
                break
            model.backward(loss.backward())
            opt.step()
    return model, loss, X, y


def _wrongs(model, loss, rng, kinds):
    for name, make in harness.MUTANTS.items():
        wrong = make(model, rng)
        if wrong is not None:
            yield name, wrong, loss
    for name, make_pair in kinds.MUTANTS.items():
        made = make_pair(model, loss, rng)
        if made is not None:
            yield (name, *made)


def attack(seeds, tally, attack_module):
    """Adds the cases of ``seeds`` to ``tally``; a case whose loss or parameters are not
    finite (a diverged run) is skipped."""
    kinds = attack_module.learner_harness("gradcheck_kinds")
    for seed in seeds:
        case = draw(seed)
        model, loss, X, y = build(case)
        with np.errstate(all="ignore"):
            try:
                m, X64, y64, _ = attack_module.float64_problem(model, X, y)
                finite = np.isfinite(loss.forward(m.forward(X64), y64)) and all(
                    np.all(np.isfinite(p.value)) for p in m.parameters()
                )
            except ValueError:  # a layer's input not finite
                finite = False
        if not finite:
            tally.skipped += 1
            continue
        wrongs = _wrongs(model, loss, np.random.default_rng([seed, 97]), kinds)
        if case.max_entries is not None:  # which entries a sample holds is gradcheck's own
            wrongs = None  # draw: only the correct backward's verdict is judged
        twice = partial(kinds._twice, attack_module)
        attack_module.judge_case(tally, case, model, loss, X, y, seed, wrongs, twice,
                                 case.max_entries)  # fmt: skip
    return tally
