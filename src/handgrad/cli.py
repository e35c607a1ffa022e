"""The ``handgrad`` command line. Thin: parse arguments, call the library, say where results are.

    handgrad run NAME [--seed S] [--out DIR] [--quick] [--mnist PATH]   one experiment
    handgrad tour --out DIR [--quick] [--seed S]                        all of them + report
    handgrad train --data FILE.csv --target COLUMN [options]            train your own (Stage 7)
    handgrad predict --model FILE --data FILE.csv [--out FILE]          predictions as CSV
    handgrad gradcheck [--seed S]                                       finite-difference tables
    handgrad demo                                                       seed 000 in a minute

Bad input (a missing file, an unknown column, a value that is not a number, ...) ends with
one line ``handgrad: error: ...`` on stderr and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shlex
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from .data.tabular import DataError
from .runner import ConfigError


class UsageError(ValueError):
    """A command line that cannot work (an option that does not apply, a bad value)."""


# errors caused by the user's input: reported in one line, exit status 2
USER_ERRORS: tuple[type[Exception], ...] = (UsageError, DataError, ConfigError)


class _Parser(argparse.ArgumentParser):
    """argparse with the house error format: one line on stderr, exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"handgrad: error: {message} (see `{self.prog} --help`)\n")


# --- demo -----------------------------------------------------------------------------------


def demo(args: argparse.Namespace) -> int:
    """Seed 000 end to end: a one-hidden-layer binary classifier on a 2-D toy set."""
    import handgrad as hg

    rng = np.random.default_rng(args.seed)
    n = 400
    X = rng.normal(size=(n, 2))
    y = (X[:, 0] ** 2 + X[:, 1] ** 2 < 1.2).astype(float)  # a disc: not linearly separable
    split = int(0.8 * n)

    model = hg.mlp([2, 16, 1], "tanh", seed=args.seed)
    loss = hg.BCEWithLogitsLoss()
    print(model.summary(), "\n")
    print("Gradient check (fourth-order central differences, float64):")
    print(hg.gradcheck(model, loss, X[:16], y[:16]), "\n")

    opt = hg.SGD(model.parameters(), lr=0.5)
    history = hg.fit(
        model,
        loss,
        opt,
        X[:split],
        y[:split],
        epochs=300,
        batch_size=32,
        seed=args.seed,
        validation_data=(X[split:], y[split:]),
        metrics=["accuracy"],
    )
    for epoch in (0, 9, 49, 99, 299):
        print(
            f"epoch {epoch + 1:>3}: train loss {history.epoch_loss[epoch]:.4f}  "
            f"held-out accuracy {history.val_metrics['accuracy'][epoch]:.3f}"
        )
    print(
        f"\nfinal held-out accuracy: {history.val_metrics['accuracy'][-1]:.1%} "
        f"on {n - split} points"
    )
    return 0


# --- run and tour ---------------------------------------------------------------------------


def _mnist_option(name: str, path: str | None) -> dict:
    if path is None:
        return {}
    if name != "mnist":
        raise UsageError("--mnist applies to the mnist experiment only")
    if not Path(path).exists():
        raise DataError(f"MNIST file not found: {path}")
    return {"mnist": path}


def cmd_run(args: argparse.Namespace) -> int:
    """One experiment into OUT/NAME; print where its section, metrics and figures are."""
    from . import experiments

    options = _mnist_option(args.name, args.mnist)
    try:
        result = experiments.run_experiment(
            args.name, seed=args.seed, out_dir=args.out, quick=args.quick, **options
        )
    except (ValueError, OSError) as exc:
        if not options:
            raise
        # the only user input an experiment reads is the MNIST file given with --mnist
        raise DataError(f"cannot use the MNIST data {args.mnist}: {exc}") from None
    folder = Path(args.out) / args.name
    print(f"{args.name}: {result.title} ({result.stage}), {result.seconds:.1f} s")
    print(f"results in {folder}/: section.md, metrics.json, {len(result.figures)} figure(s)")
    return 0


class _Progress:
    """One line per experiment on stderr when it is a terminal; silent otherwise."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.enabled = total, enabled

    def start(self, k: int, name: str) -> None:
        self._prefix = f"[{k:>{len(str(self.total))}}/{self.total}] {name}"
        self._write(f"{self._prefix} ...")

    def done(self, seconds: float, error: str | None = None) -> None:
        status = f"FAILED ({error})" if error else "ok"
        self._write(f"\r\x1b[K{self._prefix}: {status}, {seconds:.1f} s\n")

    def _write(self, text: str) -> None:
        if self.enabled:
            sys.stderr.write(text)
            sys.stderr.flush()


def _title_and_stage(experiments, name: str) -> tuple[str, str]:
    """The module's TITLE and STAGE, or the bare name when even the import fails."""
    try:
        module = experiments.load_experiment(name)
        return str(getattr(module, "TITLE", name)), str(getattr(module, "STAGE", ""))
    except Exception:  # noqa: BLE001 - the failure itself is reported in the section
        return name, ""


def cmd_tour(args: argparse.Namespace) -> int:
    """Every experiment, then report.md and report.html; non-zero exit if any failed."""
    from . import experiments
    from .nn.serialization import atomic_write
    from .report import SectionEntry, write_tour_report

    names = list(experiments.EXPERIMENTS)
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            raise UsageError(
                f"unknown experiment(s) {', '.join(unknown)}; known: {', '.join(names)}"
            )
        names = [n for n in names if n in wanted]
    if args.mnist is not None:
        if "mnist" not in names:
            raise UsageError("--mnist given but the mnist experiment is not in this tour")
        _mnist_option("mnist", args.mnist)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    progress = _Progress(len(names), enabled=not args.quiet and sys.stderr.isatty())
    entries = []
    interrupted = False
    for k, name in enumerate(names, 1):
        progress.start(k, name)
        started = time.perf_counter()
        folder = out / name
        options = {"mnist": args.mnist} if name == "mnist" and args.mnist else {}
        try:
            result = experiments.run_experiment(
                name, seed=args.seed, out_dir=out, quick=args.quick, **options
            )
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - reported in its section
            seconds = time.perf_counter() - started
            interrupted = isinstance(exc, KeyboardInterrupt)
            error = "interrupted (Ctrl-C)" if interrupted else f"{type(exc).__name__}: {exc}"
            trace = traceback.format_exc()
            atomic_write(folder / "error.txt", lambda fh, t=trace: fh.write(t.encode()))
            title, stage = _title_and_stage(experiments, name)
            entries.append(SectionEntry(name, title, stage, folder, error, seconds))
            progress.done(seconds, error.splitlines()[0][:120])
            if interrupted:  # stop here, but still write the report of what ran
                break
            continue
        (folder / "error.txt").unlink(missing_ok=True)  # left by an earlier failed run
        entries.append(SectionEntry(name, result.title, result.stage, folder, None, result.seconds))
        progress.done(result.seconds)
    command = "handgrad " + " ".join(shlex.quote(a) for a in args.argv)
    md, page = write_tour_report(entries, out, seed=args.seed, quick=args.quick, command=command)
    print(f"report: {md}")
    print(f"        {page} (self-contained)")
    failed = [e.name for e in entries if not e.ok]
    if interrupted:
        print(f"handgrad: tour interrupted at {failed[-1]}", file=sys.stderr)
        return 130
    if failed:
        print(
            f"handgrad: {len(failed)} of {len(entries)} experiments failed: {', '.join(failed)} "
            "(see their sections in the report)",
            file=sys.stderr,
        )
        return 1
    return 0


# --- train and predict ----------------------------------------------------------------------


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
    if any(s < 1 for s in sizes):
        raise UsageError(f"--hidden widths must be positive; got {text!r}")
    return sizes


def cmd_train(args: argparse.Namespace) -> int:
    """Stage 7: train a network on a CSV or built-in table and write a run folder."""
    from .runner import TrainConfig, load_dataset, train_model

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
    )
    config.validate()
    features = None
    if args.features is not None:
        features = [f.strip() for f in args.features.split(",") if f.strip()]
    dataset = load_dataset(args.data, args.target, features)
    out = Path(args.out) if args.out else Path("runs") / f"train-{Path(args.data).stem}"
    progress = not args.quiet and sys.stderr.isatty()
    run = train_model(dataset, config, out, progress=progress)

    m, n = run.metrics, sum(run.split.values())
    print(f"task: {run.task} ({run.task_reason})")
    print(
        f"data: {dataset.source}: {n} rows, {len(dataset.feature_names)} features -> "
        f"{run.split['train']} train / {run.split['val']} validation / {run.split['test']} test"
    )
    print(
        f"model: {'-'.join(map(str, run.sizes))} {config.activation}, "
        f"{run.n_parameters:,} parameters; {config.optimizer} lr {config.learning_rate:g}, "
        f"{run.history.epochs}/{config.epochs} epochs, batch {config.batch_size}"
    )
    for part in ("train", "val", "test"):
        if part not in m:
            continue
        s = m[part]
        if run.task == "classification":
            scores = f"accuracy {s['accuracy']:.4f}, loss {_num(s['loss'])}"
        else:
            scores = f"MSE {_num(s['mse'])}, MAE {_num(s['mae'])}, R2 {_num(s['r2'])}"
        print(f"{part:>5}: {scores}")
    base = m["baseline"]
    if run.task == "classification":
        print(f" base: accuracy {base['accuracy']:.4f} ({base['rule']})")
    else:
        print(f" base: MSE {_num(base['mse'])} ({base['rule']})")
    print(f"run folder: {out}/ ({', '.join(run.files)})")
    if run.history.stop_reason == "diverged":
        print(f"handgrad: error: {run.history.message}", file=sys.stderr)
        return 1
    if run.history.stop_reason == "interrupted":
        print(f"handgrad: {run.history.message}", file=sys.stderr)
    return 0


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def _csv_text(header: list[str], rows) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def cmd_predict(args: argparse.Namespace) -> int:
    """Predictions for every row of a CSV: label (+ p_<class> columns) or value."""
    from .data.tabular import read_csv
    from .nn.serialization import atomic_write
    from .runner import Predictor

    if args.out and Path(args.out).is_dir():
        raise UsageError(f"--out {args.out} is a directory; give a file name")
    predictor = Predictor.load(args.model)
    table = read_csv(args.data)
    X = predictor.features_from(table)
    labels, probs = predictor.predict(X)
    if probs is None:
        header = ["prediction"]
        rows = ([repr(float(v))] for v in labels)
    else:
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


# --- gradcheck ------------------------------------------------------------------------------

GRADCHECK_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid")


def cmd_gradcheck(args: argparse.Namespace) -> int:
    """Finite differences against backprop: every activation with every loss."""
    import handgrad as hg

    rng = np.random.default_rng(args.seed)
    batch, width = 6, 4
    losses = {
        "MSELoss": (2, lambda: rng.normal(size=(batch, 2))),
        "BCEWithLogitsLoss": (1, lambda: rng.integers(0, 2, size=batch).astype(np.float64)),
        "SoftmaxCrossEntropyLoss": (3, lambda: rng.integers(0, 3, size=batch)),
    }
    passed = total = 0
    worst = 0.0
    for activation in GRADCHECK_ACTIVATIONS:
        for loss_name, (n_out, make_target) in losses.items():
            sizes = [width, 5, 4, n_out]
            model = hg.mlp(sizes, activation, rng=rng)
            X, y = rng.normal(size=(batch, width)), make_target()
            report = hg.gradcheck(model, getattr(hg, loss_name)(), X, y)
            print(
                f"== {activation}, layers {'-'.join(map(str, sizes))}, {loss_name}, batch {batch}"
            )
            print(report.table(), end="\n\n")
            total += 1
            passed += bool(report.passed)
            worst = max(worst, report.max_rel_error)
    print(
        f"{passed}/{total} gradient checks passed; worst relative error {worst:.2e} "
        f"(seed {args.seed})"
    )
    return 0 if passed == total else 1


# --- the parser -----------------------------------------------------------------------------


DEFAULT_PATIENCE = 20


def _patience(given: int | None, val_fraction: float) -> int | None:
    """Early stopping is on by default (it keeps small tabular sets from overfitting)."""
    if given is None:
        return DEFAULT_PATIENCE if val_fraction > 0 else None
    return given or None


def _int_at_least(minimum: int):
    """An argparse type: an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .experiments import EXPERIMENTS
    from .nn.layers import ACTIVATIONS
    from .runner import OPTIMIZERS, TrainConfig

    parser = _Parser(prog="handgrad", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"handgrad {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="train seed 000's binary classifier on a toy set")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=demo)

    p = sub.add_parser("run", help="run one curriculum experiment")
    p.add_argument("name", metavar="NAME", choices=list(EXPERIMENTS), help=", ".join(EXPERIMENTS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs", help="parent folder of the results (default: runs)")
    p.add_argument("--quick", action="store_true", help="small sizes and few epochs")
    p.add_argument("--mnist", metavar="PATH", help="MNIST files for the mnist experiment")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("tour", help="run every experiment and write report.md / report.html")
    p.add_argument("--out", required=True, help="folder for the experiments and the report")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="small sizes and few epochs")
    p.add_argument("--only", metavar="NAMES", help="comma-separated subset of the experiments")
    p.add_argument("--mnist", metavar="PATH", help="MNIST files for the mnist experiment")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_tour)

    d = TrainConfig()
    p = sub.add_parser("train", help="train a network on a CSV file or a built-in table")
    p.add_argument(
        "--data", required=True, help="a CSV file, or digits, breast_cancer, diabetes, iris, wine"
    )
    p.add_argument("--target", help="the target column of the CSV")
    p.add_argument(
        "--features",
        metavar="COLS",
        help="comma-separated feature columns (default: all but the target)",
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
        "--activation", choices=[a for a in ACTIVATIONS if a != "identity"], default=d.activation
    )
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default=d.optimizer)
    p.add_argument(
        "--lr",
        type=float,
        help="learning rate (default: "
        + ", ".join(f"{k} {v[1]:g}" for k, v in OPTIMIZERS.items())
        + ")",
    )
    p.add_argument("--momentum", type=float, default=d.momentum, help="SGD momentum")
    p.add_argument("--epochs", type=_positive_int, default=d.epochs)
    p.add_argument("--batch-size", type=_positive_int, default=d.batch_size)
    p.add_argument("--l2", type=float, default=d.l2, help="L2 penalty λ (λ/2 ||W||²)")
    p.add_argument(
        "--patience",
        type=_non_negative_int,
        help=f"stop after this many epochs without a better validation loss and keep the best "
        f"weights (default {DEFAULT_PATIENCE} when there is a validation split; 0: off)",
    )
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--val-fraction", type=_fraction, default=d.val_fraction)
    p.add_argument("--test-fraction", type=_fraction, default=d.test_fraction)
    p.add_argument("--out", help="run folder (default: runs/train-<data name>)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("predict", help="predict with a model written by `handgrad train`")
    p.add_argument("--model", required=True, help="model.npz from a train run")
    p.add_argument("--data", required=True, help="CSV with the model's feature columns")
    p.add_argument("--out", help="write the CSV here (atomically) instead of stdout")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("gradcheck", help="finite-difference checks of every activation and loss")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_gradcheck)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.func(args)
    except USER_ERRORS as exc:
        message = " ".join(str(exc).split())  # one line, whatever the exception holds
        print(f"handgrad: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `handgrad predict ... | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("handgrad: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # writing results: permissions, a full disk, a file in the way
        where = f": {exc.filename}" if exc.filename else ""
        print(f"handgrad: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
