"""More right answers, in styles a learner writes that the other catalogues lacked: np.where
and np.select forms, keepdims kept by reshape or np.newaxis, out= arguments, labels kept as
int32 / int64 (or compared with np.arange), list and dict comprehensions wrapped in
np.array, np.average / np.vdot / np.take_along_axis / np.put_along_axis / np.add.at, flat
indices, a cache recomputed from z1. ``add(right)`` types them into correct_variants.py's
catalogue; each must PASS with no diagnosis (the new ones beside the mistakes named since:
|z|, (1 - a)**2, mean(d)**2, the norm, p[:, y], z1, the old velocity, labels as numbers).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("_mutants_s", Path(__file__).with_name("mutants.py"))
_mutants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mutants)

_fresh_spec = importlib.util.spec_from_file_location(
    "_correct_variants_fresh", Path(__file__).with_name("correct_variants_fresh.py")
)
_fresh = importlib.util.module_from_spec(_fresh_spec)
_fresh_spec.loader.exec_module(_fresh)


def _edited(base: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in base, old
        base = base.replace(old, new, 1)
    return base


BACKWARD_WHERE = """
def backward(X, y, params, cache, activation="relu"):
    N = X.shape[0]
    dz2 = (cache["p"] - y) / N
    da1 = np.dot(dz2, params["W2"].T)
    if activation == "relu":
        a1 = np.maximum(cache["z1"], 0)  # recomputed from z1: the same a1
        dz1 = np.where(cache["z1"] > 0, da1, 0.0)
    else:
        a1 = np.tanh(cache["z1"])
        dz1 = da1 * (1 - a1 * a1)
    return {"W1": np.dot(X.T, dz1), "b1": dz1.sum(axis=0, keepdims=True).reshape(-1),
            "W2": np.dot(a1.T, dz2), "b2": np.sum(dz2, axis=0, keepdims=True)[0]}
"""

GC_FLAT = """
def numerical_gradient(f, x, eps=1e-5):
    x = np.array(x, dtype=float)  # a copy
    g = np.zeros(x.size)
    for i in range(x.size):
        old = x.flat[i]
        x.flat[i] = old + eps
        up = f(x)
        x.flat[i] = old - eps
        down = f(x)
        x.flat[i] = old
        g[i] = (up - down) / (2 * eps)
    return g.reshape(x.shape)

def gradient_check(f, x, analytic_grad, eps=1e-5):
    a = np.asarray(analytic_grad, dtype=float)
    n = numerical_gradient(f, x, eps)
    big = np.maximum(np.abs(a), np.abs(n))
    errors = np.abs(a - n) / np.where(big > 1e-8, big, 1e-8)
    return float(errors.max())
"""

ADAM_OUT = """
def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = np.add(beta1 * m, (1 - beta1) * grad)
    v = np.add(beta2 * v, (1 - beta2) * np.square(grad))
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    denom = np.sqrt(v_hat)
    np.add(denom, eps, out=denom)
    return w - lr * m_hat / denom, m, v
"""

LINEAR_DOT = """
class Linear:
    def __init__(self, in_dim, out_dim):
        self.W = np.zeros((out_dim, in_dim))
        self.b = np.zeros(out_dim)

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W.T) + self.b[np.newaxis, :]

    def backward(self, dout):
        self.dW = np.dot(dout.T, self.x)
        self.db = np.sum(dout, axis=0, keepdims=True).ravel()
        return dout.dot(self.W)
"""

BACKPROP_RESHAPE = """
def backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2):
    a1 = 1 / (1 + np.exp(-(np.dot(X, W1) + b1)))
    A = 1 / (1 + np.exp(-(np.dot(a1, W2) + b2)))
    dz2 = np.subtract(A, Y)
    dz1 = np.dot(dz2, W2.T) * (a1 - a1 ** 2)
    return {"dW1": np.dot(X.T, dz1), "db1": np.sum(dz1, axis=0).reshape(1, -1),
            "dW2": np.dot(a1.T, dz2), "db2": dz2.sum(axis=0)[np.newaxis, :]}
"""


def add(right) -> None:
    # --- ReLU and its gradient: np.where, out=, a comprehension, clip by keyword
    right(
        "relu-where-zeros-like",
        "relu",
        "def relu(z):\n    return np.where(z > 0, z, np.zeros_like(z))\n",
    )
    right(
        "relu-out-argument",
        "relu",
        "def relu(z):\n    return np.maximum(z, 0, out=np.empty_like(z))\n",
    )
    right("relu-fmax", "relu", "def relu(z):\n    return np.fmax(z, 0)\n")
    right("relu-clip-min-keyword", "relu", "def relu(z):\n    return z.clip(min=0)\n")
    right(
        "relu-list-comprehension",
        "relu",
        "def relu(z):\n"
        "    flat = [v if v > 0 else 0.0 for v in np.ravel(z)]\n"
        "    return np.array(flat, dtype=z.dtype).reshape(z.shape)\n",
    )
    right(
        "relu-select",
        "relu",
        "def relu(z):\n    return np.select([z > 0], [z], default=0).astype(z.dtype)\n",
    )
    right(
        "relu-backward-where-weak-zero",
        "relu_backward",
        "def relu_backward(dz, z):\n    return np.where(z > 0, dz, 0)\n",
    )
    right(
        "relu-backward-where-le-float-zero",
        "relu_backward",
        "def relu_backward(dz, z):\n    return np.where(z <= 0, 0.0, dz).astype(dz.dtype)\n",
    )
    right(
        "relu-backward-multiply-out",
        "relu_backward",
        "def relu_backward(dz, z):\n"
        "    return np.multiply(dz, np.greater(z, 0), out=np.zeros_like(dz))\n",
    )
    # --- one-hot: labels compared with np.arange, int32 labels, a comprehension
    right(
        "one-hot-compare-arange",
        "one_hot",
        "def one_hot(y, n_classes):\n"
        "    return (np.asarray(y)[:, None] == np.arange(n_classes)).astype(float)\n",
    )
    right(
        "one-hot-eye-int32",
        "one_hot",
        "def one_hot(y, n_classes):\n    return np.eye(n_classes)[np.asarray(y, dtype=np.int32)]\n",
    )
    right(
        "one-hot-list-comprehension",
        "one_hot",
        "def one_hot(y, n_classes):\n"
        "    rows = [[1.0 if c == label else 0.0 for c in range(n_classes)] for label in y]\n"
        "    return np.array(rows, dtype=float).reshape(len(y), n_classes)\n",
    )
    right(
        "one-hot-put-along-axis",
        "one_hot",
        "def one_hot(y, n_classes):\n    out = np.zeros((len(y), n_classes))\n"
        "    labels = np.asarray(y).astype(np.int64).reshape(-1, 1)\n"
        "    np.put_along_axis(out, labels, 1.0, axis=1)\n    return out\n",
    )
    # --- softmax: keepdims by reshape or np.newaxis, out=, through log-sum-exp
    right(
        "softmax-reshape-for-keepdims",
        "softmax",
        "def softmax(z):\n    e = np.exp(z - z.max(axis=1).reshape(-1, 1))\n"
        "    return e / e.sum(axis=1).reshape(-1, 1)\n",
    )
    right(
        "softmax-newaxis",
        "softmax",
        "def softmax(z):\n    e = np.exp(z - np.max(z, axis=1)[:, np.newaxis])\n"
        "    return e / np.sum(e, axis=1)[:, np.newaxis]\n",
    )
    right(
        "softmax-divide-out",
        "softmax",
        "def softmax(z):\n    e = np.exp(z - z.max(axis=-1, keepdims=True))\n"
        "    np.divide(e, e.sum(axis=-1, keepdims=True), out=e)\n    return e\n",
    )
    right(
        "softmax-through-logsumexp",
        "softmax",
        "def softmax(z):\n    m = z.max(axis=1, keepdims=True)\n"
        "    lse = m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))\n"
        "    return np.exp(z - lse)\n",
    )
    # --- sigmoid and the derivatives
    right(
        "sigmoid-minus-logaddexp",
        "sigmoid",
        "def sigmoid(z):\n    return np.exp(z - np.logaddexp(0, z))\n",
    )
    right(
        "sigmoid-masked-out",
        "sigmoid",
        "def sigmoid(z):\n    out = np.empty_like(z)\n    pos = z >= 0\n"
        "    out[pos] = 1 / (1 + np.exp(-z[pos]))\n    e = np.exp(z[~pos])\n"
        "    out[~pos] = e / (1 + e)\n    return out\n",
    )
    right(
        "sigmoid-derivative-a-minus-square",
        "sigmoid_derivative",
        "def sigmoid_derivative(a):\n    return a - a ** 2\n",
    )
    right(
        "sigmoid-derivative-multiply-subtract",
        "sigmoid_derivative",
        "def sigmoid_derivative(a):\n    return np.multiply(a, np.subtract(1.0, a))\n",
    )
    right(
        "tanh-derivative-subtract-out",
        "tanh_derivative",
        "def tanh_derivative(a):\n    out = np.square(a)\n    np.subtract(1, out, out=out)\n"
        "    return out\n",
    )
    right(
        "tanh-derivative-power",
        "tanh_derivative",
        "def tanh_derivative(a):\n    return 1 - np.power(a, 2)\n",
    )
    right(
        "tanh-derivative-subtract-a-times-a",
        "tanh_derivative",
        "def tanh_derivative(a):\n    return np.subtract(1, a * a)\n",
    )
    # --- MSE: shapes made equal first, np.average, a generator over floats
    right(
        "mse-reshape-to-match",
        "mse",
        "def mse(y_pred, y_true):\n"
        "    return np.mean((y_pred - np.reshape(y_true, np.shape(y_pred))) ** 2)\n",
    )
    right(
        "mse-average-of-powers",
        "mse",
        "def mse(y_pred, y_true):\n    return np.average((y_pred - y_true) ** 2)\n",
    )
    right(
        "mse-sum-over-size-float",
        "mse",
        "def mse(y_pred, y_true):\n"
        "    return float(np.sum((y_pred - y_true) ** 2) / y_pred.size)\n",
    )
    right(
        "mse-generator-of-floats",
        "mse",
        "def mse(y_pred, y_true):\n"
        "    d = (np.ravel(y_pred) - np.ravel(y_true)).tolist()\n"
        "    return sum(v * v for v in d) / len(d)\n",
    )
    right(
        "mse-squared-norm",
        "mse",
        "def mse(y_pred, y_true):\n"
        "    return np.linalg.norm(y_pred - y_true) ** 2 / np.size(y_true)\n",
    )
    # --- L2 penalty: vdot, the squared norm, multiply
    right(
        "l2-vdot",
        "l2_penalty",
        "def l2_penalty(w, lam):\n    return 0.5 * lam * float(np.vdot(w, w))\n\n"
        "def l2_penalty_grad(w, lam):\n    return np.multiply(lam, w)\n",
    )
    right(
        "l2-squared-norm",
        "l2_penalty",
        "def l2_penalty(w, lam):\n    return lam / 2 * np.linalg.norm(w) ** 2\n\n"
        "def l2_penalty_grad(w, lam):\n    return w * lam\n",
    )
    right(
        "l2-sum-of-square-method",
        "l2_penalty",
        "def l2_penalty(w, lam):\n    return lam * np.square(w).sum() / 2\n\n"
        "def l2_penalty_grad(w, lam):\n    g = np.empty_like(w)\n    np.multiply(w, lam, out=g)\n"
        "    return g\n",
    )
    # --- BCE from logits: the max form, np.where on |z|
    right(
        "bce-max-form-where-grad",
        "bce_with_logits",
        "def bce_with_logits(z, y):\n"
        "    return float(np.mean(np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))))\n\n"
        "def bce_with_logits_grad(z, y):\n    e = np.exp(-np.abs(z))\n"
        "    p = np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n    return (p - y) / z.shape[0]\n",
    )
    # --- softmax cross-entropy: int32 labels, take_along_axis, add.at, a comprehension
    sce_lse = (
        "def _log_p(z):\n    m = z.max(axis=1, keepdims=True)\n"
        "    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))\n\n"
    )
    right(
        "sce-take-along-axis-int32",
        "softmax_cross_entropy",
        sce_lse + "def softmax_cross_entropy(z, y):\n    y = np.asarray(y, dtype=np.int32)\n"
        "    return -np.take_along_axis(_log_p(z), y[:, None], axis=1).mean()\n\n"
        "def softmax_cross_entropy_grad(z, y):\n    y = np.asarray(y, dtype=np.int32)\n"
        "    return (np.exp(_log_p(z)) - np.eye(z.shape[1])[y]) / len(y)\n",
    )
    right(
        "sce-subtract-at-comprehension",
        "softmax_cross_entropy",
        sce_lse + "def softmax_cross_entropy(z, y):\n    log_p = _log_p(z)\n"
        "    return -np.mean([log_p[n, label] for n, label in enumerate(y)])\n\n"
        "def softmax_cross_entropy_grad(z, y):\n    p = np.exp(_log_p(z))\n"
        "    np.subtract.at(p, (np.arange(len(y)), np.asarray(y, dtype=np.int64)), 1.0)\n"
        "    return p / len(y)\n",
    )
    right(
        "sce-one-hot-by-comparison",
        "softmax_cross_entropy",
        sce_lse + "def _onehot(y, c):\n"
        "    return (np.asarray(y)[:, None] == np.arange(c)).astype(float)\n\n"
        "def softmax_cross_entropy(z, y):\n"
        "    return -np.sum(_onehot(y, z.shape[1]) * _log_p(z)) / z.shape[0]\n\n"
        "def softmax_cross_entropy_grad(z, y):\n"
        "    return (np.exp(_log_p(z)) - _onehot(y, z.shape[1])) / z.shape[0]\n",
    )
    # --- counting: an int from NumPy arrays, a plain loop
    right(
        "count-numpy-int",
        "count_parameters",
        "def count_parameters(layer_sizes):\n    s = np.array(layer_sizes, dtype=np.int64)\n"
        "    return int(np.sum(s[:-1] * s[1:] + s[1:]))\n",
    )
    right(
        "count-index-loop",
        "count_parameters",
        "def count_parameters(layer_sizes):\n    total = 0\n"
        "    for i in range(len(layer_sizes) - 1):\n"
        "        total += (layer_sizes[i] + 1) * layer_sizes[i + 1]\n    return total\n",
    )
    # --- the binary classifier's backward: np.where mask, a1 recomputed, keepdims dropped
    right("backward-where-recomputed-a1", "backward", BACKWARD_WHERE)
    # --- steps: subtract, copies updated in place, multiply
    right(
        "gd-step-subtract-items",
        "gd_step",
        "def gd_step(params, grads, lr):\n"
        "    return {k: np.subtract(v, lr * grads[k]) for k, v in params.items()}\n",
    )
    right(
        "gd-step-copies-in-place",
        "gd_step",
        "def gd_step(params, grads, lr):\n"
        "    new = {k: np.array(v, copy=True) for k, v in params.items()}\n"
        "    for k in new:\n        new[k] -= lr * grads[k]\n    return new\n",
    )
    right(
        "momentum-multiply",
        "sgd_momentum",
        "def sgd_momentum_step(w, grad, velocity, lr, momentum):\n"
        "    v = np.multiply(momentum, velocity) - np.multiply(lr, grad)\n    return w + v, v\n",
    )
    right(
        "momentum-in-place-on-new-arrays",
        "sgd_momentum",
        "def sgd_momentum_step(w, grad, velocity, lr, momentum):\n    v = momentum * velocity\n"
        "    v -= lr * grad\n    new_w = w.copy()\n    new_w += v\n    return new_w, v\n",
    )
    right("adam-add-out", "adam", ADAM_OUT)
    right("gradient-check-flat-where", "gradient_check", GC_FLAT)
    right("linear-dot-newaxis", "linear", LINEAR_DOT)
    right("backprop-reshape-newaxis", "backprop", BACKPROP_RESHAPE)
    # --- the classes: labels as int32, one-hot by comparison, y as a float column
    right(
        "multiclass-int32-compare-arange",
        "multiclass_nn",
        _edited(
            _mutants.MULTICLASS,
            ("y = np.asarray(y).astype(int)", "y = np.asarray(y).astype(np.int32)"),
            (
                "Y = np.eye(self.weights[-1].shape[1])[y]",
                "Y = (y[:, np.newaxis] == np.arange(self.weights[-1].shape[1])).astype(float)",
            ),
            ("np.maximum(z, 0)", "np.where(z > 0, z, 0.0)"),
        ),
    )
    right(
        "network-int64-labels-where",
        "neural_network",
        _edited(
            _mutants.NETWORK,
            (
                "delta = (self.a[-1] - y.reshape(-1, 1)) / n",
                "Y = np.asarray(y, dtype=np.int64).reshape(-1, 1).astype(np.float64)\n"
                "        delta = (self.a[-1] - Y) / n",
            ),
            ("(self.z[i - 1] > 0)", "np.where(self.z[i - 1] > 0, 1.0, 0.0)"),
        ),
    )
    # --- a few more: squeeze, extra cache keys, int32 predictions, np.int64 counts
    right(
        "mse-squeeze-both",
        "mse",
        "def mse(y_pred, y_true):\n"
        "    return ((np.squeeze(y_pred) - np.squeeze(y_true)) ** 2).mean(axis=None)\n",
    )
    right(
        "forward-extra-cache-keys-where",
        "forward",
        "def forward(X, params, activation='relu'):\n"
        "    z1 = X @ params['W1'] + params['b1']\n"
        "    a1 = np.where(z1 > 0, z1, 0.0) if activation == 'relu' else np.tanh(z1)\n"
        "    z2 = a1 @ params['W2'] + params['b2']\n"
        "    e = np.exp(-np.abs(z2))\n"
        "    p = np.where(z2 >= 0, 1 / (1 + e), e / (1 + e))\n"
        "    return {'X': X, 'z1': z1, 'a1': a1, 'z2': z2, 'p': p, 'activation': activation}\n",
    )
    right(
        "count-returns-numpy-int64",
        "count_parameters",
        "def count_parameters(layer_sizes):\n    s = np.asarray(layer_sizes)\n"
        "    return np.int64(np.dot(s[:-1], s[1:]) + s[1:].sum())\n",
    )
    right(
        "momentum-grad-times-lr",
        "sgd_momentum",
        "def sgd_momentum_step(w, grad, velocity, lr, momentum):\n"
        "    v = velocity * momentum - grad * lr\n    return np.add(w, v), v\n",
    )
    right(
        "network-predict-int32-greater-equal",
        "neural_network",
        _edited(
            _mutants.NETWORK,
            (
                "return (self.forward(X) >= threshold).astype(int).ravel()",
                "return np.greater_equal(self.forward(X), threshold).ravel().astype(np.int32)",
            ),
        ),
    )
    right(
        "multiclass-predict-int32-labels-float",
        "multiclass_nn",
        _edited(
            _mutants.MULTICLASS,
            (
                "y = np.asarray(y).astype(int)",
                "y = np.rint(np.asarray(y, dtype=float)).astype(np.int64)",
            ),
            (
                "return np.argmax(self.forward(X), axis=1)",
                "return self.forward(X).argmax(axis=-1).astype(np.int32)",
            ),
        ),
    )
    # right answers beside the mistakes named after these (correct_variants_fresh.py)
    _fresh.add(right)
