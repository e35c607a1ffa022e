"""Results read as text, as HTML in a notebook and as JSON; the Python API's inputs."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

import handgrad.exercises as ex


def wrong_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def test_text_html_and_json_of_a_failing_check():
    result = ex.check("softmax", wrong_softmax)
    assert not result and not result.passed
    text = str(result)
    assert text.startswith("softmax: FAILED (")
    assert "FAIL logits of +-800 [unstable]" in text
    # the hints point at what a learner has wherever the course was copied: the package
    assert "docs/exercises.md" not in text
    assert "  - unstable: overflow or lost digits" in text
    assert "handgrad exercise explain softmax" in text  # the formulas
    assert 'each hint at length: handgrad exercise explain NAME, e.g. handgrad exercise explain' \
        ' unstable (in Python: handgrad.exercises.explain("unstable"))' in text  # fmt: skip
    html = result._repr_html_()
    assert "<table" in html and "failed" in html
    assert "docs/exercises.md" not in html and "href=" not in html
    assert '<code style="white-space:nowrap">unstable</code>' in html
    # each hint folds out into its explanation, in the output itself
    assert "<details><summary><code>unstable</code>: overflow or lost digits" in html
    assert "Shift by the max (softmax)" in html
    assert "white-space:pre-wrap" in html
    assert "<script" not in html
    data = json.loads(json.dumps(result.as_dict()))
    assert data["exercise"] == "softmax" and data["passed"] is False
    unstable = [c for c in data["cases"] if c["diagnoses"] == ["unstable"]]
    # the +-800 case and the rows 1,600 apart
    assert len(unstable) == 2 and all("nan" in c["message"] for c in unstable)


def test_a_passing_check_lists_every_case():
    result = ex.check("relu", lambda z: np.maximum(z, 0))
    assert result.passed
    assert str(result).count("\n  ok   ") == len(result.cases)
    assert "passed" in result._repr_html_()


def test_html_escapes_what_the_learner_wrote():
    def relu(z):
        raise ValueError("<b>not bold</b>")

    html = ex.check("relu", relu)._repr_html_()
    assert "<b>not bold</b>" not in html and "&lt;b&gt;not bold&lt;/b&gt;" in html


def test_the_in_process_time_limit_stops_a_slow_answer():
    calls, finished = [], []

    def relu(z):
        calls.append(z)
        time.sleep(30)  # the limit interrupts it
        finished.append(z)

    result = ex.check("relu", relu, timeout=0.2)
    assert "did not finish within 0.2 s" in result.cases[0].message
    assert calls and finished == []  # every call was stopped, none slept its 30 s


def test_after_one_case_hangs_the_others_are_not_waited_for():
    """An endless loop costs one time limit, not one per case (5 for relu)."""
    calls = []

    def relu(z):
        calls.append(z)
        while True:
            pass

    result = ex.check("relu", relu, timeout=0.2)
    assert len(calls) == 1 and not result.passed
    first, *others = result.cases
    assert "did not finish within 0.2 s" in first.message
    assert len(others) == len(ex.get("relu").cases()) - 1 == 4
    assert all(
        c.message.startswith(f"not run: the case {first.name!r} did not finish in time")
        and not c.passed
        for c in others
    ), str(result)


def test_answers_as_a_dict_a_module_or_a_path(tmp_path):
    grad = {"l2_penalty": lambda w, lam: lam / 2 * np.sum(w**2), "l2_penalty_grad": None}
    result = ex.check("l2_penalty", grad)
    assert not result.passed and "raised TypeError" in result.cases[0].message
    path = tmp_path / "answer.py"
    path.write_text("import numpy as np\ndef relu(z):\n    return np.maximum(z, 0)\n")
    assert ex.check("relu", str(path)).passed
    with pytest.raises(TypeError, match="l2_penalty \\+ l2_penalty_grad"):
        ex.check("l2_penalty", lambda w, lam: 0.0)
    missing = ex.check("l2_penalty", {"l2_penalty": lambda w, lam: 0.0})
    assert not missing.passed and "does not define l2_penalty_grad" in missing.problem


def test_unknown_exercise_names_the_choices():
    with pytest.raises(ValueError, match="choose from: mse, linear, relu, relu_backward"):
        ex.check("rleu", np.abs)


def test_no_code_when_the_cause_is_not_recognised():
    result = ex.check("relu", lambda z: z**2)
    assert not result.passed
    assert result.diagnoses == []
    assert "expected" in result.cases[0].message and "got" in result.cases[0].message


def test_several_codes_can_apply_at_once():
    def backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2):
        a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
        A = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
        dz2 = (A - Y) / len(X)
        dz1 = (dz2 @ W2.T) * a1 * (1 - a1)
        return {"dW1": dz1.T @ X, "db1": dz1, "dW2": a1.T @ dz2, "db2": dz2.sum(0, keepdims=True)}

    result = ex.check("backprop", backprop)
    big = next(c for c in result.cases if c.name.startswith("m = 100"))
    assert {"transpose", "scale", "bias-not-summed"} <= set(big.diagnoses)
    assert "(= 1/N, N = 100)" in big.message


def test_a_named_mistake_and_a_factor_on_top_are_both_listed_most_specific_first():
    def backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2):
        a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
        A = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
        dz2 = (A - Y) / len(X)  # a mean where the contract sums
        s = 1 / (1 + np.exp(-a1))
        dz1 = (dz2 @ W2.T) * s * (1 - s)  # sigmoid' taken at the output a1
        return {"dW1": X.T @ dz1, "db1": dz1.sum(0, keepdims=True),
                "dW2": a1.T @ dz2, "db2": dz2.sum(0, keepdims=True)}  # fmt: skip

    result = ex.check("backprop", backprop)
    big = next(c for c in result.cases if c.name.startswith("m = 100"))
    assert big.diagnoses == ["activation-derivative", "scale"], big
    assert "activation-derivative and a factor 0.01 (= 1/N, N = 100) on top of it" in big.message


def test_an_in_place_update_is_judged_on_what_it_returned():
    """Adam updating w, m and v in place: right numbers, so `mutates-input` and nothing else
    (before, the aliased arrays made every later step look like [0, 0, ...])."""

    def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        m *= beta1
        m += (1 - beta1) * grad
        v *= beta2
        v += (1 - beta2) * grad**2
        w -= lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        return w, m, v

    result = ex.check("adam", adam_step)
    assert not result.passed
    assert all(c.diagnoses == ["mutates-input"] for c in result.cases), str(result)
    assert "got [0, 0" not in str(result) and "expected" not in str(result)
    assert "changed the caller's w in place" in result.cases[0].message


def test_adam_returning_the_corrected_moments_shows_m_and_v():
    def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat

    result = ex.check("adam", adam_step)
    assert result.diagnoses == ["adam-returns-corrected"]
    message = result.cases[0].message
    assert "m1: " in message and "v1: " in message  # expected and received m and v


def test_two_adam_mistakes_at_once_are_both_named():
    def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat, v_hat = m / (1 - beta1 ** (t + 1)), v / (1 - beta2 ** (t + 1))
        return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat

    result = ex.check("adam", adam_step)
    assert all(c.diagnoses == ["adam-step-count", "adam-returns-corrected"] for c in result.cases)

    def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):  # noqa: F811
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat, v_hat = m / (1 - beta1 ** (t + 1)), v / (1 - beta2 ** (t + 1))
        return w - lr * m_hat / np.sqrt(v_hat + eps), m, v

    result = ex.check("adam", adam_step)
    small = next(c for c in result.cases if "near eps" in c.name)
    assert small.diagnoses == ["adam-step-count", "adam-epsilon"]  # eps shows only here
    others = [c.diagnoses for c in result.cases if c is not small]
    assert others == [["adam-step-count"]] * 3
