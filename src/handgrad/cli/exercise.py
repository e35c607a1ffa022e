"""Commands of the exercises: ``exercise list``, ``exercise start``, ``exercise check``.

    handgrad exercise list
    handgrad exercise start NAME [--dir D]
    handgrad exercise check FILE [--name NAME] [--json]

``check`` exits 0 when every case passes, 1 when one fails; usage errors (an unknown
exercise, a missing file, a starter that would overwrite a file) exit 2.
"""

from __future__ import annotations

import argparse
import json

from ._common import UsageError


def cmd_list(args: argparse.Namespace) -> int:
    from ..exercises import listing

    print(listing())
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    from ..exercises import start

    try:
        path = start(args.name, args.dir)
    except (ValueError, FileExistsError) as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {path}; fill it in, then: handgrad exercise check {path}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from ..exercises import check_path

    try:
        result = check_path(args.file, args.name)
    except (ValueError, FileNotFoundError) as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(result.as_dict(), indent=2) if args.json else result)
    return 0 if result.passed else 1


def register(sub) -> None:
    p = sub.add_parser("exercise", help="write the course's pieces yourself; handgrad checks them")
    commands = p.add_subparsers(dest="exercise_command", required=True, metavar="ACTION")
    q = commands.add_parser("list", help="the exercises and the chapter of each")
    q.set_defaults(func=cmd_list)
    q = commands.add_parser("start", help="write the starter file NAME.py (never overwrites)")
    q.add_argument("name", metavar="NAME", help="an exercise, see `handgrad exercise list`")
    q.add_argument("--dir", default=".", help="folder for the starter (default: here)")
    q.set_defaults(func=cmd_start)
    q = commands.add_parser("check", help="run your file case by case and diagnose what fails")
    q.add_argument("file", metavar="FILE", help="your answer, e.g. backprop.py")
    q.add_argument("--name", help="the exercise (default: the file's name without .py)")
    q.add_argument("--json", action="store_true", help="print the result as JSON")
    q.set_defaults(func=cmd_check)
