"""What a learner's walk through the course found: a factor 2 on two samples said plainly
and named by what the other cases show; no false name beside the right one."""

from __future__ import annotations

import warnings

import handgrad.exercises as ex

MSE = "import numpy as np\ndef mse(y_pred, y_true):\n    return {}\n"


def _check(exercise: str, source: str):
    namespace: dict = {}
    exec(compile(source, f"<{exercise}>", "exec"), namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return ex.check(exercise, namespace)


def _two_samples(result):
    (case,) = [c for c in result.cases if c.name.startswith("worked example")]
    return case


def test_a_sum_on_two_samples_is_named_a_sum_in_plain_words():
    result = _check("mse", MSE.format("np.sum((y_pred - y_true) ** 2)"))
    case = _two_samples(result)
    assert case.diagnoses == ["scale"]
    assert "a factor 2 (N = 2 samples here: a sum where the mean belongs" in case.message
    assert "N/(N - 1)" not in case.message and "= N =" not in case.message


def test_a_division_by_n_minus_1_on_two_samples_is_named_as_the_other_cases_show():
    source = MSE.format("np.sum((y_pred - y_true) ** 2) / (y_pred.size - 1)")
    result = _check("mse", source)
    case = _two_samples(result)
    assert case.diagnoses == ["n-minus-1"]
    assert "divided by N - 1 = 1 instead of by N, as the other cases show" in case.message
    assert result.diagnoses == ["n-minus-1"]  # never `scale`: nothing is summed


def test_relu_on_the_logit_is_named_output_activation_and_nothing_else():
    source = (
        "import numpy as np\n"
        'def forward(X, params, activation="relu"):\n'
        '    z1 = X @ params["W1"] + params["b1"]\n'
        '    a1 = np.maximum(z1, 0) if activation == "relu" else np.tanh(z1)\n'
        '    z2 = np.maximum(a1 @ params["W2"] + params["b2"], 0)\n'
        "    p = 0.5 * (1 + np.tanh(0.5 * z2))\n"
        '    return {"z1": z1, "a1": a1, "z2": z2, "p": p}\n'
    )
    result = _check("forward", source)
    assert not result.passed
    assert result.diagnoses == ["output-activation"], str(result)
    saturated = [c for c in result.cases if "saturated" in c.name]
    assert saturated and "on top of it" not in saturated[0].message
