"""The slips named in common_bugs_fresh.py, asserted on what each name rests on: the case
that shows it, the words the learner reads, and the rules added to name them and nothing else
(a model with nothing to say on a wrong output, outputs swapped, a factor on float32 cases)."""

from __future__ import annotations

import warnings

import numpy as np

import handgrad.exercises as ex
from handgrad.exercises.catalogue import Case, get
from handgrad.exercises.diagnose import _telling

ADAM = """
def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
"""
GC = """
def numerical_gradient(f, x, eps=1e-5):
    x = x.copy()
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        g[i] = (up - f(x)) / (2 * eps)
        x[i] = old
    return g

def gradient_check(f, x, analytic_grad, eps=1e-5):
    n = numerical_gradient(f, x, eps)
    a = analytic_grad
    return float(np.max((a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-8)))
"""


def _check(name: str, source: str):
    namespace: dict = {}
    exec(compile("import numpy as np\n" + source, f"<{name}>", "exec"), namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return ex.check(name, namespace)


def _per_case(name: str, result) -> dict[str, list[str]]:
    return {case.name: r.diagnoses for case, r in zip(get(name).cases(), result.cases)}


def test_a_factor_on_a_mistake_is_named_on_the_float32_case_too():
    """m_hat and v_hat returned, lr halved: the float32 case's steps are differences of
    float32 positions, off by more than 1e-6 from 0.5 times the mistake's (float64 1e-6 missed
    it: that case was named `scale` alone)."""
    source = ADAM.replace(
        "return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v",
        "return w - lr / 2 * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat",
    )
    result = _check("adam", source)
    per_case = _per_case("adam", result)
    float32 = next(name for name in per_case if name.startswith("float32"))
    assert per_case[float32] == ["adam-returns-corrected", "scale"], str(result)
    assert result.diagnoses == ["adam-returns-corrected", "scale"]


def test_a_telling_factor_is_judged_to_the_cases_precision():
    float64 = Case("float64", {}, batch=4)
    float32 = Case("float32", {}, frozenset({"float32"}), batch=4)
    off = 2 * (1 + 5e-5)  # 2 as a float32 step carries it
    assert _telling(off, float32) and not _telling(off, float64)
    assert _telling(2 * (1 + 5e-7), float64)
    assert not _telling(2.01, float32)  # a float32 case still tells 2 from 2.01


def test_a_known_mistake_times_2_is_preferred_to_an_arbitrary_factor():
    """1 - beta1 * t makes m_hat the right one times a constant (-0.475 of the step at t = 2):
    with lr doubled too, that constant was named as `sign` and `scale`."""
    source = ADAM.replace("m_hat = m / (1 - beta1 ** t)", "m_hat = m / (1 - beta1 * t)")
    source = source.replace("return w - lr *", "return w - 2 * lr *")
    result = _check("adam", source)
    assert result.diagnoses == ["adam-bias-correction", "scale"], str(result)
    assert "sign" not in str(result).split("hints:")[0]


def test_outputs_swapped_are_named_and_their_nan_not_called_an_overflow():
    source = ADAM.replace("(np.sqrt(v_hat) + eps), m, v", "(np.sqrt(v_hat) + eps), v, m")
    result = _check("adam", source)
    assert result.diagnoses == ["swapped-outputs"], str(result)
    first = result.cases[0].message
    assert first.splitlines()[0] == "m1 and v1: each holds the other's right value"
    assert "follow from the mistake named above, not from overflow" in first


def test_keys_swapped_in_a_dict_are_not_a_forgotten_activation():
    answer = (
        "def forward(X, params, activation='relu'):\n"
        "    z1 = X @ params['W1'] + params['b1']\n"
        "    a1 = np.maximum(z1, 0) if activation == 'relu' else np.tanh(z1)\n"
        "    z2 = a1 @ params['W2'] + params['b2']\n"
        "    return {'z1': a1, 'a1': z1, 'z2': z2, 'p': 0.5 * (1 + np.tanh(0.5 * z2))}\n"
    )
    result = _check("forward", answer)
    assert result.diagnoses == ["swapped-outputs"], str(result)


def test_a_signed_error_is_named_and_says_why():
    result = _check("gradient_check", GC)
    assert result.diagnoses == ["signed-error"], str(result)
    flipped = next(r for r in result.cases if "sign flipped" in r.name)
    assert not flipped.passed and "relative error -2" in flipped.message
    assert "|a - n|" in flipped.message
    right = GC.replace("np.max((a - n) /", "np.max(np.abs(a - n) /")
    assert _check("gradient_check", right).passed


def test_a_model_of_the_gradient_alone_says_nothing_about_the_loss():
    """softplus(z) alone on one sample of y = 1 equals the loss of sigmoid(-z); the batch of 12
    tells the two apart, and a model of the gradient (p = sigmoid(-z)) has no say on the loss:
    it once kept `exp-sign` named beside `label-term`."""
    source = (
        "def bce_with_logits(z, y):\n    return float(np.mean(np.logaddexp(0, z)))\n\n"
        "def bce_with_logits_grad(z, y):\n    return (0.5 * (1 + np.tanh(0.5 * z)) - y) / len(z)\n"
    )
    result = _check("bce_with_logits", source)
    assert result.diagnoses == ["label-term"], str(result)
    one = get("bce_with_logits").cases()[0]
    assert one.batch == 1 and float(np.ravel(one.inputs["y"])[0]) == 1.0  # where both fit


def test_eps_in_v_is_told_by_the_small_gradients_case():
    source = ADAM.replace("v_hat = v / (1 - beta2 ** t)", "v_hat = (v + eps) / (1 - beta2 ** t)")
    result = _check("adam", source)
    assert result.diagnoses == ["adam-epsilon"], str(result)
    small = next(r for r in result.cases if "near eps" in r.name)
    assert small.diagnoses == ["adam-epsilon"]
    assert "nor eps added to v" in str(result)


def test_new_names_are_never_said_of_a_right_answer_beside_them():
    right = {
        "sigmoid_derivative": "def sigmoid_derivative(a):\n    return a - a * a\n",
        "bce_with_logits": (
            "def bce_with_logits(z, y):\n"
            "    return float(np.mean(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)))\n"
            "def bce_with_logits_grad(z, y):\n"
            "    return (np.exp(-np.logaddexp(0, -z)) - y) / len(z)\n"
        ),
        "gradient_check": GC.replace("np.max((a - n) /", "np.max(np.abs(a - n) /"),
        "adam": ADAM.replace("(np.sqrt(v_hat) + eps)", "np.add(np.sqrt(v_hat), eps)"),
    }
    for name, source in right.items():
        result = _check(name, source)
        assert result.passed and result.diagnoses == [], f"{name}: {result}"


def test_precedence_and_one_entry_at_a_time_are_named_with_their_fix():
    bce = (
        "def bce_with_logits(z, y):\n    return float(np.mean(np.logaddexp(0, z) - y * z))\n"
        "def bce_with_logits_grad(z, y):\n"
        "    return 0.5 * (1 + np.tanh(0.5 * z)) - y / len(z)\n"
    )
    result = _check("bce_with_logits", bce)
    assert result.diagnoses == ["precedence"], str(result)
    assert "write (p - y) / N" in str(result)
    at_once = GC.replace(
        "    for i in np.ndindex(x.shape):\n",
        "    g[...] = (f(x + eps) - f(x - eps)) / (2 * eps)\n",
    )
    at_once = (
        at_once.split("        old = x[i]")[0]
        + "    return g\n"
        + GC[GC.index("\ndef gradient_check") :]
    )
    at_once = at_once.replace("np.max((a - n) /", "np.max(np.abs(a - n) /")
    result = _check("gradient_check", at_once)
    assert result.diagnoses == ["one-entry-at-a-time"], str(result)
