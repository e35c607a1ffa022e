"""Seed 000's written discussion, measured: stability, initialization, activations, batch size.

Every statement in the section this experiment writes comes from a number it has just
measured; the sentences are assembled from those numbers (a comparison that comes out the
other way produces the other sentence). The four parts:

1. Stability: the naive binary cross-entropy -[y log p + (1 - y) log(1 - p)] with
   p = 1 / (1 + exp(-z)), its np.clip / eps patches and the engine's ``BCEWithLogitsLoss``
   on logits in [-1000, 1000] against a high-precision reference (mpmath when installed,
   else NumPy's ``logaddexp``); where 1 - p loses precision and which primitive recovers
   it; softmax without the max shift; softmax cross-entropy on [0, z] versus BCE on z.
2. Initialization: activation and gradient std per layer through a deep MLP for zeros,
   N(0, 0.01^2), Xavier and He; a short training run per init; the symmetry of a constant
   init; the bias of ReLU layers and units that are dead from the start.
3. Activations: ReLU, leaky ReLU, tanh and sigmoid on two moons with the same budget; the
   first-layer gradient norm against depth; dead ReLU units created, detected, mitigated.
4. Batch size: E||g_B - g||^2 against B with and without replacement versus sigma^2 / B
   and its finite-population factor; doubling the batch with lr, sqrt(2) lr and 2 lr, and
   what a too-large step looks like in the monitors (loss rises, gradient-norm spikes).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib import ticker

from .. import plots
from ..data import Standardizer, make_moons
from ..nn import functional as F
from ..nn._checks import NonFiniteError
from ..nn.layers import ACTIVATIONS, Linear, Sequential
from ..nn.losses import BCEWithLogitsLoss, SoftmaxCrossEntropyLoss
from ..nn.optim import SGD
from ..train import Callback, History, evaluate, fit
from .base import ExperimentResult, Figure, fmt, md_table

try:  # high-precision references; optional (part of the test extras)
    import mpmath
except ImportError:  # pragma: no cover - exercised only where mpmath is absent
    mpmath = None

NAME = "discussion"
TITLE = "Discussion, measured: stability, initialization, activations, batch size"
STAGE = "Seed 000: written discussion and follow-up questions"

TINY = float(np.finfo(np.float64).tiny)  # smallest normal float64, 2.2e-308
EPS = float(np.finfo(np.float64).eps)
PATCH_EPS = 1e-15  # the eps of the usual patches: clip(p, eps, 1 - eps), log(p + eps)


@dataclass(frozen=True)
class _Config:
    """Sizes of every measurement; ``quick`` shrinks them, never changes what is measured."""

    z_dense: int  # points of the BCE logit grid on [-50, 50]
    z_tail: int  # points on each tail [50, 1000]
    complement_points: int  # points on [0, 40]
    init_width: int
    init_depth: int
    init_samples: int
    train_points: int  # moons used for the training comparisons
    init_epochs: int
    act_epochs: int
    depth_list: tuple[int, ...]
    depth_seeds: int
    dead_epochs: int
    bias_seeds: int
    var_points: int
    var_draws: int
    lr_points: int
    lr_epochs: int
    lr_seeds: int


FULL = _Config(
    z_dense=801,
    z_tail=80,
    complement_points=401,
    init_width=256,
    init_depth=10,
    init_samples=256,
    train_points=400,
    init_epochs=40,
    act_epochs=60,
    depth_list=(1, 2, 4, 8, 12),
    depth_seeds=6,
    dead_epochs=30,
    bias_seeds=20,
    var_points=1024,
    var_draws=400,
    lr_points=1024,
    lr_epochs=20,
    lr_seeds=3,
)
QUICK = _Config(
    z_dense=401,
    z_tail=40,
    complement_points=201,
    init_width=128,
    init_depth=10,
    init_samples=128,
    train_points=240,
    init_epochs=10,
    act_epochs=15,
    depth_list=(1, 2, 4, 8),
    depth_seeds=3,
    dead_epochs=15,
    bias_seeds=8,
    var_points=512,
    var_draws=120,
    lr_points=512,
    lr_epochs=12,
    lr_seeds=1,
)


def _rng(seed: int, *tags: int) -> np.random.Generator:
    """An independent Generator per (seed, part) pair, so parts never share a stream."""
    return np.random.default_rng([seed, *tags])


def _moons(n: int, rng: np.random.Generator, noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Two moons, standardized: X (n, 2) float64, y (n,) float64 in {0, 1}."""
    X, y = make_moons(n, noise, rng=rng)
    order = rng.permutation(n)
    return Standardizer().fit_transform(X[order]), y[order].astype(np.float64)


# ============================================================================================
# formatting
# ============================================================================================


def _pct(x: float) -> str:
    return f"{100.0 * x:.1f}%"


def _pcts(values) -> str:
    """Per-layer fractions as "0.0%, 6.2%"; "diverged" when a run left nothing to measure."""
    return "diverged" if values is None else ", ".join(_pct(v) for v in values)


# ============================================================================================
# 1. stability
# ============================================================================================


def _naive_sigmoid(z: np.ndarray) -> np.ndarray:
    """The textbook 1 / (1 + exp(-z)): exp overflows for z < -709.78 and p becomes 0."""
    return 1.0 / (1.0 + np.exp(-z))


def _naive_bce(z: np.ndarray, y: float) -> np.ndarray:
    p = _naive_sigmoid(z)
    return -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def _clipped_bce(z: np.ndarray, y: float) -> np.ndarray:
    """The np.clip patch (what the engine never does): p forced into [eps, 1 - eps]."""
    p = np.clip(_naive_sigmoid(z), PATCH_EPS, 1.0 - PATCH_EPS)
    return -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def _eps_bce(z: np.ndarray, y: float) -> np.ndarray:
    """The log(p + eps) patch."""
    p = _naive_sigmoid(z)
    return -(y * np.log(p + PATCH_EPS) + (1.0 - y) * np.log(1.0 - p + PATCH_EPS))


def _engine_bce(z: np.ndarray, y: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-logit loss and dL/dz of ``BCEWithLogitsLoss``, one logit per call (N = 1)."""
    loss = BCEWithLogitsLoss()
    values, grads = np.empty_like(z), np.empty_like(z)
    target = np.array([y])
    for i, zi in enumerate(z):
        values[i] = loss.forward(np.array([zi]), target)
        grads[i] = loss.backward()[0]
    return values, grads


BCE_FORMS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "naive": _naive_bce,
    f"clip(p, {PATCH_EPS:g}, 1 − {PATCH_EPS:g})": _clipped_bce,
    f"log(p + {PATCH_EPS:g})": _eps_bce,
    "engine BCEWithLogitsLoss": lambda z, y: _engine_bce(z, y)[0],
}


class _Reference:
    """Exact values of the quantities compared, and relative errors against them.

    An exact value is a pair of float64 arrays (hi, lo) with hi + lo equal to it to about
    32 digits, so errors are computed with NumPy, not in multiple precision. With mpmath the
    pairs come from 50-digit arithmetic; without it from NumPy's ``logaddexp`` (an
    independent float64 implementation, lo = 0: good to a few ulps, enough to see every
    failure measured here, which are all above 1e-14).
    """

    def __init__(self):
        self.name = "mpmath (50 digits)" if mpmath is not None else "NumPy logaddexp (float64)"

    @staticmethod
    def _pairs(values) -> tuple[np.ndarray, np.ndarray]:
        """mpmath numbers -> (hi, lo) float64 arrays."""
        hi = np.array([float(v) for v in values])
        lo = np.array([float(v - h) if math.isfinite(h) else 0.0 for v, h in zip(values, hi)])
        return hi, lo

    def softplus(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """log(1 + exp(z)) for each z."""
        if mpmath is None:
            return np.logaddexp(0.0, z), np.zeros_like(z)
        with mpmath.workdps(50):
            return self._pairs([mpmath.log1p(mpmath.exp(mpmath.mpf(float(v)))) for v in z])

    def complement(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """1 - sigmoid(z) = 1 / (1 + exp(z)) for each z."""
        if mpmath is None:
            return np.exp(-np.logaddexp(0.0, z)), np.zeros_like(z)
        with mpmath.workdps(50):
            return self._pairs([1 / (1 + mpmath.exp(mpmath.mpf(float(v)))) for v in z])

    def softmax_shifted(self) -> tuple[np.ndarray, np.ndarray]:
        """softmax([0, -1, -2]): the exact softmax of [s, s-1, s-2] for every s."""
        if mpmath is None:
            return F.softmax(np.array([0.0, -1.0, -2.0])), np.zeros(3)
        with mpmath.workdps(50):
            e = [mpmath.exp(-k) for k in range(3)]
            return self._pairs([v / sum(e) for v in e])

    def lse_shifted(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """logsumexp([s, s-1, s-2]) = s + log(1 + e^-1 + e^-2) for each s."""
        if mpmath is None:
            return s + float(F.logsumexp(np.array([0.0, -1.0, -2.0]))), np.zeros_like(s)
        with mpmath.workdps(50):
            offset = mpmath.log(1 + mpmath.exp(-1) + mpmath.exp(-2))
            return self._pairs([mpmath.mpf(float(v)) + offset for v in s])

    @staticmethod
    def rel_err(values: np.ndarray, exact: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """|value - exact| / max(|exact|, TINY); NaN where the value is not finite.

        Below the normal range the denominator is TINY: a correctly rounded subnormal (or 0
        for an exact value under 5e-324) then counts as exact to within eps.
        """
        hi, lo = exact
        values = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            err = np.abs((values - hi) - lo) / np.maximum(np.abs(hi), TINY)
        return np.where(np.isfinite(values), err, np.nan)


def _first_failure(bad: Callable[[float], bool], good: float, failing: float) -> float:
    """Bisect between a logit that works and one that fails; returns the first failing one.

    ``bad(z)`` must switch once between ``good`` and ``failing``; 200 halvings pin the
    boundary to adjacent float64 numbers.
    """
    with np.errstate(all="ignore"):  # the failures being located raise FP warnings
        for _ in range(200):
            mid = 0.5 * (good + failing)
            if mid in (good, failing):
                break
            if bad(mid):
                failing = mid
            else:
                good = mid
    return failing


def _fd_slope(f: Callable[[np.ndarray], np.ndarray], z: float, h: float = 1e-3) -> float:
    """Central difference (f(z + h) - f(z - h)) / 2h: the slope a patched loss really has."""
    with np.errstate(all="ignore"):
        return float((f(np.array([z + h]))[0] - f(np.array([z - h]))[0]) / (2 * h))


def _bce_stability(cfg: _Config, ref: _Reference) -> dict:
    """Naive / patched / engine BCE over logits in [-1000, 1000], both labels."""
    tail = np.geomspace(50.0, 1000.0, cfg.z_tail)
    z = np.unique(np.concatenate([np.linspace(-50.0, 50.0, cfg.z_dense), tail, -tail]))
    exact = {1.0: ref.softplus(-z), 0.0: ref.softplus(z)}  # y softplus(-z) + (1-y) softplus(z)
    forms: dict[str, dict] = {}
    curves: dict[str, dict] = {}
    for name, form in BCE_FORMS.items():
        row, curves[name] = {}, {}
        for y in (1.0, 0.0):
            with np.errstate(all="ignore"):
                values = form(z, y)
            err = ref.rel_err(values, exact[y])
            finite = np.isfinite(values)
            label = f"y={int(y)}"
            row[label] = {
                "non_finite": int(np.sum(~finite)),
                "nan": int(np.sum(np.isnan(values))),
                "inf": int(np.sum(np.isinf(values))),
                "max_rel_err_finite": float(np.nanmax(err)),
                "lost_all_precision": int(np.sum(err >= 0.5)),  # finite but wrong
                "min_finite_value": float(np.min(values[finite])),
                "first_bad_pos": _first_bad_on_grid(z, values, err, positive=True),
                "first_bad_neg": _first_bad_on_grid(z, values, err, positive=False),
                "first_err_above_1e-8_pos": _first_z(z[z > 0], (err > 1e-8)[z > 0]),
            }
            curves[name][label] = err.tolist()
        forms[name] = row
    naive_bad_pos = {
        y: _first_failure(
            lambda v, y=y: not np.isfinite(_naive_bce(np.array([v]), y)[0]), 0.0, 1000.0
        )
        for y in (0.0, 1.0)
    }
    naive_bad_neg = {
        y: -_first_failure(
            lambda v, y=y: not np.isfinite(_naive_bce(np.array([-v]), y)[0]), 0.0, 1000.0
        )
        for y in (0.0, 1.0)
    }
    # The wrong-label examples, where the learning signal lives: values and slopes.
    probe = np.array([10.0, 30.0, 36.0, 37.0, 40.0, 100.0, 709.0, 710.0, 1000.0])
    probe_exact = ref.softplus(probe)[0]  # y = 0: the loss is softplus(z)
    probe_rows = []
    for zi, ex in zip(probe, probe_exact):
        cells = {"z": float(zi), "exact": float(ex)}
        for name, form in BCE_FORMS.items():
            with np.errstate(all="ignore"):
                cells[name] = _json_number(form(np.array([zi]), 0.0)[0])
        probe_rows.append(cells)
    slopes = {
        name: _fd_slope(lambda v, f=form: f(v, 0.0), 1000.0) for name, form in BCE_FORMS.items()
    }
    engine_grad = float(_engine_bce(np.array([1000.0]), 0.0)[1][0])
    with np.errstate(over="ignore"):
        p_at_failure = {
            "positive_z": float(_naive_sigmoid(np.array([naive_bad_pos[0.0]]))[0]),
            "negative_z": float(_naive_sigmoid(np.array([naive_bad_neg[1.0]]))[0]),
        }
    return {
        "n_logits": int(z.size),
        "z_range": [float(z.min()), float(z.max())],
        "reference": ref.name,
        "forms": forms,
        "naive_first_non_finite": {
            "y=0_positive_z": naive_bad_pos[0.0],
            "y=1_positive_z": naive_bad_pos[1.0],
            "y=0_negative_z": naive_bad_neg[0.0],
            "y=1_negative_z": naive_bad_neg[1.0],
        },
        "naive_p_at_first_failure": p_at_failure,
        "wrong_label_probe": probe_rows,
        "slope_at_z1000_y0": {
            **{k: _json_number(v) for k, v in slopes.items()},
            "engine backward": engine_grad,
        },
        "_z": z.tolist(),
        "_curves": curves,
    }


def _json_number(x) -> float | str:
    """A float for metrics.json; inf and NaN (not valid JSON) become "inf", "-inf", "nan"."""
    x = float(x)
    return x if math.isfinite(x) else str(x)


def _first_bad_on_grid(z: np.ndarray, values: np.ndarray, err: np.ndarray, positive: bool):
    """Smallest |z| on one side of the grid where the value is non-finite or has err >= 0.5."""
    bad = ~np.isfinite(values) | (np.nan_to_num(err, nan=0.0) >= 0.5)
    side = (z > 0) if positive else (z < 0)
    hits = np.abs(z[side & bad])
    return float(hits.min()) if hits.size else None


COMPLEMENT_FORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "1 − sigmoid(z)": lambda z: 1.0 - F.sigmoid(z),
    "sigmoid(−z)": lambda z: F.sigmoid(-z),
    "−expm1(log_sigmoid(z))": lambda z: -np.expm1(F.log_sigmoid(z)),
    "exp(−softplus(z))": lambda z: np.exp(-F.softplus(z)),
}
LOG_COMPLEMENT_FORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "log(1 − p)": lambda z: np.log(1.0 - F.sigmoid(z)),
    "log1p(−p)": lambda z: np.log1p(-F.sigmoid(z)),
    "−softplus(z)": lambda z: -F.softplus(z),
}


def _complement(cfg: _Config, ref: _Reference) -> dict:
    """Relative error of ways to compute 1 - p and log(1 - p) for z in [0, 40]."""
    z = np.linspace(0.0, 40.0, cfg.complement_points)
    exact_q = ref.complement(z)
    hi, lo = ref.softplus(z)
    exact_log = (-hi, -lo)
    out: dict = {"z": z.tolist(), "q": {}, "log_q": {}}
    for name, form in COMPLEMENT_FORMS.items():
        with np.errstate(all="ignore"):
            values = form(z)
        err = ref.rel_err(values, exact_q)
        err = np.where(np.isfinite(values), err, np.inf)
        out["q"][name] = {
            "rel_err": err.tolist(),
            "max_rel_err": float(np.max(err)),
            "first_z_err_above_1e-8": _first_z(z, err > 1e-8),
            "first_z_zero": _first_z(z, values == 0.0),
        }
    for name, form in LOG_COMPLEMENT_FORMS.items():
        with np.errstate(all="ignore"):
            values = form(z)
        err = ref.rel_err(values, exact_log)
        out["log_q"][name] = {
            "max_rel_err_finite": float(np.nanmax(err)),
            "first_z_non_finite": _first_z(z, ~np.isfinite(values)),
        }
    # digits lost per unit of z by 1 - sigmoid(z): slope of log10(rel err) where it is
    # measurable (above rounding noise, below total loss)
    err = np.asarray(out["q"]["1 − sigmoid(z)"]["rel_err"])
    window = (err > 1e-13) & (err < 1e-2)
    slope = float(np.polyfit(z[window], np.log10(err[window]), 1)[0]) if window.sum() > 5 else None
    out["naive_digits_lost_per_unit_z"] = slope
    out["exact_q_at_40"] = float(exact_q[0][-1])
    out["sigmoid_at_40_is_one"] = bool(F.sigmoid(np.array([40.0]))[0] == 1.0)
    return out


def _first_z(z: np.ndarray, mask: np.ndarray):
    return float(z[np.argmax(mask)]) if np.any(mask) else None


def _softmax_stability(ref: _Reference) -> dict:
    """softmax / log-sum-exp of [s, s-1, s-2] with and without the max shift, s in ±1000."""
    s = np.unique(
        np.concatenate([np.linspace(-1000.0, 1000.0, 81), [-746.0, -744.0, 709.0, 710.0]])
    )
    p_hi, p_lo = ref.softmax_shifted()
    rows = s[:, None] - np.array([0.0, 1.0, 2.0])  # (S, 3)
    with np.errstate(all="ignore"):
        e = np.exp(rows)
        naive_p = e / e.sum(axis=1, keepdims=True)
        naive_lse = np.log(e.sum(axis=1))
    stable_p = F.softmax(rows, axis=1)
    stable_lse = F.logsumexp(rows, axis=1)

    def worst_p(p: np.ndarray) -> np.ndarray:
        errs = ref.rel_err(p, (p_hi, p_lo))  # (S, 3), broadcast over the rows
        return np.max(errs, axis=1)  # NaN propagates: a NaN probability is a failure

    lse_exact = ref.lse_shifted(s)
    err = {
        "naive softmax": worst_p(naive_p),
        "engine softmax": worst_p(stable_p),
        "naive log(sum(exp))": ref.rel_err(naive_lse, lse_exact),
        "engine logsumexp": ref.rel_err(stable_lse, lse_exact),
    }

    def naive_softmax_bad(v: float) -> bool:
        with np.errstate(all="ignore"):
            ev = np.exp(v - np.array([0.0, 1.0, 2.0]))
            return not np.all(np.isfinite(ev / ev.sum()))

    return {
        "s": s.tolist(),
        "rel_err": {k: v.tolist() for k, v in err.items()},
        "non_finite": {k: int(np.sum(np.isnan(v))) for k, v in err.items()},
        "max_rel_err_finite": {k: float(np.nanmax(v)) for k, v in err.items()},
        "naive_softmax_first_nan_pos": _first_failure(naive_softmax_bad, 0.0, 1000.0),
        "naive_softmax_first_nan_neg": -_first_failure(
            lambda v: naive_softmax_bad(-v), 0.0, 1000.0
        ),
    }


def _ulps(a: float, b: float) -> float:
    """Distance between two float64 numbers in units of the spacing at the larger one."""
    if a == b:
        return 0.0
    return abs(a - b) / float(np.spacing(max(abs(a), abs(b))))


def _binary_vs_softmax(cfg: _Config) -> dict:
    """Softmax cross-entropy on logits [0, z] against BCE on logit z, label by label."""
    tail = np.geomspace(50.0, 1000.0, cfg.z_tail)
    z = np.unique(np.concatenate([np.linspace(-50.0, 50.0, cfg.z_dense), tail, -tail]))
    bce, sce = BCEWithLogitsLoss(), SoftmaxCrossEntropyLoss()
    worst_loss, worst_grad = 0.0, 0.0
    for zi in z:
        pair = np.array([[0.0, zi]])
        for y in (0, 1):
            lb = bce.forward(np.array([zi]), np.array([float(y)]))
            gb = float(bce.backward()[0])
            ls = sce.forward(pair, np.array([y]))
            gs = sce.backward()[0]
            worst_loss = max(worst_loss, _ulps(lb, ls))
            # d/dz of the softmax CE is its gradient on the second logit; the first is -that
            worst_grad = max(worst_grad, _ulps(gb, float(gs[1])), _ulps(-gb, float(gs[0])))
    return {"n_logits": int(z.size), "max_ulps_loss": worst_loss, "max_ulps_grad": worst_grad}


# ============================================================================================
# 2. initialization
# ============================================================================================


def _small_normal(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float64):
    """N(0, 0.01^2) regardless of width: the classic "small random numbers"."""
    return (0.01 * rng.standard_normal((fan_in, fan_out))).astype(dtype, copy=False)


def _constant(value: float):
    def init(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float64):
        return np.full((fan_in, fan_out), value, dtype=dtype)

    init.__name__ = f"constant_{value:g}"
    return init


INITS: dict[str, object] = {
    "zeros": "zeros",
    "N(0, 0.01²)": _small_normal,
    "Xavier": "xavier_normal",
    "He": "he_normal",
}


def _net(sizes: Sequence[int], activation: str, init, rng: np.random.Generator) -> Sequential:
    """Linear / activation stack like ``hg.mlp``, with any initializer (callables too)."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(a, b, init=init, rng=rng))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return Sequential(*layers)


def _layer_stats(model: Sequential, X: np.ndarray, y: np.ndarray) -> tuple[list, list, float]:
    """Forward std of each hidden activation, backward std of dL/d(activation), first dW std.

    Runs the engine's layers one by one (forward, then backward in reverse) to read the
    signal between them; the loss is BCE with logits on labels y.
    """
    forward_std, h = [], X
    for layer in model.layers:
        h = layer.forward(h)
        if not isinstance(layer, Linear):
            forward_std.append(float(np.std(h)))
    loss = BCEWithLogitsLoss()
    loss.forward(h, y)
    grad, backward_std = loss.backward(), []
    for layer in reversed(model.layers):
        if not isinstance(layer, Linear):
            backward_std.append(float(np.std(grad)))  # dL/d(output of this activation)
        grad = layer.backward(grad)
    return forward_std, backward_std[::-1], float(np.std(model.layers[0].weight.grad))


def _init_depth(cfg: _Config, seed: int) -> dict:
    """Std of activations and gradients per layer, 10 hidden layers, 4 inits, ReLU and tanh."""
    rng = _rng(seed, 21)
    X = rng.standard_normal((cfg.init_samples, cfg.init_width))
    y = (rng.random(cfg.init_samples) < 0.5).astype(np.float64)
    sizes = [cfg.init_width] * (cfg.init_depth + 1) + [1]
    out: dict = {}
    for act in ("relu", "tanh"):
        out[act] = {}
        for k, (name, init) in enumerate(INITS.items()):
            model = _net(sizes, act, init, _rng(seed, 22, k))
            fwd, bwd, dw1 = _layer_stats(model, X, y)
            out[act][name] = {"forward_std": fwd, "backward_std": bwd, "first_dW_std": dw1}
    return out


class _GradNorm(Callback):
    """Records ||g|| (all parameters) at every step: a monitor for too-large steps."""

    def __init__(self):
        self.norms: list[float] = []

    def on_batch_end(self, ctx) -> None:
        total = sum(float(np.vdot(p.grad, p.grad)) for p in ctx.model.parameters())
        self.norms.append(math.sqrt(total))


def _train(
    model: Sequential,
    X: np.ndarray,
    y: np.ndarray,
    *,
    lr: float,
    epochs: int,
    rng: np.random.Generator,
    batch_size: int = 32,
    momentum: float = 0.0,
    validation=None,
    callbacks: Sequence[Callback] = (),
) -> History:
    """Plain minibatch SGD through ``hg.fit``; a divergence is recorded, not raised."""
    opt = SGD(model.parameters(), lr=lr, momentum=momentum)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # fit warns on divergence; we record it
        return fit(
            model,
            BCEWithLogitsLoss(),
            opt,
            X,
            y,
            epochs=epochs,
            batch_size=batch_size,
            rng=rng,
            validation_data=validation,
            metrics=["accuracy"],
            callbacks=callbacks,
        )


def _init_training(cfg: _Config, seed: int) -> dict:
    """Same task, same budget, four inits: 4 hidden layers of 64 on two moons."""
    X, y = _moons(cfg.train_points, _rng(seed, 31))
    out: dict = {}
    for act in ("relu", "tanh"):
        out[act] = {}
        for k, (name, init) in enumerate(INITS.items()):
            model = _net([2, 64, 64, 64, 64, 1], act, init, _rng(seed, 32, k))
            h = _train(
                model, X, y, lr=0.05, momentum=0.9, epochs=cfg.init_epochs, rng=_rng(seed, 33, k)
            )
            final = evaluate(model, BCEWithLogitsLoss(), X, y, ["accuracy"])
            out[act][name] = {
                "epoch_loss": h.epoch_loss,
                "final_loss": final["loss"],
                "final_accuracy": final["accuracy"],
            }
    return out


def _unit_signature(model: Sequential) -> np.ndarray:
    """One row per hidden unit: its incoming weights, bias and outgoing weight, (H, D + 2)."""
    first, last = model.layers[0], model.layers[-1]
    return np.column_stack([first.weight.value.T, first.bias.value, last.weight.value])


def _symmetry(cfg: _Config, seed: int) -> dict:
    """One hidden layer of 16 tanh units: zeros, a constant, and Xavier, trained alike."""
    X, y = _moons(cfg.train_points, _rng(seed, 41))
    out: dict = {}
    for k, (name, init) in enumerate(
        (("zeros", "zeros"), ("constant 0.3", _constant(0.3)), ("Xavier", "xavier_normal"))
    ):
        model = _net([2, 16, 1], "tanh", init, _rng(seed, 42, k))
        h = _train(model, X, y, lr=0.5, epochs=cfg.init_epochs, rng=_rng(seed, 43))
        sig = _unit_signature(model)
        scale = max(float(np.max(np.abs(sig))), TINY)
        spread = float(np.max(np.abs(sig - sig[0]))) / scale  # 0: every unit equals unit 0
        # distinct units: rows that differ from every earlier row by more than 1e-9 (relative)
        distinct = sum(
            1
            for i in range(sig.shape[0])
            if all(np.max(np.abs(sig[i] - sig[j])) > 1e-9 * scale for j in range(i))
        )
        final = evaluate(model, BCEWithLogitsLoss(), X, y, ["accuracy"])
        out[name] = {
            "hidden_units": int(sig.shape[0]),
            "distinct_units": int(distinct),
            "relative_spread": spread,
            "max_abs_hidden_weight": float(np.max(np.abs(model.layers[0].weight.value))),
            "output_bias": float(model.layers[-1].bias.value[0]),
            "final_loss": final["loss"],
            "final_accuracy": final["accuracy"],
            "epochs": h.epochs,
        }
    return out


def _activation_outputs(model: Sequential, X: np.ndarray) -> list[np.ndarray]:
    """The (N, units) output of every hidden activation layer for inputs X."""
    outs, h = [], X
    for layer in model.layers:
        h = layer.forward(h)
        if not isinstance(layer, Linear):
            outs.append(h)
    return outs


def _dead_fractions(model: Sequential, X: np.ndarray) -> list[float]:
    """Per hidden layer: fraction of units whose output is <= 0 on every example of X.

    For ReLU that is an output of exactly 0 everywhere (a dead unit); for leaky ReLU, a unit
    stuck on its negative side (its output is small but not 0, and it still gets gradient).
    """
    return [float(np.mean(np.all(a <= 0.0, axis=0))) for a in _activation_outputs(model, X)]


def _set_hidden_bias(model: Sequential, value: float) -> None:
    for layer in model.layers[:-1]:
        if isinstance(layer, Linear):
            layer.bias.value[...] = value


def _bias_init(cfg: _Config, seed: int) -> dict:
    """Dead-at-init ReLU fraction (He weights) for hidden biases 0, 0.01, 0.1, over seeds."""
    X, _ = _moons(cfg.train_points, _rng(seed, 51))
    sizes = [2, 64, 64, 64, 64, 1]
    out: dict = {}
    for bias in (0.0, 0.01, 0.1):
        per_layer = []
        for s in range(cfg.bias_seeds):
            model = _net(sizes, "relu", "he_normal", _rng(seed, 52, s))
            _set_hidden_bias(model, bias)
            per_layer.append(_dead_fractions(model, X))
        per_layer = np.asarray(per_layer)  # (seeds, layers)
        out[f"{bias:g}"] = {
            "dead_per_layer": per_layer.mean(axis=0).tolist(),
            "dead_overall": float(per_layer.mean()),
            "nets_with_a_dead_unit": int(np.sum(per_layer.max(axis=1) > 0)),
        }
    out["nets"] = cfg.bias_seeds
    return out


# ============================================================================================
# 3. activations
# ============================================================================================

ACTIVATION_NAMES = ("relu", "leaky_relu", "tanh", "sigmoid")
DEFAULT_INIT = {
    "relu": "he_normal",
    "leaky_relu": "he_normal",
    "tanh": "xavier_normal",
    "sigmoid": "xavier_normal",
}
TARGET_ACCURACY = 0.95
KILL_LR = 2.5  # kills much of a ReLU layer on the moons; 3 sometimes diverges instead


def _activation_race(cfg: _Config, seed: int) -> dict:
    """Two hidden layers of 32 on two moons, SGD lr 0.1, same budget for each activation."""
    X, y = _moons(cfg.train_points, _rng(seed, 61))
    Xv, yv = _moons(cfg.train_points, _rng(seed, 62))
    out: dict = {}
    for act in ACTIVATION_NAMES:
        model = _net([2, 32, 32, 1], act, DEFAULT_INIT[act], _rng(seed, 63))
        h = _train(
            model,
            X,
            y,
            lr=0.1,
            epochs=cfg.act_epochs,
            batch_size=16,
            rng=_rng(seed, 64),
            validation=(Xv, yv),
        )
        acc = h.val_metrics["accuracy"]
        reached = [i + 1 for i, a in enumerate(acc) if a >= TARGET_ACCURACY]
        out[act] = {
            "val_loss": h.val_loss,
            "train_loss": h.epoch_loss,
            "final_val_accuracy": acc[-1],
            "final_val_loss": h.val_loss[-1],
            "epochs_to_target": reached[0] if reached else None,
        }
    out["target_accuracy"] = TARGET_ACCURACY
    out["epochs"] = cfg.act_epochs
    return out


def _first_layer_grad_norm(cfg: _Config, seed: int) -> dict:
    """||dL/dW1|| at initialization against depth (hidden layers of 32), mean over nets."""
    X, y = _moons(cfg.train_points, _rng(seed, 71))
    loss = BCEWithLogitsLoss()
    out: dict = {"depths": list(cfg.depth_list)}
    for act in ACTIVATION_NAMES:
        norms, per_layer_deepest = [], None
        for depth in cfg.depth_list:
            vals = []
            for s in range(cfg.depth_seeds):
                model = _net([2] + [32] * depth + [1], act, DEFAULT_INIT[act], _rng(seed, 72, s))
                loss.forward(model.forward(X), y)
                model.backward(loss.backward())
                vals.append(float(np.linalg.norm(model.layers[0].weight.grad)))
                if depth == cfg.depth_list[-1] and s == 0:
                    per_layer_deepest = [
                        float(np.linalg.norm(layer.weight.grad))
                        for layer in model.layers
                        if isinstance(layer, Linear)
                    ]
            norms.append(float(np.mean(vals)))
        out[act] = {"first_layer_grad_norm": norms, "per_layer_deepest": per_layer_deepest}
    return out


def _dead_relu(cfg: _Config, seed: int) -> dict:
    """Kill ReLU units (negative bias init; too-large lr), detect them, try the mitigations."""
    X, y = _moons(cfg.train_points, _rng(seed, 81))
    runs = {  # name: (activation, hidden bias at init, lr)
        "ReLU, bias −3, lr 0.5": ("relu", -3.0, 0.5),
        f"ReLU, bias 0, lr {KILL_LR:g}": ("relu", 0.0, KILL_LR),
        "ReLU, bias 0, lr 0.5 (He default)": ("relu", 0.0, 0.5),
        "leaky ReLU, bias −3, lr 0.5": ("leaky_relu", -3.0, 0.5),
    }
    out: dict = {}
    for name, (act, bias, lr) in runs.items():
        model = _net([2, 64, 64, 1], act, "he_normal", _rng(seed, 82))
        _set_hidden_bias(model, bias)
        at_init = _dead_fractions(model, X)
        h = _train(model, X, y, lr=lr, epochs=cfg.dead_epochs, rng=_rng(seed, 83))
        record = {"activation": act, "bias": bias, "lr": lr, "dead_at_init": at_init}
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # a diverged net overflows
                record.update(_inspect_stuck_units(model, X, y))
        except NonFiniteError:  # the run diverged: activations overflow, nothing to inspect
            record.update(
                dead_after=None,
                dead_after_overall=None,
                max_grad_into_stuck_units=None,
                final_accuracy=None,
            )
        record["stop_reason"] = h.stop_reason
        out[name] = record
    return out


def _inspect_stuck_units(model: Sequential, X: np.ndarray, y: np.ndarray) -> dict:
    """Dead fractions after training, the gradient those units get, and the accuracy."""
    after = _dead_fractions(model, X)
    outs = _activation_outputs(model, X)
    loss = BCEWithLogitsLoss()
    logits = model.forward(X)
    accuracy = float(np.mean((logits[:, 0] > 0) == (y == 1)))
    loss.forward(logits, y)
    model.backward(loss.backward())  # full-batch gradient: exactly 0 into dead ReLU units
    linears = [layer for layer in model.layers if isinstance(layer, Linear)]
    stuck_grad = 0.0
    for a, lin in zip(outs, linears):
        stuck = np.all(a <= 0.0, axis=0)
        if np.any(stuck):
            g = np.concatenate([lin.weight.grad[:, stuck].ravel(), lin.bias.grad[stuck]])
            stuck_grad = max(stuck_grad, float(np.max(np.abs(g))))
    return {
        "dead_after": after,
        "dead_after_overall": float(np.mean(after)),
        "max_grad_into_stuck_units": stuck_grad,
        "final_accuracy": accuracy,
    }


# ============================================================================================
# 4. batch size
# ============================================================================================


def _flat_grad(model: Sequential, loss: BCEWithLogitsLoss, X: np.ndarray, y: np.ndarray):
    """Mean-BCE gradient of all parameters on (X, y), flattened to one vector (P,)."""
    loss.forward(model.forward(X), y)
    model.backward(loss.backward(), input_grad=False)
    return np.concatenate([p.grad.ravel() for p in model.parameters()])


def _batch_variance(cfg: _Config, seed: int) -> dict:
    """E||g_B - g||^2 at one parameter point, with and without replacement, many draws."""
    n = cfg.var_points
    X, y = _moons(n, _rng(seed, 91))
    model = _net([2, 16, 1], "tanh", "xavier_normal", _rng(seed, 92))
    _train(model, X, y, lr=0.5, epochs=3, rng=_rng(seed, 93))  # a typical point, not the init
    loss = BCEWithLogitsLoss()
    g = _flat_grad(model, loss, X, y)
    per_example = np.stack([_flat_grad(model, loss, X[i : i + 1], y[i : i + 1]) for i in range(n)])
    sigma2 = float(np.mean(np.sum((per_example - g) ** 2, axis=1)))  # trace of the covariance
    rng = _rng(seed, 94)
    sizes = [1, 4, 16, 64, 256]
    measured = {"with replacement": [], "without replacement": []}
    for b in sizes:
        for scheme, values in measured.items():
            total = 0.0
            for _ in range(cfg.var_draws):
                if scheme == "with replacement":
                    idx = rng.integers(0, n, size=b)
                else:
                    idx = rng.choice(n, size=b, replace=False)
                d = _flat_grad(model, loss, X[idx], y[idx]) - g
                total += float(d @ d)
            values.append(total / cfg.var_draws)
    perm = rng.permutation(n)  # B = N without replacement: the same rows, another order
    full = _flat_grad(model, loss, X[perm], y[perm])
    logb = np.log(sizes)
    fpc = np.array([(n - b) / (n - 1) for b in sizes])
    wo = np.asarray(measured["without replacement"])
    wr = np.asarray(measured["with replacement"])
    theory_wr = sigma2 / np.asarray(sizes, dtype=float)
    g_sum = _sum_gradient(model, X, y)
    return {
        "n": n,
        "draws": cfg.var_draws,
        "batch_sizes": sizes,
        "sigma2": sigma2,
        "measured": measured,
        "theory_with_replacement": theory_wr.tolist(),
        "theory_without_replacement": (theory_wr * fpc).tolist(),
        "fpc": fpc.tolist(),
        "slope_with_replacement": float(np.polyfit(logb, np.log(wr), 1)[0]),
        "slope_without_replacement": float(np.polyfit(logb, np.log(wo), 1)[0]),
        "slope_without_replacement_fpc_removed": float(np.polyfit(logb, np.log(wo / fpc), 1)[0]),
        "ratio_to_theory_with": (wr / theory_wr).tolist(),
        "ratio_to_theory_without": (wo / (theory_wr * fpc)).tolist(),
        "full_batch_shuffled_sq_diff": float(np.sum((full - g) ** 2)),
        "sum_over_mean_grad_norm": float(np.linalg.norm(g_sum) / np.linalg.norm(g)),
        "grad_norm": float(np.linalg.norm(g)),
    }


def _sum_gradient(model: Sequential, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The same full-batch gradient with reduction="sum" (seed 002's convention)."""
    loss = BCEWithLogitsLoss(reduction="sum")
    loss.forward(model.forward(X), y)
    model.backward(loss.backward(), input_grad=False)
    return np.concatenate([p.grad.ravel() for p in model.parameters()])


BASE_BATCH, BASE_LR, AGGRESSIVE = 16, 0.05, 128.0


def _lr_scaling(cfg: _Config, seed: int) -> dict:
    """Double the batch: keep lr, sqrt(2) lr, 2 lr; and a far too large 128 lr, same epochs."""
    X, y = _moons(cfg.lr_points, _rng(seed, 101), noise=0.25)
    runs = {
        f"B={BASE_BATCH}, lr={BASE_LR:g}": (BASE_BATCH, 1.0),
        f"B={2 * BASE_BATCH}, lr": (2 * BASE_BATCH, 1.0),
        f"B={2 * BASE_BATCH}, √2·lr": (2 * BASE_BATCH, math.sqrt(2.0)),
        f"B={2 * BASE_BATCH}, 2·lr": (2 * BASE_BATCH, 2.0),
        f"B={2 * BASE_BATCH}, {AGGRESSIVE:g}·lr": (2 * BASE_BATCH, AGGRESSIVE),
    }
    out: dict = {"base_batch": BASE_BATCH, "base_lr": BASE_LR, "seeds": cfg.lr_seeds, "runs": {}}
    for name, (batch, mult) in runs.items():
        per_seed = []
        for s in range(cfg.lr_seeds):
            model = _net([2, 32, 32, 1], "tanh", "xavier_normal", _rng(seed, 102, s))
            monitor = _GradNorm()
            h = _train(
                model,
                X,
                y,
                lr=BASE_LR * mult,
                epochs=cfg.lr_epochs,
                batch_size=batch,
                rng=_rng(seed, 103, s),
                callbacks=[monitor],
            )
            final = _evaluate(model, X, y)
            per_seed.append((h, monitor.norms, final))
        out["runs"][name] = _summarize_runs(per_seed, batch, mult)
    base = np.log(out["runs"][next(iter(runs))]["epoch_loss"])
    for rec in out["runs"].values():
        log_ratio = np.log(rec["epoch_loss"][: base.size]) - base[: len(rec["epoch_loss"])]
        rec["curve_distance_to_base"] = float(np.mean(np.abs(log_ratio)))  # mean |Δ log loss|
        rec["curve_log_ratio_to_base"] = float(np.mean(log_ratio))  # > 0: above the B curve
    return out


def _evaluate(model: Sequential, X: np.ndarray, y: np.ndarray) -> dict:
    """Loss and accuracy on (X, y); NaN for a model whose outputs overflow (a diverged run)."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            return evaluate(model, BCEWithLogitsLoss(), X, y, ["accuracy"])
    except NonFiniteError:
        return {"loss": math.nan, "accuracy": math.nan}


def _nanmean(values: Sequence[float]) -> float | None:
    """Mean of the finite values; None when there are none (JSON has no NaN)."""
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def _summarize_runs(per_seed: list, batch: int, mult: float) -> dict:
    """Mean over seeds of the final numbers and the monitors, plus seed 0's curves."""
    epochs = min(len(h.epoch_loss) for h, _, _ in per_seed)
    curves = np.array([h.epoch_loss[:epochs] for h, _, _ in per_seed])
    rises, norm_ratio, noise = [], [], []
    for h, norms, _ in per_seed:
        rises.append(int(np.sum(np.diff(h.epoch_loss) > 0)))
        norms = np.asarray(norms)
        norm_ratio.append(float(np.max(norms) / np.median(norms)))
        half = np.asarray(h.step_loss[len(h.step_loss) // 2 :])
        noise.append(float(np.std(np.diff(half)) / math.sqrt(2.0) / np.mean(half)))
    h0, norms0, _ = per_seed[0]
    return {
        "batch_size": batch,
        "lr_multiplier": mult,
        "final_loss": _nanmean([f["loss"] for _, _, f in per_seed]),
        "final_accuracy": _nanmean([f["accuracy"] for _, _, f in per_seed]),
        "first_epoch_loss": float(curves[:, 0].mean()),
        "epoch_loss": curves.mean(axis=0).tolist(),
        "epoch_loss_rises": float(np.mean(rises)),
        "grad_norm_max_over_median": float(np.mean(norm_ratio)),
        "step_loss_noise": float(np.mean(noise)),
        "diverged": sum(h.stop_reason == "diverged" for h, _, _ in per_seed),
        "_grad_norms_seed0": norms0,  # for the figure only, not kept in the metrics
        "steps_per_epoch": math.ceil(len(h0.step_loss) / max(h0.epochs, 1)),
    }


# ============================================================================================
# figures
# ============================================================================================

FLOOR = 1e-17  # relative errors of exactly 0 are drawn here on log axes
CAP = 1e3  # and errors above this (the patches' ~1e-15 floor on a loss of e^-1000) here


def _save(fig, path: Path) -> Path:
    """``plots.save_figure`` with lighter log axes: plain "1e-05" labels, fewer minor ticks.

    Matplotlib's default log-axis labels are typeset as mathtext, and every minor tick is an
    object to lay out; on axes spanning many decades that was most of the drawing time.
    """
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() == "log":
                low, high = axis.get_view_interval()
                axis.set_major_formatter(ticker.LogFormatter())
                if high > 100 * low:  # several decades: the major ticks say enough
                    axis.set_minor_locator(ticker.NullLocator())
                else:  # a short range: label the minor ticks too
                    axis.set_minor_formatter(ticker.LogFormatter(labelOnlyBase=False))
            elif axis.get_scale() == "symlog":
                axis.set_major_formatter(ticker.ScalarFormatter())
                axis.set_minor_locator(ticker.NullLocator())
    return plots.save_figure(fig, path)


def _fig_bce(st: dict, path: Path) -> Path:
    fig, axes = plots.new_figure(ncols=2, size=(6.2, 4.2))
    z = np.asarray(st["_z"])
    for ax, label in zip(axes, ("y=1", "y=0")):
        for i, (name, curves) in enumerate(st["_curves"].items()):
            err = np.asarray(curves[label])
            ok = np.isfinite(err)
            shown = np.clip(err[ok], FLOOR, CAP)
            ax.plot(z[ok], shown, ".", ms=2.5, label=name, color=f"C{i}")
            if np.any(~ok):
                at = np.full(int((~ok).sum()), 10 * CAP * 3**i)
                ax.plot(z[~ok], at, "x", ms=4, color=f"C{i}", label=f"{name}: inf / NaN")
        ax.set_xscale("symlog", linthresh=50.0)
        ax.set_yscale("log")
        ax.set_title(f"Binary cross-entropy, label {label}: relative error")
        ax.set_xlabel("logit z (symlog axis, linear in [−50, 50])")
        ax.set_ylabel(f"relative error (0 drawn at {FLOOR:g}, capped at {CAP:g})")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="x-small", loc="center left")
    return _save(fig, path)


def _fig_precision(cp: dict, sm: dict, path: Path) -> Path:
    fig, axes = plots.new_figure(ncols=2, size=(6.2, 4.2))
    z = np.asarray(cp["z"])
    series = {
        name: np.clip(np.nan_to_num(rec["rel_err"], posinf=1.0), FLOOR, None)
        for name, rec in cp["q"].items()
    }
    plots.plot_curves(
        axes[0],
        series,
        x=dict.fromkeys(series, z),
        logy=True,
        title="Computing 1 − p = 1 / (1 + exp(z))",
        xlabel="logit z",
        ylabel=f"relative error (0 drawn at {FLOOR:g})",
    )
    s = np.asarray(sm["s"])
    series = {
        name: np.where(np.isnan(err), 10.0, np.maximum(np.asarray(err, dtype=float), FLOOR))
        for name, err in sm["rel_err"].items()
    }
    plots.plot_curves(
        axes[1],
        series,
        x=dict.fromkeys(series, s),
        logy=True,
        title="softmax / log-sum-exp of [s, s−1, s−2]",
        xlabel="largest logit s",
        ylabel="worst relative error (NaN drawn at 10)",
    )
    return _save(fig, path)


def _fig_init_depth(ini: dict, path: Path) -> Path:
    fig, axes = plots.new_figure(ncols=2, size=(6.2, 4.4))
    for ax, act in zip(axes, ("relu", "tanh")):
        zero = []
        for i, (name, rec) in enumerate(ini[act].items()):
            if max(rec["forward_std"]) == 0 and max(rec["backward_std"]) == 0:
                zero.append(name)
                continue
            layers = np.arange(1, len(rec["forward_std"]) + 1)
            ax.plot(
                layers, rec["forward_std"], "-o", ms=3, color=f"C{i}", label=f"{name}: activations"
            )
            ax.plot(
                layers, rec["backward_std"], "--s", ms=3, color=f"C{i}", label=f"{name}: gradients"
            )
        ax.set_yscale("log")
        note = f"\n({', '.join(zero)}: exactly 0, not drawn)" if zero else ""
        ax.set_title(f"{act}: std per hidden layer{note}")
        ax.set_xlabel("hidden layer")
        ax.set_ylabel("std of activations (solid) / of dL/d(activation) (dashed)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="x-small")
    return _save(fig, path)


def _fig_init_training(tr: dict, sym: dict, path: Path) -> Path:
    fig, axes = plots.new_figure(ncols=2, size=(6.2, 4.2))
    ax = axes[0]
    for act, style in (("relu", "-"), ("tanh", "--")):
        for i, (name, rec) in enumerate(tr[act].items()):
            epochs = np.arange(1, len(rec["epoch_loss"]) + 1)
            ax.plot(epochs, rec["epoch_loss"], style, color=f"C{i}", label=f"{act}, {name}")
    ax.set_yscale("log")
    ax.set_title("Training loss per init (4 hidden layers of 64)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean BCE over the epoch")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="x-small", ncol=2)
    names = list(sym)
    ax = axes[1]
    plots.plot_bars(
        ax,
        {"training accuracy (%)": [100 * sym[n]["final_accuracy"] for n in names]},
        names,
        title=f"Symmetry: {sym[names[0]]['hidden_units']} tanh units, one hidden layer",
        ylabel="training accuracy (%)",
        xlabel="initialization (label: distinct hidden units after training)",
    )
    for i, n in enumerate(names):
        text = f"{sym[n]['distinct_units']} of {sym[n]['hidden_units']} distinct"
        ax.text(i, 100 * sym[n]["final_accuracy"] + 1, text, ha="center", fontsize="small")
    ax.set_ylim(0, 110)
    return _save(fig, path)


def _fig_activations(race: dict, depth: dict, path: Path) -> Path:
    fig, axes = plots.new_figure(ncols=2, size=(6.2, 4.2))
    plots.plot_curves(
        axes[0],
        {a: race[a]["val_loss"] for a in ACTIVATION_NAMES},
        logy=True,
        title="Two moons, 2 hidden layers of 32, SGD lr 0.1",
        xlabel="epoch",
        ylabel="held-out BCE",
    )
    plots.plot_curves(
        axes[1],
        {a: depth[a]["first_layer_grad_norm"] for a in ACTIVATION_NAMES},
        x=dict.fromkeys(ACTIVATION_NAMES, depth["depths"]),
        logy=True,
        title="First-layer gradient at initialization",
        xlabel="hidden layers (32 units each)",
        ylabel="‖dL/dW1‖ (Frobenius)",
    )
    return _save(fig, path)


def _fig_dead(dead: dict, path: Path) -> Path:
    fig, ax = plots.new_figure(size=(9.0, 4.2))
    names = list(dead)
    groups = {}
    for layer in (0, 1):
        groups[f"layer {layer + 1}, at init"] = [dead[n]["dead_at_init"][layer] for n in names]
        groups[f"layer {layer + 1}, after training"] = [
            (dead[n]["dead_after"] or [np.nan, np.nan])[layer] for n in names
        ]
    labels = [n.replace(", lr", "\nlr") for n in names]
    plots.plot_bars(
        ax,
        groups,
        labels,
        ylabel="fraction of units ≤ 0 on every example",
        title="Dead ReLU units: killed by a negative bias or a large lr, and the fixes",
    )
    return _save(fig, path)


def _fig_variance(bv: dict, path: Path) -> Path:
    fig, ax = plots.new_figure(size=(6.4, 4.4))
    b = np.asarray(bv["batch_sizes"], dtype=float)
    fine = np.geomspace(b[0], b[-1], 100)
    n, s2 = bv["n"], bv["sigma2"]
    ax.plot(fine, s2 / fine, "k-", lw=1, label="σ²/B (with replacement)")
    ax.plot(fine, s2 / fine * (n - fine) / (n - 1), "k--", lw=1, label="σ²/B · (N−B)/(N−1)")
    ax.plot(b, bv["measured"]["with replacement"], "o", label="measured, with replacement")
    ax.plot(
        b,
        bv["measured"]["without replacement"],
        "s",
        mfc="none",
        label="measured, without replacement",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(f"Minibatch gradient noise, N = {n}, {bv['draws']} draws per point")
    ax.set_xlabel("batch size B")
    ax.set_ylabel("E ‖g_B − g‖²")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, path)


def _fig_lr(lr: dict, path: Path) -> Path:
    fig, axes = plots.new_figure(ncols=2, size=(6.2, 4.2))
    runs = lr["runs"]
    plots.plot_curves(
        axes[0],
        {n: r["epoch_loss"] for n, r in runs.items()},
        logy=True,
        title="Doubling the batch: training loss",
        xlabel="epoch",
        ylabel="mean BCE over the epoch",
    )
    names = list(runs)
    shown = {n: runs[n]["_grad_norms_seed0"] for n in (names[0], names[3], names[4])}
    x = {n: (np.arange(len(v)) + 1) / runs[n]["steps_per_epoch"] for n, v in shown.items()}
    plots.plot_curves(
        axes[1],
        shown,
        x=x,
        logy=True,
        title="Monitor: gradient norm of every step",
        xlabel="epoch",
        ylabel="‖g‖ of the step's batch",
    )
    return _save(fig, path)


# ============================================================================================
# prose: every number is filled in, and every direction chosen, from the measurements
# ============================================================================================


def _say(*parts: str) -> str:
    """Sentences (or pieces) joined by single spaces, empty pieces dropped."""
    return " ".join(p.strip() for p in parts if p and p.strip())


def _ulp_words(n: float) -> str:
    return f"{fmt(n)} ulp" + ("" if n == 1 else "s")


def _factor(r: float) -> str:
    """ "shrinks by a factor of 26" or "grows by a factor of 1.3" for a ratio new / old."""
    if r < 1:
        return f"shrinks by a factor of {fmt(1 / r)}"
    return f"grows by a factor of {fmt(r)}"


def _md_bce(st: dict) -> str:
    forms = st["forms"]
    naive, clip, epsf, engine = list(forms)
    total = 2 * st["n_logits"]
    rows = []
    for name, row in forms.items():
        r1, r0 = row["y=1"], row["y=0"]
        rows.append(
            [
                name,
                f"{r1['non_finite']} ({r1['inf']} inf, {r1['nan']} NaN)",
                fmt(r1["max_rel_err_finite"]),
                f"{r0['non_finite']} ({r0['inf']} inf, {r0['nan']} NaN)",
                fmt(r0["max_rel_err_finite"]),
                r1["lost_all_precision"] + r0["lost_all_precision"],
            ]
        )
    table = md_table(
        [
            "form",
            "y=1: non-finite",
            "y=1: max rel. error of the finite values",
            "y=0: non-finite",
            "y=0: max rel. error of the finite values",
            "finite but rel. error ≥ 0.5",
        ],
        rows,
    )
    ff = st["naive_first_non_finite"]
    pp = st["naive_p_at_first_failure"]
    if pp["positive_z"] == 1.0:
        why_pos = (
            "p = 1/(1 + exp(−z)) evaluates to exactly 1, so the y = 0 loss is −log 0 = inf and "
            "the y = 1 loss contains 0 · log 0 = NaN from the term its label switches off"
        )
    else:
        why_pos = f"p evaluates to {pp['positive_z']!r}"
    if pp["negative_z"] == 0.0:
        why_neg = "exp(−z) overflows, p is exactly 0, and the roles swap"
    else:
        why_neg = f"p evaluates to {pp['negative_z']!r}"
    naive_bad = forms[naive]["y=1"]["non_finite"] + forms[naive]["y=0"]["non_finite"]
    first_fail = _say(
        f"The naive −[y log p + (1 − y) log(1 − p)] is not finite at {naive_bad} of the",
        f"{total} points. Bisection on the formula puts its first failure at",
        f"z = {ff['y=0_positive_z']:.6g} for y = 0 and z = {ff['y=1_positive_z']:.6g} for",
        f"y = 1: there {why_pos}. On the negative side it fails from",
        f"z = {ff['y=1_negative_z']:.6g} (y = 1) and {ff['y=0_negative_z']:.6g} (y = 0):",
        f"{why_neg}.",
    )
    r1 = forms[naive]["y=1"]
    precision = _say(
        "Before that it already loses its digits on the correct label: for y = 1 its relative",
        f"error passes 1e−8 at z = {fmt(r1['first_err_above_1e-8_pos'], 4)} and the first",
        f"value off by 50% or more (or not finite) is at z = {fmt(r1['first_bad_pos'], 4)};",
        "for y = 0 the first such value is at",
        f"z = −{fmt(forms[naive]['y=0']['first_bad_neg'], 4)}.",
        "The exact loss there, about e^−|z|, is smaller than the spacing of floats near 1,",
        "where p lives.",
    )
    probe = {round(r["z"]): r for r in st["wrong_label_probe"]}[1000]
    slopes = st["slope_at_z1000_y0"]
    patch_bad = sum(forms[n][lab]["non_finite"] for n in (clip, epsf) for lab in ("y=1", "y=0"))
    floor_clip = forms[clip]["y=1"]["min_finite_value"]
    floor_eps = forms[epsf]["y=1"]["min_finite_value"]
    capped = probe[clip] < 0.5 * probe["exact"] and probe[epsf] < 0.5 * probe["exact"]
    flat = all(abs(slopes[n]) < 1e-6 for n in (clip, epsf))
    patches = _say(
        "The patches are",
        "finite everywhere" if patch_bad == 0 else f"not finite at {patch_bad} points",
        f"but on a correct label clip never goes below {fmt(floor_clip)} and log(p + eps)",
        f"{'even goes negative, to' if floor_eps < 0 else 'never below'} {fmt(floor_eps)},",
        "whatever the exact loss (at z = 1000 it is e^−1000, below the float64 range). That",
        "is the huge relative error in the table; it is harmless in absolute terms. The harm",
        "is on the wrong label: at",
        f"z = 1000 with y = 0 (exact loss {fmt(probe['exact'], 6)}) clip gives",
        f"{fmt(probe[clip], 6)} and log(p + eps) gives {fmt(probe[epsf], 6)}, and their slope",
        f"there, by central differences, is {fmt(slopes[clip])} and {fmt(slopes[epsf])} where",
        f"the true gradient is 1 (the engine's backward: {fmt(slopes['engine backward'])}).",
        "So the patches cap the penalty at −log(eps) and switch off the learning signal of",
        "exactly the confidently wrong examples."
        if capped and flat
        else "In this run the patches did not distort the wrong-label loss.",
    )
    e_engine = max(forms[engine][lab]["max_rel_err_finite"] for lab in ("y=1", "y=0"))
    engine_bad = forms[engine]["y=1"]["non_finite"] + forms[engine]["y=0"]["non_finite"]
    engine_text = _say(
        "The engine's `BCEWithLogitsLoss`, y·softplus(−z) + (1 − y)·softplus(z), is",
        f"finite at all {total} points" if engine_bad == 0 else f"not finite at {engine_bad}",
        f"with a worst relative error of {fmt(e_engine)} ({e_engine / EPS:.2f} × machine",
        "epsilon).",
    )
    probe_table = md_table(
        ["z (label 0)", "exact loss", "naive", "clip", "log(p + eps)", "engine"],
        [
            [fmt(r["z"], 4), fmt(r["exact"], 6)]
            + [fmt(r[n], 6) for n in (naive, clip, epsf, engine)]
            for r in st["wrong_label_probe"]
        ],
    )
    return "\n\n".join(
        [
            "### 1. Numerical stability",
            _say(
                f"**Measured:** binary cross-entropy at {st['n_logits']} logits from",
                f"{fmt(st['z_range'][0], 4)} to {fmt(st['z_range'][1], 4)} with both labels",
                f"({total} values), four ways, against {st['reference']}; relative errors of",
                "results below the normal range are taken against 2.2e−308 (figure",
                "`stability_bce.png`).",
            ),
            table,
            first_fail,
            precision,
            patches,
            engine_text,
            "The wrong label (y = 0) at growing logits:",
            probe_table,
        ]
    )


def _md_complement(cp: dict) -> str:
    q, lq = cp["q"], cp["log_q"]
    qn = q["1 − sigmoid(z)"]
    good = {k: v["max_rel_err"] for k, v in q.items() if k != "1 − sigmoid(z)"}
    best = min(good, key=good.get)
    t1 = md_table(
        ["1 − p computed as", "max rel. error on [0, 40]", "error > 1e−8 from z =", "0 from z ="],
        [
            [
                k,
                fmt(v["max_rel_err"]),
                fmt(v["first_z_err_above_1e-8"], 4),
                fmt(v["first_z_zero"], 4),
            ]
            for k, v in q.items()
        ],
    )
    t2 = md_table(
        ["log(1 − p) computed as", "max rel. error of the finite values", "not finite from z ="],
        [[k, fmt(v["max_rel_err_finite"]), fmt(v["first_z_non_finite"], 4)] for k, v in lq.items()],
    )
    log_f, log1p_f = lq["log(1 − p)"]["first_z_non_finite"], lq["log1p(−p)"]["first_z_non_finite"]
    digits = cp["naive_digits_lost_per_unit_z"]
    text = _say(
        "1 − sigmoid(z) subtracts two numbers that share their leading digits. Its relative",
        f"error passes 1e−8 at z = {fmt(qn['first_z_err_above_1e-8'], 4)}, grows by",
        f"{fmt(digits)} decimal digits per unit of z (the fitted slope of log10 of the error;",
        "log10(e) = 0.434 is what an absolute error of one rounding of 1 divided by e^−z",
        f"gives), and the result is exactly 0 from z = {fmt(qn['first_z_zero'], 4)}: at z = 40",
        "sigmoid(z)",
        "is exactly 1.0" if cp["sigmoid_at_40_is_one"] else "is still below 1",
        f"while the complement is {fmt(cp['exact_q_at_40'])}. The forms that never subtract",
        f"stay within {fmt(max(good.values()))} on the whole interval (best: {best},",
        f"{fmt(good[best])}).",
    )
    primitive = _say(
        "expm1 and log1p only help when their argument still carries the information.",
        "−expm1(log_sigmoid(z)) works because log_sigmoid(z) = −softplus(−z) is computed from",
        "z without forming p. log1p(−p)",
        "fails exactly where log(1 − p) fails"
        if log_f == log1p_f
        else "fails at a different logit than log(1 − p)",
        f"(not finite from z = {fmt(log1p_f, 4)} and {fmt(log_f, 4)}), because p was rounded",
        "before log1p saw it. For the loss term itself, log(1 − p) = −softplus(z) has a worst",
        f"relative error of {fmt(lq['−softplus(z)']['max_rel_err_finite'])}.",
    )
    return "\n\n".join(
        [
            _say(
                "**Follow-up: where does 1 − p lose precision, and which primitive recovers",
                f"it?** Measured at {len(cp['z'])} points of [0, 40], p = sigmoid(z) computed",
                "stably (figure `precision.png`, left):",
            ),
            t1,
            t2,
            text,
            primitive,
        ]
    )


def _md_softmax(sm: dict, bm: dict) -> str:
    err, bad = sm["max_rel_err_finite"], sm["non_finite"]
    softmax = _say(
        "**Softmax without the max shift.** For logits [s, s − 1, s − 2] with s from −1000 to",
        f"1000 ({len(sm['s'])} values; the exact softmax does not depend on s),",
        f"exp(z)/Σ exp(z) is NaN at {bad['naive softmax']} of them: from",
        f"s = {sm['naive_softmax_first_nan_pos']:.6g} up (exp overflows: inf/inf) and from",
        f"s = {sm['naive_softmax_first_nan_neg']:.6g} down (every exp underflows: 0/0).",
        f"Where it is finite its worst relative error is {fmt(err['naive softmax'])}. The",
        f"engine's shifted softmax is NaN at {bad['engine softmax']} points, worst relative",
        f"error {fmt(err['engine softmax'])}; log(Σ exp) is not finite at",
        f"{bad['naive log(sum(exp))']} points, the engine's logsumexp at",
        f"{bad['engine logsumexp']} (worst relative error {fmt(err['engine logsumexp'])};",
        "figure `precision.png`, right).",
    )
    agree = _agreement(bm)
    binary = _say(
        "**Follow-up: from binary to multiclass.** Softmax cross-entropy on the two logits",
        f"[0, z] with label y and BCE on the logit z with label y agree {agree}, over",
        f"{bm['n_logits']} logits in [−1000, 1000] and both labels. The algebra behind it:",
        "softplus(−z) = log(e⁰ + e^z) − z is the two-class log-sum-exp minus the true logit,",
        "so the stable binary form max(z, 0) + log1p(e^−|z|) is the two-class case of",
        "m + log1p(Σ_{j ≠ argmax} e^(z_j − m)) with m = max_j z_j, which is how the engine",
        "computes the K-class loss: shift by the largest logit, and never form a",
        "probability before taking its log.",
    )
    return softmax + "\n\n" + binary


def _agreement(bm: dict) -> str:
    """How closely softmax CE on [0, z] matched BCE on z, in words."""

    def part(n: float, what: str) -> str:
        return f"exactly in the {what}" if n == 0 else f"within {_ulp_words(n)} in the {what}"

    return f"{part(bm['max_ulps_loss'], 'loss')} and {part(bm['max_ulps_grad'], 'gradient')}"


def _md_init(ini: dict, tr: dict, sym: dict, bias: dict, cfg: _Config) -> str:
    depth = cfg.init_depth
    rows, lines = [], []
    for act in ("relu", "tanh"):
        score = {}
        for name, r in ini[act].items():
            f, b = r["forward_std"], r["backward_std"]
            rows.append(
                [act, name, fmt(f[0]), fmt(f[-1]), fmt(b[-1]), fmt(b[0]), fmt(r["first_dW_std"])]
            )
            if f[0] > 0 and b[-1] > 0 and f[-1] > 0 and b[0] > 0:
                score[name] = abs(math.log(f[-1] / f[0])) + abs(math.log(b[0] / b[-1]))
        best = min(score, key=score.get)
        parts = []
        for name, r in ini[act].items():
            f, b = r["forward_std"], r["backward_std"]
            if max(f) == 0 and max(b) == 0:
                parts.append(f"{name}: exactly 0 forward and backward at every layer")
            elif name != best:
                parts.append(
                    f"{name}: the activation std {_factor(f[-1] / f[0])} (to {fmt(f[-1])}) and "
                    f"the gradient {_factor(b[0] / b[-1])} on its way back to layer 1"
                )
        fb = ini[act][best]
        lines.append(
            _say(
                f"- **{act}**: {best} keeps both signals steadiest (activation std",
                f"{fmt(fb['forward_std'][0])} at layer 1, {fmt(fb['forward_std'][-1])} at layer",
                f"{depth}; gradient std {fmt(fb['backward_std'][-1])} at layer {depth},",
                f"{fmt(fb['backward_std'][0])} at layer 1).",
                "; ".join(parts) + ".",
            )
        )
    t1 = md_table(
        [
            "activation",
            "init",
            "act. std, layer 1",
            f"act. std, layer {depth}",
            f"grad std, layer {depth}",
            "grad std, layer 1",
            "std of dL/dW1",
        ],
        rows,
    )
    trows, tlines = [], []
    for act in ("relu", "tanh"):
        for name, r in tr[act].items():
            trows.append([act, name, fmt(r["final_loss"]), _pct(r["final_accuracy"])])
        best = min(tr[act], key=lambda n: tr[act][n]["final_loss"])
        stuck = [n for n, r in tr[act].items() if r["final_accuracy"] <= 0.6]
        tlines.append(
            _say(
                f"- {act}: lowest final loss with {best} ({fmt(tr[act][best]['final_loss'])},",
                f"{_pct(tr[act][best]['final_accuracy'])} accuracy);",
                f"at chance level (accuracy ≤ 60%) after the budget: {', '.join(stuck)}."
                if stuck
                else "every init got past chance level.",
            )
        )
    t2 = md_table(["activation", "init", "final loss", "final accuracy"], trows)
    return "\n\n".join(
        [
            "### 2. Initialization",
            _say(
                f"**Measured:** {depth} hidden layers of {cfg.init_width} units,",
                f"{cfg.init_samples} inputs drawn from N(0, I), BCE on random labels; the std",
                "of each hidden activation (forward) and of the gradient arriving at it",
                "(backward), for each init (figure `init_depth.png`).",
            ),
            t1,
            "\n".join(lines),
            _say(
                f"**Training, same budget:** two moons ({cfg.train_points} points), 4 hidden",
                "layers of 64, SGD lr 0.05 with momentum 0.9, batch 32,",
                f"{cfg.init_epochs} epochs (figure `init_training.png`, left).",
            ),
            t2,
            "\n".join(tlines),
            _md_symmetry(sym),
            _md_bias(bias),
        ]
    )


def _md_symmetry(sym: dict) -> str:
    z, c, x = sym["zeros"], sym["constant 0.3"], sym["Xavier"]
    h = z["hidden_units"]
    table = md_table(
        [
            "init",
            f"distinct units (of {h})",
            "largest unit difference / largest weight",
            "max |W1|",
            "output bias",
            "accuracy",
        ],
        [
            [
                n,
                r["distinct_units"],
                fmt(r["relative_spread"]),
                fmt(r["max_abs_hidden_weight"]),
                fmt(r["output_bias"]),
                _pct(r["final_accuracy"]),
            ]
            for n, r in sym.items()
        ],
    )
    if z["max_abs_hidden_weight"] == 0.0:
        zeros = _say(
            f"With zeros every hidden weight is still exactly 0 after {z['epochs']} epochs:",
            "tanh(0) = 0 makes dW2 = hᵀg = 0, and W2 = 0 makes dW1 = 0, so only the output",
            f"bias learned (to {fmt(z['output_bias'])}) and the accuracy is",
            f"{_pct(z['final_accuracy'])}.",
        )
    else:
        zeros = (
            f"With zeros the hidden weights moved (max |W1| = {fmt(z['max_abs_hidden_weight'])})."
        )
    one = c["distinct_units"] == 1
    const = _say(
        f"A constant 0.3 lets the weights move (max |W1| = {fmt(c['max_abs_hidden_weight'])})",
        f"but keeps all {h} units identical" if one else f"and ends with {c['distinct_units']}",
        "" if one else "distinct units",
        f"(largest difference {fmt(c['relative_spread'])} of the largest weight): every unit",
        "receives the same gradient, so the layer is worth",
        "a single unit" if one else f"{c['distinct_units']} units",
        f"and reaches {_pct(c['final_accuracy'])}. The random Xavier draw gives",
        f"{x['distinct_units']} distinct units and {_pct(x['final_accuracy'])}.",
    )
    return "\n\n".join(
        [
            _say(
                f"**Symmetry:** one hidden layer of {h} tanh units, SGD lr 0.5, {z['epochs']}",
                "epochs on the same moons (figure `init_training.png`, right).",
            ),
            table,
            zeros + " " + const,
        ]
    )


def _md_bias(bias: dict) -> str:
    b0, b1, b2 = bias["0"], bias["0.01"], bias["0.1"]
    table = md_table(
        [
            "hidden bias",
            "dead per layer (mean)",
            "dead overall",
            f"nets with a dead unit (of {bias['nets']})",
        ],
        [
            [
                k,
                ", ".join(_pct(v) for v in bias[k]["dead_per_layer"]),
                _pct(bias[k]["dead_overall"]),
                bias[k]["nets_with_a_dead_unit"],
            ]
            for k in ("0", "0.01", "0.1")
        ],
    )
    change = b2["dead_overall"] - b0["dead_overall"]
    per_layer = b0["dead_per_layer"]
    deeper = per_layer[0] < min(per_layer[1:])
    text = _say(
        f"With He weights and zero biases, {_pct(b0['dead_overall'])} of the ReLU units of a",
        "2-input net with 4 hidden layers of 64 output 0 on every training input before the",
        f"first step (mean over {bias['nets']} nets; by layer:",
        f"{', '.join(_pct(v) for v in per_layer)}).",
        "Only the deeper layers have them: they see the non-negative outputs of the layer",
        "below, so a unit whose weights are mostly negative never fires, while the first layer",
        "sees centred inputs on both sides of every hyperplane through the origin."
        if deeper
        else "",
        f"A bias of 0.01 gives {_pct(b1['dead_overall'])} and 0.1 gives",
        f"{_pct(b2['dead_overall'])}: a small positive bias",
        "lowers" if change < 0 else "does not lower",
        f"the dead fraction ({abs(100 * change):.1f} percentage points at 0.1).",
    )
    return "\n\n".join(
        ["**Bias initialization for ReLU** (dead units at initialization):", table, text]
    )


def _md_activations(race: dict, depth: dict, cfg: _Config) -> str:
    rows = []
    for a in ACTIVATION_NAMES:
        r = race[a]
        rows.append(
            [
                a,
                DEFAULT_INIT[a],
                r["epochs_to_target"] or f"not within {race['epochs']}",
                _pct(r["final_val_accuracy"]),
                fmt(r["final_val_loss"]),
            ]
        )
    target = _pct(race["target_accuracy"])
    t1 = md_table(
        ["activation", "init", f"epochs to {target} held-out", "final accuracy", "final loss"],
        rows,
    )
    reached = {a: race[a]["epochs_to_target"] for a in ACTIVATION_NAMES}
    reached = {a: e for a, e in reached.items() if e is not None}
    never = [a for a in ACTIVATION_NAMES if a not in reached]
    fastest = min(reached, key=reached.get) if reached else None
    best = min(ACTIVATION_NAMES, key=lambda a: race[a]["final_val_loss"])
    race_text = _say(
        f"{fastest} reached {target} first (epoch {reached[fastest]})."
        if fastest
        else f"No activation reached {target}.",
        f"Not reached within the budget: {', '.join(never)}." if never else "All four reached it.",
        f"Lowest final held-out loss: {best} ({fmt(race[best]['final_val_loss'])}).",
    )
    ds = depth["depths"]
    t2 = md_table(
        ["activation"] + [f"{d} hidden" for d in ds],
        [[a] + [fmt(v) for v in depth[a]["first_layer_grad_norm"]] for a in ACTIVATION_NAMES],
    )
    sig, relu = depth["sigmoid"]["first_layer_grad_norm"], depth["relu"]["first_layer_grad_norm"]
    per, per_r = depth["sigmoid"]["per_layer_deepest"], depth["relu"]["per_layer_deepest"]
    vanishes = sig[-1] < relu[-1] and per[0] < per[-1]
    depth_text = _say(
        f"From {ds[0]} to {ds[-1]} hidden layers the first-layer gradient of sigmoid",
        f"{_factor(sig[-1] / sig[0])}, that of ReLU {_factor(relu[-1] / relu[0])}; at depth",
        f"{ds[-1]} sigmoid's is {fmt(sig[-1] / relu[-1])} × ReLU's. Inside the {ds[-1]}-layer",
        f"sigmoid net the weight-gradient norm is {fmt(per[0])} at the first layer and",
        f"{fmt(per[-1])} at the output layer (ratio {fmt(per[0] / per[-1])}; ReLU:",
        f"{fmt(per_r[0] / per_r[-1])}):",
        "the gradient vanishes on its way down, each sigmoid layer multiplying it by",
        "σ′ ≤ 1/4 (times the weights)." if vanishes else "no vanishing is visible at this depth.",
    )
    return "\n\n".join(
        [
            "### 3. Activations",
            _say(
                f"**Measured:** two moons ({cfg.train_points} training and {cfg.train_points}",
                "held-out points), 2 hidden layers of 32, each activation with its usual init,",
                f"SGD lr 0.1, batch 16, {race['epochs']} epochs (figure `activations.png`, left).",
            ),
            t1,
            race_text,
            _say(
                "**Vanishing gradients:** ‖dL/dW1‖ at initialization on the moons, hidden",
                f"layers of 32, mean over {cfg.depth_seeds} nets per cell (figure",
                "`activations.png`, right).",
            ),
            t2,
            depth_text,
        ]
    )


def _md_dead(dead: dict, cfg: _Config) -> str:
    names = list(dead)
    table = md_table(
        [
            "run",
            "dead at init (layer 1, 2)",
            "dead after training",
            "max |grad| into them",
            "accuracy",
            "stopped",
        ],
        [
            [
                n,
                _pcts(r["dead_at_init"]),
                _pcts(r["dead_after"]),
                fmt(r["max_grad_into_stuck_units"]),
                _pct(r["final_accuracy"]) if r["final_accuracy"] is not None else "—",
                r["stop_reason"] or "ran all epochs",
            ]
            for n, r in dead.items()
        ],
    )
    kb, klr, ok, leaky = (dead[n] for n in names)
    parts = [
        "Detection is one check over the training set: a unit is dead if its output is 0 on",
        f"all {cfg.train_points} examples.",
    ]
    if kb["dead_after"] is not None:
        parts += [
            f"A −3 bias leaves {_pct(kb['dead_at_init'][1])} of layer 2 dead at initialization",
            f"and {_pct(kb['dead_after'][1])} after {cfg.dead_epochs} epochs (accuracy",
            f"{_pct(kb['final_accuracy'])});",
            "the gradient into those units is exactly 0, so nothing can revive them."
            if kb["max_grad_into_stuck_units"] == 0.0
            else f"the gradient into them is {fmt(kb['max_grad_into_stuck_units'])}.",
        ]
    if klr["dead_after"] is None:
        parts.append(f"lr {klr['lr']:g} with zero bias diverged ({klr['stop_reason']}).")
    else:
        grew = klr["dead_after_overall"] > float(np.mean(klr["dead_at_init"]))
        parts += [
            f"lr {klr['lr']:g} with zero bias",
            "kills" if grew else "does not kill",
            f"units during training: {_pcts(klr['dead_after'])} dead at the end (from",
            f"{_pcts(klr['dead_at_init'])}),",
            f"and the surviving units still reach {_pct(klr['final_accuracy'])} accuracy."
            if klr["final_accuracy"] > 0.8
            else f"and the accuracy is {_pct(klr['final_accuracy'])}.",
        ]
    killed = [r["dead_after_overall"] for r in (kb, klr) if r["dead_after_overall"] is not None]
    if ok["dead_after"] is not None:
        worked = bool(killed) and ok["dead_after_overall"] < min(killed)
        parts += [
            f"He init with zero bias and lr 0.5 ends with {_pcts(ok['dead_after'])} dead and",
            f"{_pct(ok['final_accuracy'])} accuracy:",
            "fewer dead units than either killed net, and a working classifier."
            if worked and ok["final_accuracy"] > 0.8
            else "not better than the killed nets in this run.",
        ]
    if leaky["dead_after"] is not None:
        recovered = leaky["dead_after_overall"] < float(np.mean(leaky["dead_at_init"]))
        parts += [
            "Leaky ReLU under the same −3 bias keeps a gradient on its negative-side units",
            f"(max {fmt(leaky['max_grad_into_stuck_units'])}, where ReLU's is 0)",
            "and they recovered:" if recovered else "but it is too weak to pull them back:",
            f"{_pcts(leaky['dead_after'])} are still negative on every example after",
            f"{cfg.dead_epochs} epochs, accuracy {_pct(leaky['final_accuracy'])}.",
        ]
    return "\n\n".join(
        [
            _say(
                "**Follow-up: a ReLU unit outputs 0 for every training example.** It is dead:",
                "its pre-activation is negative on every input, so both its output and its",
                "local derivative are 0 and no gradient reaches its weights or bias. Two ways",
                "to kill units on the moons (2 hidden layers of 64, He weights,",
                f"{cfg.dead_epochs} epochs, SGD, batch 32), and the fixes (figure",
                "`dead_relu.png`):",
            ),
            table,
            _say(*parts),
        ]
    )


def _md_variance(bv: dict) -> str:
    sizes = bv["batch_sizes"]
    mw, mo = bv["measured"]["with replacement"], bv["measured"]["without replacement"]
    table = md_table(
        ["B", "with repl.", "σ²/B", "ratio", "without repl.", "σ²/B · (N−B)/(N−1)", "ratio"],
        [
            [
                b,
                fmt(mw[i]),
                fmt(bv["theory_with_replacement"][i]),
                fmt(bv["ratio_to_theory_with"][i]),
                fmt(mo[i]),
                fmt(bv["theory_without_replacement"][i]),
                fmt(bv["ratio_to_theory_without"][i]),
            ]
            for i, b in enumerate(sizes)
        ],
    )
    ratios = bv["ratio_to_theory_with"] + bv["ratio_to_theory_without"]
    k = len(sizes) - 1
    s_with = bv["slope_with_replacement"]
    s_wo = bv["slope_without_replacement"]
    s_fpc = bv["slope_without_replacement_fpc_removed"]
    law = abs(s_with + 1) < 0.1 and abs(s_fpc + 1) < 0.1
    text = _say(
        f"On log–log axes the measured variance falls with slope {s_with:.3f} with replacement",
        f"and {s_wo:.3f} without ({s_fpc:.3f} once divided by (N−B)/(N−1)):",
        "the 1/B law." if law else "not the 1/B law.",
        f"Every measurement lies within a factor [{fmt(min(ratios))}, {fmt(max(ratios))}] of its",
        f"prediction from the per-example variance σ² = {fmt(bv['sigma2'])} (the trace of the",
        f"covariance of the {bv['n']} per-example gradients). At B = {sizes[k]} the factor",
        f"(N−B)/(N−1) is {bv['fpc'][k]:.3f}; the measured ratio without/with replacement is",
        f"{mo[k] / mw[k]:.3f}. At B = N without replacement the batch is the data set:",
        f"‖g_B − g‖² = {fmt(bv['full_batch_shuffled_sq_diff'])}, the summation order only.",
        "So the standard deviation of the gradient noise falls like 1/√B: four times the",
        "batch for half the noise." if law else "",
    )
    mean_sum = _say(
        'Mean or sum: with `reduction="sum"` the full-batch gradient is',
        f"{fmt(bv['sum_over_mean_grad_norm'], 6)} × the mean's (N = {bv['n']}), so a summed loss",
        "needs lr / N for the same step and its step grows with the batch; with the mean the",
        "expected step does not depend on B, only its noise does.",
    )
    return "\n\n".join(
        [
            "### 4. Batch size and gradient variance",
            _say(
                "**Measured:** at one parameter point (a 2–16–1 tanh net after 3 epochs on",
                f"{bv['n']} moons), the full-batch gradient g and E‖g_B − g‖² over",
                f"{bv['draws']} random batches per size, drawn with and without replacement",
                "(figure `batch_variance.png`).",
            ),
            table,
            text,
            mean_sum,
        ]
    )


def _md_lr(lr: dict) -> str:
    runs = lr["runs"]
    base, keep, root2, lin, aggr = list(runs)
    table = md_table(
        [
            "run",
            "final loss",
            "accuracy",
            "mean |Δ log loss| vs B",
            "epochs with a loss rise",
            "grad-norm max / median",
            "step-loss noise",
            "first-epoch loss",
        ],
        [
            [
                n,
                fmt(r["final_loss"]),
                _pct(r["final_accuracy"]) if r["final_accuracy"] is not None else "—",
                fmt(r["curve_distance_to_base"]),
                fmt(r["epoch_loss_rises"]),
                fmt(r["grad_norm_max_over_median"]),
                fmt(r["step_loss_noise"]),
                fmt(r["first_epoch_loss"]),
            ]
            for n, r in runs.items()
        ],
    )
    rb, rk, rr, rl, ra = (runs[n] for n in (base, keep, root2, lin, aggr))
    doubled = {n: runs[n]["curve_distance_to_base"] for n in (keep, root2, lin)}
    closest = min(doubled, key=doubled.get)
    others = ", ".join(f"{fmt(v)} for {n}" for n, v in doubled.items() if n != closest)
    between = (
        min(rk["curve_distance_to_base"], rl["curve_distance_to_base"])
        < rr["curve_distance_to_base"]
        < max(rk["curve_distance_to_base"], rl["curve_distance_to_base"])
    )
    scaling = _say(
        "Same epochs, so the 2B runs take half as many steps. Keeping lr leaves the loss curve",
        "above" if rk["curve_log_ratio_to_base"] > 0 else "below",
        f"the B run's (mean log ratio {rk['curve_log_ratio_to_base']:+.3f}; final loss",
        f"{fmt(rk['final_loss'])} against {fmt(rb['final_loss'])}). The doubled batch whose",
        f"curve stays closest to the B run is **{closest}** (mean |Δ log loss|",
        f"{fmt(doubled[closest])}, against {others}).",
        "That is the linear scaling rule: g_2B has the same mean as g_B and half its",
        "variance, so two steps of lr at B and one of 2·lr at 2B move the weights by the same",
        "expected amount with the same variance, 2·lr²·σ²/B per 2B examples either way."
        if closest == lin
        else "Here that is not the linear rule.",
        "The square-root rule, which keeps the noise of each single step equal, lands in",
        "between." if between else "does not land between the two.",
        "With the same lr the larger batch's step losses fluctuate",
        "less" if rk["step_loss_noise"] < rb["step_loss_noise"] else "more",
        f"({fmt(rk['step_loss_noise'])} against {fmt(rb['step_loss_noise'])}, the std of",
        "step-to-step changes over the second half, relative to the mean).",
    )
    flags = []
    if ra["first_epoch_loss"] > 1.5 * rb["first_epoch_loss"]:
        flags.append(
            f"the first-epoch loss is {fmt(ra['first_epoch_loss'])} against "
            f"{fmt(rb['first_epoch_loss'])}"
        )
    if ra["epoch_loss_rises"] > rb["epoch_loss_rises"]:
        flags.append(
            f"the epoch loss went up in {fmt(ra['epoch_loss_rises'])} epochs (mean over seeds) "
            f"against {fmt(rb['epoch_loss_rises'])}"
        )
    if ra["grad_norm_max_over_median"] > 1.5 * rb["grad_norm_max_over_median"]:
        flags.append(
            f"the gradient norm peaks at {fmt(ra['grad_norm_max_over_median'])} × its median "
            f"against {fmt(rb['grad_norm_max_over_median'])} ×"
        )
    if ra["step_loss_noise"] > 1.5 * rb["step_loss_noise"]:
        flags.append(
            f"the step loss fluctuates {fmt(ra['step_loss_noise'] / rb['step_loss_noise'])} × "
            "as much"
        )
    multiplier = f"{ra['lr_multiplier']:g}·lr"
    monitors = _say(
        f"A step that is too large shows in the monitors. With {multiplier}:",
        "; ".join(flags) + "." if flags else "none of the monitors moved in this run.",
        f"It ends at loss {fmt(ra['final_loss'])} against {fmt(rl['final_loss'])} for 2·lr,",
        "worse despite the larger steps" if _worse(ra, rl) else "not worse, in this run",
        f"(and diverged in {ra['diverged']} of {lr['seeds']} runs)." if ra["diverged"] else ".",
    ).replace(" .", ".")
    linear_won = closest == lin
    advice = _say(
        "So: double lr with the batch (linear scaling), which tracked the smaller-batch run"
        if linear_won
        else f"So: of the three rules, {closest} tracked the smaller-batch run best",
        "here; then compare the first epochs' loss with the smaller-batch run, count epochs",
        "whose training loss goes up, and watch the gradient norm's peaks relative to its",
        "median (figure `lr_scaling.png`, right).",
        "In this run those monitors flagged the step that also ended worse: when they jump,"
        " the increase was too aggressive; back off, or warm the lr up over the first epochs."
        if flags and _worse(ra, rl)
        else "In this run they did not single out a step that ended worse, so read them"
        " together with the loss itself.",
    )
    return "\n\n".join(
        [
            _say(
                "**Follow-up: double the batch: how to set lr, and what to watch.** Two moons",
                "(noise 0.25), 2 hidden layers of 32 tanh units, plain SGD,",
                f"B = {lr['base_batch']} at lr = {fmt(lr['base_lr'])} against",
                f"B = {2 * lr['base_batch']} at lr, √2·lr, 2·lr and {multiplier}, the same",
                f"number of epochs, mean over {lr['seeds']}",
                "seed" if lr["seeds"] == 1 else "seeds",
                "(figure `lr_scaling.png`).",
            ),
            table,
            scaling,
            monitors,
            advice,
        ]
    )


def _worse(run: dict, reference: dict) -> bool:
    """A run ended worse than the reference: higher final loss, or no finite loss at all."""
    return run["final_loss"] is None or run["final_loss"] > reference["final_loss"]


def _md_followups(cp: dict, bm: dict, dead: dict, bv: dict, lr: dict) -> str:
    qn = cp["q"]["1 − sigmoid(z)"]
    stable = max(
        cp["q"]["sigmoid(−z)"]["max_rel_err"], cp["q"]["−expm1(log_sigmoid(z))"]["max_rel_err"]
    )
    kb, ok = (dead[n] for n in (list(dead)[0], list(dead)[2]))
    runs = lr["runs"]
    doubled = {n: runs[n]["curve_distance_to_base"] for n in list(runs)[1:4]}
    closest = min(doubled, key=doubled.get)
    items = [
        _say(
            "- *Where does 1 − p lose precision, and which primitive recovers it?* From the",
            "first digits on: its relative error passes 1e−8 at",
            f"z = {fmt(qn['first_z_err_above_1e-8'], 4)} and it is exactly 0 from",
            f"z = {fmt(qn['first_z_zero'], 4)}. sigmoid(−z) or",
            f"−expm1(log_sigmoid(z)) recover it (worst relative error {fmt(stable)}); log1p(−p)",
            "does not, because p is already rounded (section 1).",
        ),
        _say(
            "- *A ReLU unit outputs 0 for every training example?* It is dead; find it by",
            "checking the hidden outputs over the training set",
            f"({_pcts(kb['dead_after'])} of layers 1, 2 after a −3 bias); the gradient",
            f"into it is {fmt(kb['max_grad_into_stuck_units'])}; He init with zero bias and a",
            f"moderate lr left {_pcts(ok['dead_after'])} dead (section 3).",
        ),
        _say(
            "- *From binary to multiclass?* softplus on one logit is the log-sum-exp of [0, z];",
            "softmax cross-entropy on [0, z] equals BCE on z",
            _agreement(bm),
            "(section 1).",
        ),
        _say(
            "- *Double the batch?* The gradient variance falls as B^"
            f"{bv['slope_with_replacement']:.2f} (1/B), and of lr, √2·lr and 2·lr the run",
            f"that tracked the B run best was {closest}; watch the first epochs' loss, loss",
            "rises and gradient-norm peaks (section 4).",
        ),
    ]
    return "### 5. Seed 000's follow-up questions, answered by the numbers above\n\n" + "\n".join(
        items
    )


# ============================================================================================
# run
# ============================================================================================


def run(
    seed: int = 0, out_dir: Path = Path("runs/discussion"), quick: bool = False
) -> ExperimentResult:
    """Measure everything, draw the figures, and write the section from the numbers."""
    cfg = QUICK if quick else FULL
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ref = _Reference()

    stability = _bce_stability(cfg, ref)
    complement = _complement(cfg, ref)
    softmax = _softmax_stability(ref)
    binary = _binary_vs_softmax(cfg)
    init_depth = _init_depth(cfg, seed)
    init_train = _init_training(cfg, seed)
    symmetry = _symmetry(cfg, seed)
    bias = _bias_init(cfg, seed)
    race = _activation_race(cfg, seed)
    depth = _first_layer_grad_norm(cfg, seed)
    dead = _dead_relu(cfg, seed)
    variance = _batch_variance(cfg, seed)
    lr = _lr_scaling(cfg, seed)

    figures = [
        Figure(
            _fig_bce(stability, out_dir / "stability_bce.png"),
            "Relative error of four binary cross-entropy forms against the logit, per label.",
        ),
        Figure(
            _fig_precision(complement, softmax, out_dir / "precision.png"),
            "Left: ways to compute 1 − p. Right: softmax and log-sum-exp with and without "
            "the max shift.",
        ),
        Figure(
            _fig_init_depth(init_depth, out_dir / "init_depth.png"),
            "Std of activations and of their gradients per layer of a deep MLP, per init.",
        ),
        Figure(
            _fig_init_training(init_train, symmetry, out_dir / "init_training.png"),
            "Training loss per init; distinct hidden units and accuracy under symmetric inits.",
        ),
        Figure(
            _fig_activations(race, depth, out_dir / "activations.png"),
            "Held-out loss per activation; first-layer gradient norm against depth.",
        ),
        Figure(
            _fig_dead(dead, out_dir / "dead_relu.png"),
            "Fraction of dead (or stuck negative) hidden units at init and after training.",
        ),
        Figure(
            _fig_variance(variance, out_dir / "batch_variance.png"),
            "Minibatch gradient variance against batch size, with and without replacement.",
        ),
        Figure(
            _fig_lr(lr, out_dir / "lr_scaling.png"),
            "Doubling the batch with lr, √2·lr, 2·lr and a far too large lr: loss and "
            "gradient norm.",
        ),
    ]

    intro = _say(
        f"Seed {seed}" + (" (quick run: smaller grids, fewer epochs and draws)." if quick else "."),
        "Every number below was measured by this run, and every conclusion is chosen by",
        "comparing those numbers: if a comparison came out the other way, so would the sentence.",
    )
    markdown = "\n\n".join(
        [
            intro,
            _md_bce(stability),
            _md_complement(complement),
            _md_softmax(softmax, binary),
            _md_init(init_depth, init_train, symmetry, bias, cfg),
            _md_activations(race, depth, cfg),
            _md_dead(dead, cfg),
            _md_variance(variance),
            _md_lr(lr),
            _md_followups(complement, binary, dead, variance, lr),
        ]
    )
    metrics = {
        "stability": {k: v for k, v in stability.items() if not k.startswith("_")},
        "complement": {
            "q": {
                k: {m: v for m, v in r.items() if m != "rel_err"}
                for k, r in complement["q"].items()
            },
            **{k: v for k, v in complement.items() if k not in ("z", "q")},
        },
        "softmax": {k: v for k, v in softmax.items() if k not in ("s", "rel_err")},
        "binary_vs_softmax": binary,
        "init_depth": init_depth,
        "init_training": init_train,
        "symmetry": symmetry,
        "bias_init": bias,
        "activations": race,
        "grad_vs_depth": depth,
        "dead_relu": dead,
        "batch_variance": variance,
        "lr_scaling": {
            **lr,
            "runs": {
                name: {k: v for k, v in rec.items() if not k.startswith("_")}
                for name, rec in lr["runs"].items()
            },
        },
    }
    return ExperimentResult(NAME, TITLE, STAGE, metrics, markdown, figures)
