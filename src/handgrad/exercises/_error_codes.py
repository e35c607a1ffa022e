"""What an error message a learner's code raised names: a lost keepdims, a product's shapes,
a missing return."""

from __future__ import annotations

import re

from .catalogue import Case

_BROADCAST = re.compile(r"could not be broadcast together with shapes \(([\d,]+)\) \(([\d,]+)\)")


# a matrix product whose inner sizes differ (@, np.matmul, np.dot)
_PRODUCT = ("matmul: Input operand 1 has a mismatch in its core dimension", "not aligned: ")


def error_codes(error: str, case: Case | None = None) -> list[str]:
    """Codes an error message names: a broadcast of (N, C) against (N,), N the batch, is a
    lost keepdims; a product whose inner sizes differ, the factors' shapes or order; None
    where a dict or a tuple was to come back is a missing return."""
    if "returned None (is a `return` missing?)" in error:
        return ["missing-return"]
    if any(text in error for text in _PRODUCT):
        return ["product-shapes"]
    found = _BROADCAST.search(error)
    if found:
        a, b = (tuple(int(d) for d in g.split(",") if d) for g in found.groups())
        batch = case.batch if case is not None else None
        for long, short in ((a, b), (b, a)):
            if long[:-1] == short and (batch is None or short == (batch,)):
                return ["keepdims"]
            if batch and len(long) == len(short) == 2 and long[0] == batch != long[1]:
                if short == (long[1], 1):  # (N, H) + (H, 1): a bias made a column
                    return ["bias-shape"]
    return []
