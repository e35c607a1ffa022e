"""gradcheck attacked with the wrong backwards a learner writes most, on networks at every
stage of training: the built-in activations and a learner's ELU and softplus (no ``kink``
attribute), every loss with mean and sum, float32 and float64, batches of 1 to 512, from
initialization through early, mid and late training to an overfit batch and a run stopped
just before it diverged.

    draw(seed)              a random KindCase
    build(case)             (model, loss, X, y) at the case's stage and dtype
    MUTANTS                 name -> function(model, loss, rng) returning (model, loss) with one
                            mistake, or None where the network has no place for it
    attack(seeds, tally, attack_module)   as gradcheck_stages.attack

    PYTHONPATH=src python tests/nn/gradcheck_attack.py 0 300 --kinds
"""

from __future__ import annotations

import copy
import types
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

import handgrad as hg
from handgrad.nn.losses import PoissonLoss

harness: Any = None  # gradcheck_attack (replace_backward), set when its learner_harness loads this

STAGES = {"init": 0, "early": 10, "mid": 300, "late": 3000, "overfit": 5000, "diverging": 40}


class ELU(hg.Module):
    """A learner's ELU: x for x > 0, alpha (e^x - 1) below (a kink at 0 unless alpha = 1)."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def forward(self, x):
        self._x = x
        self._y = np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype)
        return self._y

    def backward(self, g):
        return (g * self.slope(self._x)).astype(g.dtype)

    def slope(self, x):
        return np.where(x > 0, 1.0, self.alpha * np.exp(np.minimum(x, 0)))


class Softplus(hg.Module):
    """A learner's softplus, log(1 + e^x), computed stably; its slope is the sigmoid."""

    def forward(self, x):
        self._x = x
        self._y = (np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))).astype(x.dtype)
        return self._y

    def backward(self, g):
        return (g * self.slope(self._x)).astype(g.dtype)

    def slope(self, x):
        return 0.5 * (1 + np.tanh(0.5 * x))


ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "elu", "elu0.5", "softplus")


@dataclass(frozen=True)
class KindCase:
    seed: int
    activation: str
    loss: str
    reduction: str
    dtype: str
    stage: str
    sizes: tuple[int, ...]
    batch: int
    lr: float

    def __str__(self) -> str:
        return (
            f"seed={self.seed} {self.stage} {self.activation}-{self.loss}({self.reduction})-"
            f"{self.dtype} sizes={list(self.sizes)} N={self.batch} lr={self.lr:g}"
        )


def draw(seed: int) -> KindCase:
    rng = np.random.default_rng([seed, 41])
    loss = str(rng.choice(["mse", "bce", "softmax_ce", "poisson"]))
    outputs = {"mse": int(rng.integers(1, 4)), "bce": int(rng.integers(1, 3)),
               "softmax_ce": int(rng.integers(2, 5)), "poisson": 1}[loss]  # fmt: skip
    stage = str(rng.choice(list(STAGES)))
    width = int(rng.choice([2, 3, 4, 6, 8]))  # hidden layers of one width: square weights
    depth = int(rng.integers(1, 4))
    return KindCase(
        seed=seed,
        activation=str(rng.choice(ACTIVATIONS)),
        loss=loss,
        reduction=str(rng.choice(["mean", "sum"])),
        dtype=str(rng.choice(["float64", "float32"])),
        stage=stage,
        sizes=(int(rng.integers(1, 5)), *([width] * depth), outputs),
        batch=int(rng.choice([1, 2, 4] if stage == "overfit" else [1, 2, 7, 32, 64, 512])),
        lr=float(
            10 ** rng.uniform(-0.5, 0.5) if stage == "diverging" else 10 ** rng.uniform(-3, -1.5)
        ),
    )


def _model(case: KindCase) -> hg.Sequential:
    dtype = np.dtype(case.dtype)
    if case.activation in ("relu", "leaky_relu", "tanh", "sigmoid"):
        return hg.mlp(list(case.sizes), case.activation, seed=case.seed, dtype=dtype)
    model = hg.mlp(list(case.sizes), "identity", seed=case.seed, dtype=dtype)
    make = {"elu": ELU, "elu0.5": lambda: ELU(0.5), "softplus": Softplus}[case.activation]
    return hg.Sequential(*[make() if isinstance(m, hg.Identity) else m for m in model.layers])


def build(case: KindCase):
    """(model, loss, X, y) after the case's steps (Adam; plain SGD at a large rate for
    "diverging", stopped at the last step whose loss was finite and below 1e6 times the
    first)."""
    rng = np.random.default_rng([case.seed, 43])
    dtype = np.dtype(case.dtype)
    n, k = case.batch, case.sizes[-1]
    X = rng.normal(size=(n, case.sizes[0])).astype(dtype)
    z = rng.normal(size=(n, k)) * 2
    loss, y = {
        "mse": (hg.MSELoss, z),
        "bce": (hg.BCEWithLogitsLoss, (z > 0).astype(float)),
        "poisson": (PoissonLoss, np.round(np.exp(np.clip(z, -3, 3)))),
        "softmax_ce": (hg.SoftmaxCrossEntropyLoss, np.argmax(z, axis=1)),
    }[case.loss]
    loss = loss(case.reduction)
    y = y.astype(dtype) if y.dtype.kind == "f" else y
    model = _model(case)
    opt = (hg.SGD if case.stage == "diverging" else hg.Adam)(model.parameters(), lr=case.lr)
    first = None
    with np.errstate(all="ignore"):
        for _ in range(STAGES[case.stage]):
            kept = [p.value.copy() for p in model.parameters()]
            value = loss.forward(model.forward(X), y)
            first = value if first is None else first
            if not np.isfinite(value) or value > 1e6 * max(first, 1e-12):
                for p, v in zip(model.parameters(), kept):
                    p.value[...] = v
                break
            model.backward(loss.backward())
            opt.step()
    return model, loss, X, y


# --- the common mistakes -----------------------------------------------------------------------


def _pick(rng, options):
    return None if not options else int(rng.choice(options))


def _missing_transpose(model, loss, rng):
    """dx = g W instead of g Wᵀ (only a square W lets it run)."""
    square = [i for i, m in enumerate(model.layers[1:], 1)
              if isinstance(m, hg.Linear) and len(set(m.weight.value.shape)) == 1]  # fmt: skip
    index = _pick(rng, square)
    if index is None:
        return None

    def backward(self, g):
        hg.Linear.backward(self, g)
        return g @ self.weight.value

    return harness.replace_backward(model, index, backward), loss


def _linear_edit(edit, first=0):
    """A Linear layer (index >= ``first``) whose backward ends with ``edit(layer, g, kept)``,
    ``kept`` its .grad arrays before the pass; the layer before it is kept as ``_before``
    (an attribute, so the float64 copy of a float32 model points to its own copy)."""

    def make(model, loss, rng):
        index = _pick(rng, [i for i, m in enumerate(model.layers)
                            if isinstance(m, hg.Linear) and i >= first])  # fmt: skip
        if index is None:
            return None

        def backward(self, g):
            kept = [p.grad.copy() for p in self.parameters()]
            dx = hg.Linear.backward(self, g)
            edit(self, np.asarray(g), kept)
            return dx

        wrong = harness.replace_backward(model, index, backward)
        wrong.layers[index]._before = model.layers[index - 1] if index else None
        return wrong, loss

    return make


def _bias_forgotten(layer, g, kept):
    layer.bias.grad[...] = 0.0


def _accumulates(layer, g, kept):
    for p, old in zip(layer.parameters(), kept):
        p.grad += old


def _pre_activation(layer, g, kept):
    """dW from the activation's input z (the pre-activation) instead of its output a (the
    activations that keep their input: ReLU, leaky ReLU, ELU, softplus)."""
    z = getattr(layer._before, "_x", None)
    if z is not None:
        layer.weight.grad[...] = (np.asarray(z).T @ g).astype(layer.weight.grad.dtype)


def _loss_edit(name, factor_of_n):
    def make(model, loss, rng):
        if factor_of_n and loss.reduction != "mean":
            return None
        base = type(loss)

        def backward(self):
            grad = base.backward(self)
            return grad * (len(grad) if factor_of_n else -1.0)

        wrong = copy.copy(loss)
        wrong.backward = types.MethodType(backward, wrong)
        return model, wrong

    return make


def _derivative(which):
    """An activation whose backward uses a wrong derivative: ``which(layer, g)``."""

    def make(model, loss, rng):
        index = _pick(rng, [i for i, m in enumerate(model.layers) if not isinstance(m, hg.Linear)])
        if index is None:
            return None

        def backward(self, g):
            type(self).backward(self, g)  # whatever it keeps
            return np.asarray(which(self, np.asarray(g)), dtype=np.asarray(g).dtype)

        return harness.replace_backward(model, index, backward), loss

    return make


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def _off_derivative(layer, g):
    """The derivative misremembered: tanh 1 - y, sigmoid y, ReLU's mask inverted, leaky's
    slopes swapped, ELU e^x on both sides, softplus its own value."""
    if isinstance(layer, hg.Tanh):
        return g * (1 - layer._y)
    if isinstance(layer, hg.Sigmoid):
        return g * layer._y
    if isinstance(layer, hg.LeakyReLU):
        return g * np.where(layer._x > 0, layer.negative_slope, 1.0)
    if isinstance(layer, hg.ReLU):
        return g * (layer._x <= 0)
    if isinstance(layer, ELU):
        return g * layer.alpha * np.exp(np.minimum(layer._x, 30))
    return g * layer._y


def _at_output(layer, g):
    """The derivative evaluated at the activation's output instead of its input."""
    if isinstance(layer, hg.Tanh):
        return g * (1 - np.tanh(layer._y) ** 2)
    if isinstance(layer, hg.Sigmoid):
        return g * _sigmoid(layer._y) * (1 - _sigmoid(layer._y))
    if isinstance(layer, (ELU, Softplus)):
        return g * layer.slope(layer._y)
    return g * np.where(layer.forward(layer._x) > 0, 1.0, getattr(layer, "negative_slope", 0.0))


MUTANTS = {
    "dx without the transpose": _missing_transpose,
    "loss: 1/N missing": _loss_edit("1/N", True),
    "loss: sign flipped": _loss_edit("sign", False),
    "activation derivative misremembered": _derivative(_off_derivative),
    "activation derivative at the output": _derivative(_at_output),
    "bias grad forgotten": _linear_edit(_bias_forgotten),
    "grads accumulate (+=)": _linear_edit(_accumulates),
    "dW from the pre-activation": _linear_edit(_pre_activation, first=2),
}


def attack(seeds, tally, attack_module):
    """Adds the cases of ``seeds`` to ``tally`` (a gradcheck_attack.Tally): each case's
    correct backward (a FAIL is a false alarm) and its wrong ones (a PASS of a visible one
    is a miss)."""
    for seed in seeds:
        case = draw(seed)
        model, loss, X, y = build(case)
        with np.errstate(all="ignore"):
            if not np.isfinite(loss.forward(model.forward(X), y)):
                tally.skipped += 1
                continue
        rng = np.random.default_rng([seed, 47])
        made = ((name, make(model, loss, rng)) for name, make in MUTANTS.items())
        wrongs = ((name, *pair) for name, pair in made if pair is not None)
        attack_module.judge_case(tally, case, model, loss, X, y, seed, wrongs,
                                 partial(_twice, attack_module))  # fmt: skip
    return tally


def _twice(attack_module, model, loss, X, y):
    """The gradients of a second backward pass, as gradcheck judges them."""
    attack_module._analytic(model, loss, X, y)
    return attack_module._analytic(model, loss, X, y)
