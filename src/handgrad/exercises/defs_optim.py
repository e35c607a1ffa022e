"""Exercises on optimizer steps: SGD with momentum (velocity convention) and Adam.

Each case runs three steps from a zero state and compares what the steps did. The
references are the engine's ``SGD`` and ``Adam``, given the caller's state; the
bug models write out the known wrong updates (other momentum conventions, Adam without
one or both bias corrections) only to recognise them.
"""

from __future__ import annotations

import math

import numpy as np

from ..nn.layers import Parameter
from ..nn.optim import SGD, Adam
from ._common import pair, rng
from .catalogue import BugModel, Case, Exercise, register

STEPS = 3


def _gradients(seed: int, shape: tuple[int, ...], dtype=np.float64) -> list[np.ndarray]:
    g = rng(seed)
    return [g.normal(size=shape).astype(dtype) for _ in range(STEPS)]


def _engine_trajectory(optimizer_cls, w0: np.ndarray, grads: list[np.ndarray], **kw) -> list:
    """The weights after each step of an engine optimizer, fed these gradients."""
    p = Parameter(w0.copy())
    opt = optimizer_cls([p], **kw)
    out = []
    for g in grads:
        p.grad[...] = g
        opt.step()
        out.append(p.value.copy())
    return out


def _steps(ws: list[np.ndarray], w0: np.ndarray) -> list[np.ndarray]:
    return [b - a for a, b in zip([w0, *ws[:-1]], ws)]


# --- SGD with momentum ------------------------------------------------------------------------


def _sgd_probe(namespace, inputs):
    w, v = inputs["w"], np.zeros_like(inputs["w"])
    out = {}
    for k, g in enumerate(inputs["grads"], start=1):
        w, v = pair(
            namespace["sgd_momentum_step"](w, g, v, inputs["lr"], inputs["momentum"]),
            "sgd_momentum_step",
        )
        # copies: an answer updating in place returns the same arrays every step
        out[f"w{k}"], out[f"velocity{k}"] = np.array(w, copy=True), np.array(v, copy=True)
    return out


def _sgd_outputs(ws: list[np.ndarray], velocities: list[np.ndarray]) -> dict[str, np.ndarray]:
    out = {f"w{k}": w for k, w in enumerate(ws, start=1)}
    out.update({f"velocity{k}": v for k, v in enumerate(velocities, start=1)})
    return out


def _sgd_reference(w, grad, velocity, lr, momentum):
    """The exercise's step on the engine's SGD, whose velocity u = mu u + g is -velocity / lr."""
    p = Parameter(np.array(w, copy=True))
    opt = SGD([p], lr=lr, momentum=momentum)
    opt.state[0]["velocity"][...] = -np.reshape(velocity, p.shape) / lr  # the caller's state
    p.grad[...] = grad
    opt.step()
    return p.value, p.value - w  # the velocity is the step itself


def _sgd_other_velocity(case: Case, per: str) -> dict[str, np.ndarray]:
    """Same weights, but the velocity kept as v = mu v + g (per='g') or mu v + lr g (per='lr g')."""
    i = case.inputs
    ws = _engine_trajectory(SGD, i["w"], i["grads"], lr=i["lr"], momentum=i["momentum"])
    divide = i["lr"] if per == "g" else 1.0
    return _sgd_outputs(ws, [-s / divide for s in _steps(ws, i["w"])])


def _sgd_dampened(case: Case, as_step: bool = False) -> dict[str, np.ndarray]:
    """v = mu v + (1 - mu) g, w -= lr v: an exponential average in place of the velocity
    (or, ``as_step``, v = mu v - (1 - mu) lr g, w += v: the contract's velocity, damped)."""
    i = case.inputs
    mu = i["momentum"]
    grads = [(1 - mu) * g for g in i["grads"]]
    ws = _engine_trajectory(SGD, i["w"], grads, lr=i["lr"], momentum=mu)
    steps = _steps(ws, i["w"])
    return _sgd_outputs(ws, steps if as_step else [-s / i["lr"] for s in steps])


def _sgd_step_subtracted(case: Case) -> dict[str, np.ndarray]:
    """The contract's velocity v = mu v - lr g, applied as the other convention's w -= v:
    every step goes uphill; the velocities themselves are right."""
    i = case.inputs
    w, v = i["w"], np.zeros_like(i["w"])
    ws, vs = [], []
    for g in i["grads"]:
        v = i["momentum"] * v - i["lr"] * g
        w = w - v
        ws.append(w)
        vs.append(v)
    return _sgd_outputs(ws, vs)


def _sgd_old_velocity_added(case: Case, where: str) -> dict[str, np.ndarray]:
    """The old velocity added once more: w + v_new + v_old (where='w'), or
    v = v_old + mu v_old - lr g (where='v'); the contract's v already holds mu v_old."""
    i = case.inputs
    w, v = i["w"], np.zeros_like(i["w"])
    ws, vs = [], []
    for g in i["grads"]:
        new = i["momentum"] * v - i["lr"] * g
        w, v = (w + new + v, new) if where == "w" else (w + new + v, new + v)
        ws.append(w)
        vs.append(v)
    return _sgd_outputs(ws, vs)


def _sgd_cases() -> list[Case]:
    cases = []
    for seed, shape, lr, mu, dtype in (
        (150, (4, 3), 0.1, 0.9, np.float64),
        (151, (5,), 0.5, 0.5, np.float64),
        (152, (3, 2), 0.1, 0.9, np.float32),
    ):
        inputs = {
            "w": rng(seed).normal(size=shape).astype(dtype),
            "grads": _gradients(seed + 1, shape, dtype),
            "lr": lr,
            "momentum": mu,
        }
        tags = frozenset({"float32"}) if dtype == np.float32 else frozenset()
        name = f"{'float32 ' if tags else ''}w {shape}, lr {lr}, momentum {mu}, {STEPS} steps"
        cases.append(Case(name, inputs, tags))
    return cases


register(
    Exercise(
        name="sgd_momentum",
        chapter=5,
        title="An SGD step with momentum",
        entries=("sgd_momentum_step",),
        contract=(
            "sgd_momentum_step(w, grad, velocity, lr, momentum) -> (new_w, new_velocity) with\n"
            "the velocity convention:  velocity <- momentum * velocity - lr * grad;\n"
            "w <- w + velocity. Return new arrays (the caller's are not changed); keep the dtype."
        ),
        stub=(
            "def sgd_momentum_step(w, grad, velocity, lr, momentum):\n"
            "    raise NotImplementedError\n"
        ),
        cases=_sgd_cases,
        probe=_sgd_probe,
        reference=lambda: {"sgd_momentum_step": _sgd_reference},
        bug_models=(
            BugModel(
                "momentum-convention",
                "v = mu v + g, w -= lr v",
                lambda c: _sgd_other_velocity(c, "g"),
            ),
            BugModel(
                "momentum-convention",
                "v = mu v + lr g, w -= v",
                lambda c: _sgd_other_velocity(c, "lr g"),
            ),
            BugModel("momentum-convention", "v = mu v + (1 - mu) g, w -= lr v", _sgd_dampened),
            BugModel(
                "momentum-convention",
                "v = mu v - (1 - mu) lr g, w += v",
                lambda c: _sgd_dampened(c, as_step=True),
            ),
            BugModel("momentum-convention", "v = mu v - lr g, w -= v", _sgd_step_subtracted),
            BugModel("old-velocity", "w + v + v_old", lambda c: _sgd_old_velocity_added(c, "w")),
            BugModel(
                "old-velocity",
                "v = v_old + mu v_old - lr g",
                lambda c: _sgd_old_velocity_added(c, "v"),
            ),
        ),
        doc="sgd-with-momentum",
    )
)

# --- Adam -------------------------------------------------------------------------------------

ADAM_DEFAULTS = {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


def _adam_probe(namespace, inputs):
    """Three steps from a zero state, each fed the state the answer returned: the step each
    took (new w - old w) and the m and v it returned (copied, so an in-place update shows
    what it returned at that step)."""
    w0 = np.array(inputs["w"], copy=True)  # the start, whatever the answer does to its input
    w, m, v = inputs["w"], np.zeros_like(w0), np.zeros_like(w0)
    ws, out = [], {}
    for t, g in enumerate(inputs["grads"], start=1):
        w, m, v = pair(namespace["adam_step"](w, g, m, v, t, inputs["lr"]), "adam_step")
        ws.append(np.array(w, copy=True))
        out[f"m{t}"], out[f"v{t}"] = np.array(m, copy=True), np.array(v, copy=True)
    out.update({f"step{k}": s for k, s in enumerate(_steps(ws, w0), start=1)})
    return out


def _adam_reference(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    """One step of the engine's Adam from the state (m, v, t - 1) the caller holds."""
    p = Parameter(np.array(w, copy=True))
    opt = Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
    opt.t = t - 1
    state = opt.state[0]
    state["m"][...], state["v"][...] = np.reshape(m, p.shape), np.reshape(v, p.shape)
    p.grad[...] = grad
    opt.step()
    return p.value, state["m"].copy(), state["v"].copy()


def _adam_variant(
    case: Case,
    correct_m: bool = True,
    correct_v: bool = True,
    shift: int = 0,
    eps_inside: bool = False,
    return_corrected: bool = False,
    squared: bool = True,
    power_m: bool = True,
    power_v: bool = True,
    rooted: bool = True,
    eps_in_v: str = "",
) -> dict[str, np.ndarray]:
    """Adam written with a known mistake: a bias correction left out, the step count off by
    ``shift`` in the corrections, eps under the square root, the square root left out, or
    m_hat and v_hat returned as the state (and so fed back at the next step), eps added to v
    before the correction (``eps_in_v``: "stored" in the v returned, or only "corrected"; a
    "+" after either keeps the eps outside the root as well)."""
    i, b = case.inputs, ADAM_DEFAULTS
    m, v = np.zeros_like(i["w"]), np.zeros_like(i["w"])
    out = {}
    for t, g in enumerate(i["grads"], start=1):
        m = b["beta1"] * m + (1 - b["beta1"]) * g
        v = b["beta2"] * v + (1 - b["beta2"]) * (g * g if squared else g)
        v = v + b["eps"] if eps_in_v.startswith("stored") else v
        t_ = t + shift
        m_hat = m / (1 - (b["beta1"] ** t_ if power_m else b["beta1"] * t_)) if correct_m else m
        v_eps = v + b["eps"] if eps_in_v.startswith("corrected") else v
        v_hat = v_eps / (1 - (b["beta2"] ** t_ if power_v else b["beta2"] * t_)) if correct_v else v
        root = np.sqrt(v_hat + b["eps"]) if eps_inside else np.sqrt(v_hat) + b["eps"]
        root = np.sqrt(v_hat) if eps_in_v in ("stored", "corrected") else root
        root = root if rooted else v_hat + b["eps"]
        out[f"step{t}"] = -i["lr"] * m_hat / root
        if return_corrected:
            m, v = m_hat, v_hat
        out[f"m{t}"], out[f"v{t}"] = m, v
    return out


def _adam_model(**mistake):
    return lambda case: _adam_variant(case, **mistake)


def _adam_cases() -> list[Case]:
    cases = []
    for seed, shape, lr, dtype, scale in (
        (160, (4, 3), 0.1, np.float64, 1.0),
        (161, (6,), 0.01, np.float64, 1.0),
        (162, (3, 3), 0.1, np.float32, 1.0),
        (163, (5, 2), 0.01, np.float64, 1e-4),
    ):
        inputs = {
            "w": rng(seed).normal(size=shape).astype(dtype),
            "grads": [scale * g for g in _gradients(seed + 1, shape, dtype)],
            "lr": lr,
        }
        tags = frozenset({"float32"}) if dtype == np.float32 else frozenset()
        name = f"{'float32 ' if tags else ''}w {shape}, lr {lr}, steps t = 1..{STEPS}"
        if scale != 1.0:
            name += f", gradients ~{scale:g} (sqrt(v_hat) near eps)"
        cases.append(Case(name, inputs, tags))
    return cases


register(
    Exercise(
        name="adam",
        chapter=5,
        title="An Adam step with bias correction",
        entries=("adam_step",),
        contract=(
            "adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8) ->\n"
            "(new_w, new_m, new_v); t is the step number, 1 for the first step.\n"
            "m <- beta1 m + (1 - beta1) grad;  v <- beta2 v + (1 - beta2) grad**2;\n"
            "m_hat = m / (1 - beta1**t);  v_hat = v / (1 - beta2**t);\n"
            "w <- w - lr * m_hat / (sqrt(v_hat) + eps). Return the uncorrected m and v;\n"
            "keep the dtype (float32 stays float32)."
        ),
        stub=(
            "def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):\n"
            "    raise NotImplementedError\n"
        ),
        cases=_adam_cases,
        probe=_adam_probe,
        reference=lambda: {"adam_step": _adam_reference},
        bug_models=(
            *(
                BugModel("adam-bias-correction", what, _adam_model(correct_m=cm, correct_v=cv))
                for what, cm, cv in (
                    ("no bias correction: first step ~3.16x too large", False, False),
                    ("m corrected, v not: first step ~31.6x too large", True, False),
                    ("v corrected, m not: first step 10x too small", False, True),
                )
            ),
            BugModel("adam-step-count", "corrections with t + 1", _adam_model(shift=1)),
            BugModel("adam-step-count", "corrections with t - 1", _adam_model(shift=-1)),
            BugModel(
                "adam-returns-corrected",
                "m_hat and v_hat returned as the state",
                _adam_model(return_corrected=True),
            ),
            BugModel("adam-epsilon", "sqrt(v_hat + eps)", _adam_model(eps_inside=True)),
            *(
                BugModel("adam-epsilon", what, _adam_model(eps_in_v=where))
                for what, where in (
                    ("(v + eps) / (1 - beta2**t), no eps outside the root", "corrected"),
                    ("(v + eps) / (1 - beta2**t), and eps outside the root", "corrected+"),
                    ("v + eps kept as the state, no eps outside the root", "stored"),
                    ("v + eps kept as the state, and eps outside the root", "stored+"),
                )
            ),
            BugModel("adam-square-root", "m_hat / (v_hat + eps)", _adam_model(rooted=False)),
            BugModel(
                "adam-second-moment", "v averages grad, not grad**2", _adam_model(squared=False)
            ),
            *(
                BugModel("adam-bias-correction", f"1 - beta * t for 1 - beta**t ({what})", model)
                for what, model in (
                    ("m", _adam_model(power_m=False)),
                    ("v", _adam_model(power_v=False)),
                    ("both", _adam_model(power_m=False, power_v=False)),
                )
            ),
            *(  # two of the mistakes at once
                BugModel(code, what, _adam_model(**mistakes))
                for code, what, mistakes in (
                    (
                        "adam-step-count+adam-returns-corrected",
                        "t + 1, m_hat and v_hat returned",
                        {"shift": 1, "return_corrected": True},
                    ),
                    (
                        "adam-step-count+adam-epsilon",
                        "t + 1, sqrt(v_hat + eps)",
                        {"shift": 1, "eps_inside": True},
                    ),
                    (
                        "adam-returns-corrected+adam-epsilon",
                        "m_hat and v_hat returned, sqrt(v_hat + eps)",
                        {"return_corrected": True, "eps_inside": True},
                    ),
                    (
                        "adam-bias-correction+adam-epsilon",
                        "no bias correction, sqrt(v + eps)",
                        {"correct_m": False, "correct_v": False, "eps_inside": True},
                    ),
                )
            ),
        ),
        doc="adam",
    )
)

# the first-step ratio the docs quote, written once: (1 - beta1) / sqrt(1 - beta2)
FIRST_STEP_RATIO_WITHOUT_CORRECTIONS = (1 - 0.9) / math.sqrt(1 - 0.999)
