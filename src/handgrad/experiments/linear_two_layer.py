"""Chapter 2: two stacked Linear layers (1 -> 4 -> 1), trained with MSE.

Three measurements: the loss goes down; ``Linear.backward`` agrees with finite differences
on a batch of 3 points (dW, db and dx of both layers); and the trained stack is one affine
map in disguise:

    yhat = (x W1 + b1) W2 + b2 = x (W1 W2) + (b1 W2 + b2) = x W + b

with W = W1 @ W2 (1, 1) and b = b1 @ W2 + b2 (1,), so its predictions equal those of a
single Linear(1, 1) to round-off, and no amount of training can beat the least-squares line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ..chapters import chapter
from ..nn.gradcheck import gradcheck
from ..nn.layers import Linear, Sequential
from ..nn.losses import MSELoss
from ..nn.optim import SGD
from .base import ExperimentResult, Figure, bias_of, fmt, lead, md_table, tagline
from .linear_fit import TRUE_B, TRUE_W, least_squares, make_line_data

NAME = "linear-two-layer"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

LEAD = lead(
    (
        "Two `Linear` layers stacked with nothing between them: does the loss still go down, "
        "are the hand-written backward passes right, and what does the stack actually compute?"
    ),
    (
        "The finite-difference table (every error tiny), then `two_layer_composition.png`: the "
        "trained stack and the least-squares line lie on top of each other, because two linear "
        "maps compose into one."
    ),
)


HIDDEN = 4
LR = 0.05  # the course's settings
EPOCHS = 200
CHECK_POINTS = 3


def _line(w: float, b: float) -> str:
    return f"${w:.4f}\\,x {'+' if b >= 0 else '-'} {abs(b):.4f}$"


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
                    "passed": row.passed(report.tol),
                }
            )
    return rows


def run(seed: int = 0, out_dir: Path = Path("runs/linear-two-layer"), quick: bool = False):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
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
    worst_check = max(r["max_rel_error"] for r in check_rows)

    # 2. training
    losses = train(model, X, Y, LR, EPOCHS)
    final_mse = float(np.mean((model.forward(X) - Y) ** 2))
    increases = int(np.sum(np.diff(losses) > 1e-12 * np.abs(losses[1:])))

    # 3. the composition is one affine map
    W1, b1 = lin1.weight.value, bias_of(lin1).value
    W2, b2 = lin2.weight.value, bias_of(lin2).value
    W = W1 @ W2  # (1, 1)
    b = b1 @ W2 + b2  # (1,)
    x_new = np.linspace(-10.0, 10.0, 1001).reshape(-1, 1)  # far outside the training range too
    diff_train = float(np.max(np.abs(model.forward(X) - (X @ W + b))))
    diff_new = float(np.max(np.abs(model.forward(x_new) - (x_new @ W + b))))
    w_eff, b_eff = float(W[0, 0]), float(b[0])
    # the hidden layer's own map x -> h is affine as well: rank-1 in x
    H_new = lin1.forward(x_new)
    hidden_second_diff = float(np.max(np.abs(np.diff(H_new, n=2, axis=0))))

    # --- figures ----------------------------------------------------------------------------
    figures = []
    fig, ax = plots.new_figure()
    plots.plot_curves(
        ax,
        {f"two-layer linear net (lr {LR:g})": losses},
        title=f"Training MSE of Linear(1,{HIDDEN}) → Linear({HIDDEN},1)",
        xlabel="epoch (full batch)",
        ylabel="training MSE (log scale)",
        logy=True,
    )
    ax.axhline(loss_min, color="k", linestyle=":", linewidth=1, label="least-squares line")
    ax.legend()
    path = plots.save_figure(fig, out_dir / "two_layer_loss.png")
    figures.append(Figure(path, "Training MSE per epoch against the least-squares minimum."))

    fig, ax = plots.new_figure()
    xs = x_new[:, 0]
    keep = np.abs(xs) <= 3
    hidden = lin1.forward(x_new)
    for j in range(HIDDEN):
        ax.plot(xs[keep], hidden[keep, j], linewidth=1, alpha=0.7, label=f"hidden unit h{j + 1}")
    ax.plot(xs[keep], model.forward(x_new)[keep, 0], "k", linewidth=2, label="network output")
    ax.plot(
        xs[keep],
        (x_new @ W + b)[keep, 0],
        "--",
        color="orange",
        linewidth=1.5,
        label=f"one Linear: {_line(w_eff, b_eff)}",
    )
    ax.scatter(x, y, s=5, alpha=0.3, color="gray", label="data")
    ax.set_title("Every hidden unit, and the output, is a straight line in x")
    ax.set_xlabel("x (input, arbitrary units)")
    ax.set_ylabel("value (arbitrary units)")
    ax.grid(True, alpha=0.3)
    ax.legend(ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.22))  # lines fill the plot
    path = plots.save_figure(fig, out_dir / "two_layer_composition.png")
    figures.append(
        Figure(path, "Hidden units, network output and the collapsed single linear map.")
    )

    # --- metrics ----------------------------------------------------------------------------
    metrics = {
        "architecture": [1, HIDDEN, 1],
        "lr": LR,
        "epochs": EPOCHS,
        "first_loss": losses[0],
        "final_loss": final_mse,
        "loss_increases": increases,
        "least_squares": {"w": w_ls, "b": b_ls, "mse": loss_min},
        "effective": {"w": w_eff, "b": b_eff},
        "gap_to_least_squares_mse": final_mse - loss_min,
        "gradcheck": check_rows,
        "gradcheck_points": pick.tolist(),
        "gradcheck_max_rel_error": worst_check,
        "gradcheck_passed": all(r["passed"] for r in check_rows),
        "composition_max_abs_diff_train": diff_train,
        "composition_max_abs_diff_new": diff_new,
        "hidden_max_second_difference": hidden_second_diff,
        "parameters_two_layer": model.num_parameters(),
    }

    # --- the section ------------------------------------------------------------------------
    md = []
    md.append(
        f"Chapter 1's data (redrawn with seed {seed}) go through two `Linear` layers, "
        f"$x \\to$ `Linear(1, {HIDDEN})` $\\to$ `Linear({HIDDEN}, 1)` $\\to \\hat y$, with no "
        "activation between them. `Linear.forward` computes $xW + b$; `Linear.backward` "
        "receives $G = \\partial L / \\partial \\hat y$ and returns $dx = G W^\\top$ after "
        "storing $dW = x^\\top G$ and $db = \\sum_n G_n$ (the bias is added to every "
        f"row, so its gradient sums over the batch). We trained with the course's settings: "
        f"full-batch MSE, $\\partial L / \\partial \\hat y = 2\\,e / N$, SGD with lr {LR:g} for "
        f"{EPOCHS} epochs, "
        "Xavier-uniform initial weights and zero biases."
    )
    md.append("### Does the loss decrease?")
    verdict = "yes" if losses[-1] < losses[0] else "no"
    md.append(
        f"**{verdict.capitalize()}**: the MSE went from {fmt(losses[0])} at the first epoch to "
        f"{fmt(final_mse)} after {EPOCHS} epochs, rising at {increases} of {EPOCHS - 1} steps. "
        f"The least-squares line has MSE {fmt(loss_min)}, so after {EPOCHS} epochs the "
        + (
            "network has reached the best any linear model can do, to round-off "
            if final_mse - loss_min < 1e-12 * loss_min
            else f"network is {fmt(final_mse - loss_min)} above the best any linear model can do "
        )
        + "(figure `two_layer_loss.png`). The effective line is "
        + f"$\\hat y =$ {_line(w_eff, b_eff)}, "
        f"against least squares {_line(w_ls, b_ls)} and the true {_line(TRUE_W, TRUE_B)}."
    )
    md.append(f"### Finite-difference check of `Linear.backward` on {CHECK_POINTS} points")
    md.append(
        f"At the initial weights, on the {CHECK_POINTS} samples with indices "
        f"{', '.join(map(str, pick))}, each analytic gradient was compared with fourth-order "
        "central differences of the MSE. For the second layer, the input h = Linear1(x) is "
        "held fixed and 'dx' is dL/dh; for the first layer the loss runs through both layers "
        "and 'dx' is dL/dX."
    )
    md.append(
        md_table(
            ["layer", "gradient", "shape", "max abs error", "max rel error", "passed"],
            [
                [
                    r["layer"],
                    r["gradient"],
                    "×".join(map(str, r["shape"])),
                    f"{r['max_abs_error']:.1e}",
                    f"{r['max_rel_error']:.1e}",
                    "yes" if r["passed"] else "NO",
                ]
                for r in check_rows
            ],
        )
    )
    passed = all(r["passed"] for r in check_rows)
    md.append(
        f"The largest relative error is {worst_check:.1e}"
        + (
            ": all six gradients agree with the finite differences to round-off, so the "
            "backward pass (and the chain from layer 2 into layer 1) is right."
            if passed
            else ": at least one gradient disagrees with the finite differences."
        )
    )
    md.append("### Why two linear layers are still one linear map")
    md.append(
        "Substituting the first layer into the second: "
        "$\\hat y = (x W_1 + b_1) W_2 + b_2 = x (W_1 W_2) + (b_1 W_2 + b_2)$. We computed "
        "$W = W_1 W_2$ and $b = b_1 W_2 + b_2$ from the "
        f"trained weights ({W1.shape} @ {W2.shape} → {W.shape}) and compared predictions."
    )
    md.append(
        md_table(
            ["inputs", "largest difference, two layers vs. one map"],
            [
                [f"the {x.size} training points", f"{diff_train:.1e}"],
                [f"{x_new.shape[0]} new points on [-10, 10]", f"{diff_new:.1e}"],
            ],
        )
    )
    equal = max(diff_train, diff_new) < 1e-10
    md.append(
        (
            f"The predictions agree to {max(diff_train, diff_new):.0e} — round-off — even "
            "far outside the training range, so the trained stack *is* the line "
            f"$\\hat y =$ {_line(w_eff, b_eff)}. "
            if equal
            else f"The predictions differ by up to {max(diff_train, diff_new):.1e}. "
        )
        + f"Its {model.num_parameters()} parameters describe only 2 numbers (a slope and an "
        "intercept): a product of linear maps is linear, and adding an affine map keeps it "
        f"affine. Each hidden unit is itself a line in x (second differences on an even grid "
        f"are at most {hidden_second_diff:.1e}; figure `two_layer_composition.png`), and a "
        "weighted sum of lines is a line. Depth without a nonlinearity buys no expressive "
        f"power: the best this network can reach is the least-squares MSE {fmt(loss_min)}, "
        "which is why chapter 3 puts an activation between the layers."
    )
    return ExperimentResult(NAME, TITLE, STAGE, metrics, "\n\n".join([LEAD, *md]), figures)
