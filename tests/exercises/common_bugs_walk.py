"""Slips found by a learner walking through the course: each named by exactly the codes that
are true of it (``also`` left empty where the check can tell). ``add(bug, bases)`` types them
into common_bugs.py's catalogue.
"""

from __future__ import annotations

# forward with the tanh form of the sigmoid, as the course's notebook answers it
FORWARD_TANH_P = "p = np.where(z2 >= 0, 1 / (1 + e), e / (1 + e))"


def add(bug, bases: dict[str, tuple[str, str]]) -> None:
    # ReLU on the logit: p = 0.5 wherever z2 < 0. On the saturated case p = 0.5 at z2 = -30
    # once "fitted" sigma(-z2) times 0.5 (the least-squares factor of [1, 0.5, 1] against
    # [0, 1, 0] is 0.5): exp-sign and scale, two false names beside output-activation
    bug(
        "forward-relu-on-the-logit",
        "forward",
        {"output-activation"},
        "    e = np.exp(-np.abs(z2))\n",
        "    z2 = np.maximum(z2, 0)\n    e = np.exp(-np.abs(z2))\n",
    )
    bug(
        "forward-relu-on-the-logit-tanh-form",
        "forward",
        {"output-activation"},
        "    e = np.exp(-np.abs(z2))\n    " + FORWARD_TANH_P + "\n",
        "    z2 = np.maximum(z2, 0)\n    p = 0.5 * (1 + np.tanh(0.5 * z2))\n",
    )

    # the slips the fifth pass left unnamed, each with the one name that says what it does
    bug("relu-clip-0-1", "relu", {"relu-capped"}, "np.maximum(z, 0)", "np.clip(z, 0, 1)")
    bug(
        "l2-sum-of-w-wt",
        "l2",
        {"square-each"},
        "lam / 2 * np.sum(w ** 2)",
        "lam / 2 * np.sum(w @ w.T)",
    )
    bug(
        "count-sum-of-sizes",
        "count",
        {"units-counted"},
        "return sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))",
        "return sum(layer_sizes)",
    )
    bug("momentum-w-minus-v", "momentum", {"momentum-convention"}, "return w + v", "return w - v")
    bug(
        "mse-predictions-as-int",
        "mse",
        {"dtype"},
        "np.mean((y_pred - y_true) ** 2)",
        "np.mean((y_pred.astype(int) - y_true) ** 2)",
    )
