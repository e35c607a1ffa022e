"""The ``handgrad`` command line: argument parsing only; every command calls the library.

    handgrad demo                                                       a classifier in seconds
    handgrad run NAME [--seed S] [--out DIR] [--quick] [--mnist PATH]   one chapter
    handgrad tour --out DIR [--quick] [--seed S]                        every chapter + report
    handgrad gradcheck [--seed S]                                       finite-difference tables
    handgrad train --data FILE.csv --target COLUMN [options]            your own data
    handgrad predict --model FILE --data FILE.csv [--out FILE]          predictions as CSV
    handgrad exercise list | start NAME | check FILE                    write it yourself, checked
    handgrad playground [--port P] [--no-browser]                       the live web page
    handgrad sweep --data D --hidden 32 64 --lr 0.01 0.1 --seeds 0-2    many trainings on Dask

``python -m handgrad`` is the same command. One module per group of commands; each has
``register(subparsers)``. Bad input (a missing
file, an unknown column, a value that is not a number, ...) ends with one line
``handgrad: error: ...`` on stderr and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from ._common import USER_ERRORS, UsageError, _Parser

__all__ = ["main", "build_parser", "UsageError"]

DESCRIPTION = """\
handgrad: neural networks from first principles (NumPy only, every gradient derived by
hand and checked against finite differences).

Start here:
  handgrad demo                           train a small classifier in a few seconds
  handgrad tour --quick --out runs/quick  every chapter in seconds, one HTML report
  handgrad tour --out runs/tour           the whole course, full size
  handgrad course --out course            the chapters as notebooks you edit and run
  handgrad train --data FILE.csv --target COLUMN   a network on your own table

The course (handgrad run NAME runs one chapter):
"""

EPILOG = """\
Each command has its own help: handgrad COMMAND --help. Bad input ends with one line
"handgrad: error: ..." and exit status 2."""

# the command groups, in the order ``handgrad --help`` lists them
COMMAND_MODULES = ("curriculum", "course", "tabular", "exercise", "playground", "sweep")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    from .. import __version__
    from ..experiments import EXPERIMENTS
    from .curriculum import chapter_lines

    chapters = chapter_lines([*EXPERIMENTS, "train"])  # `handgrad train`: your own data
    parser = _Parser(
        prog="handgrad",
        description=DESCRIPTION + "\n".join(chapters),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"handgrad {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
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
