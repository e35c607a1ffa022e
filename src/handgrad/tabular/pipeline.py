"""``train_model``: one training configuration on a loaded table, from split to scores.

decide the task (given, the built-in's own, or inferred from the target)
encode the target: class labels -> 0..C-1 (kept as text); regression values -> floats
split the rows once, seeded: train / validation / test (stratified by class)
fit the preprocessing on the training rows only; encode all three parts
build hg.mlp([D, hidden..., outputs]) and train it with hg.fit (+ early stopping)
score every part, a baseline that ignores the features, and a linear model on the same split
write the run folder (``run_folder.write_run``) unless ``out_dir`` is None
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.preprocessing import Standardizer, train_test_split
from ..data.tabular import DataError, encode_labels, infer_task
from ..metrics import (
    accuracy,
    confusion_matrix,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
)
from ..nn.layers import count_parameters, mlp
from ..nn.losses import BCEWithLogitsLoss, L2Penalty, MSELoss, SoftmaxCrossEntropyLoss
from ..train import Callback, EarlyStopping, History, ModelCheckpoint, ProgressBar, fit
from .config import MAX_PARAMETERS, OPTIMIZERS, ConfigError, TrainConfig
from .dataset import Dataset
from .encode import TablePreprocessor
from .predictor import Predictor

__all__ = ["TrainRun", "train_model", "MAX_CLASSES"]

# A target with more classes than this (or than half its rows) is refused unless
# ``--task classification`` confirms it: it is usually a number or an identifier.
MAX_CLASSES = 100
PARTS = ("train", "val", "test")


@dataclass
class TrainRun:
    """What ``train_model`` produced: the numbers, the chosen settings and the files.

    split: rows per part; rows: each part's row numbers in the input file (0-based data rows);
    out_dir: the run folder, or None when nothing was written.
    """

    out_dir: Path | None
    task: str
    task_reason: str
    config: TrainConfig
    sizes: list[int]
    n_parameters: int
    split: dict[str, int]
    metrics: dict
    history: History
    classes: list[str] | None
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    input_names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    predictor: Predictor | None = None
    test_outputs: np.ndarray | None = None  # network outputs on the test part
    test_targets: np.ndarray | None = None  # codes or values of the test part
    checkpoint: Path | None = None  # the training state of an interrupted run (for --resume)

    @property
    def interrupted(self) -> bool:
        return self.history.stop_reason == "interrupted"

    @property
    def diverged(self) -> bool:
        return self.history.stop_reason == "diverged"


def train_model(
    dataset: Dataset,
    config: TrainConfig,
    out_dir: str | Path | None,
    *,
    progress: bool = False,
    compare_linear: bool = True,
    callbacks: Sequence[Callback] = (),
    resume: bool = False,
) -> TrainRun:
    """Train one configuration on ``dataset`` (module docstring) -> TrainRun.

    ``out_dir``: the run folder to write (whole or not at all, see ``run_folder``); None
    writes nothing. ``compare_linear``: also fit scikit-learn's logistic / linear regression
    on the same split (for the report). ``callbacks``: more ``handgrad.train`` callbacks for
    ``fit``. ``resume``: continue the interrupted run in ``out_dir`` from its
    ``checkpoint.npz`` (same data and settings), ending as if it had never stopped. Every
    check on the data and the configuration runs before training starts.
    """
    from .run_folder import check_target, checkpoint_to_resume, write_run

    config.validate()
    checkpoint, resume_from = None, None
    if out_dir is not None:
        check_target(Path(out_dir))
        checkpoint = Path(out_dir).parent / f".{Path(out_dir).name}.checkpoint.npz"
        if resume:
            resume_from = checkpoint_to_resume(Path(out_dir), config)
    elif resume:
        raise ConfigError("resuming needs the run folder of the interrupted run")
    task, reason = _decide_task(dataset, config.task)
    keep, notes = _rows_to_use(dataset, config)
    labels = [dataset.target[i] for i in keep]
    classes = None
    if task == "classification":
        y, classes = encode_labels(labels, dataset.target_name)
        _check_class_count(dataset, classes, len(keep), config.task)
    else:
        y = _regression_target(labels, dataset.target_name)
    frame = dataset.frame.iloc[keep].reset_index(drop=True)
    file_rows = dataset.rows[keep] if len(dataset.rows) else keep

    rng = np.random.default_rng(config.seed)
    parts = _split(len(y), y if classes else None, config, rng, dataset.source)
    preprocessor = TablePreprocessor.fit(
        frame.iloc[parts["train"]],
        dataset.kinds,
        impute=config.impute,
        missing_indicator=config.missing_indicator,
        rare_min=config.rare_min,
    )
    encoded, _ = preprocessor.transform(frame, dataset.source)
    X = {k: encoded[idx] for k, idx in parts.items()}
    Y = {k: y[idx] for k, idx in parts.items()}
    target_scaler = None
    Y_fit = Y
    if task == "regression":  # train on a standardized target: the loss scale is ~1
        target_scaler = Standardizer().fit(Y["train"].reshape(-1, 1))
        Y_fit = {k: target_scaler.transform(v.reshape(-1, 1)).ravel() for k, v in Y.items()}

    assert classes is not None or task == "regression"
    n_out = 1 if classes is None or len(classes) == 2 else len(classes)
    sizes = [encoded.shape[1], *config.hidden, n_out]
    if count_parameters(sizes) > MAX_PARAMETERS:
        raise ConfigError(
            f"a {'-'.join(map(str, sizes))} network has {count_parameters(sizes):,} parameters; "
            f"the limit is {MAX_PARAMETERS:,} (use smaller --hidden widths)"
        )
    model = mlp(sizes, config.activation, seed=config.seed)
    loss = _loss_for(classes)
    extra = list(callbacks)
    if checkpoint is not None:  # the state at Ctrl-C, for --resume (no periodic saves)
        extra.append(ModelCheckpoint(checkpoint, every=config.epochs + 1, latest_only=True))
    try:
        history = _fit(model, loss, config, X, Y_fit, rng, task, progress, extra, resume_from)
    except ValueError as exc:
        if resume_from is None:
            raise
        raise ConfigError(f"cannot resume: {exc}") from None

    predictor = Predictor(model, task, preprocessor, classes, dataset.target_name, target_scaler)
    metrics: dict = {
        k: _evaluate(predictor, loss, X[k], Y[k], Y_fit[k]) for k in PARTS if len(parts[k])
    }
    metrics["baseline"] = _baseline(task, Y["train"], Y["test"], classes)
    if compare_linear:
        metrics["linear_model"] = _linear_reference(
            task, X["train"], Y["train"], X["test"], Y["test"]
        )
    metrics["target"] = _target_summary(y, classes)
    metrics["epochs_run"] = history.epochs
    metrics["stop_reason"] = history.stop_reason
    if history.val_loss:
        metrics["best_val_epoch"] = int(np.argmin(history.val_loss)) + 1

    run = TrainRun(
        out_dir=Path(out_dir) if out_dir is not None else None,
        task=task,
        task_reason=reason,
        config=config,
        sizes=sizes,
        n_parameters=model.num_parameters(),
        split={k: len(v) for k, v in parts.items()},
        metrics=metrics,
        history=history,
        classes=classes,
        rows={k: file_rows[idx] for k, idx in parts.items()},
        input_names=preprocessor.output_names,
        notes=dataset.notes + notes,
        predictor=predictor,
        test_outputs=predictor.outputs(X["test"]),
        test_targets=Y["test"],
        checkpoint=checkpoint if checkpoint is not None and checkpoint.exists() else None,
    )
    if out_dir is not None:
        try:
            write_run(run, dataset)
        finally:
            if checkpoint is not None:
                checkpoint.unlink(missing_ok=True)
    return run


# --- the target and the rows -------------------------------------------------------------------


def _decide_task(dataset: Dataset, requested: str | None) -> tuple[str, str]:
    if requested is not None:
        return requested, "given with --task"
    if dataset.task_hint is not None:
        return dataset.task_hint, f"the task of the {dataset.source}"
    task, why = infer_task(dataset.target)
    return task, f"inferred: {why}; --task overrides"


def _check_class_count(dataset: Dataset, classes: list[str], n_rows: int, requested) -> None:
    limit = min(MAX_CLASSES, max(2, n_rows // 2))
    if len(classes) > limit and requested != "classification":
        raise DataError(
            f"target column {dataset.target_name!r} has {len(classes)} distinct values for "
            f"{n_rows} rows, too many to be classes; pass --task regression if it is a "
            "quantity, or --task classification to confirm"
        )


def _rows_to_use(dataset: Dataset, config: TrainConfig) -> tuple[np.ndarray, list[str]]:
    """Positions (in ``dataset``) of the rows to train on: all, or with --drop-missing only
    those without a missing feature."""
    everything = np.arange(dataset.n_rows)
    if not config.drop_missing:
        return everything, []
    complete = dataset.frame.notna().all(axis=1).to_numpy()
    dropped = int((~complete).sum())
    if complete.sum() == 0:
        raise DataError(
            f"{dataset.source}: every row has a missing value; --drop-missing leaves none"
        )
    return everything[complete], [f"--drop-missing left out {dropped} row(s) with a missing value"]


def _regression_target(cells: list[str], column: str) -> np.ndarray:
    values = np.empty(len(cells), dtype=np.float64)
    bad = []
    for i, cell in enumerate(cells):
        try:
            values[i] = float(cell)
        except ValueError:
            values[i] = np.nan
        if not np.isfinite(values[i]):
            bad.append(i)
    if bad:
        raise DataError(
            f"target column {column!r} needs numbers for regression; {len(bad)} row(s) hold "
            f"other values (first: {cells[bad[0]]!r})"
        )
    if np.ptp(values) == 0:
        raise DataError(
            f"target column {column!r} has a single value ({cells[0]}); nothing to learn"
        )
    return values


def _split(n: int, labels, config: TrainConfig, rng, source: str) -> dict[str, np.ndarray]:
    """Row positions of the train / val / test parts (fractions of all N rows), stratified."""
    idx = np.arange(n)
    strat = labels is not None
    key = labels if strat else idx
    shares = (
        f"{1 - config.val_fraction - config.test_fraction:.2g} / {config.val_fraction:.2g} / "
        f"{config.test_fraction:.2g}"
    )
    too_few = DataError(
        f"{source}: {n} usable row(s) are too few for a train / validation / test split of "
        f"{shares}: every part needs at least one row (use more rows, or change "
        "--val-fraction / --test-fraction)"
    )
    try:
        rest, test, _, _ = train_test_split(idx, key, config.test_fraction, rng=rng, stratify=strat)
        val = np.empty(0, dtype=idx.dtype)
        train = rest
        if config.val_fraction > 0:
            share = config.val_fraction / (1.0 - config.test_fraction)
            train, val, _, _ = train_test_split(rest, key[rest], share, rng=rng, stratify=strat)
    except ValueError:
        raise too_few from None
    if len(train) < 2 or (config.val_fraction > 0 and len(val) == 0):
        raise too_few
    return {"train": train, "val": val, "test": test}


# --- training -------------------------------------------------------------------------------


def _loss_for(classes: list[str] | None):
    if classes is None:
        return MSELoss()
    return BCEWithLogitsLoss() if len(classes) == 2 else SoftmaxCrossEntropyLoss()


def _fit(
    model, loss, config: TrainConfig, X, Y_fit, rng, task: str, progress: bool, extra, resume_from
) -> History:
    opt_cls = OPTIMIZERS[config.optimizer].cls
    opt_args = {"momentum": config.momentum} if config.optimizer == "sgd" else {}
    optimizer = opt_cls(model.parameters(), lr=config.learning_rate, **opt_args)
    callbacks: list = list(extra)
    if config.patience is not None:
        callbacks.append(EarlyStopping("val_loss", patience=config.patience))
    if progress:  # in place on a terminal, a line per epoch when piped
        callbacks.append(ProgressBar(sys.stderr))
    validation = (X["val"], Y_fit["val"]) if len(X["val"]) else None
    with warnings.catch_warnings():  # divergence is reported through history.message
        warnings.simplefilter("ignore", RuntimeWarning)
        return fit(
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
            resume_from=resume_from,
        )


# --- scores ---------------------------------------------------------------------------------


def _finite(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def _evaluate(predictor: Predictor, loss, X: np.ndarray, y: np.ndarray, y_fit) -> dict:
    """Loss (the training objective) and the task's scores on one part (X encoded).

    A diverged model whose outputs are not finite gets None for those numbers (JSON has no
    NaN); its accuracy counts every row as wrong.
    """
    outputs = predictor.outputs(X)
    finite = bool(np.isfinite(outputs).all())
    with np.errstate(over="ignore", invalid="ignore"):
        result: dict = {
            "n": int(len(y)),
            "loss": _finite(loss.forward(outputs, y_fit)) if finite else None,
        }
        if predictor.task == "classification":
            assert predictor.classes is not None
            codes = predictor.codes_from_outputs(outputs)
            if not finite:
                codes = np.where(np.isfinite(outputs).all(axis=1), codes, -1)
            result["accuracy"] = accuracy(y, codes)
            result["confusion"] = confusion_matrix(
                y[codes >= 0], codes[codes >= 0], len(predictor.classes)
            ).tolist()
        else:
            result.update(_regression_scores(y, predictor.values_from_outputs(outputs)))
    return result


def _regression_scores(y: np.ndarray, pred: np.ndarray) -> dict:
    """MSE, MAE and R² (None where a value is not finite)."""
    if not np.isfinite(pred).all():
        return {"mse": None, "mae": None, "r2": None}
    with np.errstate(over="ignore", invalid="ignore"):
        return {
            "mse": _finite(mean_squared_error(y, pred)),
            "mae": _finite(mean_absolute_error(y, pred)),
            "r2": _finite(r2_score(y, pred)),
        }


def _baseline(task: str, y_train: np.ndarray, y_test: np.ndarray, classes) -> dict:
    """What a model that ignores the features scores on the test part."""
    if classes is not None:
        majority = int(np.bincount(y_train, minlength=len(classes)).argmax())
        return {
            "rule": f"always predict the most common training class ({classes[majority]!r})",
            "accuracy": accuracy(y_test, np.full(len(y_test), majority)),
        }
    scores = _regression_scores(y_test, np.full(len(y_test), y_train.mean()))
    return {"rule": "always predict the training mean", **scores}


def _linear_reference(task: str, X_train, y_train, X_test, y_test) -> dict:
    """scikit-learn's logistic regression (classification) or least squares (regression),
    fitted on the same encoded training rows and scored on the same test rows."""
    from sklearn.linear_model import LinearRegression, LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the score says enough
        if task == "classification":
            if len(np.unique(y_train)) < 2:
                return {"rule": "logistic regression: not fitted (one class in training)"}
            model = LogisticRegression(max_iter=2000).fit(X_train, y_train)
            return {
                "rule": "scikit-learn LogisticRegression (L2, C=1) on the same encoded features",
                "accuracy": accuracy(y_test, model.predict(X_test)),
            }
        model = LinearRegression().fit(X_train, y_train)
        return {
            "rule": "scikit-learn LinearRegression (least squares) on the same encoded features",
            **_regression_scores(y_test, model.predict(X_test)),
        }


def _target_summary(y: np.ndarray, classes: list[str] | None) -> dict:
    """Rows per class, or the range, mean and spread of a regression target (all rows)."""
    if classes:
        return {"counts": np.bincount(y, minlength=len(classes)).tolist()}
    return {"min": y.min(), "max": y.max(), "mean": y.mean(), "std": y.std()}
