"""Commands of the exercises: ``exercise list``, ``exercise start``, ``exercise check``.

    handgrad exercise list
    handgrad exercise start NAME [--dir D]
    handgrad exercise check FILE [--name NAME] [--json]
    handgrad exercise explain NAME

``check`` exits 0 when every case passes, 1 when one fails; usage errors (an unknown
exercise, a missing file, a starter that would overwrite a file) exit 2.
"""

from __future__ import annotations

import argparse
import json
import shlex

from ._common import DefaultsShown, UsageError, did_you_mean


def _exercise_name(name: str) -> str:
    """``name`` if it is an exercise; else a usage error with the nearest name."""
    from ..exercises import names

    known = names()
    if name not in known:
        raise UsageError(
            f"no exercise named {name!r}{did_you_mean(name, known)} "
            "(`handgrad exercise list` shows them all)"
        )
    return name


def cmd_list(args: argparse.Namespace) -> int:
    from ..exercises import listing

    print(listing())
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    from ..exercises import start

    try:
        path = start(_exercise_name(args.name), args.dir)
    except FileExistsError as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {path}; fill it in, then: handgrad exercise check {shlex.quote(str(path))}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from ..exercises import check_path

    name = None if args.name is None else _exercise_name(args.name)
    try:
        result = check_path(args.file, name)
    except (ValueError, FileNotFoundError) as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(result.as_dict(), indent=2) if args.json else result)
    return 0 if result.passed else 1


def cmd_explain(args: argparse.Namespace) -> int:
    from ..exercises import explain

    try:
        print(explain(args.name))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return 0


def register(sub) -> None:
    p = sub.add_parser(
        "exercise",
        help="write the course's pieces yourself; handgrad checks them",
        description="The exercises: you write one piece of a network (a softmax, a backward "
        "pass, an optimizer step, ...) in a file of your own; handgrad runs it case by case "
        "in a separate process and says which case fails and what kind of bug fits. Start "
        "with `handgrad exercise list`.",
        formatter_class=DefaultsShown,
    )
    commands = p.add_subparsers(dest="exercise_command", required=True, metavar="ACTION")
    q = commands.add_parser(
        "list",
        help="the exercises, the chapter of each and what your file must define",
        description="List every exercise: its name (for start and check), its chapter, its "
        "title and the functions or classes your file must define.",
        formatter_class=DefaultsShown,
    )
    q.set_defaults(func=cmd_list)
    q = commands.add_parser(
        "start",
        help="write the starter file NAME.py (never overwrites)",
        description="Write DIR/NAME.py: the exercise's contract as a docstring and each "
        "function raising NotImplementedError, with the command that checks it. An existing "
        "file is never overwritten.",
        formatter_class=DefaultsShown,
    )
    q.add_argument("name", metavar="NAME", help="an exercise, see `handgrad exercise list`")
    q.add_argument("--dir", default=".", help="folder for the starter, created if missing")
    q.set_defaults(func=cmd_start)
    q = commands.add_parser(
        "check",
        help="run your file case by case and diagnose what fails",
        description="Run your file against the exercise's cases in a separate process (a "
        "time and memory limit) and print PASSED or FAILED for each, with a "
        "diagnosis of what fails. Exit status 0 when every case passes, 1 when one fails.",
        formatter_class=DefaultsShown,
    )
    q.add_argument("file", metavar="FILE", help="your answer, e.g. backprop.py")
    q.add_argument(
        "--name", help="the exercise (default: the file's name without .py, e.g. backprop)"
    )
    q.add_argument(
        "--json", action="store_true", help="print the result as JSON (default: as text)"
    )
    q.set_defaults(func=cmd_check)
    q = commands.add_parser(
        "explain",
        help="explain a hint of a check (e.g. scale) or an exercise's formulas (e.g. mse)",
        description="Print the explanation behind a diagnosis a check names (scale, "
        "n-minus-1, transpose, ...) or the formulas of an exercise (its name).",
        formatter_class=DefaultsShown,
    )
    q.add_argument("name", metavar="NAME", help="a diagnosis or an exercise name")
    q.set_defaults(func=cmd_explain)
