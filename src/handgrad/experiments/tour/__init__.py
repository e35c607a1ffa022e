"""The tour: every experiment in turn, with progress, then one report (report.md, report.html).

``run_tour`` never stops at a failed experiment: its traceback goes to ``NAME/error.txt``
and its section in the report says so. Ctrl-C stops the tour after writing the report of
what ran. ``run_one`` is ``handgrad run NAME``: one experiment and its own report.
``TourProgress`` prints a line per experiment on stderr, and inside long experiments (the
discussion) a bar on a terminal, or a plain line per part when the output is piped.

``progress`` draws the lines, ``runner`` runs the chapters and writes the report, ``pool``
is the second worker that lets two chapters run at a time.
"""

from __future__ import annotations

from .progress import TourProgress, chapter_heading
from .runner import USES_SCHEDULER, TourResult, run_one, run_tour

__all__ = ["TourProgress", "TourResult", "chapter_heading", "run_one", "run_tour", "USES_SCHEDULER"]
