"""``handgrad course``: copy the chapter notebooks where the learner edits them."""

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
        "notebook extra: pip install 'handgrad[notebook]'; in the clone, make course).",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("course"),
        help="the folder to copy the notebooks into (default: course)",
    )
    p.set_defaults(func=cmd_course)


def cmd_course(args: argparse.Namespace) -> int:
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


def open_command(folder: Path) -> str:
    """The command that opens ``folder`` in JupyterLab, as this user can type it.

    Jupyter refuses to start as root (as in many containers) without ``--allow-root``.
    """
    command = f"jupyter lab {shlex.quote(str(folder))}"
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command += "  # as root (e.g. in a container) add --allow-root"
    return command
