"""The sweep's own workers end at once when they close, without the interpreter's teardown.

A closed worker process still spends 0.1-0.9 s of CPU (measured: the more the machine's
load, the longer) tearing down the modules it imported (NumPy, pandas, Dask, handgrad) and
the objects they hold before its nanny sees it exit, and the sweep waits for that before it
returns. By then the worker has sent its results, removed its scratch directory and stopped
its threads: nothing in the teardown is needed. So the plugin's ``teardown`` (called while the
worker closes) registers an exit hook that flushes the standard streams and ends the process
(exit status 0). Only for the LocalCluster a sweep starts itself; imported with Dask only.
"""

from __future__ import annotations

import atexit
import os
import sys
from typing import Any

from distributed import WorkerPlugin

__all__ = ["ExitAtOnce"]


def _exit_at_once() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):  # closed or absent: nothing to flush
            pass
    os._exit(0)


class ExitAtOnce(WorkerPlugin):
    """Once the worker has closed, its process exits without tearing the interpreter down."""

    name = "handgrad-exit-at-once"

    def teardown(self, worker: Any) -> None:
        atexit.register(_exit_at_once)  # the last registered runs first: before the teardown
