"""A catalogue of deliberately wrong answers: (id, exercise, the code that must be found, source).

Each source is what a learner might write; the tests run each through ``check`` and
expect it to fail with the named diagnosis among the codes found.
"""

from __future__ import annotations

MUTANTS: list[tuple[str, str, str, str]] = []


def wrong(ident: str, exercise: str, code: str, source: str) -> None:
    MUTANTS.append((ident, exercise, code, "import numpy as np\n" + source))


# --- ReLU and its backward ----------------------------------------------------------------------
wrong(
    "relu-in-place",
    "relu",
    "mutates-input",
    """
def relu(z):
    z[z < 0] = 0
    return z
""",
)
wrong(
    "relu-upcast",
    "relu",
    "dtype",
    """
def relu(z):
    return np.maximum(z, 0).astype(np.float64)
""",
)
wrong(
    "relu-backward-ge",
    "relu_backward",
    "relu-kink",
    """
def relu_backward(dz, z):
    return dz * (z >= 0)
""",
)
wrong(
    "relu-backward-from-output",
    "relu_backward",
    "relu-kink",
    """
def relu_backward(dz, z):
    a = np.maximum(z, 0)
    return dz * (a >= 0)
""",
)
wrong(
    "relu-backward-upcast",
    "relu_backward",
    "dtype",
    """
def relu_backward(dz, z):
    return dz * (z > 0).astype(np.float64)
""",
)
wrong(
    "relu-backward-in-place",
    "relu_backward",
    "mutates-input",
    """
def relu_backward(dz, z):
    dz[z <= 0] = 0
    return dz
""",
)
# --- one-hot --------------------------------------------------------------------------------------
wrong(
    "one-hot-transposed",
    "one_hot",
    "transpose",
    """
def one_hot(y, n_classes):
    return np.eye(n_classes)[y].T
""",
)
wrong(
    "one-hot-classes-from-data",
    "one_hot",
    "shape",
    """
def one_hot(y, n_classes):
    return np.eye(y.max() + 1)[y]
""",
)
# --- softmax, sigmoid, tanh -----------------------------------------------------------------------
wrong(
    "softmax-naive",
    "softmax",
    "unstable",
    """
def softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
""",
)
wrong(
    "softmax-upcast",
    "softmax",
    "dtype",
    """
def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
""",
)
wrong(
    "sigmoid-naive",
    "sigmoid",
    "unstable",
    """
def sigmoid(z):
    return np.exp(z) / (1 + np.exp(z))
""",
)
wrong(
    "sigmoid-derivative-of-z",
    "sigmoid_derivative",
    "activation-derivative",
    """
def sigmoid_derivative(a):
    s = 1 / (1 + np.exp(-a))
    return s * (1 - s)
""",
)
wrong(
    "tanh-derivative-of-z",
    "tanh_derivative",
    "activation-derivative",
    """
def tanh_derivative(a):
    return 1 - np.tanh(a) ** 2
""",
)
# --- losses ---------------------------------------------------------------------------------------
wrong(
    "mse-sum",
    "mse",
    "scale",
    """
def mse(y_pred, y_true):
    return float(np.sum((y_pred - y_true) ** 2))
""",
)
wrong(
    "mse-half",
    "mse",
    "scale",
    """
def mse(y_pred, y_true):
    return float(0.5 * np.mean((y_pred - y_true) ** 2))
""",
)
wrong(
    "mse-over-n-minus-1",
    "mse",
    "n-minus-1",
    """
def mse(y_pred, y_true):
    return np.sum((y_pred - y_true) ** 2) / (y_pred.size - 1)
""",
)
wrong(
    "mse-over-n-minus-1-python-floats",
    "mse",
    "n-minus-1",
    """
def mse(y_pred, y_true):
    return float(np.sum((y_pred - y_true) ** 2)) / (len(y_pred) - 1)
""",
)
wrong(
    "mse-per-column",
    "mse",
    "shape",
    """
def mse(y_pred, y_true):
    return np.mean((y_pred - y_true) ** 2, axis=0)
""",
)
wrong(
    "l2-without-half",
    "l2_penalty",
    "scale",
    """
def l2_penalty(w, lam):
    return lam * np.sum(w ** 2)

def l2_penalty_grad(w, lam):
    return lam * w
""",
)
wrong(
    "l2-grad-doubled",
    "l2_penalty",
    "scale",
    """
def l2_penalty(w, lam):
    return lam / 2 * np.sum(w ** 2)

def l2_penalty_grad(w, lam):
    return 2 * lam * w
""",
)
wrong(
    "l2-grad-sign",
    "l2_penalty",
    "sign",
    """
def l2_penalty(w, lam):
    return lam / 2 * np.sum(w ** 2)

def l2_penalty_grad(w, lam):
    return -lam * w
""",
)
BCE_GOOD_GRAD = """
def bce_with_logits_grad(z, y):
    return (1 / (1 + np.exp(-z)) - y) / len(z)
"""
wrong(
    "bce-naive",
    "bce_with_logits",
    "unstable",
    """
def bce_with_logits(z, y):
    p = 1 / (1 + np.exp(-z))
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
"""
    + BCE_GOOD_GRAD,
)
BCE_GOOD = """
def bce_with_logits(z, y):
    return float(np.mean(np.logaddexp(0, z) - y * z))
"""
wrong(
    "bce-grad-summed",
    "bce_with_logits",
    "scale",
    BCE_GOOD
    + """
def bce_with_logits_grad(z, y):
    return 1 / (1 + np.exp(-z)) - y
""",
)
wrong(
    "bce-grad-sign",
    "bce_with_logits",
    "sign",
    BCE_GOOD
    + """
def bce_with_logits_grad(z, y):
    return (y - 1 / (1 + np.exp(-z))) / len(z)
""",
)
wrong(
    "bce-grad-flat",
    "bce_with_logits",
    "shape",
    BCE_GOOD
    + """
def bce_with_logits_grad(z, y):
    return ((1 / (1 + np.exp(-z)) - y) / len(z)).ravel()
""",
)
SCE_GOOD_GRAD = """
def softmax_cross_entropy_grad(z, y):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p / len(y)
"""
wrong(
    "sce-naive",
    "softmax_cross_entropy",
    "unstable",
    """
def softmax_cross_entropy(z, y):
    e = np.exp(z)
    p = e / e.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(p[np.arange(len(y)), y])))
"""
    + SCE_GOOD_GRAD,
)
wrong(
    "sce-grad-summed",
    "softmax_cross_entropy",
    "scale",
    """
def softmax_cross_entropy(z, y):
    m = z.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(y)), y]))

def softmax_cross_entropy_grad(z, y):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return p
""",
)
# --- seed 000: backward and gd_step --------------------------------------------------------------
BINARY_CLASSIFIER_BACKWARD = """
def backward(X, y, params, cache, activation="relu"):
    N = X.shape[0]
    dz2 = (cache["p"] - y) / N
    da1 = dz2 @ params["W2"].T
    if activation == "relu":
        dz1 = da1 * (cache["z1"] > 0)
    else:
        dz1 = da1 * (1 - cache["a1"] ** 2)
    return {"W1": X.T @ dz1, "b1": dz1.sum(axis=0),
            "W2": cache["a1"].T @ dz2, "b2": dz2.sum(axis=0)}
"""


def classifier(ident: str, code: str, old: str, new: str) -> None:
    assert old in BINARY_CLASSIFIER_BACKWARD, old
    wrong(ident, "backward", code, BINARY_CLASSIFIER_BACKWARD.replace(old, new))


classifier("backward-relu-ge", "relu-kink", '(cache["z1"] > 0)', '(cache["z1"] >= 0)')
classifier("backward-tanh-of-z", "activation-derivative", 'cache["a1"] ** 2', 'cache["z1"] ** 2')
classifier(
    "backward-tanh-again", "activation-derivative", 'cache["a1"] ** 2', 'np.tanh(cache["a1"]) ** 2'
)
classifier("backward-summed", "scale", "/ N", "/ 1")
classifier(
    "backward-bias-keepdims",
    "bias-shape",
    '"b1": dz1.sum(axis=0)',
    '"b1": dz1.sum(axis=0, keepdims=True)',
)
classifier("backward-bias-not-summed", "bias-not-summed", '"b1": dz1.sum(axis=0)', '"b1": dz1')
classifier("backward-transposed", "transpose", '"W1": X.T @ dz1', '"W1": dz1.T @ X')
classifier("backward-order", "order", '"W2": cache["a1"].T @ dz2', '"W2": cache["a1"].T @ dz1')
classifier("backward-sign", "sign", '(cache["p"] - y) / N', '(y - cache["p"]) / N')
classifier(
    "backward-through-dl-dp",
    "unstable",
    'dz2 = (cache["p"] - y) / N',
    'p = cache["p"]\n    dz2 = (-(y / p) + (1 - y) / (1 - p)) * p * (1 - p) / N',
)
wrong(
    "gd-step-in-place",
    "gd_step",
    "mutates-input",
    """
def gd_step(params, grads, lr):
    for k in params:
        params[k] -= lr * grads[k]
    return params
""",
)
wrong(
    "gd-step-ascent",
    "gd_step",
    "sign",
    """
def gd_step(params, grads, lr):
    return {k: params[k] + lr * grads[k] for k in params}
""",
)
# --- seed 000 Part 5: the gradient checker --------------------------------------------------------
GC_CHECK = """
def gradient_check(f, x, analytic_grad, eps=1e-5):
    n = numerical_gradient(f, x, eps)
    a = np.asarray(analytic_grad)
    return float(np.max(np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-8)))
"""
wrong(
    "numerical-gradient-over-eps",
    "gradient_check",
    "scale",
    """
def numerical_gradient(f, x, eps=1e-5):
    x = x.copy()
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        g[i] = (up - down) / eps
    return g
"""
    + GC_CHECK,
)
wrong(
    "numerical-gradient-not-restored",
    "gradient_check",
    "mutates-input",
    """
def numerical_gradient(f, x, eps=1e-5):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        g[i] = (up - down) / (2 * eps)
    return g
"""
    + GC_CHECK,
)
# --- seed 002: backprop ---------------------------------------------------------------------------
BACKPROP = """
def backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2):
    a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
    A = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
    dz2 = A - Y
    dz1 = (dz2 @ W2.T) * a1 * (1 - a1)
    return {"dW1": X.T @ dz1, "db1": dz1.sum(axis=0, keepdims=True),
            "dW2": a1.T @ dz2, "db2": dz2.sum(axis=0, keepdims=True)}
"""


def backprop(ident: str, code: str, old: str, new: str) -> None:
    assert old in BACKPROP, old
    wrong(ident, "backprop", code, BACKPROP.replace(old, new))


backprop("backprop-mean", "scale", "dz2 = A - Y", "dz2 = (A - Y) / X.shape[0]")
backprop(
    "backprop-bias-not-summed",
    "bias-not-summed",
    '"db1": dz1.sum(axis=0, keepdims=True)',
    '"db1": dz1',
)
backprop(
    "backprop-bias-flat",
    "bias-shape",
    '"db1": dz1.sum(axis=0, keepdims=True)',
    '"db1": dz1.sum(axis=0)',
)
backprop(
    "backprop-derivative-of-output",
    "activation-derivative",
    "a1 * (1 - a1)",
    "(1 / (1 + np.exp(-a1))) * (1 - 1 / (1 + np.exp(-a1)))",
)
backprop(
    "backprop-derivative-of-z",
    "activation-derivative",
    "a1 * (1 - a1)",
    "(X @ W1 + b1) * (1 - (X @ W1 + b1))",
)
backprop("backprop-transposed", "transpose", '"dW1": X.T @ dz1', '"dW1": dz1.T @ X')
backprop("backprop-order", "order", '"dW1": X.T @ dz1', '"dW1": X.T @ dz2')
backprop("backprop-upcast", "dtype", "a1 = 1", "X = X.astype(np.float64)\n    a1 = 1")
backprop("backprop-sign", "sign", "dz2 = A - Y", "dz2 = Y - A")
backprop(
    "backprop-through-dl-da",
    "unstable",
    "dz2 = A - Y",
    "dA = -(Y / A) + (1 - Y) / (1 - A)\n    dz2 = dA * A * (1 - A)",
)
# --- seed 001: the Linear layer -------------------------------------------------------------------
LINEAR = """
class Linear:
    def __init__(self, in_dim, out_dim):
        self.W = np.zeros((out_dim, in_dim))
        self.b = np.zeros(out_dim)

    def forward(self, x):
        self.x = x
        return x @ self.W.T + self.b

    def backward(self, dout):
        self.dW = dout.T @ self.x
        self.db = dout.sum(axis=0)
        return dout @ self.W
"""


def linear(ident: str, code: str, old: str, new: str) -> None:
    assert old in LINEAR, old
    wrong(ident, "linear", code, LINEAR.replace(old, new))


linear(
    "linear-dw-transposed", "transpose", "self.dW = dout.T @ self.x", "self.dW = self.x.T @ dout"
)
linear("linear-db-mean", "scale", "self.db = dout.sum(axis=0)", "self.db = dout.mean(axis=0)")
linear("linear-db-not-summed", "bias-not-summed", "self.db = dout.sum(axis=0)", "self.db = dout")
# --- optimizers -----------------------------------------------------------------------------------
wrong(
    "momentum-pytorch-convention",
    "sgd_momentum",
    "momentum-convention",
    """
def sgd_momentum_step(w, grad, velocity, lr, momentum):
    velocity = momentum * velocity + grad
    return w - lr * velocity, velocity
""",
)
wrong(
    "momentum-dampened",
    "sgd_momentum",
    "momentum-convention",
    """
def sgd_momentum_step(w, grad, velocity, lr, momentum):
    velocity = momentum * velocity - (1 - momentum) * lr * grad
    return w + velocity, velocity
""",
)
wrong(
    "momentum-in-place",
    "sgd_momentum",
    "mutates-input",
    """
def sgd_momentum_step(w, grad, velocity, lr, momentum):
    velocity *= momentum
    velocity -= lr * grad
    w += velocity
    return w, velocity
""",
)
ADAM = """
def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
"""


def adam(ident: str, code: str, old: str, new: str) -> None:
    assert old in ADAM, old
    wrong(ident, "adam", code, ADAM.replace(old, new))


adam(
    "adam-no-correction",
    "adam-bias-correction",
    "m_hat = m / (1 - beta1 ** t)\n    v_hat = v / (1 - beta2 ** t)",
    "m_hat = m\n    v_hat = v",
)
adam("adam-m-uncorrected", "adam-bias-correction", "m_hat = m / (1 - beta1 ** t)", "m_hat = m")
adam("adam-v-uncorrected", "adam-bias-correction", "v_hat = v / (1 - beta2 ** t)", "v_hat = v")
adam("adam-ascent", "sign", "return w - lr", "return w + lr")
adam(
    "adam-t-plus-one",
    "adam-step-count",
    "m_hat = m / (1 - beta1 ** t)\n    v_hat = v / (1 - beta2 ** t)",
    "m_hat = m / (1 - beta1 ** (t + 1))\n    v_hat = v / (1 - beta2 ** (t + 1))",
)
adam(
    "adam-t-minus-one",
    "adam-step-count",
    "m_hat = m / (1 - beta1 ** t)\n    v_hat = v / (1 - beta2 ** t)",
    "m_hat = m / (1 - beta1 ** (t - 1))\n    v_hat = v / (1 - beta2 ** (t - 1))",
)
adam("adam-returns-m-hat", "adam-returns-corrected", "+ eps), m, v", "+ eps), m_hat, v_hat")
adam("adam-eps-in-sqrt", "adam-epsilon", "(np.sqrt(v_hat) + eps)", "np.sqrt(v_hat + eps)")
wrong(
    "adam-in-place",
    "adam",
    "mutates-input",
    """
def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * grad ** 2
    w -= lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    return w, m, v
""",
)
# --- seed 004: the classes ------------------------------------------------------------------------
NETWORK = """
class NeuralNetwork:
    def __init__(self, layer_sizes, learning_rate=0.01, momentum=0.0, seed=None):
        rng = np.random.default_rng(seed)
        self.lr, self.momentum = learning_rate, momentum
        self.weights = [rng.normal(size=(a, b)) * np.sqrt(2 / a)
                        for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]
        self.biases = [np.zeros((1, b)) for b in layer_sizes[1:]]
        self.vw = [np.zeros_like(W) for W in self.weights]
        self.vb = [np.zeros_like(b) for b in self.biases]

    def forward(self, X):
        self.a, self.z = [X], []
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = self.a[-1] @ W + b
            self.z.append(z)
            last = i == len(self.weights) - 1
            self.a.append(1 / (1 + np.exp(-z)) if last else np.maximum(z, 0))
        return self.a[-1]

    def backward(self, X, y):
        n = X.shape[0]
        delta = (self.a[-1] - y.reshape(-1, 1)) / n
        gw, gb = [], []
        for i in range(len(self.weights) - 1, -1, -1):
            gw.insert(0, self.a[i].T @ delta)
            gb.insert(0, delta.sum(axis=0, keepdims=True))
            if i > 0:
                delta = (delta @ self.weights[i].T) * (self.z[i - 1] > 0)
        return gw, gb

    def fit(self, X, y, epochs=1000, verbose=False):
        for _ in range(epochs):
            self.forward(X)
            gw, gb = self.backward(X, y)
            for i in range(len(self.weights)):
                self.vw[i] = self.momentum * self.vw[i] - self.lr * gw[i]
                self.vb[i] = self.momentum * self.vb[i] - self.lr * gb[i]
                self.weights[i] = self.weights[i] + self.vw[i]
                self.biases[i] = self.biases[i] + self.vb[i]
        return self

    def predict(self, X, threshold=0.5):
        return (self.forward(X) >= threshold).astype(int).ravel()
"""


def network(ident: str, code: str, old: str, new: str) -> None:
    assert old in NETWORK, old
    wrong(ident, "neural_network", code, NETWORK.replace(old, new))


network("network-backward-summed", "scale", "/ n\n", "\n")
network(
    "network-backward-through-dl-da",
    "unstable",
    "delta = (self.a[-1] - y.reshape(-1, 1)) / n",
    "A, Y = self.a[-1], y.reshape(-1, 1)\n"
    "        delta = (-(Y / A) + (1 - Y) / (1 - A)) * A * (1 - A) / n",
)
NETWORK_FIT = """    def fit(self, X, y, epochs=1000, verbose=False):
        for _ in range(epochs):
            self.forward(X)
            gw, gb = self.backward(X, y)
            for i in range(len(self.weights)):
                self.vw[i] = self.momentum * self.vw[i] - self.lr * gw[i]
                self.vb[i] = self.momentum * self.vb[i] - self.lr * gb[i]
                self.weights[i] = self.weights[i] + self.vw[i]
                self.biases[i] = self.biases[i] + self.vb[i]
        return self
"""
network(
    "network-update-before-propagating",
    "order",
    NETWORK_FIT,
    """    def fit(self, X, y, epochs=1000, verbose=False):
        for _ in range(epochs):
            delta = (self.forward(X) - y.reshape(-1, 1)) / X.shape[0]
            for i in range(len(self.weights) - 1, -1, -1):
                gw = self.a[i].T @ delta
                gb = delta.sum(axis=0, keepdims=True)
                self.vw[i] = self.momentum * self.vw[i] - self.lr * gw
                self.vb[i] = self.momentum * self.vb[i] - self.lr * gb
                self.weights[i] = self.weights[i] + self.vw[i]
                self.biases[i] = self.biases[i] + self.vb[i]
                if i > 0:
                    delta = (delta @ self.weights[i].T) * (self.z[i - 1] > 0)
        return self
""",
)
MULTICLASS = """
class MultiClassNN:
    def __init__(self, layer_sizes, learning_rate=0.01, seed=None):
        rng = np.random.default_rng(seed)
        self.lr = learning_rate
        self.weights = [rng.normal(size=(a, b)) * np.sqrt(2 / a)
                        for a, b in zip(layer_sizes[:-1], layer_sizes[1:])]
        self.biases = [np.zeros((1, b)) for b in layer_sizes[1:]]

    def forward(self, X):
        self.a, self.z = [X], []
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = self.a[-1] @ W + b
            self.z.append(z)
            if i == len(self.weights) - 1:
                e = np.exp(z - z.max(axis=1, keepdims=True))
                self.a.append(e / e.sum(axis=1, keepdims=True))
            else:
                self.a.append(np.maximum(z, 0))
        return self.a[-1]

    def fit(self, X, y, epochs=1000, verbose=False):
        y = np.asarray(y).astype(int)
        Y = np.eye(self.weights[-1].shape[1])[y]
        for _ in range(epochs):
            delta = (self.forward(X) - Y) / len(X)
            for i in range(len(self.weights) - 1, -1, -1):
                dW = self.a[i].T @ delta
                db = delta.sum(axis=0, keepdims=True)
                if i > 0:
                    delta = (delta @ self.weights[i].T) * (self.z[i - 1] > 0)
                self.weights[i] = self.weights[i] - self.lr * dW
                self.biases[i] = self.biases[i] - self.lr * db
        return self

    def predict(self, X):
        return np.argmax(self.forward(X), axis=1)
"""


def multiclass(ident: str, code: str, old: str, new: str) -> None:
    assert old in MULTICLASS, old
    wrong(ident, "multiclass_nn", code, MULTICLASS.replace(old, new))


multiclass(
    "multiclass-update-before-propagating",
    "order",
    "                if i > 0:\n"
    "                    delta = (delta @ self.weights[i].T) * (self.z[i - 1] > 0)\n"
    "                self.weights[i] = self.weights[i] - self.lr * dW\n",
    "                self.weights[i] = self.weights[i] - self.lr * dW\n"
    "                if i > 0:\n"
    "                    delta = (delta @ self.weights[i].T) * (self.z[i - 1] > 0)\n",
)
multiclass(
    "multiclass-through-dl-dp",
    "unstable",
    "delta = (self.forward(X) - Y) / len(X)",
    "P = self.forward(X)\n"
    "            dP = -Y / P / len(X)\n"
    "            delta = P * (dP - np.sum(P * dP, axis=1, keepdims=True))",
)
multiclass(
    "multiclass-summed-not-mean",
    "scale",
    "delta = (self.forward(X) - Y) / len(X)",
    "delta = self.forward(X) - Y",
)
multiclass(
    "multiclass-naive-softmax",
    "unstable",
    "e = np.exp(z - z.max(axis=1, keepdims=True))",
    "e = np.exp(z)",
)
# --- right numbers, but the contract broken in a way NumPy hides -----------------------------
# x + eps - 2 eps + eps is not x in floating point: the probe leaves x changed in its last digits
wrong(
    "gradient-check-restored-by-stepping-back",
    "gradient_check",
    "mutates-input",
    """
def numerical_gradient(f, x, eps=1e-5):
    grad = np.empty_like(x)
    flat = x.reshape(-1)
    for i in range(flat.size):
        flat[i] += eps
        fp = f(x)
        flat[i] -= 2 * eps
        fm = f(x)
        flat[i] += eps
        grad.reshape(-1)[i] = (fp - fm) / (2 * eps)
    return grad

def gradient_check(f, x, analytic_grad, eps=1e-5):
    n = numerical_gradient(f, x, eps)
    return max(abs(a - b) / max(abs(a), abs(b), 1e-8)
               for a, b in zip(np.ravel(analytic_grad), n.ravel()))
""",
)
# np.power(beta1, t) is a NumPy float64 scalar: under NumPy 2 it upcasts the float32 arrays
wrong(
    "adam-numpy-scalar-upcasts-float32",
    "adam",
    "dtype",
    """
def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * np.square(grad)
    c1 = 1 - np.power(beta1, t)
    c2 = 1 - np.power(beta2, t)
    step = lr * m / c1 / (np.sqrt(v) / np.sqrt(c2) + eps)
    return w - step, m, v
""",
)
