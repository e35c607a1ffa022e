"""Part 1b: 1 - p and its precision, softmax without the max shift, softmax CE against BCE."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ... import plots
from ...nn import functional as F
from ...nn.losses import BCEWithLogitsLoss, SoftmaxCrossEntropyLoss
from ..base import fmt, md_table
from ._reference import Reference, first_failure, first_z, ulp_words
from ._shared import FLOOR, Config, save, say

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


def complement(cfg: Config, ref: Reference) -> dict:
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
            "first_z_err_above_1e-8": first_z(z, err > 1e-8),
            "first_z_zero": first_z(z, values == 0.0),
        }
    for name, form in LOG_COMPLEMENT_FORMS.items():
        with np.errstate(all="ignore"):
            values = form(z)
        err = ref.rel_err(values, exact_log)
        out["log_q"][name] = {
            "max_rel_err_finite": float(np.nanmax(err)),
            "first_z_non_finite": first_z(z, ~np.isfinite(values)),
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


def softmax_stability(ref: Reference) -> dict:
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
        "naive_softmax_first_nan_pos": first_failure(naive_softmax_bad, 0.0, 1000.0),
        "naive_softmax_first_nan_neg": -first_failure(lambda v: naive_softmax_bad(-v), 0.0, 1000.0),
    }


def ulps(a: float, b: float) -> float:
    """Distance between two float64 numbers in units of the spacing at the larger one."""
    if a == b:
        return 0.0
    return abs(a - b) / float(np.spacing(max(abs(a), abs(b))))


def binary_vs_softmax(cfg: Config) -> dict:
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
            worst_loss = max(worst_loss, ulps(lb, ls))
            # d/dz of the softmax CE is its gradient on the second logit; the first is -that
            worst_grad = max(worst_grad, ulps(gb, float(gs[1])), ulps(-gb, float(gs[0])))
    return {"n_logits": int(z.size), "max_ulps_loss": worst_loss, "max_ulps_grad": worst_grad}


def fig_precision(cp: dict, sm: dict, path: Path) -> Path:
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
    return save(fig, path)


def md_complement(cp: dict) -> str:
    q, lq = cp["q"], cp["log_q"]
    qn = q["1 − sigmoid(z)"]
    good = {k: v["max_rel_err"] for k, v in q.items() if k != "1 − sigmoid(z)"}
    best = min(good, key=lambda name: good[name])
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
    text = say(
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
    primitive = say(
        "expm1 and log1p only help when their argument still carries the information.",
        "−expm1(log_sigmoid(z)) works because log_sigmoid(z) = −softplus(−z) is computed from",
        "z without forming p. log1p(−p)",
        "fails exactly where log(1 − p) fails"
        if log_f == log1p_f
        else "fails at a different logit than log(1 − p)",
        (
            f"(neither is finite from $z = {fmt(log_f, 4)}$ on)"
            if log_f == log1p_f
            else f"(not finite from $z = {fmt(log1p_f, 4)}$ and $z = {fmt(log_f, 4)}$)"
        )
        + ", because p was rounded",
        "before log1p saw it. For the loss term itself, log(1 − p) = −softplus(z) has a worst",
        f"relative error of {fmt(lq['−softplus(z)']['max_rel_err_finite'])}.",
    )
    return "\n\n".join(
        [
            say(
                "**Follow-up: how far can 1 − p be trusted, and what computes the small",
                f"complement exactly?** Measured at {len(cp['z'])} points of [0, 40],",
                "p = sigmoid(z) computed stably (figure `precision.png`, left):",
            ),
            t1,
            t2,
            text,
            primitive,
        ]
    )


def md_softmax(sm: dict, bm: dict) -> str:
    err, bad = sm["max_rel_err_finite"], sm["non_finite"]
    softmax = say(
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
    agree = agreement(bm)
    binary = say(
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


def agreement(bm: dict) -> str:
    """How closely softmax CE on [0, z] matched BCE on z, in words."""

    def part(n: float, what: str) -> str:
        return f"exactly in the {what}" if n == 0 else f"within {ulp_words(n)} in the {what}"

    return f"{part(bm['max_ulps_loss'], 'loss')} and {part(bm['max_ulps_grad'], 'gradient')}"
