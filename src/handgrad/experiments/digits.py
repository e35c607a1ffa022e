"""Chapter 8 on scikit-learn's 8x8 digits: softmax + cross-entropy, minibatch SGD, a sweep.

Protocol (everything drawn from ``seed``):
  1. pixels 0..16 are divided by 16 (so every input lies in [0, 1]); a stratified 80/20
     split gives the training part and the held-out test set, which nothing below looks at
     until the end;
  2. the training part is split again (stratified, 75/25) into fit and validation rows; a
     sweep over hidden width H and learning rate (plain SGD, batch 32) trains one
     64-H-10 ReLU net per pair and records its curves;
  3. the pair with the best validation accuracy (ties: lower validation loss) is retrained
     on the whole training part, and its curves and accuracy on the held-out test set are
     reported.
The fused softmax + cross-entropy gradient is derived in the section and checked against
finite differences.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import handgrad as hg

from ..chapters import chapter
from ..data import load_builtin, train_test_split
from ..nn import functional as F
from ..train import predict_outputs
from .base import ExperimentResult, Figure, lead, tagline

NAME = "digits"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

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


HIDDEN = (16, 64, 256)
LEARNING_RATES = (0.01, 0.1, 0.5)
BATCH_SIZE = 32
TARGET_ACCURACY = 0.97


def _split_seeds(seed: int) -> dict[str, int]:
    """Independent integer seeds for each random step, all derived from ``seed``."""
    names = ("test_split", "val_split", "init", "shuffle", "gradcheck")
    states = np.random.SeedSequence(seed).generate_state(len(names))
    return dict(zip(names, (int(s) for s in states)))


def _train(X, y, H, lr, epochs, seeds, validation):
    """One 64-H-10 ReLU net with SGD -> (model, History)."""
    model = hg.mlp([X.shape[1], H, 10], "relu", seed=seeds["init"])
    history = hg.fit(
        model,
        hg.SoftmaxCrossEntropyLoss(),
        hg.SGD(model.parameters(), lr=lr),
        X,
        y,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        seed=seeds["shuffle"],
        validation_data=validation,
        metrics=["accuracy"],
    )
    return model, history


def _first_epoch_reaching(values, level: float) -> int | None:
    hits = [i + 1 for i, v in enumerate(values) if v >= level]
    return hits[0] if hits else None


def _curve_summary(history) -> dict:
    loss = np.asarray(history.epoch_loss)
    return {
        "epochs_run": history.epochs,
        "diverged": history.stop_reason == "diverged",
        "first_epoch_loss": float(loss[0]) if loss.size else float("nan"),
        "final_train_loss": float(loss[-1]) if loss.size else float("nan"),
        "final_train_accuracy": history.metrics["accuracy"][-1] if loss.size else float("nan"),
        "final_val_loss": history.val_loss[-1] if history.val_loss else float("nan"),
        "final_val_accuracy": history.val_metrics["accuracy"][-1] if loss.size else float("nan"),
        "best_val_accuracy": max(history.val_metrics["accuracy"], default=float("nan")),
        "epochs_to_95_val": _first_epoch_reaching(history.val_metrics.get("accuracy", []), 0.95),
        # epochs whose mean training loss went up: a sign of a step size that overshoots
        "loss_increases": int(np.sum(np.diff(loss) > 0)),
    }


# --- the fused gradient, checked --------------------------------------------------------------


def _check_fused_gradient(H: int, X, y, seeds: dict) -> dict:
    """dL/dZ of mean softmax cross-entropy: engine vs the formula vs finite differences.

    Checked at the chosen net's initial weights (same init seed), where no class
    probability is vanishingly small yet, so relative errors compare gradients of a
    meaningful size; then the same through every parameter of that net.
    """
    model = hg.mlp([X.shape[1], H, 10], "relu", seed=seeds["init"])
    loss = hg.SoftmaxCrossEntropyLoss()
    Z = predict_outputs(model, X).copy()
    loss.forward(Z, y)
    engine = loss.backward().copy()
    formula = (F.softmax(Z) - F.one_hot(y, Z.shape[1])) / Z.shape[0]
    report = hg.gradcheck(lambda: loss.forward(Z, y), {"logits": Z}, {"logits": engine})
    whole = hg.gradcheck(
        model, hg.SoftmaxCrossEntropyLoss(), X, y, max_entries=40, seed=seeds["gradcheck"]
    )
    return {
        "batch": int(Z.shape[0]),
        "classes": int(Z.shape[1]),
        "engine_vs_formula_max_abs": float(np.max(np.abs(engine - formula))),
        "finite_diff_max_abs": report.rows[0].max_abs_error,
        "finite_diff_max_rel": report.max_rel_error,
        "finite_diff_passed": report.passed,
        "model_gradcheck_max_rel": whole.max_rel_error,
        "model_gradcheck_passed": whole.passed,
        "model_gradcheck_kinks": int(sum(r.kinks for r in whole.rows)),
        "tolerance": report.tol,
    }


# --- figures ----------------------------------------------------------------------------------


def _plot_final(history, path: Path, H: int, lr: float) -> Figure:
    from .. import plots

    plots.plot_learning_curves(
        history, path, held_out="held-out test", title=f" (H={H}, lr={lr:g})"
    )
    return Figure(path, f"Learning curves of the chosen net (64-{H}-10 ReLU, SGD lr {lr:g}).")


def _plot_sweep(runs: dict, path: Path) -> Figure:
    from .. import plots

    fig, axes = plots.new_figure(ncols=len(LEARNING_RATES), nrows=2, size=(4.2, 3.2))
    for j, lr in enumerate(LEARNING_RATES):
        plots.plot_curves(
            axes[j],
            {f"H={H}": runs[(H, lr)].epoch_loss for H in HIDDEN},
            title=f"Training loss, lr={lr:g}",
            xlabel="epoch",
            ylabel="mean cross-entropy (nats)",
            logy=True,
        )
        plots.plot_curves(
            axes[len(LEARNING_RATES) + j],
            {f"H={H}": runs[(H, lr)].val_metrics["accuracy"] for H in HIDDEN},
            title=f"Validation accuracy, lr={lr:g}",
            xlabel="epoch",
            ylabel="accuracy (fraction correct)",
        )
    plots.save_figure(fig, path)
    return Figure(
        path,
        "The sweep: training loss (top) and validation accuracy (bottom) per epoch, one panel "
        "per learning rate, one line per hidden width.",
    )


# --- the text ---------------------------------------------------------------------------------


def _trend(values: list[float]) -> str:
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


def _sweep_text(sweep: dict, epochs: int) -> tuple[str, list[str], str, str]:
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
    lo, hi = LEARNING_RATES[0], LEARNING_RATES[-1]
    mid_lr = LEARNING_RATES[len(LEARNING_RATES) // 2]
    small_H, big_H = HIDDEN[0], HIDDEN[-1]

    # learning rate, at each width
    arrow = " -> ".join(f"{lr:g}" for lr in LEARNING_RATES)
    losses = {H: [sweep[(H, lr)]["final_train_loss"] for lr in LEARNING_RATES] for H in HIDDEN}
    trends = {H: _trend(v) for H, v in losses.items()}
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
    lr_lines = [loss_line, f"epochs until 95 % validation accuracy, in the same order: {speed}"]
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

    # width, at the middle learning rate
    width_losses = [sweep[(H, mid_lr)]["final_train_loss"] for H in HIDDEN]
    width_acc = [sweep[(H, mid_lr)]["final_val_accuracy"] for H in HIDDEN]
    gap = [
        sweep[(H, mid_lr)]["final_train_accuracy"] - sweep[(H, mid_lr)]["final_val_accuracy"]
        for H in HIDDEN
    ]
    width_line = (
        f"At lr={mid_lr:g}, widening the hidden layer {' -> '.join(map(str, HIDDEN))} took the "
        f"final training loss through {', '.join(f'{v:.4f}' for v in width_losses)} (it "
        f"{_trend(width_losses)}) and the validation accuracy through "
        f"{', '.join(f'{v:.1%}' for v in width_acc)} (it {_trend(width_acc)}); the gap "
        f"between training and validation accuracy went {', '.join(f'{g:+.1%}' for g in gap)}."
    )
    if width_losses[-1] < width_losses[0]:
        width_line += (
            f" The same number of SGD steps fit the training set further with the wider "
            f"layer (H={big_H} ends at {width_losses[-1] / width_losses[0]:.2f}x the training "
            f"loss of H={small_H})."
        )
    else:
        width_line += (
            f" Here the wider layer did not fit the training set further within {epochs} epochs."
        )
    return "\n".join(rows), lr_lines, bumpy, width_line


_DERIVATION = r"""For one row with logits $z \in \mathbb{R}^C$ and true class $k$, softmax gives
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


def _markdown(m: dict, sweep_table: str, lr_lines, bumpy, width_line) -> str:
    c, g = m["chosen"], m["gradient_check"]
    verdict = "meets" if m["test_accuracy"] >= TARGET_ACCURACY else "falls short of"
    fastest = min(
        m["sweep"].items(),
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

Sweep of {len(m["sweep"])} runs, {m["sweep_epochs"]} epochs each, on the fit/validation split:

{sweep_table}

- Learning rate: {"; ".join(lr_lines)}. {bumpy}
- Width: {width_line}
- Fastest to 95 % validation accuracy: H={fastest[0]}, lr={fastest[1]:g}.

### The chosen configuration

The best validation accuracy in the sweep was H={c["H"]}, lr={c["lr"]:g}
({c["val_accuracy"]:.1%}). Retrained on all {m["n_train"]} training images for
{m["final_epochs"]} epochs, it reaches **{m["test_accuracy"]:.2%} on the {m["n_test"]}
held-out test images** (training accuracy {m["train_accuracy"]:.2%}, test loss
{m["test_loss"]:.4f}), which {verdict} the 97 % target.

### The fused softmax + cross-entropy gradient

{_DERIVATION}

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


# --- run --------------------------------------------------------------------------------------


def _sweep_one(shared: tuple, setting: tuple[int, float]):
    """One training of the sweep -> its History (a Dask task when a scheduler is given)."""
    X_fit, y_fit, X_val, y_val, epochs, seeds = shared
    H, lr = setting
    return _train(X_fit, y_fit, H, lr, epochs, seeds, (X_val, y_val))[1]


def run(
    seed: int = 0,
    out_dir: Path = Path("runs/digits"),
    quick: bool = False,
    scheduler=None,
    **options,
) -> ExperimentResult:
    """The sweep, the chosen net on the held-out set, and the gradient check (see module doc).

    ``scheduler``: run the sweep's trainings as Dask tasks (``handgrad.sweep.parallel_map``:
    "serial", a scheduler address, a Client, or "local" for a LocalCluster); the results
    are the same bits as the plain loop's with BLAS on one thread.
    """
    if options:
        raise TypeError(f"digits: unexpected option(s) {', '.join(sorted(options))}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seeds = _split_seeds(seed)
    sweep_epochs, final_epochs = (10, 20) if quick else (40, 60)

    X, y, _, _ = load_builtin("digits")
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, 0.2, seed=seeds["test_split"], stratify=True
    )
    X_fit, X_val, y_fit, y_val = train_test_split(
        X_train, y_train, 0.25, seed=seeds["val_split"], stratify=True
    )

    settings = [(H, lr) for H in HIDDEN for lr in LEARNING_RATES]
    shared = (X_fit, y_fit, X_val, y_val, sweep_epochs, seeds)
    if scheduler is None:
        histories = [_sweep_one(shared, setting) for setting in settings]
    else:
        from ..sweep import parallel_map

        where = None if scheduler == "local" else scheduler
        histories = parallel_map(_sweep_one, settings, shared=shared, scheduler=where)
    runs = dict(zip(settings, histories))
    sweep = {key: _curve_summary(h) for key, h in runs.items()}
    best = max(sweep, key=lambda k: (sweep[k]["final_val_accuracy"], -sweep[k]["final_val_loss"]))
    H, lr = best
    model, history = _train(X_train, y_train, H, lr, final_epochs, seeds, (X_test, y_test))
    final = hg.evaluate(model, hg.SoftmaxCrossEntropyLoss(), X_test, y_test, ["accuracy"])
    train_eval = hg.evaluate(model, hg.SoftmaxCrossEntropyLoss(), X_train, y_train, ["accuracy"])
    check = _check_fused_gradient(H, X_train[:16], y_train[:16], seeds)

    metrics = {
        "seed": seed,
        "n_samples": int(X.shape[0]),
        "n_train": int(X_train.shape[0]),
        "n_fit": int(X_fit.shape[0]),
        "n_val": int(X_val.shape[0]),
        "n_test": int(X_test.shape[0]),
        "scaling": "pixels / 16",
        "batch_size": BATCH_SIZE,
        "sweep_epochs": sweep_epochs,
        "final_epochs": final_epochs,
        "sweep": sweep,
        "chosen": {"H": H, "lr": lr, "val_accuracy": sweep[best]["final_val_accuracy"]},
        "test_accuracy": final["accuracy"],
        "test_loss": final["loss"],
        "train_accuracy": train_eval["accuracy"],
        "curves": {
            "train_loss": history.epoch_loss,
            "test_loss": history.val_loss,
            "train_accuracy": history.metrics["accuracy"],
            "test_accuracy": history.val_metrics["accuracy"],
        },
        "gradient_check": check,
    }
    figures = [
        _plot_final(history, out_dir / "digits_curves.png", H, lr),
        _plot_sweep(runs, out_dir / "digits_sweep.png"),
    ]
    table, lr_lines, bumpy, width_line = _sweep_text(sweep, sweep_epochs)
    # JSON keys must be strings: "H=64,lr=0.1"
    metrics["sweep"] = {f"H={k[0]},lr={k[1]:g}": v for k, v in sweep.items()}
    md = _markdown({**metrics, "sweep": sweep}, table, lr_lines, bumpy, width_line)
    return ExperimentResult(NAME, TITLE, STAGE, metrics, LEAD + "\n\n" + md.strip(), figures)
