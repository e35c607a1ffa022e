"""Backprop by hand (chapter 4): a one-hidden-layer binary classifier, ReLU and tanh.

Everything here runs through the reference network of ``handgrad.reference`` — Parts 1-5 as plain
functions (forward, stable BCE from the logit, hand-derived backward, gradient-descent
step, finite-difference check) — on two data sets:

  * two moons (2-D, 400 points, drawn from a Generator), where the decision boundary can
    be drawn;
  * scikit-learn's breast-cancer table (569 x 30), standardized with statistics of the
    training split only, with a stratified held-out split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .. import plots
from ..chapters import chapter
from ..data import Standardizer, load_builtin, make_moons, train_test_split
from ..reference import seed000 as net
from .base import ExperimentResult, Figure, fmt, lead, md_table, plural, tagline

NAME = "binary"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

HIDDEN = 16
TEST_FRACTION = 0.25
MOONS = {"n": 400, "noise": 0.2, "lr": 0.5, "epochs": 2000, "quick_epochs": 300}
CANCER = {"lr": 0.1, "epochs": 1000, "quick_epochs": 200}
CHECK_ROWS = 24  # rows used by the finite-difference check
COMPARED_ACTIVATIONS = ("relu", "tanh")
DISPLAY = {"relu": "ReLU", "tanh": "tanh"}


def _accuracy(X: np.ndarray, y: np.ndarray, params: dict, activation: str) -> float:
    z2 = net.forward(X, params, activation)["z2"][:, 0]
    return float(np.mean((z2 > 0) == (y == 1)))


def _prepare(X, y, seed: int, part: int):
    """Stratified split, then standardization fitted on the training rows only."""
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, TEST_FRACTION, rng=np.random.default_rng([seed, part]), stratify=True
    )
    scaler = Standardizer().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr.astype(float), y_te.astype(float)


def _probability_of_one(params: dict, activation: str):
    """P(y = 1 | x) for (M, 2) points under the trained parameters."""
    return lambda P: net.forward(P, params, activation)["p"][:, 0]


def run(seed: int = 0, out_dir: Path = Path("runs/binary"), quick: bool = False):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    Xm, ym = make_moons(int(MOONS["n"]), MOONS["noise"], rng=np.random.default_rng([seed, 0]))
    Xc, yc, _, _ = load_builtin("breast_cancer")
    datasets = {
        "moons": _prepare(Xm, ym, seed, 1) + (MOONS,),
        "breast cancer": _prepare(Xc, yc, seed, 2) + (CANCER,),
    }

    results: dict[str, dict] = {}
    checks: list[dict[str, Any]] = []
    for dname, (X_tr, X_te, y_tr, y_te, cfg) in datasets.items():
        epochs = cfg["quick_epochs"] if quick else cfg["epochs"]
        for act in COMPARED_ACTIVATIONS:
            init_seed = int(np.random.default_rng([seed, 3, len(results)]).integers(2**31))
            # Part 5 first: the analytic gradients at the initial weights vs finite differences
            p0 = net.init_params(X_tr.shape[1], HIDDEN, act, init_seed)
            p0["b1"] = 0.1 * np.random.default_rng([seed, 4]).standard_normal(HIDDEN)
            report = net.gradient_check(X_tr[:CHECK_ROWS], y_tr[:CHECK_ROWS], p0, act)
            for row in report.rows:
                checks.append(
                    {
                        "dataset": dname,
                        "activation": act,
                        "parameter": row.name,
                        "shape": list(row.shape),
                        "checked": row.checked,
                        "max_rel_error": row.max_rel_error,
                        "passed": row.passed(report.tol),
                    }
                )
            params, losses = net.train(X_tr, y_tr, HIDDEN, act, cfg["lr"], epochs, init_seed)
            z1 = net.forward(X_tr, params, act)["z1"]
            results[f"{dname}/{act}"] = {
                "dataset": dname,
                "activation": act,
                "lr": cfg["lr"],
                "epochs": epochs,
                "n_train": len(y_tr),
                "n_test": len(y_te),
                "features": X_tr.shape[1],
                "first_loss": losses[0],
                "final_loss": losses[-1],
                "train_accuracy": _accuracy(X_tr, y_tr, params, act),
                "test_accuracy": _accuracy(X_te, y_te, params, act),
                "dead_units": int(np.sum(np.all(z1 <= 0, axis=0))) if act == "relu" else None,
                "losses": losses,
                "params": params,
            }
    check_max = max(c["max_rel_error"] for c in checks)
    check_ok = all(c["passed"] for c in checks)

    # --- figures ----------------------------------------------------------------------------
    figures = []
    X_tr, X_te, y_tr, y_te, _ = datasets["moons"]
    fig, axes = plots.new_figure(ncols=2, size=(5.6, 4.4))
    for ax, act in zip(axes, COMPARED_ACTIVATIONS):
        r = results[f"moons/{act}"]
        plots.plot_decision_boundary(
            ax,
            _probability_of_one(r["params"], act),
            X_te,
            y_te.astype(int),
            title=f"{DISPLAY[act]}: held-out accuracy {r['test_accuracy']:.1%}",
            xlabel="x1 (standardized)",
            ylabel="x2 (standardized)",
            resolution=150,
        )
    fig.suptitle(f"Two moons, 2-{HIDDEN}-1 network: P(y = 1 | x) and held-out points")
    path = plots.save_figure(fig, out_dir / "binary_boundary.png")
    figures.append(Figure(path, "Decision boundaries (P = 0.5 in black) on the two-moons set."))

    fig, axes = plots.new_figure(ncols=2)
    for ax, dname in zip(axes, datasets):
        plots.plot_curves(
            ax,
            {act: results[f"{dname}/{act}"]["losses"] for act in COMPARED_ACTIVATIONS},
            title=f"{dname}: training loss (lr {datasets[dname][4]['lr']:g})",
            xlabel="epoch (full-batch gradient descent)",
            ylabel="mean BCE (nats, log scale)",
            logy=True,
        )
    path = plots.save_figure(fig, out_dir / "binary_loss.png")
    figures.append(Figure(path, "Mean binary cross-entropy per epoch, ReLU vs tanh."))

    # --- metrics ----------------------------------------------------------------------------
    metrics = {
        "hidden": HIDDEN,
        "results": {
            k: {kk: v for kk, v in r.items() if kk not in ("losses", "params")}
            for k, r in results.items()
        },
        "gradcheck": checks,
        "gradcheck_max_rel_error": check_max,
        "gradcheck_passed": check_ok,
    }

    # --- the section ------------------------------------------------------------------------
    md = []
    bc = results["breast cancer/relu"]
    md.append(
        lead(
            "Can a network with one hidden layer, written with nothing but NumPy and "
            "gradients derived by hand, separate two classes that no straight line separates, "
            "and are those hand-derived gradients right?",
            "First the gradient-check table (every relative error should be tiny), then the "
            "decision boundaries in `binary_boundary.png`: ReLU builds its boundary from "
            "straight pieces, tanh draws a smooth curve.",
        )
    )
    md.append("The network, written as plain functions in `handgrad.reference`:")
    md.append(r"$$z_1 = X W_1 + b_1,\qquad a_1 = f(z_1),$$")
    md.append(r"$$z_2 = a_1 W_2 + b_2,\qquad p = \sigma(z_2)$$")
    md.append(
        f"with $H = {HIDDEN}$ hidden units and $f$ = ReLU or tanh. Shapes for $N$ rows and "
        f"$D$ features: $X$ is $(N, D)$, $W_1$ is $(D, {HIDDEN})$, $b_1$ is $({HIDDEN},)$ "
        f"broadcast over the rows, $z_1$ and $a_1$ are $(N, {HIDDEN})$, $W_2$ is "
        f"$({HIDDEN}, 1)$, $b_2$ is $(1,)$, $z_2$ and $p$ are $(N, 1)$. The loss is the mean "
        "binary cross-entropy computed from the logit,"
    )
    md.append(r"$$\ell = y \,\mathrm{softplus}(-z_2) + (1 - y)\,\mathrm{softplus}(z_2),$$")
    md.append(
        r"which never forms $\log p$ and so stays finite when $p$ rounds to 0 or 1; its "
        r"gradient with respect to $z_2$ is $(p - y)/N$. Backward follows the chain rule:"
    )
    md.append(  # two display lines, so each fits a phone's width
        r"$$\frac{\partial L}{\partial W_2} = a_1^\top \delta_2,\quad "
        r"\frac{\partial L}{\partial b_2} = \sum_n \delta_2,\quad "
        r"\delta_1 = (\delta_2 W_2^\top) \odot f'(z_1),$$"
    )
    md.append(
        r"$$\frac{\partial L}{\partial W_1} = X^\top \delta_1,\quad "
        r"\frac{\partial L}{\partial b_1} = \sum_n \delta_1$$"
    )
    md.append(
        r"with $\delta_2 = \partial L / \partial z_2$, $f'(z) = \mathbb{1}[z > 0]$ for ReLU "
        r"and $1 - \tanh^2 z$ for tanh. Training is full-batch gradient descent, "
        r"$\theta \leftarrow \theta - \eta\, g$, from He (ReLU) or Xavier (tanh) initial "
        "weights."
    )
    md.append(
        f"Data: two moons ({MOONS['n']} points, noise {MOONS['noise']}) and scikit-learn's "
        f"breast-cancer table ({bc['n_train'] + bc['n_test']} tumours, {bc['features']} "
        "features, label 1 = benign). Each is split with a seeded, stratified "
        f"{1 - TEST_FRACTION:.0%}/{TEST_FRACTION:.0%} split and standardized with the mean "
        "and standard deviation of its training part only, so nothing about the held-out "
        "rows leaks into training."
        + (" Quick mode: fewer epochs than the full run." if quick else "")
    )

    md.append("### Gradient check (Part 5)")
    md.append(
        f"At the initial weights (with small random biases), on {CHECK_ROWS} training rows, "
        "each analytic gradient was compared with fourth-order central differences of the "
        "mean BCE (`handgrad.gradcheck` with a callable; for ReLU the step is chosen so no "
        "perturbation crosses a kink)."
    )
    md.append(
        md_table(
            ["data", "activation", "parameter", "shape", "entries", "max rel error", "passed"],
            [
                [
                    c["dataset"],
                    c["activation"],
                    c["parameter"],
                    "×".join(map(str, c["shape"])),
                    c["checked"],
                    f"{c['max_rel_error']:.1e}",
                    "yes" if c["passed"] else "NO",
                ]
                for c in checks
            ],
        )  # fmt: skip
    )
    md.append(
        f"Largest relative error over all {len(checks)} parameter arrays: {check_max:.1e} — "
        + (
            "every hand-derived gradient agrees with the finite differences."
            if check_ok
            else "at least one gradient disagrees with the finite differences."
        )
    )

    md.append("### Results")
    md.append(
        md_table(
            [
                "data",
                "activation",
                "lr",
                "epochs",
                "loss: first → last",
                "train acc.",
                "held-out acc.",
            ],
            [
                [
                    r["dataset"],
                    r["activation"],
                    f"{r['lr']:g}",
                    f"{r['epochs']:,}",
                    f"{fmt(r['first_loss'])} → {fmt(r['final_loss'])}",
                    f"{r['train_accuracy']:.1%}",
                    f"{r['test_accuracy']:.1%} of {r['n_test']}",
                ]
                for r in results.values()
            ],
        )  # fmt: skip
    )
    sentences = []
    for dname in datasets:
        a, b = results[f"{dname}/relu"], results[f"{dname}/tanh"]
        if a["test_accuracy"] == b["test_accuracy"]:
            cmp = f"ReLU and tanh tie on held-out accuracy ({a['test_accuracy']:.1%})"
        else:
            win, lose = (a, b) if a["test_accuracy"] > b["test_accuracy"] else (b, a)
            diff = round((win["test_accuracy"] - lose["test_accuracy"]) * win["n_test"])
            cmp = (
                f"{DISPLAY[win['activation']]} is ahead on held-out accuracy "
                f"({win['test_accuracy']:.1%} vs {lose['test_accuracy']:.1%}, "
                f"{diff} of {win['n_test']} points)"
            )
        lower = "ReLU" if a["final_loss"] < b["final_loss"] else "tanh"
        sentences.append(
            f"On {dname}, {cmp}; {lower} reached the lower training loss "
            f"({fmt(min(a['final_loss'], b['final_loss']))} vs "
            f"{fmt(max(a['final_loss'], b['final_loss']))})."
        )
    md.append(" ".join(sentences))
    bc_best = max(results["breast cancer/relu"]["test_accuracy"],
                  results["breast cancer/tanh"]["test_accuracy"])  # fmt: skip
    bc_worst = min(results["breast cancer/relu"]["test_accuracy"],
                   results["breast cancer/tanh"]["test_accuracy"])  # fmt: skip
    n_test = results["breast cancer/relu"]["n_test"]
    md.append(
        f"On breast cancer both reach {bc_worst:.1%} or better on the {n_test} held-out "
        "tumours; "
        + (
            f"a gap of {plural(round((bc_best - bc_worst) * n_test), 'tumour')} out of {n_test}, "
            "from one split and one initialization, is too small to rank the two "
            "activations on this table."
            if round((bc_best - bc_worst) * n_test) <= 2
            else "the gap is larger than a couple of tumours."
        )
        + (
            f" The ReLU networks ended with {results['moons/relu']['dead_units']} (moons) and "
            f"{results['breast cancer/relu']['dead_units']} (breast cancer) of {HIDDEN} "
            "hidden units inactive on every training row ('dead' units, which receive no "
            "gradient)."
        )
        + " The decision boundaries on the moons (`binary_boundary.png`) show the "
        "difference in shape: ReLU's boundary is built from straight pieces, tanh's is "
        "smooth; `binary_loss.png` shows the training curves."
    )
    return ExperimentResult(NAME, TITLE, STAGE, metrics, "\n\n".join(md), figures)
