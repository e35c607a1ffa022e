"""Chapter 8's section: the sweep in words, the chosen net, the fused gradient derived."""

from __future__ import annotations

import numpy as np

from ..base import lead
from .measure import BATCH_SIZE, HIDDEN, LEARNING_RATES, TARGET_ACCURACY, Measured, metrics

LEAD = lead(
    (
        "How does a network choose among ten classes? Softmax turns ten scores into "
        "probabilities, cross-entropy scores them, and minibatches make each step cheap: how "
        "well does that work on small 8×8 digits?"
    ),
    (
        "The derivation of the gradient $p - y$, then `digits_sweep.png`: held-out accuracy for"
        " each hidden size and learning rate."
    ),
)

Sweep = dict[tuple[int, float], dict]  # (H, lr) -> the run's curve summary


def trend(values: list[float]) -> str:
    """How a sequence read left to right moves: 'fell', 'rose', 'stayed level', ..."""
    d = np.diff(values)
    if np.all(d == 0):
        return "stayed level"
    if np.all(d < 0):
        return "fell"
    if np.all(d > 0):
        return "rose"
    if np.all(d <= 0):
        return "fell or stayed level"
    if np.all(d >= 0):
        return "rose or stayed level"
    return "went up and down"


def _fmt_epoch(e: int | None, epochs: int) -> str:
    return str(e) if e is not None else f"never (within {epochs})"


def _sweep_table(sweep: Sweep, epochs: int) -> str:
    rows = [
        "| H | learning rate | train loss, epoch 1 | final train loss | epochs with rising loss "
        "| epochs to 95 % val. acc. | final val. acc. |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (H, lr), s in sweep.items():
        rows.append(
            f"| {H} | {lr:g} | {s['first_epoch_loss']:.3f} | {s['final_train_loss']:.4f} | "
            f"{s['loss_increases']} | {_fmt_epoch(s['epochs_to_95_val'], epochs)} | "
            f"{s['final_val_accuracy']:.1%} |"
        )
    return "\n".join(rows)


def _learning_rate_lines(sweep: Sweep, epochs: int) -> list[str]:
    """How the final training loss and the speed to 95 % moved with the learning rate."""
    arrow = " -> ".join(f"{lr:g}" for lr in LEARNING_RATES)
    losses = {H: [sweep[(H, lr)]["final_train_loss"] for lr in LEARNING_RATES] for H in HIDDEN}
    trends = {H: trend(v) for H, v in losses.items()}
    values = "; ".join(f"H={H}: {', '.join(f'{v:.4f}' for v in losses[H])}" for H in HIDDEN)
    if len(set(trends.values())) == 1:
        loss_line = (
            f"at every width the final training loss {trends[HIDDEN[0]]} as the learning rate "
            f"went {arrow} ({values})"
        )
    else:
        loss_line = (
            "the final training loss "
            + ", ".join(f"{trends[H]} at H={H}" for H in HIDDEN)
            + f" as the learning rate went {arrow} ({values})"
        )
    speed = "; ".join(
        f"H={H}: "
        + ", ".join(_fmt_epoch(sweep[(H, lr)]["epochs_to_95_val"], epochs) for lr in LEARNING_RATES)
        for H in HIDDEN
    )
    return [loss_line, f"epochs until 95 % validation accuracy, in the same order: {speed}"]


def _bumpiness(sweep: Sweep) -> str:
    """Whether the largest learning rate made the loss rise between epochs more often."""
    lo, hi = LEARNING_RATES[0], LEARNING_RATES[-1]
    rises_lo = sum(sweep[(H, lo)]["loss_increases"] for H in HIDDEN)
    rises_hi = sum(sweep[(H, hi)]["loss_increases"] for H in HIDDEN)
    diverged = [f"H={H}, lr={lr:g}" for (H, lr), s in sweep.items() if s["diverged"]]
    if rises_hi > rises_lo:
        bumpy = (
            f"The price of the large step is a bumpier curve: summed over the widths, the "
            f"training loss went up from one epoch to the next {rises_hi} times at lr={hi:g} "
            f"against {rises_lo} at lr={lo:g} (the step overshoots the minimum along the "
            "steepest directions and the loss bounces)."
        )
    else:
        bumpy = (
            f"The large step did not make the curves bumpier here: the training loss rose from "
            f"one epoch to the next {rises_hi} times at lr={hi:g} against {rises_lo} at "
            f"lr={lo:g} (summed over the widths)."
        )
    if diverged:
        bumpy += f" Training diverged for {', '.join(diverged)}."
    return bumpy


def _width_line(sweep: Sweep, epochs: int) -> str:
    """What widening the hidden layer did, at the middle learning rate."""
    mid_lr = LEARNING_RATES[len(LEARNING_RATES) // 2]
    small_H, big_H = HIDDEN[0], HIDDEN[-1]
    width_losses = [sweep[(H, mid_lr)]["final_train_loss"] for H in HIDDEN]
    width_acc = [sweep[(H, mid_lr)]["final_val_accuracy"] for H in HIDDEN]
    gap = [
        sweep[(H, mid_lr)]["final_train_accuracy"] - sweep[(H, mid_lr)]["final_val_accuracy"]
        for H in HIDDEN
    ]
    width_line = (
        f"At lr={mid_lr:g}, widening the hidden layer {' -> '.join(map(str, HIDDEN))} took the "
        f"final training loss through {', '.join(f'{v:.4f}' for v in width_losses)} (it "
        f"{trend(width_losses)}) and the validation accuracy through "
        f"{', '.join(f'{v:.1%}' for v in width_acc)} (it {trend(width_acc)}); the gap "
        f"between training and validation accuracy went {', '.join(f'{g:+.1%}' for g in gap)}."
    )
    if width_losses[-1] < width_losses[0]:
        return width_line + (
            f" The same number of SGD steps fit the training set further with the wider "
            f"layer (H={big_H} ends at {width_losses[-1] / width_losses[0]:.2f}x the training "
            f"loss of H={small_H})."
        )
    return width_line + (
        f" Here the wider layer did not fit the training set further within {epochs} epochs."
    )


def sweep_text(sweep: Sweep, epochs: int) -> tuple[str, list[str], str, str]:
    """The sweep's table, the learning-rate lines, the bumpiness and the width sentence."""
    return (
        _sweep_table(sweep, epochs),
        _learning_rate_lines(sweep, epochs),
        _bumpiness(sweep),
        _width_line(sweep, epochs),
    )


DERIVATION = r"""For one row with logits $z \in \mathbb{R}^C$ and true class $k$, softmax gives
$p_j = e^{z_j} / S$ with $S = \sum_i e^{z_i}$, and the loss is

$$L = -\log p_k = \log S - z_k.$$

Differentiate the two terms: $\partial \log S / \partial z_j = e^{z_j} / S = p_j$, and
$\partial z_k / \partial z_j$ is 1 when $j = k$ and 0 otherwise. So

$$\frac{\partial L}{\partial z_j} = p_j - y_j \qquad (y \text{ the one-hot row of the label}),$$

and for the mean over a batch of $N$ rows, $\partial L / \partial Z = (P - Y) / N$. Going
straight from logits to the loss skips the $C \times C$ softmax Jacobian
$\operatorname{diag}(p) - p p^\top$, and evaluating $\log S$ as a log-sum-exp keeps the loss
finite where $p_k$ would round to 0."""


def _kinks(n: int) -> str:
    if n == 0:
        return "no sampled entry sat at a ReLU kink"
    if n == 1:
        return "1 sampled entry sat at a ReLU kink and was skipped"
    return f"{n} sampled entries sat at a ReLU kink and were skipped"


def _setup_and_sweep(m: dict, sweep: Sweep) -> str:
    table, lr_lines, bumpy, width_line = sweep_text(sweep, m["sweep_epochs"])
    fastest = min(
        sweep.items(),
        key=lambda kv: (kv[1]["epochs_to_95_val"] or 10**9, kv[1]["final_train_loss"]),
    )[0]
    return f"""
**Data.** {m["n_samples"]} images of 8x8 pixels (values 0..16, divided by 16 so inputs lie in
[0, 1]), 10 classes. Stratified split: {m["n_train"]} training images (of which
{m["n_fit"]} for fitting and {m["n_val"]} for validation during the sweep) and {m["n_test"]}
held-out test images, untouched until the end. Seed {m["seed"]}.

**Model and training.** 64-H-10 with ReLU; the last layer emits logits and the loss is the
fused softmax + cross-entropy, averaged over each minibatch of {BATCH_SIZE} rows (reshuffled
every epoch); plain SGD.

### How do the training curves change with H and the learning rate?

Sweep of {len(sweep)} runs, {m["sweep_epochs"]} epochs each, on the fit/validation split:

{table}

- Learning rate: {"; ".join(lr_lines)}. {bumpy}
- Width: {width_line}
- Fastest to 95 % validation accuracy: H={fastest[0]}, lr={fastest[1]:g}.
"""


def _chosen_and_gradient(m: dict) -> str:
    c, g = m["chosen"], m["gradient_check"]
    verdict = "meets" if m["test_accuracy"] >= TARGET_ACCURACY else "falls short of"
    return f"""
### The chosen configuration

The best validation accuracy in the sweep was H={c["H"]}, lr={c["lr"]:g}
({c["val_accuracy"]:.1%}). Retrained on all {m["n_train"]} training images for
{m["final_epochs"]} epochs, it reaches **{m["test_accuracy"]:.2%} on the {m["n_test"]}
held-out test images** (training accuracy {m["train_accuracy"]:.2%}, test loss
{m["test_loss"]:.4f}), which {verdict} the 97 % target.

### The fused softmax + cross-entropy gradient

{DERIVATION}

Checked on a batch of {g["batch"]} training images ({g["classes"]} classes), float64, at the
chosen net's initial weights (where no probability is vanishingly small): the engine's
gradient differs from $(P - Y) / N$ by at most {g["engine_vs_formula_max_abs"]:.1e}, and from
fourth-order central finite differences of the loss by at most {g["finite_diff_max_abs"]:.1e}
(max relative error {g["finite_diff_max_rel"]:.1e}; tolerance {g["tolerance"]:.0e}:
{"passed" if g["finite_diff_passed"] else "FAILED"}). Back through the whole net, the
parameter gradients agree with finite differences to a max relative error of
{g["model_gradcheck_max_rel"]:.1e} ({"passed" if g["model_gradcheck_passed"] else "FAILED"};
{_kinks(g["model_gradcheck_kinks"])}).
"""


def section(m: Measured) -> str:
    numbers = metrics(m)
    md = _setup_and_sweep(numbers, m.sweep) + _chosen_and_gradient(numbers)
    return LEAD + "\n\n" + md.strip()
