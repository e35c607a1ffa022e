"""Commands of the curriculum: ``demo``, ``run``, ``tour``, ``gradcheck``."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import traceback
from pathlib import Path

import numpy as np

from ..data.tabular import DataError
from ._common import UsageError

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
    from .. import experiments

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
    from .. import experiments
    from ..io import atomic_write
    from ..report import SectionEntry, write_tour_report

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


def register(sub) -> None:
    from ..experiments import EXPERIMENTS

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

    p = sub.add_parser("gradcheck", help="finite-difference checks of every activation and loss")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_gradcheck)
