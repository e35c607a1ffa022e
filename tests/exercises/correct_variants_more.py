"""More right answers in other styles (loops and the math module, np.einsum / np.matmul /
np.dot, scipy.special, in-place work on copies, other stable formulas, formulas that
overflow harmlessly, float32 kept by a cast back): ``add(right)`` puts them into
correct_variants.py's catalogue. Each must PASS with no diagnosis.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_mutants_bases", Path(__file__).with_name("mutants.py")
)
_mutants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mutants)

LOOP_SIGMOID = """
import math

def sigmoid(z):
    out = np.empty_like(z)
    for i in np.ndindex(z.shape):
        x = float(z[i])
        out[i] = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))
    return out
"""

FORWARD = """
def forward(X, params, activation="relu"):
    z1 = {z1}
    a1 = {a1}
    z2 = {z2}
    p = {p}
    return {{"z1": z1, "a1": a1, "z2": z2, "p": p}}
"""


def forward(
    z1="X @ params['W1'] + params['b1']",
    a1=None,
    z2="a1 @ params['W2'] + params['b2']",
    p="1 / (1 + np.exp(-z2))",
):
    a1 = a1 or "np.maximum(z1, 0) if activation == 'relu' else np.tanh(z1)"
    return FORWARD.format(z1=z1, a1=a1, z2=z2, p=p)


def add(right) -> None:
    # --- activations
    right(
        "relu-maximum-keeps-dtype-via-zero-like",
        "relu",
        "def relu(z):\n    return np.maximum(z, np.zeros_like(z))\n",
    )
    right(
        "relu-loop-math",
        "relu",
        "def relu(z):\n    out = z.copy()\n    for i in np.ndindex(z.shape):\n"
        "        out[i] = max(float(z[i]), 0.0)\n    return out\n",
    )
    right("relu-abs", "relu", "def relu(z):\n    return (z + np.abs(z)) / 2\n")
    right(
        "relu-backward-greater",
        "relu_backward",
        "def relu_backward(dz, z):\n    return np.multiply(dz, np.greater(z, 0))\n",
    )
    right(
        "relu-backward-where-le",
        "relu_backward",
        "def relu_backward(dz, z):\n    return np.where(z <= 0, np.zeros_like(dz), dz)\n",
    )
    right(
        "sigmoid-naive-overflow-warning",
        "sigmoid",
        "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n",
    )
    right("sigmoid-loop-math", "sigmoid", LOOP_SIGMOID)
    right(
        "sigmoid-scipy-expit",
        "sigmoid",
        "from scipy.special import expit\n\ndef sigmoid(z):\n    return expit(z)\n",
    )
    right(
        "sigmoid-logaddexp", "sigmoid", "def sigmoid(z):\n    return np.exp(-np.logaddexp(0, -z))\n"
    )
    right(
        "sigmoid-float64-then-cast-back",
        "sigmoid",
        "def sigmoid(z):\n    z64 = z.astype(np.float64)\n"
        "    with np.errstate(over='ignore'):\n        s = 1 / (1 + np.exp(-z64))\n"
        "    return s.astype(z.dtype)\n",
    )
    right(
        "tanh-one-minus-two-over", "tanh", "def tanh(z):\n    return 1 - 2 / (np.exp(2 * z) + 1)\n"
    )
    right(
        "tanh-loop-math",
        "tanh",
        "import math\n\ndef tanh(z):\n    out = np.empty_like(z)\n"
        "    for i in np.ndindex(z.shape):\n        out[i] = math.tanh(z[i])\n    return out\n",
    )
    right(
        "tanh-sign-abs",
        "tanh",
        "def tanh(z):\n    e = np.exp(-2 * np.abs(z))\n    return np.sign(z) * (1 - e) / (1 + e)\n",
    )
    right(
        "tanh-expm1",
        "tanh",
        "def tanh(z):\n    e = np.expm1(-2 * np.abs(z))\n    return -np.sign(z) * e / (2 + e)\n",
    )
    right(
        "sigmoid-derivative-multiply",
        "sigmoid_derivative",
        "def sigmoid_derivative(a):\n    return np.multiply(a, 1 - a)\n",
    )
    right(
        "sigmoid-derivative-in-place-on-copy",
        "sigmoid_derivative",
        "def sigmoid_derivative(a):\n    out = a.copy()\n    out *= 1 - a\n    return out\n",
    )
    right(
        "tanh-derivative-a-times-a",
        "tanh_derivative",
        "def tanh_derivative(a):\n    return 1 - a * a\n",
    )
    right(
        "tanh-derivative-subtract",
        "tanh_derivative",
        "def tanh_derivative(a):\n    return np.subtract(1, np.square(a))\n",
    )
    # --- one-hot, softmax
    right(
        "one-hot-broadcast-compare",
        "one_hot",
        "def one_hot(y, n_classes):\n"
        "    return (np.asarray(y)[:, None] == np.arange(n_classes)).astype(float)\n",
    )
    right(
        "one-hot-take-along",
        "one_hot",
        "def one_hot(y, n_classes):\n    out = np.zeros((len(y), n_classes))\n"
        "    np.put_along_axis(out, np.asarray(y)[:, None], 1.0, axis=1)\n    return out\n",
    )
    right(
        "softmax-scipy",
        "softmax",
        "from scipy.special import softmax as _sm\n\ndef softmax(z):\n    return _sm(z, axis=1)\n",
    )
    right(
        "softmax-in-place-on-copy",
        "softmax",
        "def softmax(z):\n    e = z - z.max(axis=1, keepdims=True)\n    np.exp(e, out=e)\n"
        "    e /= e.sum(axis=1, keepdims=True)\n    return e\n",
    )
    right(
        "softmax-row-loop",
        "softmax",
        "def softmax(z):\n    out = np.empty_like(z)\n    for n, row in enumerate(z):\n"
        "        e = np.exp(row - row.max())\n        out[n] = e / e.sum()\n    return out\n",
    )
    right(
        "softmax-einsum-sum",
        "softmax",
        "def softmax(z):\n    e = np.exp(z - np.max(z, axis=1)[:, None])\n"
        "    return e / np.einsum('nc->n', e)[:, None]\n",
    )
    # --- losses
    right(
        "mse-sum-over-size",
        "mse",
        "def mse(y_pred, y_true):\n    return ((y_pred - y_true) ** 2).sum() / y_pred.size\n",
    )
    right(
        "mse-loop-math",
        "mse",
        "def mse(y_pred, y_true):\n    total = 0.0\n"
        "    for a, b in zip(np.ravel(y_pred), np.ravel(y_true)):\n"
        "        total += (float(a) - float(b)) ** 2\n    return total / np.size(y_pred)\n",
    )
    right(
        "mse-norm",
        "mse",
        "def mse(y_pred, y_true):\n"
        "    return np.linalg.norm(y_pred - y_true) ** 2 / np.size(y_pred)\n",
    )
    right(
        "mse-average",
        "mse",
        "def mse(y_pred, y_true):\n    return np.average(np.square(y_true - y_pred))\n",
    )
    right(
        "l2-dot",
        "l2_penalty",
        "def l2_penalty(w, lam):\n    f = np.ravel(w)\n    return 0.5 * lam * np.dot(f, f)\n\n"
        "def l2_penalty_grad(w, lam):\n    return np.multiply(w, lam)\n",
    )
    right(
        "l2-loop",
        "l2_penalty",
        "def l2_penalty(w, lam):\n    return lam / 2 * sum(float(v) ** 2 for v in np.ravel(w))\n\n"
        "def l2_penalty_grad(w, lam):\n    g = w.copy()\n    g *= lam\n    return g\n",
    )
    right(
        "bce-threshold-softplus",
        "bce_with_logits",
        "def bce_with_logits(z, y):\n"
        "    sp = np.where(z > 30, z, np.log1p(np.exp(np.minimum(z, 30))))\n"
        "    return np.mean(sp - y * z)\n\n"
        "def bce_with_logits_grad(z, y):\n"
        "    return (np.exp(-np.logaddexp(0, -z)) - y) / z.shape[0]\n",
    )
    right(
        "bce-scipy",
        "bce_with_logits",
        "from scipy.special import expit, log_expit\n\n"
        "def bce_with_logits(z, y):\n"
        "    return -np.mean(y * log_expit(z) + (1 - y) * log_expit(-z))\n\n"
        "def bce_with_logits_grad(z, y):\n    return (expit(z) - y) / len(z)\n",
    )
    right(
        "sce-scipy-logsumexp",
        "softmax_cross_entropy",
        "from scipy.special import logsumexp\n\n"
        "def softmax_cross_entropy(z, y):\n"
        "    return np.mean(logsumexp(z, axis=1) - z[np.arange(len(y)), y])\n\n"
        "def softmax_cross_entropy_grad(z, y):\n"
        "    p = np.exp(z - logsumexp(z, axis=1, keepdims=True))\n"
        "    return (p - np.eye(z.shape[1])[y]) / len(y)\n",
    )
    right(
        "sce-take-along-axis",
        "softmax_cross_entropy",
        "def softmax_cross_entropy(z, y):\n    m = z.max(axis=1, keepdims=True)\n"
        "    lse = m[:, 0] + np.log(np.sum(np.exp(z - m), axis=1))\n"
        "    picked = np.take_along_axis(z, y[:, None], axis=1)[:, 0]\n"
        "    return float(np.mean(lse - picked))\n\n"
        "def softmax_cross_entropy_grad(z, y):\n    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
        "    g = e / e.sum(axis=1, keepdims=True)\n    g[range(len(y)), y] -= 1\n"
        "    return g / len(y)\n",
    )
    right(
        "count-range-loop",
        "count_parameters",
        "def count_parameters(layer_sizes):\n    total = 0\n"
        "    for i in range(len(layer_sizes) - 1):\n"
        "        total += layer_sizes[i] * layer_sizes[i + 1] + layer_sizes[i + 1]\n"
        "    return total\n",
    )
    right(
        "count-numpy",
        "count_parameters",
        "def count_parameters(layer_sizes):\n    s = np.asarray(layer_sizes)\n"
        "    return int(np.sum(s[:-1] * s[1:] + s[1:]))\n",
    )
    # --- the classifier
    right("forward-naive-sigmoid-overflows-harmlessly", "forward", forward())
    right(
        "forward-matmul",
        "forward",
        forward(
            z1="np.matmul(X, params['W1']) + params['b1']",
            z2="np.matmul(a1, params['W2']) + params['b2']",
            p="0.5 * (1 + np.tanh(0.5 * z2))",
        ),
    )
    right(
        "forward-einsum-logaddexp",
        "forward",
        forward(
            z1="np.einsum('nd,dh->nh', X, params['W1']) + params['b1']",
            z2="np.einsum('nh,ho->no', a1, params['W2']) + params['b2']",
            p="np.exp(-np.logaddexp(0, -z2))",
        ),
    )
    right(
        "forward-dot-transposes",
        "forward",
        forward(
            z1="(params['W1'].T @ X.T).T + params['b1']",
            a1="z1 * (z1 > 0) if activation == 'relu' else 1 - 2 / (np.exp(2 * z1) + 1)",
            z2="np.dot(a1, params['W2']) + params['b2'].reshape(1, -1)",
        ),
    )
    right(
        "backward-einsum-from-z2",
        "backward",
        """
def backward(X, y, params, cache, activation="relu"):
    N = len(X)
    p = 0.5 * (1 + np.tanh(0.5 * cache["z2"]))
    dz2 = (p - y) / N
    da1 = np.einsum('no,ho->nh', dz2, params["W2"])
    d = (cache["z1"] > 0).astype(float) if activation == "relu" else 1 - np.tanh(cache["z1"]) ** 2
    dz1 = da1 * d
    return {"W1": np.einsum('nd,nh->dh', X, dz1), "b1": np.einsum('nh->h', dz1),
            "W2": np.einsum('nh,no->ho', cache["a1"], dz2), "b2": dz2.sum(axis=0)}
""",
    )
    right(
        "backward-sample-loop",
        "backward",
        """
def backward(X, y, params, cache, activation="relu"):
    N = X.shape[0]
    g = {k: np.zeros_like(v, dtype=float) for k, v in params.items()}
    for n in range(N):
        dz2 = (cache["p"][n] - y[n]) / N
        da1 = params["W2"][:, 0] * dz2[0]
        z1 = cache["z1"][n]
        dz1 = da1 * (z1 > 0) if activation == "relu" else da1 * (1 - cache["a1"][n] ** 2)
        g["W1"] += np.outer(X[n], dz1)
        g["b1"] += dz1
        g["W2"] += np.outer(cache["a1"][n], dz2)
        g["b2"] += dz2
    return g
""",
    )
    right(
        "gd-step-deepcopy-in-place",
        "gd_step",
        "import copy\n\ndef gd_step(params, grads, lr):\n    new = copy.deepcopy(params)\n"
        "    for k in new:\n        new[k] -= lr * grads[k]\n    return new\n",
    )
    right(
        "gd-step-items",
        "gd_step",
        "def gd_step(params, grads, lr):\n"
        "    return {k: np.subtract(v, np.multiply(lr, grads[k])) for k, v in params.items()}\n",
    )
    right(
        "gradient-check-flat-copies",
        "gradient_check",
        """
def numerical_gradient(f, x, eps=1e-5):
    g = np.zeros(x.shape)
    for i in range(x.size):
        up, down = x.copy(), x.copy()
        up.flat[i] += eps
        down.flat[i] -= eps
        g.flat[i] = (f(up) - f(down)) / (2 * eps)
    return g
"""
        + _mutants.GC_CHECK,
    )
    # --- optimizers
    right(
        "momentum-in-place-on-copies",
        "sgd_momentum",
        "def sgd_momentum_step(w, grad, velocity, lr, momentum):\n"
        "    v = velocity * momentum\n    v -= lr * grad\n    w = w.copy()\n    w += v\n"
        "    return w, v\n",
    )
    right(
        "momentum-returns-list",
        "sgd_momentum",
        "def sgd_momentum_step(w, grad, velocity, lr, momentum):\n"
        "    v = momentum * velocity - lr * grad\n    return [w + v, v]\n",
    )
    right(
        "adam-math-pow",
        "adam",
        """
import math

def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * np.square(grad)
    m_hat = m / (1 - math.pow(beta1, t))
    v_hat = v / (1 - math.pow(beta2, t))
    return w - lr * m_hat / (v_hat ** 0.5 + eps), m, v
""",
    )
    right(
        "adam-folded-step-size",
        "adam",
        """
import math

def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    c2 = math.sqrt(1 - beta2 ** t)
    step = lr * c2 / (1 - beta1 ** t)
    return w - step * m / (np.sqrt(v) + eps * c2), m, v
""",
    )
    right(
        "multiclass-einsum",
        "multiclass_nn",
        _mutants.MULTICLASS.replace(
            "self.a[i].T @ delta", "np.einsum('nd,nh->dh', self.a[i], delta)"
        ).replace("z = self.a[-1] @ W + b", "z = np.matmul(self.a[-1], W) + b"),
    )
    right(
        "network-matmul",
        "neural_network",
        _mutants.NETWORK.replace(
            "z = self.a[-1] @ W + b", "z = np.matmul(self.a[-1], W) + b"
        ).replace("1 / (1 + np.exp(-z))", "0.5 * (1 + np.tanh(0.5 * z))"),
    )
