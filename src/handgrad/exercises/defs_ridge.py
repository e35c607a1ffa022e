"""Chapter 10's exercise: a linear model's loss MSE + lam ||W||^2 and its gradients, in the
convention Keras's ``L2(lam)`` regularizer and ``loss="mse"`` follow (no 1/2 anywhere, the
bias not penalized)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data import Standardizer
from ..nn.layers import Parameter
from ..nn.losses import L2Penalty, MSELoss
from ._common import ns, pair, rng
from .catalogue import BugModel, Case, Exercise, register

# chapter 6's five people: utilization, age, late payments; their credit scores
CREDIT_X = np.array(
    [[0.10, 45, 0], [0.90, 22, 3], [0.40, 31, 1], [0.20, 52, 0], [0.70, 28, 2]], dtype=float
)
CREDIT_Y = np.array([[720.0], [580.0], [660.0], [740.0], [610.0]])


def _inputs(case: Case) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    i = case.inputs
    return i["W"], i["b"], i["X"], i["y"], i["lam"]


def _ridge_loss(W, b, X, y, lam):
    """MSE + lam ||W||^2 (the full convention), by the engine's loss and penalty."""
    return MSELoss().forward(X @ W + b, y) + L2Penalty(lam, "full").value([Parameter(W)])


def _ridge_loss_grad(W, b, X, y, lam):
    """(dW, db): the MSE's gradient through X W + b, plus 2 lam W on the weights only."""
    loss = MSELoss()
    loss.forward(X @ W + b, y)
    dz = loss.backward()
    weight = Parameter(np.array(W))
    weight.grad[...] = X.T @ dz
    L2Penalty(lam, "full").add_gradient([weight])
    return weight.grad, dz.sum(axis=0)


def _probe(namespace, inputs):
    args = (inputs["W"], inputs["b"], inputs["X"], inputs["y"], inputs["lam"])
    loss = namespace["ridge_loss"](*args)
    grads = pair(namespace["ridge_loss_grad"](*args), "ridge_loss_grad")
    if len(grads) != 2:
        raise TypeError(f"ridge_loss_grad returned {len(grads)} values, expected (dW, db)")
    return {"loss": loss, "dW": grads[0], "db": grads[1]}


def _model(
    penalty: float = 1.0,
    data: float = 1.0,
    data_loss: float = 1.0,
    bias: bool = False,
    penalty_grad: bool = True,
    per_sample: bool = True,
):
    """The loss and gradients with a mistake: ``penalty`` scales lam (1/2: the other
    convention), ``data`` scales the MSE's gradient (1/2: the 2 of the square dropped) and
    ``data_loss`` its value, ``bias`` penalizes b too, ``penalty_grad`` False leaves 2 lam W
    out of dW, ``per_sample`` False sums the squared errors where their mean belongs."""

    def outputs(case: Case) -> dict[str, Any]:
        W, b, X, y, lam = _inputs(case)
        residual = X @ W + b - y
        n = 1.0 if not per_sample else float(residual.size)
        strength = penalty * lam
        loss = data_loss * float(np.sum(residual**2)) / n + strength * float(np.sum(W**2))
        dW = data * 2.0 * X.T @ residual / n + (2.0 * strength * W if penalty_grad else 0.0)
        db = data * 2.0 * residual.sum(axis=0) / n
        if bias:
            loss += strength * float(np.sum(b**2))
            db = db + 2.0 * strength * b
        return {"loss": loss, "dW": dW, "db": db}

    return outputs


def _ridge_cases() -> list[Case]:
    def case(name, X, y, W, b, lam, tags=frozenset()):
        inputs = {"W": W, "b": b, "X": X, "y": y, "lam": lam}
        return Case(name, inputs, frozenset(tags), bias_outputs=("db",), batch=len(X))

    X = np.array([[1.0, 2.0], [0.0, -1.0], [2.0, 0.5], [-1.0, 1.0]])
    return [
        case(
            "worked example: 4 samples, 2 features, lam 0.1",
            X,
            np.array([[1.0], [0.0], [2.0], [-1.0]]),
            np.array([[0.5], [-0.25]]),
            np.array([0.5]),
            0.1,
            {"worked"},
        ),
        case(
            "the chapter's credit table, standardized, lam 0.01",
            Standardizer().fit(CREDIT_X).transform(CREDIT_X),
            CREDIT_Y,
            np.array([[-30.0], [20.0], [-15.0]]),
            np.array([600.0]),
            0.01,
        ),
        case(
            "20 samples, 5 features, lam 0.5",
            rng(101).normal(size=(20, 5)),
            rng(102).normal(size=(20, 1)),
            rng(103).normal(size=(5, 1)),
            np.array([0.3]),
            0.5,
        ),
        case(
            "lam 0: no penalty at all",
            rng(104).normal(size=(6, 3)),
            rng(105).normal(size=(6, 1)),
            rng(106).normal(size=(3, 1)),
            np.array([-0.2]),
            0.0,
        ),
    ]


register(
    Exercise(
        name="ridge_loss",
        chapter=10,
        title="MSE + lam ||W||^2, as Keras counts it",
        entries=("ridge_loss", "ridge_loss_grad"),
        contract=(
            "A linear model z = X W + b: X (N, D), W (D, 1), b (1,), targets y (N, 1).\n"
            "ridge_loss(W, b, X, y, lam): mean((z - y)**2) + lam * sum(W**2) as a float:\n"
            "the MSE with no 1/2, the L2 penalty with no 1/2 (Keras's L2(lam)), the bias\n"
            "not penalized.\n"
            "ridge_loss_grad(W, b, X, y, lam): its gradient (dW, db), dW shaped like W (D, 1),\n"
            "db like b (1,)."
        ),
        stub=(
            "def ridge_loss(W, b, X, y, lam):\n    raise NotImplementedError\n\n\n"
            "def ridge_loss_grad(W, b, X, y, lam):\n    raise NotImplementedError\n"
        ),
        cases=_ridge_cases,
        probe=_probe,
        reference=ns(ridge_loss=_ridge_loss, ridge_loss_grad=_ridge_loss_grad),
        bug_models=(
            BugModel("l2-convention", "(lam / 2) sum(W**2), gradient lam W", _model(penalty=0.5)),
            BugModel("bias-penalized", "lam (sum(W**2) + b**2)", _model(bias=True)),
            BugModel(
                "l2-convention+bias-penalized",
                "(lam / 2) (sum(W**2) + b**2)",
                _model(penalty=0.5, bias=True),
            ),
            BugModel("mse-half", "the MSE's gradient without its 2", _model(data=0.5)),
            BugModel(
                "mse-half",
                "(1/2) mean((z - y)**2) and its gradient",
                _model(data=0.5, data_loss=0.5),
            ),
            BugModel("penalty-gradient", "dW without 2 lam W", _model(penalty_grad=False)),
            BugModel("scale", "the squared errors summed, not averaged", _model(per_sample=False)),
        ),
        doc="ridge-loss-and-its-gradients",
    )
)
