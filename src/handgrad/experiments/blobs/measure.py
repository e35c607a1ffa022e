"""Chapter 7's measurements: the shape walk and gradient checks at the initial weights, the
training, the held-out accuracy and confusion, and the parameter counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...data import make_blobs
from ...metrics import confusion_matrix
from ...nn import functional as F
from ...nn.gradcheck import gradcheck
from ...nn.layers import Sequential, count_parameters, mlp
from ...nn.losses import SoftmaxCrossEntropyLoss
from ...nn.optim import SGD
from ...train import fit

CENTERS = ((0.0, 0.0), (3.0, 3.0), (6.0, 0.0))
PER_CLASS = 50
SIZES = [2, 32, 3]
LR = 0.05  # the classic setting
FULL_EPOCHS, QUICK_EPOCHS = 1000, 300
SHAPE_BATCH = 8


def shape_walk(model, Xb: np.ndarray, yb: np.ndarray) -> tuple[list[tuple], dict]:
    """One forward and backward pass, layer by layer; returns rows (name, shape, formula)
    and the arrays themselves."""
    lin1, act, lin2 = model[0], model[1], model[2]
    loss = SoftmaxCrossEntropyLoss()
    z1 = lin1.forward(Xb)
    a1 = act.forward(z1)
    z2 = lin2.forward(a1)
    probs = F.softmax(z2)
    value = loss.forward(z2, yb)
    dz2 = loss.backward()
    da1 = lin2.backward(dz2)
    dW2, db2 = lin2.weight.grad.copy(), lin2.bias.grad.copy()
    dz1 = act.backward(da1)
    lin1.backward(dz1)
    dW1, db1 = lin1.weight.grad.copy(), lin1.bias.grad.copy()
    arrays = {
        "X": Xb, "W1": lin1.weight.value, "b1": lin1.bias.value, "z1": z1, "a1": a1,
        "W2": lin2.weight.value, "b2": lin2.bias.value, "z2": z2, "probabilities": probs,
        "dz2": dz2, "dW2": dW2, "db2": db2, "da1": da1, "dz1": dz1, "dW1": dW1, "db1": db1,
    }  # fmt: skip
    formulas = {
        "X": "input batch",
        "W1": "first layer weights",
        "b1": "first layer bias (broadcast over rows)",
        "z1": "X @ W1 + b1",
        "a1": "relu(z1)",
        "W2": "second layer weights",
        "b2": "second layer bias",
        "z2": "a1 @ W2 + b2 (logits)",
        "probabilities": "softmax(z2), rows sum to 1",
        "dz2": "(probabilities − onehot(y)) / B",
        "dW2": "a1ᵀ @ dz2",
        "db2": "sum of dz2 over rows",
        "da1": "dz2 @ W2ᵀ",
        "dz1": "da1 · 1[z1 > 0]",
        "dW1": "Xᵀ @ dz1",
        "db1": "sum of dz1 over rows",
    }
    rows = [(name, arrays[name].shape, formulas[name]) for name in formulas]
    return rows, {"arrays": arrays, "loss": value}


@dataclass
class Measured:
    """Everything chapter 7 measured. X (150, 2), y (150,) train; X_test, y_test held out;
    ``rows`` the shape walk's (name, shape, formula); ``history`` what ``fit`` recorded."""

    epochs: int
    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    model: Sequential
    rows: list[tuple]
    fused_err: float
    check: Any
    history: Any
    train_acc: float
    test_acc: float
    confusion: np.ndarray
    counts: dict[str, int]


def measure(seed: int, quick: bool) -> Measured:
    """Draw the blobs, walk the shapes and check the gradients, train, and count."""
    epochs = QUICK_EPOCHS if quick else FULL_EPOCHS
    X, y = make_blobs(PER_CLASS, CENTERS, rng=np.random.default_rng([seed, 0]))
    X_test, y_test = make_blobs(PER_CLASS, CENTERS, rng=np.random.default_rng([seed, 1]))
    model = mlp(SIZES, "relu", rng=np.random.default_rng([seed, 2]))
    loss = SoftmaxCrossEntropyLoss()

    # the shape walk and a gradient check, on a batch at the initial weights
    batch = np.random.default_rng([seed, 3]).choice(len(X), size=SHAPE_BATCH, replace=False)
    Xb, yb = X[batch], y[batch]
    rows, walk = shape_walk(model, Xb, yb)
    arr = walk["arrays"]
    fused_err = float(
        np.max(np.abs(arr["dz2"] - (arr["probabilities"] - F.one_hot(yb, 3)) / SHAPE_BATCH))
    )
    check = gradcheck(model, loss, Xb, yb)

    history = fit(
        model,
        loss,
        SGD(model.parameters(), lr=LR),
        X,
        y,
        epochs=epochs,
        batch_size=len(X),
        shuffle=False,
        validation_data=(X_test, y_test),
        metrics=["accuracy"],
    )
    train_pred = np.argmax(model.forward(X), axis=1)
    test_pred = np.argmax(model.forward(X_test), axis=1)
    train_acc = float(np.mean(train_pred == y))
    test_acc = float(np.mean(test_pred == y_test))
    confusion = confusion_matrix(y_test, test_pred, 3)

    counts = {
        "2-32-3": count_parameters(SIZES),
        "2-32-3 (built model)": model.num_parameters(),
        "10-64-3": count_parameters([10, 64, 3]),
        "10-64-3 (built model)": mlp([10, 64, 3], seed=0).num_parameters(),
    }

    return Measured(
        epochs, X, y, X_test, y_test, model, rows, fused_err, check, history, train_acc,
        test_acc, confusion, counts,
    )  # fmt: skip


def metrics(m: Measured) -> dict:
    """The JSON-ready numbers of ``m``."""
    epochs, train_acc, test_acc, history, confusion = (
        m.epochs, m.train_acc, m.test_acc, m.history, m.confusion,
    )  # fmt: skip
    rows, fused_err, check, counts = m.rows, m.fused_err, m.check, m.counts
    return {
        "sizes": SIZES,
        "lr": LR,
        "epochs": epochs,
        "train_accuracy": train_acc,
        "test_accuracy": test_acc,
        "final_train_loss": history.epoch_loss[-1],
        "final_test_loss": history.val_loss[-1],
        "confusion_test": confusion.tolist(),
        "shapes": {name: list(shape) for name, shape, _ in rows},
        "fused_gradient_max_abs_error": fused_err,
        "gradcheck_max_rel_error": check.max_rel_error,
        "gradcheck_passed": check.passed,
        "parameter_counts": counts,
    }
