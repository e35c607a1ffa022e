"""Part 1a: binary cross-entropy, naive, patched and stable, against a high-precision reference."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ... import plots
from ...nn.losses import BCEWithLogitsLoss
from ..base import fmt, md_table
from ._reference import EPS, Reference, first_bad_on_grid, first_failure, first_z
from ._shared import CAP, FLOOR, Config, save, say

PATCH_EPS = 1e-15  # the eps of the usual patches: clip(p, eps, 1 - eps), log(p + eps)


def naive_sigmoid(z: np.ndarray) -> np.ndarray:
    """The textbook 1 / (1 + exp(-z)): exp overflows for z < -709.78 and p becomes 0."""
    return 1.0 / (1.0 + np.exp(-z))


def naive_bce(z: np.ndarray, y: float) -> np.ndarray:
    p = naive_sigmoid(z)
    return -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def clipped_bce(z: np.ndarray, y: float) -> np.ndarray:
    """The np.clip patch (what the engine never does): p forced into [eps, 1 - eps]."""
    p = np.clip(naive_sigmoid(z), PATCH_EPS, 1.0 - PATCH_EPS)
    return -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))


def eps_bce(z: np.ndarray, y: float) -> np.ndarray:
    """The log(p + eps) patch."""
    p = naive_sigmoid(z)
    return -(y * np.log(p + PATCH_EPS) + (1.0 - y) * np.log(1.0 - p + PATCH_EPS))


def engine_bce(z: np.ndarray, y: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-logit loss and dL/dz of ``BCEWithLogitsLoss``, one logit per call (N = 1)."""
    loss = BCEWithLogitsLoss()
    values, grads = np.empty_like(z), np.empty_like(z)
    target = np.array([y])
    for i, zi in enumerate(z):
        values[i] = loss.forward(np.array([zi]), target)
        grads[i] = loss.backward()[0]
    return values, grads


BCE_FORMS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "naive": naive_bce,
    f"clip(p, {PATCH_EPS:g}, 1 − {PATCH_EPS:g})": clipped_bce,
    f"log(p + {PATCH_EPS:g})": eps_bce,
    "engine BCEWithLogitsLoss": lambda z, y: engine_bce(z, y)[0],
}


def fd_slope(f: Callable[[np.ndarray], np.ndarray], z: float, h: float = 1e-3) -> float:
    """Central difference (f(z + h) - f(z - h)) / 2h: the slope a patched loss really has."""
    with np.errstate(all="ignore"):
        return float((f(np.array([z + h]))[0] - f(np.array([z - h]))[0]) / (2 * h))


def _naive_fails(y: float, sign: float) -> Callable[[float], bool]:
    """Whether the naive BCE with label y is not finite at the logit sign * v."""
    return lambda v: not np.isfinite(naive_bce(np.array([sign * v]), y)[0])


def _wrong_label_loss(form: Callable) -> Callable[[np.ndarray], np.ndarray]:
    """A BCE form as a function of the logit alone, for the label y = 0."""
    return lambda v: form(v, 0.0)


def bce_stability(cfg: Config, ref: Reference) -> dict:
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
                "first_bad_pos": first_bad_on_grid(z, values, err, positive=True),
                "first_bad_neg": first_bad_on_grid(z, values, err, positive=False),
                "first_err_above_1e-8_pos": first_z(z[z > 0], (err > 1e-8)[z > 0]),
            }
            curves[name][label] = err.tolist()
        forms[name] = row
    naive_bad_pos = {y: first_failure(_naive_fails(y, +1.0), 0.0, 1000.0) for y in (0.0, 1.0)}
    naive_bad_neg = {y: -first_failure(_naive_fails(y, -1.0), 0.0, 1000.0) for y in (0.0, 1.0)}
    # The wrong-label examples, where the learning signal lives: values and slopes.
    probe = np.array([10.0, 30.0, 36.0, 37.0, 40.0, 100.0, 709.0, 710.0, 1000.0])
    probe_exact = ref.softplus(probe)[0]  # y = 0: the loss is softplus(z)
    probe_rows = []
    for zi, ex in zip(probe, probe_exact):
        cells: dict[str, float] = {"z": float(zi), "exact": float(ex)}
        for name, form in BCE_FORMS.items():
            with np.errstate(all="ignore"):
                cells[name] = float(
                    form(np.array([zi]), 0.0)[0]
                )  # metrics.json: null if not finite
        probe_rows.append(cells)
    slopes = {name: fd_slope(_wrong_label_loss(form), 1000.0) for name, form in BCE_FORMS.items()}
    engine_grad = float(engine_bce(np.array([1000.0]), 0.0)[1][0])
    with np.errstate(over="ignore"):
        p_at_failure = {
            "positive_z": float(naive_sigmoid(np.array([naive_bad_pos[0.0]]))[0]),
            "negative_z": float(naive_sigmoid(np.array([naive_bad_neg[1.0]]))[0]),
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
            **{k: float(v) for k, v in slopes.items()},
            "engine backward": engine_grad,
        },
        "_z": z.tolist(),
        "_curves": curves,
    }


def fig_bce(st: dict, path: Path) -> Path:
    fig, axes = plots.new_figure(ncols=2, size=(6.2, 5.4))
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
        ax.set_xticks([-1000, -50, 0, 50, 1000])
        ax.set_yscale("log")
        ax.set_title(f"Binary cross-entropy, label {label}: relative error")
        ax.set_xlabel("logit z (symlog axis, linear in [−50, 50])")
        ax.set_ylabel("relative error")
        ax.grid(True, alpha=0.3)
        # below the axes: every region of the plot holds data worth seeing
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, markerscale=3)
    return save(fig, path)


def _per_label(z_a: float, z_b: float, label_a: str, label_b: str) -> str:
    """ "$z = 36.7$ for both labels" when the two values agree, else one per label."""
    if f"{z_a:.4g}" == f"{z_b:.4g}":  # rounded for reading; metrics.json has every digit
        return f"$z = {z_a:.4g}$ for both labels"
    return f"$z = {z_a:.4g}$ for $y = {label_a}$ and $z = {z_b:.4g}$ for $y = {label_b}$"


def _bce_table(forms: dict) -> str:
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
    return md_table(
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


def _naive_first_failure(st: dict, naive: str, total: int) -> str:
    """Where the naive formula first fails on each side, and why."""
    forms = st["forms"]
    ff = st["naive_first_non_finite"]
    pp = st["naive_p_at_first_failure"]
    if pp["positive_z"] == 1.0:
        why_pos = (
            r"$p = 1/(1 + e^{-z})$ evaluates to exactly 1, so the $y = 0$ loss is "
            r"$-\log 0 = \infty$ and the $y = 1$ loss contains $0 \cdot \log 0$ = NaN from the "
            "term its label switches off"
        )
    else:
        why_pos = f"p evaluates to {pp['positive_z']!r}"
    if pp["negative_z"] == 0.0:
        why_neg = r"$e^{-z}$ overflows, $p$ is exactly 0, and the roles swap"
    else:
        why_neg = f"p evaluates to {pp['negative_z']!r}"
    naive_bad = forms[naive]["y=1"]["non_finite"] + forms[naive]["y=0"]["non_finite"]
    return say(
        r"The naive $-[y \log p + (1 - y) \log(1 - p)]$ is not finite at",
        f"{naive_bad} of the {total} points. Bisection on the formula puts its first failure",
        f"at {_per_label(ff['y=0_positive_z'], ff['y=1_positive_z'], '0', '1')}: there",
        f"{why_pos}. On the negative side it fails from",
        f"{_per_label(ff['y=1_negative_z'], ff['y=0_negative_z'], '1', '0')}: {why_neg}.",
    )


def _naive_precision(forms: dict, naive: str) -> str:
    r1 = forms[naive]["y=1"]
    return say(
        "Before that it already loses its digits on the correct label: for y = 1 its relative",
        f"error passes 1e−8 at z = {fmt(r1['first_err_above_1e-8_pos'], 4)} and the first",
        f"value off by 50% or more (or not finite) is at z = {fmt(r1['first_bad_pos'], 4)};",
        "for y = 0 the first such value is at",
        f"z = −{fmt(forms[naive]['y=0']['first_bad_neg'], 4)}.",
        r"The exact loss there, about $e^{-\lvert z \rvert}$, is smaller than the spacing of",
        "floats near 1, where $p$ lives.",
    )


def _patches(st: dict, clip: str, epsf: str) -> str:
    """What clip and log(p + eps) do: finite, but a capped loss and no slope on wrong labels."""
    forms = st["forms"]
    probe = {round(r["z"]): r for r in st["wrong_label_probe"]}[1000]
    slopes = st["slope_at_z1000_y0"]
    patch_bad = sum(forms[n][lab]["non_finite"] for n in (clip, epsf) for lab in ("y=1", "y=0"))
    floor_clip = forms[clip]["y=1"]["min_finite_value"]
    floor_eps = forms[epsf]["y=1"]["min_finite_value"]
    capped = probe[clip] < 0.5 * probe["exact"] and probe[epsf] < 0.5 * probe["exact"]
    flat = all(abs(slopes[n]) < 1e-6 for n in (clip, epsf))
    return say(
        "The patches are",
        "finite everywhere" if patch_bad == 0 else f"not finite at {patch_bad} points",
        f"but on a correct label clip never goes below {fmt(floor_clip)} and log(p + eps)",
        f"{'even goes negative, to' if floor_eps < 0 else 'never below'} {fmt(floor_eps)},",
        r"whatever the exact loss (at $z = 1000$ it is $e^{-1000}$, below the float64 range). That",
        "is the huge relative error in the table; it is harmless in absolute terms. The harm",
        "is on the wrong label: at",
        f"z = 1000 with y = 0 (exact loss {fmt(probe['exact'], 6)}) clip gives",
        f"{fmt(probe[clip], 6)} and log(p + eps) gives {fmt(probe[epsf], 6)}, and their slope",
        f"there, by central differences, is {fmt(slopes[clip])} and {fmt(slopes[epsf])} where",
        f"the true gradient is 1 (the engine's backward: {fmt(slopes['engine backward'])}).",
        r"So the patches cap the penalty at $-\log \epsilon$ and switch off the learning signal of",
        "exactly the confidently wrong examples."
        if capped and flat
        else "In this run the patches did not distort the wrong-label loss.",
    )


def _engine(forms: dict, engine: str, total: int) -> str:
    e_engine = max(forms[engine][lab]["max_rel_err_finite"] for lab in ("y=1", "y=0"))
    engine_bad = forms[engine]["y=1"]["non_finite"] + forms[engine]["y=0"]["non_finite"]
    return say(
        "The engine's `BCEWithLogitsLoss`,",
        r"$y \operatorname{softplus}(-z) + (1 - y) \operatorname{softplus}(z)$, is",
        f"finite at all {total} points" if engine_bad == 0 else f"not finite at {engine_bad}",
        f"with a worst relative error of {fmt(e_engine)} ({e_engine / EPS:.2f} × machine",
        "epsilon).",
    )


def md_bce(st: dict) -> str:
    forms = st["forms"]
    naive, clip, epsf, engine = list(forms)
    total = 2 * st["n_logits"]
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
            say(
                f"**Measured:** binary cross-entropy at {st['n_logits']} logits from",
                f"{fmt(st['z_range'][0], 4)} to {fmt(st['z_range'][1], 4)} with both labels",
                f"({total} values), four ways, against {st['reference']}; relative errors of",
                "results below the normal range are taken against 2.2e−308 (figure",
                "`stability_bce.png`).",
            ),
            _bce_table(forms),
            _naive_first_failure(st, naive, total),
            _naive_precision(forms, naive),
            _patches(st, clip, epsf),
            _engine(forms, engine, total),
            "The wrong label (y = 0) at growing logits:",
            probe_table,
        ]
    )
