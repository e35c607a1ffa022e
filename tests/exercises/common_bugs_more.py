"""More common bugs, for the exercises common_bugs.py left with few or none: the activations
and their derivatives, the classifier's forward pass, one-hot, counting, the gradient
checker and momentum. ``add(bug, bases)`` types them into common_bugs.py's catalogue.
"""

from __future__ import annotations

MORE_BASES: dict[str, tuple[str, str]] = {
    "tanh": ("tanh", "def tanh(z):\n    return np.tanh(z)\n"),
    "forward": (
        "forward",
        """
def forward(X, params, activation="relu"):
    z1 = X @ params["W1"] + params["b1"]
    a1 = np.maximum(z1, 0) if activation == "relu" else np.tanh(z1)
    z2 = a1 @ params["W2"] + params["b2"]
    e = np.exp(-np.abs(z2))
    p = np.where(z2 >= 0, 1 / (1 + e), e / (1 + e))
    return {"z1": z1, "a1": a1, "z2": z2, "p": p}
""",
    ),
}


def add(bug, bases: dict[str, tuple[str, str]]) -> None:
    bases.update(MORE_BASES)
    # --- sigmoid
    bug(
        "sigmoid-exp-over-one-plus-exp",
        "sigmoid",
        {"unstable"},
        "e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
        "return np.exp(z) / (1 + np.exp(z))",
    )
    bug(
        "sigmoid-exp-sign",
        "sigmoid",
        {"exp-sign"},
        "e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
        "return 1 / (1 + np.exp(z))",
    )
    bug(
        "sigmoid-in-place",
        "sigmoid",
        {"mutates-input"},
        "e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
        "np.negative(z, out=z)\n    np.exp(z, out=z)\n    z += 1\n    return 1 / z",
    )
    bug("sigmoid-no-return", "sigmoid", {"missing-return"}, "return np.where(", "np.where(")
    bug(
        "sigmoid-list",
        "sigmoid",
        {"not-an-array"},
        "e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
        "return [[0.5 * (1 + np.tanh(0.5 * v)) for v in row] for row in z]",
    )
    # --- tanh
    bug(
        "tanh-naive",
        "tanh",
        {"unstable"},
        "return np.tanh(z)",
        "return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))",
    )
    bug(
        "tanh-naive-2z",
        "tanh",
        {"unstable"},
        "return np.tanh(z)",
        "return (np.exp(2 * z) - 1) / (np.exp(2 * z) + 1)",
    )
    bug(
        "tanh-sinh-over-cosh",
        "tanh",
        {"unstable"},
        "return np.tanh(z)",
        "return np.sinh(z) / np.cosh(z)",
    )
    bug(
        "tanh-sign",
        "tanh",
        {"sign"},
        "return np.tanh(z)",
        "e = np.exp(-2 * np.abs(z))\n    return -np.sign(z) * (1 - e) / (1 + e)",
    )
    bug(
        "tanh-via-sigmoid-of-z",
        "tanh",
        {"tanh-via-sigmoid"},
        "return np.tanh(z)",
        "return 2 * (0.5 * (1 + np.tanh(0.5 * z))) - 1",
    )
    bug(
        "tanh-float64",
        "tanh",
        {"dtype"},
        "return np.tanh(z)",
        "import math\n    return np.array([math.tanh(v) for v in z.ravel()]).reshape(z.shape)",
    )
    bug(
        "tanh-in-place",
        "tanh",
        {"mutates-input"},
        "return np.tanh(z)",
        "np.tanh(z, out=z)\n    return z",
    )
    bug("tanh-no-return", "tanh", {"missing-return"}, "return np.tanh(z)", "np.tanh(z)")
    # --- sigmoid_derivative and tanh_derivative
    bug("sigmoid-derivative-sign", "sigmoid_derivative", {"sign"}, "a * (1 - a)", "a * (a - 1)")
    bug(
        "sigmoid-derivative-float64",
        "sigmoid_derivative",
        {"dtype"},
        "a * (1 - a)",
        "a * (np.ones(a.shape) - a)",
    )
    bug(
        "sigmoid-derivative-in-place",
        "sigmoid_derivative",
        {"mutates-input"},
        "return a * (1 - a)",
        "a *= 1 - a\n    return a",
    )
    bug(
        "sigmoid-derivative-no-return",
        "sigmoid_derivative",
        {"missing-return"},
        "return a * (1 - a)",
        "a * (1 - a)",
    )
    bug(
        "sigmoid-derivative-tanh-formula",
        "sigmoid_derivative",
        {"other-derivative"},
        "a * (1 - a)",
        "1 - a ** 2",
    )
    bug("tanh-derivative-sign", "tanh_derivative", {"sign"}, "1 - a ** 2", "a ** 2 - 1")
    bug(
        "tanh-derivative-float64",
        "tanh_derivative",
        {"dtype"},
        "1 - a ** 2",
        "np.ones(a.shape) - a ** 2",
    )
    bug(
        "tanh-derivative-in-place",
        "tanh_derivative",
        {"mutates-input"},
        "return 1 - a ** 2",
        "a **= 2\n    return 1 - a",
    )
    bug(
        "tanh-derivative-sigmoid-formula",
        "tanh_derivative",
        {"other-derivative"},
        "1 - a ** 2",
        "a * (1 - a)",
    )
    # --- forward
    bug(
        "forward-no-hidden-activation",
        "forward",
        {"activation-forgotten"},
        'a1 = np.maximum(z1, 0) if activation == "relu" else np.tanh(z1)',
        "a1 = z1",
    )
    bug(
        "forward-no-output-sigmoid",
        "forward",
        {"activation-forgotten"},
        'return {"z1": z1, "a1": a1, "z2": z2, "p": p}',
        'return {"z1": z1, "a1": a1, "z2": z2, "p": z2}',
    )
    bug(
        "forward-activation-on-output",
        "forward",
        {"output-activation"},
        'z2 = a1 @ params["W2"] + params["b2"]',
        'z2 = a1 @ params["W2"] + params["b2"]\n'
        '    z2 = np.maximum(z2, 0) if activation == "relu" else np.tanh(z2)',
    )
    bug(
        "forward-w-at-x",
        "forward",
        {"product-shapes"},
        'z1 = X @ params["W1"]',
        'z1 = params["W1"] @ X',
    )
    bug(
        "forward-bias-column",
        "forward",
        {"bias-shape"},
        'z1 = X @ params["W1"] + params["b1"]',
        'z1 = X @ params["W1"] + params["b1"].reshape(-1, 1)',
        also={"shape"},  # one sample: (1, H) + (H, 1) broadcasts into (H, H)
    )
    bug(
        "forward-no-bias",
        "forward",
        {"bias-forgotten"},
        'z1 = X @ params["W1"] + params["b1"]',
        'z1 = X @ params["W1"]',
    )
    bug(
        "forward-sigmoid-exp-sign",
        "forward",
        {"exp-sign"},
        "p = np.where(z2 >= 0, 1 / (1 + e), e / (1 + e))",
        "p = 1 / (1 + np.exp(z2))",
    )
    bug(
        "forward-sigmoid-unstable",
        "forward",
        {"unstable"},
        "p = np.where(z2 >= 0, 1 / (1 + e), e / (1 + e))",
        "p = np.exp(z2) / (1 + np.exp(z2))",
    )
    bug(
        "forward-always-relu",
        "forward",
        {"activation-argument"},
        'np.maximum(z1, 0) if activation == "relu" else np.tanh(z1)',
        "np.maximum(z1, 0)",
    )
    bug(
        "forward-no-return",
        "forward",
        {"missing-return"},
        '    return {"z1": z1, "a1": a1, "z2": z2, "p": p}\n',
        "",
    )
    # --- one_hot, count_parameters
    bug(
        "one-hot-one-based",
        "one_hot",
        {"off-by-one"},
        "np.arange(len(y)), y]",
        "np.arange(len(y)), y - 1]",
    )
    bug(
        "one-hot-columns-only",
        "one_hot",
        {"row-index"},
        "out[np.arange(len(y)), y] = 1",
        "out[:, y] = 1",
    )
    bug("count-bias-per-input", "count", {"bias-count"}, "a * b + b", "a * b + a")
    bug(
        "count-input-biases",
        "count",
        {"bias-count"},
        "return sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))",
        "return sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])) + sum(layer_sizes)",
    )
    bug("count-no-return", "count", {"missing-return"}, "return sum(", "sum(")
    # --- sgd_momentum, gradient_check
    bug("momentum-no-return", "momentum", {"missing-return"}, "return w + v, v", "w = w + v")
    bug(
        "momentum-float64",
        "momentum",
        {"dtype"},
        "v = momentum * velocity - lr * grad",
        "v = np.float64(momentum) * velocity - np.float64(lr) * grad",
    )
    bug(
        "gradient-check-one-sided-difference",
        "gradient_check",
        {"one-sided-difference"},
        ("x[i] = old - eps\n        down = f(x)", "/ (2 * eps)"),
        ("x[i] = old\n        down = f(x)", "/ eps"),
    )
    # --- a global in place of an argument (a notebook's leftovers)
    bug(
        "gd-step-global-lr",
        "gd_step",
        {"ignores-input"},
        ("def gd_step(", "- lr * grads[k]"),
        ("learning_rate = 0.01\n\n\ndef gd_step(", "- learning_rate * grads[k]"),
        also={"scale"},
    )
    bug(
        "l2-global-lambda",
        "l2",
        {"ignores-input"},
        "def l2_penalty(w, lam):\n    return lam / 2",
        "LAMBDA = 0.01\n\ndef l2_penalty(w, lam):\n    return LAMBDA / 2",
        also={"scale"},
    )
    bug(
        "forward-global-params",
        "forward",
        {"ignores-input"},
        'def forward(X, params, activation="relu"):\n',
        'rng = np.random.default_rng(0)\nW = {"W1": rng.normal(size=(3, 4)), "b1": np.zeros(4),'
        ' "W2": rng.normal(size=(4, 1)), "b2": np.zeros(1)}\n\n'
        'def forward(X, params, activation="relu"):\n    params = W\n',
        also={"product-shapes", "shape"},
    )
    bug(
        "relu-backward-mask-from-dz",
        "relu_backward",
        {"ignores-input"},
        "dz * (z > 0)",
        "dz * (dz > 0)",
        also={"relu-kink"},
    )
    bug(
        "gradient-check-backward-difference",
        "gradient_check",
        {"one-sided-difference"},
        ("x[i] = old + eps\n        up = f(x)", "/ (2 * eps)"),
        ("x[i] = old\n        up = f(x)", "/ eps"),
    )
    bug("gradient-check-no-return", "gradient_check", {"missing-return"}, "    return g\n", "")
    _add_contract_slips(bug)


def _add_contract_slips(bug) -> None:
    """Slips that passed while the exercise's contract forbade them (a batch's max for each
    row's, the right numbers of the wrong kind, predict's column), and three more formulas
    once left without a name (a leaky ReLU, the sigmoid of 2z, L1 for L2)."""
    # --- one max for the whole batch, where each row needs its own
    bug(
        "softmax-batch-max",
        "softmax",
        {"batch-max"},
        "z.max(axis=1, keepdims=True)",
        "np.max(z)",
    )
    bug(
        "sce-batch-max",
        "sce",
        {"batch-max"},
        "m = z.max(axis=1, keepdims=True)",
        "m = z.max()",
    )
    bug(
        "sce-batch-max-through-probabilities",
        "sce",
        {"batch-max"},
        (
            "return -np.mean(_log_softmax(z)[np.arange(len(y)), y])",
            "p = np.exp(_log_softmax(z))",
        ),
        (
            "e = np.exp(z - z.max())\n    p = e / e.sum(axis=1, keepdims=True)\n"
            "    return -np.mean(np.log(p[np.arange(len(y)), y]))",
            "e = np.exp(z - z.max())\n    p = e / e.sum(axis=1, keepdims=True)",
        ),
        also={"unstable"},  # log(NaN): the loss of the far row is NaN, and also at +-800
    )
    bug(
        "multiclass-batch-max",
        "multiclass",
        {"batch-max"},
        "e = np.exp(z - z.max(axis=1, keepdims=True))",
        "e = np.exp(z - z.max())",
    )
    # --- the right numbers of the wrong kind
    bug("one-hot-integers", "one_hot", {"dtype"}, "np.zeros((len(y), n_classes))",
        "np.zeros((len(y), n_classes), dtype=int)")  # fmt: skip
    bug("one-hot-booleans", "one_hot", {"dtype"}, "np.zeros((len(y), n_classes))",
        "np.zeros((len(y), n_classes), dtype=bool)")  # fmt: skip
    bug("count-as-float", "count", {"dtype"}, "return sum(", "return 1.0 * sum(")
    bug("count-true-division", "count", {"dtype"}, "a * b + b", "a * b + b * 2 / 2")
    bug(
        "network-predict-column",
        "network",
        {"shape"},
        "(self.forward(X) >= threshold).astype(int).ravel()",
        "(self.forward(X) >= threshold).astype(int)",
    )
    bug(
        "network-predict-booleans",
        "network",
        {"dtype"},
        "(self.forward(X) >= threshold).astype(int).ravel()",
        "(self.forward(X) >= threshold).ravel()",
    )
    bug(
        "multiclass-predict-column",
        "multiclass",
        {"shape"},
        "return np.argmax(self.forward(X), axis=1)",
        "return np.argmax(self.forward(X), axis=1).reshape(-1, 1)",
    )
    bug(
        "multiclass-predict-floats",
        "multiclass",
        {"dtype"},
        "return np.argmax(self.forward(X), axis=1)",
        "return np.argmax(self.forward(X), axis=1).astype(float)",
    )
    # --- a leaky ReLU for ReLU
    bug("relu-leaky", "relu", {"leaky-relu"}, "np.maximum(z, 0)", "np.where(z > 0, z, 0.01 * z)")
    bug("relu-leaky-0.2", "relu", {"leaky-relu"}, "np.maximum(z, 0)", "np.maximum(z, 0.2 * z)")
    bug(
        "forward-leaky-relu",
        "forward",
        {"leaky-relu"},
        "np.maximum(z1, 0)",
        "np.where(z1 > 0, z1, 0.01 * z1)",
    )
    bug("forward-leaky-relu-0.1", "forward", {"leaky-relu"}, "np.maximum(z1, 0)",
        "np.maximum(z1, 0.1 * z1)")  # fmt: skip
    # --- tanh and the sigmoid, a factor 2 in the argument
    bug(
        "sigmoid-via-tanh-not-halved",
        "sigmoid",
        {"tanh-via-sigmoid"},
        "e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
        "return (1 + np.tanh(z)) / 2",
    )
    bug(
        "sigmoid-of-2z",
        "sigmoid",
        {"tanh-via-sigmoid"},
        "e = np.exp(-np.abs(z))",
        "z = 2 * z\n    e = np.exp(-np.abs(z))",
    )
    bug(
        "tanh-as-sigmoid-of-2z",
        "tanh",
        {"tanh-via-sigmoid"},
        "return np.tanh(z)",
        "e = np.exp(-np.abs(2 * z))\n    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
    )
    # --- the L1 penalty for the L2 one
    bug(
        "l2-as-l1",
        "l2",
        {"l1-for-l2"},
        ("lam / 2 * np.sum(w ** 2)", "return lam * w"),
        ("lam * np.sum(np.abs(w))", "return lam * np.sign(w)"),
    )
    bug(
        "l2-gradient-as-l1",
        "l2",
        {"l1-for-l2"},
        "return lam * w",
        "return lam * np.sign(w)",
    )
    # --- a fresh network of the classes: the seed read, the biases' layout
    for base in ("network", "multiclass"):
        bug(
            f"{base}-seed-ignored",
            base,
            {"ignores-input"},
            "np.random.default_rng(seed)",
            "np.random.default_rng(0)",
        )
        bug(
            f"{base}-biases-flat",
            base,
            {"shape"},
            "np.zeros((1, b))",
            "np.zeros(b)",
        )
    # --- relu_backward keeps the dtype of dz, whatever z's
    bug("relu-backward-heaviside-float64", "relu_backward", {"dtype"}, "dz * (z > 0)",
        "dz * np.heaviside(z, 0)")  # fmt: skip
    bug("relu-backward-mask-as-z", "relu_backward", {"dtype"}, "dz * (z > 0)",
        "dz * (z > 0).astype(z.dtype)")  # fmt: skip
    for base in ("network", "multiclass"):
        bug(f"{base}-unscaled-init", base, {"initialization"}, "* np.sqrt(2 / a)", "")
        bug(f"{base}-xavier-init", base, {"initialization"}, "np.sqrt(2 / a)", "np.sqrt(1 / a)")
        bug(f"{base}-unseeded", base, {"initialization"}, "np.random.default_rng(seed)",
            "np.random.default_rng()")  # fmt: skip
