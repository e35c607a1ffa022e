"""Right answers in the styles a learner reaches for that the other catalogues lacked: loops
over samples, einsum, float32 work, in-place operations on the answer's own arrays, views
returned (transposed, reshaped, Fortran-ordered), np.clip inside a derivative's mask,
equivalent formulas, caches kept in another order. ``add(right)`` types them into
correct_variants.py's catalogue.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_correct_variants_styles", Path(__file__).with_name("correct_variants_styles.py")
)
_styles = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_styles)

NETWORK_TUPLE_CACHE = """
class NeuralNetwork:
    def __init__(self, layer_sizes, learning_rate=0.01, momentum=0.0, seed=None):
        rng = np.random.default_rng(seed)
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weights, self.biases = [], []
        for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
            self.weights.append(rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in))
            self.biases.append(np.zeros((1, n_out)))
        self.velocity = None

    def forward(self, X):
        # the caches as (z, a_in) pairs, newest first
        self.caches = []
        a = X
        last = len(self.weights) - 1
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = np.einsum("nd,dh->nh", a, W) + b
            self.caches.insert(0, (z, a))
            a = 0.5 * (1 + np.tanh(0.5 * z)) if i == last else np.clip(z, 0, None)
        return a

    def backward(self, X, y):
        z_out, _ = self.caches[0]
        p = 0.5 * (1 + np.tanh(0.5 * z_out))
        delta = (p - np.reshape(y, (-1, 1))) / len(X)
        grads_w, grads_b = [], []
        for k, (z, a_in) in enumerate(self.caches):
            i = len(self.weights) - 1 - k
            grads_w.append(a_in.T @ delta)
            grads_b.append(np.sum(delta, axis=0, keepdims=True))
            if i > 0:
                z_before = self.caches[k + 1][0]
                mask = np.clip(np.sign(z_before), 0, 1)  # 1 where z > 0, else 0
                delta = (delta @ self.weights[i].T) * mask
        return grads_w[::-1], grads_b[::-1]

    def fit(self, X, y, epochs=1000, verbose=False):
        if self.velocity is None:
            self.velocity = [np.zeros_like(p) for p in self.weights + self.biases]
        for _ in range(epochs):
            self.forward(X)
            gw, gb = self.backward(X, y)
            params = self.weights + self.biases
            for j, (param, g) in enumerate(zip(params, gw + gb)):
                self.velocity[j] *= self.momentum
                self.velocity[j] -= self.learning_rate * g
                param += self.velocity[j]  # in place: the lists hold these arrays
        return self

    def predict(self, X, threshold=0.5):
        return np.where(self.forward(X)[:, 0] >= threshold, 1, 0)
"""

MULTICLASS_LOOPS = """
class MultiClassNN:
    def __init__(self, layer_sizes, learning_rate=0.01, seed=None):
        rng = np.random.default_rng(seed)
        self.rate = learning_rate
        self.weights = []
        self.biases = []
        for n_in, n_out in zip(layer_sizes, layer_sizes[1:]):
            self.weights.append(rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out)))
            self.biases.append(np.zeros((1, n_out)))

    def forward(self, X):
        self.cache = {}
        a = X
        for layer, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = a @ W + b
            self.cache[layer] = {"a_in": a, "z": z}
            if layer < len(self.weights) - 1:
                a = np.where(z > 0, z, 0.0)
            else:
                shifted = z - np.max(z, axis=1, keepdims=True)
                a = np.exp(shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True)))
        return a

    def fit(self, X, y, epochs=1000, verbose=False):
        labels = np.asarray(y, dtype=int)
        for _ in range(epochs):
            P = self.forward(X)
            delta = P.copy()
            for n, c in enumerate(labels):  # a loop over the samples
                delta[n, c] -= 1.0
            delta /= X.shape[0]
            grads = []
            for layer in reversed(range(len(self.weights))):
                a_in = self.cache[layer]["a_in"]
                grads.append((layer, a_in.T @ delta, delta.sum(axis=0, keepdims=True)))
                if layer > 0:
                    delta = delta @ self.weights[layer].T
                    delta = delta * (self.cache[layer - 1]["z"] > 0)
            for layer, dW, db in grads:
                self.weights[layer] = self.weights[layer] - self.rate * dW
                self.biases[layer] = self.biases[layer] - self.rate * db
        return self

    def predict(self, X):
        return self.forward(X).argmax(axis=1).astype(np.int64)
"""


def add(right) -> None:
    # --- elementwise: np.clip in masks, views, Fortran order, float32 work
    right(
        "relu-backward-clip-sign",
        "relu_backward",
        "def relu_backward(dz, z):\n    return dz * np.clip(np.sign(z), 0, 1).astype(dz.dtype)\n",
    )
    right(
        "relu-backward-clip-ceil",
        "relu_backward",
        "def relu_backward(dz, z):\n"
        "    mask = np.clip(np.ceil(z), 0, 1)  # 0 for z <= 0, 1 for z > 0\n"
        "    return (dz * mask).astype(dz.dtype)\n",
    )
    right(
        "relu-backward-in-place-on-copy",
        "relu_backward",
        "def relu_backward(dz, z):\n    out = dz.copy()\n    out *= z > 0\n    return out\n",
    )
    right(
        "relu-flat-view-reshaped",
        "relu",
        "def relu(z):\n    flat = np.ravel(z).copy()\n    np.maximum(flat, 0, out=flat)\n"
        "    return flat.reshape(z.shape)\n",
    )
    right(
        "relu-fortran-order",
        "relu",
        "def relu(z):\n    return np.asfortranarray(np.maximum(z, 0))\n",
    )
    right("relu-half-abs", "relu", "def relu(z):\n    return (z + np.abs(z)) / 2\n")
    right(
        "sigmoid-float32-work",
        "sigmoid",
        "def sigmoid(z):\n    e = np.exp(-np.abs(z).astype(np.float64))\n"
        "    s = np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n    return s.astype(z.dtype)\n",
    )
    right(
        "sigmoid-exp-out",
        "sigmoid",
        "def sigmoid(z):\n    e = np.exp(-np.abs(z))\n    out = np.empty_like(z)\n"
        "    np.divide(1, 1 + e, out=out, where=z >= 0)\n"
        "    np.divide(e, 1 + e, out=out, where=z < 0)\n    return out\n",
    )
    right(
        "sigmoid-derivative-transposed-view",
        "sigmoid_derivative",
        "def sigmoid_derivative(a):\n    t = a.T\n    return (t - t * t).T\n",
    )
    right(
        "tanh-derivative-fortran",
        "tanh_derivative",
        "def tanh_derivative(a):\n    return np.asfortranarray((1 - a) * (1 + a))\n",
    )
    right(
        "tanh-via-exp-minus-two-abs",
        "tanh",
        "def tanh(z):\n    e = np.exp(-2 * np.abs(z))\n    return np.sign(z) * (1 - e) / (1 + e)\n",
    )
    right(
        "softmax-loop-over-samples",
        "softmax",
        "def softmax(z):\n    out = np.empty_like(z)\n    for n, row in enumerate(z):\n"
        "        e = np.exp(row - row.max())\n        out[n] = e / e.sum()\n    return out\n",
    )
    right(
        "softmax-in-place-exp",
        "softmax",
        "def softmax(z):\n    out = z - z.max(axis=-1, keepdims=True)\n    np.exp(out, out=out)\n"
        "    out /= out.sum(axis=-1, keepdims=True)\n    return out\n",
    )
    right(
        "one-hot-float-identity-rows",
        "one_hot",
        "def one_hot(y, n_classes):\n    return np.identity(n_classes)[np.asarray(y)]\n",
    )
    right(
        "one-hot-arange-compare",
        "one_hot",
        "def one_hot(y, n_classes):\n"
        "    return (np.arange(n_classes)[None, :] == np.asarray(y)[:, None]).astype(float)\n",
    )
    # --- losses
    right(
        "mse-einsum",
        "mse",
        "def mse(y_pred, y_true):\n    d = (y_pred - y_true).ravel()\n"
        "    return float(np.einsum('i,i->', d, d) / d.size)\n",
    )
    right(
        "mse-in-place",
        "mse",
        "def mse(y_pred, y_true):\n    d = np.subtract(y_pred, y_true)\n    d **= 2\n"
        "    return d.mean()\n",
    )
    right(
        "l2-einsum-grad-in-place",
        "l2_penalty",
        "def l2_penalty(w, lam):\n"
        "    return 0.5 * lam * np.einsum('i,i->', w.ravel(), w.ravel())\n\n"
        "def l2_penalty_grad(w, lam):\n    g = w.copy()\n    g *= lam\n    return g\n",
    )
    right(
        "bce-softplus-minus-form",
        "bce_with_logits",
        "def bce_with_logits(z, y):\n"
        "    return float(np.mean(np.logaddexp(0, -z) + (1 - y) * z))\n\n"
        "def bce_with_logits_grad(z, y):\n"
        "    return (-y * np.exp(-np.logaddexp(0, z)) + (1 - y) * np.exp(-np.logaddexp(0, -z)))"
        " / len(z)\n",
    )
    right(
        "bce-loop-over-samples",
        "bce_with_logits",
        "import math\n"
        "def bce_with_logits(z, y):\n    total = 0.0\n"
        "    for zi, yi in zip(z.ravel(), y.ravel()):\n"
        "        total += max(zi, 0) - zi * yi + math.log1p(math.exp(-abs(zi)))\n"
        "    return total / z.size\n\n"
        "def bce_with_logits_grad(z, y):\n    g = np.empty_like(z)\n"
        "    for i in np.ndindex(z.shape):\n        zi = z[i]\n"
        "        p = 1 / (1 + math.exp(-zi)) if zi >= 0 else math.exp(zi) / (1 + math.exp(zi))\n"
        "        g[i] = (p - y[i]) / len(z)\n    return g\n",
    )
    right(
        "sce-loop-over-samples",
        "softmax_cross_entropy",
        "def softmax_cross_entropy(z, y):\n    total = 0.0\n"
        "    for row, label in zip(z, y):\n        m = row.max()\n"
        "        total += m + np.log(np.exp(row - m).sum()) - row[label]\n"
        "    return total / len(y)\n\n"
        "def softmax_cross_entropy_grad(z, y):\n    g = np.zeros_like(z)\n"
        "    for n, (row, label) in enumerate(zip(z, y)):\n"
        "        e = np.exp(row - row.max())\n        g[n] = e / e.sum()\n"
        "        g[n, label] -= 1\n"
        "    return g / len(y)\n",
    )
    right(
        "sce-einsum-onehot",
        "softmax_cross_entropy",
        "def _log_softmax(z):\n    s = z - z.max(axis=1, keepdims=True)\n"
        "    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n\n"
        "def softmax_cross_entropy(z, y):\n    Y = np.eye(z.shape[1])[y]\n"
        "    return -np.einsum('nc,nc->', Y, _log_softmax(z)) / len(y)\n\n"
        "def softmax_cross_entropy_grad(z, y):\n    Y = np.eye(z.shape[1])[y]\n"
        "    return (np.exp(_log_softmax(z)) - Y) / len(y)\n",
    )
    right(
        "count-parameters-prod",
        "count_parameters",
        "def count_parameters(layer_sizes):\n"
        "    return int(sum(np.prod((a + 1, b)) for a, b in zip(layer_sizes, layer_sizes[1:])))\n",
    )
    # --- the classifier, by loops over samples, einsum, clip masks
    right(
        "forward-loop-over-samples",
        "forward",
        "def forward(X, params, activation='relu'):\n"
        "    f = (lambda v: np.maximum(v, 0)) if activation == 'relu' else np.tanh\n"
        "    rows = {'z1': [], 'a1': [], 'z2': [], 'p': []}\n"
        "    for x in X:\n        z1 = x @ params['W1'] + params['b1']\n        a1 = f(z1)\n"
        "        z2 = a1 @ params['W2'] + params['b2']\n"
        "        p = 0.5 * (1 + np.tanh(0.5 * z2))\n"
        "        for k, v in zip(rows, (z1, a1, z2, p)):\n            rows[k].append(v)\n"
        "    return {k: np.array(v) for k, v in rows.items()}\n",
    )
    right(
        "backward-clip-mask",
        "backward",
        "def backward(X, y, params, cache, activation='relu'):\n"
        "    n = X.shape[0]\n    dz2 = (cache['p'] - y) / n\n"
        "    da1 = dz2 @ params['W2'].T\n"
        "    if activation == 'relu':\n        dz1 = da1 * np.clip(np.sign(cache['z1']), 0, 1)\n"
        "    else:\n        dz1 = da1 * (1 - cache['a1'] ** 2)\n"
        "    return {'W1': X.T @ dz1, 'b1': dz1.sum(axis=0), 'W2': cache['a1'].T @ dz2,\n"
        "            'b2': dz2.sum(axis=0)}\n",
    )
    right(
        "gd-step-loop-keys-copy",
        "gd_step",
        "def gd_step(params, grads, lr):\n    new = {}\n    for key in ('W1', 'b1', 'W2', 'b2'):\n"
        "        new[key] = params[key].copy()\n        new[key] -= lr * grads[key]\n"
        "    return new\n",
    )
    right(
        "gradient-check-flat-view",
        "gradient_check",
        "def numerical_gradient(f, x, eps=1e-5):\n    flat = x.reshape(-1)  # a view into x\n"
        "    g = np.zeros(flat.size)\n    for i in range(flat.size):\n"
        "        old = flat[i]\n        flat[i] = old + eps\n        up = f(x)\n"
        "        flat[i] = old - eps\n        down = f(x)\n        flat[i] = old\n"
        "        g[i] = (up - down) / (2 * eps)\n    return g.reshape(x.shape)\n\n"
        "def gradient_check(f, x, analytic_grad, eps=1e-5):\n"
        "    n = numerical_gradient(f, x, eps)\n"
        "    scale = np.maximum(np.maximum(np.abs(analytic_grad), np.abs(n)), 1e-8)\n"
        "    return float(np.max(np.abs(analytic_grad - n) / scale))\n",
    )
    right(
        "backprop-loop-over-samples",
        "backprop",
        "def backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2):\n"
        "    sig = lambda v: 0.5 * (1 + np.tanh(0.5 * v))\n"
        "    grads = {'dW1': np.zeros_like(W1), 'db1': np.zeros_like(b1),\n"
        "             'dW2': np.zeros_like(W2), 'db2': np.zeros_like(b2)}\n"
        "    for x, y in zip(X, Y):\n        x, y = x[None, :], y[None, :]\n"
        "        a1 = sig(x @ W1 + b1)\n        A = sig(a1 @ W2 + b2)\n        dz2 = A - y\n"
        "        dz1 = (dz2 @ W2.T) * a1 * (1 - a1)\n"
        "        grads['dW2'] += a1.T @ dz2\n        grads['db2'] += dz2\n"
        "        grads['dW1'] += x.T @ dz1\n        grads['db1'] += dz1\n"
        "    return grads\n",
    )
    right(
        "linear-loop-over-samples",
        "linear",
        "class Linear:\n    def __init__(self, in_dim, out_dim):\n"
        "        self.W = np.random.default_rng(0).normal(size=(out_dim, in_dim)) * 0.1\n"
        "        self.b = np.zeros(out_dim)\n\n"
        "    def forward(self, x):\n        self.x = x\n"
        "        return np.stack([self.W @ row + self.b for row in x])\n\n"
        "    def backward(self, dout):\n        self.dW = np.zeros_like(self.W)\n"
        "        self.db = np.zeros_like(self.b)\n        dx = np.empty_like(self.x)\n"
        "        for n in range(len(dout)):\n"
        "            self.dW += np.outer(dout[n], self.x[n])\n            self.db += dout[n]\n"
        "            dx[n] = self.W.T @ dout[n]\n        return dx\n",
    )
    right(
        "linear-transposed-view-out",
        "linear",
        "class Linear:\n    def __init__(self, in_dim, out_dim):\n"
        "        self.W = np.zeros((out_dim, in_dim))\n        self.b = np.zeros(out_dim)\n\n"
        "    def forward(self, x):\n        self.x = x\n"
        "        return (self.W @ x.T + self.b[:, None]).T\n\n"
        "    def backward(self, dout):\n        self.dW = np.einsum('bo,bi->oi', dout, self.x)\n"
        "        self.db = np.einsum('bo->o', dout)\n        return (self.W.T @ dout.T).T\n",
    )
    right(
        "momentum-in-place-new-arrays",
        "sgd_momentum",
        "def sgd_momentum_step(w, grad, velocity, lr, momentum):\n"
        "    v = np.multiply(velocity, momentum)\n    v -= lr * grad\n"
        "    new_w = w.copy()\n    new_w += v\n    return new_w, v\n",
    )
    right(
        "adam-float64-work-cast-back",
        "adam",
        "def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):\n"
        "    g = grad.astype(np.float64)\n"
        "    m2 = beta1 * m.astype(np.float64) + (1 - beta1) * g\n"
        "    v2 = beta2 * v.astype(np.float64) + (1 - beta2) * g * g\n"
        "    step = lr * (m2 / (1 - beta1 ** t)) / (np.sqrt(v2 / (1 - beta2 ** t)) + eps)\n"
        "    t_ = w.dtype\n"
        "    return (w - step).astype(t_), m2.astype(t_), v2.astype(t_)\n",
    )
    right("network-tuple-caches-clip-mask", "neural_network", NETWORK_TUPLE_CACHE)
    right("multiclass-loops-dict-cache", "multiclass_nn", MULTICLASS_LOOPS)
    # np.where forms, keepdims by reshape, out=, int32 / int64 labels, comprehensions
    _styles.add(right)
