"""What a learner types into the notebooks' exercise cells: (id, exercise, source, verdict).

``verdict`` is None for a right answer (it must pass with no diagnosis), else the set of
diagnosis codes the check must name: all of them and no other (a false name beside the right
one misleads). The right ones are written the ways the
notebooks' own prose suggests (loops, masks, ``@`` or ``einsum``); the wrong ones are the slips
learners make: a sign, a missing or extra 1/N, a transposed product, an off-by-one, a bias
gradient left out or not summed, an input changed in place.
"""

from __future__ import annotations

ANSWERS: list[tuple[str, str, str, frozenset[str] | None]] = []


def right(ident: str, exercise: str, source: str) -> None:
    ANSWERS.append((ident, exercise, "import numpy as np\n" + source, None))


def wrong(ident: str, exercise: str, codes: set[str], source: str) -> None:
    ANSWERS.append((ident, exercise, "import numpy as np\n" + source, frozenset(codes)))


# ---- chapter 1 -----------------------------------------------------------------------------
right(
    "mse-mean",
    "mse",
    "def mse(y_pred, y_true):\n    return float(np.mean((y_pred - y_true) ** 2))\n",
)
right(
    "mse-loop",
    "mse",
    """
def mse(y_pred, y_true):
    a, b = np.ravel(y_pred), np.ravel(y_true)
    total = 0.0
    for p, t in zip(a, b):
        total += (p - t) ** 2
    return total / len(a)
""",
)
wrong(
    "mse-sum",
    "mse",
    {"scale"},
    "def mse(y_pred, y_true):\n    return np.sum((y_pred - y_true) ** 2)\n",
)
wrong(
    "mse-n-minus-1",
    "mse",
    {"n-minus-1"},
    "def mse(y_pred, y_true):\n    e = np.ravel(y_pred - y_true)\n"
    "    return e @ e / (len(e) - 1)\n",
)

# ---- chapter 2 -----------------------------------------------------------------------------
LINEAR_INIT = """
class Linear:
    def __init__(self, in_dim, out_dim):
        limit = np.sqrt(6 / (in_dim + out_dim))
        self.W = np.random.default_rng(0).uniform(-limit, limit, size=(out_dim, in_dim))
        self.b = np.zeros(out_dim)

    def forward(self, x):
        self.x = x
        return x @ self.W.T + self.b
"""
right(
    "linear-matmul",
    "linear",
    LINEAR_INIT
    + """
    def backward(self, dout):
        self.dW = dout.T @ self.x
        self.db = dout.sum(axis=0)
        return dout @ self.W
""",
)
right(
    "linear-einsum",
    "linear",
    LINEAR_INIT
    + """
    def backward(self, dout):
        self.dW = np.einsum("bo,bi->oi", dout, self.x)
        self.db = np.einsum("bo->o", dout)
        return np.einsum("bo,oi->bi", dout, self.W)
""",
)
wrong(
    "linear-dW-transposed",
    "linear",
    {"transpose"},
    LINEAR_INIT
    + """
    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W
""",
)
wrong(
    "linear-db-not-summed",
    "linear",
    {"bias-not-summed", "bias-shape"},  # bias-shape: one sample's (1, out) row
    LINEAR_INIT
    + """
    def backward(self, dout):
        self.dW = dout.T @ self.x
        self.db = dout
        return dout @ self.W
""",
)
wrong(
    "linear-bias-gradient-forgotten",
    "linear",
    {"zeros"},
    LINEAR_INIT
    + """
    def backward(self, dout):
        self.dW = dout.T @ self.x
        self.db = np.zeros_like(self.b)
        return dout @ self.W
""",
)
wrong(
    "linear-mean-over-batch",
    "linear",
    {"scale"},
    LINEAR_INIT
    + """
    def backward(self, dout):
        n = dout.shape[0]
        self.dW = dout.T @ self.x / n
        self.db = dout.sum(axis=0) / n
        return dout @ self.W
""",
)

# ---- chapter 3 -----------------------------------------------------------------------------
right(
    "relu-backward-loop",
    "relu_backward",
    """
def relu_backward(dz, z):
    dx = np.empty_like(dz)
    for i in np.ndindex(z.shape):
        dx[i] = dz[i] if z[i] > 0 else 0
    return dx
""",
)
# a loop written for matrices only: the 1-D worked example must fail, and say where
wrong(
    "relu-backward-2d-loop",
    "relu_backward",
    set(),
    """
def relu_backward(dz, z):
    dx = np.empty_like(dz)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            dx[i, j] = dz[i, j] if z[i, j] > 0 else 0
    return dx
""",
)
right("relu-backward-mask", "relu_backward", "def relu_backward(dz, z):\n    return dz * (z > 0)\n")
wrong(
    "relu-backward-mask-only",
    "relu_backward",
    {"ignores-input"},  # dz never read: the checker now says so (was "scale"/"relu-kink")
    "def relu_backward(dz, z):\n    return (z > 0).astype(dz.dtype)\n",
)
wrong(
    "relu-backward-at-zero",
    "relu_backward",
    {"relu-kink"},
    "def relu_backward(dz, z):\n    return dz * (z >= 0)\n",
)
right("tanh-derivative", "tanh_derivative", "def tanh_derivative(a):\n    return 1 - a**2\n")
wrong(
    "tanh-derivative-of-z",
    "tanh_derivative",
    {"activation-derivative"},
    "def tanh_derivative(a):\n    return 1 - np.tanh(a) ** 2\n",
)

# ---- chapter 4 -----------------------------------------------------------------------------
FORWARD = """
def forward(X, params, activation="relu"):
    z1 = X @ params["W1"] + params["b1"]
    a1 = np.maximum(z1, 0) if activation == "relu" else np.tanh(z1)
    z2 = a1 @ params["W2"] + params["b2"]
    p = 0.5 * (1 + np.tanh(0.5 * z2))
    return {"z1": z1, "a1": a1, "z2": z2, "p": p}
"""
right("forward-tanh-sigmoid", "forward", FORWARD)
wrong(
    "forward-relu-on-the-logit",
    "forward",
    {"output-activation"},
    FORWARD.replace("p = 0.5", "z2 = np.maximum(z2, 0)\n    p = 0.5"),
)
wrong("forward-b2-forgotten", "forward", {"bias-forgotten"}, FORWARD.replace(' + params["b2"]', ""))
wrong(
    "forward-activation-ignored",
    "forward",
    {"activation-argument"},
    FORWARD.replace(' if activation == "relu" else np.tanh(z1)', ""),
)
right(
    "backward-chain-rule",
    "backward",
    """
def backward(X, y, params, cache, activation="relu"):
    n = X.shape[0]
    dz2 = (cache["p"] - y) / n
    da1 = dz2 @ params["W2"].T
    if activation == "relu":
        dz1 = da1 * (cache["z1"] > 0)
    else:
        dz1 = da1 * (1 - cache["a1"] ** 2)
    grads = {"W1": X.T @ dz1, "b1": dz1.sum(axis=0)}
    return grads | {"W2": cache["a1"].T @ dz2, "b2": dz2.sum(axis=0)}
""",
)
BACKWARD_WRONG = """
def backward(X, y, params, cache, activation="relu"):
    n = X.shape[0]
    dz2 = {dz2}
    da1 = dz2 @ params["W2"].T
    dz1 = da1 * ((cache["z1"] > 0) if activation == "relu" else (1 - cache["a1"] ** 2))
    return {{"W1": X.T @ dz1, "b1": {b1}, "W2": cache["a1"].T @ dz2, "b2": dz2.sum(axis=0)}}
"""
wrong(
    "backward-sign",
    "backward",
    {"sign"},
    BACKWARD_WRONG.format(dz2='(y - cache["p"]) / n', b1="dz1.sum(axis=0)"),
)
wrong(
    "backward-no-1-over-n",
    "backward",
    {"scale"},
    BACKWARD_WRONG.format(dz2='cache["p"] - y', b1="dz1.sum(axis=0)"),
)
wrong(
    "backward-b1-mean-not-sum",
    "backward",
    {"scale"},  # a mean over the batch: the right shape, 1/N of the sum
    BACKWARD_WRONG.format(dz2='(cache["p"] - y) / n', b1="dz1.mean(axis=0)"),
)
right(
    "gd-step-comprehension",
    "gd_step",
    "def gd_step(params, grads, lr):\n    return {k: params[k] - lr * grads[k] for k in params}\n",
)
wrong(
    "gd-step-aliasing",
    "gd_step",
    {"mutates-input"},
    """
def gd_step(params, grads, lr):
    new = dict(params)  # a new dict, but the same arrays inside
    for k in new:
        new[k] -= lr * grads[k]
    return new
""",
)
right(
    "gradient-check-copy",
    "gradient_check",
    """
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


def gradient_check(f, x, analytic_grad, eps=1e-5):
    n = numerical_gradient(f, x, eps)
    scale = np.maximum(np.maximum(np.abs(analytic_grad), np.abs(n)), 1e-8)
    return float(np.max(np.abs(analytic_grad - n) / scale))
""",
)
wrong(
    "numerical-gradient-one-sided",
    "gradient_check",
    {"scale"},
    """
def numerical_gradient(f, x, eps=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        down = f(x)
        x[i] = old
        grad[i] = (up - down) / eps
    return grad


def gradient_check(f, x, analytic_grad, eps=1e-5):
    n = numerical_gradient(f, x, eps)
    scale = np.maximum(np.maximum(np.abs(analytic_grad), np.abs(n)), 1e-8)
    return float(np.max(np.abs(analytic_grad - n) / scale))
""",
)
right(
    "sigmoid-derivative",
    "sigmoid_derivative",
    "def sigmoid_derivative(a):\n    return a * (1 - a)\n",
)
wrong(
    "sigmoid-derivative-of-z",  # the output taken for the input: sigmoid applied once more
    "sigmoid_derivative",
    {"activation-derivative"},
    "def sigmoid_derivative(a):\n    s = 1 / (1 + np.exp(-a))\n    return s * (1 - s)\n",
)
wrong(
    "sigmoid-derivative-flipped",
    "sigmoid_derivative",
    {"sign"},
    "def sigmoid_derivative(a):\n    return a * (a - 1)\n",
)
BACKPROP = """
def backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2):
    a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
    A = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
    dz2 = {dz2}
    dz1 = (dz2 @ W2.T) * a1 * (1 - a1)
    return {{"dW1": {dW1}, "db1": dz1.sum(axis=0, keepdims=True),
            "dW2": a1.T @ dz2, "db2": {db2}}}
"""
right(
    "backprop-summed",
    "backprop",
    BACKPROP.format(dz2="A - Y", dW1="X.T @ dz1", db2="dz2.sum(axis=0, keepdims=True)"),
)
wrong(
    "backprop-mean-not-sum",
    "backprop",
    {"scale"},
    BACKPROP.format(dz2="(A - Y) / len(X)", dW1="X.T @ dz1", db2="dz2.sum(axis=0, keepdims=True)"),
)
wrong(
    "backprop-dW1-transposed",
    "backprop",
    {"transpose"},
    BACKPROP.format(dz2="A - Y", dW1="dz1.T @ X", db2="dz2.sum(axis=0, keepdims=True)"),
)
wrong(
    "backprop-db2-flat",
    "backprop",
    {"bias-shape"},
    BACKPROP.format(dz2="A - Y", dW1="X.T @ dz1", db2="dz2.sum(axis=0)"),
)

# ---- chapter 5 -----------------------------------------------------------------------------
right(
    "momentum-step",
    "sgd_momentum",
    """
def sgd_momentum_step(w, grad, velocity, lr, momentum):
    velocity = momentum * velocity - lr * grad
    return w + velocity, velocity
""",
)
wrong(
    "momentum-step-sign",
    "sgd_momentum",
    {"sign", "momentum-convention"},
    """
def sgd_momentum_step(w, grad, velocity, lr, momentum):
    velocity = momentum * velocity + lr * grad
    return w + velocity, velocity
""",
)
ADAM = """
def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat = m / (1 - beta1**{tm})
    v_hat = v / (1 - beta2**{tv})
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
"""
right("adam-corrected", "adam", ADAM.format(tm="t", tv="t"))
wrong("adam-off-by-one-step", "adam", {"adam-step-count"}, ADAM.format(tm="(t + 1)", tv="(t + 1)"))
wrong(
    "adam-no-bias-correction",
    "adam",
    {"adam-bias-correction"},
    """
def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return w - lr * m / (np.sqrt(v) + eps), m, v
""",
)

# ---- chapter 6 -----------------------------------------------------------------------------
right(
    "l2-half",
    "l2_penalty",
    "def l2_penalty(w, lam):\n    return float(lam / 2 * np.sum(w * w))\n\n\n"
    "def l2_penalty_grad(w, lam):\n    return lam * w\n",
)
wrong(
    "l2-grad-sign",
    "l2_penalty",
    {"sign"},
    "def l2_penalty(w, lam):\n    return float(lam / 2 * np.sum(w * w))\n\n\n"
    "def l2_penalty_grad(w, lam):\n    return -lam * w\n",
)

# ---- chapter 7 -----------------------------------------------------------------------------
right(
    "one-hot-index",
    "one_hot",
    """
def one_hot(y, n_classes):
    out = np.zeros((len(y), n_classes))
    out[np.arange(len(y)), y] = 1
    return out
""",
)
right("one-hot-eye", "one_hot", "def one_hot(y, n_classes):\n    return np.eye(n_classes)[y]\n")
wrong(
    "one-hot-transposed",
    "one_hot",
    {"transpose"},
    "def one_hot(y, n_classes):\n    return np.eye(n_classes)[y].T\n",
)
right(
    "count-parameters-loop",
    "count_parameters",
    """
def count_parameters(layer_sizes):
    total = 0
    for i in range(len(layer_sizes) - 1):
        total += layer_sizes[i] * layer_sizes[i + 1] + layer_sizes[i + 1]
    return total
""",
)
wrong(
    "count-parameters-no-biases",
    "count_parameters",
    {"bias-forgotten"},
    """
def count_parameters(layer_sizes):
    return sum(a * b for a, b in zip(layer_sizes, layer_sizes[1:]))
""",
)
wrong(
    "count-parameters-off-by-one",
    "count_parameters",
    {"off-by-one"},
    """
def count_parameters(layer_sizes):
    total = 0
    for i in range(len(layer_sizes) - 2):
        total += layer_sizes[i] * layer_sizes[i + 1] + layer_sizes[i + 1]
    return total
""",
)

# ---- chapter 8 -----------------------------------------------------------------------------
right(
    "softmax-shifted",
    "softmax",
    """
def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
""",
)
wrong(
    "softmax-over-columns",
    "softmax",
    {"axis"},
    """
def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
""",
)
SCE = """
def softmax_cross_entropy(z, y):
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def softmax_cross_entropy_grad(z, y):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    g = e / e.sum(axis=1, keepdims=True)
    g[np.arange(len(y)), y] -= 1
    return g{divide}
"""
right("sce-log-sum-exp", "softmax_cross_entropy", SCE.format(divide=" / len(y)"))
wrong("sce-grad-no-1-over-n", "softmax_cross_entropy", {"scale"}, SCE.format(divide=""))

# ---- chapter 11 ----------------------------------------------------------------------------
right(
    "sigmoid-two-branches",
    "sigmoid",
    "def sigmoid(z):\n    return np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), "
    "np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))\n",
)
BCE = """
def bce_with_logits(z, y):
    return float(np.mean(np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))))


def bce_with_logits_grad(z, y):
    return (0.5 * (1 + np.tanh(0.5 * z)) - y){divide}
"""
right("bce-softplus", "bce_with_logits", BCE.format(divide=" / len(z)"))
wrong("bce-grad-no-1-over-n", "bce_with_logits", {"scale"}, BCE.format(divide=""))

# ---- the whole-network classes (chapters 5 and 7) ------------------------------------------
NETWORK = """
class {name}:
    def __init__(self, layer_sizes, learning_rate=0.01, {momentum}seed=None):
        self.lr, self.momentum = learning_rate, {momentum_value}
        rng = np.random.default_rng(seed)
        self.weights, self.biases, self.vw, self.vb = [], [], [], []
        for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
            W = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
            self.weights.append(W)
            self.biases.append(np.zeros((1, n_out)))
            self.vw.append(np.zeros_like(W))
            self.vb.append(np.zeros((1, n_out)))

    def forward(self, X):
        self.acts, self.zs = [X], []
        a = X
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            z = a @ W + b
            self.zs.append(z)
            a = np.maximum(z, 0) if i < len(self.weights) - 1 else self._output(z)
            self.acts.append(a)
        return a

    def _output(self, z):
        {output}

    def _delta(self, y):
        {delta}

    def backward(self, X, y):
        n = X.shape[0]
        delta = self._delta(y)
        gw, gb = [], []
        for i in range(len(self.weights) - 1, -1, -1):
            gw.insert(0, self.acts[i].T @ delta{divide})
            gb.insert(0, delta.sum(axis=0, keepdims=True){divide})
            if i > 0:
                delta = (delta @ self.weights[i].T) * (self.zs[i - 1] > 0)
        return gw, gb

    def fit(self, X, y, epochs=1000, verbose=False):
        for _ in range(epochs):
            self.forward(X)
            gw, gb = self.backward(X, y)
            for i in range(len(self.weights)):
                self.vw[i] = self.momentum * self.vw[i] - self.lr * gw[i]
                self.vb[i] = self.momentum * self.vb[i] - self.lr * gb[i]
                self.weights[i] += self.vw[i]
                {bias_update}
        return self

    def predict(self, X, threshold=0.5):
        {predict}
"""
BINARY = {
    "name": "NeuralNetwork",
    "momentum": "momentum=0.0, ",
    "momentum_value": "momentum",
    "output": "return 0.5 * (1 + np.tanh(0.5 * z))",
    "delta": "return self.acts[-1] - y.reshape(-1, 1)",
    "predict": "return (self.forward(X) >= threshold).astype(int).ravel()",
}
MULTI = {
    "name": "MultiClassNN",
    "momentum": "",
    "momentum_value": "0.0",
    "output": "e = np.exp(z - z.max(axis=1, keepdims=True))\n"
    "        return e / e.sum(axis=1, keepdims=True)",
    "delta": "Y = np.eye(self.acts[-1].shape[1])[np.asarray(y, dtype=int)]\n"
    "        return self.acts[-1] - Y",
    "predict": "return self.forward(X).argmax(axis=1)",
}
RIGHT = {"divide": " / n", "bias_update": "self.biases[i] += self.vb[i]"}
right("network-class", "neural_network", NETWORK.format(**BINARY, **RIGHT))
wrong(
    "network-class-no-1-over-n",
    "neural_network",
    {"scale"},
    NETWORK.format(**BINARY, **(RIGHT | {"divide": ""})),
)
wrong(
    "network-class-biases-never-updated",
    "neural_network",
    set(),  # the message shows the biases expected vs got after the fit
    NETWORK.format(**BINARY, **(RIGHT | {"bias_update": "pass"})),
)
right("multiclass-class", "multiclass_nn", NETWORK.format(**MULTI, **RIGHT))
# the contract has no backward: the check compares one epoch's step (-lr times the gradient),
# where a missing 1/N is a factor N
wrong(
    "multiclass-class-no-1-over-n",
    "multiclass_nn",
    {"scale"},
    NETWORK.format(**MULTI, **(RIGHT | {"divide": ""})),
)

# ---- the activations themselves (chapters 3 and 11) ------------------------------------------
right("relu-maximum", "relu", "def relu(z):\n    return np.maximum(z, 0)\n")
wrong(
    "relu-in-place",
    "relu",
    {"mutates-input"},
    "def relu(z):\n    z[z < 0] = 0\n    return z\n",
)
right("tanh-numpy", "tanh", "def tanh(z):\n    return np.tanh(z)\n")
right(
    "tanh-from-exp-of-minus-2-abs",
    "tanh",
    "def tanh(z):\n    e = np.exp(-2 * np.abs(z))\n    return np.sign(z) * (1 - e) / (1 + e)\n",
)
wrong(
    "tanh-textbook-formula",
    "tanh",
    {"unstable"},
    "def tanh(z):\n    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))\n",
)
# right, though NumPy warns: exp(800) overflows to inf and 1 / (1 + inf) is exactly the limit 0
right("sigmoid-textbook-formula", "sigmoid", "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n")
# wrong: exp(800) / (1 + exp(800)) is inf / inf = NaN
wrong(
    "sigmoid-ratio-overflows",
    "sigmoid",
    {"unstable"},
    "def sigmoid(z):\n    e = np.exp(z)\n    return e / (1 + e)\n",
)

# ---- chapter 9: the confusion matrix ----------------------------------------------------------
right(
    "confusion-loop",
    "confusion_matrix",
    """
def confusion_matrix(y_true, y_pred, n_classes):
    counts = np.zeros((n_classes, n_classes), dtype=int)
    for t, p in zip(y_true, y_pred):
        counts[t, p] += 1
    return counts
""",
)
right(
    "confusion-add-at",
    "confusion_matrix",
    """
def confusion_matrix(y_true, y_pred, n_classes):
    counts = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts
""",
)
right(
    "confusion-bincount",
    "confusion_matrix",
    """
def confusion_matrix(y_true, y_pred, n_classes):
    flat = np.bincount(n_classes * y_true + y_pred, minlength=n_classes**2)
    return flat.reshape(n_classes, n_classes)
""",
)
wrong(
    "confusion-fancy-increment",
    "confusion_matrix",
    {"repeated-index"},
    """
def confusion_matrix(y_true, y_pred, n_classes):
    counts = np.zeros((n_classes, n_classes), dtype=int)
    counts[y_true, y_pred] += 1
    return counts
""",
)
wrong(
    "confusion-rows-are-predictions",
    "confusion_matrix",
    {"transpose"},
    """
def confusion_matrix(y_true, y_pred, n_classes):
    counts = np.zeros((n_classes, n_classes), dtype=int)
    for t, p in zip(y_true, y_pred):
        counts[p, t] += 1
    return counts
""",
)
wrong(
    "confusion-size-from-the-labels",
    "confusion_matrix",
    {"labels-seen", "shape"},
    """
def confusion_matrix(y_true, y_pred, n_classes):
    k = max(y_true.max(), y_pred.max()) + 1
    counts = np.zeros((k, k), dtype=int)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts
""",
)
wrong(
    "confusion-rates",
    "confusion_matrix",
    {"normalized"},
    """
def confusion_matrix(y_true, y_pred, n_classes):
    counts = np.zeros((n_classes, n_classes))
    np.add.at(counts, (y_true, y_pred), 1)
    return counts / counts.sum(axis=1, keepdims=True)
""",
)

# ---- chapter 10: MSE + lam ||W||^2 as Keras counts it -----------------------------------------
RIDGE = """
def ridge_loss(W, b, X, y, lam):
    r = X @ W + b - y
    return float(np.mean(r**2) + lam * np.sum(W**2))


def ridge_loss_grad(W, b, X, y, lam):
    r = X @ W + b - y
    n = len(X)
    return 2 * X.T @ r / n + 2 * lam * W, 2 * r.sum(axis=0) / n
"""
right("ridge-residual", "ridge_loss", RIDGE)
right(
    "ridge-einsum",
    "ridge_loss",
    """
def ridge_loss(W, b, X, y, lam):
    r = (X @ W + b - y).ravel()
    return r @ r / len(r) + lam * np.einsum("ij,ij->", W, W)


def ridge_loss_grad(W, b, X, y, lam):
    r = X @ W + b - y
    dW = 2 * np.einsum("nd,nk->dk", X, r) / len(X) + 2 * lam * W
    return dW, np.array([2 * r.mean()])
""",
)
wrong(
    "ridge-half-convention",
    "ridge_loss",
    {"l2-convention"},
    RIDGE.replace("lam * np.sum(W**2)", "lam / 2 * np.sum(W**2)").replace("2 * lam * W", "lam * W"),
)
wrong(
    "ridge-bias-in-the-penalty",
    "ridge_loss",
    {"bias-penalized"},
    RIDGE.replace("lam * np.sum(W**2)", "lam * (np.sum(W**2) + np.sum(b**2))").replace(
        "2 * r.sum(axis=0) / n", "2 * r.sum(axis=0) / n + 2 * lam * b"
    ),
)
wrong(
    "ridge-square-derivative-without-2",
    "ridge_loss",
    {"mse-half"},
    RIDGE.replace("2 * X.T @ r / n", "X.T @ r / n").replace(
        "2 * r.sum(axis=0) / n", "r.sum(axis=0) / n"
    ),
)
