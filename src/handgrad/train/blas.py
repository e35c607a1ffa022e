"""NumPy's own BLAS for the fast step's large in-place updates: ``y += a * x`` (axpy) and
``x *= a`` (scal) in one pass over memory, on every thread the BLAS uses; for its
finiteness test of large gradients, ``sum |x|`` (asum), one pass on those threads too; and
plain SGD's update folded into a weight-gradient product, ``W += a * X^T G`` (gemm with
beta = 1, ``fold_update``), with the bound that certifies such a product finite unseen
(``product_bounded``).

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
from numpy.typing import DTypeLike

from ..nn import _checks
from ..nn._checks import DOT_CHECK_MAX

__all__ = [
    "axpy",
    "scal",
    "all_finite",
    "describe",
    "fold_update",
    "can_fold",
    "product_bounded",
    "MIN_SIZE",
]

# the fewest elements worth a BLAS call (benchmarks/blas_threshold.py, 2-core SkylakeX):
# below it the address lookups and the ctypes call (~2-3 us) cost about what the second
# NumPy pass saves (float64 at 16 Ki: 0.8-1.1x the NumPy time; from 32 Ki, 0.5-0.85x at
# one BLAS thread and 0.5-0.8x at two, float32 and float64 alike)
MIN_SIZE = 1 << 15

_Func = Any  # a ctypes function
# dtype -> (axpy, scal, asum) of NumPy's BLAS, or empty when it is not usable
_KERNELS: dict[np.dtype, tuple[_Func, _Func, _Func]] = {}
# dtype -> gemm of NumPy's BLAS, or empty when it is not usable (looked up with the others)
_GEMM: dict[np.dtype, _Func] = {}
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112  # CBLAS's enum values
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


def _bind_gemm(lib: ctypes.CDLL, names: tuple[str, str, Any]) -> dict[np.dtype, _Func]:
    """cblas_?gemm(order, trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc):
    C <- alpha op(A) op(B) + beta C (the enums are C ints, the sizes the BLAS's integers)."""
    prefix, suffix, integer = names
    gemms = {}
    for letter, scalar, dtype in (
        ("d", ctypes.c_double, np.float64),
        ("s", ctypes.c_float, np.float32),
    ):
        gemm = getattr(lib, f"{prefix}cblas_{letter}gemm{suffix}")
        pointer = ctypes.c_void_p
        gemm.argtypes = [ctypes.c_int] * 3 + [integer] * 3 + [scalar, pointer, integer]
        gemm.argtypes += [pointer, integer, scalar, pointer, integer]
        gemm.restype = None
        gemms[np.dtype(dtype)] = gemm
    return gemms


def _gemm_works(gemms: dict[np.dtype, _Func]) -> bool:
    """W + a X^T G by the BLAS equals NumPy's on small integer-valued arrays (every product
    and sum exact), and writes nothing past W: 37 x 5 of X, 37 x 3 of G."""
    for dtype, gemm in gemms.items():
        x = (np.arange(37 * 5) % 7 - 3).astype(dtype).reshape(37, 5)
        g = (np.arange(37 * 3) % 5 - 2).astype(dtype).reshape(37, 3)
        w = np.append(np.arange(15) - 4, [7]).astype(dtype)
        expected = w[:15].reshape(5, 3) + -0.5 * (x.T @ g)
        gemm(_ROW_MAJOR, _TRANS, _NO_TRANS, 5, 3, 37, -0.5, x.ctypes.data, 5,
             g.ctypes.data, 3, 1.0, w.ctypes.data, 3)  # fmt: skip
        if not (np.array_equal(w[:15].reshape(5, 3), expected) and w[15] == 7):
            return False
    return True


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
    _KERNELS.clear()  # (``_GEMM`` counts only beside ``_KERNELS``: filled once, never cleared)
    try:
        lib, names = _core_library(), _names()
        kernels, gemms = _bind(lib, names), _bind_gemm(lib, names)
    except (ValueError, KeyError, TypeError, OSError, AttributeError, ImportError) as error:
        _WHY = f"NumPy's BLAS not usable: {error}"
        return
    if not (_works(kernels) and _gemm_works(gemms)):
        _WHY = "NumPy's BLAS gave wrong results on a small test: refused"
        return
    _KERNELS.update(kernels)
    _GEMM.update(gemms)
    _WHY = "NumPy's OpenBLAS (axpy, scal, asum)"  # (and gemm: ``fold_update``)


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
    return math.isfinite(kernels[2](x.size, _address(x), 1)) or bool(np.isfinite(x).all())


def _address(x: np.ndarray) -> int:
    """The address of a C-contiguous array's first element: taken from its buffer by a
    ctypes object (about a third of the cost of ``x.ctypes.data``, which builds a
    ``numpy.ctypeslib`` object), or ``x.ctypes.data`` when the buffer is read-only."""
    try:
        return ctypes.addressof(_BYTE.from_buffer(x))  # type: ignore[arg-type]  # (a buffer)
    except TypeError:  # (not writeable)
        address: int = x.ctypes.data
        return address


_BYTE = ctypes.c_char


def can_fold(dtype: DTypeLike) -> bool:
    """True when ``fold_update`` can run on arrays of this dtype (NumPy's BLAS found)."""
    return np.dtype(dtype) in _GEMM and np.dtype(dtype) in _KERNELS


def fold_update(a: float, x: np.ndarray, g: np.ndarray, w: np.ndarray) -> bool:
    """W += a * X^T G in place, in one BLAS call (gemm with beta = 1): plain SGD's update
    with the weight gradient X^T G never written. X (n, i), G (n, o), W (i, o), of one
    dtype, C-contiguous and aligned, W writeable. False (and nothing done) when the BLAS
    cannot take them so.

    Bits: the BLAS accumulates each element of X^T G as its product with beta = 0 does and
    adds a times it to W; OpenBLAS's kernels do that in one fused multiply-add, as ``axpy``
    does with the written gradient, so the result is the product-then-axpy bits (tested; a
    batch longer than the BLAS's k-block adds each block's share to W in turn, a few ulps
    at most). Each element is computed by one thread, whatever their count."""
    gemm = _GEMM.get(w.dtype) if w.dtype in _KERNELS else None
    if gemm is None or not (x.dtype == g.dtype == w.dtype and _contiguous(x, g, w)):
        return False
    (n, i), (n_g, o) = x.shape, g.shape
    if n_g != n or w.shape != (i, o) or not w.flags.writeable:
        return False
    gemm(_ROW_MAJOR, _TRANS, _NO_TRANS, i, o, n, a, x.ctypes.data, i,
         g.ctypes.data, o, 1.0, w.ctypes.data, o)  # fmt: skip
    return True


def product_bounded(x: np.ndarray, g: np.ndarray) -> bool:
    """True only if every entry of X^T G, however a BLAS sums it, is finite: X and G hold
    no NaN or inf and sum|X| * sum|G| < max / 16, which bounds every |sum_k x_ki g_kj|
    (sum_k |x_ki| |g_kj| <= sum|X| sum|G|) with room for the sums' rounding. False says
    nothing (a NaN or inf in X or G, or values too large): the product must be checked.
    X (n, i), G (n, o), large and C-contiguous (else False)."""
    kernels = _KERNELS.get(x.dtype)
    if kernels is None or g.dtype != x.dtype or not _contiguous(x, g):
        return False
    asum = kernels[2]
    bound = asum(x.size, x.ctypes.data, 1) * asum(g.size, g.ctypes.data, 1)
    return bool(bound < _BOUND[x.dtype])  # (False for NaN or inf)


_BOUND = {np.dtype(t): float(np.finfo(t).max) / 16 for t in (np.float64, np.float32)}


def _contiguous(*arrays: np.ndarray) -> bool:
    return all(a.flags.c_contiguous and a.flags.aligned for a in arrays)


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
