"""Commands for your own data (the course's last chapter): ``train`` and ``predict``."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import numpy as np

from ..tabular.config import DEFAULT_PATIENCE
from ._common import NON_NEGATIVE_INT, DefaultsShown, UsageError, train_option


def _hidden_sizes(text: str) -> tuple[int, ...]:
    """'64,32' -> (64, 32); '' or 'none' -> () (no hidden layer: a linear model)."""
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(
            f"--hidden takes comma-separated layer widths like 64,32; got {text!r}"
        ) from None
    return sizes  # each width is checked by TrainConfig


def _names(text: str | None) -> list[str] | None:
    """'a, b,c' -> ['a', 'b', 'c']; None stays None."""
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


def cmd_train(args: argparse.Namespace) -> int:
    """Train a network on a table file or built-in set and write a run folder."""
    from ..tabular import RunFolderError, TrainConfig
    from ..tabular.run_folder import InterruptedAfterWriting

    config = TrainConfig(
        hidden=_hidden_sizes(args.hidden),
        activation=args.activation,
        optimizer=args.optimizer,
        lr=args.lr,
        momentum=args.momentum,
        epochs=args.epochs,
        batch_size=args.batch_size,
        l2=args.l2,
        patience=_patience(args.patience, args.val_fraction),
        seed=args.seed,
        val_fraction=args.val_fraction,
        test_fraction=args.test_fraction,
        task=args.task,
        impute=args.impute,
        missing_indicator=args.missing_indicator,
        rare_min=args.rare,
        drop_missing=args.drop_missing,
    )
    config.validate()
    out = Path(args.out) if args.out else Path("runs") / f"train-{Path(args.data).stem}"
    try:
        run, dataset = _train(args, config, out)
    except RunFolderError as exc:
        print(f"handgrad: error: {exc.strerror}", file=sys.stderr)
        return 1
    except InterruptedAfterWriting:
        print(f"handgrad: interrupted; {out} holds the complete run", file=sys.stderr)
        return 130
    except KeyboardInterrupt:  # before or while writing: nothing was changed
        print(f"handgrad: interrupted; {out} was left as it was", file=sys.stderr)
        return 130
    _print_summary(run, dataset, out)
    if run.diverged:
        print(f"handgrad: error: {run.history.message}", file=sys.stderr)
        return 1
    if run.interrupted:
        print(
            f"handgrad: training {run.history.message}; {out} holds that model and its report; "
            "run the same command with --resume to continue",
            file=sys.stderr,
        )
        return 130
    return 0


def _train(args: argparse.Namespace, config, out: Path):
    """Load the table, show its columns, train and write the run -> (TrainRun, Dataset)."""
    from ..tabular import load_dataset, train_model

    dataset = load_dataset(args.data, args.target, _names(args.columns), ignore=_names(args.ignore))
    if not args.quiet:
        print("\n".join(column_lines(dataset)))
        print()
    callbacks = [] if args.quiet else [_announce_training()]
    run = train_model(
        dataset, config, out, progress=not args.quiet, callbacks=callbacks, resume=args.resume
    )
    return run, dataset


MAX_COLUMN_LINES = 20  # more columns than this are summarized by kind


def column_lines(dataset) -> list[str]:
    """The column plan: a line per column, or for a wide table a line per group of columns
    of one kind and action ("64 numeric columns pixel_0_0 ... pixel_7_7: standardize")."""
    columns = dataset.columns
    if len(columns) <= MAX_COLUMN_LINES:
        return dataset.column_table()
    groups: dict[tuple[str, str], list] = {}
    for c in columns:
        groups.setdefault((c.kind, c.action), []).append(c)
    lines = [f"{len(columns)} columns, by kind and what is done with them:"]
    for (kind, action), members in groups.items():
        names = [m.name for m in members]
        span = names[0] if len(names) == 1 else f"{names[0]} ... {names[-1]}"
        if len(names) == 2:
            span = f"{names[0]}, {names[1]}"
        missing = sum(m.missing for m in members)
        gaps = f", {missing} missing cells" if missing else ""
        plural = "s" if len(names) > 1 else ""
        lines.append(f"  {len(names)} {kind} column{plural} ({span}{gaps}): {action}")
    return lines


def _announce_training():
    """A callback that says when training starts, and what Ctrl-C will do."""
    from ..train import Callback

    class Announce(Callback):
        def on_train_begin(self, ctx) -> None:
            print(
                f"training: at most {ctx.epochs} epochs of {ctx.steps_per_epoch} steps; "
                "Ctrl-C stops after the current step and keeps that model",
                flush=True,
            )

    return Announce()


def _print_summary(run, dataset, out: Path) -> None:
    m, n, config = run.metrics, sum(run.split.values()), run.config
    for note in run.notes:
        print(f"note: {note}")
    print(f"task: {run.task} ({run.task_reason})")
    print(
        f"data: {dataset.source}: {n} rows, {len(dataset.feature_names)} features "
        f"({len(run.input_names)} inputs after encoding) -> {run.split['train']} train / "
        f"{run.split['val']} validation / {run.split['test']} test"
    )
    print(
        f"model: {'-'.join(map(str, run.sizes))} {config.activation}, "
        f"{run.n_parameters:,} parameters; {config.optimizer} lr {config.learning_rate:g}, "
        f"{run.history.epochs}/{config.epochs} epochs, batch {config.batch_size}"
    )
    stopped = early_stopping_line(run.history, config.epochs, config.patience)
    if stopped:
        print(stopped)
    for part in ("train", "val", "test"):
        if part not in m:
            continue
        s = m[part]
        if run.task == "classification":
            scores = f"accuracy {s['accuracy']:.4f}, loss {_num(s['loss'])}"
        else:
            scores = f"MSE {_num(s['mse'])}, MAE {_num(s['mae'])}, R2 {_num(s['r2'])}"
        print(f"{part:>5}: {scores}")
    for key, label in (("baseline", " base"), ("linear_model", "linear")):
        ref = m.get(key, {})
        if "accuracy" in ref:
            print(f"{label:>5}: accuracy {ref['accuracy']:.4f} ({ref['rule']})")
        elif "mse" in ref:
            print(f"{label:>5}: MSE {_num(ref['mse'])}, R2 {_num(ref['r2'])} ({ref['rule']})")
    print(f"run folder: {out}/ ({', '.join(run.files)})")


def early_stopping_line(history, epochs: int, patience: int | None) -> str:
    """'stopped early at 39/100 epochs: ...' when early stopping ended the run, else ''."""
    if history.stop_reason != "early_stopping" or not history.val_loss:
        return ""
    best = int(np.argmin(history.val_loss)) + 1  # the first epoch with the lowest loss
    return (
        f"stopped early at {history.epochs}/{epochs} epochs: validation loss did not "
        f"improve for {patience} epochs; the model keeps the weights of epoch {best}, "
        "the best (--patience sets the wait, 0 turns early stopping off)"
    )


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def _csv_text(header: list[str], rows) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def cmd_predict(args: argparse.Namespace) -> int:
    """Predictions for every row of a table: label (+ p_<class> columns) or value."""
    from ..io import atomic_write
    from ..tabular import Predictor, read_table

    if args.out and Path(args.out).is_dir():
        raise UsageError(f"--out {args.out} is a directory; give a file name")
    predictor = Predictor.load(args.model)
    frame = read_table(args.data)
    labels, probs, notes = predictor.predict_frame(frame, str(args.data))
    for line in notes.lines():
        print(line, file=sys.stderr)
    if probs is None:
        header = ["prediction"]
        rows = ([repr(float(v))] for v in labels)
    else:
        assert predictor.classes is not None
        header = ["prediction", *(f"p_{c}" for c in predictor.classes)]
        rows = ([lab, *(repr(float(p)) for p in row)] for lab, row in zip(labels, probs))
    text = _csv_text(header, rows)
    if args.out:
        atomic_write(args.out, lambda fh: fh.write(text.encode()))
        print(f"{len(labels)} predictions written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0


def _patience(given: int | None, val_fraction: float) -> int | None:
    """Early stopping is on by default (it keeps small tabular sets from overfitting)."""
    if given is None:
        return DEFAULT_PATIENCE if val_fraction > 0 else None
    return given or None


def register(sub) -> None:
    from ..nn.layers import ACTIVATIONS
    from ..nn.registry import OPTIMIZERS, default_learning_rates
    from ..tabular import TrainConfig

    d = TrainConfig()
    p = sub.add_parser(
        "train",
        help="train a network on a table file or a built-in set",
        description="Train a multilayer perceptron on your own table (CSV, Parquet or Excel) "
        "or a built-in set. Columns are typed (numbers, categories, yes/no) and encoded; "
        "rows are split into train / validation / test; training stops early when the "
        "validation loss stops improving. The run folder gets the model (model.npz, for "
        "`handgrad predict`), its settings, scores against a baseline and a linear model, "
        "figures and a report.",
        formatter_class=DefaultsShown,
    )
    p.add_argument(
        "--data",
        required=True,
        help="a CSV (any delimiter), Parquet or Excel file, or a built-in set: digits, "
        "breast_cancer, diabetes, iris, wine",
    )
    p.add_argument(
        "--target",
        help="the target column (needed with a table file; default: none, a built-in set has "
        "its own)",
    )
    p.add_argument(
        "--columns",
        "--features",
        dest="columns",
        metavar="COLS",
        help="comma-separated feature columns (default: every usable column but the target)",
    )
    p.add_argument(
        "--ignore",
        metavar="COLS",
        help="comma-separated columns to leave out (default: none; identifier-like and "
        "constant columns are left out anyway, with a note)",
    )
    p.add_argument(
        "--drop-missing",
        action="store_true",
        help="drop rows with a missing feature instead of filling them",
    )
    p.add_argument(
        "--impute",
        choices=["median", "mean"],
        default=d.impute,
        help="fill missing numbers with the training median (default) or mean",
    )
    p.add_argument(
        "--missing-indicator",
        action="store_true",
        help="add a 0/1 'was missing' input for each numeric column with missing values",
    )
    p.add_argument(
        "--rare",
        type=train_option("rare_min"),
        default=d.rare_min,
        metavar="N",
        help="categories seen in fewer than N training rows share one column "
        f"(default {d.rare_min})",
    )
    p.add_argument(
        "--task", choices=["classification", "regression"], help="default: inferred from the target"
    )
    p.add_argument(
        "--hidden",
        default=",".join(map(str, d.hidden)),
        help=f"hidden layer widths (default {','.join(map(str, d.hidden))}; "
        "'none' for a linear model)",
    )
    p.add_argument(
        "--activation",
        choices=[a for a in ACTIVATIONS if a != "identity"],
        default=d.activation,
        help="the hidden layers' activation",
    )
    p.add_argument(
        "--optimizer", choices=list(OPTIMIZERS), default=d.optimizer, help="the update rule"
    )
    p.add_argument(
        "--lr",
        type=train_option("lr"),
        help=f"learning rate (default: {default_learning_rates()})",
    )
    p.add_argument(
        "--momentum", type=train_option("momentum"), default=d.momentum, help="SGD momentum"
    )
    p.add_argument(
        "--epochs",
        type=train_option("epochs"),
        default=d.epochs,
        help="passes over the training rows",
    )
    p.add_argument(
        "--batch-size",
        type=train_option("batch_size"),
        default=d.batch_size,
        help="rows per update step",
    )
    p.add_argument("--l2", type=train_option("l2"), default=d.l2, help="L2 penalty λ (λ/2 ||W||²)")
    p.add_argument(
        "--patience",
        type=NON_NEGATIVE_INT,
        help=f"stop after this many epochs without a better validation loss and keep the best "
        f"weights (default {DEFAULT_PATIENCE} when there is a validation split; 0: off)",
    )
    p.add_argument(
        "--seed",
        type=train_option("seed"),
        default=d.seed,
        help="random seed of the split, the initial weights and the shuffling",
    )
    p.add_argument(
        "--val-fraction",
        type=train_option("val_fraction"),
        default=d.val_fraction,
        help=f"share of rows for validation (default {d.val_fraction}; 0: none, no early stopping)",
    )
    p.add_argument(
        "--test-fraction",
        type=train_option("test_fraction"),
        default=d.test_fraction,
        help="share of rows held out for the final test scores",
    )
    p.add_argument("--out", help="run folder (default: runs/train-<data name>)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue a run stopped with Ctrl-C from the checkpoint.npz in its --out folder "
        "(same data and settings); it ends as if it had never stopped",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="print only the summary (default: the columns, then progress on stderr: one "
        "line updated in place on a terminal, a line per epoch when piped)",
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "predict",
        help="predict with a model written by `handgrad train`",
        description="Predict every row of a table with a model written by `handgrad train`. "
        "The table needs the model's feature columns (any order; other columns are ignored) "
        "and goes through the preprocessing stored with the model. Output CSV: a prediction "
        "column, and for classification a p_<class> column per class.",
        formatter_class=DefaultsShown,
    )
    p.add_argument("--model", required=True, help="model.npz from a train run")
    p.add_argument(
        "--data", required=True, help="a table with the model's feature columns, in any order"
    )
    p.add_argument(
        "--out", help="write the CSV to this file, atomically (default: standard output)"
    )
    p.set_defaults(func=cmd_predict)
