"""Exercises on single functions: activations, their derivatives, losses, one-hot, counting."""

from __future__ import annotations

import numpy as np

from ..nn import functional as F
from ..nn.layers import Parameter, count_parameters
from ..nn.losses import BCEWithLogitsLoss, L2Penalty, MSELoss, SoftmaxCrossEntropyLoss
from ._common import call_probe, ns, rng
from .catalogue import BugModel, Case, Exercise, register

# --- cases shared by elementwise functions ----------------------------------------------------


def _elementwise_cases(scale: float = 3.0, extreme: bool = False) -> list[Case]:
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
    if extreme:
        z = np.array([[-800.0, -40.0, 0.0, 40.0, 800.0]])
        cases.append(Case("extreme inputs +-800", {"z": z}, frozenset({"extreme"}), batch=1))
    return cases


# --- ReLU ----------------------------------------------------------------------------------

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
        doc="relu-and-its-gradient",
    )
)

# --- one-hot ----------------------------------------------------------------------------------

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
        doc="one-hot",
    )
)

# --- softmax ----------------------------------------------------------------------------------


def _softmax_cases() -> list[Case]:
    worked = np.array([[2.0, 1.0, 0.5]])  # -> [0.629, 0.231, 0.140]
    return [
        Case("worked example [2, 1, 0.5]", {"z": worked}, frozenset({"worked"}), batch=1),
        *_elementwise_cases(),
        Case(
            "logits of +-800",
            {"z": np.array([[800.0, 0.0, -800.0], [1000.0, 999.0, 998.0]])},
            frozenset({"extreme"}),
            batch=2,
        ),
        Case("one class", {"z": rng(6).normal(size=(4, 1))}, batch=4),
    ]


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
        cases=lambda: _elementwise_cases(extreme=True),
        probe=call_probe("sigmoid", ("z",)),
        reference=ns(sigmoid=F.sigmoid),
        doc="sigmoid-and-tanh",
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
        ),
        doc="sigmoid-and-tanh",
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
        doc="sigmoid-and-tanh",
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
        ),
        doc="sigmoid-and-tanh",
    )
)

# --- MSE ------------------------------------------------------------------------------------


def _mse_cases() -> list[Case]:
    return [
        Case(
            "worked example [0.8, 0.2] vs [1, 0]",
            {"p": np.array([0.8, 0.2]), "y": np.array([1.0, 0.0])},
            frozenset({"worked"}),
            batch=2,
        ),
        Case(
            "a batch (10,)", {"p": rng(41).normal(size=10), "y": rng(42).normal(size=10)}, batch=10
        ),
        Case("one sample", {"p": np.array([1.5]), "y": np.array([-0.5])}, batch=1),
        Case(
            "columns (7, 1)",
            {"p": rng(43).normal(size=(7, 1)), "y": rng(44).normal(size=(7, 1))},
            batch=7,
        ),
    ]


register(
    Exercise(
        name="mse",
        chapter=1,
        title="Mean squared error",
        entries=("mse",),
        contract=(
            "mse(y_pred, y_true): the MEAN of the squared errors over all entries,\n"
            "mean((y_pred - y_true)**2), as a float. Both (N,) or both (N, 1)."
        ),
        stub="def mse(y_pred, y_true):\n    raise NotImplementedError\n",
        cases=_mse_cases,
        probe=call_probe("mse", ("p", "y"), "loss"),
        reference=ns(mse=lambda p, y: MSELoss().forward(p, y)),
        doc="mse",
    )
)

# --- L2 penalty -----------------------------------------------------------------------------


def _l2_value(w, lam):
    return L2Penalty(lam, "half").value([Parameter(np.asarray(w))])


def _l2_grad(w, lam):
    p = Parameter(np.array(w))
    L2Penalty(lam, "half").add_gradient([p])
    return p.grad


def _l2_probe(namespace, inputs):
    w, lam = inputs["w"], inputs["lam"]
    return {
        "penalty": namespace["l2_penalty"](w, lam),
        "grad": namespace["l2_penalty_grad"](w, lam),
    }


register(
    Exercise(
        name="l2_penalty",
        chapter=6,
        title="L2 penalty and its gradient",
        entries=("l2_penalty", "l2_penalty_grad"),
        contract=(
            "l2_penalty(w, lam): (lam / 2) * sum(w**2) as a float (the 1/2 convention).\n"
            "l2_penalty_grad(w, lam): its gradient with respect to w, an array shaped like w\n"
            "and of its dtype (float32 stays float32)."
        ),
        stub=(
            "def l2_penalty(w, lam):\n    raise NotImplementedError\n\n\n"
            "def l2_penalty_grad(w, lam):\n    raise NotImplementedError\n"
        ),
        cases=lambda: [
            Case(
                "worked example w = [2, -1, 0.5], lam = 0.01",
                {"w": np.array([2.0, -1.0, 0.5]), "lam": 0.01},
                frozenset({"worked"}),
            ),
            Case("a matrix (4, 3)", {"w": rng(51).normal(size=(4, 3)), "lam": 0.1}),
            Case(
                "float32 (5, 2)",
                {"w": rng(52).normal(size=(5, 2)).astype(np.float32), "lam": 0.5},
                frozenset({"float32"}),
            ),
        ],
        probe=_l2_probe,
        reference=ns(l2_penalty=_l2_value, l2_penalty_grad=_l2_grad),
        doc="l2-penalty",
    )
)

# --- binary cross-entropy from logits -------------------------------------------------------


def _bce_value(z, y):
    return BCEWithLogitsLoss().forward(z, y)


def _bce_grad(z, y):
    loss = BCEWithLogitsLoss()
    loss.forward(z, y)
    return loss.backward()


def _loss_probe(prefix: str):
    def probe(namespace, inputs):
        z, y = inputs["z"], inputs["y"]
        return {"loss": namespace[prefix](z, y), "grad": namespace[f"{prefix}_grad"](z, y)}

    return probe


def _bce_cases() -> list[Case]:
    cases = []
    for i, n in enumerate((1, 12)):
        z = rng(60 + i).normal(0, 2, (n, 1))
        y = rng(70 + i).integers(0, 2, (n, 1)).astype(float)
        cases.append(
            Case(
                f"{'one sample' if n == 1 else f'a batch of {n}'} (N, 1)", {"z": z, "y": y}, batch=n
            )
        )
    z = np.array([[800.0], [-800.0], [40.0], [-40.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    cases.append(
        Case("logits of +-800 and +-40", {"z": z, "y": y}, frozenset({"extreme"}), batch=4)
    )
    return cases


register(
    Exercise(
        name="bce_with_logits",
        chapter=4,
        title="Stable binary cross-entropy from logits",
        entries=("bce_with_logits", "bce_with_logits_grad"),
        contract=(
            "bce_with_logits(z, y): the MEAN binary cross-entropy of sigmoid(z) against labels y,\n"
            "computed from the logit z so that it stays finite for z = +-800 (never log(0)).\n"
            "z (N, 1) logits, y (N, 1) of 0/1. Returns a float.\n"
            "bce_with_logits_grad(z, y): dL/dz, shape (N, 1) (remember the 1/N of the mean)."
        ),
        stub=(
            "def bce_with_logits(z, y):\n    raise NotImplementedError\n\n\n"
            "def bce_with_logits_grad(z, y):\n    raise NotImplementedError\n"
        ),
        cases=_bce_cases,
        probe=_loss_probe("bce_with_logits"),
        reference=ns(bce_with_logits=_bce_value, bce_with_logits_grad=_bce_grad),
        doc="binary-cross-entropy-from-logits",
    )
)

# --- softmax cross-entropy from logits ------------------------------------------------------


def _sce_value(z, y):
    return SoftmaxCrossEntropyLoss().forward(z, y)


def _sce_grad(z, y):
    loss = SoftmaxCrossEntropyLoss()
    loss.forward(z, y)
    return loss.backward()


def _sce_cases() -> list[Case]:
    cases = []
    for i, (n, c) in enumerate(((1, 3), (10, 4))):
        z = rng(80 + i).normal(0, 2, (n, c))
        y = rng(90 + i).integers(0, c, n)
        cases.append(Case(f"{n} sample{'s' * (n > 1)}, {c} classes", {"z": z, "y": y}, batch=n))
    z = np.array([[800.0, 0.0, -800.0], [0.0, 900.0, 0.0]])
    cases.append(
        Case("logits of +-800", {"z": z, "y": np.array([2, 0])}, frozenset({"extreme"}), batch=2)
    )
    return cases


register(
    Exercise(
        name="softmax_cross_entropy",
        chapter=8,
        title="Softmax cross-entropy from logits",
        entries=("softmax_cross_entropy", "softmax_cross_entropy_grad"),
        contract=(
            "softmax_cross_entropy(z, y): the MEAN over samples of -log softmax(z)[n, y[n]],\n"
            "from logits z (N, C) and integer labels y (N,); finite for logits of +-800.\n"
            "softmax_cross_entropy_grad(z, y): dL/dz, shape (N, C): (softmax(z) - onehot(y)) / N."
        ),
        stub=(
            "def softmax_cross_entropy(z, y):\n    raise NotImplementedError\n\n\n"
            "def softmax_cross_entropy_grad(z, y):\n    raise NotImplementedError\n"
        ),
        cases=_sce_cases,
        probe=_loss_probe("softmax_cross_entropy"),
        reference=ns(softmax_cross_entropy=_sce_value, softmax_cross_entropy_grad=_sce_grad),
        doc="softmax-cross-entropy-from-logits",
    )
)

# --- counting parameters -------------------------------------------------------------------

register(
    Exercise(
        name="count_parameters",
        chapter=7,
        title="Counting an MLP's parameters",
        entries=("count_parameters",),
        contract=(
            "count_parameters(layer_sizes): weights plus biases of a fully connected network\n"
            "with these layer sizes, e.g. [10, 64, 3] -> 899. Returns an int."
        ),
        stub="def count_parameters(layer_sizes):\n    raise NotImplementedError\n",
        cases=lambda: [
            Case("worked example [10, 64, 3]", {"sizes": [10, 64, 3]}, frozenset({"worked"})),
            Case("[2, 8, 1]", {"sizes": [2, 8, 1]}),
            Case("[784, 128, 64, 10]", {"sizes": [784, 128, 64, 10]}),
            Case("one layer [3, 1]", {"sizes": [3, 1]}),
        ],
        probe=call_probe("count_parameters", ("sizes",), "count"),
        reference=ns(count_parameters=count_parameters),
        doc="counting-parameters",
    )
)
