"""Chapter 3's section, written from the measured numbers."""

from __future__ import annotations

from ..base import fmt, lead, md_table
from .measure import GRID, HIDDEN, LARGER_LR, N_POINTS, NOISE_STD, SEED_LR, Measured, Run

LEAD = lead(
    (
        "Can a small MLP bend to fit $\\sin(2\\pi x)$, which no line can, and how do ReLU and "
        "tanh, the learning rate and the training length change the fit?"
    ),
    (
        "`sine_fit.png` (the predictions against the true curve) and the MSE against the "
        "noise-free curve in the table: the noise floor $\\hat\\sigma^2$ is the best any model "
        "can do on the training data."
    ),
)


def section(m: Measured, seed: int, quick: bool) -> str:
    """The whole section body: the setup, the table, then one part per question."""
    parts = [
        _setup(m, seed, quick),
        "### Measurements",
        _table(m),
        _reference_points(m),
        f"### The small learning rate (lr {SEED_LR:g})",
        _small_lr(m),
        f"### What happens with {m.long:,} epochs instead of {m.short:,}",
        _longer_sentences(m),
        _longer_summary(m),
        f"### A learning rate chosen from the curvature: lr {LARGER_LR:g}",
        _stability(m),
        _larger_lr(m),
        "### Which fits better, and why",
        _answer(m),
    ]
    return "\n\n".join([LEAD, *parts])


def _why(r: Run, s: dict, epochs: int, line_mse: float) -> str:
    """The measured reason a run fits as it does (empty when the diagnostic shows nothing)."""
    if r.activation == "relu":
        return _why_relu(r, s, epochs)
    if s["mean_tanh_slope"] < 0.9:
        return ""
    similar = abs(s["train_mse"] / line_mse - 1) < 0.1
    return (
        f"Why for {r.label}: the Xavier weights of a 1-input layer are small, so z1 stays "
        f"where tanh is nearly linear (mean slope tanh′(z1) = {s['mean_tanh_slope']:.2f}) "
        "and the network is nearly a straight line"
        + (
            f" — its train MSE {fmt(s['train_mse'])} is that of the best line, {fmt(line_mse)}"
            if similar
            else ""
        )
        + ". Leaving that regime needs larger weights, which small steps build up slowly: "
        "the net sits on a plateau."
    )


def _why_relu(r: Run, s: dict, epochs: int) -> str:
    """Why a ReLU run fits as it does: where its kinks sit."""
    if s["kink_range"] is None:
        return f"{r.label}: no unit has its kink inside [-1, 1]."
    if s["longest_straight_stretch"] <= 0.5:
        return ""
    start = (
        "all biases start at 0, so every kink −b/w starts at x = 0; "
        if "zero biases" in r.init
        else ""
    )
    return (
        f"Why for {r.label}: {start}after {epochs:,} epochs the {s['kinks_inside']} "
        f"kinks inside the data lie in [{s['kink_range'][0]:.2f}, {s['kink_range'][1]:.2f}], "
        f"leaving a stretch of length {s['longest_straight_stretch']:.2f} where the "
        "network is a single straight line, while the sine changes direction every 0.5. "
        "Units whose kinks sit together see the same residuals and get similar updates, "
        "so a cluster of kinks tends to move together rather than spread out."
    )


def _setup(m: Measured, seed: int, quick: bool) -> str:
    return (
        f"Data: {N_POINTS} points on an even grid of [-1, 1], "
        f"$y = \\sin(2\\pi x) + {NOISE_STD}\\,\\varepsilon$ with standard normal noise "
        f"$\\varepsilon$ (seed {seed}; the noise actually drawn has mean square "
        f"$\\hat\\sigma^2 = {m.noise_var:.4f}$). Model: "
        f"Linear(1, {HIDDEN}) → activation → Linear({HIDDEN}, 1), full-batch gradient descent "
        f"on the MSE. 'Truth MSE' is the error against the noise-free $\\sin(2\\pi x)$ on {GRID} "
        "held-out grid points; 'noise absorbed' is "
        "$\\frac{2}{N}\\sum_n (\\hat f(x_n) - f(x_n))\\,\\varepsilon_n$ on the training points, "
        "the part of the training error that the fit removed by following the noise, so that "
        "train MSE = truth MSE − absorbed + $\\hat\\sigma^2$."
        + (
            f" Quick mode: {m.short:,} and {m.long:,} epochs stand in for the full run's 1,500 "
            "and 15,000, so the numbers below are those of shorter training."
            if quick
            else ""
        )
    )


def _diagnostic(r: Run, s: dict) -> str:
    """The table's diagnostic cell: tanh's mean slope, or where ReLU's kinks lie."""
    if r.activation != "relu":
        return f"mean tanh′(z1) = {s['mean_tanh_slope']:.2f}"
    if s["kink_range"] is None:
        return "no kink inside [-1, 1]"
    return (
        f"kinks in [{s['kink_range'][0]:.2f}, {s['kink_range'][1]:.2f}]; longest "
        f"straight stretch {s['longest_straight_stretch']:.2f}"
    )


def _table(m: Measured) -> str:
    rows = []
    for r in m.runs:
        for e in (m.short, m.long):
            s = r.snapshots[e]
            rows.append(
                [r.label, f"{e:,}", fmt(s["train_mse"]), fmt(s["truth_mse_grid"]),
                 fmt(s["noise_absorbed"]), _diagnostic(r, s)]
            )  # fmt: skip
    return md_table(
        ["network", "epochs", "train MSE", "truth MSE", "noise absorbed", "diagnostic"], rows
    )


def _reference_points(m: Measured) -> str:
    return (
        f"Reference points: the noise floor $\\hat\\sigma^2 = {m.noise_var:.4f}$ (the train MSE "
        f"of the true function itself); the best straight line has train MSE {m.line_mse:.4f}. "
        "The diagnostic column gives, for ReLU, where the units' kinks $x = -b/w$ lie and the "
        "longest stretch of [-1, 1] without one (the network is a straight line there; the sine "
        "bends every 0.5); for tanh, the mean slope tanh′(z1) over units and points (1 means the "
        "units work as linear maps). Figures: `sine_fit.png` (predictions vs ground truth) and "
        "`sine_curves.png` (both errors per epoch)."
    )


def _small_lr_ranking(m: Measured) -> tuple[Run, Run]:
    """The two runs at the small lr, the one closer to the truth first."""
    a, b = m.runs[0], m.runs[1]
    a_truth, b_truth = a.snapshots[m.long]["truth_mse_grid"], b.snapshots[m.long]["truth_mse_grid"]
    return (a, b) if a_truth < b_truth else (b, a)


def _small_lr(m: Measured) -> str:
    a_l, b_l = m.runs[0].snapshots[m.long], m.runs[1].snapshots[m.long]
    better, worse = _small_lr_ranking(m)
    parts = [
        f"After {m.long:,} epochs {better.label.split(',')[0]} is closer to the truth (truth MSE "
        f"{fmt(better.snapshots[m.long]['truth_mse_grid'])} vs "
        f"{fmt(worse.snapshots[m.long]['truth_mse_grid'])})."
    ]
    lowest = min(a_l["train_mse"], b_l["train_mse"])
    absorbed = max(0.0, a_l["noise_absorbed"], b_l["noise_absorbed"])
    if lowest > 2 * m.noise_var:
        parts.append(
            f"Neither fits the sine: both training errors ({fmt(a_l['train_mse'])} and "
            f"{fmt(b_l['train_mse'])}) are {lowest / m.noise_var:.0f}× or more the noise floor, "
            + (
                f"and the noise absorbed is at most {fmt(absorbed)} "
                f"({absorbed / m.noise_var:.0%} of σ̂²)"
                if absorbed > 0
                else "and neither absorbed any noise (the cross term is negative for both)"
            )
            + ": the error is bias (underfitting), not variance."
        )
    parts += [_why(r, r.snapshots[m.long], m.long, m.line_mse) for r in m.runs[:2]]
    return " ".join(p for p in parts if p)


def _change(short_truth: float, long_truth: float) -> str:
    """How the truth MSE moved between the two budgets, in words."""
    change = long_truth / short_truth
    if change < 0.5:
        return f"truth MSE fell {1 / change:.1f}×"
    if change < 0.9:
        return f"truth MSE fell {1 - change:.0%}"
    if change > 1.1:
        return f"truth MSE rose {change - 1:.0%}"
    return "truth MSE within ±10%"


def _longer_sentences(m: Measured) -> str:
    sentences = []
    for r in m.runs:
        s, l = r.snapshots[m.short], r.snapshots[m.long]
        verdict = _change(s["truth_mse_grid"], l["truth_mse_grid"])
        sentences.append(
            f"{r.label}: train {fmt(s['train_mse'])} → {fmt(l['train_mse'])}, truth "
            f"{fmt(s['truth_mse_grid'])} → {fmt(l['truth_mse_grid'])} ({verdict}), noise "
            f"absorbed {fmt(s['noise_absorbed'])} → {fmt(l['noise_absorbed'])}"
        )
    return "\n".join(f"- {t}" for t in sentences)


def _most_absorbed(m: Measured) -> float:
    """The largest noise absorbed by any run at the long budget (0 if none absorbed any)."""
    return max(0.0, *(r.snapshots[m.long]["noise_absorbed"] for r in m.runs))


def _longer_summary(m: Measured) -> str:
    short, long = m.short, m.long
    overfit = [
        r.label
        for r in m.runs
        if r.snapshots[long]["train_mse"] < m.noise_var
        and r.snapshots[long]["truth_mse_grid"] > r.snapshots[short]["truth_mse_grid"]
    ]
    improved = [
        r.label
        for r in m.runs
        if r.snapshots[long]["truth_mse_grid"] < 0.5 * r.snapshots[short]["truth_mse_grid"]
    ]
    stuck = [r.label for r in m.runs if r.label not in improved]
    summary = []
    if improved:
        summary.append(
            f"More epochs helped most where the network was still descending "
            f"({'; '.join(improved)}: truth MSE at least halved): the extra steps reduce bias."
        )
    if stuck:
        summary.append(
            f"They did less for {'; '.join(stuck)}: these runs sit on a plateau (or have "
            "converged), which more steps of the same size leave slowly if at all."
        )
    if overfit:
        summary.append(
            f"Overfitting appeared in {', '.join(overfit)}: train MSE below the noise floor "
            "while the truth MSE rose."
        )
    else:
        summary.append(
            "No run overfitted: none pushed its train MSE below the noise floor while its "
            f"truth MSE rose; the largest noise absorbed is {fmt(_most_absorbed(m))}."
        )
    return " ".join(summary)


def _stability(m: Measured) -> str:
    lim = {k: 2 / v for k, v in m.sharp_init.items()}
    end_lims = {k: 2 / v for k, v in m.sharp_end.items()}
    return (
        "Gradient descent is stable while lr < 2/λ_max, λ_max the largest eigenvalue of the "
        "loss's Hessian (chapter 1). Measured by power iteration at the initial weights: "
        f"λ_max = {m.sharp_init['relu']:.2f} for ReLU (limit {lim['relu']:.3f}) and "
        f"{m.sharp_init['tanh']:.2f} for tanh (limit {lim['tanh']:.3f}). The small "
        f"{SEED_LR:g} is {min(lim.values()) / SEED_LR:.0f}× or more below both limits; "
        f"{LARGER_LR:g} is {min(lim.values()) / LARGER_LR:.1f}× below the smaller one. "
        "At the end of training the limits measured "
        + ", ".join(f"{v:.3f} ({k})" for k, v in end_lims.items())
        + ". "
        + (
            f"All stayed above {LARGER_LR:g}, so every run remained in the stable range."
            if all(v > 1.1 * LARGER_LR for v in end_lims.values())
            else "Where a limit ended near or below the learning rate, training had sharpened "
            "the loss until it sat at the edge of stability (2/λ_max ≈ lr), a known behaviour "
            "of gradient descent; the loss still fell overall (see `sine_curves.png`)."
        )
    )


def _larger_ranking(m: Measured) -> list[Run]:
    """The three runs at the larger lr, best truth MSE first."""
    return sorted(m.runs[2:], key=lambda r: r.snapshots[m.long]["truth_mse_grid"])


def _larger_lr(m: Measured) -> str:
    long = m.long
    C, D, E = m.runs[2], m.runs[3], m.runs[4]
    c_l, d_l, e_l = C.snapshots[long], D.snapshots[long], E.snapshots[long]
    return (
        f"After {long:,} epochs at lr {LARGER_LR:g}, ranked by truth MSE: "
        + "; ".join(
            f"{r.label} {fmt(r.snapshots[long]['truth_mse_grid'])}" for r in _larger_ranking(m)
        )
        + ". "
        + f"tanh's mean slope is {d_l['mean_tanh_slope']:.2f} (against "
        f"{m.runs[1].snapshots[long]['mean_tanh_slope']:.2f} at lr {SEED_LR:g}): "
        + (
            "its units have left the linear regime and can bend. "
            if d_l["mean_tanh_slope"] < 0.9
            else "its units are still close to linear, so it is still near a straight line. "
        )
        + " ".join(t for t in (_why(C, c_l, long, m.line_mse),) if t)
        + f" Spreading the initial kinks over the data (same weights, biases b = −w·u with u "
        f"uniform on [-1, 1]) gave ReLU {e_l['kinks_inside']} kinks inside [-1, 1], a longest "
        f"straight stretch of {e_l['longest_straight_stretch']:.2f} and a train MSE of "
        f"{fmt(e_l['train_mse'])} ({e_l['train_mse'] / m.noise_var:.1f}× the noise floor)."
    )


def _answer(m: Measured) -> str:
    long, noise_var = m.long, m.noise_var
    c_l, d_l, e_l = (r.snapshots[long] for r in m.runs[2:])
    better, worse = _small_lr_ranking(m)
    best = _larger_ranking(m)[0]
    equal_winner = "tanh" if d_l["truth_mse_grid"] < c_l["truth_mse_grid"] else "ReLU"
    b_best = best.snapshots[long]
    text = [
        f"At lr {SEED_LR:g} {better.label.split(',')[0]} fits better (truth MSE "
        f"{fmt(better.snapshots[long]['truth_mse_grid'])} vs "
        f"{fmt(worse.snapshots[long]['truth_mse_grid'])}); at lr {LARGER_LR:g} with the "
        f"default initializations {equal_winner} does (tanh {fmt(d_l['truth_mse_grid'])}, "
        f"ReLU {fmt(c_l['truth_mse_grid'])}). Overall the best fit is {best.label}: truth MSE "
        f"{fmt(b_best['truth_mse_grid'])}, train MSE {fmt(b_best['train_mse'])} against the "
        f"noise floor {noise_var:.4f}."
    ]
    if b_best["train_mse"] < 2 * noise_var and abs(b_best["noise_absorbed"]) < 0.5 * noise_var:
        text.append(
            "It tracks the signal and not the noise (it absorbed "
            f"{abs(b_best['noise_absorbed']) / noise_var:.0%} of the noise variance): low "
            "bias, and low variance."
        )
    text.append(
        "In bias/variance terms, every shortfall measured here is bias: a 1-32-1 network "
        "has 97 parameters for 400 points, and no run absorbed more than "
        f"{_most_absorbed(m) / noise_var:.0%} of "
        "the noise variance, so variance (fitting the noise) never became the problem. "
        "Which activation wins is decided by how fast each reaches a good shape from its "
        "initialization: tanh must grow its weights to bend, ReLU must move its kinks to "
        "where the sine bends."
    )
    if equal_winner == "tanh":
        text.append(
            "With the default initializations and a large enough step, tanh has the "
            "advantage on this target: the sine is smooth, and tanh units bend smoothly "
            "everywhere, while ReLU approximates each bend with kinks that must be in the "
            "right places."
        )
    if e_l["truth_mse_grid"] < c_l["truth_mse_grid"] / 2:
        text.append(
            f"ReLU's trouble was its starting point, not its capacity: with spread kinks its "
            f"truth MSE is {fmt(e_l['truth_mse_grid'])} instead of {fmt(c_l['truth_mse_grid'])}."
        )
    return " ".join(text)
