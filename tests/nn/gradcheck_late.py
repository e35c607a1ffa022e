"""gradcheck attacked late in training, in every dtype: networks trained for thousands of
epochs until their units saturate or die, their loss is tiny (separable data) or huge
(targets of 10^2-10^4), or their softmax is one-hot; float64, float32 and float16 models.

    draw(seed)              a random LateCase
    build(case)             (model, loss, X, y) at the case's condition and dtype
    attack(seeds, tally, attack_module)   as gradcheck_stages.attack

The conditions:

    saturated   tanh or sigmoid units fed inputs ~10-300, trained on: most units at ±1
    dead        a ReLU (or leaky) layer with half its units' biases far below their inputs
    tiny        separable labels, BCE or cross-entropy trained until the loss is ~1e-8 ... 0
    huge        MSE or Poisson with targets 10^2-10^4 early in training (losses up to 1e9)
    onehot      separable labels, cross-entropy trained, then the logits scaled by 3-100:
                margins of 20-300, the softmax one-hot to the last bit or beyond

Losses: the built-in ones and a learner's cross-entropy through probabilities, -log softmax
(``NaiveCrossEntropy``), exactly 0 around θ once p rounds to 1. Wrong backwards: the
attack's 18, the common mistakes' (tests/nn/gradcheck_kinds.py), and for the learner's loss
p not minus its one-hot, or the one-hot at the wrong class.

    PYTHONPATH=src python tests/nn/gradcheck_attack.py 0 200 --late
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

import handgrad as hg
from handgrad.nn.losses import Loss, PoissonLoss

harness: Any = None  # gradcheck_attack, set when its learner_harness loads this file

CONDITIONS = ("saturated", "dead", "tiny", "huge", "onehot")
LOSSES = {
    "saturated": ("mse", "bce", "softmax_ce", "naive_ce"),
    "dead": ("mse", "bce", "softmax_ce", "poisson"),
    "tiny": ("bce", "softmax_ce", "naive_ce"),
    "huge": ("mse", "poisson"),
    "onehot": ("softmax_ce", "naive_ce"),
}
ACTIVATIONS = {"saturated": ("tanh", "sigmoid"), "dead": ("relu", "leaky_relu")}


class NaiveCrossEntropy(Loss):
    """A learner's cross-entropy through probabilities, -log softmax (mean or sum); the one
    copy the gradient check's tests share. ``wrong`` picks a mistake in its backward:
    "no-minus-one" (p, not p - onehot), "other-class" (the one-hot one over), "no-mean" (the
    1/N forgotten), "sign" (onehot - p)."""

    def __init__(self, reduction="mean", wrong=""):
        self.reduction, self.wrong = reduction, wrong

    def forward(self, logits, target, sample_weight=None):
        z = np.asarray(logits, dtype=np.float64)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        self.p, self.t = e / e.sum(axis=1, keepdims=True), np.asarray(target)
        terms = -np.log(self.p[np.arange(len(z)), self.t])
        return float(terms.mean() if self.reduction == "mean" else terms.sum())

    def backward(self):
        g = self.p.copy()
        rows = np.arange(len(g))
        if self.wrong == "other-class":
            g[rows, (self.t + 1) % g.shape[1]] -= 1.0
        elif self.wrong != "no-minus-one":
            g[rows, self.t] -= 1.0
        if self.wrong == "sign":
            g = -g
        mean = self.reduction == "mean" and self.wrong != "no-mean"
        return g / len(g) if mean else g


@dataclass(frozen=True)
class LateCase:
    seed: int
    condition: str
    activation: str
    loss: str
    reduction: str
    dtype: str
    sizes: tuple[int, ...]
    batch: int
    steps: int
    lr: float
    x_scale: float  # inputs ~ N(0, x_scale²)
    y_scale: float  # "huge": targets ~ y_scale
    boost: float  # "onehot": the last layer multiplied by it after training

    def __str__(self) -> str:
        return (
            f"seed={self.seed} {self.condition} {self.activation}-{self.loss}({self.reduction})-"
            f"{self.dtype} sizes={list(self.sizes)} N={self.batch} steps={self.steps} "
            f"lr={self.lr:g} x*{self.x_scale:g} y*{self.y_scale:g} boost={self.boost:g}"
        )


def draw(seed: int) -> LateCase:
    rng = np.random.default_rng([seed, 53])
    condition = str(rng.choice(CONDITIONS))
    loss = str(rng.choice(LOSSES[condition]))
    outputs = {"mse": int(rng.integers(1, 3)), "bce": 1, "poisson": 1}.get(
        loss, int(rng.integers(2, 4))
    )
    activations = ACTIVATIONS.get(condition, ("relu", "leaky_relu", "tanh", "sigmoid"))
    return LateCase(
        seed=seed,
        condition=condition,
        activation=str(rng.choice(activations)),
        loss=loss,
        reduction=str(rng.choice(["mean", "sum"])),
        dtype=str(rng.choice(["float64", "float32", "float16"])),
        sizes=(
            int(rng.integers(2, 4)),
            *[int(rng.integers(3, 7))] * int(rng.integers(1, 3)),
            outputs,
        ),  # fmt: skip
        batch=int(rng.choice([4, 16, 64])),
        steps=int(rng.choice([100, 1000]) if condition == "huge" else rng.choice([2000, 5000])),
        lr=float(
            10 ** rng.uniform(-2, -1)
            if condition in ("tiny", "onehot")
            else 10 ** rng.uniform(-2.5, -1.5)
        ),
        x_scale=float(10 ** rng.uniform(1, 2.5)) if condition == "saturated" else 1.0,
        y_scale=float(10 ** rng.uniform(2, 4)) if condition == "huge" else 1.0,
        boost=float(10 ** rng.uniform(0.5, 2)) if condition == "onehot" else 1.0,
    )


def _targets(case: LateCase, X: np.ndarray, rng: np.random.Generator):
    """(loss, y): labels a linear teacher separates (so training drives the loss to 0)."""
    k = case.sizes[-1]
    z = X @ rng.normal(size=(X.shape[1], k)) / case.x_scale
    if case.loss == "mse":
        return hg.MSELoss(case.reduction), z * case.y_scale
    if case.loss == "poisson":
        return PoissonLoss(case.reduction), rng.poisson(case.y_scale * np.exp(np.clip(z, -2, 2)))
    if case.loss == "bce":
        return hg.BCEWithLogitsLoss(case.reduction), (z > 0).astype(float)
    cls = hg.SoftmaxCrossEntropyLoss if case.loss == "softmax_ce" else NaiveCrossEntropy
    return cls(case.reduction), np.argmax(z, axis=1)


def build(case: LateCase):
    """(model, loss, X, y) after the case's Adam steps, in the case's dtype (float16: the
    trained float32 model's Linear layers cast)."""
    rng = np.random.default_rng([case.seed, 59])
    X = rng.normal(size=(case.batch, case.sizes[0])) * case.x_scale
    loss, y = _targets(case, X, rng)
    dtype = np.dtype(np.float64 if case.dtype == "float64" else np.float32)
    model = hg.mlp(list(case.sizes), case.activation, seed=case.seed, dtype=dtype)
    if case.condition == "dead":  # half the first layer's units off for every sample
        first = model.layers[0]
        off = rng.permutation(first.bias.value.size)[: first.bias.value.size // 2]
        first.bias.value[off] = -(np.abs(X) @ np.abs(first.weight.value)).max(axis=0)[off] - 1
    Xt, yt = X.astype(dtype), y.astype(dtype) if y.dtype.kind == "f" else y
    opt = hg.Adam(model.parameters(), lr=case.lr)
    with np.errstate(all="ignore"):
        for _ in range(case.steps):
            if not np.isfinite(loss.forward(model.forward(Xt), yt)):
                break
            model.backward(loss.backward())
            opt.step()
    last = model.layers[-1]
    for p in last.parameters():
        p.value *= dtype.type(case.boost)
    if case.dtype == "float16":
        for layer in model.layers:
            if isinstance(layer, hg.Linear):
                layer.dtype = np.dtype(np.float16)
                for p in layer.parameters():
                    p.value, p.grad = p.value.astype(np.float16), np.zeros_like(p.value, np.float16)
        return model, loss, X.astype(np.float16), y.astype(np.float16) if y.dtype.kind == "f" else y
    return model, loss, Xt, yt


def _naive_loss_mutant(wrong):
    def make(model, loss, rng):
        if not isinstance(loss, NaiveCrossEntropy):
            return None
        return model, NaiveCrossEntropy(loss.reduction, wrong)

    return make


LOSS_MUTANTS = {
    "-log softmax: p not minus its one-hot": _naive_loss_mutant("no-minus-one"),
    "-log softmax: one-hot at the wrong class": _naive_loss_mutant("other-class"),
}


def _wrongs(model, loss, rng, kinds):
    """(name, wrong model, its loss) for every mistake this network has a place for."""
    for name, make in harness.MUTANTS.items():
        wrong = make(model, rng)
        if wrong is not None:
            yield name, wrong, loss
    for name, make_pair in {**kinds.MUTANTS, **LOSS_MUTANTS}.items():
        made = make_pair(model, loss, rng)
        if made is not None:
            yield (name, *made)


def attack(seeds, tally, attack_module):
    """Adds the cases of ``seeds`` to ``tally`` (a gradcheck_attack.Tally): each case's
    correct backward (a FAIL is a false alarm) and its wrong ones (a PASS of a visible one
    is a miss). A case whose float64 loss is not finite (a diverged run) is skipped."""
    kinds = attack_module.learner_harness("gradcheck_kinds")
    for seed in seeds:
        case = draw(seed)
        model, loss, X, y = build(case)
        with np.errstate(all="ignore"):
            try:
                m, X64, y64, _ = attack_module.float64_problem(model, X, y)
                finite = np.isfinite(loss.forward(m.forward(X64), y64))
            except ValueError:  # a layer's input not finite
                finite = False
        if not finite:
            tally.skipped += 1
            continue
        wrongs = _wrongs(model, loss, np.random.default_rng([seed, 61]), kinds)
        attack_module.judge_case(tally, case, model, loss, X, y, seed, wrongs,
                                 partial(kinds._twice, attack_module))  # fmt: skip
    return tally
