"""Optimizers against straightforward reference implementations written out here."""

from __future__ import annotations

import json

import numpy as np
import pytest

import handgrad as hg

STEPS = 5


def make_params(rng, dtype=np.float64):
    """A weight (decayed) and a bias (never decayed)."""
    w = hg.Parameter(rng.normal(size=(4, 3)).astype(dtype), "weight", regularize=True)
    b = hg.Parameter(rng.normal(size=3).astype(dtype), "bias", regularize=False)
    return [w, b]


def run(opt, params, grads):
    """Feed each step's gradients to the optimizer; return the values after every step."""
    history = []
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad[...] = g
        opt.step()
        history.append([p.value.copy() for p in params])
    return history


def random_grads(rng, params, steps=STEPS):
    return [[rng.normal(size=p.value.shape) for p in params] for _ in range(steps)]


# --- reference implementations: the textbook update rules, one parameter at a time ----------


def ref_sgd(w, grads, lr, mu=0.0, nesterov=False, wd=0.0):
    w, v, out = w.copy(), np.zeros_like(w), []
    for g in grads:
        g = g + wd * w
        v = mu * v + g
        w = w - lr * ((g + mu * v) if nesterov else v)
        out.append(w)
    return out


def ref_adam(w, grads, lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, decoupled=False):
    w, m, v, out = w.copy(), np.zeros_like(w), np.zeros_like(w), []
    for t, g in enumerate(grads, start=1):
        if not decoupled:
            g = g + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        if decoupled:
            w = w - lr * wd * w
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(w)
    return out


def ref_rmsprop(w, grads, lr, rho=0.9, eps=1e-8, wd=0.0):
    w, s, out = w.copy(), np.zeros_like(w), []
    for g in grads:
        g = g + wd * w
        s = rho * s + (1 - rho) * g * g
        w = w - lr * g / (np.sqrt(s) + eps)
        out.append(w)
    return out


CASES = {
    "sgd": (lambda ps: hg.SGD(ps, lr=0.1), lambda w, gs, wd: ref_sgd(w, gs, 0.1)),
    "sgd_momentum": (
        lambda ps: hg.SGD(ps, lr=0.05, momentum=0.9),
        lambda w, gs, wd: ref_sgd(w, gs, 0.05, mu=0.9),
    ),
    "sgd_nesterov": (
        lambda ps: hg.SGD(ps, lr=0.05, momentum=0.8, nesterov=True),
        lambda w, gs, wd: ref_sgd(w, gs, 0.05, mu=0.8, nesterov=True),
    ),
    "sgd_weight_decay": (
        lambda ps: hg.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1),
        lambda w, gs, wd: ref_sgd(w, gs, 0.05, mu=0.9, wd=0.1 * wd),
    ),
    "adam": (lambda ps: hg.Adam(ps, lr=0.01), lambda w, gs, wd: ref_adam(w, gs, 0.01)),
    "adam_betas": (
        lambda ps: hg.Adam(ps, lr=0.02, betas=(0.5, 0.9), eps=1e-6),
        lambda w, gs, wd: ref_adam(w, gs, 0.02, b1=0.5, b2=0.9, eps=1e-6),
    ),
    "adam_l2": (
        lambda ps: hg.Adam(ps, lr=0.01, weight_decay=0.1),
        lambda w, gs, wd: ref_adam(w, gs, 0.01, wd=0.1 * wd),
    ),
    "adamw": (
        lambda ps: hg.Adam(ps, lr=0.01, weight_decay=0.1, decoupled=True),
        lambda w, gs, wd: ref_adam(w, gs, 0.01, wd=0.1 * wd, decoupled=True),
    ),
    "rmsprop": (
        lambda ps: hg.RMSProp(ps, lr=0.01),
        lambda w, gs, wd: ref_rmsprop(w, gs, 0.01),
    ),
    "rmsprop_weight_decay": (
        lambda ps: hg.RMSProp(ps, lr=0.01, rho=0.8, weight_decay=0.2),
        lambda w, gs, wd: ref_rmsprop(w, gs, 0.01, rho=0.8, wd=0.2 * wd),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_optimizer_matches_reference(name, rng):
    make_opt, reference = CASES[name]
    params = make_params(rng)
    start = [p.value.copy() for p in params]
    grads = random_grads(rng, params)
    got = run(make_opt(params), params, grads)
    for i, p in enumerate(params):
        # weight decay applies to the weight (regularize=True) only, never to the bias
        expected = reference(start[i], [g[i] for g in grads], 1.0 if p.regularize else 0.0)
        for step in range(STEPS):
            assert np.allclose(got[step][i], expected[step], rtol=1e-13, atol=1e-15), (
                f"{name}: {p.name} differs at step {step + 1}"
            )


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: hg.SGD(ps, lr=0.1, weight_decay=0.5),
        lambda ps: hg.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.5),
        lambda ps: hg.Adam(ps, lr=0.1, weight_decay=0.5),
        lambda ps: hg.Adam(ps, lr=0.1, weight_decay=0.5, decoupled=True),
        lambda ps: hg.RMSProp(ps, lr=0.1, weight_decay=0.5),
    ],
)
def test_weight_decay_is_not_applied_to_biases(make, rng):
    params = make_params(rng)
    w0, b0 = (p.value.copy() for p in params)
    for p in params:
        p.grad[...] = 0.0  # zero gradient: only weight decay can move anything
    opt = make(params)
    opt.step()
    assert np.array_equal(params[1].value, b0)
    w = params[0].value
    # the weights move towards 0: every entry changes, against its own sign
    assert np.all(np.sign(w - w0) == -np.sign(w0))
    if isinstance(opt, hg.SGD) or getattr(opt, "decoupled", False):
        assert np.allclose(w, w0 * (1 - 0.1 * 0.5), rtol=1e-15)


def test_adam_first_step_is_lr_times_sign(rng):
    """m_hat = g and v_hat = g^2 after one step, so the step is lr * g / (|g| + eps)."""
    w = hg.Parameter(np.zeros(6))
    g = np.array([3.0, -2.0, 1e-3, -1e-5, 1e-8, 0.0])
    w.grad[...] = g
    hg.Adam([w], lr=0.01).step()
    expected = -0.01 * g / (np.abs(g) + 1e-8)
    assert np.allclose(w.value, expected, rtol=1e-12, atol=0)
    # large gradients move every entry by ~lr, whatever their scale; tiny ones are damped by eps
    assert np.allclose(w.value[:4], -0.01 * np.sign(g[:4]), rtol=1e-3)
    assert w.value[4] == pytest.approx(-0.005, rel=1e-9) and w.value[5] == 0.0


def test_float32_parameters_keep_float32_state_and_values(rng):
    for make in (
        lambda ps: hg.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda ps: hg.Adam(ps, lr=0.01, weight_decay=0.01),
        lambda ps: hg.Adam(ps, lr=0.01, weight_decay=0.01, decoupled=True),
        lambda ps: hg.RMSProp(ps, lr=0.01, weight_decay=0.01),
    ):
        params = make_params(rng, np.float32)
        opt = make(params)
        run(opt, params, [[g.astype(np.float32) for g in gs] for gs in random_grads(rng, params)])
        for p in params:
            assert p.value.dtype == np.float32 and p.grad.dtype == np.float32
            assert np.all(np.isfinite(p.value))
        # every array the optimizer keeps (velocities, moments) is float32 too (besides the
        # integer exponents of Adam's v and RMSProp's s, see test_huge_gradients_*)
        state = [
            a
            for per_param in opt.state
            for k, a in per_param.items()
            if not k.endswith("_exponent")
        ]
        assert len(state) >= len(params)
        assert all(a.dtype == np.float32 for a in state)


def test_float32_matches_float64_reference_closely(rng):
    params = make_params(rng, np.float32)
    start = [p.value.astype(np.float64) for p in params]
    grads = random_grads(rng, params)
    run(hg.Adam(params, lr=0.01), params, [[g.astype(np.float32) for g in gs] for gs in grads])
    for i, p in enumerate(params):
        expected = ref_adam(start[i], [g[i].astype(np.float32) for g in grads], 0.01)[-1]
        assert np.allclose(p.value, expected, rtol=1e-5, atol=1e-6)


def test_optimizer_argument_checks(rng):
    params = make_params(rng)
    with pytest.raises(ValueError, match="lr"):
        hg.SGD(params, lr=0.0)
    with pytest.raises(ValueError, match="lr"):
        hg.Adam(params, lr=float("nan"))
    with pytest.raises(ValueError, match="momentum"):
        hg.SGD(params, lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="nesterov"):
        hg.SGD(params, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta1"):
        hg.Adam(params, betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="rho"):
        hg.RMSProp(params, rho=-0.1)
    with pytest.raises(ValueError, match="empty"):
        hg.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="Parameter"):
        hg.SGD([np.zeros(3)], lr=0.1)


def test_zero_grad_and_a_step_that_descends(rng):
    """One SGD step on a least-squares loss lowers it (the update goes downhill)."""
    model = hg.Linear(3, 1, seed=0)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    loss = hg.MSELoss()
    opt = hg.SGD(model.parameters(), lr=0.05)
    before = loss(model(X), y)
    model.backward(loss.backward())
    opt.step()
    assert loss(model(X), y) < before
    opt.zero_grad()
    assert all(not p.grad.any() for p in model.parameters())


# --- parameters stay the user's arrays; state is per parameter ----------------------------------


def test_creating_and_stepping_an_optimizer_never_rebinds_value_or_grad(rng):
    for make in (
        lambda ps: hg.SGD(ps, lr=0.1, momentum=0.9),
        lambda ps: hg.Adam(ps, lr=0.01),
        lambda ps: hg.RMSProp(ps, lr=0.01),
    ):
        params = make_params(rng)
        values, grads = [p.value for p in params], [p.grad for p in params]
        opt = make(params)
        for g in grads:
            g[...] = rng.normal(size=g.shape)
        opt.step()
        assert all(p.value is v for p, v in zip(params, values))
        assert all(p.grad is g for p, g in zip(params, grads))
        assert len(opt.state) == len(params)
        for p, per_param in zip(params, opt.state):
            for k, a in per_param.items():
                shape = () if k.endswith("_exponent") else p.value.shape  # a scale, see below
                assert a.shape == shape and not np.shares_memory(a, p.value)


def test_a_replaced_gradient_array_is_used_by_the_next_step(rng):
    params = make_params(rng)
    opt = hg.SGD(params, lr=0.1)
    start = [p.value.copy() for p in params]
    new = [rng.normal(size=p.value.shape) for p in params]
    params[0].grad = new[0]  # a module that assigns instead of writing in place
    params[1].grad[...] = new[1]
    opt.step()
    for p, w0, g in zip(params, start, new):
        assert np.array_equal(p.value, w0 - 0.1 * g)


def test_parameters_of_two_dtypes_each_keep_their_dtype(rng):
    w = hg.Parameter(rng.normal(size=(3, 2)).astype(np.float32))
    b = hg.Parameter(rng.normal(size=2))
    w.grad[...], b.grad[...] = 1.0, 2.0
    w0, b0 = w.value.copy(), b.value.copy()
    opt = hg.Adam([w, b], lr=0.01)
    opt.step()
    assert w.value.dtype == np.float32 and b.value.dtype == np.float64
    assert opt.state[0]["m"].dtype == np.float32 and opt.state[1]["v"].dtype == np.float64
    # Adam's first step is lr * g / (|g| + eps) whatever the scale of g
    np.testing.assert_allclose(w.value, w0 - np.float32(0.01), rtol=1e-6)
    np.testing.assert_allclose(b.value, b0 - 0.01 * 2.0 / (2.0 + 1e-8), rtol=1e-13)


def test_hyperparameters_accept_any_real_number_type(rng):
    params = make_params(rng)
    opt = hg.SGD(params, lr=np.float32(0.1), momentum=np.float64(0.5))
    assert type(opt.lr) is float and opt.lr == float(np.float32(0.1)) and opt.momentum == 0.5
    assert hg.SGD(params, lr=np.int64(1)).lr == 1.0
    adam = hg.Adam(params, lr=1, betas=np.array([0.8, 0.9]), eps=np.float16(1e-3))
    assert (adam.beta1, adam.beta2) == (0.8, 0.9)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda ps: hg.SGD(ps, lr=0.1, weight_decay=float("nan")), "weight_decay"),
        (lambda ps: hg.SGD(ps, lr=0.1, weight_decay=-1.0), "weight_decay"),
        (lambda ps: hg.Adam(ps, weight_decay=float("inf")), "weight_decay"),
        (lambda ps: hg.Adam(ps, betas=(0.9,)), "betas must be a pair"),
        (lambda ps: hg.Adam(ps, betas=(0.9, 0.99, 0.999)), "betas must be a pair"),
        (lambda ps: hg.Adam(ps, betas=0.9), "betas must be a pair"),
        (lambda ps: hg.Adam(ps, betas=(0.9, float("nan"))), "beta2"),
        (lambda ps: hg.Adam(ps, eps=0.0), "eps"),
        (lambda ps: hg.RMSProp(ps, eps=0.0), "eps"),
        (lambda ps: hg.RMSProp(ps, lr=float("inf")), "lr"),
        (lambda ps: hg.SGD(ps, lr=True), r"lr must be a finite number in \(0, 1e\+06\), got True"),
        (
            lambda ps: hg.SGD(ps, lr="0.1"),
            r"lr must be a finite number in \(0, 1e\+06\), got '0.1'",
        ),
        (
            lambda ps: hg.SGD(ps, lr=1 + 0j),
            r"lr must be a finite number in \(0, 1e\+06\), got \(1\+0j\)",
        ),
    ],
)
def test_bad_hyperparameters_are_refused_by_name(rng, make, match):
    params = make_params(rng)
    values = [p.value.copy() for p in params]
    with pytest.raises((ValueError, TypeError), match=match):
        make(params)
    assert all(np.array_equal(p.value, v) for p, v in zip(params, values))


def test_state_dict_round_trip_continues_bit_for_bit(rng):
    for make in (
        lambda ps: hg.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda ps: hg.Adam(ps, lr=0.01, weight_decay=0.01, decoupled=True),
        lambda ps: hg.RMSProp(ps, lr=0.01, weight_decay=0.01),
    ):
        params = make_params(rng)
        grads = random_grads(rng, params, steps=6)
        opt = make(params)
        run(opt, params, grads[:3])
        state = opt.state_dict()
        json.dumps({k: v for k, v in state.items() if k != "state"})  # scalars are JSON
        twin_params = [hg.Parameter(p.value.copy(), p.name, p.regularize) for p in params]
        twin = make(twin_params)
        twin.load_state_dict(state)
        assert twin.t == opt.t == 3
        run(opt, params, grads[3:])
        run(twin, twin_params, grads[3:])
        for p, q in zip(params, twin_params):
            assert np.array_equal(p.value, q.value)


def test_load_state_dict_refuses_a_mismatch_before_changing_anything(rng):
    params = make_params(rng)
    opt = hg.Adam(params, lr=0.01)
    good = opt.state_dict()
    before = [a.copy() for s in opt.state for a in s.values()]
    bad_shape = opt.state_dict()
    bad_shape["state"][0]["m"] = np.zeros((9, 9))
    bad_t = {**good, "t": -1}
    nan = opt.state_dict()
    nan["state"][1]["v"][0] = np.nan
    for bad, match in (
        (bad_shape, "m of parameter 0"),
        (bad_t, "t must be"),
        (nan, "not finite"),
        (hg.SGD(params, lr=0.1).state_dict(), "belongs to 'SGD'"),
        ({**good, "hyperparameters": {"lr": 0.01, "betas": [0.9, 2.0]}}, "beta2"),
    ):
        with pytest.raises(ValueError, match=match):
            opt.load_state_dict(bad)
        after = [a for s in opt.state for a in s.values()]
        assert all(np.array_equal(a, b) for a, b in zip(after, before)) and opt.t == 0


def test_a_parameter_listed_twice_is_refused(rng):
    params = make_params(rng)
    with pytest.raises(ValueError, match="more than once"):
        hg.SGD(params + params[:1], lr=0.1)


# --- gradients whose squares overflow ---------------------------------------------------------
# (one scale per parameter: entries more than ~1e150 times smaller than the largest of the
# same parameter lose relative precision in their square, see nn/optim.py)


def step(opt, fast):
    """One step, by the optimizer itself or by the fast path's kernel (which fit runs with
    floating-point warnings off: it detects the overflow of g^2 by its result)."""
    from handgrad.train.fast_updates import Update

    if fast:
        with np.errstate(over="ignore", invalid="ignore"):
            Update(opt).step()
    else:
        opt.step()


@pytest.mark.parametrize(
    "dtype, huge", [(np.float64, 1e200), (np.float64, 1e308), (np.float32, 1e30)]
)
@pytest.mark.parametrize("fast", [False, True], ids=["reference", "fastpath"])
def test_huge_gradients_give_adams_exact_first_step(dtype, huge, fast):
    """With bias correction the first Adam step is lr * g / (|g| + eps) = lr * sign(g) (to
    within eps / |g|, far below an ulp here). Before, g^2 overflowed to inf, v too, and the
    step was lr * m_hat / inf = 0."""
    g = np.array([huge, -huge, huge / 3, huge * 1e-20], dtype=dtype)
    p = hg.Parameter(np.zeros(4, dtype=dtype))
    p.grad[...] = g
    opt = hg.Adam([p], lr=0.5)
    step(opt, fast)
    exact = np.array([-0.5, 0.5, -0.5, -0.5])
    np.testing.assert_allclose(p.value, exact.astype(dtype), rtol=4 * np.finfo(dtype).eps)
    assert opt.state[0]["v_exponent"] > 0
    # and it keeps stepping by ~lr while the gradients stay that large
    for _ in range(3):
        p.grad[...] = g
        step(opt, fast)
    assert np.all(np.isfinite(p.value)) and np.all(np.abs(p.value[:3]) > 1.5)


@pytest.mark.parametrize("fast", [False, True], ids=["reference", "fastpath"])
def test_huge_gradients_give_rmsprops_exact_step(fast):
    """RMSProp's first step is lr * g / (sqrt(1 - rho) |g| + eps) = lr * sign(g) / sqrt(1 - rho)."""
    g = np.array([1e200, -1e250, 1e150])
    p = hg.Parameter(np.zeros(3))
    p.grad[...] = g
    opt = hg.RMSProp([p], lr=0.01, rho=0.9)
    step(opt, fast)
    exact = -0.01 * np.sign(g) / np.sqrt(0.1)
    np.testing.assert_allclose(p.value, exact, rtol=1e-14)
    assert opt.state[0]["s_exponent"] > 0


def test_below_the_overflow_the_formulas_are_the_textbook_ones_bit_for_bit(rng):
    """e stays 0 while g^2 is finite: the state and the step are exactly what they were."""
    p = hg.Parameter(rng.normal(size=(3, 2)))
    q = hg.Parameter(p.value.copy())
    opt = hg.Adam([p], lr=0.01)
    m, v, w = np.zeros((3, 2)), np.zeros((3, 2)), q.value
    for t in range(1, 4):
        g = rng.normal(size=(3, 2)) * 1e150
        p.grad[...] = g
        opt.step()
        m = 0.9 * m + (1 - 0.9) * g
        v = 0.999 * v + (1 - 0.999) * (g * g)
        w = w - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    assert opt.state[0]["v_exponent"] == 0
    assert np.array_equal(p.value, w) and np.array_equal(opt.state[0]["v"], v)


@pytest.mark.parametrize("make", [hg.SGD, hg.Adam, hg.RMSProp])
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": 1e308}, r"lr must be a finite number in \(0, 1e\+06\), got 1e\+308"),
        ({"lr": 1e6}, "lr must be a finite number"),
        ({"lr": float("inf")}, "lr must be a finite number"),
        ({"weight_decay": 1e300}, r"weight_decay must be a finite number in \[0, 1e\+06\)"),
    ],
)
def test_absurd_hyperparameters_are_refused_as_negative_ones_are(make, kwargs, message):
    layer = hg.Linear(2, 1, seed=0)
    with pytest.raises(ValueError, match=f"^{make.__name__}: {message}"):
        make(layer.parameters(), **kwargs)
    make(layer.parameters(), **{k: 1e5 for k in kwargs})  # large, but a step


@pytest.mark.parametrize("make, key", [(hg.Adam, "v_exponent"), (hg.RMSProp, "s_exponent")])
@pytest.mark.parametrize("exponent", [-1, -(2**31), 1025])
def test_a_scale_exponent_out_of_range_is_refused_on_load(make, key, exponent):
    # found by fuzzing checkpoints: -2**31 was accepted, and the next step overflowed
    layer = hg.Linear(2, 1, seed=0)
    opt = make(layer.parameters())
    layer.weight.grad[...] = 1.0
    opt.step()
    state = opt.state_dict()
    state["state"][0][key] = np.array(exponent, np.int64)
    with pytest.raises(ValueError, match=f"{key} of parameter 0 is {exponent}, not in"):
        opt.load_state_dict(state)


def test_an_integer_beyond_the_float_range_is_refused_by_name():
    with pytest.raises(
        ValueError,
        match=r"^SGD: lr must be a finite number in \(0, 1e\+06\), got an integer of 332 digits$",
    ):
        hg.SGD(hg.Linear(2, 1, seed=0).parameters(), lr=2**1100)
