"""Exercises on single functions: activations, their derivatives, losses, one-hot, counting."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np

from ..nn import functional as F
from ._common import call_probe, ns, rng
from .catalogue import BugModel, Case, Exercise, register

# --- cases shared by elementwise functions ----------------------------------------------------


def _elementwise_cases(
    scale: float = 3.0, extreme: bool = False, any_shape: bool = True
) -> list[Case]:
    cases = [
        Case("one sample (1, 5)", {"z": rng(1).normal(0, scale, (1, 5))}, batch=1),
        Case("a batch (8, 3)", {"z": rng(2).normal(0, scale, (8, 3))}, batch=8),
        Case(
            "float32 batch (6, 4)",
            {"z": rng(3).normal(0, scale, (6, 4)).astype(np.float32)},
            frozenset({"float32"}),
            batch=6,
        ),
    ]
    if any_shape:  # "any shape -> same shape": not only a matrix (a loop over z[i, j] fails)
        cases.append(Case("any shape: (2, 3, 4)", {"z": rng(4).normal(0, scale, (2, 3, 4))}))
    if extreme:
        z = np.array([[-800.0, -40.0, 0.0, 40.0, 800.0]])
        cases.append(Case("extreme inputs +-800", {"z": z}, frozenset({"extreme"}), batch=1))
    return cases


# --- ReLU ----------------------------------------------------------------------------------

# the slopes a leaky ReLU is usually given (PyTorch 0.01, TensorFlow 0.2, Keras 0.3, ...)
LEAKY_SLOPES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3)


def leaky_relu(z: np.ndarray, slope: float) -> np.ndarray:
    """max(z, 0) + slope * min(z, 0): the mistake of a leaky ReLU for ReLU, to name it."""
    return np.where(z > 0, z, slope * z)


def leaky_models(outputs: Callable[..., Mapping[str, Any]]) -> tuple[BugModel, ...]:
    """``outputs(case, slope=a)`` for each usual slope a, as the `leaky-relu` mistake."""
    return tuple(
        BugModel("leaky-relu", f"a leaky ReLU of slope {a}", partial(outputs, slope=a))
        for a in LEAKY_SLOPES
    )


def _capped(case: Case, cap: float) -> dict[str, np.ndarray]:
    """np.clip(z, 0, cap): a ReLU with a ceiling (cap 1, as if for a probability; 6, ReLU6)."""
    return {"out": np.clip(case.inputs["z"], 0, cap)}


register(
    Exercise(
        name="relu",
        chapter=3,
        title="ReLU",
        entries=("relu",),
        contract="relu(z): max(z, 0) elementwise. z any shape -> same shape and dtype.",
        stub="def relu(z):\n    raise NotImplementedError\n",
        cases=lambda: [
            *_elementwise_cases(),
            Case(
                "worked example [-2, 0, 3]",
                {"z": np.array([-2.0, 0.0, 3.0])},
                frozenset({"worked"}),
            ),
        ],
        probe=call_probe("relu", ("z",)),
        reference=ns(relu=F.relu),
        bug_models=(
            *leaky_models(lambda c, slope: {"out": leaky_relu(c.inputs["z"], slope)}),
            BugModel(
                "abs-for-relu",
                "|z|: negatives flipped, not zeroed",
                lambda c: {"out": np.abs(c.inputs["z"])},
            ),
            *(
                BugModel(
                    "relu-capped",
                    f"np.clip(z, 0, {cap}): capped at {cap}",
                    partial(_capped, cap=cap),
                )
                for cap in (1, 6)
            ),
        ),
        doc="relu-and-its-gradient",
    )
)


def _relu_backward_cases() -> list[Case]:
    cases = []
    for i, (shape, dtype) in enumerate(
        (((1, 6), np.float64), ((8, 5), np.float64), ((5, 4), np.float32))
    ):
        z = rng(10 + i).normal(size=shape).astype(dtype)
        z.flat[::3] = 0.0  # inputs exactly at the kink: the derivative is taken as 0 there
        dz = rng(20 + i).normal(size=shape).astype(dtype)
        tags = frozenset({"kink", "float32"} if dtype == np.float32 else {"kink"})
        name = f"{'float32 ' if dtype == np.float32 else ''}z {shape} with exact zeros"
        cases.append(Case(name, {"dz": dz, "z": z}, tags, masks={"out": z <= 0}, batch=shape[0]))
    # "keep the dtype of dz": a float32 gradient through a float64 input stays float32
    z, dz = cases[-1].inputs["z"].astype(np.float64), cases[-1].inputs["dz"]
    tags = frozenset({"kink", "float32"})
    inputs = {"dz": dz, "z": z}
    cases.append(Case("float32 dz, float64 z (5, 4)", inputs, tags, masks={"out": z <= 0}, batch=5))
    z = np.array([-2.0, 0.0, 3.0])
    cases.append(
        Case(
            "worked example: dz = 10 at z = [-2, 0, 3]",
            {"dz": np.full(3, 10.0), "z": z},
            frozenset({"worked"}),
            masks={"out": z <= 0},
        )
    )
    return cases


register(
    Exercise(
        name="relu_backward",
        chapter=3,
        title="ReLU backward",
        entries=("relu_backward",),
        contract=(
            "relu_backward(dz, z): the gradient through ReLU. dz is dL/d(relu(z)), z the ReLU's\n"
            "input, both of the same shape; returns dL/dz: dz where z > 0, 0 where z <= 0\n"
            "(the derivative at exactly 0 is taken as 0). Keep the dtype of dz."
        ),
        stub="def relu_backward(dz, z):\n    raise NotImplementedError\n",
        cases=_relu_backward_cases,
        probe=call_probe("relu_backward", ("dz", "z")),
        reference=ns(relu_backward=F.relu_backward),
        bug_models=(
            BugModel(
                "function-for-derivative",
                "dz * relu(z): the function where its derivative belongs",
                lambda c: {"out": c.inputs["dz"] * F.relu(c.inputs["z"])},
            ),
        ),
        doc="relu-and-its-gradient",
    )
)

# --- one-hot ----------------------------------------------------------------------------------


def _one_hot_shifted(case: Case) -> dict[str, np.ndarray]:
    """Labels taken as 1-based: column y - 1 (label 0 lands in the last column, index -1)."""
    y, n = case.inputs["y"], case.inputs["n"]
    return {"out": F.one_hot(np.asarray(y - 1) % n, n)}


def _one_hot_columns(case: Case) -> dict[str, np.ndarray]:
    """out[:, y] = 1: the columns of every label seen set in every row."""
    y, n = case.inputs["y"], case.inputs["n"]
    out = np.zeros((len(y), n))
    out[:, y] = 1.0
    return {"out": out}


register(
    Exercise(
        name="one_hot",
        chapter=7,
        title="One-hot encoding",
        entries=("one_hot",),
        contract=(
            "one_hot(y, n_classes): integer labels y (N,) in [0, n_classes) -> float array\n"
            "(N, n_classes) with a 1 in column y[n] of row n and 0 elsewhere."
        ),
        stub="def one_hot(y, n_classes):\n    raise NotImplementedError\n",
        cases=lambda: [
            Case("labels 0..3, 4 classes", {"y": np.array([0, 3, 1, 2, 3]), "n": 4}),
            Case("one sample", {"y": np.array([2]), "n": 3}),
            Case("a class never seen", {"y": rng(5).integers(0, 3, 20), "n": 5}),
            Case("one class only", {"y": np.zeros(4, dtype=int), "n": 1}),
        ],
        probe=call_probe("one_hot", ("y", "n")),
        reference=ns(one_hot=F.one_hot),
        bug_models=(
            BugModel("off-by-one", "a 1 in column y - 1", _one_hot_shifted),
            BugModel(
                "row-index", "out[:, y] = 1: every row gets every label's column", _one_hot_columns
            ),
        ),
        doc="one-hot",
    )
)

# --- softmax ----------------------------------------------------------------------------------


def _softmax_cases() -> list[Case]:
    worked = np.array([[2.0, 1.0, 0.5]])  # -> [0.629, 0.231, 0.140]
    return [
        Case("worked example [2, 1, 0.5]", {"z": worked}, frozenset({"worked"}), batch=1),
        *_elementwise_cases(any_shape=False),
        Case(
            "logits of +-800",
            {"z": np.array([[800.0, 0.0, -800.0], [1000.0, 999.0, 998.0]])},
            frozenset({"extreme"}),
            batch=2,
        ),
        Case("one class", {"z": rng(6).normal(size=(4, 1))}, batch=4),
        Case(
            "rows 1,600 apart: [800, 0, 0] and [-800, -800, -800]",
            {"z": np.array([[800.0, 0.0, 0.0], [-800.0, -800.0, -800.0]])},
            frozenset({"extreme"}),
            batch=2,
        ),
    ]


def softmax_shifted_by_batch_max(z: np.ndarray) -> np.ndarray:
    """exp(z - max of the whole batch), normalised per row: a row far below the batch's max
    underflows to 0 / 0 (the mistake, to name it)."""
    e = np.exp(z - np.max(z))
    return e / e.sum(axis=1, keepdims=True)


def _softmax_shifted_by_column_max(case: Case) -> dict[str, np.ndarray]:
    """exp(z - each column's max), normalised per row: the max taken over the samples
    (axis=0), so each row is shifted by different amounts (one sample: all zeros, 1/C each)."""
    z = case.inputs["z"]
    with np.errstate(all="ignore"):
        e = np.exp(z - z.max(axis=0, keepdims=True))
        return {"out": e / e.sum(axis=1, keepdims=True)}


def _softmax_over_everything(case: Case, by_row: bool) -> dict[str, np.ndarray]:
    """exp(z) divided by its sum over ALL entries (no axis): rows no longer sum to 1."""
    z = case.inputs["z"]
    if not by_row and "extreme" in case.tags:  # NaN there: the naive softmax's, not this one's
        raise ValueError("exp overflows")
    with np.errstate(all="ignore"):
        e = np.exp(z - z.max(axis=1, keepdims=True)) if by_row else np.exp(z)
        return {"out": e / e.sum()}


register(
    Exercise(
        name="softmax",
        chapter=7,
        title="Softmax",
        entries=("softmax",),
        contract=(
            "softmax(z): logits z (N, C), one row per sample -> probabilities (N, C), each row\n"
            "exp(z) / sum(exp(z)) over its C entries. Must stay finite for logits of +-800.\n"
            "Keep the dtype of z."
        ),
        stub="def softmax(z):\n    raise NotImplementedError\n",
        cases=_softmax_cases,
        probe=call_probe("softmax", ("z",)),
        reference=ns(softmax=F.softmax),
        bug_models=(
            BugModel(
                "axis",
                "each column normalised over the samples (axis=0) instead of each row",
                lambda c: {"out": F.softmax(c.inputs["z"].T).T},
            ),
            *(
                BugModel(
                    "axis",
                    f"e / e.sum(): every entry divided by the sum over the whole batch ({how})",
                    partial(_softmax_over_everything, by_row=by_row),
                )
                for how, by_row in (("each row's max subtracted", True), ("no shift", False))
            ),
            BugModel(
                "axis", "z - z.max(axis=0): each column's max", _softmax_shifted_by_column_max
            ),
            BugModel(
                "batch-max",
                "z - z.max(): the max of the whole batch subtracted, not each row's",
                lambda c: {"out": softmax_shifted_by_batch_max(c.inputs["z"])},
            ),
        ),
        doc="softmax",
    )
)

# --- sigmoid and tanh, and their derivatives given the output -----------------------------------

register(
    Exercise(
        name="sigmoid",
        chapter=4,
        title="Sigmoid",
        entries=("sigmoid",),
        contract=(
            "sigmoid(z): 1 / (1 + exp(-z)) elementwise; any shape -> same shape and dtype.\n"
            "Must be finite and accurate for z = +-800 (no overflow to inf / nan)."
        ),
        stub="def sigmoid(z):\n    raise NotImplementedError\n",
        # the extreme case stops at +-800: between -709.8 and -745 the textbook form gives 0
        # for a subnormal e^z, and so do scipy.special.expit and 0.5 (1 + tanh(z / 2)), both
        # right answers: an absolute error below 2.3e-308 is not called unstable
        cases=lambda: _elementwise_cases(extreme=True),
        probe=call_probe("sigmoid", ("z",)),
        reference=ns(sigmoid=F.sigmoid),
        bug_models=(
            BugModel(
                "exp-sign",
                "1 / (1 + exp(z)) = sigmoid(-z): the exponent's sign flipped",
                lambda c: {"out": F.sigmoid(-c.inputs["z"])},
            ),
            BugModel(
                "tanh-via-sigmoid",
                "(1 + tanh(z)) / 2 = sigmoid(2z): tanh's argument not halved",
                lambda c: {"out": F.sigmoid(2 * c.inputs["z"])},
            ),
        ),
        doc="sigmoid",
    )
)


def _outputs_in(low: float, high: float) -> list[Case]:
    return [
        Case("one sample (1, 5)", {"a": rng(31).uniform(low, high, (1, 5))}, batch=1),
        Case("a batch (8, 3)", {"a": rng(32).uniform(low, high, (8, 3))}, batch=8),
        Case(
            "float32 batch (6, 4)",
            {"a": rng(33).uniform(low, high, (6, 4)).astype(np.float32)},
            frozenset({"float32"}),
            batch=6,
        ),
        Case("any shape: (2, 3, 4)", {"a": rng(34).uniform(low, high, (2, 3, 4))}),
    ]


register(
    Exercise(
        name="sigmoid_derivative",
        chapter=4,
        title="Sigmoid derivative from its output",
        entries=("sigmoid_derivative",),
        contract=(
            "sigmoid_derivative(a): d sigmoid / dz given the OUTPUT a = sigmoid(z) (not z):\n"
            "a * (1 - a). Any shape -> same shape and dtype."
        ),
        stub="def sigmoid_derivative(a):\n    raise NotImplementedError\n",
        cases=lambda: _outputs_in(0.01, 0.99),
        probe=call_probe("sigmoid_derivative", ("a",)),
        reference=ns(sigmoid_derivative=lambda a: F.sigmoid_backward(np.ones_like(a), a)),
        bug_models=(
            BugModel(
                "activation-derivative",
                "sigmoid'(a): the derivative formula applied to a as if it were z",
                lambda c: {
                    "out": F.sigmoid_backward(np.ones_like(c.inputs["a"]), F.sigmoid(c.inputs["a"]))
                },
            ),
            BugModel(
                "other-derivative",
                "1 - a^2: tanh's derivative given its output",
                lambda c: {"out": 1 - c.inputs["a"] ** 2},
            ),
            BugModel(
                "sigmoid-prime", "a (1 + a)", lambda c: {"out": c.inputs["a"] * (1 + c.inputs["a"])}
            ),
            BugModel("sigmoid-prime", "1 - a", lambda c: {"out": 1 - c.inputs["a"]}),
        ),
        doc="sigmoid",
    )
)

register(
    Exercise(
        name="tanh",
        chapter=3,
        title="Tanh",
        entries=("tanh",),
        contract="tanh(z): the hyperbolic tangent elementwise; any shape -> same shape, dtype.",
        stub="def tanh(z):\n    raise NotImplementedError\n",
        cases=lambda: _elementwise_cases(extreme=True),
        probe=call_probe("tanh", ("z",)),
        reference=ns(tanh=F.tanh),
        bug_models=(
            BugModel(
                "tanh-via-sigmoid",
                "2 sigmoid(z) - 1 = tanh(z / 2): the sigmoid's argument not doubled",
                lambda c: {"out": F.tanh(c.inputs["z"] / 2)},
            ),
            BugModel(
                "tanh-via-sigmoid",
                "sigmoid(2z) = (1 + tanh(z)) / 2: the 2 (.) - 1 of 2 sigmoid(2z) - 1 left out",
                lambda c: {"out": F.sigmoid(2 * c.inputs["z"])},
            ),
        ),
        doc="tanh",
    )
)


register(
    Exercise(
        name="tanh_derivative",
        chapter=3,
        title="Tanh derivative from its output",
        entries=("tanh_derivative",),
        contract=(
            "tanh_derivative(a): d tanh / dz given the OUTPUT a = tanh(z) (not z): 1 - a**2.\n"
            "Any shape -> same shape and dtype."
        ),
        stub="def tanh_derivative(a):\n    raise NotImplementedError\n",
        cases=lambda: _outputs_in(-0.95, 0.95),
        probe=call_probe("tanh_derivative", ("a",)),
        reference=ns(tanh_derivative=lambda a: F.tanh_backward(np.ones_like(a), a)),
        bug_models=(
            BugModel(
                "activation-derivative",
                "1 - tanh(a)^2: the derivative formula applied to a as if it were z",
                lambda c: {
                    "out": F.tanh_backward(np.ones_like(c.inputs["a"]), F.tanh(c.inputs["a"]))
                },
            ),
            BugModel(
                "other-derivative",
                "a (1 - a): the sigmoid's derivative given its output",
                lambda c: {"out": c.inputs["a"] * (1 - c.inputs["a"])},
            ),
            BugModel("tanh-prime", "(1 - a)^2", lambda c: {"out": (1 - c.inputs["a"]) ** 2}),
            BugModel("tanh-prime", "1 - 2a", lambda c: {"out": 1 - 2 * c.inputs["a"]}),
        ),
        doc="tanh",
    )
)
