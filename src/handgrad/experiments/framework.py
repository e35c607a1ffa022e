"""Chapter 10: the credit-score model trained in handgrad and in Keras 3, side by side.

The course's toy table (utilization, age, late payments -> a FICO-like score), features
standardized; a single Linear(3 -> 1); loss = MSE + lam * sum(W^2) with lam = 1e-2 (the
Keras ``L2`` convention, ``hg.L2Penalty(lam, convention="full")``; the bias is not
penalized); plain SGD with learning rate 0.1; 1000 epochs of one full-batch step each.

Keras starts from handgrad's initial weights, runs in float64 and takes the same 1000
steps (``train_on_batch``: one step per call, exactly one full-batch epoch), so any
difference left is floating-point rounding, or a real difference in the math.

Keras is optional (the ``framework`` extra installs it with JAX on the CPU). Its backend is
the one named by ``KERAS_BACKEND`` if set, otherwise JAX when installed, else PyTorch, else
TensorFlow. Keras runs in a child Python process (see ``_run_keras``) whose environment
names the backend and a temporary Keras home, so neither Keras nor its backend is ever
imported into handgrad's own process, and a user's ``~/.keras/keras.json`` is neither read
nor written. Without Keras or a backend, the handgrad half still runs and the section says
why the comparison was skipped; ``keras=False`` skips it on purpose.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import handgrad as hg

from ..chapters import chapter
from ..data import Standardizer
from ..install import install_hint
from .base import ExperimentResult, bias_of, lead, tagline
from .credit import FEATURES, PERSONS, X_RAW, Y
from .framework_figures import loss_and_weight_figures, pointwise_rel
from .keras_side import backend_or_reason as _backend_or_reason
from .keras_side import run_keras as _run_keras

NAME = "framework"
TITLE = chapter(NAME).heading
STAGE = tagline(NAME)

LEAD = lead(
    (
        "Does a framework (Keras 3) trained from the same start, with the same loss and steps, "
        "land on the same weights as handgrad's hand-written version?"
    ),
    (
        "The side-by-side weight table and `framework_weights.png`; when Keras is not "
        "installed, only the handgrad half runs and the section says so."
    ),
)


PEOPLE = PERSONS  # same utilization and history, age differs
LAM = 1e-2
LR = 0.1
EPOCHS = 1000

# --- handgrad ---------------------------------------------------------------------------------


def _train_handgrad(Xn, W0, b0, convention: str = "full", lam: float = LAM) -> dict:
    layer = hg.Linear(3, 1)
    layer.weight.value[:, 0] = W0
    bias_of(layer).value[...] = b0
    model = hg.Sequential(layer)
    started = time.perf_counter()
    history = hg.fit(
        model,
        hg.MSELoss(),
        hg.SGD(model.parameters(), lr=LR),
        Xn,
        Y,
        epochs=EPOCHS,
        batch_size=Xn.shape[0],
        shuffle=False,
        l2=hg.L2Penalty(lam, convention=convention),
    )
    return {
        "W": layer.weight.value[:, 0].copy(),
        "b": float(bias_of(layer).value[0]),
        "loss": np.asarray(history.step_loss),
        "seconds": time.perf_counter() - started,
        "predict": lambda X: model.forward(np.asarray(X, dtype=np.float64))[:, 0],
    }


# --- helpers ----------------------------------------------------------------------------------


def _original_units(W_std, b_std, scaler: Standardizer):
    """Weights for raw features: y = b + sum_j W_j (x_j - mu_j) / s_j = b' + sum_j W'_j x_j."""
    W = np.asarray(W_std) / scaler.scale_
    b = float(b_std - np.sum(np.asarray(W_std) * scaler.mean_ / scaler.scale_))
    return W, b


def _ridge_analysis(Xn, W0, W_trained) -> dict:
    """Where full-batch SGD is heading, and how far 1000 steps get.

    With centered columns the bias decouples, and for the weights the loss is the quadratic
    mean((X w - y_c)^2) + lam |w|^2 with Hessian 2A, A = X^T X / N + lam I. Its minimum is
    w* = A^-1 X^T y_c / N, and gradient descent gives w_t = w* + (I - 2 lr A)^t (w_0 - w*),
    so the error along A's eigenvector with eigenvalue a shrinks by |1 - 2 lr a| per step.
    """
    n = Xn.shape[0]
    yc = Y[:, 0] - Y[:, 0].mean()
    A = Xn.T @ Xn / n + LAM * np.eye(Xn.shape[1])
    w_star = np.linalg.solve(A, Xn.T @ yc / n)
    eig = np.linalg.eigvalsh(A)
    step = np.eye(len(eig)) - 2.0 * LR * A
    predicted = w_star + np.linalg.matrix_power(step, EPOCHS) @ (W0 - w_star)
    slowest = float(np.max(np.abs(1.0 - 2.0 * LR * eig)))
    return {
        "w_star": w_star,
        "b_star": float(Y[:, 0].mean()),
        "eigenvalues": eig,
        "slowest_factor_per_step": slowest,
        "slowest_factor_after_all_steps": slowest**EPOCHS,
        "distance_to_optimum": float(np.linalg.norm(W_trained - w_star)),
        "relative_distance_to_optimum": float(
            np.linalg.norm(W_trained - w_star) / np.linalg.norm(w_star)
        ),
        "predicted_W_after_all_steps": predicted,
        "max_abs_diff_from_prediction": float(np.max(np.abs(W_trained - predicted))),
    }


def _rel(a, b) -> float:
    """max |a - b| / max |b|: the difference relative to the size of the numbers compared."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _compare(out: dict, hg_run: dict, Xn, queries, wall: float) -> dict:
    """Keras's float64 (and float32) runs against handgrad's: differences, side by side."""
    ref_pred = hg_run["predict"](queries)
    n = Xn.shape[0]
    result = {
        "available": True,
        "backend": out["backend"],
        "version": out["version"],
        "import_seconds": out["import_seconds"],
        "child_process_seconds": wall,
    }
    for dtype, r in out["runs"].items():
        W, pred, loss = np.asarray(r["W"]), np.asarray(r["predictions"]), np.asarray(r["loss"])
        entry = {
            "dtype": r["weight_dtype"],
            "seconds": r["seconds"],
            "W_std": W,
            "b_std": r["b"],
            "final_loss": float(loss[-1]),
            "loss_curve": loss,
            "train_predictions": pred[:n],
            "people": {who: float(pred[n + i]) for i, who in enumerate(PEOPLE)},
            "max_abs_weight_diff": float(np.max(np.abs(W - hg_run["W"]))),
            "max_rel_weight_diff": _rel(W, hg_run["W"]),
            "abs_bias_diff": abs(r["b"] - hg_run["b"]),
            "max_abs_prediction_diff": float(np.max(np.abs(pred - ref_pred))),
            "max_rel_loss_diff": float(np.max(pointwise_rel(loss, hg_run["loss"]))),
            # every reported loss exactly a float32 number: computed in single precision
            "losses_are_float32": bool(np.all(loss.astype(np.float32) == loss)),
        }
        if dtype == "float64":
            result.update(entry)
        else:
            result[dtype] = entry
    return result


def _lam32_check(Xn, W0, b0, out: dict, hg_run: dict) -> dict:
    """Does lam rounded to float32 (0.01 -> 0.0099999998) explain the float64 gap?

    Reruns handgrad with that lam and measures its distance to Keras's float64 weights.
    """
    lam32 = float(np.float32(LAM))
    rerun = _train_handgrad(Xn, W0, b0, lam=lam32)
    W_keras = np.asarray(out["runs"]["float64"]["W"])
    return {
        "lam": lam32,
        "loss_curve": rerun["loss"],
        "max_abs_weight_diff": float(np.max(np.abs(rerun["W"] - W_keras))),
        "max_rel_weight_diff": _rel(rerun["W"], W_keras),
        "max_rel_weight_diff_exact_lam": _rel(hg_run["W"], W_keras),
    }


# --- the text ---------------------------------------------------------------------------------


def _markdown(m: dict) -> str:
    h = m["handgrad"]
    k = m["keras"]
    order = np.argsort(-np.abs(h["W_std"]))
    ranking = ", ".join(
        f"{FEATURES[j]} ({h['W_std'][j]:+.2f}: {'raises' if h['W_std'][j] > 0 else 'lowers'} "
        "the score)"
        for j in order
    )
    pa, pb = h["people"]["A"], h["people"]["B"]
    lines = [
        f"**Setup.** Chapter 6's five-row credit table, features standardized (mean 0, std 1 per "
        f"column); Linear(3 -> 1) with initial weights drawn with seed {m['seed']} "
        f"({', '.join(f'{w:+.3f}' for w in m['initial_W'])}, bias 0); loss = "
        f"$\\mathrm{{MSE}} + {LAM:g} \\sum W^2$, the Keras L2 convention (handgrad: "
        f'`L2Penalty({LAM:g}, convention="full")`, gradient $2 \\lambda W$; the bias is not '
        f"penalized); SGD, learning rate {LR:g}, {EPOCHS} epochs of one full-batch step.",
        "",
    ]
    if not k["available"]:
        lines += [f"**Keras comparison skipped:** {k['reason']}. The handgrad half below ran."]
        if k.get("install_hint"):
            lines.append(
                f"Install Keras 3 with a backend (`{install_hint('framework')}`) to see the two "
                "side by side."
            )
        lines.append("")
    header = "| | handgrad |" + (" Keras |" if k["available"] else "")
    rule = "|---|---:|" + ("---:|" if k["available"] else "")
    rows = [header, rule]

    def row(label, a, b=None, fmt="{:+.6f}"):
        cells = f"| {label} | {fmt.format(a)} |"
        if k["available"]:
            cells += f" {fmt.format(b)} |"
        rows.append(cells)

    for j, name in enumerate(FEATURES):
        row(f"weight: {name}", h["W_std"][j], k.get("W_std", [None] * 3)[j])
    row("bias", h["b_std"], k.get("b_std"))
    row("final loss", h["final_loss"], k.get("final_loss"), "{:.6f}")
    for who in ("A", "B"):
        row(
            f"score of person {who} {PEOPLE[who]}",
            h["people"][who],
            k.get("people", {}).get(who),
            "{:.4f}",
        )
    lines += ["### Weights and predictions", "", *rows, ""]

    if k["available"]:
        rel = k["max_rel_weight_diff"]
        lam32 = k["lam_float32"]
        lines += [
            f"Keras ran on the {k['backend']} backend (Keras {k['version']}, in a child "
            f"process), weights {k['dtype']}. Largest differences from handgrad: weights "
            f"{k['max_abs_weight_diff']:.2e} (relative {rel:.1e}), bias "
            f"{k['abs_bias_diff']:.2e}, predictions (the five rows and persons A and B) "
            f"{k['max_abs_prediction_diff']:.2e} score points, loss curves "
            f"{k['max_rel_loss_diff']:.1e} relative over all {EPOCHS} epochs.",
            "",
        ]
        if rel < 1e-12:
            lines.append(
                "That is float64 rounding and nothing else: the two compute the same "
                "gradients and take the same steps."
            )
        elif lam32["max_rel_weight_diff"] * 100 < lam32["max_rel_weight_diff_exact_lam"]:
            closer = lam32["max_rel_weight_diff_exact_lam"] / max(
                lam32["max_rel_weight_diff"], 1e-300
            )
            lines.append(
                f"The two take the same steps, but the gap is larger than float64 rounding, "
                f"and its cause can be measured: Keras applies the L2 strength in float32 "
                f"(lam = float32(0.01) = {lam32['lam']:.10f}). handgrad rerun with that lam "
                f"ends {lam32['max_rel_weight_diff']:.1e} (relative) from Keras's weights, "
                f"{closer:.2g} times closer than with lam = 0.01 exactly: the remaining "
                "difference is "
                "rounding."
            )
        elif rel < 1e-6:
            lines.append(
                f"The two agree to about {-np.log10(rel):.0f} significant digits, more than "
                "float64 rounding alone would leave but far too little to be a different "
                "algorithm (lam rounded to float32 does not explain it: rerun with that lam, "
                f"handgrad ends {lam32['max_rel_weight_diff']:.1e} away)."
            )
        else:
            lines.append(
                "That is more than rounding explains: the two are not computing the same "
                "thing (check the loss, the L2 convention and the dtype)."
            )
        if k["dtype"] == "float64" and k["losses_are_float32"]:
            lines.append(
                f"Note: every loss the {k['backend']} backend reported is exactly a float32 "
                "number, so despite the float64 weights it computed in single precision; "
                "agreement is then limited to float32 rounding (about 7 digits)."
            )
        lines.append("")
        if "float32" in k:
            f32 = k["float32"]
            lines += [
                f"In Keras's default float32 the same run ends {f32['max_rel_weight_diff']:.1e} "
                f"(relative) from handgrad's float64 weights, and its predictions differ by up "
                f"to {f32['max_abs_prediction_diff']:.2e} score points: single precision's "
                "rounding, harmless here.",
                "",
            ]
        lines += [
            f"Timing: handgrad took {h['seconds']:.2f} s for the {EPOCHS} steps, Keras "
            f"{k['seconds']:.2f} s (one `train_on_batch` call per step, after "
            f"{k['import_seconds']:.1f} s to import it). On a five-row problem each step is "
            "nearly all per-call overhead.",
            "",
        ]
    r = m["ridge"]
    corr = m["feature_correlations"]
    lines += ["### Has it converged?", ""]
    if r["relative_distance_to_optimum"] < 1e-6:
        lines.append(
            f"Yes: after {EPOCHS} steps the weights are within "
            f"{r['relative_distance_to_optimum']:.1e} (relative) of the ridge optimum computed "
            "in closed form."
        )
    else:
        lines.append(
            f"Not quite. The ridge optimum in closed form is "
            f"({', '.join(f'{w:+.3f}' for w in r['w_star'])}), and after {EPOCHS} steps the "
            f"weights are still {r['distance_to_optimum']:.3f} away from it "
            f"({r['relative_distance_to_optimum']:.1%} of its length). The features are "
            f"strongly correlated (pairwise correlations {', '.join(f'{c:+.2f}' for c in corr)} "
            f"for utilization-age, utilization-late payments, age-late payments), so the "
            f"loss is nearly flat along one direction: the eigenvalues of X^T X / N + lam I are "
            f"{', '.join(f'{e:.4f}' for e in r['eigenvalues'])}, and the error along the "
            f"slowest direction shrinks by a factor {r['slowest_factor_per_step']:.4f} per step, "
            f"{r['slowest_factor_after_all_steps']:.2g} after {EPOCHS} steps. Gradient descent "
            "on this quadratic can be written in closed form; it predicts handgrad's final "
            f"weights to {r['max_abs_diff_from_prediction']:.1e}."
        )
    lines.append("")
    half = m["half_convention"]
    lines += [
        "### Why the convention matters",
        "",
        f"Trained with the other L2 convention ($\\frac{{\\lambda}}{{2}} \\sum W^2$, gradient "
        f"$\\lambda W$, what "
        f"SGD weight decay does), handgrad's weights end {half['max_abs_weight_diff']:.2f} "
        f"score points per standard deviation away from the run above "
        f"(relative {half['max_rel_weight_diff']:.1e}): matching a framework means matching its "
        "penalty's definition, not just the symbol lambda.",
        "",
        "### Reading the weights",
        "",
        f"Ordered by size on standardized features: {ranking}. In original units: "
        + ", ".join(f"{w:+.3f} per unit of {n}" for n, w in zip(FEATURES, h["W_orig"]))
        + f", intercept {h['b_orig']:.2f}.",
        "",
        f"Person A {PEOPLE['A']} gets {pa:.1f} and person B {PEOPLE['B']} gets {pb:.1f}: "
        f"the {PEOPLE['B'][1] - PEOPLE['A'][1]} years of age between them are worth "
        f"{pb - pa:+.1f} points, and nothing else differs. Age 65 lies outside the table's "
        "ages (22 to 52), so B's score is an extrapolation of a straight line fitted to five "
        "people.",
    ]
    return "\n".join(lines)


def _keras_half(wanted: bool, quick: bool, Xn, W0, b0, queries, hg_run: dict):
    """-> (metrics of the Keras comparison, Keras's float64 run or None, backend name)."""
    if not wanted:
        return {"available": False, "reason": "switched off (keras=False)"}, None, ""
    backend, reason = _backend_or_reason()
    if backend is None:
        return {"available": False, "reason": reason, "install_hint": True}, None, ""
    job = {
        "X": Xn.tolist(),
        "Y": Y.tolist(),
        "W0": W0.tolist(),
        "b0": b0,
        "lam": LAM,
        "lr": LR,
        "epochs": EPOCHS,
        "queries": queries.tolist(),
        "dtypes": ["float64"] if quick else ["float64", "float32"],
    }
    started = time.perf_counter()
    out = _run_keras(backend, job)
    wall = time.perf_counter() - started
    if "import_error" in out:
        reason = f"importing Keras with the {backend} backend failed ({out['import_error']})"
        return {"available": False, "reason": reason, "install_hint": True}, None, backend
    result = _compare(out, hg_run, Xn, queries, wall)
    result["lam_float32"] = _lam32_check(Xn, W0, b0, out, hg_run)
    run64 = out["runs"]["float64"]
    kr = {"W": np.asarray(run64["W"]), "loss": np.asarray(run64["loss"])}
    kr["dtype"] = run64["weight_dtype"]
    return result, kr, backend


# --- run --------------------------------------------------------------------------------------


def run(
    seed: int = 0,
    out_dir: Path = Path("runs/framework"),
    quick: bool = False,
    *,
    keras: bool = True,
    **options,
) -> ExperimentResult:
    """handgrad and Keras on the credit model (see the module docstring)."""
    if options:
        raise TypeError(f"framework: unexpected option(s) {', '.join(sorted(options))}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scaler = Standardizer().fit(X_RAW)
    Xn = scaler.transform(X_RAW)
    init = hg.Linear(3, 1, seed=seed)  # handgrad's default initialization, drawn with the seed
    W0, b0 = init.weight.value[:, 0].copy(), float(bias_of(init).value[0])

    hg_run = _train_handgrad(Xn, W0, b0)
    half = _train_handgrad(Xn, W0, b0, convention="half")
    people = {who: scaler.transform(np.array([p], dtype=np.float64)) for who, p in PEOPLE.items()}
    W_orig, b_orig = _original_units(hg_run["W"], hg_run["b"], scaler)
    ridge = _ridge_analysis(Xn, W0, hg_run["W"])
    metrics: dict = {
        "seed": seed,
        "lam": LAM,
        "lr": LR,
        "epochs": EPOCHS,
        "features": FEATURES,
        "initial_W": W0,
        "handgrad": {
            "W_std": hg_run["W"],
            "b_std": hg_run["b"],
            "W_orig": W_orig,
            "b_orig": b_orig,
            "final_loss": float(hg_run["loss"][-1]),
            "loss_curve": hg_run["loss"],
            "train_predictions": hg_run["predict"](Xn),
            "people": {who: float(hg_run["predict"](x)[0]) for who, x in people.items()},
            "seconds": hg_run["seconds"],
        },
        "ridge": ridge,
        # corr(utilization, age), corr(utilization, late), corr(age, late)
        "feature_correlations": [
            float(np.corrcoef(X_RAW[:, i], X_RAW[:, j])[0, 1]) for i, j in ((0, 1), (0, 2), (1, 2))
        ],
        "half_convention": {
            "W_std": half["W"],
            "max_abs_weight_diff": float(np.max(np.abs(half["W"] - hg_run["W"]))),
            "max_rel_weight_diff": _rel(half["W"], hg_run["W"]),
        },
    }

    queries = np.vstack([Xn, *people.values()])  # the five rows, then persons A and B
    metrics["keras"], kr, backend = _keras_half(keras, quick, Xn, W0, b0, queries, hg_run)
    lam32_loss = metrics["keras"].get("lam_float32", {}).get("loss_curve")
    figures = loss_and_weight_figures(
        out_dir, hg_run, kr, backend, ridge["w_star"], LAM, lam32_loss
    )
    markdown = LEAD + "\n\n" + _markdown(metrics)
    result = ExperimentResult(NAME, TITLE, STAGE, metrics, markdown, figures)
    if not metrics["keras"]["available"]:
        hint = f" ({install_hint('framework')})" if metrics["keras"].get("install_hint") else ""
        result.skipped.append(f"the Keras half: {metrics['keras']['reason']}{hint}")
    return result
