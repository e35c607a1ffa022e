"""``handgrad sweep``: many trainings of ``handgrad train`` at once, on Dask (or serially)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._common import NON_NEGATIVE_INT, POSITIVE_INT, DefaultsShown, UsageError

# the swept settings given as flags (--batch-size -> batch_size)
_GRID_FLAGS = (
    "hidden",
    "activation",
    "optimizer",
    "lr",
    "momentum",
    "batch_size",
    "l2",
    "epochs",
    "patience",
)


def _grid_type(key: str) -> Any:
    """The argparse type of a grid value: its constraint in the grid's table (numbers), or
    the text itself (hidden widths and names, read by the grid)."""
    from ..nn.constraints import argument_type
    from ..sweep.grid import VALUES

    return argument_type(VALUES[key]) if key in VALUES else str


def _grid_values(args: argparse.Namespace) -> dict[str, Any]:
    """The grid entries given as flags (each a list of values)."""
    values: dict[str, Any] = {}
    for key in _GRID_FLAGS:
        given = getattr(args, key)
        if given is not None:
            values[key] = given
    for dest in ("val_fraction", "test_fraction", "task"):
        if getattr(args, dest) is not None:
            values[dest] = getattr(args, dest)
    if args.seeds is not None:
        values["seeds"] = args.seeds
    return values


def cmd_sweep(args: argparse.Namespace) -> int:
    """Build the grid from the file and/or flags, run the sweep, print the best settings."""
    from ..sweep import DataSpec, GridError, load_grid, make_grid, run_sweep

    features = None
    if args.features is not None:
        features = tuple(f.strip() for f in args.features.split(",") if f.strip())
    data = DataSpec(args.data, args.target, features) if args.data else None
    values = _grid_values(args)
    scheduler = "serial" if args.serial else args.scheduler
    if args.serial and args.scheduler:
        raise UsageError("--serial and --scheduler exclude each other")
    heatmap = None
    if args.heatmap:
        parts = [p.strip() for p in args.heatmap.split(",")]
        if len(parts) != 2:
            raise UsageError(
                f"--heatmap takes two swept settings like lr,hidden; got {args.heatmap!r}"
            )
        heatmap = (parts[0], parts[1])
    try:
        if args.grid:
            grid = load_grid(args.grid, values, data)
        elif data is None:
            raise UsageError("give --data (a CSV file or a built-in set) or --grid FILE.toml")
        else:
            grid = make_grid(data, values, samples=args.samples, sample_seed=args.sample_seed)
        if args.samples is not None and args.grid:
            grid.samples, grid.sample_seed = args.samples, args.sample_seed
        result = run_sweep(
            grid,
            out=args.out,
            scheduler=scheduler,
            n_workers=args.workers,
            max_retries=args.retries,
            heatmap=heatmap,
            progress="auto" if not args.quiet else None,
            echo=print,
        )
    except GridError as exc:
        raise UsageError(str(exc)) from None
    except ImportError as exc:  # Dask is an optional extra
        raise UsageError(str(exc)) from None
    except ConnectionError as exc:
        raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        print(
            f"handgrad: sweep interrupted; the finished trainings are recorded in {args.out}/ "
            "and the same command runs the rest",
            file=sys.stderr,
        )
        return 130
    return _print_summary(result)


def _print_summary(result) -> int:
    from ..sweep.summary import format_value

    cols = result.grid.swept
    for i, row in enumerate(result.rows[:5], 1):
        shown = ", ".join(f"{c} {format_value(c, row.settings.get(c))}" for c in cols)
        score = f"{row.mean:.4f} ± {row.std:.4f}" if row.val else "failed"
        print(f"#{i} {shown or 'the one setting'}: validation {score} ({len(row.val)} seeds)")
    statuses = [r["status"] for r in result.records.values()]
    unfinished = statuses.count("error")
    print(
        f"{result.ran} run now, {result.skipped} done before; "
        f"{statuses.count('failed')} failed (recorded with the reason), {unfinished} errors"
    )
    if result.report is not None:
        print(f"report: {result.report}")
    if result.model is not None:
        print(f"best model: {result.model}")
    if unfinished:
        print(
            f"handgrad: {unfinished} trainings did not finish; run the same command again "
            "to retry them",
            file=sys.stderr,
        )
        return 1
    return 0


def _grid_help(dest: str, default) -> str:
    """The help of a swept setting's flag: what a value is, and the value when not swept."""
    from ..nn.registry import default_learning_rates
    from ..sweep.grid import SETTINGS

    what = {
        "hidden": "hidden layer widths per value, e.g. 16 32,16 ('none': a linear model)",
        "patience": "early-stopping patience in epochs",
        "lr": "learning rate",
    }.get(dest, SETTINGS[dest])
    if dest == "lr":
        shown = f"the optimizer's own ({default_learning_rates()})"
    elif dest == "patience":
        shown = "0, early stopping off"
    elif dest == "hidden":
        shown = ",".join(map(str, default))
    else:
        shown = default
    return f"{what} (default when not swept: {shown})"


def register(sub) -> None:
    from ..tabular import TrainConfig

    d = TrainConfig()
    p = sub.add_parser(
        "sweep",
        help="train a grid of settings x random seeds on Dask; ranked report + best model",
        description="Train every setting of a grid for every random seed, one Dask task per "
        "training (a local cluster by default). Each list flag sweeps its values; a grid file "
        "(TOML) can say the same, and flags override its entries. Settings ranked by mean "
        "validation score over the random seeds; the best one is retrained and saved. Running "
        "same command again skips the trainings already recorded in --out.",
        formatter_class=DefaultsShown,
    )
    p.add_argument(
        "--grid",
        metavar="FILE.toml",
        help="the grid as a TOML file, docs/sweep.md (default: the grid of the flags below)",
    )
    p.add_argument(
        "--data",
        help="a CSV file, or a built-in set: digits, breast_cancer, diabetes, iris, wine "
        "(needed unless the grid file names it; default: none)",
    )
    p.add_argument(
        "--target",
        help="the target column of the CSV (needed with a CSV; default: none, a built-in set "
        "has its own)",
    )
    p.add_argument(
        "--features",
        metavar="COLS",
        help="comma-separated feature columns (default: every usable column but the target)",
    )
    p.add_argument(
        "--task",
        choices=["classification", "regression"],
        help="default: the built-in set's own, or inferred from the target",
    )
    grid = p.add_argument_group("grid (each flag takes one or more values)")
    for dest in _GRID_FLAGS:
        flag = "--" + dest.replace("_", "-")
        grid.add_argument(
            flag,
            nargs="+",
            type=_grid_type(dest),
            metavar="V",
            help=_grid_help(dest, getattr(d, dest)),
        )
    grid.add_argument(
        "--seeds", help="random seeds of every setting: a range 0-4 or a list 1,5,7 (default: 0)"
    )
    grid.add_argument(
        "--samples",
        type=_grid_type("sample.n"),
        metavar="N",
        help="train N settings drawn at random from the grid (default: every setting)",
    )
    grid.add_argument(
        "--sample-seed",
        type=_grid_type("sample.seed"),
        default=0,
        help="random seed of the --samples draw",
    )
    p.add_argument(
        "--val-fraction",
        type=_grid_type("val_fraction"),
        help="share of rows held out for validation, the ranking score "
        f"(default: {d.val_fraction})",
    )
    p.add_argument(
        "--test-fraction",
        type=_grid_type("test_fraction"),
        help=f"share of rows held out for the best model's test score (default: {d.test_fraction})",
    )
    run = p.add_argument_group("where it runs")
    run.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="an existing Dask scheduler (default: a local cluster on this machine)",
    )
    run.add_argument(
        "--workers",
        type=POSITIVE_INT,
        help="local cluster: worker processes (default: one per core)",
    )
    run.add_argument(
        "--serial",
        action="store_true",
        help="no Dask: one training after another in this process (default: on Dask)",
    )
    run.add_argument(
        "--retries",
        type=NON_NEGATIVE_INT,
        default=2,
        help="times a task that errs (a lost worker, ...) is tried again",
    )
    p.add_argument(
        "--heatmap",
        metavar="A,B",
        help="the two swept settings of the report's heat map, e.g. lr,hidden (default: the "
        "first two swept)",
    )
    p.add_argument("--out", default=str(Path("runs") / "sweep"), help="the sweep folder")
    p.add_argument(
        "--quiet", action="store_true", help="no progress line (default: shown on stderr)"
    )
    p.set_defaults(func=cmd_sweep)
