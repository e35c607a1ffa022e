"""The run report: figures and a Markdown/HTML page answering the last chapter's questions.

The course's last chapter (12 · Your own data) asks for a report on how the hyperparameters
were chosen, the layers and neurons, how the data was split, how the model was evaluated, and
the training and test results. ``write_report_files`` writes the figures, ``report.md`` and
``report.html`` (the same Markdown -> HTML converter as the tour report) into a run folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..chapters import OWN_DATA
from ..io import write_text
from ..metrics import confusion_matrix
from .config import DEFAULT_PATIENCE, TrainConfig

__all__ = ["write_report_files", "train_report"]


def write_report_files(run, dataset, folder: Path) -> list[str]:
    """Figures, report.md and report.html in ``folder`` -> the file names written."""
    from ..report import markdown_to_html_document

    figures = _plot_run(run, folder)
    text = train_report(run, dataset, figures)
    write_text(folder / "report.md", text)
    title = f"handgrad train: {Path(dataset.source).name}"
    write_text(
        folder / "report.html", markdown_to_html_document(text, title=title, base_dir=folder)
    )
    return [*[name for name, _ in figures], "report.md", "report.html"]


def _plot_run(run, out: Path) -> list[tuple[str, str]]:
    """Loss curves, the score curves, and the test-set picture -> [(file name, caption)]."""
    from .. import plots

    h, predictor, y_test = run.history, run.predictor, run.test_targets
    figures = []
    fig, ax = plots.new_figure()
    series = {"training (mean over the epoch's batches)": h.epoch_loss}
    if h.val_loss:
        series["validation (end of epoch)"] = h.val_loss
    objective = "mean squared error, standardized target" if run.task == "regression" else None
    objective = objective or (
        "binary cross-entropy" if len(run.classes) == 2 else "softmax cross-entropy"
    )
    plots.plot_curves(
        ax, series, title="Loss per epoch", xlabel="epoch", ylabel=f"loss ({objective})"
    )
    if h.stop_reason == "early_stopping":
        best = run.metrics["best_val_epoch"]
        ax.axvline(best, color="gray", linestyle=":", label=f"best validation epoch ({best}, kept)")
        ax.legend()
    plots.save_figure(fig, out / "loss.png")
    figures.append(("loss.png", f"Training and validation loss per epoch ({objective})."))

    fig, ax = plots.new_figure()
    if run.task == "classification":
        series = {"training (running, during the epoch)": h.metrics.get("accuracy", [])}
        if h.val_metrics.get("accuracy"):
            series["validation"] = h.val_metrics["accuracy"]
        plots.plot_curves(ax, series, title="Accuracy per epoch", xlabel="epoch", ylabel="accuracy")
        caption = "Accuracy per epoch on the training batches and on the validation part."
    else:
        scale2 = float(predictor.target_scaler.scale_[0]) ** 2  # MSE in the target's units
        series = {
            "training (running, during the epoch)": np.asarray(h.metrics.get("mse", [])) * scale2
        }
        if h.val_metrics.get("mse"):
            series["validation"] = np.asarray(h.val_metrics["mse"]) * scale2
        plots.plot_curves(
            ax,
            series,
            title="Mean squared error per epoch",
            xlabel="epoch",
            ylabel=f"MSE ({predictor.target_name} units squared)",
            logy=True,
        )
        caption = "Mean squared error per epoch, in the target's own units (squared)."
    plots.save_figure(fig, out / "metric.png")
    figures.append(("metric.png", caption))

    outputs = run.test_outputs
    fig, ax = plots.new_figure(size=(5.5, 4.5))
    if run.task == "classification":
        ok = np.isfinite(outputs).all(axis=1)
        codes = predictor.codes_from_outputs(outputs)
        matrix = confusion_matrix(y_test[ok], codes[ok], len(run.classes))
        plots.plot_confusion(ax, matrix, title="Confusion matrix, test part", labels=run.classes)
        plots.save_figure(fig, out / "confusion.png")
        figures.append(("confusion.png", "Test part: true class (rows) against predicted."))
    else:
        pred = predictor.values_from_outputs(outputs)
        shown = np.isfinite(pred)
        y_test, pred = y_test[shown], pred[shown]
        both = np.concatenate([y_test, pred])
        lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
        ax.plot([lo, hi], [lo, hi], "k--", linewidth=1, label="perfect prediction")
        ax.scatter(y_test, pred, s=14, alpha=0.7, label="test rows")
        ax.set_title("Predicted against true values, test part")
        ax.set_xlabel(f"true {predictor.target_name}")
        ax.set_ylabel(f"predicted {predictor.target_name}")
        ax.grid(True, alpha=0.3)
        ax.legend()
        plots.save_figure(fig, out / "pred_vs_true.png")
        figures.append(("pred_vs_true.png", "Test part: predicted against true target values."))
    return figures


# --- report.md: the chapter's questions, answered from the numbers -----------------------------


def _fmt(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}g}"


def train_report(run, dataset, figures: list[tuple[str, str]]) -> str:
    """The run's report in Markdown: data, choices, architecture, split, evaluation, results."""
    c, m, n = run.config, run.metrics, sum(run.split.values())
    name = Path(dataset.source).name if dataset.file else dataset.source
    lines = [f"# {name}: train your own network ({OWN_DATA.heading})", ""]
    lines += ["## The data", ""]
    if dataset.file:
        f = dataset.file
        lines.append(
            f"- File: `{f['path']}`, {f['bytes']:,} bytes, SHA-256 `{f['sha256']}` (the "
            "same bytes give the same hash: check it before comparing runs)."
        )
    else:
        lines.append(f"- Source: {dataset.source}.")
    lines += [
        f"- {n} rows used, {len(dataset.feature_names)} feature columns "
        f"({len(run.input_names)} network inputs after encoding), target `{dataset.target_name}`.",
        f"- Task: **{run.task}** ({run.task_reason}).",
    ]
    lines += [f"- {note[0].upper()}{note[1:]}." for note in run.notes]
    t = m["target"]
    if run.classes:
        per_class = ", ".join(f"`{k}`: {v}" for k, v in zip(run.classes, t["counts"]))
        lines.append(
            f"- {len(run.classes)} classes, encoded 0..{len(run.classes) - 1} in sorted "
            f"order; rows per class: {per_class}."
        )
    else:
        lines.append(
            f"- Target range {_fmt(t['min'])} to {_fmt(t['max'])}, mean {_fmt(t['mean'])}, "
            f"standard deviation {_fmt(t['std'])}."
        )
    lines += ["", *_column_section(run, dataset)]
    lines += ["## Hyperparameters and how they were chosen", ""]
    defaults = TrainConfig()
    rows = [
        ("hidden layers", ", ".join(map(str, c.hidden)) or "none (a linear model)", "hidden"),
        ("activation", c.activation, "activation"),
        (
            "optimizer",
            c.optimizer + (f" (momentum {c.momentum})" if c.momentum else ""),
            "optimizer",
        ),
        ("learning rate", f"{c.learning_rate:g}", "lr"),
        ("epochs (at most)", str(c.epochs), "epochs"),
        ("batch size", str(c.batch_size), "batch_size"),
        ("L2 penalty λ", f"{c.l2:g}", "l2"),
        ("early-stopping patience", "off" if c.patience is None else str(c.patience), "patience"),
        ("seed", str(c.seed), "seed"),
    ]
    lines += ["| setting | value | source |", "| --- | --- | --- |"]
    for label, value, key in rows:
        is_default = getattr(c, key) == getattr(defaults, key) or (
            key == "patience" and c.patience == DEFAULT_PATIENCE and c.val_fraction > 0
        )
        lines.append(f"| {label} | {value} | {'default' if is_default else 'command line'} |")
    lines += [
        "",
        "Settings marked *default* were not tuned for this data: they are the command's "
        "starting point for small standardized tables (ReLU units with He initialization, "
        "Adam). Settings marked *command line* were chosen by whoever ran it. To tune them, "
        "train several runs that differ in one setting (`--hidden`, `--lr`, `--l2`, "
        "`--patience`), keep the one with the lowest validation loss, and read the test part "
        "once, at the end: a test score used for choosing is no longer an unbiased estimate.",
        "",
    ]
    lines += _training_observations(run)
    lines += ["", "## Layers and neurons", ""]
    sizes = " → ".join(map(str, run.sizes))
    out_kind = (
        "one logit (sigmoid probability of the second class)"
        if run.classes and len(run.classes) == 2
        else f"{run.sizes[-1]} logits (softmax over the classes)"
        if run.classes
        else "one value (the standardized target)"
    )
    lines += [
        f"Layer widths {sizes}: {len(run.sizes) - 2} hidden layer(s) with {c.activation}, and "
        f"an output layer of {out_kind}. {run.n_parameters:,} trainable parameters.",
        "",
    ]
    lines += ["## How the data was split", ""]
    strat = " stratified by class," if run.classes else ""
    lines += [
        f"The rows were shuffled once (seed {c.seed}) and split{strat} into "
        f"{run.split['train']} training, {run.split['val']} validation and "
        f"{run.split['test']} test rows (fractions {1 - c.val_fraction - c.test_fraction:.2g} / "
        f"{c.val_fraction:.2g} / {c.test_fraction:.2g} of all rows). The preprocessing "
        "(fill values, categories, means and scales) was fitted on the training rows only and "
        "applied unchanged to the other parts and, through the model file, at prediction time. "
        "`splits.csv` lists the part of every row (row = position among the file's data rows, "
        "counting from 0, as pandas numbers them).",
    ]
    if run.task == "regression":
        lines.append(
            "The target was standardized the same way for training; every score below is "
            "in the target's own units."
        )
    lines += ["", "## How the model was evaluated", ""]
    linear = m.get("linear_model", {}).get("rule")
    if run.task == "classification":
        lines.append(
            "Accuracy (share of rows whose most probable class is the true one) and the mean "
            "cross-entropy loss on each part; the confusion matrix of the test part; a "
            f"baseline that ignores the features ({m['baseline']['rule']})"
            + (f"; and {linear}, trained on the same training rows" if linear else "")
            + ": did the network earn its keep?"
        )
    else:
        lines.append(
            "Mean squared error, mean absolute error and R² (1 - residual sum of squares / "
            "total sum of squares around that part's mean) on each part; a baseline that "
            f"ignores the features ({m['baseline']['rule']})"
            + (f"; and {linear}, trained on the same training rows" if linear else "")
            + "."
        )
    lines += ["", "## Training and test results", ""]
    lines += _results_table(run)
    lines += ["", *_verdict(run), ""]
    lines += ["## Figures", ""]
    for i, (name, caption) in enumerate(figures, 1):
        lines += [f"![{caption}]({name})", "", f"*Figure {i}: {caption}*", ""]
    lines += [
        "## Checking the test score yourself",
        "",
        "`test_predictions.csv` holds every test row's number, true target and prediction"
        + (" with the class probabilities" if run.classes else "")
        + "; the test score above is computed from exactly these rows:",
        "",
        "```python",
        "import pandas as pd",
        "p = pd.read_csv('test_predictions.csv')",
        "print((p.true.astype(str) == p.prediction.astype(str)).mean())"
        if run.classes
        else "print(((p.true - p.prediction) ** 2).mean())  # MSE",
        "```",
        "",
        "## Using the model",
        "",
        "```",
        f"handgrad predict --model {Path(run.out_dir) / 'model.npz'} --data NEW_ROWS.csv",
        "```",
        "",
        "The table needs the feature columns by name, in any order (others are ignored): "
        + ", ".join(f"`{x}`" for x in dataset.feature_names[:12])
        + (f" ... ({len(dataset.feature_names)} in all)" if len(dataset.feature_names) > 12 else "")
        + ". Missing numbers are filled as in training; a category never seen in training "
        "is encoded as all zeros, with a warning.",
        "",
    ]
    return "\n".join(lines)


def _column_section(run, dataset) -> list[str]:
    """The column table (kind, missing count, what was done) and the encoding rules."""
    c = run.config
    lines = ["## The columns and what was done with them", ""]
    lines += ["| column | kind | missing | what was done |", "| --- | --- | ---: | --- |"]
    for col in dataset.columns:
        lines.append(f"| `{col.name}` | {col.kind} | {col.missing} | {col.action} |")
    fill = "median" if c.impute == "median" else "mean"
    lines += [
        "",
        f"Numeric columns: missing cells filled with the training {fill}"
        + (", with a 0/1 *was missing* column" if c.missing_indicator else "")
        + ", then standardized with the training mean and standard deviation. Categorical "
        "and boolean columns: one column per category (one-hot), a missing cell counting as "
        f"the category `(missing)`; categories seen in fewer than {c.rare_min} training rows "
        "share one `(rare)` column. "
        + (
            "Rows with any missing feature were dropped (`--drop-missing`). "
            if c.drop_missing
            else ""
        )
        + "Identifier-like columns (every value distinct) and constant columns carry no "
        "pattern a network can reuse, so they were left out.",
        "",
    ]
    return lines


def _training_observations(run) -> list[str]:
    h, m = run.history, run.metrics
    out = [f"Training ran {h.epochs} of {run.config.epochs} epochs"]
    if h.stop_reason == "early_stopping":
        out[0] += (
            f", stopped early: the validation loss had not improved for "
            f"{run.config.patience} epochs; the weights of its best epoch "
            f"({m['best_val_epoch']}) were restored."
        )
    elif h.stop_reason == "diverged":
        out[0] += f"; then **{h.message}**"
    elif h.stop_reason == "interrupted":
        out[0] += f". It was interrupted: {h.message}."
    else:
        out[0] += "."
        if h.val_loss and m.get("best_val_epoch", h.epochs) < 0.8 * h.epochs:
            out[0] += (
                f" The validation loss was lowest at epoch {m['best_val_epoch']} "
                f"({_fmt(min(h.val_loss))}) and ended at {_fmt(h.val_loss[-1])}: later epochs "
                "fitted the training rows more than new ones; `--patience` would stop there."
            )
    return out


def _results_table(run) -> list[str]:
    m = run.metrics
    parts = [k for k in ("train", "val", "test") if k in m]
    names = {"train": "training", "val": "validation", "test": "test"}
    if run.task == "classification":
        lines = ["| part | rows | loss | accuracy |", "| --- | ---: | ---: | ---: |"]
        for k in parts:
            lines.append(
                f"| {names[k]} | {m[k]['n']} | {_fmt(m[k]['loss'])} | {m[k]['accuracy']:.4f} |"
            )
        lines.append(f"| baseline on test | {m['test']['n']} | | {m['baseline']['accuracy']:.4f} |")
        if "accuracy" in m.get("linear_model", {}):
            lines.append(
                f"| logistic regression on test | {m['test']['n']} | | "
                f"{m['linear_model']['accuracy']:.4f} |"
            )
    else:
        lines = ["| part | rows | MSE | MAE | R² |", "| --- | ---: | ---: | ---: | ---: |"]
        names["baseline"] = "baseline on test"
        names["linear_model"] = "linear regression on test"
        extra = [k for k in ("baseline", "linear_model") if "mse" in m.get(k, {})]
        for k in [*parts, *extra]:
            s = m[k]
            label = names[k]
            rows = m["test"]["n"] if k in extra else s["n"]
            lines.append(
                f"| {label} | {rows} | {_fmt(s['mse'])} | {_fmt(s['mae'])} | {_fmt(s['r2'], 3)} |"
            )
    return lines


def _verdict(run) -> list[str]:
    """Plain-language reading of the results table, from the numbers."""
    m = run.metrics
    train, test = m["train"], m["test"]
    if run.history.stop_reason == "diverged":
        return [
            "**Training diverged**, so these numbers come from the last finite weights and "
            "say little about the architecture: retrain with a smaller `--lr`."
        ]
    if run.task == "classification":
        gap = train["accuracy"] - test["accuracy"]
        beat = test["accuracy"] - m["baseline"]["accuracy"]
        text = (
            f"Test accuracy {test['accuracy']:.1%} against {m['baseline']['accuracy']:.1%} "
            f"for the baseline ({'+' if beat >= 0 else ''}{beat * 100:.1f} points). "
            f"Training accuracy {train['accuracy']:.1%}, a gap of {gap * 100:.1f} points"
        )
    else:
        gap_ratio = test["mse"] / train["mse"] if train["mse"] else float("inf")
        text = (
            f"Test R² {_fmt(test['r2'], 3)} (the baseline's is {_fmt(m['baseline']['r2'], 3)}); "
            f"test MSE {_fmt(test['mse'])} against {_fmt(m['baseline']['mse'])} for the "
            f"baseline. Test MSE is {gap_ratio:.2g}× the training MSE"
        )
        gap = gap_ratio - 1
    threshold = 0.05 if run.task == "classification" else 0.5
    if gap > threshold:
        text += (
            ": the model fits its training rows noticeably better than new ones (overfitting); "
            "`--l2`, `--patience` or fewer hidden units would narrow the gap."
        )
    else:
        text += ": no sign of strong overfitting."
    if run.task == "classification" and test["accuracy"] <= m["baseline"]["accuracy"]:
        text += " The model does not beat the baseline: it has not learned from the features."
    text += _against_linear(run)
    return [text]


def _against_linear(run) -> str:
    """One sentence: the network against the linear model on the same test rows."""
    m, test = run.metrics, run.metrics["test"]
    lin = m.get("linear_model", {})
    if run.task == "classification" and "accuracy" in lin:
        diff = (test["accuracy"] - lin["accuracy"]) * 100
        verdict = (
            "the hidden layers earned their keep"
            if diff > 1
            else "a linear model does as well here"
            if diff >= -1
            else "the linear model is better: the network needs other settings"
        )
        return (
            f" The logistic regression scores {lin['accuracy']:.1%} on the same test rows "
            f"({'+' if diff >= 0 else ''}{diff:.1f} points for the network): {verdict}."
        )
    if run.task == "regression" and lin.get("r2") is not None and test.get("r2") is not None:
        return (
            f" Least-squares linear regression reaches R² {_fmt(lin['r2'], 3)} on the same "
            f"test rows (the network {_fmt(test['r2'], 3)})."
        )
    return ""
