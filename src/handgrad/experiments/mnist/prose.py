"""Chapter 9's section, written from the metrics: the setup, the curves, the mistakes."""

from __future__ import annotations

import numpy as np

from ..base import lead
from .measure import DTYPE, MOMENTUM, SIZES, TARGET_FULL

LEAD = lead(
    (
        "Does the same recipe (softmax, cross-entropy, minibatch SGD) carry over to real 28×28 "
        "handwritten digits?"
    ),
    (
        "The held-out accuracy, the confusion matrix in `mnist_confusion.png` (which digits are"
        " confused with which) and the misclassified examples."
    ),
)


def _overfitting(m: dict) -> str:
    """Where the held-out loss was lowest, and what that says."""
    held = m["held_out_name"]
    best_val_epoch = m["lowest_held_out_loss_epoch"]
    lowest = m["curves"]["held_out_loss"][best_val_epoch - 1]
    rise = m["test_loss"] / lowest - 1.0
    if best_val_epoch == m["epochs"]:
        return (
            f"The {held} loss was still at its lowest at the last epoch ({m['test_loss']:.4f}): "
            "no sign of overfitting within these epochs."
        )
    if rise < 0.05:
        return (
            f"The {held} loss was lowest after epoch {best_val_epoch} ({lowest:.4f}) and ended "
            f"within {rise:.1%} of that ({m['test_loss']:.4f}): it had levelled off while the "
            "training loss kept falling, the point where more epochs stop paying."
        )
    return (
        f"The {held} loss was lowest after epoch {best_val_epoch} ({lowest:.4f}) and ended "
        f"{rise:.0%} higher ({m['test_loss']:.4f}) while the training loss kept falling: "
        "past that point the net was fitting the training images more than the digits "
        "(overfitting)."
    )


def _setup_and_curves(m: dict) -> list[str]:
    held, epochs = m["held_out_name"], m["epochs"]
    return [
        f"**Data.** {m['source']}. Pixels divided by 255. Seed {m['seed']}.",
        "",
        f"**Model.** {'-'.join(map(str, SIZES))} with ReLU ({m['parameters']:,} parameters), "
        f"{np.dtype(DTYPE).name}; softmax cross-entropy on the logits, minibatches of "
        f"{m['batch_size']} reshuffled every epoch; SGD with momentum {MOMENTUM}, learning rate "
        f"{m['lr']:g}, divided by 10 after epoch {m['decay_after_epoch']}; {epochs} epochs.",
        "",
        "### Learning curves",
        "",
        f"The mean training loss fell from {m['curves']['train_loss'][0]:.3f} in epoch 1 to "
        f"{m['curves']['train_loss'][-1]:.4f} in epoch {epochs}; {held} accuracy went from "
        f"{m['curves']['held_out_accuracy'][0]:.2%} after epoch 1 to "
        f"**{m['test_accuracy']:.2%}** at the end (training accuracy {m['train_accuracy']:.2%}, "
        f"a gap of {m['train_accuracy'] - m['test_accuracy']:+.2%}). {_overfitting(m)}",
        "",
        f"One epoch took {m['seconds_per_epoch']:.2f} s on average "
        f"({m['n_train']:,} images, {m['steps_per_epoch']} steps; "
        f"{m['train_seconds']:.1f} s of training in all, measured on this machine).",
        "",
    ]


def _target(m: dict) -> list[str]:
    """Only for the full MNIST: whether the test accuracy meets the target."""
    if m["kind"] != "full":
        return []
    verdict = "meets" if m["test_accuracy"] >= TARGET_FULL else "does NOT meet"
    return [
        f"On the standard test split this {verdict} the {TARGET_FULL:.0%} target "
        f"({m['errors']} of {m['n_test']:,} test images wrong). The net and schedule were "
        "fixed from a few trial runs that were scored on this same split, so the figure "
        "is slightly optimistic as an estimate for unseen digits.",
        "",
    ]


def _mistakes(m: dict) -> list[str]:
    pairs = m["most_confused_pairs"]
    pair_text = (
        ", ".join(f"{p['true']} read as {p['predicted']} ({p['count']} times)" for p in pairs)
        or "none"
    )
    recall = m["per_class_accuracy"]
    worst = int(np.argmin(recall))
    best = int(np.argmax(recall))
    conf_vals = [e["confidence"] for e in m["examples"]]
    sure = sum(c >= 0.9 for c in conf_vals)
    return [
        "### Where it goes wrong",
        "",
        f"{m['errors']} of {m['n_test']:,} {m['held_out_name']} images are misclassified. Per "
        f"digit, accuracy ranges from {recall[worst]:.1%} (digit {worst}) to {recall[best]:.1%} "
        f"(digit {best}). The most frequent confusions: {pair_text}.",
        "",
        f"Of the {len(conf_vals)} mistakes shown (the ones made with the highest confidence), "
        f"{sure} were made with at least 90 % probability on the wrong digit; the least sure of "
        f"them still gave {min(conf_vals, default=float('nan')):.0%}. Softmax outputs are not "
        "calibrated uncertainty: a confident wrong answer looks just like a confident right one.",
    ]


def section(m: dict) -> str:
    """The section's Markdown from the metrics ``m``."""
    lines = _setup_and_curves(m) + _target(m) + _mistakes(m)
    return LEAD + "\n\n" + "\n".join(lines)
