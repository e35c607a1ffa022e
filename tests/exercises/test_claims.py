"""The new diagnoses' claims hold where they are made and are not made elsewhere: where a
wrong output goes wrong, a product's shapes, a lost keepdims only against the batch, a list
for an array, an input the answer does not read, a mistake and a factor only when nothing
simpler explains the numbers."""

from __future__ import annotations

import numpy as np
import pytest

import handgrad.exercises as ex
from handgrad.exercises import check_file, get
from handgrad.exercises.catalogue import Case
from handgrad.exercises.checking import error_codes


def _check(name: str, source: str):
    namespace: dict = {"np": np}
    exec(compile(source, f"<{name}>", "exec"), namespace)
    return ex.check(name, namespace)


BROADCAST = "operands could not be broadcast together with shapes ({}) ({}) "


@pytest.mark.parametrize(
    "a,b,codes",
    [
        ("16,5", "16,", ["keepdims"]),  # (N, C) against (N,): an axis lost, N = 16
        ("16,", "16,5", ["keepdims"]),
        ("5,16", "5,", []),  # (H, N) against (H,): a transposed product, not a lost axis
        ("16,5", "3,", []),
    ],
)
def test_a_broadcast_error_is_a_lost_keepdims_only_against_the_batch(a, b, codes):
    case = Case("a batch of 16", {}, batch=16)
    assert error_codes(BROADCAST.format(a, b), case) == codes


@pytest.mark.parametrize(
    "product", ["np.ones((4, 3)) @ np.ones((16, 3))", "np.dot(np.ones((4, 3)), np.ones((16, 3)))"]
)
def test_a_product_whose_inner_sizes_differ_is_named(product):
    try:
        eval(product)
    except ValueError as exc:
        assert error_codes(str(exc)) == ["product-shapes"]
    else:  # pragma: no cover - the product must fail
        raise AssertionError(product)


def test_an_overflow_past_the_first_entries_says_where_and_at_which_input():
    result = _check("tanh", "def tanh(z):\n    return (np.exp(2 * z) - 1) / (np.exp(2 * z) + 1)\n")
    assert result.diagnoses == ["unstable"]
    extreme = result.cases[-1].message
    assert "1 of 5 entries wrong, the first at [0, 4]: expected 1, got nan (z = 800)" in extreme


def test_a_loss_that_overflows_names_its_largest_input():
    result = _check(
        "bce_with_logits",
        "def bce_with_logits(z, y):\n    return np.mean(np.log(1 + np.exp(z)) - y * z)\n"
        "def bce_with_logits_grad(z, y):\n    return (1 / (1 + np.exp(-z)) - y) / len(z)\n",
    )
    assert result.diagnoses == ["unstable"]
    assert "(the inputs reach |z| = 800; exp overflows past 709.78)" in result.cases[-1].message


def test_a_right_first_entry_does_not_get_a_where():
    result = _check("relu", "def relu(z):\n    return np.maximum(z, 0) * 2\n")
    assert all("entries wrong" not in c.message for c in result.cases)


def test_a_list_of_the_right_numbers_fails_as_not_an_array():
    result = _check("relu", "def relu(z):\n    return np.maximum(z, 0).tolist()\n")
    assert not result.passed
    first, batch, float32, any_shape, worked = result.cases
    assert first.diagnoses == batch.diagnoses == worked.diagnoses == ["not-an-array"]
    assert any_shape.diagnoses == ["not-an-array"]
    assert float32.diagnoses == ["dtype", "not-an-array"]  # Python floats: float64 too
    assert "a Python list where the contract asks for a NumPy array" in first.message


def test_a_number_or_a_tuple_of_arrays_is_not_called_a_list():
    assert _check(
        "mse", "def mse(y_pred, y_true):\n    return float(np.mean((y_pred - y_true) ** 2))\n"
    ).passed
    source = (
        "def sgd_momentum_step(w, grad, velocity, lr, momentum):\n"
        "    v = momentum * velocity - lr * grad\n    return [w + v, v]\n"
    )
    assert _check("sgd_momentum", source).passed


def test_an_argument_never_read_is_named_and_a_used_one_is_not():
    source = (
        "lr = 0.01\n\ndef gd_step(params, grads, learning_rate):\n"
        "    return {k: params[k] - lr * grads[k] for k in params}\n"
    )
    result = _check("gd_step", source)
    assert "ignores-input" in result.diagnoses
    assert "the same when lr changes" in result.cases[0].message
    # the same factor from a wrong constant that reads lr: a scale, not an unread argument
    scaled = _check(
        "gd_step",
        "def gd_step(params, grads, lr):\n"
        "    return {k: params[k] - 0.1 * lr * grads[k] for k in params}\n",
    )
    assert scaled.diagnoses == ["scale"], str(scaled)


def test_a_constant_output_is_not_said_to_ignore_its_inputs():
    result = _check("relu", "def relu(z):\n    return np.zeros_like(z)\n")
    assert "ignores-input" not in result.diagnoses


def test_a_mistake_and_a_factor_is_not_named_where_one_factor_explains_it():
    """Twice the central difference is also "a forward difference times 2" to within its
    error: only the factor is named."""
    result = _check(
        "gradient_check",
        "def numerical_gradient(f, x, eps=1e-5):\n    x = x.copy()\n    g = np.zeros_like(x)\n"
        "    for i in np.ndindex(x.shape):\n        old = x[i]\n"
        "        x[i] = old + eps; up = f(x)\n        x[i] = old - eps; down = f(x)\n"
        "        x[i] = old\n        g[i] = (up - down) / eps\n    return g\n"
        "def gradient_check(f, x, a, eps=1e-5):\n    return 0.0\n",
    )
    assert result.cases[0].diagnoses == ["scale"], str(result)


SANDBOX = {
    "not-an-array": ("sigmoid", "import math\ndef sigmoid(z):\n"
                     "    return [[1 / (1 + math.exp(-v)) for v in row] for row in z.tolist()]\n"),
    "ignores-input": ("l2_penalty", "import numpy as np\nLAM = 0.5\n"
                      "def l2_penalty(w, lam):\n    return LAM / 2 * np.sum(w ** 2)\n"
                      "def l2_penalty_grad(w, lam):\n    return LAM * w\n"),
    "product-shapes": ("forward", "import numpy as np\ndef forward(X, params, activation):\n"
                       "    z1 = params['W1'] @ X\n    return {'z1': z1}\n"),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("code", sorted(SANDBOX))
def test_the_sandbox_names_them_too(tmp_path, code):
    """The list flag and the unread inputs cross the channel from the child."""
    name, source = SANDBOX[code]
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    result = check_file(get(name), path)
    assert code in result.diagnoses, str(result)


def _bce_with_loss(loss):
    """A namespace whose bce_with_logits is loss(z, y, the right mean) and whose gradient
    is right."""

    def right(z, y):
        return np.logaddexp(0, z) - y * z

    return {
        "bce_with_logits": lambda z, y: loss(z, y, float(np.mean(right(z, y)))),
        "bce_with_logits_grad": lambda z, y: (0.5 * (1 + np.tanh(0.5 * z)) - y) / len(z),
    }


def test_a_factor_on_one_number_alone_is_a_coincidence_when_the_others_show_none():
    """mean |d|^1.5 / sqrt(2) for mean d^2: on one sample d = 2 gives 2 for 4, "a factor
    0.5" (and |d|, and sqrt(d^2)), but the other cases show no factor and rule those
    mistakes out, so nothing is named (`scale`'s hint says a 1/2 is missing). mean |d| does
    the same on that sample, and is named for what it is."""
    result = ex.check("mse", lambda p, y: np.mean(np.abs(p - y) ** 1.5) / np.sqrt(2))
    assert not result.passed and result.diagnoses == [], str(result)
    mae = ex.check("mse", lambda p, y: np.mean(np.abs(p - y)))
    assert mae.diagnoses == ["mae-for-mse"], str(mae)
    # with no known mistake there, a factor 2 on one sample alone is called a coincidence
    twice_alone = _bce_with_loss(lambda z, y, mean: mean * (2.0 if len(z) == 1 else 1.3))
    result = ex.check("bce_with_logits", twice_alone)
    one = next(c for c in result.cases if c.name == "one sample (N, 1)")
    assert "scale" not in result.diagnoses, str(result)
    assert "a coincidence, not a missing 1/N or 1/2" in one.message, str(result)
    # a real factor shows on every case and stays named
    assert ex.check("mse", lambda p, y: np.sum((p - y) ** 2)).diagnoses == ["scale"]


def test_an_input_read_by_another_output_is_not_called_unread():
    """The weights updated with the old velocity: w1 does not move with lr (the old
    velocity is 0), but w2 does, so lr is read; no `ignores-input`."""
    source = (
        "def sgd_momentum_step(w, grad, velocity, lr, momentum):\n"
        "    v = momentum * velocity - lr * grad\n    return w + velocity, v\n"
    )
    result = _check("sgd_momentum", source)
    assert not result.passed and "ignores-input" not in result.diagnoses, str(result)
