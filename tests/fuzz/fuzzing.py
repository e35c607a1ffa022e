"""What the fuzz tests share: their example budget, and random damage to a file's bytes.

Each test module loads it by path with ``importlib.util.spec_from_file_location`` (``tests/``
is not a package), as ``tests/nn/gradcheck_zoo.py`` is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import settings
from hypothesis import strategies as st

T = TypeVar("T")


def budget(n: int, **options: Any) -> settings:
    """n examples by default; proportionally more under the fuzz profile (``make fuzz``).
    ``options``: further hypothesis settings (``deadline``, ``suppress_health_check``)."""
    return settings(max_examples=max(n, n * settings.default.max_examples // 60), **options)


@st.composite
def damaged(draw: st.DrawFn, good: bytes) -> bytes:
    """``good`` with one kind of damage: flipped bits, overwritten bytes, a truncation,
    spliced-in garbage or a run of zeros."""
    data = bytearray(good)
    kind = draw(st.sampled_from(["flip", "bytes", "truncate", "splice", "zero-run"]))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
    elif kind == "bytes":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif kind == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif kind == "splice":
        i = draw(st.integers(0, len(data)))
        data[i:i] = draw(st.binary(min_size=1, max_size=64))
    else:
        i = draw(st.integers(0, len(data) - 1))
        data[i : i + draw(st.integers(1, 200))] = bytes(min(200, len(data) - i))
    return bytes(data)


def read_damaged(folder: Path, content: bytes, read: Callable[[Path], T]) -> T | None:
    """Write ``content`` as ``folder/damaged.npz`` and ``read`` it: what it read, or None
    after a ValueError naming the file (any other error, or one that does not name the
    file, fails the test)."""
    bad = folder / "damaged.npz"
    bad.write_bytes(content)
    try:
        return read(bad)
    except ValueError as exc:
        if "damaged.npz" not in str(exc):
            raise AssertionError(f"the error does not name the file: {exc}") from exc
        return None
