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
    assert "docs/exercises.md#unstable" in text
    html = result._repr_html_()
    assert "<table>" in html and "<code>unstable</code>" in html and "failed" in html
    assert "<script" not in html
    data = json.loads(json.dumps(result.as_dict()))
    assert data["exercise"] == "softmax" and data["passed"] is False
    unstable = [c for c in data["cases"] if c["diagnoses"] == ["unstable"]]
    assert len(unstable) == 1 and "nan" in unstable[0]["message"]


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
    with pytest.raises(ValueError, match="choose from: relu, relu_backward"):
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
