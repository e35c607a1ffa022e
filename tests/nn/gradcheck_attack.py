"""An attack on gradcheck's verdict: random networks trained to random stages, checked with
their correct backward (a FAIL is a false alarm) and with wrong backwards (a PASS is a miss).

    draw(seed)              a random Case: architecture, activation, loss, reduction, dtype,
                            batch size, input / weight / target scales, optimizer steps
    build(case)             (model, loss, X, y), trained as the case says
    MUTANTS                 name -> function(model, rng) returning a model that shares the
                            trained parameters but has one wrong backward, or None when
                            the model has nowhere to put that mistake
    attack(seeds)           runs every case and mutant; returns the counts and the findings

A mutant whose gradients equal the correct ones on every checked entry (e.g. a dropped term
that is zero, a mask off by one where both units are off) is not a bug on that batch; it is
counted as "invisible", not as a miss. See tests/nn/test_gradcheck_attack.py for the
fast run in the suite and the command for the large one.

With ``--stages`` they are tests/nn/gradcheck_stages.py's: long training (10^4 steps and
more), exact fits, dead or saturated layers, rescaled weights, float16 and mixed dtypes.
With ``--learner`` the cases are tests/nn/gradcheck_learner.py's instead: a learner's own
activations (ReLU, leaky ReLU, abs, hard-tanh, maxout, tanh, softplus; no ``kink``
attribute), correct and wrong, placed exactly on their kinks and away from them:

    PYTHONPATH=src python tests/nn/gradcheck_attack.py 0 1000 --learner
"""

from __future__ import annotations

import copy
import importlib.util
import sys
import types
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

import handgrad as hg
from handgrad.nn._gradcheck_copy import float64_problem  # noqa: F401  (the harnesses use it)
from handgrad.nn.losses import PoissonLoss

ULP = float(np.finfo(np.float64).eps)
ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "identity")
LOSSES = ("mse", "bce", "softmax_ce", "poisson")


@dataclass(frozen=True)
class Case:
    seed: int
    activation: str
    loss: str
    reduction: str
    dtype: str
    sizes: tuple[int, ...]
    batch: int
    x_scale: float
    w_scale: float
    y_scale: float
    steps: int
    lr: float

    def __str__(self) -> str:
        return (
            f"seed={self.seed} {self.activation}-{self.loss}({self.reduction})-{self.dtype} "
            f"sizes={list(self.sizes)} N={self.batch} x*{self.x_scale:g} w*{self.w_scale:g} "
            f"y*{self.y_scale:g} steps={self.steps} lr={self.lr:g}"
        )


def draw(seed: int) -> Case:
    """A random case; scales are log-uniform over many orders of magnitude."""
    rng = np.random.default_rng([seed, 7])
    loss = str(rng.choice(LOSSES))
    outputs = {"mse": rng.integers(1, 4), "bce": rng.integers(1, 3), "poisson": 1,
               "softmax_ce": rng.integers(2, 5)}[loss]  # fmt: skip
    depth = int(rng.integers(1, 4))
    sizes = (
        int(rng.integers(1, 6)),
        *(int(rng.integers(1, 13)) for _ in range(depth)),
        int(outputs),
    )
    return Case(
        seed=seed,
        activation=str(rng.choice(ACTIVATIONS)),
        loss=loss,
        reduction=str(rng.choice(["mean", "sum"])),
        dtype=str(rng.choice(["float64", "float32"])),
        sizes=sizes,
        batch=int(rng.choice([1, 2, 3, 5, 16, 64, 200])),
        x_scale=float(10 ** rng.uniform(-3, 3)),
        w_scale=float(10 ** rng.uniform(-1.5, 1.5)),
        y_scale=float(10 ** rng.uniform(-3, 3)),
        steps=int(rng.choice([0, 0, 10, 100, 1000, 3000])),
        lr=float(10 ** rng.uniform(-3.5, -1.5)),
    )


def build(case: Case):
    """(model, loss, X, y) after ``case.steps`` Adam steps on the case's batch."""
    rng = np.random.default_rng([case.seed, 11])
    dtype = np.dtype(case.dtype)
    n, d, k = case.batch, case.sizes[0], case.sizes[-1]
    X = (rng.normal(size=(n, d)) * case.x_scale).astype(dtype)
    if case.loss == "mse":
        y = (rng.normal(size=(n, k)) * case.y_scale).astype(dtype)
        loss = hg.MSELoss(case.reduction)
    elif case.loss == "bce":
        y = rng.integers(0, 2, (n, k)).astype(dtype)
        loss = hg.BCEWithLogitsLoss(case.reduction)
    elif case.loss == "poisson":
        y = rng.poisson(min(case.y_scale, 1e3), (n, k)).astype(dtype)
        loss = PoissonLoss(case.reduction)
    else:
        y = rng.integers(0, k, n)
        loss = hg.SoftmaxCrossEntropyLoss(case.reduction)
    model = hg.mlp(list(case.sizes), case.activation, seed=case.seed, dtype=dtype)
    for p in model.parameters():
        p.value *= dtype.type(case.w_scale)
        if p.value.ndim == 1:  # biases start off zero, so kinks are not all at the origin
            p.value += (rng.normal(size=p.value.shape) * 0.1 * case.w_scale).astype(dtype)
    opt = hg.Adam(model.parameters(), lr=case.lr)
    with np.errstate(all="ignore"):
        for _ in range(case.steps):
            value = loss.forward(model.forward(X), y)
            if not np.isfinite(value):
                break
            model.backward(loss.backward())
            opt.step()
    return model, loss, X, y


# --- wrong backwards ------------------------------------------------------------------------


def replace_backward(model, index, backward):
    """A model sharing every layer and parameter, with layer ``index``'s backward replaced
    (the attack's, the far stages' and the common mistakes' wrong backwards)."""
    layer = copy.copy(model.layers[index])
    layer.backward = types.MethodType(backward, layer)
    layers = list(model.layers)
    layers[index] = layer
    return hg.Sequential(*layers)


def _linears(model):
    return [i for i, m in enumerate(model.layers) if isinstance(m, hg.Linear)]


def _activations(model, kinds=None):
    return [
        i
        for i, m in enumerate(model.layers)
        if not isinstance(m, hg.Linear) and (kinds is None or isinstance(m, kinds))
    ]


def _grad_mutant(edit, which="any"):
    """A mutant of a Linear layer's backward: ``edit(layer, grad_y, rng)`` after the correct one."""

    def make(model, rng):
        options = _linears(model)
        if which == "bias":
            options = [i for i in options if model.layers[i].bias is not None]
        if not options:
            return None
        index = int(rng.choice(options))
        seed = int(rng.integers(2**31))

        def backward(self, grad_y):
            dx = type(self).backward(self, grad_y)
            edit(self, np.asarray(grad_y), np.random.default_rng(seed))
            return dx

        return replace_backward(model, index, backward)

    return make


def _scale_weight(factor):
    def edit(layer, g, rng):
        layer.weight.grad *= factor

    return edit


def _transpose(layer, g, rng):
    w = layer.weight.grad
    if w.shape[0] == w.shape[1]:
        w[...] = w.T.copy()
    else:  # the transposed numbers poured into the right shape
        w[...] = w.T.copy().reshape(w.shape)


def _flip_one(name):
    def edit(layer, g, rng):
        grad = getattr(layer, name).grad
        j = np.unravel_index(int(np.argmax(np.abs(grad))), grad.shape)
        grad[j] = -grad[j]

    return edit


def _drop_sample_from_weight(layer, g, rng):
    """dW misses one sample's contribution (x_n^T g_n)."""
    n = int(rng.integers(g.shape[0]))
    layer.weight.grad -= np.outer(layer._x[n], g[n]).astype(layer.weight.grad.dtype)


def _zero_one_weight_entry(layer, g, rng):
    w = layer.weight.grad
    w.flat[int(np.argmax(np.abs(w)))] = 0.0


def _bias_mean(layer, g, rng):
    layer.bias.grad[...] = g.mean(axis=0)


def _bias_first_sample(layer, g, rng):
    layer.bias.grad[...] = g[0]


def _bias_sum_wrong_axis(layer, g, rng):
    """db from the sum over the outputs, broadcast (a sum over the wrong axis)."""
    layer.bias.grad[...] = g.sum()


def _dx_scaled(factor):
    """A Linear layer's dL/dx off by a factor (the layers before it see it)."""

    def make(model, rng):
        options = _linears(model)[1:]
        if not options:
            return None
        index = int(rng.choice(options))

        def backward(self, grad_y):
            return type(self).backward(self, grad_y) * factor

        return replace_backward(model, index, backward)

    return make


def _activation_mutant(fn, kinds=None):
    def make(model, rng):
        options = _activations(model, kinds)
        if not options:
            return None
        index = int(rng.choice(options))

        def backward(self, grad_y):
            return fn(self, np.asarray(grad_y), type(self).backward(self, grad_y))

        return replace_backward(model, index, backward)

    return make


def _derivative_missing(layer, g, dx):
    return g


def _derivative_sign(layer, g, dx):
    return -dx


def _mask_shifted(layer, g, dx):
    """ReLU's mask read one unit over (a column index off by one)."""
    x = layer._x
    slope = getattr(layer, "negative_slope", 0.0)
    mask = np.roll(x > 0, 1, axis=1)
    return g * np.where(mask, 1.0, slope).astype(g.dtype)


def _mask_sample_shifted(layer, g, dx):
    """ReLU's mask taken from the next sample (a row index off by one)."""
    x = layer._x
    slope = getattr(layer, "negative_slope", 0.0)
    mask = np.roll(x > 0, 1, axis=0)
    return g * np.where(mask, 1.0, slope).astype(g.dtype)


def _one_element_dropped(layer, g, dx):
    """dL/dz of one element (the largest) left at zero."""
    out = dx.copy()
    out.flat[int(np.argmax(np.abs(out)))] = 0.0
    return out


def _sigmoid_from_input(layer, g, dx):
    """Tanh / sigmoid derivative evaluated at the output as if it were the input."""
    y = layer._y
    if isinstance(layer, hg.Tanh):
        return g * (1 - np.tanh(y) ** 2)
    s = 1 / (1 + np.exp(-y))
    return g * s * (1 - s)


MUTANTS = {
    "weight grad x1.01": _grad_mutant(_scale_weight(1.01)),
    "weight grad x0.5": _grad_mutant(_scale_weight(0.5)),
    "weight grad transposed": _grad_mutant(_transpose),
    "weight grad: one entry's sign": _grad_mutant(_flip_one("weight")),
    "bias grad: one entry's sign": _grad_mutant(_flip_one("bias"), "bias"),
    "weight grad: one sample dropped": _grad_mutant(_drop_sample_from_weight),
    "weight grad: largest entry zeroed": _grad_mutant(_zero_one_weight_entry),
    "bias grad averaged": _grad_mutant(_bias_mean, "bias"),
    "bias grad of one sample": _grad_mutant(_bias_first_sample, "bias"),
    "bias grad summed over outputs": _grad_mutant(_bias_sum_wrong_axis, "bias"),
    "dx x2": _dx_scaled(2.0),
    "dx sign": _dx_scaled(-1.0),
    "activation derivative missing": _activation_mutant(_derivative_missing),
    "activation derivative sign": _activation_mutant(_derivative_sign),
    "activation: one element dropped": _activation_mutant(_one_element_dropped),
    "relu mask: unit off by one": _activation_mutant(_mask_shifted, (hg.ReLU, hg.LeakyReLU)),
    "relu mask: sample off by one": _activation_mutant(
        _mask_sample_shifted, (hg.ReLU, hg.LeakyReLU)
    ),
    "derivative at the output": _activation_mutant(_sigmoid_from_input, (hg.Tanh, hg.Sigmoid)),
}


# --- the run -----------------------------------------------------------------------------------


@dataclass
class Tally:
    correct: int = 0
    false_fails: list[str] = field(default_factory=list)
    mutants: int = 0
    invisible: int = 0
    misses: list[str] = field(default_factory=list)
    skipped: int = 0  # a case whose training diverged
    unresolvable: list[str] = field(default_factory=list)  # learner kinks only the probe sees
    per_mutant: Counter = field(default_factory=Counter)
    worst_correct: float = 0.0

    def line(self) -> str:
        return (
            f"{len(self.false_fails)} false FAILs in {self.correct} correct checks "
            f"(worst err/allowed {self.worst_correct:.3g}; {len(self.unresolvable)} more at "
            f"kinks only the probe can see); {len(self.misses)} misses in "
            f"{self.mutants} visible mutants ({self.invisible} invisible, {self.skipped} "
            "diverged cases skipped)"
        )


def judge_case(tally, case, model, loss, X, y, seed, wrongs, gradients=None, max_entries=None,
               declared=None, visible=None):  # fmt: skip
    """Adds one case to ``tally``: its correct backward (a FAIL is a false alarm), then each
    (name, wrong model, its loss) that ``wrongs`` yields, if not None (a PASS of a visible
    one is a miss). ``gradients(model, loss, X, y)``: what gradcheck judges (``_analytic``).
    ``declared(model)``: the model with its kinks declared to the probe; a correct model
    that FAILS but PASSES so is "unresolvable", not a false FAIL (the learner's modules).
    ``visible(grads, correct, report)``: whether a wrong backward's gradients differ where
    gradcheck can see it (default: ``_visible`` at the loss's resolution, built-in kinks
    aside)."""
    gradients = gradients or _analytic
    report = hg.gradcheck(model, loss, X, y, max_entries=max_entries, seed=seed)
    tally.correct += 1
    unresolvable = declared and not report.passed  # PASSES with its kinks declared?
    if unresolvable and hg.gradcheck(declared(model), loss, X, y, seed=seed).passed:
        tally.unresolvable.append(f"{case}\n{report.table()}")
    else:
        tally.worst_correct = max(tally.worst_correct, report.worst_ratio)
        if not report.passed:
            tally.false_fails.append(f"{case}\n{report.table()}")
    if wrongs is None:
        return
    correct = _analytic(model, loss, X, y)
    if visible is None:
        resolution, on_kinks = _resolution(model, loss, X, y, seed), _on_kinks(model, loss, X, y)
        visible = partial(_visible, resolution=resolution, on_kinks=on_kinks)
    for name, wrong, wrong_loss in wrongs:
        wrong_report = hg.gradcheck(wrong, wrong_loss, X, y, max_entries=max_entries, seed=seed)
        if not visible(gradients(wrong, wrong_loss, X, y), correct, report=wrong_report):
            tally.invisible += 1
            continue
        tally.mutants += 1
        tally.per_mutant[name] += 1
        if wrong_report.passed:
            tally.misses.append(f"{name}: {case}\n{wrong_report.table()}")


def attack(seeds, mutants=True, max_entries=None, tally=None) -> Tally:
    tally = tally or Tally()
    for seed in seeds:
        case = draw(seed)
        model, loss, X, y = build(case)
        if not all(np.all(np.isfinite(p.value)) for p in model.parameters()):
            tally.skipped += 1
            continue
        with np.errstate(all="ignore"):
            out = model.forward(X)
            if not np.all(np.isfinite(out)) or not np.isfinite(loss.forward(out, y)):
                tally.skipped += 1
                continue
        rng = np.random.default_rng([seed, 13])
        made = ((name, make(model, rng), loss) for name, make in MUTANTS.items())
        wrongs = ((name, w, wl) for name, w, wl in made if w is not None) if mutants else None
        judge_case(tally, case, model, loss, X, y, seed, wrongs, max_entries=max_entries)
    return tally


def _sibling(name):
    """tests/nn/<name>.py, loaded beside this file (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def learner_harness(name="gradcheck_learner"):
    """tests/nn/<name>.py (the learner's modules, the far stages, ...), given this file as
    ``harness`` (its shared helpers: judge_case, replace_backward, MUTANTS)."""
    module = _sibling(name)
    module.harness = sys.modules[__name__]
    return module


_seen = _sibling("gradcheck_visible")
_analytic, _resolution, _on_kinks, _visible = (
    _seen._analytic,
    _seen._resolution,
    _seen._on_kinks,
    _seen._visible,
)


if __name__ == "__main__":
    start, stop = int(sys.argv[1]), int(sys.argv[2])
    learner = None
    harnesses = {"--learner": "gradcheck_learner", "--stages": "gradcheck_stages",
                 "--kinds": "gradcheck_kinds", "--late": "gradcheck_late",
                 "--gaps": "gradcheck_gaps", "--grid": "gradcheck_zoo"}  # fmt: skip
    for flag, name in harnesses.items():
        if flag in sys.argv:
            learner = learner_harness(name)
    total = Tally()
    for first in range(start, stop, 50):
        shown = (len(total.false_fails), len(total.misses), len(total.unresolvable))
        seeds = range(first, min(first + 50, stop))
        if learner is None:
            attack(seeds, tally=total)
        else:
            learner.attack(seeds, total, sys.modules[__name__])
        found = (total.false_fails, total.misses, total.unresolvable)
        for label, findings, old in zip(("FALSE FAIL", "MISS", "UNRESOLVABLE"), found, shown):
            for finding in findings[old:]:
                print(label, finding, sep="\n")
        print(f"seeds {start}..{min(first + 50, stop) - 1}: {total.line()}", flush=True)
    print(dict(total.per_mutant))
    sys.exit(1 if total.false_fails or total.misses else 0)
