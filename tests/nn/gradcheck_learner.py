"""gradcheck attacked with learner-written activations: modules that follow the protocol but
declare no ``kink`` attribute (so the built-in probe cannot see their kinks), correct and
wrong, placed exactly at their kinks and away from them.

    MODULES                 name -> (correct class, {wrong name: wrong class})
    draw(seed)              a random LearnerCase: activation, placement, loss, dtype, steps
    build(case)             (model, loss, X, y) after the case's Adam steps
    attack(seeds)           the correct backward of each case (a FAIL is a false alarm) and
                            its wrong ones (a PASS is a miss); returns gradcheck_attack.Tally

Placements: "random" (inputs and weights at random scales, as gradcheck_attack draws them),
"corners" (inputs in {0, 1}, first-layer biases at the kink: XOR's corners), "symmetric"
(inputs and weights in {-1, 0, 1}, biases at the kink, a maxout's two halves equal: ties
everywhere) and "zero" (the first layer all zeros: every hidden input on its kink, and with
the ``x > 0`` convention it stays there through training).

Ground truth for "visible": each learner module tells the harness (never gradcheck) where
its kinks are (``coordinate()`` crosses ``where``); an entry whose move by ±3e-7 (gradcheck's
finest reach) moves some unit across its kink sits on a kink, where no finite difference can
judge it. A wrong backward is visible when it changes an entry off the kinks by more than
finite differences can resolve (gradcheck_attack._resolution); otherwise it is counted
"invisible", not as a miss.
"""

from __future__ import annotations

import copy
import types
from dataclasses import dataclass
from functools import partial

import numpy as np

import handgrad as hg
from handgrad.nn._gradcheck_copy import float64_problem

FINEST_REACH = 3e-7  # 3 h at gradcheck's smallest step, eps / 10^4 with eps = 1e-3


# --- the learner's modules ---------------------------------------------------------------------
class Elementwise(hg.Module):
    """y = act(x) elementwise, the input kept as ``inp``; subclasses give act, slope, and
    where their kink is (``coordinate()`` crosses ``where``)."""

    def forward(self, x):
        self.inp = x
        return self.act(x).astype(x.dtype)

    def backward(self, g):
        return (g * self.slope(self.inp)).astype(g.dtype)

    where = None  # the kink: coordinate() crosses it (None: a smooth function)

    def coordinate(self):
        return self.inp


class ReLU(Elementwise):
    def act(self, x):
        return np.maximum(x, 0)

    def slope(self, x):
        return (x > 0).astype(x.dtype)

    where = 0.0


def _slope(name, base, slope):
    """A subclass of ``base`` named ``name`` whose backward uses ``slope(x)`` instead."""
    return type(name, (base,), {"slope": lambda self, x: np.asarray(slope(x), x.dtype)})


ReLUAtZeroOne = _slope("ReLUAtZeroOne", ReLU, lambda x: x >= 0)
ReLUNoMask = _slope("ReLUNoMask", ReLU, np.ones_like)  # passes the gradient where x < 0 too
ReLUInverted = _slope("ReLUInverted", ReLU, lambda x: x <= 0)
ReLUHalfBelow = _slope("ReLUHalfBelow", ReLU, lambda x: np.where(x > 0, 1.0, 0.5))  # leaky's


class LeakyReLU(ReLU):
    a = 0.1

    def act(self, x):
        return np.where(x > 0, x, self.a * x)

    def slope(self, x):
        return np.where(x > 0, 1.0, self.a).astype(x.dtype)


LeakySlopeSquared = _slope("LeakySlopeSquared", LeakyReLU, lambda x: np.where(x > 0, 1, 0.1**2))
LeakySwapped = _slope("LeakySwapped", LeakyReLU, lambda x: np.where(x > 0, 0.1, 1.0))


class Abs(ReLU):
    def act(self, x):
        return np.abs(x)

    def slope(self, x):
        return np.sign(x)


AbsNoSign = _slope("AbsNoSign", Abs, np.ones_like)
AbsNegated = _slope("AbsNegated", Abs, lambda x: -np.sign(x))


class HardTanh(Elementwise):
    """clip(x, -1, 1): slope 1 inside, 0 outside."""

    def act(self, x):
        return np.clip(x, -1, 1)

    def slope(self, x):
        return (np.abs(x) < 1).astype(x.dtype)

    where = 1.0  # |x| crosses 1 where x crosses -1 or 1

    def coordinate(self):
        return np.abs(self.inp)


HardTanhClosed = _slope("HardTanhClosed", HardTanh, lambda x: np.abs(x) <= 1)
HardTanhNoClip = _slope("HardTanhNoClip", HardTanh, np.ones_like)
HardTanhInverted = _slope("HardTanhInverted", HardTanh, lambda x: np.abs(x) >= 1)


class Maxout(hg.Module):
    """(N, 2m) -> (N, m): the larger of columns j and m + j; the gradient goes to it (a tie to
    the first)."""

    def forward(self, x):
        self.inp = x
        m = x.shape[1] // 2
        self.first = x[:, :m] >= x[:, m:]
        return np.where(self.first, x[:, :m], x[:, m:])

    def route(self):
        return self.first.astype(self.inp.dtype), (~self.first).astype(self.inp.dtype)

    def backward(self, g):
        left, right = self.route()
        return np.concatenate([g * left, g * right], axis=1).astype(g.dtype)

    where = 0.0

    def coordinate(self):
        m = self.inp.shape[1] // 2
        return self.inp[:, :m] - self.inp[:, m:]


class MaxoutToTheSmaller(Maxout):
    def route(self):
        left, right = super().route()
        return right, left


class MaxoutToBoth(Maxout):
    def route(self):
        one = np.ones_like(self.first, dtype=self.inp.dtype)
        return one, one


class Tanh(Elementwise):
    def act(self, x):
        return np.tanh(x)

    def slope(self, x):
        return 1 - np.tanh(x) ** 2


TanhOneMinusY = _slope("TanhOneMinusY", Tanh, lambda x: 1 - np.tanh(x))


class Softplus(Elementwise):
    def act(self, x):
        return np.logaddexp(0, x)

    def slope(self, x):
        return 1 / (1 + np.exp(-x))


SoftplusMirrored = _slope("SoftplusMirrored", Softplus, lambda x: 1 / (1 + np.exp(x)))


MODULES = {
    "relu": (ReLU, {"relu: x >= 0 (right)": ReLUAtZeroOne, "relu: no mask": ReLUNoMask,
                    "relu: mask inverted": ReLUInverted, "relu: 1/2 below 0": ReLUHalfBelow}),
    "leaky_relu": (LeakyReLU, {"leaky: slope squared": LeakySlopeSquared,
                               "leaky: slopes swapped": LeakySwapped}),
    "abs": (Abs, {"abs: no sign": AbsNoSign, "abs: sign negated": AbsNegated}),
    "hardtanh": (HardTanh, {"hardtanh: |x| <= 1 (right)": HardTanhClosed,
                            "hardtanh: no clip": HardTanhNoClip,
                            "hardtanh: mask inverted": HardTanhInverted}),
    "maxout": (Maxout, {"maxout: to the smaller": MaxoutToTheSmaller,
                        "maxout: to both": MaxoutToBoth}),
    "tanh": (Tanh, {"tanh: 1 - y": TanhOneMinusY}),
    "softplus": (Softplus, {"softplus: sigmoid(-x)": SoftplusMirrored}),
}  # fmt: skip
RIGHT = ("(right)",)  # wrong-class names that are in fact correct conventions at a kink
KINK_AT = {"hardtanh": 1.0}  # where the placements put a unit's input (else 0)
PLACEMENTS = ("random", "corners", "symmetric", "zero")


# --- cases --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LearnerCase:
    seed: int
    activation: str
    placement: str
    loss: str
    reduction: str
    dtype: str
    sizes: tuple[int, ...]
    batch: int
    nested: bool
    steps: int
    lr: float

    def __str__(self) -> str:
        return (
            f"seed={self.seed} learner {self.activation} {self.placement} "
            f"{self.loss}({self.reduction})-{self.dtype} sizes={list(self.sizes)} "
            f"N={self.batch} nested={self.nested} steps={self.steps} lr={self.lr:g}"
        )


def draw(seed: int) -> LearnerCase:
    rng = np.random.default_rng([seed, 17])
    loss = str(rng.choice(["mse", "bce", "softmax_ce"]))
    outputs = {"mse": int(rng.integers(1, 3)), "bce": 1, "softmax_ce": int(rng.integers(2, 4))}
    depth = int(rng.integers(1, 3))
    sizes = (int(rng.integers(2, 4)), *(int(rng.integers(2, 7)) for _ in range(depth)))
    return LearnerCase(
        seed=seed,
        activation=str(rng.choice(list(MODULES))),
        placement=str(rng.choice(PLACEMENTS)),
        loss=loss,
        reduction=str(rng.choice(["mean", "sum"])),
        dtype=str(rng.choice(["float64", "float32"])),
        sizes=(*sizes, outputs[loss]),
        batch=int(rng.choice([1, 4, 8, 32])),
        nested=bool(rng.integers(2)),
        steps=int(rng.choice([0, 0, 10, 100, 1000])),
        lr=float(10 ** rng.uniform(-3, -1.5)),
    )


def _inputs(case: LearnerCase, rng: np.random.Generator) -> np.ndarray:
    n, d = case.batch, case.sizes[0]
    if case.placement == "corners":
        corners = np.array(np.meshgrid(*[[0.0, 1.0]] * d)).reshape(d, -1).T
        return corners[np.arange(n) % len(corners)]
    if case.placement == "symmetric":
        return rng.integers(-1, 2, (n, d)).astype(float)
    return rng.normal(size=(n, d)) * 10 ** rng.uniform(-1, 1)


def _layers(case: LearnerCase, cls, rng: np.random.Generator) -> list[hg.Module]:
    """Linear, activation, ..., Linear; a maxout's Linear has twice the width."""
    dtype = np.dtype(case.dtype)
    widen = 2 if case.activation == "maxout" else 1
    layers: list[hg.Module] = []
    sizes = case.sizes
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        last = i == len(sizes) - 2
        width = b if last else widen * b
        linear = hg.Linear(a, width, seed=int(rng.integers(2**31)), dtype=dtype)
        layers.append(linear)
        if not last:
            layers.append(cls())
    return layers


def _place(case: LearnerCase, layers: list[hg.Module], rng: np.random.Generator) -> None:
    """Put the first layer's units on their kinks as the placement says."""
    first = layers[0]
    kink = KINK_AT.get(case.activation, 0.0)
    if case.placement == "random":
        for m in layers:
            for p in m.parameters():
                p.value += (rng.normal(size=p.value.shape) * 0.1).astype(p.value.dtype)
        return
    if case.placement == "zero":
        first.weight.value[...] = 0.0
        first.bias.value[...] = kink
        return
    if case.placement == "symmetric":
        for m in layers:
            if isinstance(m, hg.Linear):
                m.weight.value[...] = rng.integers(-1, 2, m.weight.value.shape)
                m.bias.value[...] = 0.0
    first.bias.value[...] = kink
    if case.activation == "maxout":
        half = first.weight.value.shape[1] // 2
        first.weight.value[:, half:] = first.weight.value[:, :half]


def build(case: LearnerCase):
    rng = np.random.default_rng([case.seed, 19])
    dtype = np.dtype(case.dtype)
    cls = MODULES[case.activation][0]
    layers = _layers(case, cls, rng)
    _place(case, layers, rng)
    model = hg.Sequential(*layers)  # the hidden layers in a nested Sequential if asked:
    if case.nested and len(layers) > 2:
        model = hg.Sequential(hg.Sequential(*layers[:-1]), layers[-1])
    X = _inputs(case, rng).astype(dtype)
    k = case.sizes[-1]
    if case.loss == "mse":
        y, loss = rng.normal(size=(case.batch, k)).astype(dtype), hg.MSELoss(case.reduction)
    elif case.loss == "bce":
        y = rng.integers(0, 2, (case.batch, 1)).astype(dtype)
        loss = hg.BCEWithLogitsLoss(case.reduction)
    else:
        y, loss = rng.integers(0, k, case.batch), hg.SoftmaxCrossEntropyLoss(case.reduction)
    opt = hg.Adam(model.parameters(), lr=case.lr)
    with np.errstate(all="ignore"):
        for _ in range(case.steps):
            loss.forward(model.forward(X), y)
            model.backward(loss.backward())
            opt.step()
    return model, loss, X, y


# --- wrong backwards ---------------------------------------------------------------------------
def swap(model: hg.Module, replace) -> hg.Module:
    """A model sharing every parameter, each layer passed through ``replace`` (Sequentials
    rebuilt, nested ones included)."""
    if isinstance(model, hg.Sequential):
        return hg.Sequential(*[swap(m, replace) for m in model.layers])
    return replace(model)


def with_class(model: hg.Module, cls) -> hg.Module:
    """Every learner activation's backward replaced by ``cls``'s (parameters shared)."""

    def replace(m):
        if isinstance(m, (Elementwise, Maxout)):
            twin = copy.copy(m)
            twin.__class__ = cls
            return twin
        return m

    return swap(model, replace)


def leaves(model: hg.Module, kinds) -> list[hg.Module]:
    """The modules of ``kinds`` in the model, in order, nested Sequentials included."""
    if isinstance(model, hg.Sequential):
        return [m for layer in model.layers for m in leaves(layer, kinds)]
    return [model] if isinstance(model, kinds) else []


def with_linear_bug(model: hg.Module, edit, rng: np.random.Generator) -> hg.Module:
    """One Linear layer (drawn) whose backward is followed by ``edit(layer, grad_y)``."""
    options = leaves(model, hg.Linear)
    target = options[int(rng.integers(len(options)))]

    def backward(self, grad_y):
        dx = type(self).backward(self, grad_y)
        edit(self, np.asarray(grad_y))
        return dx

    def replace(m):
        if m is not target:
            return m
        twin = copy.copy(m)
        twin.backward = types.MethodType(backward, twin)
        return twin

    return swap(model, replace)


def _flip(layer, g):
    w = layer.weight.grad
    j = np.unravel_index(int(np.argmax(np.abs(w))), w.shape)
    w[j] = -w[j]


LINEAR_BUGS = {
    "weight grad x1.01": lambda m, g: np.multiply(m.weight.grad, 1.01, out=m.weight.grad),
    "weight grad: one entry's sign": _flip,
    "bias grad averaged": lambda layer, g: np.copyto(layer.bias.grad, g.mean(axis=0)),
}  # fmt: skip


def mutants(case: LearnerCase, model: hg.Module, rng: np.random.Generator):
    """(name, wrong model, is it really wrong?) for the case's activation and Linear bugs."""
    for name, cls in MODULES[case.activation][1].items():
        yield name, with_class(model, cls), not name.endswith(RIGHT)
    for name, edit in LINEAR_BUGS.items():
        if name.startswith("bias") and case.batch == 1:
            continue  # one sample: the mean is the sum
        yield name, with_linear_bug(model, edit, rng), True


# --- the ground truth: which entries sit on a kink -----------------------------------------------
def _sides(units) -> list[np.ndarray]:
    return [u.coordinate() > u.where for u in units if u.where is not None]


def declared(model: hg.Module) -> hg.Module:
    """The model with each learner unit declaring its kink as the built-in ones do (``kink``
    and the last input ``_x``), so gradcheck's probe sees it: what a learner gets who adds the
    attribute."""

    def replace(m):
        if not isinstance(m, (Elementwise, Maxout)) or m.where is None:
            return m
        twin = copy.copy(m)
        extra = {"kink": m.where, "_x": property(lambda self: self.coordinate())}
        twin.__class__ = type(type(m).__name__, (type(m),), extra)
        return twin

    return swap(model, replace)


def kink_entries(model: hg.Module, X, y) -> list[np.ndarray]:
    """One boolean array per parameter (of the float64 copy gradcheck checks): True where a
    move of the entry by ±FINEST_REACH changes the piece some learner unit is on."""
    m, X64, _, _ = float64_problem(model, X, y)
    units = leaves(m, (Elementwise, Maxout))

    def pieces():
        m.forward(X64)
        return _sides(units)

    at = pieces()
    out = []
    for p in m.parameters():
        mask = np.zeros(p.value.shape, dtype=bool)
        for idx in np.ndindex(p.value.shape):
            original = p.value[idx]
            for step in (FINEST_REACH, -FINEST_REACH):
                p.value[idx] = original + step
                if any(not np.array_equal(a, b) for a, b in zip(at, pieces())):
                    mask[idx] = True
            p.value[idx] = original
        out.append(mask)
    return out


# --- the run ------------------------------------------------------------------------------------
def attack(seeds, tally, attack_module):
    """Adds the learner cases of ``seeds`` to ``tally`` (a gradcheck_attack.Tally). A wrong
    class that is a correct convention at a kink (``x >= 0``) is checked like the correct one.
    A correct model FAILED is "unresolvable" (counted apart) when the same model with its
    kinks declared to the probe PASSES: a kink no finite difference of the loss can tell from
    a bug (kinks that cancel in the loss, ties closer than the finest step); else a false
    FAIL."""
    for seed in seeds:
        case = draw(seed)
        model, loss, X, y = build(case)
        with np.errstate(all="ignore"):
            value = loss.forward(model.forward(X), y)
        finite = all(np.all(np.isfinite(p.value)) for p in model.parameters())
        if not (finite and np.isfinite(value)):
            tally.skipped += 1
            continue
        kinks = kink_entries(model, X, y)
        resolution = attack_module._resolution(model, loss, X, y, seed)
        checks = list(mutants(case, model, np.random.default_rng([seed, 23])))
        for name, convention, _ in (check for check in checks if not check[2]):  # also right
            attack_module.judge_case(tally, f"{name}: {case}", convention, loss, X, y, seed,
                                     None, declared=declared)  # fmt: skip
        wrongs = ((name, candidate, loss) for name, candidate, wrong in checks if wrong)
        visible = partial(_visible, kinks=kinks, resolution=resolution)
        attack_module.judge_case(tally, f"correct: {case}", model, loss, X, y, seed, wrongs,
                                 declared=declared, visible=visible)  # fmt: skip
    return tally


def _visible(grads, correct, kinks, resolution, report=None) -> bool:
    """The wrong backward changes an entry off the kinks beyond what differences resolve."""
    for g, c, on_kink in zip(grads, correct, kinks):
        diff = np.abs(g - c)
        if np.any((diff > 1e-4 * np.abs(c)) & (diff > resolution) & ~on_kink):
            return True
    return False
