"""Slips a learner makes that the other catalogues lacked, each with the name it must get:
a rate or a momentum fixed in a class instead of the one given, weights kept under another
name, a derivative left out or multiplied in twice, Adam's v of the gradient (not its square)
and 1 - beta * t, a softmax over the whole batch, a threshold ignored, an eps ignored.
``add(bug)`` types them into common_bugs.py's catalogue.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_common_bugs_named", Path(__file__).with_name("common_bugs_named.py")
)
_named = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_named)

NN_RATES = "self.lr, self.momentum = learning_rate, momentum"
NN_LOOP = "for i, (W, b) in enumerate(zip(self.weights, self.biases)):"
NN_BIASES = "self.biases = [np.zeros((1, b)) for b in layer_sizes[1:]]"
NN_PREDICT = "return (self.forward(X) >= threshold).astype(int).ravel()"
BACKWARD_RELU = 'dz1 = da1 * (cache["z1"] > 0)'
BACKWARD_TANH = 'dz1 = da1 * (1 - cache["a1"] ** 2)'
MOMENTUM = "    v = momentum * velocity - lr * grad\n    return w + v, v\n"


def add(bug) -> None:
    # --- the classes: what they are given is what they use
    bug(
        "network-lr-hard-coded",
        "network",
        {"ignores-input"},
        NN_RATES,
        "self.lr, self.momentum = 0.01, momentum",
    )
    bug(
        "network-momentum-hard-coded",
        "network",
        {"ignores-input"},
        NN_RATES,
        "self.lr, self.momentum = learning_rate, 0.9",
    )
    bug(
        "network-momentum-ignored",
        "network",
        {"ignores-input"},
        NN_RATES,
        "self.lr, self.momentum = learning_rate, 0.0",
    )
    bug(
        "network-weights-kept-apart",
        "network",
        {"ignores-input"},
        (NN_BIASES, NN_LOOP),
        (
            NN_BIASES + "\n        self.W = [w.copy() for w in self.weights]",
            "for i, (W, b) in enumerate(zip(self.W, self.biases)):",
        ),
    )
    bug(
        "network-predict-threshold-ignored",
        "network",
        {"ignores-input"},
        NN_PREDICT,
        "return (self.forward(X) >= 0.5).astype(int).ravel()",
    )
    bug(
        "multiclass-lr-hard-coded",
        "multiclass",
        {"ignores-input"},
        "self.lr = learning_rate",
        "self.lr = 0.01",
        also={"scale"},
    )
    # --- a derivative left out, or multiplied in twice
    bug(
        "network-relu-mask-forgotten",
        "network",
        {"derivative-forgotten"},
        "(self.z[i - 1] > 0)",
        "1",
    )
    bug(
        "multiclass-relu-mask-forgotten",
        "multiclass",
        {"derivative-forgotten"},
        "delta = (delta @ self.weights[i].T) * (self.z[i - 1] > 0)",
        "delta = delta @ self.weights[i].T",
    )
    bug(
        "backward-relu-mask-forgotten",
        "backward",
        {"derivative-forgotten"},
        BACKWARD_RELU,
        "dz1 = da1",
    )
    bug(
        "backward-tanh-derivative-forgotten",
        "backward",
        {"derivative-forgotten"},
        BACKWARD_TANH,
        "dz1 = da1",
    )
    bug(
        "backprop-sigmoid-derivative-forgotten",
        "backprop",
        {"derivative-forgotten"},
        "dz1 = (dz2 @ W2.T) * a1 * (1 - a1)",
        "dz1 = dz2 @ W2.T",
    )
    bug(
        "backprop-output-derivative-again",
        "backprop",
        {"output-derivative"},
        "dz2 = A - Y",
        "dz2 = (A - Y) * A * (1 - A)",
    )
    bug(
        "backward-output-derivative-again",
        "backward",
        {"output-derivative"},
        'dz2 = (cache["p"] - y) / N',
        'p = cache["p"]\n    dz2 = (p - y) * p * (1 - p) / N',
    )
    bug(
        "forward-z2-from-z1",
        "forward",
        {"activation-forgotten"},
        'z2 = a1 @ params["W2"] + params["b2"]',
        'z2 = z1 @ params["W2"] + params["b2"]',
    )
    bug(
        "sigmoid-derivative-precedence", "sigmoid_derivative", {"zeros"}, "a * (1 - a)", "a * 1 - a"
    )
    bug(
        "relu-backward-mask-only",
        "relu_backward",
        {"ignores-input"},
        "dz * (z > 0)",
        "(z > 0).astype(dz.dtype)",
    )
    # --- sums over the wrong axes, shapes
    bug(
        "softmax-sum-over-everything",
        "softmax",
        {"axis"},
        "e.sum(axis=1, keepdims=True)",
        "e.sum()",
    )
    bug("relu-max-for-maximum", "relu", {"shape"}, "np.maximum(z, 0)", "np.max(z, 0)")
    bug(
        "linear-db-over-features",
        "linear",
        {"shape"},
        "self.db = dout.sum(axis=0)",
        "self.db = dout.sum(axis=1)",
    )
    bug(
        "linear-dx-through-w-transposed",
        "linear",
        {"product-shapes"},
        "return dout @ self.W\n",
        "return dout @ self.W.T\n",
    )
    # --- optimisers
    bug(
        "momentum-velocity-sign-flipped",
        "momentum",
        {"momentum-convention"},
        MOMENTUM,
        "    v = momentum * velocity + lr * grad\n    return w - v, v\n",
        also={"sign"},
    )
    bug(
        "momentum-mu-forgotten",
        "momentum",
        {"ignores-input"},
        "v = momentum * velocity - lr * grad",
        "v = velocity - lr * grad",
    )
    bug(
        "adam-v-of-the-gradient",
        "adam",
        {"adam-second-moment"},
        "v = beta2 * v + (1 - beta2) * grad ** 2",
        "v = beta2 * v + (1 - beta2) * grad",
    )
    bug(
        "adam-m-without-one-minus-beta1",
        "adam",
        {"scale"},
        "m = beta1 * m + (1 - beta1) * grad",
        "m = beta1 * m + grad",
    )
    bug(
        "adam-beta1-times-t",
        "adam",
        {"adam-bias-correction"},
        "m_hat = m / (1 - beta1 ** t)",
        "m_hat = m / (1 - beta1 * t)",
    )
    bug(
        "adam-beta2-times-t",
        "adam",
        {"adam-bias-correction"},
        "v_hat = v / (1 - beta2 ** t)",
        "v_hat = v / (1 - beta2 * t)",
    )
    # --- the gradient checker uses the eps it is given
    bug(
        "gradient-check-eps-hard-coded",
        "gradient_check",
        {"ignores-input"},
        "def numerical_gradient(f, x, eps=1e-5):\n    x = x.copy()",
        "def numerical_gradient(f, x, eps=1e-5):\n    eps = 1e-5\n    x = x.copy()",
    )
    # the slips that failed with no name before (common_bugs_named.py)
    _named.add(bug)
