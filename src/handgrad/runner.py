"""Train your own network on a table (seed 001, Stage 7): the pipeline behind ``handgrad train``.

    load the table (a CSV file or a built-in set)  ->  features X (N, D), raw target
    decide the task (given, the built-in's own, or inferred from the target)
    encode the target: class labels -> 0..C-1 (kept as text); regression values -> floats
    split the rows once, seeded: train / validation / test (stratified by class)
    fit a Standardizer on the training rows only; apply it to all three parts
    build hg.mlp([D, hidden..., outputs]) and train it with hg.fit (+ early stopping)
    evaluate on every part; write config.json, metrics.json, plots, model.npz, report.md

``Predictor`` is the way back: it reads model.npz with the preprocessing stored in its
metadata and turns raw feature rows into labels (and class probabilities) or values.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .data.preprocessing import Standardizer, train_test_split
from .data.tabular import DataError, Table, encode_labels, format_number, infer_task, read_csv
from .io import atomic_write, write_json
from .metrics import confusion_matrix, probabilities
from .nn.layers import ACTIVATIONS, Sequential, mlp
from .nn.losses import BCEWithLogitsLoss, L2Penalty, MSELoss, SoftmaxCrossEntropyLoss
from .nn.optim import SGD, Adam, RMSProp
from .nn.serialization import load_with_metadata, save
from .train import EarlyStopping, History, ProgressBar, fit, predict_outputs

__all__ = [
    "ConfigError",
    "TrainConfig",
    "Dataset",
    "TrainRun",
    "Predictor",
    "load_dataset",
    "train_model",
    "OPTIMIZERS",
    "MODEL_KIND",
]

MODEL_KIND = "handgrad-train"  # metadata marker: a model written by ``handgrad train``

# optimizer name -> (class, default learning rate for standardized tabular data)
OPTIMIZERS = {"sgd": (SGD, 0.05), "adam": (Adam, 0.003), "rmsprop": (RMSProp, 0.003)}


class ConfigError(ValueError):
    """An impossible training configuration (bad fraction, unknown optimizer, ...)."""


@dataclass
class TrainConfig:
    """Every choice ``handgrad train`` makes; ``lr=None`` means the optimizer's default."""

    hidden: tuple[int, ...] = (64, 32)
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float | None = None
    momentum: float = 0.0
    epochs: int = 100
    batch_size: int = 32
    l2: float = 0.0
    patience: int | None = None
    seed: int = 0
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    task: str | None = None

    def validate(self) -> None:
        """Raise ConfigError naming the first impossible value."""
        if any(h < 1 for h in self.hidden):
            raise ConfigError(f"--hidden sizes must be positive integers, got {self.hidden}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(
                f"unknown activation {self.activation!r}; choose from {', '.join(ACTIVATIONS)}"
            )
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"unknown optimizer {self.optimizer!r}; choose from {', '.join(OPTIMIZERS)}"
            )
        if self.lr is not None and not (np.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"--lr must be a positive number, got {self.lr}")
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError(f"--momentum must be in [0, 1), got {self.momentum}")
        if self.momentum and self.optimizer != "sgd":
            raise ConfigError("--momentum applies to --optimizer sgd only")
        if self.epochs < 1:
            raise ConfigError(f"--epochs must be at least 1, got {self.epochs}")
        if self.batch_size < 1:
            raise ConfigError(f"--batch-size must be at least 1, got {self.batch_size}")
        if not (np.isfinite(self.l2) and self.l2 >= 0):
            raise ConfigError(f"--l2 must be a number >= 0, got {self.l2}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(f"--test-fraction must be in (0, 1), got {self.test_fraction}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError(f"--val-fraction must be in [0, 1), got {self.val_fraction}")
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ConfigError(
                f"--val-fraction {self.val_fraction} + --test-fraction {self.test_fraction} "
                "leave no rows for training"
            )
        if self.patience is not None:
            if self.patience < 1:
                raise ConfigError(f"--patience must be at least 1, got {self.patience}")
            if self.val_fraction == 0:
                raise ConfigError("--patience needs a validation split (--val-fraction > 0)")
        if self.task not in (None, "classification", "regression"):
            raise ConfigError(f"--task must be classification or regression, got {self.task!r}")

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else OPTIMIZERS[self.optimizer][1]


# --- data -----------------------------------------------------------------------------------


@dataclass
class Dataset:
    """Features X (N, D) float64, the raw target as text (N cells), and where they came from."""

    X: np.ndarray
    target: list[str]
    feature_names: list[str]
    target_name: str
    source: str
    task_hint: str | None = None  # a built-in set knows its task
    lines: list[int] | None = None  # line of each row in the file, for error messages


def load_dataset(
    data: str, target: str | None = None, features: list[str] | None = None
) -> Dataset:
    """A CSV file (``target`` names its target column) or a built-in set by name.

    ``features``: the feature columns to use (default: every column but the target).
    A name that is not an existing file but is a built-in set (digits, breast_cancer,
    diabetes, iris, wine) loads that set.
    """
    from .data.datasets import BUILTIN, load_builtin

    path = Path(data)
    if not path.exists() and data in BUILTIN:
        if target is not None or features is not None:
            raise ConfigError(
                f"--target and --features are for CSV files; the built-in {data!r} "
                "has its own target and features"
            )
        X, y, names, task = load_builtin(data)
        cells = [format_number(v) for v in y]
        return Dataset(X, cells, list(names), "target", f"built-in data set {data!r}", task)
    if not path.exists() and path.suffix.lower() != ".csv":
        raise DataError(f"data file not found: {data} (built-in sets: {', '.join(BUILTIN)})")
    if target is None:
        raise ConfigError("--target COLUMN is required with a CSV file")
    table = read_csv(path)
    return _dataset_from_table(table, target, features)


def _dataset_from_table(table: Table, target: str, features: list[str] | None) -> Dataset:
    table.index(target)
    if features is None:
        features = [c for c in table.columns if c != target]
    else:
        for name in features:
            table.index(name)
        if target in features:
            raise ConfigError(f"the target column {target!r} cannot also be a feature")
    if not features:
        raise DataError(f"{table.path}: no feature columns besides the target {target!r}")
    X, target_cells = table.numbers(features), table.text(target)
    return Dataset(X, target_cells, features, target, str(table.path), lines=table.lines)


def _regression_target(cells: list[str], column: str, lines: list[int] | None) -> np.ndarray:
    values = np.empty(len(cells), dtype=np.float64)
    for i, cell in enumerate(cells):
        try:
            values[i] = float(cell)
        except ValueError:
            values[i] = np.nan
        if not np.isfinite(values[i]):
            where = f"line {lines[i]}" if lines else f"data row {i + 1}"
            raise DataError(
                f"target column {column!r} needs numbers for regression; {where} holds {cell!r}"
            )
    if np.ptp(values) == 0:
        raise DataError(
            f"target column {column!r} has a single value ({cells[0]}); nothing to learn"
        )
    return values


# --- the run --------------------------------------------------------------------------------


@dataclass
class TrainRun:
    """What ``train_model`` produced: the numbers, the chosen settings and the files."""

    out_dir: Path
    task: str
    task_reason: str
    config: TrainConfig
    sizes: list[int]
    n_parameters: int
    split: dict[str, int]
    metrics: dict
    history: History
    classes: list[str] | None
    files: list[str] = field(default_factory=list)


def train_model(
    dataset: Dataset, config: TrainConfig, out_dir: str | Path, *, progress: bool = False
) -> TrainRun:
    """Run the whole pipeline (module docstring) and write the run folder ``out_dir``."""
    config.validate()
    task, reason = _decide_task(dataset, config.task)
    classes = None
    if task == "classification":
        y, classes = encode_labels(dataset.target, dataset.target_name, dataset.lines)
    else:
        y = _regression_target(dataset.target, dataset.target_name, dataset.lines)

    rng = np.random.default_rng(config.seed)
    parts = _split(len(y), y if classes else None, config, rng)
    scaler = Standardizer().fit(dataset.X[parts["train"]])
    X = {k: scaler.transform(dataset.X[idx]) for k, idx in parts.items()}
    Y = {k: y[idx] for k, idx in parts.items()}
    target_scaler = None
    if task == "regression":  # train on a standardized target: the loss scale is ~1
        target_scaler = Standardizer().fit(Y["train"].reshape(-1, 1))
        Y_fit = {k: target_scaler.transform(v.reshape(-1, 1)).ravel() for k, v in Y.items()}
    else:
        Y_fit = Y

    n_out = 1 if task == "regression" or len(classes) == 2 else len(classes)
    sizes = [dataset.X.shape[1], *config.hidden, n_out]
    model = mlp(sizes, config.activation, seed=config.seed)
    loss = _loss_for(task, classes)
    opt_cls = OPTIMIZERS[config.optimizer][0]
    opt_args = {"momentum": config.momentum} if config.optimizer == "sgd" else {}
    optimizer = opt_cls(model.parameters(), lr=config.learning_rate, **opt_args)
    callbacks = []
    if config.patience is not None:
        callbacks.append(EarlyStopping("val_loss", patience=config.patience))
    if progress:
        callbacks.append(ProgressBar(sys.stderr))
    validation = (X["val"], Y_fit["val"]) if len(parts["val"]) else None
    with warnings.catch_warnings():  # divergence is reported through history.message
        warnings.simplefilter("ignore", RuntimeWarning)
        history = fit(
            model,
            loss,
            optimizer,
            X["train"],
            Y_fit["train"],
            epochs=config.epochs,
            batch_size=config.batch_size,
            rng=rng,
            validation_data=validation,
            metrics=["accuracy"] if task == "classification" else ["mse"],
            l2=L2Penalty(config.l2) if config.l2 > 0 else None,
            callbacks=callbacks,
        )

    predictor = Predictor(
        model, task, dataset.feature_names, scaler, classes, dataset.target_name, target_scaler
    )
    metrics = {k: _evaluate(predictor, loss, X[k], Y[k], Y_fit[k]) for k in parts if len(parts[k])}
    metrics["baseline"] = _baseline(task, Y["train"], Y["test"], classes)
    metrics["target"] = _target_summary(y, classes)
    metrics["epochs_run"] = history.epochs
    metrics["stop_reason"] = history.stop_reason
    if history.val_loss:
        metrics["best_val_epoch"] = int(np.argmin(history.val_loss)) + 1

    run = TrainRun(
        out_dir=Path(out_dir),
        task=task,
        task_reason=reason,
        config=config,
        sizes=sizes,
        n_parameters=model.num_parameters(),
        split={k: len(v) for k, v in parts.items()},
        metrics=metrics,
        history=history,
        classes=classes,
    )
    _write_run(run, dataset, predictor, X["test"], Y["test"])
    return run


def _target_summary(y: np.ndarray, classes: list[str] | None) -> dict:
    """Rows per class, or the range, mean and spread of a regression target (all rows)."""
    if classes:
        return {"counts": np.bincount(y, minlength=len(classes)).tolist()}
    return {"min": y.min(), "max": y.max(), "mean": y.mean(), "std": y.std()}


def _decide_task(dataset: Dataset, requested: str | None) -> tuple[str, str]:
    if requested is not None:
        return requested, "given with --task"
    if dataset.task_hint is not None:
        return dataset.task_hint, f"the task of the {dataset.source}"
    task, why = infer_task(dataset.target)
    return task, f"inferred: {why}; --task overrides"


def _split(n: int, labels: np.ndarray | None, config: TrainConfig, rng) -> dict[str, np.ndarray]:
    """Row indices of the train / val / test parts (fractions of all N rows), stratified."""
    idx = np.arange(n)
    strat = labels is not None
    key = labels if strat else idx
    try:
        rest, test, _, _ = train_test_split(idx, key, config.test_fraction, rng=rng, stratify=strat)
        val = np.empty(0, dtype=idx.dtype)
        if config.val_fraction > 0:
            share = config.val_fraction / (1.0 - config.test_fraction)
            sub = key[rest]
            train, val, _, _ = train_test_split(rest, sub, share, rng=rng, stratify=strat)
        else:
            train = rest
    except ValueError as exc:
        raise ConfigError(f"cannot split {n} rows: {exc}") from None
    if len(train) == 0:
        raise ConfigError(f"cannot split {n} rows: no rows left for training")
    return {"train": train, "val": val, "test": test}


def _loss_for(task: str, classes: list[str] | None):
    if task == "regression":
        return MSELoss()
    return BCEWithLogitsLoss() if len(classes) == 2 else SoftmaxCrossEntropyLoss()


def _evaluate(predictor: Predictor, loss, X: np.ndarray, y: np.ndarray, y_fit) -> dict:
    """Loss (the training objective) and the task's scores on one part (X standardized).

    A model whose outputs overflow (a diverged run) gets None for the numbers that are not
    finite; JSON has no NaN or infinity.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        outputs = predict_outputs(predictor.model, X)
        finite = bool(np.isfinite(outputs).all())
        result = {
            "n": int(len(y)),
            "loss": _finite(loss.forward(outputs, y_fit) if finite else None),
        }
        if predictor.task == "classification":
            codes = predictor.codes_from_outputs(outputs)
            result["accuracy"] = float(np.mean(codes == y))
            result["confusion"] = confusion_matrix(y, codes, len(predictor.classes)).tolist()
        else:
            pred = predictor.values_from_outputs(outputs)
            result.update(_regression_scores(y, pred))
    return result


def _finite(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def _regression_scores(y: np.ndarray, pred: np.ndarray) -> dict:
    """MSE, MAE and R² = 1 - SSE / SST (None where SST is 0 or a value is not finite)."""
    with np.errstate(over="ignore", invalid="ignore"):
        err = pred - y
        sse = float(np.sum(err**2))
        sst = float(np.sum((y - y.mean()) ** 2))
        r2 = 1.0 - sse / sst if sst > 0 else None
        return {
            "mse": _finite(sse / len(y)),
            "mae": _finite(np.mean(np.abs(err))),
            "r2": _finite(r2),
        }


def _baseline(task: str, y_train: np.ndarray, y_test: np.ndarray, classes) -> dict:
    """What a model that ignores the features scores on the test part."""
    if task == "classification":
        majority = int(np.bincount(y_train, minlength=len(classes)).argmax())
        return {
            "rule": f"always predict the most common training class ({classes[majority]!r})",
            "accuracy": float(np.mean(y_test == majority)),
        }
    scores = _regression_scores(y_test, np.full(len(y_test), y_train.mean()))
    return {"rule": "always predict the training mean", **scores}


# --- prediction -----------------------------------------------------------------------------


class Predictor:
    """A trained model with its preprocessing: raw feature rows -> labels or values.

    model: outputs logits (N, C), (N, 1) for two classes, or (N, 1) standardized values.
    """

    def __init__(
        self,
        model: Sequential,
        task: str,
        feature_names: list[str],
        scaler: Standardizer,
        classes: list[str] | None = None,
        target_name: str = "target",
        target_scaler: Standardizer | None = None,
    ):
        self.model, self.task, self.feature_names = model, task, list(feature_names)
        self.scaler, self.classes, self.target_name = scaler, classes, target_name
        self.target_scaler = target_scaler

    def metadata(self) -> dict:
        """The JSON-ready preprocessing stored beside the weights in model.npz."""
        meta = {
            "kind": MODEL_KIND,
            "task": self.task,
            "feature_names": self.feature_names,
            "target": self.target_name,
            "standardizer": self.scaler.to_dict(),
        }
        if self.task == "classification":
            meta["classes"] = self.classes
            meta["output"] = "sigmoid" if len(self.classes) == 2 else "softmax"
        else:
            meta["target_standardizer"] = self.target_scaler.to_dict()
            meta["output"] = "identity"
        return meta

    def save(self, path: str | Path) -> Path:
        return save(self.model, path, metadata=self.metadata())

    @classmethod
    def load(cls, path: str | Path) -> Predictor:
        """Read a model.npz written by ``handgrad train``; DataError for anything else."""
        path = Path(path)
        if not path.exists():
            raise DataError(f"model file not found: {path}")
        if path.is_dir():
            raise DataError(f"{path} is a directory, not a model file")
        try:
            model, meta = load_with_metadata(path)
        except ValueError as exc:
            raise DataError(f"{exc}") from None
        if not isinstance(meta, dict) or meta.get("kind") != MODEL_KIND:
            raise DataError(
                f"{path} is a handgrad model without preprocessing metadata "
                "(it was not written by `handgrad train`)"
            )
        try:
            task = meta["task"]
            scaler = Standardizer.from_dict(meta["standardizer"])
            target_scaler = None
            if task == "regression":
                target_scaler = Standardizer.from_dict(meta["target_standardizer"])
            predictor = cls(
                model,
                task,
                [str(n) for n in meta["feature_names"]],
                scaler,
                meta.get("classes"),
                str(meta.get("target", "target")),
                target_scaler,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}: damaged preprocessing metadata ({exc!r})") from None
        if model.in_features != len(predictor.feature_names) or scaler.mean_.shape != (
            len(predictor.feature_names),
        ):
            raise DataError(f"{path}: the model and its feature list disagree in width")
        return predictor

    def features_from(self, table: Table) -> np.ndarray:
        """The model's feature columns of ``table``, by name, as raw numbers (N, D)."""
        missing = [n for n in self.feature_names if n not in table.columns]
        if missing:
            shown = ", ".join(repr(n) for n in missing[:8])
            more = f" ({len(missing)} in all)" if len(missing) > 8 else ""
            raise DataError(f"{table.path} lacks the model's feature column(s) {shown}{more}")
        return table.numbers(self.feature_names)

    def outputs(self, X_raw: np.ndarray) -> np.ndarray:
        return predict_outputs(self.model, self.scaler.transform(X_raw))

    def codes_from_outputs(self, outputs: np.ndarray) -> np.ndarray:
        if outputs.shape[1] == 1:
            return (outputs[:, 0] > 0).astype(np.int64)  # sigmoid(z) > 1/2
        return np.argmax(outputs, axis=1)

    def probabilities_from_outputs(self, outputs: np.ndarray) -> np.ndarray:
        """(N, C) class probabilities (see ``handgrad.metrics.probabilities``)."""
        return probabilities(outputs)

    def values_from_outputs(self, outputs: np.ndarray) -> np.ndarray:
        return self.target_scaler.inverse_transform(outputs).ravel()

    def predict(self, X_raw: np.ndarray) -> tuple[list[str] | np.ndarray, np.ndarray | None]:
        """-> (labels as text, probabilities (N, C)) or (values (N,), None)."""
        outputs = self.outputs(X_raw)
        if self.task == "classification":
            codes = self.codes_from_outputs(outputs)
            return [self.classes[c] for c in codes], self.probabilities_from_outputs(outputs)
        return self.values_from_outputs(outputs), None


# --- the run folder -------------------------------------------------------------------------


def _write_run(run: TrainRun, dataset: Dataset, predictor: Predictor, X_test, y_test) -> None:
    out = run.out_dir
    out.mkdir(parents=True, exist_ok=True)
    config = {
        **asdict(run.config),
        "learning_rate": run.config.learning_rate,
        "data": dataset.source,
        "target": dataset.target_name,
        "features": dataset.feature_names,
        "task": run.task,
        "task_reason": run.task_reason,
        "layer_sizes": run.sizes,
        "n_parameters": run.n_parameters,
        "split": run.split,
        "classes": run.classes,
    }
    write_json(out / "config.json", config)
    write_json(out / "metrics.json", {**run.metrics, "history": run.history.as_dict()})
    predictor.save(out / "model.npz")
    figures = _plot_run(run, predictor, X_test, y_test)
    from .report import markdown_to_html_document  # the same converter as the tour

    text = train_report(run, dataset, figures)
    atomic_write(out / "report.md", lambda fh: fh.write(text.encode()))
    html = markdown_to_html_document(text, title="handgrad train report", base_dir=out)
    atomic_write(out / "report.html", lambda fh: fh.write(html.encode()))
    run.files = [
        "config.json",
        "metrics.json",
        "model.npz",
        *[name for name, _ in figures],
        "report.md",
        "report.html",
    ]


def _plot_run(run: TrainRun, predictor: Predictor, X_test, y_test) -> list[tuple[str, str]]:
    """Loss curves, the score curves, and the test-set picture -> [(file name, caption)]."""
    from . import plots

    h, out = run.history, run.out_dir
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

    outputs = predict_outputs(predictor.model, X_test)
    fig, ax = plots.new_figure(size=(5.5, 4.5))
    if run.task == "classification":
        matrix = confusion_matrix(y_test, predictor.codes_from_outputs(outputs), len(run.classes))
        plots.plot_confusion(ax, matrix, title="Confusion matrix, test part", labels=run.classes)
        plots.save_figure(fig, out / "confusion.png")
        figures.append(("confusion.png", "Test part: true class (rows) against predicted."))
    else:
        with np.errstate(over="ignore", invalid="ignore"):
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


# --- report.md: Stage 7's questions, answered from the numbers -----------------------------


def _fmt(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}g}"


def train_report(run: TrainRun, dataset: Dataset, figures: list[tuple[str, str]]) -> str:
    """The run's report in Markdown: data, choices, architecture, split, evaluation, results."""
    c, m, n = run.config, run.metrics, sum(run.split.values())
    lines = ["# Train your own network (seed 001, Stage 7)", ""]
    lines += [
        "## The data",
        "",
        f"- Source: `{dataset.source}`, {n} rows, {len(dataset.feature_names)} feature columns, "
        f"target `{dataset.target_name}`.",
        f"- Task: **{run.task}** ({run.task_reason}).",
    ]
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
    lines += ["", "## Hyperparameters and how they were chosen", ""]
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
        is_default = getattr(c, key) == getattr(defaults, key)
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
        f"{c.val_fraction:.2g} / {c.test_fraction:.2g} of all rows). The feature standardizer "
        "(mean and standard deviation per column) was fitted on the training rows only and "
        "applied unchanged to the other parts and, through the model file, at prediction time.",
    ]
    if run.task == "regression":
        lines.append(
            "The target was standardized the same way for training; every score below is "
            "in the target's own units."
        )
    lines += ["", "## How the model was evaluated", ""]
    if run.task == "classification":
        lines.append(
            "Accuracy (share of rows whose most probable class is the true one) and the mean "
            "cross-entropy loss on each part; the confusion matrix of the test part; and a "
            "baseline that ignores the features: "
            f"{m['baseline']['rule']}."
        )
    else:
        lines.append(
            "Mean squared error, mean absolute error and R² (1 - residual sum of squares / "
            "total sum of squares around that part's mean) on each part, and a baseline that "
            f"ignores the features: {m['baseline']['rule']}."
        )
    lines += ["", "## Training and test results", ""]
    lines += _results_table(run)
    lines += ["", *_verdict(run), ""]
    lines += ["## Figures", ""]
    for i, (name, caption) in enumerate(figures, 1):
        lines += [f"![{caption}]({name})", "", f"*Figure {i}: {caption}*", ""]
    lines += [
        "## Using the model",
        "",
        "```",
        f"handgrad predict --model {run.out_dir / 'model.npz'} --data NEW_ROWS.csv",
        "```",
        "",
        "The CSV needs the feature columns by name: "
        + ", ".join(f"`{x}`" for x in dataset.feature_names[:12])
        + (f" ... ({len(dataset.feature_names)} in all)" if len(dataset.feature_names) > 12 else "")
        + ".",
        "",
    ]
    return "\n".join(lines)


def _training_observations(run: TrainRun) -> list[str]:
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


def _results_table(run: TrainRun) -> list[str]:
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
    else:
        lines = ["| part | rows | MSE | MAE | R² |", "| --- | ---: | ---: | ---: | ---: |"]
        for k in [*parts, "baseline"]:
            s = m[k]
            label = "baseline on test" if k == "baseline" else names[k]
            rows = m["test"]["n"] if k == "baseline" else s["n"]
            lines.append(
                f"| {label} | {rows} | {_fmt(s['mse'])} | {_fmt(s['mae'])} | {_fmt(s['r2'], 3)} |"
            )
    return lines


def _verdict(run: TrainRun) -> list[str]:
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
    return [text]
