"""Chapter 2's section, written from the measured numbers."""

from __future__ import annotations

from ..base import fmt, lead, md_table
from ..linear_fit.measure import TRUE_B, TRUE_W
from .measure import CHECK_POINTS, EPOCHS, HIDDEN, LR, Measured

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


def line_formula(w: float, b: float) -> str:
    return f"${w:.4f}\\,x {'+' if b >= 0 else '-'} {abs(b):.4f}$"


def section(m: Measured, seed: int) -> str:
    """The whole section body: the setup and the loss, the gradient checks, the collapse."""
    return "\n\n".join([LEAD, *_training(m, seed), *_gradient_checks(m), *_composition(m)])


def _training(m: Measured, seed: int) -> list[str]:
    """The setup, and: does the loss decrease?"""
    losses, final_mse, loss_min, increases = m.losses, m.final_mse, m.loss_min, m.increases
    w_eff, b_eff, w_ls, b_ls = m.w_eff, m.b_eff, m.w_ls, m.b_ls
    md: list[str] = []
    md.append(
        f"Chapter 1's data (redrawn with seed {seed}) go through two `Linear` layers, "
        f"$x \\to$ `Linear(1, {HIDDEN})` $\\to$ `Linear({HIDDEN}, 1)` $\\to \\hat y$, with no "
        "activation between them. `Linear.forward` computes $xW + b$; `Linear.backward` "
        "receives $G = \\partial L / \\partial \\hat y$ and returns $dx = G W^\\top$ after "
        "storing $dW = x^\\top G$ and $db = \\sum_n G_n$ (the bias is added to every "
        f"row, so its gradient sums over the batch). We trained with the chapter's settings: "
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
        + f"$\\hat y =$ {line_formula(w_eff, b_eff)}, "
        f"against least squares {line_formula(w_ls, b_ls)} and the true "
        f"{line_formula(TRUE_W, TRUE_B)}."
    )
    return md


def _gradient_checks(m: Measured) -> list[str]:
    """The finite-difference table of both layers."""
    pick, check_rows, worst_check = m.pick, m.check_rows, m.worst_check
    md: list[str] = []
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
    return md


def _composition(m: Measured) -> list[str]:
    """Why two linear layers are still one linear map."""
    W1, W2, W, x, x_new = m.lin1.weight.value, m.lin2.weight.value, m.W, m.x, m.x_new
    diff_train, diff_new, w_eff, b_eff = m.diff_train, m.diff_new, m.w_eff, m.b_eff
    model, hidden_second_diff, loss_min = m.model, m.hidden_second_diff, m.loss_min
    md: list[str] = []
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
            f"$\\hat y =$ {line_formula(w_eff, b_eff)}. "
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
    return md
