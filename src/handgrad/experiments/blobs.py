"""Chapter 7: a [2, 32, 3] softmax classifier on three Gaussian blobs, and every tensor's shape.

Data: 50 points around each of (0, 0), (3, 3), (6, 0) with unit spread, drawn from a
Generator; a second draw of the same size is the held-out test set. Training follows the
seed: full-batch gradient descent, lr 0.05, 1,000 epochs, softmax + cross-entropy on the
logits. The section lists the shape of every array in one forward/backward pass, and
counts parameters with ``count_parameters``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import plots
from ..chapters import chapter
from ..data import make_blobs
from ..metrics import confusion_matrix
from ..nn import functional as F
from ..nn.gradcheck import gradcheck
from ..nn.layers import count_parameters, mlp
from ..nn.losses import SoftmaxCrossEntropyLoss
from ..nn.optim import SGD
from ..train import fit
from .base import ExperimentResult, Figure, fmt, lead, md_table, tagline

NAME = "blobs"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

LEAD = lead(
    (
        "How does a network go from two classes to three, and what shape does every tensor have"
        " on the way forward and back?"
    ),
    (
        "The shape table (each matrix product checks out), the parameter counts, and "
        "`blobs_regions.png`: the three class regions."
    ),
)


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


def run(seed: int = 0, out_dir: Path = Path("runs/blobs"), quick: bool = False):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
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

    # --- figures ----------------------------------------------------------------------------
    figures = []
    fig, ax = plots.new_figure(size=(6.4, 5.0))
    plots.plot_decision_boundary(
        ax,
        lambda P: F.softmax(model.forward(P)),
        X_test,
        y_test,
        title=f"Blobs: decision regions of [2, 32, 3], held-out points ({test_acc:.1%})",
        xlabel="x1 (feature 1)",
        ylabel="x2 (feature 2)",
        resolution=150,
    )
    path = plots.save_figure(fig, out_dir / "blobs_regions.png")
    figures.append(Figure(path, "Predicted class over the plane, with the held-out points."))

    fig, (ax1, ax2) = plots.new_figure(ncols=2)
    plots.plot_curves(
        ax1,
        {"training": history.epoch_loss, "held-out": history.val_loss},
        title="Softmax cross-entropy per epoch",
        xlabel="epoch (full batch of 150)",
        ylabel="mean cross-entropy (nats, log scale)",
        logy=True,
    )
    plots.plot_curves(
        ax2,
        {"training": history.metrics["accuracy"], "held-out": history.val_metrics["accuracy"]},
        title="Accuracy per epoch",
        xlabel="epoch (full batch of 150)",
        ylabel="accuracy (fraction correct)",
    )
    path = plots.save_figure(fig, out_dir / "blobs_curves.png")
    figures.append(Figure(path, "Learning curves on the training blobs and a held-out draw."))

    # --- metrics ----------------------------------------------------------------------------
    metrics = {
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

    # --- the section ------------------------------------------------------------------------
    md = []
    md.append(
        f"Three Gaussian blobs, {PER_CLASS} points each around "
        + ", ".join(f"({a:g}, {b:g})" for a, b in CENTERS)
        + f" with unit standard deviation, drawn from a seeded Generator (seed {seed}); a "
        "second draw of the same size is held out for testing. The network is "
        f"Linear(2, 32) → ReLU → Linear(32, 3); its 3 logits go to the fused softmax + "
        f"cross-entropy loss. Training: full batch, gradient descent with "
        f"lr {LR:g}, {epochs:,} epochs"
        + (" (quick mode; the full run uses 1,000)." if quick else ".")
    )
    md.append("### Accuracy")
    md.append(
        f"Training accuracy {train_acc:.1%} ({int(round(train_acc * len(y)))} of {len(y)}), "
        f"held-out accuracy {test_acc:.1%} ({int(round(test_acc * len(y_test)))} of "
        f"{len(y_test)}); final cross-entropy {fmt(history.epoch_loss[-1])} (training) and "
        f"{fmt(history.val_loss[-1])} (held-out); the learning curves are in "
        "`blobs_curves.png`, the decision regions in `blobs_regions.png`. Held-out confusion "
        "matrix (rows: true class, columns: predicted):"
    )
    md.append(
        md_table(
            ["true \\ predicted", "0", "1", "2"],
            [[f"class {i} at {CENTERS[i]}", *confusion[i].tolist()] for i in range(3)],
        )
    )
    pairs = []
    for a in range(3):
        for b in range(a + 1, 3):
            dist = float(np.hypot(*np.subtract(CENTERS[a], CENTERS[b])))
            pairs.append((dist, a, b, int(confusion[a, b] + confusion[b, a])))
    pairs.sort()
    errors = sum(p[3] for p in pairs)
    if errors:
        near_errors = sum(p[3] for p in pairs if p[0] < pairs[-1][0])
        md.append(
            "Held-out mistakes by pair of blobs: "
            + "; ".join(f"{a}↔{b} (centres {d:.2f} apart): {n}" for d, a, b, n in pairs)
            + ". "
            + (
                f"{near_errors} of the {errors} mistakes are between the closer pairs: with "
                "unit spread, neighbouring blobs overlap, and points in the overlap fall on "
                "the wrong side of any boundary (figure `blobs_regions.png`)."
                if near_errors > errors / 2
                else "The mistakes are not concentrated between the closest blobs."
            )
        )
    md.append(f"### Every tensor in one forward and backward pass (batch B = {SHAPE_BATCH})")
    md.append(
        md_table(
            ["array", "shape", "what it is"],
            [
                [f"`{n}`", "(" + ", ".join(map(str, s)) + (",)" if len(s) == 1 else ")"), fml]
                for n, s, fml in rows
            ],
        )  # fmt: skip
    )
    md.append(
        "Every gradient has the shape of the array it differentiates (dW1 like W1, dz1 like "
        "z1, ...). handgrad stores biases as 1-D arrays (32,) and (3,) that broadcast over the "
        "B rows; row vectors of shape (1, 32) and (1, 3) hold the same numbers. The fused output "
        f"gradient dz2 = (softmax(z2) − onehot(y)) / B matches the loss's backward to "
        f"{fused_err:.1e}, and a finite-difference check of all {model.num_parameters()} "
        f"parameters on this batch gives a largest relative error of {check.max_rel_error:.1e} "
        f"({'passed' if check.passed else 'FAILED'})."
    )
    md.append("### Counting parameters")
    md.append(
        md_table(
            ["network", "count_parameters", "built model", "by hand"],
            [
                [
                    "[2, 32, 3]",
                    counts["2-32-3"],
                    counts["2-32-3 (built model)"],
                    "2·32 + 32 + 32·3 + 3",
                ],
                [
                    "[10, 64, 3]",
                    counts["10-64-3"],
                    counts["10-64-3 (built model)"],
                    "10·64 + 64 + 64·3 + 3",
                ],
            ],
        )  # fmt: skip
    )
    by_hand = (2 * 32 + 32 + 32 * 3 + 3, 10 * 64 + 64 + 64 * 3 + 3)
    md.append(
        f"Each layer has in·out weights plus out biases. By hand: {by_hand[0]} and "
        f"{by_hand[1]}; `hg.count_parameters` gives {counts['2-32-3']} and "
        f"{counts['10-64-3']}, and the built models hold {counts['2-32-3 (built model)']} and "
        f"{counts['10-64-3 (built model)']}"
        + (
            " — all agree (the worked answer for [10, 64, 3] is 899)."
            if len({by_hand[1], counts["10-64-3"], counts["10-64-3 (built model)"], 899}) == 1
            and len({by_hand[0], counts["2-32-3"], counts["2-32-3 (built model)"]}) == 1
            else " — they DISAGREE."
        )
    )
    return ExperimentResult(NAME, TITLE, STAGE, metrics, "\n\n".join([LEAD, *md]), figures)
