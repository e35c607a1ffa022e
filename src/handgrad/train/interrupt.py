"""A clean stop on Ctrl-C: the first one ends training after the current step."""

from __future__ import annotations

import _signal
import signal
from types import FrameType, TracebackType
from typing import Any

import numpy as np

try:  # NumPy's floating-point error state, set without ``np.errstate``'s Python layers
    from numpy._core._ufunc_config import (  # type: ignore[attr-defined]
        _extobj_contextvar,
        _make_extobj,
    )

    # private names: tried once here, so a NumPy that changed them falls back at import
    _extobj_contextvar.reset(_extobj_contextvar.set(_make_extobj(over="ignore", invalid="ignore")))
except Exception:  # pragma: no cover  (another NumPy layout: np.errstate does the same)
    _extobj_contextvar = _make_extobj = None

__all__ = ["deferred_interrupt"]


class deferred_interrupt:  # noqa: N801  (used as a context manager, like a function)
    """Turn the first Ctrl-C into a flag checked between steps; a second one interrupts at once.

    ``with deferred_interrupt() as flag:`` ... ``flag["set"]`` is True after a Ctrl-C. Only the
    main thread receives signals: elsewhere the flag simply stays False and no handler is
    installed. The handler goes through ``_signal`` (what ``signal.signal`` wraps), which
    spares the conversion of handlers to and from enums on every ``fit`` call (about half
    of the handler's cost).

    ``quiet_overflow``: inside the block NumPy also ignores overflow and invalid operations,
    as in ``np.errstate(over="ignore", invalid="ignore")`` (fit's loop reports them as
    divergence), set directly in NumPy's context variable where it can (one C call instead
    of ``np.errstate``'s few Python frames).
    """

    def __init__(self, quiet_overflow: bool = False) -> None:
        self.flag = {"set": False}
        self.previous: Any = None
        self.installed = False
        self.quiet_overflow = quiet_overflow
        self._fp: Any = None

    def __enter__(self) -> dict[str, bool]:
        if self.quiet_overflow:
            if _make_extobj is None:  # pragma: no cover
                self._fp = np.errstate(over="ignore", invalid="ignore")
                self._fp.__enter__()
            else:  # (the other settings as they are now: _make_extobj starts from them)
                self._fp = _extobj_contextvar.set(_make_extobj(over="ignore", invalid="ignore"))
        self.previous = _signal.getsignal(signal.SIGINT)
        # None: a handler not installed from Python, which could not be put back
        if self.previous is not None:
            try:
                _signal.signal(signal.SIGINT, self._handler)
            except ValueError:  # not the main thread (asked only then: it costs a frame)
                return self.flag
            self.installed = True
        return self.flag

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.flag["set"]:
            _signal.signal(signal.SIGINT, self.previous)
            raise KeyboardInterrupt
        self.flag["set"] = True

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.installed:
            _signal.signal(signal.SIGINT, self.previous)
            self.installed = False
        if self._fp is not None:
            if _extobj_contextvar is None:  # pragma: no cover
                self._fp.__exit__(kind, exc, tb)
            else:
                _extobj_contextvar.reset(self._fp)
            self._fp = None
