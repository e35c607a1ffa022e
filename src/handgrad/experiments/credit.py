"""Chapter 6: a linear credit-score model with L2, and what its weights say.

Five people, three features (utilization as a fraction, age in years, late payments as a
count) and a FICO-like score. Features are standardized; a Linear(3, 1) is trained on

    L(W, b) = mean_n (x_n W + b - y_n)^2 + lam * ||W||^2        (the course's "full" convention)
    dL/dW   = 2/N X^T (X W + b - y) + 2 lam W,     dL/db = 2 mean(X W + b - y)

for lam in {0, 0.01, 0.1}. On standardized (centred) features the minimizer has a closed
form, the ridge solution: b = mean(y), W = (X^T X / N + lam I)^{-1} X^T y / N, against which
gradient descent is checked. Weights are mapped back to original units with

    W_orig = W_std / sigma,     b_orig = b_std - sum_j W_std_j mu_j / sigma_j.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .. import plots
from ..chapters import chapter
from ..data import Standardizer
from ..nn.gradcheck import gradcheck
from ..nn.layers import Linear
from ..nn.losses import L2Penalty, MSELoss
from ..nn.optim import SGD
from .base import ExperimentResult, Figure, bias_of, fmt, lead, md_table, tagline

NAME = "credit"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

LEAD = lead(
    (
        "What do the weights of a linear credit score mean, why must the features be "
        "standardized first, and what does an L2 penalty $\\lambda \\lVert W \\rVert^2$ do to "
        "them?"
    ),
    (
        "The weight table in original units (points of score per unit of each feature) and "
        "`credit_weights.png`: the weights shrink as $\\lambda$ grows, and the training error "
        "rises."
    ),
)


FEATURES = ("utilization", "age", "late_payments")
UNITS = ("per 1.0 of utilization (100 points of %)", "per year", "per late payment")
X_RAW = np.array(
    [
        [0.10, 45, 0],
        [0.90, 22, 3],
        [0.40, 31, 1],
        [0.20, 52, 0],
        [0.70, 28, 2],
    ],
    dtype=float,
)
Y = np.array([720, 580, 660, 740, 610], dtype=float).reshape(-1, 1)
LAMBDAS = (0.0, 1e-2, 1e-1)
PERSONS = {"A": [0.30, 21, 0], "B": [0.30, 65, 0]}
LAB_LR, LAB_EPOCHS = 0.01, 1000
LR = 0.3  # checked against 2 / lambda_max in the section
TARGET_REDUCTION = 1e-10  # train until the slowest direction's error shrinks this much
MAX_EPOCHS = 20000


def ridge(Xn: np.ndarray, y: np.ndarray, lam: float) -> tuple[np.ndarray, float]:
    """Exact minimizer on centred features: W (D, 1), b = mean(y)."""
    n, d = Xn.shape
    W = np.linalg.solve(Xn.T @ Xn / n + lam * np.eye(d), Xn.T @ (y - y.mean()) / n)
    return W, float(y.mean())


def unstandardize(W_std: np.ndarray, b_std: float, mu: np.ndarray, sigma: np.ndarray):
    """Weights on standardized inputs -> weights per original unit: (W_orig (D,), b_orig)."""
    W_std = np.asarray(W_std).ravel()
    return W_std / sigma, float(b_std - np.sum(W_std * mu / sigma))


def train(Xn, y, lam: float, lr: float, epochs: int, seed: int) -> tuple[Linear, list[float]]:
    """Full-batch gradient descent on MSE + lam ||W||^2; returns the layer and the total loss
    before each step."""
    lin = Linear(Xn.shape[1], 1, rng=np.random.default_rng(seed))
    loss, l2 = MSELoss(), L2Penalty(lam, convention="full")
    opt = SGD(lin.parameters(), lr=lr)
    params = lin.parameters()
    history = []
    for _ in range(epochs):
        history.append(loss.forward(lin.forward(Xn), y) + l2.value(params))
        lin.backward(loss.backward())
        l2.add_gradient(params)
        opt.step()
    return lin, history


def l2_gradient_checks(seed: int, lam: float = 0.01) -> dict:
    """The course's mini-check (grad with L2 minus grad without = 2 lam W) and a finite-difference
    check of the total loss MSE + lam ||W||^2, on a random batch of 5 rows."""
    rng = np.random.default_rng([seed, 7])
    lin = Linear(3, 1, rng=rng)
    Xb, yb = rng.standard_normal((5, 3)), rng.standard_normal((5, 1))
    loss, l2 = MSELoss(), L2Penalty(lam, convention="full")
    loss.forward(lin.forward(Xb), yb)
    lin.backward(loss.backward())
    dW_plain = lin.weight.grad.copy()
    l2.add_gradient(lin.parameters())
    delta = lin.weight.grad - dW_plain
    mini_err = float(np.max(np.abs(delta - 2 * lam * lin.weight.value)))
    grads = {"W": lin.weight.grad.copy(), "b": bias_of(lin).grad.copy()}

    def total() -> float:
        return loss.forward(lin.forward(Xb), yb) + l2.value(lin.parameters())

    report = gradcheck(total, {"W": lin.weight.value, "b": bias_of(lin).value}, grads)
    return {
        "lam": lam,
        "mini_check_max_abs_error": mini_err,
        "fd_max_rel_error": report.max_rel_error,
        "fd_passed": report.passed,
    }


def _loo_mse(lam: float) -> float:
    """Leave-one-out error of ridge: standardize on 4 people, predict the fifth."""
    errs = []
    for i in range(X_RAW.shape[0]):
        keep = np.arange(X_RAW.shape[0]) != i
        s = Standardizer().fit(X_RAW[keep])
        W, b = ridge(s.transform(X_RAW[keep]), Y[keep], lam)
        pred = float((s.transform(X_RAW[i : i + 1]) @ W)[0, 0] + b)
        errs.append((pred - Y[i, 0]) ** 2)
    return float(np.mean(errs))


def run(seed: int = 0, out_dir: Path = Path("runs/credit"), quick: bool = False):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scaler = Standardizer().fit(X_RAW)
    mu, sigma = scaler.mean_, scaler.scale_
    assert mu is not None and sigma is not None  # set by fit
    Xn = scaler.transform(X_RAW)
    n = Xn.shape[0]
    corr_eig = np.linalg.eigvalsh(Xn.T @ Xn / n)

    results = {}
    for lam in LAMBDAS:
        key = f"{lam:g}"
        W_cf, b_cf = ridge(Xn, Y, lam)
        # Hessian of the total loss in (W, b): blockdiag(2 (X^T X / N + lam I), 2) on centred X
        hess = np.concatenate([2 * (corr_eig + lam), [2.0]])
        lam_max, lam_min = float(hess.max()), float(hess.min())
        slowest = abs(1 - LR * lam_min)
        epochs = min(MAX_EPOCHS, math.ceil(math.log(TARGET_REDUCTION) / math.log(slowest)))
        lab_model, lab_hist = train(Xn, Y, lam, LAB_LR, LAB_EPOCHS, seed)
        model, hist = train(Xn, Y, lam, LR, epochs, seed)
        W = model.weight.value[:, 0].copy()
        b = float(bias_of(model).value[0])
        W_orig, b_orig = unstandardize(W, b, mu, sigma)
        persons = {}
        for who, raw in PERSONS.items():
            via_model = float(model.forward(scaler.transform(np.array([raw])))[0, 0])
            by_hand = float(np.dot(W_orig, raw) + b_orig)
            persons[who] = {"features": raw, "model": via_model, "by_hand": by_hand}
        order = np.argsort(-np.abs(W))
        results[key] = {
            "lam": lam,
            "hessian_eigenvalues": hess.tolist(),
            "lr_limit": 2 / lam_max,
            "slowest_factor": slowest,
            "epochs": epochs,
            "W_std": W.tolist(),
            "b_std": b,
            "W_closed_form": W_cf[:, 0].tolist(),
            "gd_vs_closed_form": float(max(np.max(np.abs(W - W_cf[:, 0])), abs(b - b_cf))),
            "lab_W_std": lab_model.weight.value[:, 0].tolist(),
            "lab_b_std": float(bias_of(lab_model).value[0]),
            "lab_vs_closed_form": float(
                max(
                    np.max(np.abs(lab_model.weight.value[:, 0] - W_cf[:, 0])),
                    abs(float(bias_of(lab_model).value[0]) - b_cf),
                )
            ),
            "lab_final_loss": lab_hist[-1],
            "final_loss": hist[-1],
            "train_mse": float(np.mean((model.forward(Xn) - Y) ** 2)),
            "weight_norm": float(np.linalg.norm(W)),
            "W_orig": W_orig.tolist(),
            "b_orig": b_orig,
            "ranking": [FEATURES[k] for k in order],
            "persons": persons,
            "loo_mse": _loo_mse(lam),
            "history": hist,
            "lab_history": lab_hist,
        }
    checks = l2_gradient_checks(seed)
    path_lams = np.logspace(-3, 1, 9 if quick else 41)
    path_W = np.array([ridge(Xn, Y, lam)[0][:, 0] for lam in path_lams])
    path_loo = np.array([_loo_mse(lam) for lam in path_lams])
    loo_zero = _loo_mse(0.0)

    # --- figures ----------------------------------------------------------------------------
    figures = []
    fig, ax = plots.new_figure(size=(7.0, 4.3))
    for key, r in results.items():
        epochs_axis = np.arange(1, len(r["history"]) + 1)
        lab_axis = np.arange(1, len(r["lab_history"]) + 1)
        label = f"λ = {key}, lr {LR:g} ({r['epochs']:,} epochs)"
        (line,) = ax.semilogy(epochs_axis, r["history"], label=label)
        ax.semilogy(
            lab_axis,
            r["lab_history"],
            "--",
            color=line.get_color(),
            label=f"λ = {key}, course lr 0.01",
        )
    ax.set_title("Total loss (MSE + λ‖W‖²) per epoch")
    ax.set_xlabel("epoch (full batch, 5 people)")
    ax.set_ylabel("total loss (points², log scale)")
    ax.set_xscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(ncol=2)
    path = plots.save_figure(fig, out_dir / "credit_loss.png")
    figures.append(
        Figure(path, "Training curves: the course's lr 0.01 (dashed) and lr 0.3 (solid).")
    )

    fig, (ax1, ax2) = plots.new_figure(ncols=2)
    plots.plot_bars(
        ax1,
        {f"λ = {k}": r["W_std"] for k, r in results.items()},
        list(FEATURES),
        title="Weights on standardized features",
        ylabel="score points per standard deviation",
        xlabel="feature",
    )
    for j, name in enumerate(FEATURES):
        ax2.semilogx(path_lams, path_W[:, j], label=f"W[{name}]")
    ax2.set_xlabel("L2 strength λ (log scale)")
    ax2.set_ylabel("weight (points per standard deviation)")
    ax2.set_title("Ridge path, with leave-one-out error")
    ax2.grid(True, alpha=0.3)
    ax3 = ax2.twinx()
    ax3.semilogx(path_lams, np.sqrt(path_loo), "k:", label="leave-one-out RMSE (points)")
    ax3.set_ylabel("leave-one-out RMSE (points)")
    lines = ax2.get_legend_handles_labels()
    extra = ax3.get_legend_handles_labels()
    ax2.legend(lines[0] + extra[0], lines[1] + extra[1])
    path = plots.save_figure(fig, out_dir / "credit_weights.png")
    figures.append(Figure(path, "Learned weights for each λ, and the ridge path over λ."))

    # --- metrics ----------------------------------------------------------------------------
    metrics = {
        "features": list(FEATURES),
        "mean": mu.tolist(),
        "std": sigma.tolist(),
        "correlation_eigenvalues": corr_eig.tolist(),
        "lr": LR,
        "lab": {"lr": LAB_LR, "epochs": LAB_EPOCHS},
        "by_lambda": {
            k: {kk: v for kk, v in r.items() if "history" not in kk} for k, r in results.items()
        },
        "l2_checks": checks,
        "ridge_path": {
            "lambdas": path_lams.tolist(),
            "W": path_W.tolist(),
            "loo_mse": path_loo.tolist(),
        },
    }

    # --- the section ------------------------------------------------------------------------
    md = []
    md.append(
        "The course's five people (utilization as a fraction, age in years, number of late "
        "payments; score as target) are standardized with `handgrad.data.Standardizer` "
        "(means "
        + ", ".join(f"{m:.3g}" for m in mu)
        + "; standard deviations "
        + ", ".join(f"{s:.3g}" for s in sigma)
        + "), and a `Linear(3, 1)` is trained by full-batch gradient descent on MSE + λ‖W‖² "
        "(`L2Penalty(lam, convention='full')`: the gradient gains $2\\lambda W$, the bias is not "
        f"penalized) for λ ∈ {{{', '.join(f'{lam:g}' for lam in LAMBDAS)}}}."
    )

    # settings
    md.append("### Does the course's lr 0.01 × 1,000 epochs converge?")
    md.append(
        md_table(
            [
                "λ",
                "Hessian eigenvalues",
                "2/λ_max",
                "largest gap to the exact solution, course settings",
            ],
            [
                [
                    k,
                    ", ".join(f"{e:.3g}" for e in r["hessian_eigenvalues"]),
                    f"{r['lr_limit']:.3f}",
                    fmt(r["lab_vs_closed_form"]),
                ]
                for k, r in results.items()
            ],
        )  # fmt: skip
    )
    worst_lab = max(r["lab_vs_closed_form"] for r in results.values())
    epoch_list = ", ".join(f"{r['epochs']:,} for λ = {k}" for k, r in results.items())
    r0 = results["0"]
    md.append(
        f"The features are strongly correlated (the eigenvalues of their correlation matrix "
        f"are {', '.join(f'{e:.3g}' for e in corr_eig)}), so the loss is a long, narrow "
        f"valley: its Hessian's smallest eigenvalue ({r0['hessian_eigenvalues'][0]:.3g} at "
        f"λ = 0) sets how slowly gradient descent crawls along it. At lr {LAB_LR:g} the error "
        f"in that direction shrinks by 1 − {LAB_LR:g}·{r0['hessian_eigenvalues'][0]:.3g} "
        f"per step, so after {LAB_EPOCHS:,} epochs the weights are still up to "
        f"{fmt(worst_lab)} score points per standard deviation from the exact minimizer "
        "(largest for small λ; the bias, whose curvature is 2, converges). Yet the loss is "
        f"only {fmt(r0['lab_final_loss'] - r0['final_loss'])} above its minimum at λ = 0: along "
        "the valley floor very different weights fit almost equally well. "
        + (
            "So the course's settings do not converge for every λ, "
            if worst_lab > 0.01
            else "The course's settings converge, "
        )
        + f"and we train with lr {LR:g} instead, below every 2/λ_max "
        f"(smallest {min(r['lr_limit'] for r in results.values()):.3f}), for as many epochs as "
        f"the slowest direction needs to shrink its error by {TARGET_REDUCTION:g} "
        f"({epoch_list}). "
        "The result matches the closed-form ridge solution to "
        f"{fmt(max(r['gd_vs_closed_form'] for r in results.values()))} "
        "(figure `credit_loss.png`)."
    )

    # weights
    md.append("### The learned weights")
    rows = []
    for k, r in results.items():
        for j, name in enumerate(FEATURES):
            rows.append([k, name, f"{r['W_std'][j]:+.2f}", f"{r['W_orig'][j]:+.3f} {UNITS[j]}"])
        rows.append([k, "bias", f"{r['b_std']:.2f}", f"{r['b_orig']:.2f} (all features at 0)"])
    md.append(md_table(["λ", "feature", "weight, standardized", "weight, original units"], rows))
    rank_text = []
    for k, r in results.items():
        parts = []
        for name in r["ranking"]:
            j = FEATURES.index(name)
            w = r["W_std"][j]
            parts.append(f"{name} ({'+' if w >= 0 else '−'}{abs(w):.1f})")
        rank_text.append(f"λ = {k}: " + " > ".join(parts))
    same = len({tuple(r["ranking"]) for r in results.values()}) == 1
    md.append(
        "Ranking by |weight| on standardized features (the only scale on which the three "
        "are comparable: one standard deviation of each):\n\n"
        + "\n".join(f"- {t}" for t in rank_text)
    )
    signs = results["0"]["W_std"]
    direction = {name: ("raises" if signs[j] > 0 else "lowers") for j, name in enumerate(FEATURES)}
    md.append(
        f"Signs: more utilization {direction['utilization']} the predicted score, more age "
        f"{direction['age']} it, more late payments {direction['late_payments']} it"
        + (
            " — the directions a credit analyst would expect."
            if direction["utilization"] == "lowers"
            and direction["age"] == "raises"
            and direction["late_payments"] == "lowers"
            else "."
        )
        + (
            " The ranking is the same for every λ."
            if same
            else " The ranking changes with λ: with five people and three strongly correlated "
            "features, the data cannot tell the features apart well, and the penalty decides "
            "how the shared effect is split among them. The magnitudes are weak evidence; "
            "the signs are the robust part."
        )
    )

    # lambda effect
    md.append("### What increasing λ does")
    md.append(
        md_table(
            ["λ", "‖W‖ (standardized)", "train MSE", "leave-one-out MSE"],
            [
                [k, f"{r['weight_norm']:.2f}", fmt(r["train_mse"]), fmt(r["loo_mse"])]
                for k, r in results.items()
            ],
        )  # fmt: skip
    )
    norms = [r["weight_norm"] for r in results.values()]
    mses = [r["train_mse"] for r in results.values()]
    loos = [r["loo_mse"] for r in results.values()]
    best_path = float(path_lams[np.argmin(path_loo)])
    md.append(
        (
            "Larger λ shrinks the weights (‖W‖ "
            + " → ".join(f"{v:.1f}" for v in norms)
            + ") and raises the training error ("
            + " → ".join(fmt(v) for v in mses)
            + "): more bias. "
            if all(a >= b for a, b in zip(norms, norms[1:]))
            else "‖W‖ did not shrink monotonically with λ here. "
        )
        + f"With 4 parameters for 5 people the unpenalized fit has little data per "
        f"parameter (train MSE {fmt(mses[0])}, i.e. {math.sqrt(mses[0]):.1f} points RMS), "
        "which is the overfitting risk: weights tuned to these five rows. Leave-one-out "
        f"error, which refits on four people and predicts the fifth, measures it: "
        + " → ".join(fmt(v) for v in loos)
        + f" over the three λ; along the ridge path (figure `credit_weights.png`) it is "
        f"lowest at λ ≈ {best_path:.3g} ({fmt(path_loo.min())} vs {fmt(loo_zero)} at λ = 0). "
        + (
            "So a moderate penalty trades a little bias for less variance and predicts new "
            "people better."
            if path_loo.min() < loo_zero * 0.95
            else "On these five people the penalty barely changes the out-of-sample error."
        )
    )

    # persons
    md.append("### Two people: 21 and 65 years old")
    prow = []
    for k, r in results.items():
        pa, pb = r["persons"]["A"], r["persons"]["B"]
        prow.append(
            [k, f"{pa['model']:.2f}", f"{pa['by_hand']:.2f}", f"{pb['model']:.2f}",
             f"{pb['by_hand']:.2f}", f"{pb['model'] - pa['model']:+.2f}"]
        )  # fmt: skip
    md.append(
        md_table(
            [
                "λ",
                "A [0.30, 21, 0] model",
                "A by hand",
                "B [0.30, 65, 0] model",
                "B by hand",
                "B − A",
            ],
            prow,
        )
    )
    agree = max(
        abs(p["model"] - p["by_hand"]) for r in results.values() for p in r["persons"].values()
    )
    r1 = results[f"{LAMBDAS[1]:g}"]
    age_w = r1["W_orig"][1]
    diff = r1["persons"]["B"]["model"] - r1["persons"]["A"]["model"]
    md.append(
        "'Model' standardizes the raw features and runs the layer; 'by hand' is "
        "W_orig · x + b_orig with the original-unit weights from the table above, e.g. for "
        f"λ = {LAMBDAS[1]:g}: {r1['b_orig']:.2f} "
        + " ".join(
            f"{'+' if w >= 0 else '−'} {abs(w):.3f}·{v:g}"
            for w, v in zip(r1["W_orig"], PERSONS["A"])
        )
        + f" = {r1['persons']['A']['by_hand']:.2f} for A. The two agree to {agree:.1e} "
        "points"
        + (", so the unstandardized weights are the model itself." if agree < 1e-9 else ".")
        + f" The people differ only in age (44 years), so B − A = 44 × {age_w:+.3f} = "
        f"{diff:+.2f} points at λ = {LAMBDAS[1]:g}: "
        + (
            "the model rewards age, as in its training data, where the older people had "
            "the higher scores."
            if diff > 0
            else "the model penalizes age."
        )
        + f" Caution: the training ages span {X_RAW[:, 1].min():.0f}–"
        f"{X_RAW[:, 1].max():.0f}, so both 21 and 65 are extrapolations; a linear model "
        "keeps adding the same points per year forever, and in the training data age moves "
        "together with utilization and late payments, so the model cannot separate 'older' "
        "from 'fewer late payments'."
    )

    # gradient checks
    md.append("### Checking the L2 gradient")
    md.append(
        f"The course's mini-check on a random batch (5 rows, $\\lambda = {checks['lam']:g}$): the "
        "gradient with the penalty minus the gradient without it should be exactly "
        f"$2\\lambda W$; the largest difference is {checks['mini_check_max_abs_error']:.1e}. "
        "A finite-difference check of the total loss "
        "$\\mathrm{MSE} + \\lambda \\lVert W \\rVert^2$ with respect to $W$ and $b$ gives a "
        f"largest relative error of {checks['fd_max_rel_error']:.1e} ("
        + ("passed" if checks["fd_passed"] else "FAILED")
        + ")."
    )
    return ExperimentResult(NAME, TITLE, STAGE, metrics, "\n\n".join([LEAD, *md]), figures)
