"""Slips named since the catalogue of common_bugs_named.py: eps added to Adam's v, sigmoid'
as a (1 + a) or 1 - a, the BCE loss's label term added or left out (and its other slips: no
stable form, a sum, the sign, y and 1 - y swapped), a gradient checker's signed errors,
backward's dz1 = da1 * a1; then slips typed in as a learner makes them, exercise by exercise
(outputs swapped among them), and known mistakes with a factor on top on float32 cases.
``add(bug)`` types them into common_bugs.py's catalogue (through common_bugs_named.py's
hook); ``add_chapters_9_10(bug)``, those of the confusion matrix and the ridge loss (through
common_bugs_confusion_ridge.py's).
"""

from __future__ import annotations

BCE_LOSS = "np.mean(np.logaddexp(0, z) - y * z)"
NAIVE_P = "1 / (1 + np.exp(-z))"
RELU_DZ1 = 'dz1 = da1 * (cache["z1"] > 0)'
TANH_DZ1 = 'dz1 = da1 * (1 - cache["a1"] ** 2)'
V_HAT = "v_hat = v / (1 - beta2 ** t)"
V_NEW = "v = beta2 * v + (1 - beta2) * grad ** 2"
ROOT = "(np.sqrt(v_hat) + eps)"

BP_DZ2 = "dz2 = A - Y"
GC_LOOP = (
    "    for i in np.ndindex(x.shape):\n        old = x[i]\n        x[i] = old + eps\n"
    "        up = f(x)\n        x[i] = old - eps\n        down = f(x)\n        x[i] = old\n"
    "        g[i] = (up - down) / (2 * eps)"
)
ADAM_RETURN = "return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v"


def add(bug) -> None:
    # --- Adam: eps added to v, before the bias correction (in the state or not)
    bug(
        "adam-eps-in-v-hat", "adam", {"adam-epsilon"}, V_HAT, "v_hat = (v + eps) / (1 - beta2 ** t)"
    )
    bug(
        "adam-eps-in-v-hat-only",
        "adam",
        {"adam-epsilon"},
        (V_HAT, ROOT),
        ("v_hat = (v + eps) / (1 - beta2 ** t)", "np.sqrt(v_hat)"),
    )
    bug("adam-eps-in-the-state", "adam", {"adam-epsilon"}, V_NEW, V_NEW + " + eps")
    bug(
        "adam-eps-in-the-state-only",
        "adam",
        {"adam-epsilon"},
        (V_NEW, ROOT),
        (V_NEW + " + eps", "np.sqrt(v_hat)"),
    )
    # --- sigmoid' from its output
    bug(
        "sigmoid-derivative-plus",
        "sigmoid_derivative",
        {"sigmoid-prime"},
        "a * (1 - a)",
        "a * (1 + a)",
    )
    bug(
        "sigmoid-derivative-one-minus-a",
        "sigmoid_derivative",
        {"sigmoid-prime"},
        "a * (1 - a)",
        "1 - a",
    )
    # --- the BCE loss from logits
    bug("bce-loss-label-term-added", "bce", {"label-term"}, "- y * z)", "+ y * z)")
    bug("bce-loss-label-term-left-out", "bce", {"label-term"}, "- y * z)", ")")
    bug(
        "bce-loss-label-term-added-and-summed",
        "bce",
        {"label-term", "scale"},  # not on the one sample, where a sum is the mean
        BCE_LOSS,
        "np.sum(np.logaddexp(0, z) + y * z)",
    )
    bug("bce-loss-summed", "bce", {"scale"}, BCE_LOSS, "np.sum(np.logaddexp(0, z) - y * z)")
    bug("bce-loss-sign", "bce", {"sign"}, BCE_LOSS, "-" + BCE_LOSS)
    bug(
        "bce-loss-log-of-p-plus-tiny",
        "bce",
        {"unstable"},
        BCE_LOSS,
        f"-np.mean(y * np.log({NAIVE_P} + 1e-15) + (1 - y) * np.log(1 - {NAIVE_P} + 1e-15))",
    )
    bug(
        "bce-loss-log-of-p-clipped",
        "bce",
        {"unstable"},
        BCE_LOSS,
        f"-np.mean(y * np.log(np.clip({NAIVE_P}, 1e-15, 1 - 1e-15))"
        f" + (1 - y) * np.log(np.clip(1 - {NAIVE_P}, 1e-15, 1 - 1e-15)))",
    )
    bug(
        "bce-loss-log-of-p-no-minus",
        "bce",
        {"sign", "unstable"},
        BCE_LOSS,
        f"np.mean(y * np.log({NAIVE_P}) + (1 - y) * np.log(1 - {NAIVE_P}))",
    )
    bug("bce-loss-log1p-of-exp", "bce", {"unstable"}, "np.logaddexp(0, z)", "np.log1p(np.exp(z))")
    bug("bce-loss-labels-swapped", "bce", {"exp-sign"}, "- y * z)", "- (1 - y) * z)")
    bug(
        "bce-loss-softplus-terms-swapped",
        "bce",
        {"exp-sign"},
        "np.logaddexp(0, z) - y * z",
        "y * np.logaddexp(0, z) + (1 - y) * np.logaddexp(0, -z)",
    )
    # --- the gradient checker: an entry's error is a size
    bug(
        "gradient-check-signed-errors",
        "gradient_check",
        {"signed-error"},
        "np.abs(a - n) /",
        "(a - n) /",
    )
    # --- backward: the activation where its derivative belongs
    bug(
        "backward-relu-times-a1",
        "backward",
        {"function-for-derivative"},
        RELU_DZ1,
        'dz1 = da1 * cache["a1"]',
    )
    bug(
        "backward-tanh-times-a1",
        "backward",
        {"function-for-derivative"},
        TANH_DZ1,
        'dz1 = da1 * cache["a1"]',
    )
    # --- slips typed in as a learner makes them, one or more per exercise: an axis, keepdims,
    # a transpose, a divisor, in-place changes, integer division, int or float64 arrays, a
    # global in place of an argument, outputs swapped
    bug("relu-np-max", "relu", {"shape"}, "np.maximum(z, 0)", "np.max(z, 0)")
    bug("relu-out-z", "relu", {"mutates-input"}, "np.maximum(z, 0)", "np.maximum(z, 0, out=z)")
    bug(
        "relu-global",
        "relu",
        {"ignores-input", "shape"},
        "def relu(z):\n    return np.maximum(z, 0)",
        "Z = np.linspace(-1, 1, 20).reshape(4, 5)\ndef relu(z):\n    return np.maximum(Z, 0)",
    )
    bug("relu-backward-no-dz", "relu_backward", {"ignores-input"}, "dz * (z > 0)", "(z > 0) * 1.0")
    bug(
        "relu-backward-in-place-lt",
        "relu_backward",
        {"mutates-input", "relu-kink"},
        "return dz * (z > 0)",
        "dz[z < 0] = 0\n    return dz",
    )
    bug(
        "one-hot-int-zeros",
        "one_hot",
        {"dtype"},
        "np.zeros((len(y), n_classes))",
        "np.zeros((len(y), n_classes), dtype=int)",
    )
    bug(
        "one-hot-eye-of-n",
        "one_hot",
        {"shape"},
        "out = np.zeros((len(y), n_classes))\n    out[np.arange(len(y)), y] = 1\n    return out",
        "return np.eye(len(y))[y]",
    )
    bug("one-hot-bool", "one_hot", {"dtype"}, "    return out\n", "    return out.astype(bool)\n")
    bug(
        "softmax-whole-batch-sum",
        "softmax",
        {"axis"},
        "e / e.sum(axis=1, keepdims=True)",
        "e / e.sum()",
    )
    bug(
        "softmax-in-place-shift",
        "softmax",
        {"mutates-input"},
        "e = np.exp(z - z.max(axis=1, keepdims=True))",
        "z -= z.max(axis=1, keepdims=True)\n    e = np.exp(z)",
    )
    bug(
        "softmax-sum-axis0",
        "softmax",
        {"axis"},
        "e / e.sum(axis=1, keepdims=True)",
        "e / e.sum(axis=0, keepdims=True)",
    )
    bug(
        "softmax-max-axis0",
        "softmax",
        {"axis"},
        "z.max(axis=1, keepdims=True)",
        "z.max(axis=0, keepdims=True)",
    )
    bug(
        "softmax-astype-float64",
        "softmax",
        {"dtype"},
        "    return e / e.sum(axis=1, keepdims=True)",
        "    e = e.astype(np.float64)\n    return e / e.sum(axis=1, keepdims=True)",
    )
    bug(
        "sigmoid-exp-over-one-plus",
        "sigmoid",
        {"unstable"},
        "e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
        "e = np.exp(z)\n    return e / (1 + e)",
    )
    bug(
        "sigmoid-floor-division",
        "sigmoid",
        {"zeros"},
        "1 / (1 + e), e / (1 + e)",
        "1 // (1 + e), e // (1 + e)",
    )
    bug(
        "sigmoid-tanh-no-half",
        "sigmoid",
        {"tanh-via-sigmoid"},
        "e = np.exp(-np.abs(z))\n    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))",
        "return 0.5 * (1 + np.tanh(z))",
    )
    bug(
        "tanh-exp-formula",
        "tanh",
        {"unstable"},
        "np.tanh(z)",
        "(np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))",
    )
    bug("tanh-astype-float", "tanh", {"dtype"}, "np.tanh(z)", "np.tanh(z.astype(float))")
    bug("tanh-sinh-cosh", "tanh", {"unstable"}, "np.tanh(z)", "np.sinh(z) / np.cosh(z)")
    bug(
        "mse-divide-by-2n",
        "mse",
        {"scale"},
        "np.mean((y_pred - y_true) ** 2)",
        "np.sum((y_pred - y_true) ** 2) / (2 * len(y_pred))",
    )
    bug(
        "mse-global-target",
        "mse",
        {"ignores-input"},
        "def mse(y_pred, y_true):\n    return np.mean((y_pred - y_true) ** 2)",
        "y = np.zeros(10)\ndef mse(y_pred, y_true):\n    return np.mean((y_pred - y) ** 2)",
    )
    bug(
        "mse-abs-squared-sum",
        "mse",
        {"scale"},
        "np.mean((y_pred - y_true) ** 2)",
        "np.sum(np.abs(y_pred - y_true) ** 2)",
    )
    bug("l2-grad-halved", "l2", {"scale"}, "return lam * w", "return lam * w / 2")
    bug("l2-grad-summed", "l2", {"shape"}, "return lam * w", "return lam * np.sum(w)")
    bug(
        "l2-grad-global-lam",
        "l2",
        {"ignores-input", "scale"},
        "def l2_penalty_grad(w, lam):\n    return lam * w",
        "LAM = 0.1\ndef l2_penalty_grad(w, lam):\n    return LAM * w",
    )
    bug(
        "bce-loss-array",
        "bce",
        {"shape"},
        "np.mean(np.logaddexp(0, z) - y * z)",
        "np.logaddexp(0, z) - y * z",
    )
    bug(
        "bce-grad-output-derivative",
        "bce",
        {"output-derivative", "zeros"},
        "(p - y) / len(z)",
        "(p - y) * p * (1 - p) / len(z)",
    )
    bug(
        "bce-grad-y-column-lost",
        "bce",
        {"shape"},
        "(p - y) / len(z)",
        "(p.ravel() - y.ravel()) / len(z)",
    )
    bug(
        "sce-grad-only-true-column",
        "sce",
        {"shape"},
        "p[np.arange(len(y)), y] -= 1\n    return p / len(y)",
        "return (p[np.arange(len(y)), y] - 1) / len(y)",
    )
    bug("sce-loss-sum", "sce", {"scale"}, "-np.mean(_log_softmax(z)", "-np.sum(_log_softmax(z)")
    bug(
        "sce-loss-naive",
        "sce",
        {"unstable"},
        "return -np.mean(_log_softmax(z)[np.arange(len(y)), y])",
        "p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)\n"
        "    return -np.mean(np.log(p[np.arange(len(y)), y]))",
    )
    bug(
        "sce-grad-in-place-on-z",
        "sce",
        {"mutates-input"},
        "p = np.exp(_log_softmax(z))",
        "z -= z.max(axis=1, keepdims=True)\n"
        "    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)",
    )
    bug(
        "count-range-off",
        "count",
        {"off-by-one"},
        "sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))",
        "sum(layer_sizes[i] * layer_sizes[i + 1] + layer_sizes[i + 1]"
        " for i in range(len(layer_sizes) - 2))",
    )
    bug(
        "forward-b1-left-out",
        "forward",
        {"bias-forgotten"},
        'z1 = X @ params["W1"] + params["b1"]',
        'z1 = X @ params["W1"]',
    )
    bug(
        "forward-keys-swapped",
        "forward",
        {"swapped-outputs"},
        'return {"z1": z1, "a1": a1,',
        'return {"z1": a1, "a1": z1,',
    )
    bug(
        "backward-b1-axis1", "backward", {"shape"}, '"b1": dz1.sum(axis=0)', '"b1": dz1.sum(axis=1)'
    )
    bug("backward-w1-transposed", "backward", {"transpose"}, '"W1": X.T @ dz1', '"W1": dz1.T @ X')
    bug(
        "backward-b2-mean", "backward", {"scale"}, '"b2": dz2.sum(axis=0)', '"b2": dz2.mean(axis=0)'
    )
    bug(
        "backward-no-mean",
        "backward",
        {"scale"},
        'dz2 = (cache["p"] - y) / N',
        'dz2 = cache["p"] - y',
    )
    bug(
        "backward-int-n",
        "backward",
        {"zeros"},
        'dz2 = (cache["p"] - y) / N',
        'dz2 = (cache["p"] - y) * (1 // N)',
    )
    bug(
        "gd-in-place",
        "gd_step",
        {"mutates-input"},
        "return {k: params[k] - lr * grads[k] for k in params}",
        "for k in params:\n        params[k] -= lr * grads[k]\n    return params",
    )
    bug(
        "gd-shallow-copy",
        "gd_step",
        {"mutates-input"},
        "return {k: params[k] - lr * grads[k] for k in params}",
        "new = params.copy()\n    for k in new:\n        new[k] -= lr * grads[k]\n    return new",
    )
    bug("gd-plus", "gd_step", {"sign"}, "params[k] - lr * grads[k]", "params[k] + lr * grads[k]")
    bug(
        "gd-no-lr",
        "gd_step",
        {"ignores-input", "scale"},
        "params[k] - lr * grads[k]",
        "params[k] - 0.1 * grads[k]",
    )
    bug("gc-over-eps", "gradient_check", {"scale"}, "(up - down) / (2 * eps)", "(up - down) / eps")
    bug(
        "backprop-db1-flat",
        "backprop",
        {"bias-shape"},
        '"db1": dz1.sum(axis=0, keepdims=True)',
        '"db1": dz1.sum(axis=0)',
    )
    bug(
        "backprop-derivative-of-A",
        "backprop",
        {"activation-derivative"},
        "dz1 = (dz2 @ W2.T) * a1 * (1 - a1)",
        "dz1 = (dz2 @ W2.T) * A * (1 - A)",
    )
    bug(
        "linear-dx-w-transposed",
        "linear",
        {"product-shapes"},
        "return dout @ self.W\n",
        "return dout @ self.W.T\n",
    )
    bug(
        "linear-db-axis1",
        "linear",
        {"shape"},
        "self.db = dout.sum(axis=0)",
        "self.db = dout.sum(axis=1)",
    )
    bug(
        "adam-t-incremented",
        "adam",
        {"adam-step-count"},
        "    m = beta1 * m",
        "    t += 1\n    m = beta1 * m",
    )
    bug(
        "adam-w-in-place",
        "adam",
        {"mutates-input"},
        "return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v",
        "w -= lr * m_hat / (np.sqrt(v_hat) + eps)\n    return w, m, v",
    )
    bug(
        "adam-m-v-swapped",
        "adam",
        {"swapped-outputs"},
        "return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v",
        "return w - lr * m_hat / (np.sqrt(v_hat) + eps), v, m",
    )
    bug(
        "momentum-returns-v-w",
        "momentum",
        {"swapped-outputs"},
        "return w + v, v",
        "return v, w + v",
    )

    # --- a known mistake with a factor on top (2 lr, a mean for a sum), float32 cases among
    # the cases: the factor is judged to the float32 cases' precision
    bug(
        "factor-on-backprop-mean-and-no-derivative",
        "backprop",
        {"derivative-forgotten", "scale"},
        (BP_DZ2, "dz1 = (dz2 @ W2.T) * a1 * (1 - a1)"),
        ("dz2 = (A - Y) / len(X)", "dz1 = dz2 @ W2.T"),
    )
    bug(
        "factor-on-backprop-mean-and-output-derivative",
        "backprop",
        {"output-derivative", "scale"},
        BP_DZ2,
        "dz2 = (A - Y) * A * (1 - A) / len(X)",
    )
    bug(
        "factor-on-backprop-half-and-z1",
        "backprop",
        {"activation-derivative", "scale"},
        ("dz1 = (dz2 @ W2.T) * a1 * (1 - a1)",),
        ("z1 = X @ W1 + b1\n    dz1 = 0.5 * (dz2 @ W2.T) * z1 * (1 - z1)",),
    )
    bug(
        "factor-on-sigder-twice-plus",
        "sigmoid_derivative",
        {"sigmoid-prime", "scale"},
        "a * (1 - a)",
        "2 * a * (1 + a)",
    )
    bug(
        "factor-on-sigder-half-tanh",
        "sigmoid_derivative",
        {"other-derivative", "scale"},
        "a * (1 - a)",
        "0.5 * (1 - a ** 2)",
    )
    bug(
        "factor-on-sigder-half-of-z",
        "sigmoid_derivative",
        {"activation-derivative", "scale"},
        "return a * (1 - a)",
        "s = 1 / (1 + np.exp(-a))\n    return 0.5 * s * (1 - s)",
    )
    bug(
        "factor-on-tanhder-twice-sigmoid",
        "tanh_derivative",
        {"other-derivative", "scale"},
        "1 - a ** 2",
        "2 * a * (1 - a)",
    )
    bug(
        "factor-on-tanhder-half-of-z",
        "tanh_derivative",
        {"activation-derivative", "scale"},
        "1 - a ** 2",
        "0.5 * (1 - np.tanh(a) ** 2)",
    )
    bug(
        "factor-on-tanhder-twice-square-last",
        "tanh_derivative",
        {"tanh-prime", "scale"},
        "1 - a ** 2",
        "2 * (1 - a) ** 2",
    )
    bug(
        "factor-on-relu-twice-abs",
        "relu",
        {"abs-for-relu", "scale"},
        "np.maximum(z, 0)",
        "2 * np.abs(z)",
    )
    bug(
        "factor-on-relu-backward-twice-relu",
        "relu_backward",
        {"function-for-derivative", "scale"},
        "dz * (z > 0)",
        "2 * dz * np.maximum(z, 0)",
    )
    bug(
        "factor-on-adam-no-correction-lr-doubled",
        "adam",
        {"adam-bias-correction", "scale"},
        "return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v",
        "return w - 2 * lr * m / (np.sqrt(v) + eps), m, v",
    )
    bug(
        "factor-on-adam-eps-inside-lr-halved",
        "adam",
        {"adam-epsilon", "scale"},
        "return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v",
        "return w - 0.5 * lr * m_hat / np.sqrt(v_hat + eps), m, v",
    )
    bug(
        "factor-on-momentum-convention-doubled",
        "momentum",
        {"momentum-convention"},
        "v = momentum * velocity - lr * grad\n    return w + v, v",
        "v = momentum * velocity + grad\n    return w - 2 * lr * v, v",
        also={"scale"},
    )
    bug(
        "factor-on-adam-t-plus-1-lr-doubled",
        "adam",
        {"adam-step-count", "scale"},
        ("m_hat = m / (1 - beta1 ** t)", "v_hat = v / (1 - beta2 ** t)", ADAM_RETURN),
        (
            "m_hat = m / (1 - beta1 ** (t + 1))",
            "v_hat = v / (1 - beta2 ** (t + 1))",
            "return w - 2 * lr * m_hat / (np.sqrt(v_hat) + eps), m, v",
        ),
    )
    bug(
        "factor-on-adam-returns-corrected-lr-halved",
        "adam",
        {"adam-returns-corrected", "scale"},
        ADAM_RETURN,
        "return w - lr / 2 * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat",
    )
    bug(
        "factor-on-adam-no-root-lr-doubled",
        "adam",
        {"adam-square-root", "scale"},
        ADAM_RETURN,
        "return w - 2 * lr * m_hat / (v_hat + eps), m, v",
    )
    bug(
        "factor-on-adam-grad-not-squared-lr-halved",
        "adam",
        {"adam-second-moment"},
        ("v = beta2 * v + (1 - beta2) * grad ** 2", ADAM_RETURN),
        (
            "v = beta2 * v + (1 - beta2) * grad",
            "return w - 0.5 * lr * m_hat / (np.sqrt(v_hat) + eps), m, v",
        ),
        also={"scale"},
    )
    bug(
        "factor-on-adam-eps-in-v-lr-doubled",
        "adam",
        {"adam-epsilon", "scale"},
        ("v_hat = v / (1 - beta2 ** t)", ADAM_RETURN),
        (
            "v_hat = (v + eps) / (1 - beta2 ** t)",
            "return w - 2 * lr * m_hat / (np.sqrt(v_hat) + eps), m, v",
        ),
    )
    bug(
        "factor-on-adam-beta-times-t-lr-doubled",
        "adam",
        {"adam-bias-correction", "scale"},
        ("m_hat = m / (1 - beta1 ** t)", ADAM_RETURN),
        ("m_hat = m / (1 - beta1 * t)", "return w - 2 * lr * m_hat / (np.sqrt(v_hat) + eps), m, v"),
    )

    # --- operator precedence; a checker moving all of x at once
    bug("bce-grad-precedence", "bce", {"precedence"}, "(p - y) / len(z)", "p - y / len(z)")
    bug(
        "backward-precedence",
        "backward",
        {"precedence"},
        'dz2 = (cache["p"] - y) / N',
        'dz2 = cache["p"] - y / N',
    )
    bug(
        "gc-all-at-once",
        "gradient_check",
        {"one-entry-at-a-time"},
        GC_LOOP,
        "    g[...] = (f(x + eps) - f(x - eps)) / (2 * eps)",
    )


def add_chapters_9_10(bug) -> None:
    """The confusion matrix's and the ridge loss's fresh slips (their right answers are
    common_bugs_confusion_ridge.py's, added to the catalogue after this module's ``add``)."""
    bug("confusion-float", "confusion", {"dtype"}, "dtype=int", "dtype=float")
    bug(
        "confusion-n-from-labels",
        "confusion",
        {"labels-seen", "shape"},
        "np.zeros((n_classes, n_classes), dtype=int)",
        "np.zeros((max(y_true.max(), y_pred.max()) + 1,) * 2, dtype=int)",
    )
    bug(
        "ridge-db-not-mean",
        "ridge",
        {"scale"},
        "db = 2 * r.sum(axis=0) / n",
        "db = 2 * r.sum(axis=0)",
    )
    bug(
        "ridge-no-2",
        "ridge",
        {"mse-half"},
        "dW = 2 * X.T @ r / n + 2 * lam * W",
        "dW = X.T @ r / n + 2 * lam * W",
    )
    bug("ridge-returns-db-dw", "ridge", {"swapped-outputs"}, "return dW, db", "return db, dW")
