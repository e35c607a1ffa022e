"""Right answers that look like the slips named in common_bugs_walk.py: they must pass with
no diagnosis. ``add(right)`` types them into correct_variants.py's catalogue."""

from __future__ import annotations


def add(right) -> None:
    right("relu-clip-inf", "relu", "def relu(z):\n    return np.clip(z, 0, np.inf)\n")
    right(
        "l2-trace-of-w-wt",
        "l2_penalty",
        "def l2_penalty(w, lam):\n    w2 = np.atleast_2d(w)\n"
        "    return float(lam / 2 * np.trace(w2 @ w2.T))\n\n"
        "def l2_penalty_grad(w, lam):\n    return lam * w\n",
    )
    right(
        "l2-vdot-of-w",
        "l2_penalty",
        "def l2_penalty(w, lam):\n    return lam / 2 * np.vdot(w, w)\n\n"
        "def l2_penalty_grad(w, lam):\n    return lam * w\n",
    )
    right(
        "count-sum-over-pairs-of-sizes",
        "count_parameters",
        "def count_parameters(layer_sizes):\n    total = 0\n"
        "    for n_in, n_out in zip(layer_sizes, layer_sizes[1:]):\n"
        "        total += (n_in + 1) * n_out\n    return total\n",
    )
    right(
        "momentum-other-names",
        "sgd_momentum",
        "def sgd_momentum_step(w, grad, velocity, lr, momentum):\n"
        "    step = momentum * velocity - lr * grad\n    return w - (-step), step\n",
    )
    right(
        "mse-as-float",
        "mse",
        "def mse(y_pred, y_true):\n"
        "    d = y_pred.astype(float) - y_true.astype(float)\n    return float(np.mean(d * d))\n",
    )
