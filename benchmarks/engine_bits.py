"""Fingerprints of the engine's math as its callers see it, hashed bit for bit.

Run it on two checkouts and compare the output; a refactor of ``nn.functional`` (where the
softmax cross-entropy's arithmetic lives, what the ``*_backward`` functions take) must leave
every line equal:

    PYTHONPATH=src python benchmarks/engine_bits.py > after.txt
    PYTHONPATH=/path/to/main/src python benchmarks/engine_bits.py > before.txt
    diff before.txt after.txt

Only public entry points that kept their meaning are called: the softmax cross-entropy loss
(values and gradients, labels, one-hot and soft targets, sample weights, both reductions) on
ordinary and extreme logits, each activation layer's forward and backward, the reference
solutions, and every exercise's reference answer and bug models on its cases.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

import handgrad as hg
from handgrad import exercises
from handgrad.reference import binary_classifier, sigmoid_backprop


def digest(*values: Any) -> str:
    h = hashlib.sha256()
    for value in values:
        if isinstance(value, dict):
            for key in sorted(value):
                h.update(key.encode())
                h.update(digest(value[key]).encode())
        elif isinstance(value, (list, tuple)):
            for item in value:
                h.update(digest(item).encode())
        else:
            array = np.asarray(value)
            h.update(str(array.dtype).encode() + str(array.shape).encode())
            h.update(array.tobytes() if array.dtype != object else repr(value).encode())
    return h.hexdigest()[:16]


def logits(dtype: type) -> Iterator[tuple[str, np.ndarray]]:
    """Ordinary, confident, tied and range-spanning rows of logits."""
    rng = np.random.default_rng(0)
    big = float(np.finfo(dtype).max)
    yield "normal", rng.normal(size=(64, 5)).astype(dtype)
    yield "wide", (rng.normal(size=(64, 5)) * 60).astype(dtype)
    yield "confident", np.array([[0, -40, -60], [40, 0, -1], [0, -1e4, -800], [1, 1, -30]], dtype)
    yield "huge", np.array([[1e17, 1e17, 0], [3e38, -3e38, 0], [big, -big, 0]], dtype)
    yield "ties", np.zeros((3, 4), dtype)


def softmax_ce() -> Iterator[str]:
    for dtype in (np.float64, np.float32):
        for name, z in logits(dtype):
            n, c = z.shape
            labels = np.arange(n) % c
            second = (labels + 1) % c
            soft = np.full((n, c), 0.0, dtype)
            soft[np.arange(n), labels] = 0.75
            soft[np.arange(n), second] += 0.25
            weights = np.linspace(0.0, 2.0, n).astype(dtype)
            for reduction in ("mean", "sum"):
                loss = hg.SoftmaxCrossEntropyLoss(reduction=reduction)
                for target_name, target in (
                    ("labels", labels),
                    ("one-hot", np.eye(c, dtype=dtype)[labels]),
                    ("soft", soft),
                ):
                    for w in (None, weights):
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore", RuntimeWarning)
                            value = loss.forward(z, target, w)
                        grad = loss.backward()
                        case = (
                            f"{dtype.__name__} {name} {reduction} {target_name} w={w is not None}"
                        )
                        yield f"softmax_ce {case}: {digest(np.float64(value), grad)}"


def activations() -> Iterator[str]:
    rng = np.random.default_rng(1)
    for dtype in (np.float64, np.float32):
        x = np.concatenate([rng.normal(size=40) * 3, [0.0, -0.0, 30.0, -30.0, 1e-30]])
        x = x.astype(dtype).reshape(5, 9)
        g = rng.normal(size=x.shape).astype(dtype)
        for layer in (hg.ReLU(), hg.LeakyReLU(0.1), hg.Tanh(), hg.Sigmoid(), hg.Identity()):
            y = layer.forward(x)
            dx = layer.backward(g)
            yield f"layer {type(layer).__name__} {dtype.__name__}: {digest(y, dx)}"


def references() -> Iterator[str]:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 3))
    y = (X[:, 0] > 0).astype(float)
    for activation in ("relu", "tanh"):
        params = binary_classifier.init_params(3, 6, activation, seed=3)
        cache = binary_classifier.forward(X, params, activation)
        grads = binary_classifier.backward(X, y, params, cache, activation)
        yield f"binary_classifier {activation}: {digest(cache, grads)}"
        report = binary_classifier.gradient_check(X, y, params, activation)
        yield f"binary_classifier gradcheck {activation}: {report.passed}"
    W1, b1 = rng.normal(size=(3, 4)), rng.normal(size=(1, 4))
    W2, b2 = rng.normal(size=(4, 1)), rng.normal(size=(1, 1))
    grads = sigmoid_backprop.backprop(X, y.reshape(-1, 1), 3, 4, W1, b1, W2, b2)
    yield f"sigmoid_backprop: {digest(grads)}"


def exercise_answers() -> Iterator[str]:
    for exercise in exercises.all_exercises():
        namespace = exercise.reference()
        for case in exercise.cases():
            outputs = exercise.probe(namespace, case.inputs)
            models = [
                dict(model.outputs(case)) for model in exercise.bug_models if _applies(model, case)
            ]
            yield f"exercise {exercise.name} {case.name}: {digest(outputs, models)}"
        verdict = exercises.check(exercise.name, namespace)
        codes = [c.as_dict() for c in verdict.cases]
        yield f"exercise {exercise.name} verdict: {verdict.passed} {digest(repr(codes))}"


def _applies(model: Any, case: Any) -> bool:
    try:
        model.outputs(case)
    except ValueError:  # a bug model for another kind of case (e.g. ReLU only)
        return False
    return True


def main() -> None:
    for part in (softmax_ce, activations, references, exercise_answers):
        for line in part():
            print(line)


if __name__ == "__main__":
    main()
