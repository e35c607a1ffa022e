"""Chapter 2's measurements: training the stack, the finite-difference checks of both
layers, and the collapse of the trained stack into one affine map."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...nn.gradcheck import gradcheck
from ...nn.layers import Linear, Sequential
from ...nn.losses import MSELoss
from ...nn.optim import SGD
from ..base import bias_of
from ..linear_fit.measure import least_squares, make_line_data

HIDDEN = 4
LR = 0.05  # the course's settings
EPOCHS = 200
CHECK_POINTS = 3


def train(model: Sequential, X: np.ndarray, Y: np.ndarray, lr: float, epochs: int) -> list[float]:
    """The course's loop: full-batch forward, MSE, backward, SGD step; the loss before each step."""
    loss = MSELoss()
    opt = SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        losses.append(loss.forward(model.forward(X), Y))
        model.backward(loss.backward())
        opt.step()
    return losses


def check_layers(lin1: Linear, lin2: Linear, X: np.ndarray, Y: np.ndarray) -> list[dict]:
    """Finite-difference checks of dW, db and dx for each layer on the batch (X, Y).

    Layer 2 is checked with its input h = lin1(X) held fixed (dx = dL/dh); layer 1 through
    the whole stack (dx = dL/dX). Works on copies of the inputs; the weights are perturbed
    in place and restored exactly by ``gradcheck``.
    """
    loss = MSELoss()
    rows = []

    h = lin1.forward(X).copy()
    loss.forward(lin2.forward(h), Y)
    dh = lin2.backward(loss.backward())
    report2 = gradcheck(
        lambda: loss.forward(lin2.forward(h), Y),
        {"W": lin2.weight.value, "b": bias_of(lin2).value, "x": h},
        {"W": lin2.weight.grad.copy(), "b": bias_of(lin2).grad.copy(), "x": dh},
    )

    Xc = X.copy()
    loss.forward(lin2.forward(lin1.forward(Xc)), Y)
    dH = lin2.backward(loss.backward())
    assert dH is not None  # asked for: the gradient with respect to the layer's input
    dX = lin1.backward(dH)
    report1 = gradcheck(
        lambda: loss.forward(lin2.forward(lin1.forward(Xc)), Y),
        {"W": lin1.weight.value, "b": bias_of(lin1).value, "x": Xc},
        {"W": lin1.weight.grad.copy(), "b": bias_of(lin1).grad.copy(), "x": dX},
    )
    for layer, report in (("lin1", report1), ("lin2", report2)):
        for row in report.rows:
            rows.append(
                {
                    "layer": layer,
                    "gradient": "d" + row.name,
                    "shape": list(row.shape),
                    "max_abs_error": row.max_abs_error,
                    "max_rel_error": row.max_rel_error,
                    "passed": row.passed,
                }
            )
    return rows


@dataclass
class Measured:
    """Everything chapter 2 measured. x, y (N,) are chapter 1's data; W (1, 1), b (1,) the
    single affine map the trained stack collapses into; x_new (1001, 1) a grid on [-10, 10]."""

    x: np.ndarray
    y: np.ndarray
    w_ls: float
    b_ls: float
    loss_min: float
    lin1: Linear
    lin2: Linear
    model: Sequential
    pick: np.ndarray
    check_rows: list[dict]
    losses: list[float]
    final_mse: float
    W: np.ndarray
    b: np.ndarray
    x_new: np.ndarray
    diff_train: float
    diff_new: float
    hidden_second_diff: float

    @property
    def worst_check(self) -> float:
        return max(r["max_rel_error"] for r in self.check_rows)

    @property
    def increases(self) -> int:
        """Epochs at which the loss rose by more than round-off."""
        losses = self.losses
        return int(np.sum(np.diff(losses) > 1e-12 * np.abs(losses[1:])))

    @property
    def w_eff(self) -> float:
        return float(self.W[0, 0])

    @property
    def b_eff(self) -> float:
        return float(self.b[0])


def measure(seed: int) -> Measured:
    """Check the gradients at the initial weights, train, then collapse the stack."""
    rng = np.random.default_rng(seed)
    x, y, noise = make_line_data(rng)
    X, Y = x.reshape(-1, 1), y.reshape(-1, 1)
    w_ls, b_ls = least_squares(x, y)
    loss_min = float(np.mean((w_ls * x + b_ls - y) ** 2))

    lin1 = Linear(1, HIDDEN, init="xavier_uniform", rng=rng)  # Xavier, as in the course
    lin2 = Linear(HIDDEN, 1, init="xavier_uniform", rng=rng)
    model = Sequential(lin1, lin2)

    # 1. gradient checks on 3 points, at the initial weights
    pick = np.sort(rng.choice(x.size, size=CHECK_POINTS, replace=False))
    check_rows = check_layers(lin1, lin2, X[pick], Y[pick])

    # 2. training
    losses = train(model, X, Y, LR, EPOCHS)
    final_mse = float(np.mean((model.forward(X) - Y) ** 2))

    # 3. the composition is one affine map
    W1, b1 = lin1.weight.value, bias_of(lin1).value
    W2, b2 = lin2.weight.value, bias_of(lin2).value
    W = W1 @ W2  # (1, 1)
    b = b1 @ W2 + b2  # (1,)
    x_new = np.linspace(-10.0, 10.0, 1001).reshape(-1, 1)  # far outside the training range too
    diff_train = float(np.max(np.abs(model.forward(X) - (X @ W + b))))
    diff_new = float(np.max(np.abs(model.forward(x_new) - (x_new @ W + b))))
    # the hidden layer's own map x -> h is affine as well: rank-1 in x
    H_new = lin1.forward(x_new)
    hidden_second_diff = float(np.max(np.abs(np.diff(H_new, n=2, axis=0))))

    return Measured(
        x, y, w_ls, b_ls, loss_min, lin1, lin2, model, pick, check_rows, losses, final_mse,
        W, b, x_new, diff_train, diff_new, hidden_second_diff,
    )  # fmt: skip


def metrics(m: Measured) -> dict:
    """The JSON-ready numbers of ``m``."""
    losses, final_mse, loss_min, check_rows = m.losses, m.final_mse, m.loss_min, m.check_rows
    return {
        "architecture": [1, HIDDEN, 1],
        "lr": LR,
        "epochs": EPOCHS,
        "first_loss": losses[0],
        "final_loss": final_mse,
        "loss_increases": m.increases,
        "least_squares": {"w": m.w_ls, "b": m.b_ls, "mse": loss_min},
        "effective": {"w": m.w_eff, "b": m.b_eff},
        "gap_to_least_squares_mse": final_mse - loss_min,
        "gradcheck": check_rows,
        "gradcheck_points": m.pick.tolist(),
        "gradcheck_max_rel_error": m.worst_check,
        "gradcheck_passed": all(r["passed"] for r in check_rows),
        "composition_max_abs_diff_train": m.diff_train,
        "composition_max_abs_diff_new": m.diff_new,
        "hidden_max_second_difference": m.hidden_second_diff,
        "parameters_two_layer": m.model.num_parameters(),
    }
