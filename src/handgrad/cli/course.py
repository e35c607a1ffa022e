"""``handgrad course``: copy the chapter notebooks where the learner edits them; ``--html``
turns the notebooks of that folder into pages that read offline."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "course",
        help="copy the course's notebooks (one per chapter) into a folder to open in Jupyter",
        description="Copy the course's notebooks, one per chapter, into --out. A notebook "
        "already there is kept as it is (your edits are never overwritten; rename it to get a "
        "fresh copy beside it). Open them with: jupyter lab DIR (Jupyter comes with the "
        "notebook extra: pip install 'handgrad[notebook]'; in the clone, make course). "
        "With --html: write NAME.html beside each notebook in --out instead, as you saved it "
        "(outputs included), with its formulas as MathML so the page reads offline.",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("course"),
        help="the folder to copy the notebooks into (default: course)",
    )
    p.add_argument(
        "--html",
        action="store_true",
        help="copy nothing: write NAME.html beside each notebook in --out, formulas as MathML "
        "(readable offline; an older NAME.html is replaced)",
    )
    p.set_defaults(func=cmd_course)


def cmd_course(args: argparse.Namespace) -> int:
    if args.html:
        return _export(args.out)
    from ..course import copy_course

    copied, kept = copy_course(args.out)
    for path in copied:
        print(f"copied {path}")
    for path in kept:
        print(f"kept   {path} (already there, maybe with your work; rename it for a fresh copy)")
    print(f"Open the course with: {open_command(args.out)}")
    if importlib.util.find_spec("jupyterlab") is None:
        print(
            "JupyterLab is not installed here: pip install 'handgrad[notebook]' "
            "(in the clone: make course, or .venv/bin/pip install -e '.[notebook]')"
        )
    return 0


def _export(folder: Path) -> int:
    from ..course.html import export_folder

    for page in export_folder(folder):
        print(f"wrote {page}")
    return 0


def open_command(folder: Path) -> str:
    """The command that opens ``folder`` in JupyterLab, as this user can type it.

    Jupyter refuses to start as root (as in many containers) without ``--allow-root``.
    """
    command = f"jupyter lab {shlex.quote(str(folder))}"
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command += "  # as root (e.g. in a container) add --allow-root"
    return command
