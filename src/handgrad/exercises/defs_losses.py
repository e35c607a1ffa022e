"""Exercises on the losses (MSE, the L2 penalty, BCE and softmax cross-entropy from logits)
and on counting an MLP's parameters."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from ..nn import functional as F
from ..nn.layers import Parameter, count_parameters
from ..nn.losses import BCEWithLogitsLoss, L2Penalty, MSELoss, SoftmaxCrossEntropyLoss
from ._common import call_probe, ns, rng
from .catalogue import BugModel, Case, Exercise, register

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


def _mse_of(error_to_loss):
    """A loss the learner wrote in place of the MSE, from the errors d = p - y."""
    return lambda c: {"loss": error_to_loss(c.inputs["p"] - c.inputs["y"])}


def _all_pairs(case: Case) -> dict[str, float]:
    """A column (N, 1) minus a vector (N,): every prediction against every target, (N, N)."""
    p, y = np.ravel(case.inputs["p"]), np.ravel(case.inputs["y"])
    return {"loss": float(np.mean((p[:, None] - y[None, :]) ** 2))}


MSE_BUGS = (
    BugModel("square-each", "mean(d)**2", _mse_of(lambda d: float(np.mean(d)) ** 2)),
    BugModel("root-taken", "sqrt(mean(d**2))", _mse_of(lambda d: float(np.sqrt(np.mean(d**2))))),
    BugModel("mae-for-mse", "mean(|d|)", _mse_of(lambda d: float(np.mean(np.abs(d))))),
    BugModel("broadcast", "(N, 1) - (N,) = (N, N)", _all_pairs),
    BugModel(
        "dtype",
        "y_pred.astype(int): the predictions truncated",
        lambda c: {"loss": float(np.mean((c.inputs["p"].astype(int) - c.inputs["y"]) ** 2))},
    ),
)

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
        bug_models=MSE_BUGS,
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


def _l1_for_l2(factor: float):
    """The L1 penalty factor * lam * sum(|w|) and its gradient, where L2 is asked (the
    mistake, to name it); factor 1 or 1/2 (the 1/2 carried over from the L2 convention)."""

    def outputs(case: Case) -> dict[str, Any]:
        w, lam = case.inputs["w"], case.inputs["lam"]
        return {
            "penalty": factor * lam * float(np.sum(np.abs(w))),
            "grad": (factor * lam) * np.sign(w),
        }

    return outputs


def _l2_of(summary):
    """(lam / 2) * summary(w) in place of (lam / 2) * sum(w**2) (the gradient left aside),
    in w's own dtype as the answer computes it."""

    def outputs(case: Case) -> dict[str, Any]:
        return {"penalty": case.inputs["lam"] / 2 * float(summary(case.inputs["w"]))}

    return outputs


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
        bug_models=(
            BugModel("square-each", "(lam / 2) * sum(w)**2", _l2_of(lambda w: np.sum(w) ** 2)),
            # every entry of w wᵀ (wᵀ w): each column's (row's) sum squared, not each entry
            BugModel("square-each", "(lam / 2) * sum(w @ w.T)", _l2_of(lambda w: np.sum(w @ w.T))),
            BugModel("square-each", "(lam / 2) * sum(w.T @ w)", _l2_of(lambda w: np.sum(w.T @ w))),
            BugModel("root-taken", "(lam / 2) * ||w||", _l2_of(lambda w: np.sqrt(np.sum(w**2)))),
            BugModel("l1-for-l2", "lam * sum(|w|), gradient lam * sign(w)", _l1_for_l2(1.0)),
            BugModel("l1-for-l2", "(lam / 2) * sum(|w|), its gradient", _l1_for_l2(0.5)),
        ),
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


def _bce_of_the_other_class(case: Case) -> dict[str, Any]:
    """The gradient from sigmoid(-z) = 1 - sigmoid(z), the other class's probability."""
    z, y = case.inputs["z"], case.inputs["y"]
    return {"grad": (F.sigmoid(-z) - y) / len(z)}


def _bce_grad_through_sigmoid_again(case: Case) -> dict[str, Any]:
    """(p - y) p (1 - p) / N: the sigmoid's derivative multiplied into p - y, which has it."""
    z, y = case.inputs["z"], case.inputs["y"]
    p = F.sigmoid(z)
    return {"grad": (p - y) * p * (1 - p) / len(z)}


def _bce_grad_labels_divided(case: Case) -> dict[str, Any]:
    """p - y / N: the division binds to y alone (no parentheses around p - y)."""
    z, y = case.inputs["z"], case.inputs["y"]
    return {"grad": F.sigmoid(z) - y / len(z)}


def _bce_label_term(sign: float):
    """softplus(z) + sign * y z: the label's term added (+1) or left out (0); it is subtracted."""

    def outputs(case: Case) -> dict[str, Any]:
        z, y = case.inputs["z"], case.inputs["y"]
        return {"loss": float(np.mean(F.softplus(z) + sign * y * z))}

    return outputs


def _bce_labels_swapped(case: Case) -> dict[str, Any]:
    """The loss of sigmoid(-z): y and 1 - y swapped, softplus(z) - (1 - y) z."""
    return {"loss": _bce_value(-case.inputs["z"], case.inputs["y"])}


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
        bug_models=(
            BugModel("exp-sign", "p = sigmoid(-z)", _bce_of_the_other_class),
            BugModel("exp-sign", "the loss of sigmoid(-z)", _bce_labels_swapped),
            BugModel("label-term", "softplus(z) + y z", _bce_label_term(1.0)),
            BugModel("label-term", "softplus(z) alone", _bce_label_term(0.0)),
            BugModel("output-derivative", "(p - y) p (1 - p) / N", _bce_grad_through_sigmoid_again),
            BugModel("precedence", "p - y / N", _bce_grad_labels_divided),
        ),
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


def _sce_over_columns(z, y):
    """The loss and its gradient with the softmax over axis 0 (the mistake, for naming it)."""
    log_p = F.log_softmax(z.T).T
    rows = np.arange(len(y))
    grad = np.exp(log_p)
    grad[rows, y] -= 1
    return {"loss": -np.mean(log_p[rows, y]), "grad": grad / len(y)}


def _sce_column_blocks(case: Case) -> dict[str, Any]:
    """p[:, y] -= 1 and -mean(log_p[:, y]): whole columns where one entry per row is meant."""
    z, y = case.inputs["z"], case.inputs["y"]
    log_p = F.log_softmax(z)
    grad = np.exp(log_p)
    grad[:, y] -= 1
    return {"loss": -np.mean(log_p[:, y]), "grad": grad / len(y)}


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
    far = np.array([[800.0, 0.0, 0.0], [-800.0, -800.0, -800.0]])
    cases.append(
        Case(
            "rows 1,600 apart: [800, 0, 0] and [-800, -800, -800]",
            {"z": far, "y": np.array([0, 2])},
            frozenset({"extreme"}),
            batch=2,
        )
    )
    return cases


def _sce_batch_max(case: Case, through_log: bool) -> dict[str, Any]:
    """The loss and its gradient with the max of the whole batch subtracted, not each row's:
    a row far below it has log(0) = -inf in its log-sum-exp and 0 / 0 in its softmax, or
    exp(+inf) if the softmax is taken as exp(log_softmax) (the mistake, to name it)."""
    z, y = case.inputs["z"], case.inputs["y"]
    shifted = z - np.max(z)
    e = np.exp(shifted)
    log_p = shifted - np.log(e.sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    grad = np.exp(log_p) if through_log else e / e.sum(axis=1, keepdims=True)
    grad[rows, y] -= 1
    return {"loss": -np.mean(log_p[rows, y]), "grad": grad / len(y)}


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
        bug_models=(
            BugModel(
                "axis",
                "the softmax (log-sum-exp) taken over the samples, axis=0",
                lambda c: _sce_over_columns(c.inputs["z"], c.inputs["y"]),
            ),
            *(
                BugModel(
                    "batch-max",
                    "z - z.max(): the max of the whole batch subtracted, not each row's",
                    partial(_sce_batch_max, through_log=log),
                )
                for log in (False, True)
            ),
            BugModel(
                "row-index", "p[:, y] -= 1: every label's column in every row", _sce_column_blocks
            ),
        ),
        doc="softmax-cross-entropy-from-logits",
    )
)

# --- counting parameters -------------------------------------------------------------------


def _weights_only(case: Case) -> dict[str, int]:
    sizes = case.inputs["sizes"]
    return {"count": sum(a * b for a, b in zip(sizes, sizes[1:]))}


def _biases_per_input(case: Case) -> dict[str, int]:
    sizes = case.inputs["sizes"]
    return {"count": sum(a * b + a for a, b in zip(sizes, sizes[1:]))}


def _one_bias_per_layer(case: Case) -> dict[str, int]:
    sizes = case.inputs["sizes"]
    return {"count": sum(a * b + 1 for a, b in zip(sizes, sizes[1:]))}


def _biases_for_every_size(case: Case) -> dict[str, int]:
    """The input layer given biases too: one per entry of ``sizes``."""
    sizes = case.inputs["sizes"]
    return {"count": sum(a * b for a, b in zip(sizes, sizes[1:])) + sum(sizes)}


def _without(keep: slice):
    """The count of the sizes ``sizes[keep]``: a layer too few (the mistake, to name it)."""

    def outputs(case: Case) -> dict[str, int]:
        return {"count": count_parameters(case.inputs["sizes"][keep])}

    return outputs


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
            # [a, b, 1] would not tell "no biases" (a b + b) from "no last layer" (a b + b)
            Case("[2, 8, 3]", {"sizes": [2, 8, 3]}),
            Case("[784, 128, 64, 10]", {"sizes": [784, 128, 64, 10]}),
            Case("one layer [3, 1]", {"sizes": [3, 1]}),
        ],
        probe=call_probe("count_parameters", ("sizes",), "count"),
        reference=ns(count_parameters=count_parameters),
        bug_models=(
            BugModel("bias-forgotten", "the weights only", _weights_only),
            BugModel("off-by-one", "the first layer left out", _without(slice(1, None))),
            BugModel("off-by-one", "the last layer left out", _without(slice(None, -1))),
            BugModel("bias-count", "n_in biases per layer", _biases_per_input),
            BugModel("bias-count", "biases for the inputs too", _biases_for_every_size),
            BugModel("bias-count", "one bias per layer", _one_bias_per_layer),
            BugModel("units-counted", "sum(sizes)", lambda c: {"count": sum(c.inputs["sizes"])}),
            BugModel(
                "units-counted", "sum(sizes[1:])", lambda c: {"count": sum(c.inputs["sizes"][1:])}
            ),
        ),
        doc="counting-parameters",
    )
)
