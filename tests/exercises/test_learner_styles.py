"""Claims the checker makes about the styles and slips of common_bugs_learner.py and
correct_variants_learner.py, asserted on their own: what is changed to see whether an input
is read, which numbers a factor may be read from, what a mistake must match to be named."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import handgrad.exercises as ex
from handgrad.exercises.running import CHANGES, perturbed


def _check(name: str, source: str):
    namespace: dict = {}
    exec(compile("import numpy as np\n" + source, f"<{name}>", "exec"), namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return ex.check(name, namespace)


@pytest.mark.parametrize("value", [0.0, 0.3, 0.5, 0.9, 0.999])
def test_a_number_in_0_1_is_changed_to_others_in_0_1(value):
    """A momentum or a beta changed to 1.25 or -0.25 is refused by the reference (and by
    a right answer): both changes stay in [0, 1) and differ from the value."""
    changed = [perturbed({"momentum": value}, "momentum", c)["momentum"] for c in CHANGES]
    assert all(0.0 <= v < 1.0 for v in changed)
    assert len({value, *changed}) == 3


def test_a_number_outside_0_1_and_arrays_keep_the_affine_changes():
    assert [perturbed({"lam": 2.0}, "lam", c)["lam"] for c in CHANGES] == [4.25, -2.5]
    weights = [np.ones((2, 2)), np.zeros(3)]
    changed = perturbed({"weights": weights}, "weights", CHANGES[0])["weights"]
    assert np.array_equal(changed[0], np.full((2, 2), 2.25))
    assert np.array_equal(changed[1], np.full(3, 0.25))
    assert perturbed({"sizes": [3, 4]}, "sizes", CHANGES[0]) is None


GC = """
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

def gradient_check(f, x, analytic_grad, eps=1e-5):
    n = numerical_gradient(f, x, eps)
    a = np.asarray(analytic_grad)
    return float(np.max(np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-8)))
"""


def test_the_checker_number_is_the_largest_error_not_the_mean():
    assert _check("gradient_check", GC).passed
    mean = _check("gradient_check", GC.replace("float(np.max(", "float(np.mean("))
    failed = [c for c in mean.cases if not c.passed]
    assert [c.name for c in failed] == ["the error's size: one entry wrong"], str(mean)
    assert "the LARGEST relative error over the entries" in failed[0].message


def test_the_other_common_relative_error_passes():
    """|a - n| / (|a| + |n|) is at least half the contract's number: not a slip to fail."""
    source = GC.replace(
        "np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-8)",
        "np.maximum(np.abs(a) + np.abs(n), 1e-8)",
    )
    assert _check("gradient_check", source).passed


def test_an_eps_fixed_inside_is_named():
    source = GC.replace("    x = x.copy()\n", "    eps = 1e-5\n    x = x.copy()\n", 1)
    result = _check("gradient_check", source)
    failed = [c for c in result.cases if not c.passed]
    assert [c.name for c in failed] == ["numerical gradient with eps = 1e-3"], str(result)
    assert failed[0].diagnoses == ["ignores-input"]
    assert "the argument eps read at all" in failed[0].message


def test_a_factor_is_not_read_from_one_number_that_is_not_zero():
    """dz * relu(z) where dz * (z > 0) is meant, on a case with one z > 0: the ratio of the
    one non-zero entry is no evidence of a missing 1/N."""
    result = _check(
        "relu_backward", "def relu_backward(dz, z):\n    return dz * np.maximum(z, 0)\n"
    )
    assert not result.passed
    assert "scale" not in result.diagnoses and "sign" not in result.diagnoses, str(result)


def test_a_mistake_that_matches_one_output_of_a_case_only_is_not_named():
    """m without its (1 - beta1) is 10 m: at t = 1 that equals m_hat ("m_hat returned"),
    at t = 2 and 3 it does not; the factor 10 shows on every step."""
    adam = (
        "def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):\n"
        "    m = beta1 * m + grad\n"
        "    v = beta2 * v + (1 - beta2) * grad ** 2\n"
        "    m_hat = m / (1 - beta1 ** t)\n"
        "    v_hat = v / (1 - beta2 ** t)\n"
        "    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v\n"
    )
    result = _check("adam", adam)
    assert result.diagnoses == ["scale"], str(result)
    assert "a factor 10 times" in result.cases[0].message


def test_a_class_fixing_its_own_learning_rate_is_named_with_the_constructor_argument():
    from importlib.util import module_from_spec, spec_from_file_location
    from pathlib import Path

    spec = spec_from_file_location("_m", Path(__file__).with_name("mutants.py"))
    mutants = module_from_spec(spec)
    spec.loader.exec_module(mutants)
    source = mutants.NETWORK.replace(
        "self.lr, self.momentum = learning_rate, momentum",
        "self.lr, self.momentum = 0.01, momentum",
    )
    result = _check("neural_network", source)
    failed = [c for c in result.cases if not c.passed]
    assert [c.name for c in failed] == ["fit 5 epochs, lr 0.3, momentum 0.5"], str(result)
    assert failed[0].diagnoses == ["ignores-input"]
    assert "is the learning_rate given to the constructor used" in failed[0].message
