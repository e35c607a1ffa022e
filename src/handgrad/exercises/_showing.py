"""What a failing output's message shows: its first entries, and where it first goes wrong
(with the case's input there), for diagnose.compare_output."""

from __future__ import annotations

import numpy as np

from .catalogue import Case


def _fmt(a: np.ndarray, limit: int = 4) -> str:
    flat = np.asarray(a, dtype=np.float64).ravel()
    items = ", ".join(f"{x:.6g}" for x in flat[:limit])
    more = ", ..." if flat.size > limit else ""
    return f"[{items}{more}]" if a.ndim else items


def _first_wrong(got: np.ndarray, want: np.ndarray, case: Case, shown: int = 4) -> str:
    """Where the answer goes wrong, when the first entries shown do not say it: the first
    wrong entry past them, with the case's input there (an elementwise exercise), or the
    largest input of a case of extreme inputs (a loss that overflowed)."""
    labels = ("y", "Y")  # where a label sits tells nothing about what went wrong there
    inputs = {k: v for k, v in case.inputs.items() if isinstance(v, np.ndarray) and k not in labels}
    if got.shape == want.shape and got.size > 1:
        with np.errstate(all="ignore"):
            wrong = ~np.isclose(
                got.astype(np.float64), want.astype(np.float64), case.rtol, case.atol
            )
        flat = np.flatnonzero(wrong)
        if flat.size == 0:
            return ""
        index = np.unravel_index(flat[0], got.shape)
        where = ", ".join(
            f"{k} = {float(v[index]):.6g}" for k, v in inputs.items() if v.shape == got.shape
        )
        if flat[0] < shown and not ("extreme" in case.tags and where):
            return ""  # the entries shown say it, and there is no input to point at
        at = tuple(int(i) for i in index)
        return (
            f"; {flat.size} of {got.size} entries wrong, the first at {list(at)}: expected "
            f"{float(want[index]):.6g}, got {float(got[index]):.6g}"
            + (f" ({where})" if where else "")
        )
    if "extreme" in case.tags and inputs:
        name, largest = max(
            ((k, float(np.max(np.abs(v)))) for k, v in inputs.items() if v.dtype.kind == "f"),
            key=lambda kv: kv[1],
            default=("", 0.0),
        )
        if name:
            return f" (the inputs reach |{name}| = {largest:.6g}; exp overflows past 709.78)"
    return ""
