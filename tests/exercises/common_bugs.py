"""The common bugs a learner makes, for every exercise, each with the name it must get.

Each entry is a right answer (``BASES``) with one slip typed in: a flipped sign, a missing
1/N, N - 1 for N, a transposed product, an off-by-one, a forgotten bias gradient, an array
written in place, a sum or softmax over the wrong axis, a lost ``keepdims``, an integer
division, float64 where float32 is asked, a forgotten ``return``. ``expected`` are the codes
the check must name; ``also`` codes that are true beside them (a slip can show two ways).
``classify`` sorts a result into: right (every expected code, nothing else), wrong (a code
that is not true), unnamed (failed, no code) or missed (passed).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

# the classes' and the checker's right answers are mutants.py's bases
_spec = importlib.util.spec_from_file_location("_mutants", Path(__file__).with_name("mutants.py"))
_mutants = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mutants)

BUGS: list[tuple[str, str, frozenset[str], frozenset[str], str]] = []

BASES: dict[str, tuple[str, str]] = {
    "relu": ("relu", "def relu(z):\n    return np.maximum(z, 0)\n"),
    "relu_backward": ("relu_backward", "def relu_backward(dz, z):\n    return dz * (z > 0)\n"),
    "one_hot": (
        "one_hot",
        "def one_hot(y, n_classes):\n    out = np.zeros((len(y), n_classes))\n"
        "    out[np.arange(len(y)), y] = 1\n    return out\n",
    ),
    "softmax": (
        "softmax",
        "def softmax(z):\n    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
        "    return e / e.sum(axis=1, keepdims=True)\n",
    ),
    "sigmoid": (
        "sigmoid",
        "def sigmoid(z):\n    e = np.exp(-np.abs(z))\n"
        "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n",
    ),
    "sigmoid_derivative": (
        "sigmoid_derivative",
        "def sigmoid_derivative(a):\n    return a * (1 - a)\n",
    ),
    "tanh_derivative": ("tanh_derivative", "def tanh_derivative(a):\n    return 1 - a ** 2\n"),
    "mse": ("mse", "def mse(y_pred, y_true):\n    return np.mean((y_pred - y_true) ** 2)\n"),
    "l2": (
        "l2_penalty",
        "def l2_penalty(w, lam):\n    return lam / 2 * np.sum(w ** 2)\n\n"
        "def l2_penalty_grad(w, lam):\n    return lam * w\n",
    ),
    "bce": (
        "bce_with_logits",
        "def bce_with_logits(z, y):\n    return np.mean(np.logaddexp(0, z) - y * z)\n\n"
        "def bce_with_logits_grad(z, y):\n    p = 0.5 * (1 + np.tanh(0.5 * z))\n"
        "    return (p - y) / len(z)\n",
    ),
    "sce": (
        "softmax_cross_entropy",
        "def _log_softmax(z):\n    m = z.max(axis=1, keepdims=True)\n"
        "    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))\n\n"
        "def softmax_cross_entropy(z, y):\n"
        "    return -np.mean(_log_softmax(z)[np.arange(len(y)), y])\n\n"
        "def softmax_cross_entropy_grad(z, y):\n    p = np.exp(_log_softmax(z))\n"
        "    p[np.arange(len(y)), y] -= 1\n    return p / len(y)\n",
    ),
    "count": (
        "count_parameters",
        "def count_parameters(layer_sizes):\n"
        "    return sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))\n",
    ),
    "backward": (
        "backward",
        """
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
""",
    ),
    "gd_step": (
        "gd_step",
        "def gd_step(params, grads, lr):\n"
        "    return {k: params[k] - lr * grads[k] for k in params}\n",
    ),
    "backprop": (
        "backprop",
        """
def backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2):
    a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
    A = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
    dz2 = A - Y
    dz1 = (dz2 @ W2.T) * a1 * (1 - a1)
    return {"dW1": X.T @ dz1, "db1": dz1.sum(axis=0, keepdims=True),
            "dW2": a1.T @ dz2, "db2": dz2.sum(axis=0, keepdims=True)}
""",
    ),
    "linear": (
        "linear",
        """
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
""",
    ),
    "momentum": (
        "sgd_momentum",
        "def sgd_momentum_step(w, grad, velocity, lr, momentum):\n"
        "    v = momentum * velocity - lr * grad\n    return w + v, v\n",
    ),
    "adam": (
        "adam",
        """
def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
""",
    ),
    "network": ("neural_network", _mutants.NETWORK),
    "multiclass": ("multiclass_nn", _mutants.MULTICLASS),
    "gradient_check": (
        "gradient_check",
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
        g[i] = (up - down) / (2 * eps)
    return g
"""
        + _mutants.GC_CHECK,
    ),
}


def bug(ident, base, expected, old, new, also=()):
    """``base``'s right answer with ``old`` replaced by ``new`` (or each of a tuple of olds
    by its new)."""
    exercise, source = BASES[base]
    olds, news = (old, new) if isinstance(old, tuple) else ((old,), (new,))
    for a, b in zip(olds, news):
        assert a in source, (ident, a)
        source = source.replace(a, b, 1)
    BUGS.append(
        (
            ident,
            exercise,
            frozenset(expected),
            frozenset(also),
            "import numpy as np\n" + source,
        )
    )


def classify(result, expected: frozenset[str], also: frozenset[str]) -> str:
    """'right', 'wrong', 'unnamed' or 'missed' for a check's result on a bug."""
    if result.passed:
        return "missed"
    named = set(result.diagnoses)
    if not named:
        return "unnamed"
    return "right" if expected <= named and named <= expected | also else "wrong"


# --- activations -------------------------------------------------------------------------------
bug(
    "relu-in-place",
    "relu",
    {"mutates-input"},
    "return np.maximum(z, 0)",
    "z[z < 0] = 0\n    return z",
)
bug("relu-float64", "relu", {"dtype"}, "np.maximum(z, 0)", "np.maximum(z, 0.0).astype(float)")
bug("relu-no-return", "relu", {"missing-return"}, "return np.maximum(z, 0)", "np.maximum(z, 0)")
bug("relu-integer", "relu", {"dtype"}, "np.maximum(z, 0)", "np.maximum(z, 0).astype(int)")
bug("relu-backward-ge", "relu_backward", {"relu-kink"}, "(z > 0)", "(z >= 0)")
bug("relu-backward-sign", "relu_backward", {"sign"}, "return dz", "return -dz")
bug(
    "relu-backward-in-place",
    "relu_backward",
    {"mutates-input"},
    "return dz * (z > 0)",
    "dz[z <= 0] = 0\n    return dz",
)
bug("relu-backward-float64", "relu_backward", {"dtype"}, "(z > 0)", "(z > 0).astype(float)")
bug(
    "relu-backward-no-return",
    "relu_backward",
    {"missing-return"},
    "return dz * (z > 0)",
    "dz * (z > 0)",
)
bug("one-hot-transposed", "one_hot", {"transpose"}, "return out", "return out.T")
bug("one-hot-classes-seen", "one_hot", {"shape"}, "n_classes))", "y.max() + 1))")
bug("one-hot-no-return", "one_hot", {"missing-return"}, "    return out\n", "")
bug(
    "softmax-naive",
    "softmax",
    {"unstable"},
    "np.exp(z - z.max(axis=1, keepdims=True))",
    "np.exp(z)",
)
bug(
    "softmax-over-columns",
    "softmax",
    {"axis"},
    "e = np.exp(z - z.max(axis=1, keepdims=True))\n    return e / e.sum(axis=1, keepdims=True)",
    "e = np.exp(z - z.max(axis=0, keepdims=True))\n    return e / e.sum(axis=0, keepdims=True)",
)
bug(
    "softmax-no-keepdims",
    "softmax",
    {"keepdims"},
    "e / e.sum(axis=1, keepdims=True)",
    "e / e.sum(axis=1)",
)
bug("softmax-float64", "softmax", {"dtype"}, "e = np.exp(", "e = np.exp(np.float64(1) * ")
# (the textbook 1 / (1 + exp(-z)) is no bug by its numbers: exp(800) = inf gives 0, a warning)
bug(
    "sigmoid-float64",
    "sigmoid",
    {"dtype"},
    "e = np.exp(-np.abs(z))",
    "z = z.astype(np.float64)\n    e = np.exp(-np.abs(z))",
)
bug(
    "sigmoid-derivative-of-z",
    "sigmoid_derivative",
    {"activation-derivative"},
    "return a * (1 - a)",
    "s = 1 / (1 + np.exp(-a))\n    return s * (1 - s)",
)
bug(
    "tanh-derivative-of-z",
    "tanh_derivative",
    {"activation-derivative"},
    "1 - a ** 2",
    "1 - np.tanh(a) ** 2",
)
bug(
    "tanh-derivative-no-return",
    "tanh_derivative",
    {"missing-return"},
    "return 1 - a ** 2",
    "d = 1 - a ** 2",
)
# --- losses --------------------------------------------------------------------------------------
bug(
    "mse-sum", "mse", {"scale"}, "np.mean((y_pred - y_true) ** 2)", "np.sum((y_pred - y_true) ** 2)"
)
bug("mse-half", "mse", {"scale"}, "np.mean(", "0.5 * np.mean(")
bug(
    "mse-n-minus-1",
    "mse",
    {"n-minus-1"},
    "np.mean((y_pred - y_true) ** 2)",
    "np.sum((y_pred - y_true) ** 2) / (y_pred.size - 1)",
)
bug("mse-per-column", "mse", {"shape"}, "** 2)", "** 2, axis=0)")
bug("mse-no-return", "mse", {"missing-return"}, "return np.mean", "loss = np.mean")
bug("l2-no-half", "l2", {"scale"}, "lam / 2 * np.sum", "lam * np.sum")
bug("l2-grad-doubled", "l2", {"scale"}, "return lam * w", "return 2 * lam * w")
bug("l2-grad-sign", "l2", {"sign"}, "return lam * w", "return -lam * w")
bug("l2-grad-in-place", "l2", {"mutates-input"}, "return lam * w", "w *= lam\n    return w")
bug("l2-grad-float64", "l2", {"dtype"}, "return lam * w", "return np.float64(lam) * w")
bug("l2-grad-no-return", "l2", {"missing-return"}, "return lam * w", "g = lam * w")
bug(
    "bce-naive",
    "bce",
    {"unstable"},
    "np.logaddexp(0, z) - y * z",
    "-(y * np.log(1 / (1 + np.exp(-z))) + (1 - y) * np.log(1 - 1 / (1 + np.exp(-z))))",
)
bug("bce-grad-summed", "bce", {"scale"}, "(p - y) / len(z)", "(p - y)")
bug("bce-grad-n-minus-1", "bce", {"n-minus-1"}, "(p - y) / len(z)", "(p - y) / (len(z) - 1)")
bug("bce-grad-sign", "bce", {"sign"}, "(p - y) / len(z)", "(y - p) / len(z)")
bug("bce-grad-flat", "bce", {"shape"}, "(p - y) / len(z)", "((p - y) / len(z)).ravel()")
bug(
    "bce-grad-integer-division",
    "bce",
    {"zeros"},
    "(p - y) / len(z)",
    "(p - y) * (1 // len(z))",
    also={"scale"},
)
bug(
    "sce-naive",
    "sce",
    {"unstable"},
    "m = z.max(axis=1, keepdims=True)\n    return z - m - np.log(np.exp(z - m)",
    "m = 0\n    return z - m - np.log(np.exp(z - m)",
)
bug("sce-grad-summed", "sce", {"scale"}, "return p / len(y)", "return p")
bug(
    "sce-grad-sign",
    "sce",
    {"sign"},
    "p[np.arange(len(y)), y] -= 1\n    return p / len(y)",
    "p[np.arange(len(y)), y] -= 1\n    return -p / len(y)",
)
bug(
    "sce-softmax-over-columns",
    "sce",
    {"axis"},
    "m = z.max(axis=1, keepdims=True)\n    return z - m - np.log(np.exp(z - m).sum(axis=1,",
    "m = z.max(axis=0, keepdims=True)\n    return z - m - np.log(np.exp(z - m).sum(axis=0,",
)
bug(
    "sce-no-keepdims",
    "sce",
    {"keepdims"},
    "np.exp(z - m).sum(axis=1, keepdims=True)",
    "np.exp(z - m).sum(axis=1)",
)
bug("count-no-biases", "count", {"bias-forgotten"}, "a * b + b", "a * b")
bug(
    "count-one-layer-short",
    "count",
    {"off-by-one"},
    "zip(layer_sizes[:-1], layer_sizes[1:])",
    "zip(layer_sizes[:-2], layer_sizes[1:-1])",
    also={"zeros"},
)  # [3, 1] counts 0
# --- the binary classifier ------------------------------------------------------------------------
bug("backward-summed", "backward", {"scale"}, "/ N", "/ 1")
bug("backward-n-minus-1", "backward", {"n-minus-1"}, "/ N", "/ (N - 1)")
bug("backward-sign", "backward", {"sign"}, '(cache["p"] - y)', '(y - cache["p"])')
bug("backward-transposed", "backward", {"transpose"}, '"W1": X.T @ dz1', '"W1": dz1.T @ X')
bug(
    "backward-bias-keepdims",
    "backward",
    {"bias-shape"},
    '"b1": dz1.sum(axis=0)',
    '"b1": dz1.sum(axis=0, keepdims=True)',
)
bug(
    "backward-bias-not-summed",
    "backward",
    {"bias-not-summed"},
    '"b1": dz1.sum(axis=0)',
    '"b1": dz1',
    also={"bias-shape"},
)  # on one sample (1, H) holds the right numbers
bug("backward-bias-forgotten", "backward", {"zeros"}, '"b2": dz2.sum(axis=0)', '"b2": np.zeros(1)')
bug(
    "backward-bias-wrong-axis",
    "backward",
    {"shape"},
    '"b1": dz1.sum(axis=0)',
    '"b1": dz1.sum(axis=1)',
    also={"shape"},
)
bug("backward-relu-ge", "backward", {"relu-kink"}, '(cache["z1"] > 0)', '(cache["z1"] >= 0)')
bug(
    "backward-tanh-of-z",
    "backward",
    {"activation-derivative"},
    'cache["a1"] ** 2',
    'cache["z1"] ** 2',
)
bug(
    "backward-order",
    "backward",
    {"order"},
    '"W2": cache["a1"].T @ dz2',
    '"W2": cache["a1"].T @ dz1',
    also={"shape"},
)  # (H, H) where (H, 1) is asked
bug(
    "backward-integer-division",
    "backward",
    {"zeros"},
    'dz2 = (cache["p"] - y) / N',
    'dz2 = (cache["p"] - y) * (1 // N)',
    also={"scale"},
)
bug(
    "gd-step-in-place",
    "gd_step",
    {"mutates-input"},
    "return {k: params[k] - lr * grads[k] for k in params}",
    "for k in params:\n        params[k] -= lr * grads[k]\n    return params",
)
bug(
    "gd-step-shallow-copy",
    "gd_step",
    {"mutates-input"},
    "return {k: params[k] - lr * grads[k] for k in params}",
    "new = dict(params)\n    for k in new:\n        new[k] -= lr * grads[k]\n    return new",
)
bug("gd-step-ascent", "gd_step", {"sign"}, "- lr", "+ lr")
bug("gd-step-no-return", "gd_step", {"missing-return"}, "return {", "new = {")
bug("backprop-mean", "backprop", {"scale"}, "dz2 = A - Y", "dz2 = (A - Y) / X.shape[0]")
bug("backprop-sign", "backprop", {"sign"}, "dz2 = A - Y", "dz2 = Y - A")
bug("backprop-transposed", "backprop", {"transpose"}, '"dW1": X.T @ dz1', '"dW1": dz1.T @ X')
bug(
    "backprop-no-keepdims",
    "backprop",
    {"bias-shape"},
    '"db1": dz1.sum(axis=0, keepdims=True)',
    '"db1": dz1.sum(axis=0)',
)
bug(
    "backprop-bias-not-summed",
    "backprop",
    {"bias-not-summed"},
    '"db1": dz1.sum(axis=0, keepdims=True)',
    '"db1": dz1',
)
bug(
    "backprop-sigmoid-of-a",
    "backprop",
    {"activation-derivative"},
    "* a1 * (1 - a1)",
    "* (1 / (1 + np.exp(-a1))) * (1 - 1 / (1 + np.exp(-a1)))",
)
# --- Linear, optimizers ---------------------------------------------------------------------------
bug(
    "linear-dw-transposed",
    "linear",
    {"transpose"},
    "self.dW = dout.T @ self.x",
    "self.dW = self.x.T @ dout",
)
bug(
    "linear-db-forgotten",
    "linear",
    {"zeros"},
    "self.db = dout.sum(axis=0)",
    "self.db = np.zeros_like(self.b)",
)
bug(
    "linear-db-mean",
    "linear",
    {"scale"},
    "self.db = dout.sum(axis=0)",
    "self.db = dout.mean(axis=0)",
)
bug(
    "linear-dw-mean",
    "linear",
    {"scale"},
    "self.dW = dout.T @ self.x",
    "self.dW = dout.T @ self.x / len(dout)",
)
# v = mu v + lr g is the other convention's velocity, then added with the wrong sign: both true
bug(
    "momentum-sign",
    "momentum",
    {"sign"},
    "- lr * grad",
    "+ lr * grad",
    also={"momentum-convention"},
)
bug(
    "momentum-pytorch",
    "momentum",
    {"momentum-convention"},
    "v = momentum * velocity - lr * grad\n    return w + v, v",
    "v = momentum * velocity + grad\n    return w - lr * v, v",
)
bug(
    "momentum-in-place",
    "momentum",
    {"mutates-input"},
    "v = momentum * velocity - lr * grad\n    return w + v, v",
    "velocity *= momentum\n    velocity -= lr * grad\n    w += velocity\n    return w, velocity",
)
bug("adam-no-correction", "adam", {"adam-bias-correction"}, "m / (1 - beta1 ** t)", "m", also=())
bug(
    "adam-t-plus-1",
    "adam",
    {"adam-step-count"},
    "m / (1 - beta1 ** t)\n    v_hat = v / (1 - beta2 ** t)",
    "m / (1 - beta1 ** (t + 1))\n    v_hat = v / (1 - beta2 ** (t + 1))",
)
bug("adam-returns-hat", "adam", {"adam-returns-corrected"}, "eps), m, v", "eps), m_hat, v_hat")
bug("adam-eps-inside", "adam", {"adam-epsilon"}, "(np.sqrt(v_hat) + eps)", "np.sqrt(v_hat + eps)")
bug("adam-float64", "adam", {"dtype"}, "beta1 ** t", "np.power(beta1, t)")
bug("adam-sign", "adam", {"sign"}, "return w - lr", "return w + lr")
bug("gradient-check-over-eps", "gradient_check", {"scale"}, "/ (2 * eps)", "/ eps")
bug(
    "gradient-check-not-restored",
    "gradient_check",
    {"mutates-input"},
    ("    x = x.copy()\n", "        down = f(x)\n        x[i] = old\n"),
    ("", "        down = f(x)\n"),
)
# --- the classes ---------------------------------------------------------------------------
bug("network-backward-summed", "network", {"scale"}, "/ n\n", "\n")
bug(
    "network-backward-sign",
    "network",
    {"sign"},
    "delta = (self.a[-1] - y.reshape(-1, 1)) / n",
    "delta = (y.reshape(-1, 1) - self.a[-1]) / n",
)
# the fit case then holds (N, n_out) biases: a wrong shape too
bug(
    "network-bias-not-summed",
    "network",
    {"bias-not-summed"},
    "gb.insert(0, delta.sum(axis=0, keepdims=True))",
    "gb.insert(0, delta)",
    also={"shape"},
)
bug(
    "network-bias-no-keepdims",
    "network",
    {"bias-shape"},
    "gb.insert(0, delta.sum(axis=0, keepdims=True))",
    "gb.insert(0, delta.sum(axis=0))",
)
bug(
    "network-dw-transposed",
    "network",
    {"transpose"},
    "gw.insert(0, self.a[i].T @ delta)",
    "gw.insert(0, (delta.T @ self.a[i]).T.T)",
)
bug(
    "multiclass-summed",
    "multiclass",
    {"scale"},
    "delta = (self.forward(X) - Y) / len(X)",
    "delta = self.forward(X) - Y",
)
bug(
    "multiclass-n-minus-1",
    "multiclass",
    {"n-minus-1"},
    "delta = (self.forward(X) - Y) / len(X)",
    "delta = (self.forward(X) - Y) / (len(X) - 1)",
)
bug(
    "multiclass-ascent",
    "multiclass",
    {"sign"},
    "self.weights[i] - self.lr * dW",
    "self.weights[i] + self.lr * dW",
)
bug(
    "multiclass-softmax-over-columns",
    "multiclass",
    {"axis"},
    "e = np.exp(z - z.max(axis=1, keepdims=True))\n"
    "                self.a.append(e / e.sum(axis=1, keepdims=True))",
    "e = np.exp(z - z.max(axis=0, keepdims=True))\n"
    "                self.a.append(e / e.sum(axis=0, keepdims=True))",
)
bug(
    "multiclass-bias-not-summed",
    "multiclass",
    {"bias-not-summed"},
    "db = delta.sum(axis=0, keepdims=True)",
    "db = delta",
    also={"shape"},
)
bug(
    "sce-grad-labels-not-one-hot",
    "sce",
    {"keepdims"},
    "p = np.exp(_log_softmax(z))\n    p[np.arange(len(y)), y] -= 1\n    return p / len(y)",
    "return (np.exp(_log_softmax(z)) - y) / len(y)",
)

# more slips, for the exercises above that had few or none
_more_spec = importlib.util.spec_from_file_location(
    "_common_bugs_more", Path(__file__).with_name("common_bugs_more.py")
)
_more = importlib.util.module_from_spec(_more_spec)
_more_spec.loader.exec_module(_more)
_more.add(bug, BASES)

# the slips of the styles a learner reaches for (classes' rates, derivatives, Adam's v, ...)
_learner_spec = importlib.util.spec_from_file_location(
    "_common_bugs_learner", Path(__file__).with_name("common_bugs_learner.py")
)
_learner = importlib.util.module_from_spec(_learner_spec)
_learner_spec.loader.exec_module(_learner)
_learner.add(bug)

# chapters 9 and 10: the confusion matrix, MSE + lam ||W||^2 as Keras counts it
_ch9_10_spec = importlib.util.spec_from_file_location(
    "_common_bugs_confusion_ridge", Path(__file__).with_name("common_bugs_confusion_ridge.py")
)
_ch9_10 = importlib.util.module_from_spec(_ch9_10_spec)
_ch9_10_spec.loader.exec_module(_ch9_10)
_ch9_10.add(bug, BASES)

# slips found by a learner's walk through the course, named exactly
_walk_spec = importlib.util.spec_from_file_location(
    "_common_bugs_walk", Path(__file__).with_name("common_bugs_walk.py")
)
_walk = importlib.util.module_from_spec(_walk_spec)
_walk_spec.loader.exec_module(_walk)
_walk.add(bug, BASES)
