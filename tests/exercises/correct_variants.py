"""A catalogue of RIGHT answers written in other valid ways: (id, exercise, source).

Each is what a learner might write that the contract allows: another expression order,
np.einsum or explicit sums instead of @, in-place operations on its own copies, another
stable formula, float32 kept by a different route. The tests run each through ``check`` and
expect it to pass with no diagnosis.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

VARIANTS: list[tuple[str, str, str]] = []


def right(ident: str, exercise: str, source: str) -> None:
    VARIANTS.append((ident, exercise, "import numpy as np\n" + source))


# --- activations ------------------------------------------------------------------------------
right("relu-where", "relu", "def relu(z):\n    return np.where(z > 0, z, 0).astype(z.dtype)\n")
right("relu-times-mask", "relu", "def relu(z):\n    return z * (z > 0)\n")
right("relu-clip", "relu", "def relu(z):\n    return np.clip(z, 0, None)\n")
right(
    "relu-copy-in-place",
    "relu",
    "def relu(z):\n    out = z.copy()\n    out[out < 0] = 0\n    return out\n",
)
right(
    "relu-backward-where",
    "relu_backward",
    "def relu_backward(dz, z):\n    return np.where(z > 0, dz, 0).astype(dz.dtype)\n",
)
right(
    "relu-backward-copy",
    "relu_backward",
    """
def relu_backward(dz, z):
    out = np.array(dz, copy=True)
    out[z <= 0] = 0
    return out
""",
)
right(
    "relu-backward-heaviside",
    "relu_backward",
    "def relu_backward(dz, z):\n    return dz * np.heaviside(z, 0).astype(dz.dtype)\n",
)
right(
    "sigmoid-two-branches",
    "sigmoid",
    """
def sigmoid(z):
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1 + e)
    return out
""",
)
right("sigmoid-tanh", "sigmoid", "def sigmoid(z):\n    return 0.5 * (1 + np.tanh(0.5 * z))\n")
right(
    "sigmoid-exp-of-minus-abs",
    "sigmoid",
    """
def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))
""",
)
right(
    "sigmoid-naive-with-overflow-to-inf",
    "sigmoid",
    "def sigmoid(z):\n    with np.errstate(over='ignore'):\n        return 1 / (1 + np.exp(-z))\n",
)
right(
    "sigmoid-derivative-expanded",
    "sigmoid_derivative",
    "def sigmoid_derivative(a):\n    return a - a * a\n",
)
right(
    "sigmoid-derivative-square",
    "sigmoid_derivative",
    "def sigmoid_derivative(a):\n    return a * (1 - a)\n",
)
right("tanh-numpy", "tanh", "def tanh(z):\n    return np.tanh(z)\n")
right(
    "tanh-from-exp-stable",
    "tanh",
    """
def tanh(z):
    e = np.exp(-2 * np.abs(z))
    return np.sign(z) * (1 - e) / (1 + e)
""",
)
right(
    "tanh-from-sigmoid",
    "tanh",
    """
def tanh(z):
    e = np.exp(-2 * np.abs(z))
    s = 1 / (1 + e)
    return np.sign(z) * (2 * s - 1)
""",
)
right(
    "tanh-derivative-factored",
    "tanh_derivative",
    "def tanh_derivative(a):\n    return (1 - a) * (1 + a)\n",
)
right(
    "tanh-derivative-square",
    "tanh_derivative",
    "def tanh_derivative(a):\n    return 1 - np.square(a)\n",
)
# --- softmax, one-hot, losses -----------------------------------------------------------------
right(
    "softmax-keepdims",
    "softmax",
    """
def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
""",
)
right(
    "softmax-log-sum-exp",
    "softmax",
    """
def softmax(z):
    m = np.max(z, axis=-1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))
    return np.exp(z - lse)
""",
)
right(
    "softmax-transposed-work",
    "softmax",
    """
def softmax(z):
    t = z.T - z.max(axis=1)
    e = np.exp(t)
    return (e / e.sum(axis=0)).T
""",
)
right(
    "one-hot-eye",
    "one_hot",
    "def one_hot(y, n_classes):\n    return np.eye(n_classes)[np.asarray(y, dtype=int)]\n",
)
right(
    "one-hot-compare",
    "one_hot",
    """
def one_hot(y, n_classes):
    return (np.asarray(y)[:, None] == np.arange(n_classes)).astype(float)
""",
)
right(
    "one-hot-loop",
    "one_hot",
    """
def one_hot(y, n_classes):
    out = np.zeros((len(y), n_classes))
    for i, k in enumerate(y):
        out[i, int(k)] = 1.0
    return out
""",
)
right(
    "mse-square-mean",
    "mse",
    "def mse(y_pred, y_true):\n    return float(np.mean(np.square(y_pred - y_true)))\n",
)
right(
    "mse-dot",
    "mse",
    "def mse(y_pred, y_true):\n    d = (y_true - y_pred).ravel()\n    return d @ d / d.size\n",
)
right(
    "l2-einsum",
    "l2_penalty",
    """
def l2_penalty(w, lam):
    return 0.5 * lam * np.einsum('i,i->', w.ravel(), w.ravel())

def l2_penalty_grad(w, lam):
    return lam * w
""",
)
right(
    "l2-norm",
    "l2_penalty",
    """
def l2_penalty(w, lam):
    return lam / 2 * np.linalg.norm(w) ** 2

def l2_penalty_grad(w, lam):
    g = w.copy()
    g *= lam
    return g
""",
)
right(
    "bce-logaddexp",
    "bce_with_logits",
    """
def bce_with_logits(z, y):
    return float(np.mean(np.logaddexp(0, z) - y * z))

def bce_with_logits_grad(z, y):
    return (0.5 * (1 + np.tanh(0.5 * z)) - y) / len(z)
""",
)
right(
    "bce-max-form",
    "bce_with_logits",
    """
def bce_with_logits(z, y):
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))

def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))

def bce_with_logits_grad(z, y):
    n = z.shape[0]
    return (sigmoid(z) - y) / n
""",
)
right(
    "bce-softplus-both",
    "bce_with_logits",
    """
def softplus(x):
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

def bce_with_logits(z, y):
    return (y * softplus(-z) + (1 - y) * softplus(z)).sum() / z.size

def bce_with_logits_grad(z, y):
    with np.errstate(over='ignore'):
        p = 1 / (1 + np.exp(-z))
    return (p - y) / z.size
""",
)
right(
    "softmax-ce-take",
    "softmax_cross_entropy",
    """
def softmax_cross_entropy(z, y):
    y = np.asarray(y, dtype=int)
    m = z.max(axis=1, keepdims=True)
    log_p = z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return -np.take_along_axis(log_p, y[:, None], axis=1).mean()

def softmax_cross_entropy_grad(z, y):
    y = np.asarray(y, dtype=int)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    p /= len(y)
    return p
""",
)
right(
    "softmax-ce-onehot-einsum",
    "softmax_cross_entropy",
    """
def softmax_cross_entropy(z, y):
    n, c = z.shape
    Y = np.eye(c)[np.asarray(y, dtype=int)]
    m = np.max(z, axis=1)
    lse = m + np.log(np.sum(np.exp(z - m[:, None]), axis=1))
    return float(np.sum(lse - np.einsum('nc,nc->n', z, Y)) / n)

def softmax_cross_entropy_grad(z, y):
    n, c = z.shape
    Y = np.eye(c)[np.asarray(y, dtype=int)]
    m = np.max(z, axis=1, keepdims=True)
    p = np.exp(z - m)
    p = p / p.sum(axis=1, keepdims=True)
    return (p - Y) * (1.0 / n)
""",
)
right(
    "count-parameters-zip",
    "count_parameters",
    """
def count_parameters(layer_sizes):
    return sum(a * b + b for a, b in zip(layer_sizes, layer_sizes[1:]))
""",
)
right(
    "count-parameters-numpy",
    "count_parameters",
    """
def count_parameters(layer_sizes):
    s = np.array(layer_sizes)
    return int(np.sum((s[:-1] + 1) * s[1:]))
""",
)
# --- the binary classifier ----------------------------------------------------------------------
_FORWARD = """
def _sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))

def forward(X, params, activation='relu'):
    z1 = np.einsum('nd,dh->nh', X, params['W1']) + params['b1']
    a1 = np.maximum(z1, 0) if activation == 'relu' else np.tanh(z1)
    z2 = a1 @ params['W2'] + params['b2']
    return {'z1': z1, 'a1': a1, 'z2': z2, 'p': _sigmoid(z2)}
"""
right("forward-einsum", "forward", _FORWARD)
right(
    "forward-transposed-products",
    "forward",
    """
def forward(X, params, activation='relu'):
    z1 = (params['W1'].T @ X.T).T + params['b1'][None, :]
    a1 = z1 * (z1 > 0) if activation == 'relu' else np.tanh(z1)
    z2 = np.dot(a1, params['W2']) + params['b2']
    p = 0.5 * (1 + np.tanh(z2 / 2))
    return dict(z1=z1, a1=a1, z2=z2, p=p)
""",
)
right(
    "backward-einsum",
    "backward",
    """
def backward(X, y, params, cache, activation='relu'):
    n = X.shape[0]
    dz2 = (cache['p'] - y) / n
    dW2 = np.einsum('nh,no->ho', cache['a1'], dz2)
    db2 = dz2.sum(axis=0)
    da1 = dz2 @ params['W2'].T
    if activation == 'relu':
        dz1 = da1 * (cache['z1'] > 0)
    else:
        dz1 = da1 * (1 - cache['a1'] ** 2)
    return {'W1': np.einsum('nd,nh->dh', X, dz1), 'b1': np.einsum('nh->h', dz1),
            'W2': dW2, 'b2': db2}
""",
)
right(
    "backward-mean-late",
    "backward",
    """
def backward(X, y, params, cache, activation='relu'):
    dz2 = cache['p'] - y
    dW2 = cache['a1'].T @ dz2
    db2 = np.sum(dz2, axis=0)
    dz1 = dz2 @ params['W2'].T
    if activation == 'relu':
        dz1[cache['z1'] <= 0] = 0
    else:
        dz1 *= 1 - cache['a1'] * cache['a1']
    n = len(X)
    grads = {'W1': X.T @ dz1, 'b1': dz1.sum(0), 'W2': dW2, 'b2': db2}
    for k in grads:
        grads[k] /= n
    return grads
""",
)
right(
    "backward-from-logit-sigmoid",
    "backward",
    """
def backward(X, y, params, cache, activation='relu'):
    z2 = cache['z2']
    e = np.exp(-np.abs(z2))
    p = np.where(z2 >= 0, 1 / (1 + e), e / (1 + e))
    dz2 = (p - y) / X.shape[0]
    dz1 = (dz2 @ params['W2'].T) * (np.heaviside(cache['z1'], 0) if activation == 'relu'
                                    else 1 - np.tanh(cache['z1']) ** 2)
    return {'W2': cache['a1'].T @ dz2, 'b2': dz2.sum(axis=0),
            'W1': X.T @ dz1, 'b1': dz1.sum(axis=0)}
""",
)
right(
    "gd-step-comprehension",
    "gd_step",
    """
def gd_step(params, grads, lr):
    return {k: v - lr * grads[k] for k, v in params.items()}
""",
)
right(
    "gd-step-copy-in-place",
    "gd_step",
    """
def gd_step(params, grads, lr):
    new = {k: v.copy() for k, v in params.items()}
    for k in new:
        new[k] -= lr * grads[k]
    return new
""",
)
right(
    "gradient-check-copies",
    "gradient_check",
    """
def numerical_gradient(f, x, eps=1e-5):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g

def gradient_check(f, x, analytic_grad, eps=1e-5):
    n = numerical_gradient(f, x, eps)
    a = np.asarray(analytic_grad)
    return float(np.max(np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-8)))
""",
)
right(
    "gradient-check-nditer-in-place",
    "gradient_check",
    """
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=['multi_index'])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        plus = f(x)
        x[i] = old - eps
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
        it.iternext()
    return grad

def gradient_check(f, x, analytic_grad, eps=1e-5):
    n = numerical_gradient(f, x, eps)
    rel = np.abs(analytic_grad - n) / np.maximum(1e-8, np.maximum(np.abs(analytic_grad), np.abs(n)))
    return rel.max()
""",
)
# --- backprop (sigmoid network, loss summed) ------------------------------------------------
right(
    "backprop-einsum",
    "backprop",
    """
def _sig(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))

def backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2):
    a1 = _sig(np.einsum('mi,ih->mh', X, W1) + b1)
    A = _sig(a1 @ W2 + b2)
    dz2 = A - Y
    dz1 = np.einsum('mo,ho->mh', dz2, W2) * a1 * (1 - a1)
    return {'dW1': np.einsum('mi,mh->ih', X, dz1), 'db1': dz1.sum(axis=0, keepdims=True),
            'dW2': a1.T @ dz2, 'db2': dz2.sum(axis=0, keepdims=True)}
""",
)
right(
    "backprop-float32-kept",
    "backprop",
    """
def backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2):
    z1 = X @ W1 + b1
    a1 = 0.5 * (1 + np.tanh(z1 / 2))
    z2 = a1 @ W2 + b2
    dz2 = 0.5 * (1 + np.tanh(z2 / 2)) - Y
    dW2 = a1.T @ dz2
    db2 = np.sum(dz2, axis=0).reshape(1, 1)
    da1 = dz2 @ W2.T
    dz1 = da1 * (a1 - a1 ** 2)
    return {'dW1': X.T @ dz1, 'db1': np.sum(dz1, axis=0, keepdims=True), 'dW2': dW2, 'db2': db2}
""",
)
# --- Linear (W laid out (out, in)) -----------------------------------------------------------
right(
    "linear-einsum",
    "linear",
    """
class Linear:
    def __init__(self, in_dim, out_dim):
        self.W = np.random.default_rng(0).normal(size=(out_dim, in_dim)) * 0.1
        self.b = np.zeros(out_dim)

    def forward(self, x):
        self.x = x
        return np.einsum('bi,oi->bo', x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.einsum('bo,bi->oi', dout, self.x)
        self.db = np.einsum('bo->o', dout)
        return np.einsum('bo,oi->bi', dout, self.W)
""",
)
right(
    "linear-dot-transposes",
    "linear",
    """
class Linear:
    def __init__(self, in_dim, out_dim):
        self.W = np.zeros((out_dim, in_dim))
        self.b = np.zeros((out_dim,))

    def forward(self, x):
        self.cache = x.copy()
        return (self.W @ x.T).T + self.b

    def backward(self, dout):
        x = self.cache
        self.dW = (x.T @ dout).T
        self.db = dout.sum(axis=0)
        return (self.W.T @ dout.T).T
""",
)
# --- optimizers ---------------------------------------------------------------------------------
right(
    "sgd-momentum-copies",
    "sgd_momentum",
    """
def sgd_momentum_step(w, grad, velocity, lr, momentum):
    v = velocity.copy()
    v *= momentum
    v -= lr * grad
    new_w = w.copy()
    new_w += v
    return new_w, v
""",
)
right(
    "sgd-momentum-reordered",
    "sgd_momentum",
    """
def sgd_momentum_step(w, grad, velocity, lr, momentum):
    v = -lr * grad + momentum * velocity
    return w + v, v
""",
)
right(
    "adam-copies-in-place",
    "adam",
    """
def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = m.copy(); v = v.copy(); w = w.copy()
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * grad * grad
    w -= lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    return w, m, v
""",
)
# --- the classes ------------------------------------------------------------------------------
right(
    "neural-network-einsum-in-place",
    "neural_network",
    """
class NeuralNetwork:
    def __init__(self, layer_sizes, learning_rate=0.01, momentum=0.0, seed=None):
        rng = np.random.default_rng(seed)
        self.weights, self.biases = [], []
        for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
            self.weights.append(rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out)))
            self.biases.append(np.zeros((1, n_out)))
        self.lr, self.mu = learning_rate, momentum
        self.vw = [np.zeros_like(w) for w in self.weights]
        self.vb = [np.zeros_like(b) for b in self.biases]

    def forward(self, X):
        self.acts, self.zs = [X], []
        a = X
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = np.einsum('nd,dh->nh', a, W) + b
            self.zs.append(z)
            a = np.maximum(z, 0) if i < len(self.weights) - 1 else z
            self.acts.append(a)
        z = self.zs[-1]
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))

    def backward(self, X, y):
        z = self.zs[-1]
        e = np.exp(-np.abs(z))
        p = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
        delta = (p - np.asarray(y, dtype=float).reshape(-1, 1)) / len(X)
        gw, gb = [], []
        for i in reversed(range(len(self.weights))):
            gw.insert(0, np.einsum('nd,nh->dh', self.acts[i], delta))
            gb.insert(0, delta.sum(axis=0, keepdims=True))
            if i:
                delta = (delta @ self.weights[i].T) * (self.zs[i - 1] > 0)
        return gw, gb

    def fit(self, X, y, epochs=1000, verbose=False):
        for _ in range(epochs):
            self.forward(X)
            gw, gb = self.backward(X, y)
            for i in range(len(self.weights)):
                self.vw[i] *= self.mu
                self.vw[i] -= self.lr * gw[i]
                self.weights[i] += self.vw[i]
                self.vb[i] *= self.mu
                self.vb[i] -= self.lr * gb[i]
                self.biases[i] += self.vb[i]
        return self

    def predict(self, X, threshold=0.5):
        return (self.forward(X)[:, 0] >= threshold).astype(int)
""",
)
right(
    "multiclass-log-softmax",
    "multiclass_nn",
    """
class MultiClassNN:
    def __init__(self, layer_sizes, learning_rate=0.01, seed=None):
        rng = np.random.default_rng(seed)
        self.weights = [rng.standard_normal((a, b)) * np.sqrt(2 / a)
                        for a, b in zip(layer_sizes, layer_sizes[1:])]
        self.biases = [np.zeros((1, b)) for b in layer_sizes[1:]]
        self.lr = learning_rate

    def _logits(self, X):
        self.acts, self.zs = [X], []
        a = X
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = a @ W + b
            self.zs.append(z)
            a = z * (z > 0) if i < len(self.weights) - 1 else z
            self.acts.append(a)
        return a

    def forward(self, X):
        z = self._logits(X)
        m = z.max(axis=1, keepdims=True)
        return np.exp(z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True)))

    def fit(self, X, y, epochs=1000, verbose=False):
        y = np.asarray(y).astype(int)
        n = len(X)
        for _ in range(epochs):
            delta = self.forward(X)
            delta[np.arange(n), y] -= 1
            delta /= n
            for i in reversed(range(len(self.weights))):
                gw = self.acts[i].T @ delta
                gb = delta.sum(axis=0, keepdims=True)
                if i:
                    delta = (delta @ self.weights[i].T) * (self.zs[i - 1] > 0)
                self.weights[i] -= self.lr * gw
                self.biases[i] -= self.lr * gb
        return self

    def predict(self, X):
        return np.argmax(self.forward(X), axis=1)
""",
)

# more styles: loops and the math module, scipy.special, einsum / matmul / dot, ...
_more_spec = importlib.util.spec_from_file_location(
    "_correct_variants_more", Path(__file__).with_name("correct_variants_more.py")
)
_more = importlib.util.module_from_spec(_more_spec)
_more_spec.loader.exec_module(_more)
_more.add(right)

# the styles a learner reaches for: loops over samples, views, np.clip in masks, caches
_learner_spec = importlib.util.spec_from_file_location(
    "_correct_variants_learner", Path(__file__).with_name("correct_variants_learner.py")
)
_learner = importlib.util.module_from_spec(_learner_spec)
_learner_spec.loader.exec_module(_learner)
_learner.add(right)

# chapters 9 and 10: the confusion matrix, MSE + lam ||W||^2 as Keras counts it
_ch9_10_spec = importlib.util.spec_from_file_location(
    "_correct_variants_confusion_ridge",
    Path(__file__).with_name("correct_variants_confusion_ridge.py"),
)
_ch9_10 = importlib.util.module_from_spec(_ch9_10_spec)
_ch9_10_spec.loader.exec_module(_ch9_10)
_ch9_10.add(right)

# right answers that look like the slips a learner's walk through the course found
_walk_spec = importlib.util.spec_from_file_location(
    "_correct_variants_walk", Path(__file__).with_name("correct_variants_walk.py")
)
_walk = importlib.util.module_from_spec(_walk_spec)
_walk_spec.loader.exec_module(_walk)
_walk.add(right)
