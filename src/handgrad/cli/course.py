"""``handgrad course``: copy the chapter notebooks where the learner edits them."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "course",
        help="copy the course's notebooks (one per chapter) into a folder to open in Jupyter",
        description="Copy the course's notebooks, one per chapter, into --out. A notebook "
        "already there is kept as it is (your edits are never overwritten; delete it to get a "
        "fresh copy). Open them with: jupyter lab DIR (install Jupyter with the notebook "
        "extra, or run make course in the clone).",
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
        print(f"kept   {path} (already there; delete it for a fresh copy)")
    print(f"Open the course with: jupyter lab {args.out}")
    if importlib.util.find_spec("jupyterlab") is None:
        print(
            "JupyterLab is not installed here: install the notebook extra "
            "(in the clone: make course, or .venv/bin/pip install -e '.[notebook]')"
        )
    return 0
