"""Chapter 3: a one-hidden-layer MLP on y = sin(2 pi x) + noise; ReLU vs tanh.

The course's setup: 400 points on an even grid of [-1, 1], noise std 0.1, a 1-32-1 network,
full-batch gradient descent on the MSE with lr 0.005, 1,500 epochs (then 15,000). We run
that, measure why it underfits, and run the same networks with a learning rate chosen
from the measured curvature of the loss (its largest Hessian eigenvalue).

Because the noise is known here, the training error splits exactly:

    train MSE = mean((f_hat - f)^2) - 2 mean((f_hat - f) eps) + mean(eps^2)
                 error vs. truth      noise absorbed by the fit   noise floor

A fit with a large error vs. truth and nothing absorbed is biased (underfits); one that
absorbs noise (train MSE below the noise floor) has started to fit the noise (variance).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import plots
from ..chapters import chapter
from ..nn.layers import Sequential, mlp
from ..nn.losses import MSELoss
from ..nn.optim import SGD
from .base import ExperimentResult, Figure, bias_of, fmt, lead, linear, md_table, tagline

NAME = "sine"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

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


N_POINTS = 400
NOISE_STD = 0.1
HIDDEN = 32
SEED_LR = 0.005  # the course's learning rate
LARGER_LR = 0.05  # justified in the section from the measured sharpness
FULL_EPOCHS = (1500, 15000)
QUICK_EPOCHS = (200, 2000)
GRID = 1000  # held-out, noise-free evaluation points


@dataclass
class Run:
    """One training run and what was measured along the way."""

    label: str
    activation: str
    lr: float
    init: str
    model: Sequential
    train_mse: list[float] = field(default_factory=list)
    eval_epochs: list[int] = field(default_factory=list)
    truth_mse: list[float] = field(default_factory=list)
    snapshots: dict = field(default_factory=dict)  # epoch -> measurements


def make_sine_data(rng: np.random.Generator):
    """x (400, 1) on an even grid of [-1, 1]; y = sin(2 pi x) + 0.1 * noise; and the noise."""
    x = np.linspace(-1.0, 1.0, N_POINTS).reshape(-1, 1)
    noise = NOISE_STD * rng.standard_normal((N_POINTS, 1))
    return x, np.sin(2 * math.pi * x) + noise, noise


def sharpness(model: Sequential, X: np.ndarray, Y: np.ndarray, iters: int = 30) -> float:
    """Largest eigenvalue of the Hessian of the MSE in the parameters, by power iteration.

    Hessian-vector products come from central differences of the analytic gradient,
    H v ~ (g(theta + h v) - g(theta - h v)) / 2h. Gradient descent on a quadratic is stable
    for lr < 2 / lambda_max; the parameters are restored exactly afterwards.
    """
    loss = MSELoss()
    params = model.parameters()
    theta = [p.value.copy() for p in params]
    sizes = [p.value.size for p in params]

    def grad_at(step: float, v: np.ndarray) -> np.ndarray:
        for p, t, chunk in zip(params, theta, np.split(v, np.cumsum(sizes)[:-1])):
            p.value[...] = t + step * chunk.reshape(t.shape)
        loss.forward(model.forward(X), Y)
        model.backward(loss.backward())
        return np.concatenate([p.grad.ravel() for p in params])

    v = np.random.default_rng(0).standard_normal(sum(sizes))
    v /= np.linalg.norm(v)
    lam, h = 0.0, 1e-5
    for _ in range(iters):
        hv = (grad_at(h, v) - grad_at(-h, v)) / (2 * h)
        lam = float(v @ hv)
        v = hv / np.linalg.norm(hv)
    for p, t in zip(params, theta):
        p.value[...] = t
    return lam


def _kinks(model: Sequential) -> np.ndarray:
    """Where each ReLU unit switches on: x = -b / w (inf for a unit with w = 0)."""
    w, b = linear(model[0]).weight.value[0], bias_of(model[0]).value
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w != 0, -b / w, np.inf)


def _longest_gap(kinks: np.ndarray) -> float:
    """Longest stretch of [-1, 1] holding no kink: there the ReLU network is one straight line."""
    edges = np.concatenate([[-1.0], np.sort(kinks), [1.0]])
    return float(np.max(np.diff(edges)))


def _train(run: Run, x, y, f_train, noise, x_grid, f_grid, epochs, snap_at, eval_every):
    loss = MSELoss()
    opt = SGD(run.model.parameters(), lr=run.lr)
    model = run.model
    for epoch in range(1, epochs + 1):
        run.train_mse.append(loss.forward(model.forward(x), y))
        model.backward(loss.backward())
        opt.step()
        if epoch % eval_every == 0 or epoch in snap_at:
            pred_grid = model.forward(x_grid)
            run.eval_epochs.append(epoch)
            run.truth_mse.append(float(np.mean((pred_grid - f_grid) ** 2)))
        if epoch in snap_at:
            pred = model.forward(x)
            dev = pred - f_train
            snap = {
                "train_mse": float(np.mean((pred - y) ** 2)),
                "truth_mse_grid": run.truth_mse[-1],
                "truth_mse_train_x": float(np.mean(dev**2)),
                "noise_absorbed": float(2 * np.mean(dev * noise)),
                "prediction_grid": pred_grid[:, 0].copy(),
            }
            if run.activation == "relu":
                inside = np.sort(_kinks(model)[np.abs(_kinks(model)) <= 1])
                snap["kinks_inside"] = int(inside.size)
                snap["kink_range"] = [float(inside[0]), float(inside[-1])] if inside.size else None
                snap["longest_straight_stretch"] = _longest_gap(inside)
            else:
                z1 = model[0].forward(x)
                snap["mean_tanh_slope"] = float(np.mean(1 - np.tanh(z1) ** 2))
            run.snapshots[epoch] = snap


def _why(r: Run, s: dict, epochs: int, line_mse: float) -> str:
    """The measured reason a run fits as it does (empty when the diagnostic shows nothing)."""
    if r.activation == "relu":
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


def run(seed: int = 0, out_dir: Path = Path("runs/sine"), quick: bool = False):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    short, long = QUICK_EPOCHS if quick else FULL_EPOCHS
    eval_every = max(1, long // 150)
    x, y, noise = make_sine_data(np.random.default_rng([seed, 0]))
    f_train = np.sin(2 * math.pi * x)
    x_grid = np.linspace(-1.0, 1.0, GRID).reshape(-1, 1)
    f_grid = np.sin(2 * math.pi * x_grid)
    noise_var = float(np.mean(noise**2))

    # reference fits: the best straight line, and the best two-piece line with its kink at 0
    def lstsq_mse(features: np.ndarray) -> float:
        coef, *_ = np.linalg.lstsq(features, y, rcond=None)
        return float(np.mean((features @ coef - y) ** 2))

    ones = np.ones_like(x)
    line_mse = lstsq_mse(np.hstack([x, ones]))

    def new_model(activation: str, spread_kinks: bool = False) -> Sequential:
        model = mlp([1, HIDDEN, 1], activation, rng=np.random.default_rng([seed, 1]))
        if spread_kinks:  # put unit j's kink -b/w at a uniform point of the data range
            u = np.random.default_rng([seed, 2]).uniform(-1.0, 1.0, HIDDEN)
            bias_of(model[0]).value[:] = -linear(model[0]).weight.value[0] * u
        return model

    specs = [
        ("ReLU, lr 0.005 (course)", "relu", SEED_LR, "He normal, zero biases", False),
        ("tanh, lr 0.005 (course)", "tanh", SEED_LR, "Xavier uniform, zero biases", False),
        (f"ReLU, lr {LARGER_LR:g}", "relu", LARGER_LR, "He normal, zero biases", False),
        (f"tanh, lr {LARGER_LR:g}", "tanh", LARGER_LR, "Xavier uniform, zero biases", False),
        (
            f"ReLU spread kinks, lr {LARGER_LR:g}",
            "relu",
            LARGER_LR,
            "He normal, biases b = -w·u, u ~ U(-1, 1)",
            True,
        ),
    ]
    runs = [
        Run(label, act, lr, init, new_model(act, spread)) for label, act, lr, init, spread in specs
    ]

    sharp_init = {r.activation: sharpness(r.model, x, y) for r in runs[:2]}
    initial_kinks = _kinks(runs[0].model)
    for r in runs:
        _train(r, x, y, f_train, noise, x_grid, f_grid, long, (short, long), eval_every)
    sharp_end = {r.label: sharpness(r.model, x, y) for r in runs[2:]}

    # --- figures ----------------------------------------------------------------------------
    figures = []
    fig, axes = plots.new_figure(ncols=2, size=(6.0, 4.2))
    for ax, group, title in (
        (axes[0], runs[:2], f"the course's settings (lr {SEED_LR:g}), after {long:,} epochs"),
        (axes[1], runs[2:], f"lr {LARGER_LR:g}, after {long:,} epochs"),
    ):
        ax.scatter(x[:, 0], y[:, 0], s=5, alpha=0.35, color="gray", label="data")
        ax.plot(x_grid[:, 0], f_grid[:, 0], "k--", linewidth=1.2, label="ground truth sin(2πx)")
        for r in group:
            ax.plot(
                x_grid[:, 0], r.snapshots[long]["prediction_grid"], linewidth=1.6, label=r.label
            )
        ax.set_title(f"Predictions vs ground truth, {title}")
        ax.set_xlabel("x (input)")
        ax.set_ylabel("y (target)")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="lower left")
    path = plots.save_figure(fig, out_dir / "sine_fit.png")
    figures.append(
        Figure(path, "Each network's prediction on a noise-free grid, against the truth.")
    )

    fig, axes = plots.new_figure(ncols=2, size=(6.0, 4.2))
    plots.plot_curves(
        axes[0],
        {r.label: r.train_mse for r in runs},
        title="Training MSE per epoch",
        xlabel="epoch (full batch, log scale)",
        ylabel="training MSE (log scale)",
        logy=True,
    )
    plots.plot_curves(
        axes[1],
        {r.label: r.truth_mse for r in runs},
        x={r.label: r.eval_epochs for r in runs},
        title="MSE against the noise-free truth (held-out grid)",
        xlabel="epoch (full batch, log scale)",
        ylabel="MSE vs sin(2πx) (log scale)",
        logy=True,
    )
    for ax, level, label in (
        (axes[0], noise_var, "noise floor σ̂²"),
        (axes[0], line_mse, "best straight line"),
        (axes[1], line_mse - noise_var, "best straight line"),
    ):
        ax.axhline(level, color="gray", linestyle=":", linewidth=1)
        ax.text(0.99, level, label, transform=ax.get_yaxis_transform(), fontsize=10,
                color="gray", va="bottom", ha="right")  # fmt: skip
    for ax in axes:
        ax.set_xscale("log")
        ax.axvline(short, color="k", linewidth=0.6, alpha=0.5)
        ax.legend()
    path = plots.save_figure(fig, out_dir / "sine_curves.png")
    figures.append(Figure(path, f"Learning curves; the vertical line marks epoch {short:,}."))

    # --- metrics ----------------------------------------------------------------------------
    def snap_metrics(r: Run) -> dict:
        return {
            str(e): {k: v for k, v in s.items() if k != "prediction_grid"}
            for e, s in r.snapshots.items()
        }

    metrics = {
        "epochs": [short, long],
        "noise_variance": noise_var,
        "best_line_mse": line_mse,
        "sharpness_init": sharp_init,
        "lr_limit_init": {k: 2 / v for k, v in sharp_init.items()},
        "sharpness_end": sharp_end,
        "initial_kinks_at_zero": int(np.sum(initial_kinks == 0)),
        "runs": {
            r.label: {
                "activation": r.activation,
                "lr": r.lr,
                "init": r.init,
                "snapshots": snap_metrics(r),
            }
            for r in runs
        },
    }

    # --- the section ------------------------------------------------------------------------
    md = []
    md.append(
        f"Data: {N_POINTS} points on an even grid of [-1, 1], "
        f"$y = \\sin(2\\pi x) + {NOISE_STD}\\,\\varepsilon$ with standard normal noise "
        f"$\\varepsilon$ (seed {seed}; the noise actually drawn has mean square "
        f"$\\hat\\sigma^2 = {noise_var:.4f}$). Model: "
        f"Linear(1, {HIDDEN}) → activation → Linear({HIDDEN}, 1), full-batch gradient descent "
        f"on the MSE. 'Truth MSE' is the error against the noise-free $\\sin(2\\pi x)$ on {GRID} "
        "held-out grid points; 'noise absorbed' is "
        "$\\frac{2}{N}\\sum_n (\\hat f(x_n) - f(x_n))\\,\\varepsilon_n$ on the training points, "
        "the part of the training error that the fit removed by following the noise, so that "
        "train MSE = truth MSE − absorbed + $\\hat\\sigma^2$."
        + (
            f" Quick mode: {short:,} and {long:,} epochs stand in for the course's 1,500 and "
            "15,000, so the numbers below are those of shorter training."
            if quick
            else ""
        )
    )

    rows = []
    for r in runs:
        for e in (short, long):
            s = r.snapshots[e]
            if r.activation != "relu":
                extra = f"mean tanh′(z1) = {s['mean_tanh_slope']:.2f}"
            elif s["kink_range"] is None:
                extra = "no kink inside [-1, 1]"
            else:
                extra = (
                    f"kinks in [{s['kink_range'][0]:.2f}, {s['kink_range'][1]:.2f}]; longest "
                    f"straight stretch {s['longest_straight_stretch']:.2f}"
                )
            rows.append(
                [r.label, f"{e:,}", fmt(s["train_mse"]), fmt(s["truth_mse_grid"]),
                 fmt(s["noise_absorbed"]), extra]
            )  # fmt: skip
    md.append("### Measurements")
    md.append(
        md_table(
            ["network", "epochs", "train MSE", "truth MSE", "noise absorbed", "diagnostic"],
            rows,
        )
    )
    md.append(
        f"Reference points: the noise floor $\\hat\\sigma^2 = {noise_var:.4f}$ (the train MSE "
        f"of the true function itself); the best straight line has train MSE {line_mse:.4f}. The "
        "diagnostic column gives, for ReLU, where the units' kinks $x = -b/w$ lie and the longest "
        "stretch of [-1, 1] without one (the network is a straight line there; the sine bends "
        "every 0.5); for tanh, the mean slope tanh′(z1) over units and points (1 means the "
        "units work as linear maps). Figures: `sine_fit.png` (predictions vs ground truth) and "
        "`sine_curves.png` (both errors per epoch)."
    )

    # -- with the course's settings
    A, B = runs[0], runs[1]
    a_l, b_l = A.snapshots[long], B.snapshots[long]
    md.append(f"### The course's settings (lr {SEED_LR:g})")
    better, worse = (A, B) if a_l["truth_mse_grid"] < b_l["truth_mse_grid"] else (B, A)
    parts = [
        f"After {long:,} epochs {better.label.split(',')[0]} is closer to the truth (truth MSE "
        f"{fmt(better.snapshots[long]['truth_mse_grid'])} vs "
        f"{fmt(worse.snapshots[long]['truth_mse_grid'])})."
    ]
    lowest = min(a_l["train_mse"], b_l["train_mse"])
    absorbed = max(0.0, a_l["noise_absorbed"], b_l["noise_absorbed"])
    if lowest > 2 * noise_var:
        parts.append(
            f"Neither fits the sine: both training errors ({fmt(a_l['train_mse'])} and "
            f"{fmt(b_l['train_mse'])}) are {lowest / noise_var:.0f}× or more the noise floor, "
            + (
                f"and the noise absorbed is at most {fmt(absorbed)} ({absorbed / noise_var:.0%} "
                "of σ̂²)"
                if absorbed > 0
                else "and neither absorbed any noise (the cross term is negative for both)"
            )
            + ": the error is bias (underfitting), not variance."
        )
    parts += [_why(r, r.snapshots[long], long, line_mse) for r in (A, B)]
    md.append(" ".join(p for p in parts if p))

    # -- 15,000 epochs
    md.append(f"### What happens with {long:,} epochs instead of {short:,}")
    sentences = []
    for r in runs:
        s, l = r.snapshots[short], r.snapshots[long]
        change = l["truth_mse_grid"] / s["truth_mse_grid"]
        if change < 0.5:
            verdict = f"truth MSE fell {1 / change:.1f}×"
        elif change < 0.9:
            verdict = f"truth MSE fell {1 - change:.0%}"
        elif change > 1.1:
            verdict = f"truth MSE rose {change - 1:.0%}"
        else:
            verdict = "truth MSE within ±10%"
        sentences.append(
            f"{r.label}: train {fmt(s['train_mse'])} → {fmt(l['train_mse'])}, truth "
            f"{fmt(s['truth_mse_grid'])} → {fmt(l['truth_mse_grid'])} ({verdict}), noise "
            f"absorbed {fmt(s['noise_absorbed'])} → {fmt(l['noise_absorbed'])}"
        )
    md.append("\n".join(f"- {t}" for t in sentences))
    overfit = [
        r.label
        for r in runs
        if r.snapshots[long]["train_mse"] < noise_var
        and r.snapshots[long]["truth_mse_grid"] > r.snapshots[short]["truth_mse_grid"]
    ]
    improved = [
        r.label
        for r in runs
        if r.snapshots[long]["truth_mse_grid"] < 0.5 * r.snapshots[short]["truth_mse_grid"]
    ]
    stuck = [r.label for r in runs if r.label not in improved]
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
            "truth MSE rose; the largest noise absorbed is "
            f"{fmt(max(0.0, *(r.snapshots[long]['noise_absorbed'] for r in runs)))}."
        )
    md.append(" ".join(summary))

    # -- a larger learning rate
    md.append(f"### A learning rate chosen from the curvature: lr {LARGER_LR:g}")
    lim = {k: 2 / v for k, v in sharp_init.items()}
    end_lims = {k: 2 / v for k, v in sharp_end.items()}
    md.append(
        "Gradient descent is stable while lr < 2/λ_max, λ_max the largest eigenvalue of the "
        "loss's Hessian (chapter 1). Measured by power iteration at the initial weights: "
        f"λ_max = {sharp_init['relu']:.2f} for ReLU (limit {lim['relu']:.3f}) and "
        f"{sharp_init['tanh']:.2f} for tanh (limit {lim['tanh']:.3f}). The course's "
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
    C, D, E = runs[2], runs[3], runs[4]
    c_l, d_l, e_l = C.snapshots[long], D.snapshots[long], E.snapshots[long]
    ranking = sorted((C, D, E), key=lambda r: r.snapshots[long]["truth_mse_grid"])
    md.append(
        f"After {long:,} epochs at lr {LARGER_LR:g}, ranked by truth MSE: "
        + "; ".join(f"{r.label} {fmt(r.snapshots[long]['truth_mse_grid'])}" for r in ranking)
        + ". "
        + f"tanh's mean slope is {d_l['mean_tanh_slope']:.2f} (against "
        f"{B.snapshots[long]['mean_tanh_slope']:.2f} at the course's rate): "
        + (
            "its units have left the linear regime and can bend. "
            if d_l["mean_tanh_slope"] < 0.9
            else "its units are still close to linear, so it is still near a straight line. "
        )
        + " ".join(t for t in (_why(C, c_l, long, line_mse),) if t)
        + f" Spreading the initial kinks over the data (same weights, biases b = −w·u with u "
        f"uniform on [-1, 1]) gave ReLU {e_l['kinks_inside']} kinks inside [-1, 1], a longest "
        f"straight stretch of {e_l['longest_straight_stretch']:.2f} and a train MSE of "
        f"{fmt(e_l['train_mse'])} ({e_l['train_mse'] / noise_var:.1f}× the noise floor)."
    )

    # -- the answer
    md.append("### Which fits better, and why")
    best = ranking[0]
    lab_winner = better.label.split(",")[0]
    equal_winner = "tanh" if d_l["truth_mse_grid"] < c_l["truth_mse_grid"] else "ReLU"
    b_best = best.snapshots[long]
    text = [
        f"At the course's settings {lab_winner} fits better (truth MSE "
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
        f"{max(0.0, *(r.snapshots[long]['noise_absorbed'] for r in runs)) / noise_var:.0%} of "
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
    md.append(" ".join(text))
    return ExperimentResult(NAME, TITLE, STAGE, metrics, "\n\n".join([LEAD, *md]), figures)
