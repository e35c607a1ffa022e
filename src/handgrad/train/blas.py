"""NumPy's own BLAS for the fast step's large in-place updates: ``y += a * x`` (axpy) and
``x *= a`` (scal) in one pass over memory, on every thread the BLAS uses; and for its
finiteness test of large gradients, ``sum |x|`` (asum), one pass on those threads too.

Why NumPy's BLAS and no other: the matrix products already run on its thread pool, and a
second BLAS (SciPy's, say) brings a second pool that fights the first for the same cores
(an epoch 4-10x slower on a 2-core machine). The functions are found through NumPy's
compiled core with ``ctypes`` (the dynamic loader searches the libraries it was linked
with), under the names NumPy's build configuration gives (``numpy.show_config``): an
OpenBLAS, with SciPy's symbol prefix or none, 64-bit integers when built with them.
They are tried once on small arrays against exact NumPy results and refused if wrong.

Anything else (another BLAS, a NumPy built without OpenBLAS, a platform where the lookup
fails) and arrays too small to gain (``MIN_SIZE``) get the NumPy expressions: the same
meaning, two passes, one thread.

asum decides finiteness exactly: ``|x|`` never cancels, so a NaN or an inf anywhere makes
the sum NaN or inf, and a finite sum means every entry is finite; a sum that overflowed
(finite entries near the largest float) is not taken as an answer: NumPy's element-wise
test decides then. ``all_finite`` says True or False, whatever the thread count.

Bits: axpy rounds ``y + a * x`` once (a fused multiply-add) where NumPy rounds ``a * x``
first, so the two differ by about an ulp; the BLAS computes each element alone, so its
result does not depend on its thread count (``tests/test_blas.py``).
"""

from __future__ import annotations

import ctypes
import importlib
import math
from typing import Any

import numpy as np

from ..nn import _checks
from ..nn._checks import DOT_CHECK_MAX

__all__ = ["axpy", "scal", "all_finite", "describe", "MIN_SIZE"]

# the fewest elements worth a BLAS call (benchmarks/blas_threshold.py, 2-core SkylakeX):
# below it the address lookups and the ctypes call (~2-3 us) cost about what the second
# NumPy pass saves (float64 at 16 Ki: 0.8-1.1x the NumPy time; from 32 Ki, 0.5-0.85x at
# one BLAS thread and 0.5-0.8x at two, float32 and float64 alike)
MIN_SIZE = 1 << 15

_Func = Any  # a ctypes function
# dtype -> (axpy, scal, asum) of NumPy's BLAS, or empty when it is not usable
_KERNELS: dict[np.dtype, tuple[_Func, _Func, _Func]] = {}
_WHY = "not looked up yet"


def _names() -> tuple[str, str, type[ctypes.c_int64] | type[ctypes.c_int32]]:
    """(symbol prefix, symbol suffix, integer type) of NumPy's CBLAS, from its build
    configuration; ValueError when it is not an OpenBLAS this module knows."""
    config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    name, details = str(config.get("name", "")), str(config.get("openblas configuration", ""))
    if "openblas" not in name.lower():
        raise ValueError(f"NumPy's BLAS is {name or 'unknown'}, not an OpenBLAS")
    if not details:  # the integer width unknown: a wrong guess could write anywhere
        raise ValueError(f"NumPy's BLAS {name} does not say its configuration")
    ilp64 = "USE64BITINT" in details
    prefix = "scipy_" if name.startswith("scipy-openblas") else ""
    suffix = "64_" if ilp64 and (prefix or name.endswith("64")) else ""
    return prefix, suffix, ctypes.c_int64 if ilp64 else ctypes.c_int32


def _core_library() -> ctypes.CDLL:
    """NumPy's compiled core; symbols looked up through it come from the libraries it was
    linked with, its BLAS among them."""
    try:
        core = importlib.import_module("numpy._core._multiarray_umath")
    except ImportError:  # NumPy 1.x
        core = importlib.import_module("numpy.core._multiarray_umath")
    return ctypes.CDLL(core.__file__)


def _bind(
    lib: ctypes.CDLL, names: tuple[str, str, Any]
) -> dict[np.dtype, tuple[_Func, _Func, _Func]]:
    prefix, suffix, integer = names
    kernels = {}
    for letter, scalar, dtype in (
        ("d", ctypes.c_double, np.float64),
        ("s", ctypes.c_float, np.float32),
    ):
        axpy_ = getattr(lib, f"{prefix}cblas_{letter}axpy{suffix}")
        scal_ = getattr(lib, f"{prefix}cblas_{letter}scal{suffix}")
        asum_ = getattr(lib, f"{prefix}cblas_{letter}asum{suffix}")
        axpy_.argtypes = [integer, scalar, ctypes.c_void_p, integer, ctypes.c_void_p, integer]
        scal_.argtypes = [integer, scalar, ctypes.c_void_p, integer]
        asum_.argtypes = [integer, ctypes.c_void_p, integer]
        axpy_.restype = scal_.restype = None
        asum_.restype = scalar
        kernels[np.dtype(dtype)] = (axpy_, scal_, asum_)
    return kernels


def _works(kernels: dict[np.dtype, tuple[_Func, _Func, _Func]]) -> bool:
    """The kernels give NumPy's exact results on small arrays whose every product and sum
    is exact (so a fused and an unfused multiply-add agree), and write nothing past the
    end: 37 elements, more than any vector loop's width, with a sentinel after them; asum
    of them is exact, NaN with a NaN and inf with an inf at either end."""
    for dtype, (axpy_, scal_, asum_) in kernels.items():
        n = 37
        x = np.arange(n, dtype=dtype) - 11
        y = np.append(3 * x[::-1], [7]).astype(dtype)
        z = np.append(x, [7]).astype(dtype)
        expected_y, expected_z = y[:n] + -0.5 * x, z[:n] * 4
        axpy_(n, -0.5, x.ctypes.data, 1, y.ctypes.data, 1)
        scal_(n, 4.0, z.ctypes.data, 1)
        if not (
            np.array_equal(y[:n], expected_y)
            and np.array_equal(z[:n], expected_z)
            and y[n] == 7
            and z[n] == 7
            and asum_(n, x.ctypes.data, 1) == np.abs(x).sum()
            and _asum_poisoned(asum_, x)
        ):
            return False
    return True


def _asum_poisoned(asum_: _Func, x: np.ndarray) -> bool:
    """asum of x with a NaN, an inf or a -inf put at its first or last entry is not finite."""
    for at in (0, len(x) - 1):
        for bad in (np.nan, np.inf, -np.inf):
            y = x.copy()
            y[at] = bad
            if np.isfinite(asum_(len(y), y.ctypes.data, 1)):
                return False
    return True


def _find() -> None:
    """Look NumPy's BLAS up once; leave ``_KERNELS`` empty and say why if unusable."""
    global _WHY
    _KERNELS.clear()
    try:
        kernels = _bind(_core_library(), _names())
    except (ValueError, KeyError, TypeError, OSError, AttributeError, ImportError) as error:
        _WHY = f"NumPy's BLAS not usable: {error}"
        return
    if not _works(kernels):
        _WHY = "NumPy's BLAS gave wrong results on a small test: refused"
        return
    _KERNELS.update(kernels)
    _WHY = "NumPy's OpenBLAS (axpy, scal, asum)"


def describe() -> str:
    """What ``axpy``, ``scal`` and ``all_finite`` use for large arrays (for benchmarks and
    bug reports)."""
    return _WHY if _KERNELS else f"NumPy expressions ({_WHY})"


def axpy(a: float, x: np.ndarray, y: np.ndarray, scratch: np.ndarray) -> None:
    """y += a * x in place, elementwise. x, y and scratch: arrays of one float dtype and
    the same size (scratch is overwritten when the NumPy expression runs). a == 1 is
    y += x exactly either way. a == 0 takes the NumPy expression (a BLAS returns at once,
    where 0 * inf is NaN), and so do arrays the BLAS cannot take as they are."""
    kernels = _kernels(y, x) if a != 0.0 else None
    if kernels is not None:
        kernels[0](y.size, a, x.ctypes.data, 1, y.ctypes.data, 1)
    elif a == 1.0:
        np.add(y, x, out=y)
    else:
        np.multiply(x, a, out=scratch)
        np.add(y, scratch, out=y)


def scal(a: float, x: np.ndarray) -> None:
    """x *= a in place; the same bits either way (a == 0 takes the NumPy expression: a
    BLAS may write zeros where 0 * inf is NaN)."""
    kernels = _kernels(x, x) if a != 0.0 else None
    if kernels is not None:
        kernels[1](x.size, a, x.ctypes.data, 1)
    else:
        np.multiply(x, a, out=x)


def all_finite(x: np.ndarray) -> bool:
    """True if ``x`` holds no NaN or inf, exactly: the BLAS's sum of |x| for a large
    C-contiguous aligned array (one pass, on the BLAS's threads; see the module docstring
    for why a finite sum settles it), NumPy's element-wise test when that sum is not
    finite; the engine's ``all_finite`` for any other array."""
    kernels = _KERNELS.get(x.dtype)
    if kernels is None or x.size <= DOT_CHECK_MAX or not (x.flags.c_contiguous and x.flags.aligned):
        return _checks.all_finite(x)
    return math.isfinite(kernels[2](x.size, x.ctypes.data, 1)) or bool(np.isfinite(x).all())


def _kernels(y: np.ndarray, x: np.ndarray) -> tuple[_Func, _Func, _Func] | None:
    """NumPy's BLAS for y (and x) when it is usable and they are large enough to gain, of
    its dtype, C-contiguous, aligned and of one size, y writeable; else None (a read-only
    y then gets NumPy's own error, where the BLAS would write through the flag)."""
    if y.size < MIN_SIZE:
        return None
    kernels = _KERNELS.get(y.dtype)
    if kernels is None or x.dtype != y.dtype or x.size != y.size:
        return None
    fx, fy = x.flags, y.flags
    usable = fy.writeable and fy.c_contiguous and fy.aligned and fx.c_contiguous and fx.aligned
    return kernels if usable else None


_find()
