"""Right answers beside the mistakes named last (eps in Adam's v, sigmoid' as a (1 + a) or
1 - a, the BCE loss's label term, a checker's signed errors, dz1 = da1 * a1, a column's
max, outputs swapped) and in the styles a learner writes: loops, np.einsum, in-place
operators, float32 kept throughout, other but equal formulas. ``add(right)`` types them
into correct_variants.py's catalogue (through correct_variants_styles.py's hook); each must
PASS with no diagnosis.
"""

from __future__ import annotations

ADAM_HEAD = "def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):\n"

BACKWARD_EINSUM = """
def backward(X, y, params, cache, activation="relu"):
    N = len(X)
    dz2 = cache["p"] - y
    dz2 /= N  # in place, on the new array
    da1 = np.einsum("nk,hk->nh", dz2, params["W2"])
    a1 = cache["a1"]
    if activation == "relu":
        da1 *= a1 > 0  # ReLU's mask read from its output: a1 > 0 exactly where z1 > 0
    else:
        da1 *= (1 - a1) * (1 + a1)
    return {"W1": np.einsum("nd,nh->dh", X, da1), "b1": np.einsum("nh->h", da1),
            "W2": np.einsum("nh,nk->hk", a1, dz2), "b2": np.einsum("nk->k", dz2)}
"""

BACKWARD_LOOPS = """
def backward(X, y, params, cache, activation="relu"):
    N, D = X.shape
    H = params["W1"].shape[1]
    grads = {"W1": np.zeros((D, H)), "b1": np.zeros(H), "W2": np.zeros((H, 1)), "b2": np.zeros(1)}
    for n in range(N):
        dz2 = (cache["p"][n, 0] - y[n, 0]) / N
        for h in range(H):
            a = cache["a1"][n, h]
            grads["W2"][h, 0] += a * dz2
            da = dz2 * params["W2"][h, 0]
            if activation == "relu":
                dz = da if cache["z1"][n, h] > 0 else 0.0
            else:
                dz = da * (1 - a * a)
            grads["b1"][h] += dz
            for d in range(D):
                grads["W1"][d, h] += X[n, d] * dz
        grads["b2"][0] += dz2
    return grads
"""

GC_ABS_OF_RATIO = """
def numerical_gradient(f, x, eps=1e-5):
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        keep = x[i]
        x[i] = keep + eps
        up = f(x)
        x[i] = keep - eps
        down = f(x)
        x[i] = keep
        g[i] = (up - down) / (2 * eps)
    return g


def gradient_check(f, x, analytic_grad, eps=1e-5):
    n = numerical_gradient(f, x, eps)
    a = analytic_grad
    ratio = (a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-8)
    return float(np.abs(ratio).max())
"""

GC_LOOP_ABS = """
def numerical_gradient(f, x, eps=1e-5):
    x = x.astype(float)
    flat = x.reshape(-1)  # a view: writing it moves x
    g = np.empty_like(flat)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f(x)
        flat[i] = old - eps
        g[i] = (up - f(x)) / (2 * eps)
        flat[i] = old
    return g.reshape(x.shape)


def gradient_check(f, x, analytic_grad, eps=1e-5):
    n = numerical_gradient(f, x, eps).ravel()
    worst = 0.0
    for a_i, n_i in zip(np.ravel(analytic_grad), n):
        worst = max(worst, abs(a_i - n_i) / max(abs(a_i), abs(n_i), 1e-8))
    return worst
"""


def add(right) -> None:
    # --- sigmoid' from its output, near a (1 + a) and 1 - a
    right(
        "sigmoid-derivative-a-minus-a-squared",
        "sigmoid_derivative",
        "def sigmoid_derivative(a):\n    return a - a * a\n",
    )
    right(
        "sigmoid-derivative-from-z-recovered",
        "sigmoid_derivative",
        "def sigmoid_derivative(a):\n    e = (1 - a) / a  # exp(-z), z recovered from a\n"
        "    return e / (1 + e) ** 2\n",
    )
    right(
        "sigmoid-derivative-in-place-on-a-copy",
        "sigmoid_derivative",
        "def sigmoid_derivative(a):\n    out = 1 - a\n    out *= a\n    return out\n",
    )
    right(
        "sigmoid-derivative-quarter-minus-square",
        "sigmoid_derivative",
        "def sigmoid_derivative(a):\n    return 0.25 - (a - 0.5) ** 2\n",
    )
    # --- the BCE loss from logits, other equal forms
    right(
        "bce-loss-two-softplus-terms",
        "bce_with_logits",
        "def bce_with_logits(z, y):\n"
        "    return float(np.mean(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)))\n\n"
        "def bce_with_logits_grad(z, y):\n"
        "    return (1 / (1 + np.exp(-np.clip(z, -30, 30))) - y) / z.shape[0]\n",
    )
    right(
        "bce-loss-max-plus-log1p",
        "bce_with_logits",
        "def bce_with_logits(z, y):\n"
        "    l = np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))\n"
        "    return l.sum() / len(z)\n\n"
        "def bce_with_logits_grad(z, y):\n"
        "    e = np.exp(-np.abs(z))\n"
        "    p = np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n"
        "    return (p - y) / len(z)\n",
    )
    right(
        "bce-loss-loop-over-samples",
        "bce_with_logits",
        "import math\n\n"
        "def _softplus(t):\n    return max(t, 0.0) + math.log1p(math.exp(-abs(t)))\n\n"
        "def bce_with_logits(z, y):\n"
        "    total = 0.0\n"
        "    for z_i, y_i in zip(z.ravel(), y.ravel()):\n"
        "        total += y_i * _softplus(-z_i) + (1 - y_i) * _softplus(z_i)\n"
        "    return total / z.size\n\n"
        "def bce_with_logits_grad(z, y):\n"
        "    g = np.empty_like(z)\n"
        "    for i, (z_i, y_i) in enumerate(zip(z.ravel(), y.ravel())):\n"
        "        e = math.exp(-abs(z_i))\n"
        "        p = 1 / (1 + e) if z_i >= 0 else e / (1 + e)\n"
        "        g.flat[i] = (p - y_i) / z.size\n"
        "    return g\n",
    )
    # --- Adam: eps outside the root, after the correction, in other styles
    right(
        "adam-denominator-in-place",
        "adam",
        ADAM_HEAD + "    m = beta1 * m + (1 - beta1) * grad\n"
        "    v = beta2 * v + (1 - beta2) * np.square(grad)\n"
        "    denom = np.sqrt(v / (1 - beta2 ** t))\n"
        "    denom += eps\n"
        "    return w - lr * (m / (1 - beta1 ** t)) / denom, m, v\n",
    )
    right(
        "adam-step-size-folded",
        "adam",
        ADAM_HEAD + "    m = beta1 * m + (1 - beta1) * grad\n"
        "    v = beta2 * v + (1 - beta2) * grad * grad\n"
        "    c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t\n"
        "    return w - (lr / c1) * m / (np.sqrt(v) / c2 ** 0.5 + eps), m, v\n",
    )
    right(
        "adam-float32-kept-by-casting-constants",
        "adam",
        ADAM_HEAD + "    dt = w.dtype.type\n"
        "    b1, b2 = dt(beta1), dt(beta2)\n"
        "    m = b1 * m + (dt(1) - b1) * grad\n"
        "    v = b2 * v + (dt(1) - b2) * grad ** 2\n"
        "    m_hat = m / (dt(1) - b1 ** t)\n"
        "    v_hat = v / (dt(1) - b2 ** t)\n"
        "    return w - dt(lr) * m_hat / (np.sqrt(v_hat) + dt(eps)), m, v\n",
    )
    # --- the gradient checker: |.| of the ratio, abs() in a loop
    right("gradient-check-abs-of-the-ratio", "gradient_check", GC_ABS_OF_RATIO)
    right("gradient-check-loop-with-abs", "gradient_check", GC_LOOP_ABS)
    # --- backward: the derivative from the output, einsum, in place, loops
    right("backward-einsum-mask-from-a1", "backward", BACKWARD_EINSUM)
    right("backward-loops-over-samples", "backward", BACKWARD_LOOPS)
    # --- beside the models named since: a row's own max, sigmoid from softplus, tuples in order
    right(
        "softmax-max-over-the-last-axis",
        "softmax",
        "def softmax(z):\n    e = np.exp(z - np.max(z, axis=-1, keepdims=True))\n"
        "    return e / np.sum(e, axis=-1, keepdims=True)\n",
    )
    right(
        "softmax-row-max-indexed",
        "softmax",
        "def softmax(z):\n    e = np.exp(z - z.max(1)[:, None])\n"
        "    return e / e.sum(1)[:, None]\n",
    )
    right(
        "bce-grad-sigmoid-from-softplus",
        "bce_with_logits",
        "def bce_with_logits(z, y):\n    return float(np.mean(np.logaddexp(0, z) - y * z))\n\n"
        "def bce_with_logits_grad(z, y):\n"
        "    p = np.exp(-np.logaddexp(0, -z))  # sigmoid(z) = exp(-softplus(-z))\n"
        "    return (p - y) / len(z)\n",
    )
    right(
        "momentum-copies-then-in-place",
        "sgd_momentum",
        "def sgd_momentum_step(w, grad, velocity, lr, momentum):\n"
        "    w = w.copy()\n    v = velocity * momentum\n    v -= lr * grad\n"
        "    w += v\n    return (w, v)\n",
    )
    right(
        "forward-tanh-from-a-sigmoid",
        "forward",
        "def forward(X, params, activation='relu'):\n"
        "    cache = {}\n"
        "    cache['z1'] = X @ params['W1'] + params['b1']\n"
        "    if activation == 'relu':\n"
        "        cache['a1'] = cache['z1'] * (cache['z1'] > 0)\n"
        "    else:\n"
        "        cache['a1'] = 2 / (1 + np.exp(-2 * cache['z1'])) - 1  # tanh = 2 sigmoid(2z) - 1\n"
        "    cache['z2'] = cache['a1'] @ params['W2'] + params['b2']\n"
        "    cache['p'] = np.exp(-np.logaddexp(0, -cache['z2']))\n"
        "    return cache\n",
    )
    right(
        "adam-entry-by-entry",
        "adam",
        ADAM_HEAD
        + "    new_w, new_m, new_v = np.empty_like(w), np.empty_like(m), np.empty_like(v)\n"
        "    for i in np.ndindex(w.shape):\n"
        "        new_m[i] = beta1 * m[i] + (1 - beta1) * grad[i]\n"
        "        new_v[i] = beta2 * v[i] + (1 - beta2) * grad[i] ** 2\n"
        "        m_hat = float(new_m[i]) / (1 - beta1 ** t)\n"
        "        v_hat = float(new_v[i]) / (1 - beta2 ** t)\n"
        "        new_w[i] = w[i] - lr * m_hat / (v_hat ** 0.5 + eps)\n"
        "    return new_w, new_m, new_v\n",
    )
    # --- beside p - y / N and all of x moved at once
    right(
        "bce-grad-each-term-divided",
        "bce_with_logits",
        "def bce_with_logits(z, y):\n    return float(np.mean(np.logaddexp(0, z) - y * z))\n\n"
        "def bce_with_logits_grad(z, y):\n    n = len(z)\n"
        "    return np.exp(-np.logaddexp(0, -z)) / n - y / n\n",
    )
    right(
        "gradient-check-basis-vectors",
        "gradient_check",
        GC_ABS_OF_RATIO.replace(
            """    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        keep = x[i]
        x[i] = keep + eps
        up = f(x)
        x[i] = keep - eps
        down = f(x)
        x[i] = keep
        g[i] = (up - down) / (2 * eps)
    return g""",
            """    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps  # one entry at a time, on new arrays: x itself is never written
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g""",
        ),
    )
