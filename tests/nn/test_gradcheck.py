"""Every backward in the engine against central finite differences (float64, rel. error < 1e-7).

Also: the checker itself catches a wrong gradient whatever the gradient's scale, refines its
step near a ReLU kink and reports the entries it cannot check there, checks float32 models on
a float64 copy, and explains a failure in one sentence. The broad set of trained models is
in test_gradcheck_verdict.py.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn import functional as F
from handgrad.nn import numerical_gradient
from handgrad.nn.layers import Parameter

TOL = 1e-7


def away_from_zero(rng, shape, margin=0.1):
    """Random values with |x| >= margin: no ReLU input sits near its kink."""
    x = rng.normal(size=shape)
    return np.sign(x) * (margin + np.abs(x))


def check_module(layer: hg.Module, x: np.ndarray, rng) -> hg.nn.GradcheckReport:
    """Gradcheck dL/dx and dL/dθ of L = sum(G * layer(x)) for a fixed random G."""
    out = layer.forward(x)
    G = rng.normal(size=out.shape)
    dx = layer.backward(G)
    params = {"x": x}
    grads = {"x": dx.copy()}
    for p in layer.parameters():
        params[p.name] = p.value
        grads[p.name] = p.grad.copy()

    def f() -> float:
        return float(np.sum(G * layer.forward(x)))

    return hg.gradcheck(f, params, grads)


# --- layers, including the input gradient --------------------------------------------------

LAYERS = {
    "linear": lambda: hg.Linear(4, 3, seed=1),
    "linear_no_bias": lambda: hg.Linear(4, 3, bias=False, seed=2),
    "relu": hg.ReLU,
    "leaky_relu": lambda: hg.LeakyReLU(0.1),
    "tanh": hg.Tanh,
    "sigmoid": hg.Sigmoid,
    "identity": hg.Identity,
}


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_gradients(name, rng):
    layer = LAYERS[name]()
    x = away_from_zero(rng, (5, 4))
    report = check_module(layer, x, rng)
    expected_rows = {"x"} | {p.name for p in layer.parameters()}
    assert {r.name for r in report.rows} == expected_rows
    assert all(r.checked == np.prod(r.shape) and r.kinks == 0 for r in report.rows)
    assert report.passed, report.table()
    assert report.max_rel_error < TOL


def test_linear_without_bias_has_only_a_weight():
    layer = hg.Linear(4, 3, bias=False, seed=0)
    assert [p.name for p in layer.parameters()] == ["weight"]
    assert layer.num_parameters() == 12


def test_linear_module_form(rng):
    layer = hg.Linear(3, 2, seed=3)
    X = rng.normal(size=(6, 3))
    y = rng.normal(size=(6, 2))
    report = hg.gradcheck(layer, hg.MSELoss(), X, y)
    assert [r.name for r in report.rows] == ["weight", "bias"]
    assert report.passed and report.max_rel_error < TOL


# --- losses, both reductions -----------------------------------------------------------------


def loss_cases(rng):
    z1 = rng.normal(0, 2, size=(6, 1))
    z3 = rng.normal(0, 2, size=(6, 3))
    labels = rng.integers(0, 3, size=6)
    soft = F.softmax(rng.normal(size=(6, 3)))
    return {
        "mse": (hg.MSELoss, z3, rng.normal(size=(6, 3))),
        "bce": (hg.BCEWithLogitsLoss, z1, rng.integers(0, 2, size=6).astype(float)),
        "bce_multilabel": (hg.BCEWithLogitsLoss, z3, rng.integers(0, 2, size=(6, 3))),
        "ce_labels": (hg.SoftmaxCrossEntropyLoss, z3, labels),
        "ce_one_hot": (hg.SoftmaxCrossEntropyLoss, z3, F.one_hot(labels, 3)),
        "ce_soft": (hg.SoftmaxCrossEntropyLoss, z3, soft),
    }


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize(
    "case", ["mse", "bce", "bce_multilabel", "ce_labels", "ce_one_hot", "ce_soft"]
)
def test_loss_gradients(case, reduction, rng):
    cls, z, target = loss_cases(rng)[case]
    loss = cls(reduction=reduction)
    loss.forward(z, target)
    grad = loss.backward().copy()
    report = hg.gradcheck(lambda: loss.forward(z, target), {"logits": z}, {"logits": grad})
    assert report.rows[0].checked == z.size
    assert report.passed, report.table()
    assert report.max_rel_error < TOL


def test_sum_is_count_times_mean_for_every_loss(rng):
    for cls, z, target in loss_cases(rng).values():
        mean, total = cls(), cls(reduction="sum")
        # MSE and BCE average over every element (logit); softmax CE over rows
        count = z.shape[0] if cls is hg.SoftmaxCrossEntropyLoss else z.size
        assert total(z, target) == pytest.approx(count * mean(z, target), rel=1e-14)
        assert np.allclose(total.backward(), count * mean.backward(), rtol=1e-14, atol=0)


@pytest.mark.parametrize("convention", ["half", "full"])
def test_l2_penalty_gradient(convention, rng):
    w = hg.Parameter(rng.normal(size=(4, 3)), "weight", regularize=True)
    b = hg.Parameter(rng.normal(size=3), "bias", regularize=False)
    l2 = hg.L2Penalty(0.3, convention=convention)
    for p in (w, b):
        p.grad[...] = 0.0
    l2.add_gradient([w, b])
    report = hg.gradcheck(
        lambda: l2.value([w, b]),
        {"weight": w.value, "bias": b.value},
        {"weight": w.grad.copy(), "bias": b.grad.copy()},
    )
    assert report.passed and report.max_rel_error < TOL
    assert np.all(b.grad == 0.0)  # the bias is not penalized, and its gradient says so


# --- whole networks --------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid"])
def test_network_gradients(activation, depth, rng):
    sizes = [3] + [5] * depth + [3]
    model = hg.mlp(sizes, activation, seed=10 * depth + len(activation))
    X = rng.normal(size=(8, 3))
    # a different loss head for each depth so every pairing gets exercised
    loss, y = {
        1: (hg.SoftmaxCrossEntropyLoss(), rng.integers(0, 3, size=8)),
        2: (hg.BCEWithLogitsLoss(), rng.integers(0, 2, size=(8, 3))),
        3: (hg.MSELoss(reduction="sum"), rng.normal(size=(8, 3))),
    }[depth]
    report = hg.gradcheck(model, loss, X, y)
    names = [name for name, _ in model.named_parameters()]
    assert [r.name for r in report.rows] == names
    total = sum(p.value.size for p in model.parameters())
    checked = sum(r.checked for r in report.rows)
    kinks = sum(r.kinks for r in report.rows)
    assert checked + kinks == total
    assert checked >= 0.9 * total  # kinks are rare with random data
    assert report.passed, report.table()
    assert report.max_rel_error < TOL


def test_network_with_l2_penalty(rng):
    model = hg.mlp([3, 6, 2], "tanh", seed=5)
    loss = hg.SoftmaxCrossEntropyLoss()
    l2 = hg.L2Penalty(0.05, convention="full")
    X, y = rng.normal(size=(10, 3)), rng.integers(0, 2, size=10)
    params = model.parameters()

    def f() -> float:
        return loss.forward(model.forward(X), y) + l2.value(params)

    f()
    model.backward(loss.backward())
    l2.add_gradient(params)
    named = model.named_parameters()
    report = hg.gradcheck(f, {n: p.value for n, p in named}, {n: p.grad.copy() for n, p in named})
    assert report.passed and report.max_rel_error < TOL


# --- the checker catches mistakes ------------------------------------------------------------


def test_wrong_gradient_fails(rng):
    x = rng.normal(size=(3, 4))

    def f() -> float:
        return float(np.sum(np.sin(x)))

    right = np.cos(x)
    assert hg.gradcheck(f, [x], [right]).passed
    wrong = right.copy()
    wrong[1, 2] *= 1.001  # one entry off by 0.1 %
    report = hg.gradcheck(f, [x], [wrong])
    assert not report.passed
    assert not report
    assert report.max_rel_error == pytest.approx(1e-3, rel=0.01)
    assert "FAILED" in report.table() and "NO" in report.table()


class BrokenTanh(hg.Tanh):
    """A classic mistake: dL/dx = dL/dy * (1 - y) instead of (1 - y^2)."""

    def backward(self, grad_y):
        return grad_y * (1.0 - self._y)


def test_wrong_layer_backward_fails(rng):
    good = hg.mlp([3, 4, 1], "tanh", seed=0)
    bad = hg.Sequential(good[0], BrokenTanh(), good[2])
    X, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    assert hg.gradcheck(good, hg.MSELoss(), X, y).passed
    report = hg.gradcheck(bad, hg.MSELoss(), X, y)
    assert not report.passed
    by_name = {r.name: r for r in report.rows}
    assert by_name["0.weight"].max_rel_error > 1e-2  # below the broken layer: wrong
    assert by_name["2.weight"].max_rel_error < TOL  # above it: still right


def _kinked_model(z0: float):
    """A 2-2-1 ReLU net whose unit 0 has pre-activation ``z0`` for the one sample."""
    lin1 = hg.Linear(2, 2, seed=0)
    lin2 = hg.Linear(2, 1, seed=1)
    model = hg.Sequential(lin1, hg.ReLU(), lin2)
    lin1.weight.value[...] = [[1.0, 0.5], [0.0, -0.5]]
    lin1.bias.value[...] = [z0, 0.3]  # unit 0 has pre-activation z0 + x0 for sample x
    lin2.weight.value[...] = [[1.5], [-0.7]]
    return model, np.array([[0.0, 1.0]]), np.array([1.0])


def test_an_input_near_a_kink_is_checked_with_a_smaller_step():
    """z = 2e-4: h = 1e-3 would cross the kink, h = 1e-5 does not; every entry is checked."""
    model, X, y = _kinked_model(2e-4)
    report = hg.gradcheck(model, hg.MSELoss(), X, y)
    assert report.kinks == 0 and report.checked == 9
    assert report.passed, report.table()


@pytest.mark.parametrize("z0", [1e-9, -1e-9, 1e-12, 3e-7])
def test_an_input_within_every_step_of_a_kink_is_judged_from_the_other_side(z0):
    """Every central step crosses the kink (even the finest, 1e-7, reaches 3e-7), yet the
    loss is smooth from θ on the side away from it: the entry is checked there, so the
    correct backward passes and a wrong bias gradient of that unit FAILS (it was skipped
    as a kink, and a flipped sign PASSED)."""
    model, X, y = _kinked_model(z0)
    report = hg.gradcheck(model, hg.MSELoss(), X, y)
    assert report.passed and report.kinks == 0 and report.checked == 9, report.table()
    lin = model[0]

    def backward(self, grad_y):
        dx = hg.Linear.backward(self, grad_y)
        self.bias.grad[0] = 2 * self.bias.grad[0] + 0.1  # wrong whether the unit is on or off
        return dx

    lin.backward = types.MethodType(backward, lin)
    wrong = hg.gradcheck(model, hg.MSELoss(), X, y)
    rows = {r.name: r for r in wrong.rows}
    assert not wrong.passed and rows["0.bias"].failed == 1 and wrong.kinks == 0
    assert rows["0.bias"].worst_index == (0,)


@pytest.mark.parametrize("z0", [2e-6, 2e-5])
def test_a_kink_that_forces_a_small_step_does_not_hide_a_small_gradient(z0):
    """A large loss (target 1e3) with a small gradient (the unit's outgoing weight 1e-6):
    the central steps that avoid the kink (h <= 1e-7 or 1e-6) carry rounding of 0.03-0.3,
    far above the bias gradient 2e-3, so its flipped sign PASSED. The side away from the
    kink resolves it at h = 1e-3; the correct backward still passes."""
    model, X, _ = _kinked_model(z0)
    model[2].weight.value[0, 0] = 1e-6
    y = np.array([1e3])
    report = hg.gradcheck(model, hg.MSELoss(), X, y)
    assert report.passed and report.kinks == 0, report.table()
    lin = model[0]

    def backward(self, grad_y):
        dx = hg.Linear.backward(self, grad_y)
        self.bias.grad[0] = -self.bias.grad[0]
        return dx

    lin.backward = types.MethodType(backward, lin)
    wrong = hg.gradcheck(model, hg.MSELoss(), X, y)
    rows = {r.name: r for r in wrong.rows}
    assert not wrong.passed and rows["0.bias"].failed == 1, wrong.table()
    assert rows["0.bias"].worst_allowed < 1e-3 < abs(rows["0.bias"].worst_analytic)


def test_relu_kink_is_reported_as_kink_not_failure():
    model, X, y = _kinked_model(0.0)  # exactly on the kink: either side's slope is right
    loss = hg.MSELoss()
    report = hg.gradcheck(model, loss, X, y)
    rows = {r.name: r for r in report.rows}
    assert rows["0.bias"].kinks == 1  # nudging b0 moves z across 0
    assert rows["0.weight"].kinks == 1  # only W[1, 0] touches unit 0 for this sample
    assert rows["2.weight"].kinks == 0
    assert report.passed, report.table()
    assert "1 skipped at kinks" not in report.table() and "2 skipped at kinks" in report.table()

    # the finite difference at that entry is indeed meaningless: it disagrees with the
    # (one-sided) analytic gradient by a large fraction
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    analytic = model[0].bias.grad[0]

    def f() -> float:
        return loss.forward(model.forward(X), y)

    numeric = numerical_gradient(f, model[0].bias.value, eps=1e-3, indices=[0])[0]
    assert abs(numeric - analytic) / max(abs(numeric), abs(analytic)) > 0.1


# --- the verdict is scale-aware ----------------------------------------------------------------


@pytest.mark.parametrize("scale", [1e-12, 1.0, 1e12])
def test_the_verdict_does_not_depend_on_the_scale_of_the_gradient(scale, rng):
    """The same problem with the loss times 1e-12, 1 or 1e12: right passes, 1 % off fails.

    A fixed relative-error threshold (CS231n's 1e-7) says FAILED on correct entries whose
    gradient is tiny; the allowed error here comes from the problem's own numbers."""
    x = rng.normal(size=(3, 4))

    def f() -> float:
        return scale * float(np.sum(np.sin(x) * x**2))

    right = scale * (np.cos(x) * x**2 + 2 * x * np.sin(x))
    good = hg.gradcheck(f, [x], [right])
    assert good.passed and good.worst_ratio < 0.1, good.table()
    wrong = right.copy()
    wrong[1, 2] *= 1.01
    bad = hg.gradcheck(f, [x], [wrong])
    assert not bad.passed and bad.rows[0].failed == 1
    assert bad.rows[0].worst_index == (1, 2)
    assert bad.worst_ratio > 100


def test_tiny_gradients_of_a_trained_network_pass():
    """A 2-8-8-1 ReLU net on a moons-like set after Adam: loss ~1e-3, gradients ~1e-6, where a
    fixed relative-error test says FAILED (the issue's report); this one passes, and still
    fails the same weights with one weight gradient 1 % too large."""
    gen = np.random.default_rng(4)
    t = gen.uniform(0, np.pi, 64)
    k = gen.integers(0, 2, 64)
    X = np.stack([np.cos(t) + k, np.sin(t) * (1 - 2 * k) + 0.5 * k], 1) + gen.normal(
        0, 0.1, (64, 2)
    )
    model = hg.mlp([2, 8, 8, 1], "relu", seed=0)
    loss = hg.BCEWithLogitsLoss()
    opt = hg.Adam(model.parameters(), lr=0.01)
    for _ in range(1500):
        loss.forward(model.forward(X), k)
        model.backward(loss.backward())
        opt.step()
    report = hg.gradcheck(model, loss, X, k)
    assert report.passed, report.table()
    assert report.max_rel_error > 1e-7 or report.worst_ratio < 1  # informative only
    first = model[0]

    def backward(grad_y):
        dx = hg.Linear.backward(first, grad_y)
        first.weight.grad *= 1.01
        return dx

    first.backward = backward
    wrong = hg.gradcheck(model, loss, X, k)
    assert not wrong.passed and [r.name for r in wrong.rows if not r.passed] == ["0.weight"]


# --- the checker's interface -----------------------------------------------------------------


def test_numerical_gradient_restores_the_array(rng):
    x = rng.normal(size=(3, 3))
    before = x.copy()
    g = numerical_gradient(lambda: float(np.sum(x**3)), x)
    assert np.array_equal(x, before)
    assert np.allclose(g, 3 * x**2, rtol=1e-8)
    partial = numerical_gradient(lambda: float(np.sum(x**3)), x, indices=[0, 4])
    assert np.isfinite(partial.ravel()[[0, 4]]).all() and np.isnan(partial).sum() == 7


def test_gradcheck_samples_entries_and_reports(rng):
    model = hg.mlp([20, 30, 2], "tanh", seed=0)
    X, y = rng.normal(size=(5, 20)), rng.integers(0, 2, size=5)
    report = hg.gradcheck(model, hg.SoftmaxCrossEntropyLoss(), X, y, max_entries=25)
    assert [r.checked for r in report.rows] == [25, 25, 25, 2]
    assert report.passed
    dicts = report.as_dicts()
    assert dicts[0]["name"] == "0.weight" and dicts[0]["shape"] == [20, 30]
    assert all(d["passed"] for d in dicts)
    assert "PASSED" in str(report)


def test_bad_calls_get_clear_errors(rng):
    X = rng.normal(size=(4, 2))
    model = hg.mlp([2, 3, 1], seed=0)
    with pytest.raises(TypeError, match="Loss"):
        hg.gradcheck(model, "mse", X, np.zeros(4))
    with pytest.raises(TypeError, match="callable"):
        hg.gradcheck(42, [np.zeros(2)], [np.zeros(2)])
    x = np.zeros(3)
    with pytest.raises(ValueError, match="shape"):
        hg.gradcheck(lambda: 0.0, [x], [np.zeros(4)])
    x32 = np.zeros(3, np.float32)
    with pytest.raises(TypeError, match="float32.*float64 copies"):
        hg.gradcheck(lambda: float(np.sum(x32)), [x32], [np.ones(3)])
    with pytest.raises(ValueError, match="eps"):
        hg.gradcheck(model, hg.MSELoss(), X, np.zeros(4), eps=0.0)


def test_report_api_for_a_page(rng):
    """What the playground shows: rows, verdict, one sentence on a failure, all JSON-ready."""
    import json

    model = hg.mlp([3, 4, 2], "tanh", seed=1)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, 6)
    good = hg.gradcheck(model, hg.SoftmaxCrossEntropyLoss(), X, y)
    data = json.loads(json.dumps(good.to_dict()))
    assert data["passed"] is True and data["explanation"] == "" and data["note"] == ""
    assert data["summary"].startswith("PASSED: all 26 checked entries agree")
    row = data["rows"][0]
    assert set(row) == {
        "name", "shape", "checked", "kinks", "failed", "max_abs_error", "max_rel_error",
        "worst_ratio", "worst_index", "worst_analytic", "worst_numerical", "worst_allowed",
        "passed",
    }  # fmt: skip
    model[2].backward = lambda g: g @ model[2].weight.value.T  # forgets its gradients
    model[2].weight.grad[...] = 0.0
    bad = hg.gradcheck(model, hg.SoftmaxCrossEntropyLoss(), X, y)
    sentence = bad.explanation()
    assert sentence.startswith("The analytic gradient of 2.")
    assert sentence.count(". ") == 0 and sentence.endswith("is wrong.")
    assert sentence in bad.table() and "FAILED" in bad.summary()


def test_a_parameter_with_every_entry_on_a_kink_is_reported_not_checked():
    """XOR's corners with zero biases: every first-layer ReLU input of the (0, 0) row is 0."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([0, 1, 1, 0])
    report = hg.gradcheck(hg.mlp([2, 8, 1], "relu", seed=0), hg.BCEWithLogitsLoss(), X, y)
    rows = {r.name: r for r in report.rows}
    assert rows["0.bias"].checked == 0 and rows["0.bias"].kinks == 8
    table = report.table()
    bias_line = next(line for line in table.splitlines() if line.startswith("0.bias"))
    assert bias_line.endswith("not checked")
    total = sum(r.checked for r in report.rows)
    assert f"all {total} checked entries agree" in report.summary()
    assert "; 8 skipped at kinks" in report.summary()
    assert "not checked at all: 0.bias" in report.summary()


def test_a_nested_sequential_is_checked_with_its_kinks_and_unique_names():
    """Sequentials inside a Sequential: every parameter gets its own name ("0.2.weight"; two
    were both "0.weight", and the check raised a shape error), and the ReLUs inside are
    probed for kinks (XOR's corner FAILED at 8.5e5 times its tolerance before)."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([0, 1, 1, 0])
    flat = hg.mlp([2, 8, 8, 1], "relu", seed=0)
    L = flat.layers
    nested = hg.Sequential(hg.Sequential(L[0], L[1], hg.Sequential(L[2], L[3])), L[4])
    report = hg.gradcheck(nested, hg.BCEWithLogitsLoss(), X, y)
    names = [r.name for r in report.rows]
    assert names == ["0.0.weight", "0.0.bias", "0.2.0.weight", "0.2.0.bias", "1.weight", "1.bias"]
    assert report.passed, report.table()
    assert report.kinks == hg.gradcheck(flat, hg.BCEWithLogitsLoss(), X, y).kinks > 0
    wrong = hg.Sequential(hg.Sequential(L[0], hg.Sequential(L[2], L[3])), L[4])
    wrong.layers[0].layers[1].layers[1].backward = lambda g: g  # the ReLU's mask forgotten
    assert not hg.gradcheck(wrong, hg.BCEWithLogitsLoss(), X, y).passed


class _Scale(hg.Module):
    """y = x * a + c with two parameters a learner left unnamed."""

    def __init__(self):
        self.a = Parameter(np.array([1.5, -0.5]))
        self.c = Parameter(np.array([0.25, 2.0]))

    def forward(self, x):
        self.x = x
        return x * self.a.value + self.c.value

    def backward(self, g):
        self.a.grad[...] = (g * self.x).sum(axis=0)
        self.c.grad[...] = g.sum(axis=0)
        return g * self.a.value

    def parameters(self):
        return [self.a, self.c]


def test_unnamed_parameters_of_a_custom_module_are_each_checked():
    X = np.random.default_rng(0).normal(size=(5, 2))
    y = np.random.default_rng(1).normal(size=(5, 2))
    report = hg.gradcheck(_Scale(), hg.MSELoss(), X, y)
    assert [r.name for r in report.rows] == ["0", "1"]
    assert report.passed and report.checked == 4


@pytest.mark.parametrize("bias", [1e-4, -1e-4, 2.5e-3])
def test_a_step_across_a_kink_evaluates_only_the_points_an_estimate_uses(bias):
    """A ReLU input 1e-4 above (or below) its kink: at h = 1e-3 the points on the kink's side
    cross it; once one has, the others on that side serve no estimate and are skipped, and
    the one-sided estimate from the clean side is that of all eight points (2.5e-3: only -3h
    crosses, so only -h/2 is skipped)."""
    from handgrad.nn._gradcheck_kinks import kink_probe
    from handgrad.nn._gradcheck_steps import _evaluate, _step_points, ladder, side_estimate

    model = hg.Sequential(hg.Linear(1, 1, seed=0), hg.ReLU(), hg.Linear(1, 1, seed=1))
    model[0].weight.value[...] = 1.0
    model[0].bias.value[...] = bias
    X, y, loss = np.array([[0.0], [0.5]]), np.array([[1.0], [2.0]]), hg.MSELoss()
    calls = []

    def f():
        calls.append(1)
        return loss.forward(model.forward(X), y)

    probe, x = kink_probe(model), model[0].bias.value
    base = f()
    theta = (base, probe())
    values, states = _step_points(f, x, (0,), 1e-3, probe, theta[1])
    full, _ = _evaluate(f, x, (0,), 1e-3, (1, -1, 2, -2, 3, -3, 0.5, -0.5), probe)
    evaluated = sum(not np.isnan(v) for v in values)
    assert evaluated == {1e-4: 5, -1e-4: 5, 2.5e-3: 7}[bias]
    assert len(calls) == 1 + evaluated + 8
    for v, w in zip(values, full):
        assert np.isnan(v) or v == w
    clean = 1 if bias > 0 else -1
    sided = [s for s in ladder(f, x, (0,), 1e-3, 1e-6, probe, theta=theta) if s.h == 1e-3]
    assert [s.side for s in sided] == [clean]
    for step in sided:
        assert (step.n, step.allowed) == side_estimate(full, base, 1e-3, clean, 1e-6)
