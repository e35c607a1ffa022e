"""Chapter 10's Keras half, on the parent's side: the job for the child, then the gaps.

``keras_side`` chooses the backend and runs Keras in a child process; this module turns
its answer into differences from handgrad's run, side by side, and measures whether the
L2 strength rounded to float32 explains what is left.
"""

from __future__ import annotations

import time

import numpy as np

from . import keras_side  # looked up at call time: tests swap its backend_or_reason
from .measure import (
    EPOCHS,
    LAM,
    LR,
    PEOPLE,
    KerasHalf,
    Measured,
    Y,
    pointwise_rel,
    rel,
    train_handgrad,
)


def _compare(out: dict, m: Measured, wall: float) -> dict:
    """Keras's float64 (and float32) runs against handgrad's: differences, side by side."""
    hg_run = m.hg_run
    ref_pred = hg_run["predict"](m.queries)
    n = m.Xn.shape[0]
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
            "max_rel_weight_diff": rel(W, hg_run["W"]),
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


def _lam32_check(m: Measured, out: dict) -> dict:
    """Does lam rounded to float32 (0.01 -> 0.0099999998) explain the float64 gap?

    Reruns handgrad with that lam and measures its distance to Keras's float64 weights.
    """
    lam32 = float(np.float32(LAM))
    rerun = train_handgrad(m.Xn, m.W0, m.b0, lam=lam32)
    W_keras = np.asarray(out["runs"]["float64"]["W"])
    return {
        "lam": lam32,
        "loss_curve": rerun["loss"],
        "max_abs_weight_diff": float(np.max(np.abs(rerun["W"] - W_keras))),
        "max_rel_weight_diff": rel(rerun["W"], W_keras),
        "max_rel_weight_diff_exact_lam": rel(m.hg_run["W"], W_keras),
    }


def _job(m: Measured, quick: bool) -> dict:
    """What the child trains: the same data, start, loss and steps, as JSON."""
    return {
        "X": m.Xn.tolist(),
        "Y": Y.tolist(),
        "W0": m.W0.tolist(),
        "b0": m.b0,
        "lam": LAM,
        "lr": LR,
        "epochs": EPOCHS,
        "queries": m.queries.tolist(),
        "dtypes": ["float64"] if quick else ["float64", "float32"],
    }


def keras_half(m: Measured, wanted: bool, quick: bool) -> KerasHalf:
    """Keras on the same problem, or why it did not run (``wanted=False``: switched off)."""
    if not wanted:
        return KerasHalf({"available": False, "reason": "switched off (keras=False)"})
    backend, reason = keras_side.backend_or_reason()
    if backend is None:
        return KerasHalf({"available": False, "reason": reason, "install_hint": True})
    started = time.perf_counter()
    out = keras_side.run_keras(backend, _job(m, quick))
    wall = time.perf_counter() - started
    if "import_error" in out:
        reason = f"importing Keras with the {backend} backend failed ({out['import_error']})"
        return KerasHalf(
            {"available": False, "reason": reason, "install_hint": True}, None, backend
        )
    result = _compare(out, m, wall)
    result["lam_float32"] = _lam32_check(m, out)
    run64 = out["runs"]["float64"]
    kr = {"W": np.asarray(run64["W"]), "loss": np.asarray(run64["loss"])}
    kr["dtype"] = run64["weight_dtype"]
    return KerasHalf(result, kr, backend)
