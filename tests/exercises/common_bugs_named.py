"""Slips that used to fail with no name, each with the name it must get now: another loss
than the MSE (the square of the mean, the absolute or the root mean error, a column against
a vector), the L2 penalty's square taken last or left off, tanh' written (1 - a)**2 or
1 - 2a, whole label columns indexed, dW2 from z1, the old velocity added again, labels left
as numbers, relu as |z|, a gradient checker's mean of errors; Adam without its square
root, BCE's gradient from sigmoid(-z), one bias per layer, dz * relu(z), Linear's gradient
buffers made in __init__. ``add(bug)`` types them into common_bugs.py's catalogue (through
common_bugs_learner.py's hook).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_common_bugs_fresh", Path(__file__).with_name("common_bugs_fresh.py")
)
_fresh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fresh)

MSE = "np.mean((y_pred - y_true) ** 2)"
SCE_GRAD = "p[np.arange(len(y)), y] -= 1"
MC_DELTA = "delta = (self.forward(X) - Y) / len(X)"
GC_MAX = "return float(np.max(np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-8)))"


def add(bug) -> None:
    # --- the MSE: square each error, then average
    bug("mse-square-of-the-mean", "mse", {"square-each"}, MSE, "np.mean(y_pred - y_true) ** 2")
    bug("mse-absolute-error", "mse", {"mae-for-mse"}, MSE, "np.mean(np.abs(y_pred - y_true))")
    bug("mse-root", "mse", {"root-taken"}, MSE, "np.sqrt(np.mean((y_pred - y_true) ** 2))")
    bug(
        "mse-column-minus-vector",
        "mse",
        {"broadcast"},
        MSE,
        "np.mean((y_pred.reshape(-1, 1) - y_true) ** 2)",
    )
    bug("mse-ravel-one-side", "mse", {"broadcast"}, MSE, "np.mean((y_pred.ravel() - y_true) ** 2)")
    # --- the L2 penalty: squared weights, summed
    bug("l2-square-of-the-sum", "l2", {"square-each"}, "np.sum(w ** 2)", "np.sum(w) ** 2")
    bug(
        "l2-square-of-the-sum-no-half",
        "l2",
        {"square-each"},
        "lam / 2 * np.sum(w ** 2)",
        "lam * np.sum(w) ** 2",
        also={"scale"},
    )
    bug("l2-norm", "l2", {"root-taken"}, "np.sum(w ** 2)", "np.linalg.norm(w)")
    bug("l2-root-of-the-sum", "l2", {"root-taken"}, "np.sum(w ** 2)", "np.sqrt(np.sum(w ** 2))")
    # --- activations and their derivatives
    bug("relu-abs", "relu", {"abs-for-relu"}, "np.maximum(z, 0)", "np.abs(z)")
    bug("relu-root-of-square", "relu", {"abs-for-relu"}, "np.maximum(z, 0)", "np.sqrt(z * z)")
    bug(
        "relu-backward-times-relu",
        "relu_backward",
        {"function-for-derivative"},
        "dz * (z > 0)",
        "dz * np.maximum(z, 0)",
    )
    bug(
        "tanh-derivative-square-last",
        "tanh_derivative",
        {"tanh-prime"},
        "1 - a ** 2",
        "(1 - a) ** 2",
    )
    bug("tanh-derivative-two-a", "tanh_derivative", {"tanh-prime"}, "1 - a ** 2", "1 - 2 * a")
    # --- labels: one entry per row, one-hot rows
    bug("sce-grad-column-block", "sce", {"row-index"}, SCE_GRAD, "p[:, y] -= 1")
    bug(
        "sce-column-blocks-in-both",
        "sce",
        {"row-index"},
        ("[np.arange(len(y)), y])", SCE_GRAD),
        ("[:, y])", "p[:, y] -= 1"),
    )
    bug(
        "multiclass-labels-as-column",
        "multiclass",
        {"one-hot-labels"},
        MC_DELTA,
        "delta = (self.forward(X) - y[:, None]) / len(X)",
    )
    bug(
        "multiclass-labels-reshaped",
        "multiclass",
        {"one-hot-labels"},
        "Y = np.eye(self.weights[-1].shape[1])[y]",
        "Y = y.reshape(-1, 1)",
    )
    bug(
        "multiclass-labels-as-vector",  # (N, C) - (N,): NumPy refuses (N = 9, C = 3)
        "multiclass",
        {"keepdims"},
        MC_DELTA,
        "delta = (self.forward(X) - y) / len(X)",
    )
    # --- a layer's input, a velocity's past
    bug(
        "backward-dw2-from-z1",
        "backward",
        {"layer-input"},
        '"W2": cache["a1"].T @ dz2',
        '"W2": cache["z1"].T @ dz2',
    )
    bug(
        "momentum-old-velocity-in-the-step",
        "momentum",
        {"old-velocity"},
        "return w + v, v",
        "return w + v + velocity, v",
    )
    bug(
        "momentum-old-velocity-in-v",
        "momentum",
        {"old-velocity"},
        "v = momentum * velocity - lr * grad",
        "v = velocity + momentum * velocity - lr * grad",
    )
    # --- the gradient checker's number
    bug(
        "gradient-check-mean-of-errors",
        "gradient_check",
        {"largest-error"},
        "float(np.max(",
        "float(np.mean(",
    )
    bug(
        "gradient-check-ratio-of-norms",
        "gradient_check",
        {"largest-error"},
        GC_MAX,
        "return float(np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n)))",
    )
    # --- found by attacking the checker: Adam's root, the other class, one bias per layer
    bug(
        "adam-square-root-left-out",
        "adam",
        {"adam-square-root"},
        "(np.sqrt(v_hat) + eps)",
        "(v_hat + eps)",
    )
    bug(
        "bce-grad-sigmoid-of-minus-z",
        "bce",
        {"exp-sign"},
        "p = 0.5 * (1 + np.tanh(0.5 * z))",
        "p = 1 / (1 + np.exp(z))",
    )
    bug("count-one-bias-per-layer", "count", {"bias-count"}, "a * b + b", "a * b + 1")
    bug(  # buffers made in __init__ keep float64 after the check sets a float32 W
        "linear-gradient-buffers-from-init",
        "linear",
        {"dtype"},
        (
            "self.b = np.zeros(out_dim)\n",
            "self.dW = dout.T @ self.x\n        self.db = dout.sum(axis=0)",
        ),
        (
            "self.b = np.zeros(out_dim)\n        self.dW, self.db = np.zeros_like(self.W), "
            "np.zeros_like(self.b)\n",
            "self.dW[...] = dout.T @ self.x\n        self.db[...] = dout.sum(axis=0)",
        ),
    )
    # the slips named after these (common_bugs_fresh.py)
    _fresh.add(bug)
