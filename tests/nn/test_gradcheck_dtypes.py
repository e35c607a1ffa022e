"""gradcheck across dtypes and with a learner's stateful layers: every combination gives a
right verdict or an error naming the problem.

- float16 / float32 / mixed-dtype models are checked on a float64 copy (the note says so),
  correct ones PASS and wrong ones FAIL; integer, bool and float32 batches of a float64
  model are read as float64.
- A layer of a float64 model that returns float32 is named (before, it was checked through
  float32 rounding: a wrong backward FAILED with 21 of 32 entries counted as "kinks").
- A loss that changes from call to call (a learner's dropout drawing a new mask in each
  forward) is an error: before, its noise widened every tolerance and a dropout whose
  backward forgot the mask PASSED.
- A learner's batch norm in training mode (the batch statistics depend on every sample) and
  in evaluation mode, and a dropout with one fixed mask: correct ones PASS, the classic
  mistakes FAIL.
- A layer rounding to float32 inside, a backward returning or computing in float32, a
  layer changing its input in place, a loss that is not finite: errors naming them; a
  backward adding to .grad FAILS and the summary says why.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn._gradcheck_copy import check_loss

# a learner's dropout and batch norm, as the far-stages harness uses them
_spec = importlib.util.spec_from_file_location(
    "gradcheck_stages", Path(__file__).with_name("gradcheck_stages.py")
)
stages = importlib.util.module_from_spec(_spec)
sys.modules["gradcheck_stages"] = stages  # dataclasses look their module up
_spec.loader.exec_module(stages)
Dropout, BatchNorm = stages.Dropout, stages.BatchNorm


def problem(dtype, seed=0, n=16):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = rng.integers(0, 2, n)
    model = hg.mlp([3, 6, 2], "tanh", seed=seed, dtype=dtype)
    return model, hg.SoftmaxCrossEntropyLoss(), X.astype(dtype), y


def flip_one_bias(model, index=0):
    """The model with one bias entry's sign flipped in layer ``index``'s backward."""

    def backward(self, grad_y):
        dx = hg.Linear.backward(self, grad_y)
        self.bias.grad[1] *= -1.0
        return dx

    model[index].backward = types.MethodType(backward, model[index])
    return model


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
def test_every_float_dtype_is_checked_in_float64_and_says_so(dtype):
    model, loss, X, y = problem(dtype)
    before = [p.value.copy() for p in model.parameters()]
    report = hg.gradcheck(model, loss, X, y)
    assert report.passed, report.table()
    name = np.dtype(dtype).name
    assert (report.note == "") == (name == "float64")
    if name != "float64":
        assert f"the {name} model was checked on a float64 copy" in report.note
    assert all(p.value.dtype == dtype for p in model.parameters())
    assert all(np.array_equal(a, p.value) for a, p in zip(before, model.parameters()))
    wrong = hg.gradcheck(flip_one_bias(model), loss, X, y)
    assert not wrong.passed and [r.name for r in wrong.rows if not r.passed] == ["0.bias"]


@pytest.mark.parametrize("kind", ["int64", "bool", "float32", "float16", "uint8"])
def test_a_float64_model_reads_any_numeric_batch_as_float64(kind):
    model, loss, X, y = problem(np.float64)
    Xk = (np.abs(X) * 3).astype(kind)
    assert hg.gradcheck(model, loss, Xk, y).passed
    assert not hg.gradcheck(flip_one_bias(model), loss, Xk, y).passed


def test_a_model_whose_parameters_differ_in_dtype_is_checked_on_one_float64_copy():
    model, loss, X, y = problem(np.float64)
    model[2].weight.value = model[2].weight.value.astype(np.float32)
    model[2].weight.grad = model[2].weight.grad.astype(np.float32)
    report = hg.gradcheck(model, loss, X, y)
    assert report.passed and "float32 model was checked on a float64 copy" in report.note
    assert not hg.gradcheck(flip_one_bias(model, 2), loss, X, y).passed


class DownCast(hg.Module):
    """A learner's tanh that returns float32 whatever comes in."""

    def forward(self, x):
        self.y = np.tanh(x).astype(np.float32)
        return self.y

    def backward(self, grad):
        return grad * (1 - self.y.astype(grad.dtype) ** 2)


def test_a_layer_of_a_float64_model_that_returns_float32_is_named():
    model = hg.Sequential(hg.Linear(3, 4, seed=0), DownCast(), hg.Linear(4, 2, seed=1))
    _, loss, X, y = problem(np.float64)
    with pytest.raises(TypeError, match=r"layer 1 \(DownCast\) returns float32 on float64 input"):
        hg.gradcheck(model, loss, X, y)


@pytest.mark.parametrize("forget_mask", [False, True])
def test_a_loss_that_changes_between_calls_is_an_error_not_a_verdict(forget_mask):
    """Before: PASSED for the right backward and for the one that forgets the mask alike."""
    _, loss, X, y = problem(np.float64)
    dropout = Dropout(fresh=True, forget_mask=forget_mask)
    model = hg.Sequential(hg.Linear(3, 6, seed=0), hg.Tanh(), dropout, hg.Linear(6, 2, seed=1))
    with pytest.raises(ValueError, match="not a function of the parameters alone.*dropout"):
        hg.gradcheck(model, loss, X, y)
    w = np.ones(3)
    noisy = np.random.default_rng(1)
    with pytest.raises(ValueError, match="not a function of the parameters alone"):
        hg.gradcheck(lambda: float(w @ w + noisy.normal()), [w], [2 * w])


@pytest.mark.parametrize("seed", range(4))
def test_a_dropout_with_its_mask_kept_is_checked(seed):
    _, loss, X, y = problem(np.float64, seed)
    for forget_mask, verdict in ((False, True), (True, False)):
        model = hg.Sequential(hg.Linear(3, 6, seed=seed), hg.Tanh(),
                              Dropout(0.3, fresh=False, forget_mask=forget_mask),
                              hg.Linear(6, 2, seed=seed + 1))  # fmt: skip
        assert hg.gradcheck(model, loss, X, y).passed is verdict


@pytest.mark.parametrize("seed", range(3))
def test_a_learners_batch_norm_in_both_modes(seed):
    _, loss, X, y = problem(np.float64, seed)

    def net(**kw):
        return hg.Sequential(hg.Linear(3, 5, seed=seed), BatchNorm(5, **kw), hg.ReLU(),
                             hg.Linear(5, 2, seed=seed + 1))  # fmt: skip

    assert hg.gradcheck(net(training=True), loss, X, y).passed
    assert hg.gradcheck(net(training=False), loss, X, y).passed
    # the classic mistake: the batch statistics' own dependence on x left out
    wrong = hg.gradcheck(net(training=True, constant_stats=True), loss, X, y)
    assert not wrong.passed and not wrong.rows[0].passed


class CastInside(hg.Module):
    """A learner's tanh that computes in float32 and returns float64: before, a weight
    gradient entry with its sign flipped PASSED (the float32 staircase in the loss was taken
    for kinks) in 22 of 60 cases, e.g. an entry of -0.153 with 4.7e-5 allowed."""

    def forward(self, x):
        self.y = np.tanh(x.astype(np.float32)).astype(np.float64)
        return self.y

    def backward(self, grad):
        return grad * (1 - self.y**2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_layer_that_rounds_inside_is_named(dtype):
    model = hg.Sequential(hg.Linear(3, 6, seed=0, dtype=dtype), CastInside(),
                          hg.Linear(6, 2, seed=1, dtype=dtype))  # fmt: skip
    _, loss, X, y = problem(np.float64)
    with pytest.raises(TypeError, match=r"layer 1 \(CastInside\) rounds its output to float32"):
        hg.gradcheck(model, loss, X, y)


class HalfELU(hg.Module):
    """A learner's ELU with α = 0.5: saturated (inputs below -37) its output is -0.5 exactly,
    a float16 number, in float64 too."""

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, 0.5 * np.expm1(np.minimum(x, 0)))

    def backward(self, grad):
        return grad * np.where(self.x > 0, 1.0, 0.5 * np.exp(np.minimum(self.x, 0)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [-40.0, -37.0, -1.0])
def test_a_saturated_unit_is_not_taken_for_rounding_inside(dtype, bias):
    """A diverging run (the common-mistakes attack, seed 273) left an ELU's inputs at -37 to
    -216: its outputs moved between -0.49999999999999994 and -0.5, all float16 numbers, and
    the correct network was refused as "rounds its output to float16". Values with 4
    significant bits or fewer say nothing about a cast; the ones a cast leaves do."""
    first = hg.Linear(3, 4, seed=0, dtype=dtype)
    first.bias.value[...] = bias
    model = hg.Sequential(first, HalfELU(), hg.Linear(4, 2, seed=1, dtype=dtype))
    _, loss, X, y = problem(np.float64)
    assert hg.gradcheck(model, loss, X.astype(dtype) * 0.1, y).passed


class AddingLinear(hg.Linear):
    """A learner's Linear whose backward adds to .grad (``+=``) instead of overwriting it:
    right only after a zero_grad, which handgrad's training loop does not call. Before, a
    fresh model (gradients all zero) PASSED."""

    def backward(self, grad_y):
        self.weight.grad += self._x.T @ grad_y
        self.bias.grad += grad_y.sum(axis=0)
        return grad_y @ self.weight.value.T


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_backward_that_adds_to_grad_fails_and_is_named(dtype):
    _, loss, X, y = problem(np.float64)
    layer = AddingLinear(3, 2, seed=0, dtype=dtype)
    model = hg.Sequential(hg.Linear(3, 3, seed=1, dtype=dtype), hg.Tanh(), layer)
    report = hg.gradcheck(model, loss, X, y)
    assert not report.passed and [r.name for r in report.rows if not r.passed][:1] == ["2.weight"]
    assert "adds to .grad instead of overwriting it" in report.summary()
    right = hg.Linear(3, 2, seed=0, dtype=dtype)
    model = hg.Sequential(hg.Linear(3, 3, seed=1, dtype=dtype), hg.Tanh(), right)
    assert "adds to .grad" not in hg.gradcheck(model, loss, X, y).summary()


class Fragile(hg.Module):
    """y = s * x, raising (as a Linear does on an overflowed input) once s leaves [0.99, 1.01]:
    the precision checks move it by ~1 %, gradcheck's steps by 3e-3 at most."""

    def __init__(self):
        self.s = hg.Parameter(np.ones(3), "s")

    def forward(self, x):
        if np.any(np.abs(self.s.value - 1.0) > 0.005):
            raise ValueError("Fragile input contains inf")
        self.x = x
        return x * self.s.value

    def backward(self, grad):
        self.s.grad[...] = (grad * self.x).sum(axis=0)
        return grad * self.s.value

    def parameters(self):
        return [self.s]


def test_the_precision_checks_tolerate_a_move_that_overflows():
    _, loss, X, y = problem(np.float64)
    model = hg.Sequential(Fragile(), hg.Linear(3, 2, seed=0))
    assert hg.gradcheck(model, loss, X, y).passed


class InPlaceDoubling(hg.Module):
    """A learner's layer y = 2x that changes its input in place (``x *= 2``)."""

    def forward(self, x):
        x *= 2.0
        return x

    def backward(self, grad):
        return 2.0 * grad


def test_a_layer_that_changes_the_batch_in_place_is_named_as_a_possible_cause():
    model = hg.Sequential(InPlaceDoubling(), hg.Linear(3, 2, seed=0))
    _, loss, X, y = problem(np.float64)
    X0 = X.copy()
    with pytest.raises(ValueError, match="changes its input in place"):
        hg.gradcheck(model, loss, X, y)
    assert np.array_equal(X, X0)  # the check works on its own copy of the batch


class BackwardIn32(hg.Module):
    """A learner's tanh, right math, whose backward returns float32 (``cast``) or rounds to
    float32 and back (``round``): before, 17 of 20 correct networks FAILED ("the backward of
    the layer ... is wrong"), the float32 rounding grown by sums that cancel."""

    def __init__(self, how):
        self.how = how

    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, grad):
        dx = (grad * (1 - self.y**2)).astype(np.float32)
        return dx if self.how == "cast" else dx.astype(np.float64)


class WeightGradIn32(hg.Linear):
    """A Linear whose weight gradient is computed in float32."""

    def backward(self, grad_y):
        dx = super().backward(grad_y)
        self.weight.grad[...] = self._x.astype(np.float32).T @ grad_y.astype(np.float32)
        return dx


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("how", ["cast", "round"])
def test_a_backward_computed_in_float32_is_named_not_failed(dtype, how):
    _, loss, X, y = problem(np.float64)
    model = hg.Sequential(hg.Linear(3, 6, seed=0, dtype=dtype), BackwardIn32(how),
                          hg.Linear(6, 2, seed=1, dtype=dtype))  # fmt: skip
    with pytest.raises(TypeError, match=r"layer 1 \(BackwardIn32\)'s backward returns float32"):
        hg.gradcheck(model, loss, X, y)
    model = hg.Sequential(WeightGradIn32(3, 6, seed=0, dtype=dtype), hg.Tanh(),
                          hg.Linear(6, 2, seed=1, dtype=dtype))  # fmt: skip
    before = [p.grad.copy() for p in model.parameters()]
    with pytest.raises(
        TypeError, match=r"layer 0 \(WeightGradIn32\)'s backward computes 0.weight.grad"
    ):
        hg.gradcheck(model, loss, X, y)
    assert all(np.array_equal(a, p.grad) for a, p in zip(before, model.parameters()))


@pytest.mark.parametrize("n", [1, 4, 8])
def test_short_binary_fractions_at_theta_are_not_taken_for_float32(n):
    """A zero first layer puts every logit at exactly 0: BCE's gradient is ±0.5/n, the last
    bias's gradient a short binary fraction, as a float32 number would be. The backward
    check looks at nudged parameters, where no float64 computation gives such numbers."""
    rng = np.random.default_rng(n)
    X, y = rng.integers(-1, 2, (n, 3)).astype(float), rng.integers(0, 2, (n, 1)).astype(float)
    model = hg.mlp([3, 4, 1], "relu", seed=0)
    for p in model.parameters():
        p.value[...] = 0.0
    report = hg.gradcheck(model, hg.BCEWithLogitsLoss(), X, y)
    assert report.passed, report.table()


def test_a_loss_that_is_not_finite_is_an_error_not_a_fail():
    """Before: FAILED, "infinitely the allowed error", naming the backward as wrong."""
    w = np.ones(2)
    with pytest.raises(ValueError, match="the loss is nan at the parameters given"):
        hg.gradcheck(lambda: float("nan") * float(w[0]), [w], [w])


# --- the loss's own precision ------------------------------------------------------------


class RoundsInside(hg.SoftmaxCrossEntropyLoss):
    """A learner's loss that casts the logits to float32 and returns a Python float."""

    def forward(self, logits, target, sample_weight=None):
        return float(super().forward(np.asarray(logits).astype(np.float32), target))

    def backward(self):
        return super().backward().astype(np.float64)


class ReturnsFloat32(hg.MSELoss):
    def forward(self, prediction, target, sample_weight=None):
        return np.float32(super().forward(prediction, target))


class BackwardInFloat32(hg.MSELoss):
    def backward(self):
        return super().backward().astype(np.float32)


def scale_weight_grad(model, factor=1.01):
    def backward(self, grad_y):
        dx = hg.Linear.backward(self, grad_y)
        self.weight.grad *= factor
        return dx

    model[0].backward = types.MethodType(backward, model[0])
    return model


@pytest.mark.parametrize("seed", range(3))
def test_a_loss_that_rounds_to_float32_inside_is_named(seed):
    """Before: its rounding widened every tolerance (max relative error ~1e-2 PASSED) and a
    weight gradient 1 % too large PASSED."""
    model, _, X, y = problem(np.float64, seed)
    with pytest.raises(TypeError, match=r"the loss \(RoundsInside\) rounds to float32 inside"):
        hg.gradcheck(scale_weight_grad(model), RoundsInside(), X, y)


@pytest.mark.parametrize(
    ("loss", "message"),
    [
        (ReturnsFloat32(), r"the loss \(ReturnsFloat32\) returns a float32 value"),
        (BackwardInFloat32(), r"the loss \(BackwardInFloat32\)'s backward returns float32"),
    ],
)
def test_a_loss_that_returns_float32_is_named(loss, message):
    """Before: a backward returning float32 FAILED right math (30 of 90 correct networks)."""
    model, _, X, _ = problem(np.float64)
    y = np.random.default_rng(5).normal(size=(16, 2))
    with pytest.raises(TypeError, match=message):
        hg.gradcheck(model, loss, X, y)


# a learner's -log softmax: at saturated logits its values are differences from 1, few-bit
# numbers as float32 numbers are (its one copy: the late-training harness's)
_spec = importlib.util.spec_from_file_location(
    "gradcheck_late", Path(__file__).with_name("gradcheck_late.py")
)
_late = importlib.util.module_from_spec(_spec)
sys.modules["gradcheck_late"] = _late  # dataclasses look their module up
_spec.loader.exec_module(_late)
NaiveCrossEntropy = _late.NaiveCrossEntropy


@pytest.mark.parametrize("n", [1, 2, 16])
@pytest.mark.parametrize("fit", ["exact", "saturated", "zero"])
def test_a_float64_loss_is_never_taken_for_float32(n, fit):
    """Exact fits (MSE 0), saturated logits (BCE and a naive cross-entropy at margins of
    80), all-zero weights: the loss at the model's predictions is a few-bit number, which
    the loss check never uses; none is refused, and every such network PASSES (the naive
    cross-entropy at margin 80, exactly 0 around θ, FAILED before: tests/nn/
    test_gradcheck_flat.py)."""
    rng = np.random.default_rng(n)
    X = rng.integers(-2, 3, (n, 3)).astype(float)
    model = hg.mlp([3, 4, 2], "relu", seed=n)
    if fit == "zero":
        for p in model.parameters():
            p.value[...] = 0.0
    if fit == "saturated":
        model[2].weight.value[...] = 0.0
        model[2].bias.value[...] = [40.0, -40.0]
    z = model.forward(X)
    for loss, y in [
        (hg.MSELoss(), z.copy() if fit == "exact" else rng.integers(0, 3, (n, 2)).astype(float)),
        (hg.BCEWithLogitsLoss("sum"), (z > 0).astype(float)),
        (hg.SoftmaxCrossEntropyLoss(), np.argmax(z, axis=1)),
        (NaiveCrossEntropy(), np.argmax(z, axis=1)),
    ]:
        check_loss(loss, model.forward(X), y)  # no error
        report = hg.gradcheck(model, loss, X, y)
        assert report.passed, (type(loss).__name__, report.table())


# --- the callable form's precision -------------------------------------------------------


def regression(seed, n=16):
    rng = np.random.default_rng(seed)
    X, y, w = rng.normal(size=(n, 3)), rng.normal(size=n), rng.normal(size=3)
    return X, y, w, lambda: 2 * X.T @ (X @ w - y) / n


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(
    ("low", "wrap", "message"),
    [
        (np.float32, float, r"gradcheck: f rounds to float32 inside"),
        (np.float16, float, r"gradcheck: f rounds to float32 inside"),
        (np.float32, np.float32, r"gradcheck: f returns a float32 value"),
        (np.float64, np.float32, r"gradcheck: f returns a float32 value"),
    ],
)
def test_a_function_computed_in_float32_is_named(seed, low, wrap, message):
    """Before: f computing its MSE in float32 and returning a Python float was checked
    through its rounding (the noise measure widened every tolerance; a correct one PASSED
    at a relative error of 1e-2), now a TypeError, as for the module form's loss; a
    weight gradient 1 % off is refused the same way."""
    X, y, w, grad = regression(seed)

    def f():
        r = X.astype(low) @ w.astype(low) - y.astype(low)
        return wrap(np.mean(r * r))

    for analytic in (grad(), 1.01 * grad()):
        with pytest.raises(TypeError, match=message):
            hg.gradcheck(f, [w], [analytic])


def float64_functions():
    """(name, f, params, right gradients): float64 functions whose values at θ have few
    bits (an exact fit, integers, a saturated loss) or that are flat or steps."""
    X = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 1.0]])
    w = np.array([1.0, -2.0])
    y = X @ w  # exact fit: residues 0 at θ
    v = np.array([3.0, -1.0, 2.0])
    b = np.array([40.0, -40.0])
    c = np.array([0.25])

    def ce():
        z = b - b.max()
        return float(-(z[0] - np.log(np.exp(z).sum())))

    p = np.exp(b - b.max()) / np.exp(b - b.max()).sum()
    return [
        ("exact fit", lambda: float(np.mean((X @ w - y) ** 2)), [w], [np.zeros(2)]),
        ("integer quadratic", lambda: float(np.sum(v**2)), [v], [2 * v]),
        ("saturated cross-entropy", ce, [b], [p - np.array([1.0, 0.0])]),
        ("constant", lambda: 0.5 + 0.0 * float(c[0]), [c], [np.zeros(1)]),
        ("square of a quarter", lambda: float(c[0] ** 2), [c], [2 * c]),
    ]


@pytest.mark.parametrize("case", range(5))
def test_a_float64_function_is_never_taken_for_float32(case):
    """Few-bit values at θ (an exact fit's 0, integers, a saturated loss's 0, 0.0625) are
    legitimate: the check looks only at f at moved parameters. Each PASSES its right
    gradient."""
    name, f, params, grads = float64_functions()[case]
    report = hg.gradcheck(f, params, grads)
    assert report.passed, (name, report.table())
