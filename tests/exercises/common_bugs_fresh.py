"""Slips named since the catalogue of common_bugs_named.py: eps added to Adam's v, sigmoid'
as a (1 + a) or 1 - a, the BCE loss's label term added or left out (and its other slips: no
stable form, a sum, the sign, y and 1 - y swapped), a gradient checker's signed errors,
backward's dz1 = da1 * a1. ``add(bug)`` types them into common_bugs.py's catalogue (through
common_bugs_named.py's hook).
"""

from __future__ import annotations

BCE_LOSS = "np.mean(np.logaddexp(0, z) - y * z)"
NAIVE_P = "1 / (1 + np.exp(-z))"
RELU_DZ1 = 'dz1 = da1 * (cache["z1"] > 0)'
TANH_DZ1 = 'dz1 = da1 * (1 - cache["a1"] ** 2)'
V_HAT = "v_hat = v / (1 - beta2 ** t)"
V_NEW = "v = beta2 * v + (1 - beta2) * grad ** 2"
ROOT = "(np.sqrt(v_hat) + eps)"


def add(bug) -> None:
    # --- Adam: eps added to v, before the bias correction (in the state or not)
    bug(
        "adam-eps-in-v-hat", "adam", {"adam-epsilon"}, V_HAT, "v_hat = (v + eps) / (1 - beta2 ** t)"
    )
    bug(
        "adam-eps-in-v-hat-only",
        "adam",
        {"adam-epsilon"},
        (V_HAT, ROOT),
        ("v_hat = (v + eps) / (1 - beta2 ** t)", "np.sqrt(v_hat)"),
    )
    bug("adam-eps-in-the-state", "adam", {"adam-epsilon"}, V_NEW, V_NEW + " + eps")
    bug(
        "adam-eps-in-the-state-only",
        "adam",
        {"adam-epsilon"},
        (V_NEW, ROOT),
        (V_NEW + " + eps", "np.sqrt(v_hat)"),
    )
    # --- sigmoid' from its output
    bug(
        "sigmoid-derivative-plus",
        "sigmoid_derivative",
        {"sigmoid-prime"},
        "a * (1 - a)",
        "a * (1 + a)",
    )
    bug(
        "sigmoid-derivative-one-minus-a",
        "sigmoid_derivative",
        {"sigmoid-prime"},
        "a * (1 - a)",
        "1 - a",
    )
    # --- the BCE loss from logits
    bug("bce-loss-label-term-added", "bce", {"label-term"}, "- y * z)", "+ y * z)")
    bug("bce-loss-label-term-left-out", "bce", {"label-term"}, "- y * z)", ")")
    bug(
        "bce-loss-label-term-added-and-summed",
        "bce",
        {"label-term"},
        BCE_LOSS,
        "np.sum(np.logaddexp(0, z) + y * z)",
        also={"scale"},  # named on the batch of 12 only: the one sample shows no factor N
    )
    bug("bce-loss-summed", "bce", {"scale"}, BCE_LOSS, "np.sum(np.logaddexp(0, z) - y * z)")
    bug("bce-loss-sign", "bce", {"sign"}, BCE_LOSS, "-" + BCE_LOSS)
    bug(
        "bce-loss-log-of-p-plus-tiny",
        "bce",
        {"unstable"},
        BCE_LOSS,
        f"-np.mean(y * np.log({NAIVE_P} + 1e-15) + (1 - y) * np.log(1 - {NAIVE_P} + 1e-15))",
    )
    bug(
        "bce-loss-log-of-p-clipped",
        "bce",
        {"unstable"},
        BCE_LOSS,
        f"-np.mean(y * np.log(np.clip({NAIVE_P}, 1e-15, 1 - 1e-15))"
        f" + (1 - y) * np.log(np.clip(1 - {NAIVE_P}, 1e-15, 1 - 1e-15)))",
    )
    bug(
        "bce-loss-log-of-p-no-minus",
        "bce",
        {"sign", "unstable"},
        BCE_LOSS,
        f"np.mean(y * np.log({NAIVE_P}) + (1 - y) * np.log(1 - {NAIVE_P}))",
    )
    bug("bce-loss-log1p-of-exp", "bce", {"unstable"}, "np.logaddexp(0, z)", "np.log1p(np.exp(z))")
    bug("bce-loss-labels-swapped", "bce", {"exp-sign"}, "- y * z)", "- (1 - y) * z)")
    bug(
        "bce-loss-softplus-terms-swapped",
        "bce",
        {"exp-sign"},
        "np.logaddexp(0, z) - y * z",
        "y * np.logaddexp(0, z) + (1 - y) * np.logaddexp(0, -z)",
    )
    # --- the gradient checker: an entry's error is a size
    bug(
        "gradient-check-signed-errors",
        "gradient_check",
        {"signed-error"},
        "np.abs(a - n) /",
        "(a - n) /",
    )
    # --- backward: the activation where its derivative belongs
    bug(
        "backward-relu-times-a1",
        "backward",
        {"function-for-derivative"},
        RELU_DZ1,
        'dz1 = da1 * cache["a1"]',
    )
    bug(
        "backward-tanh-times-a1",
        "backward",
        {"function-for-derivative"},
        TANH_DZ1,
        'dz1 = da1 * cache["a1"]',
    )
