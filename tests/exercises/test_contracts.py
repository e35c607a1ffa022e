"""What an exercise's contract states, some case exercises: an answer that breaks the contract
where no case looked (one max for the whole batch, a matrix-only loop, predict's column, the
right numbers of the wrong kind) fails and is named; a right answer passes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import handgrad.exercises as ex
from handgrad.exercises import get


def _check(name: str, source: str):
    namespace: dict = {"np": np}
    exec(compile(source, f"<{name}>", "exec"), namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return ex.check(name, namespace)


FAR_ROWS = "rows 1,600 apart: [800, 0, 0] and [-800, -800, -800]"


@pytest.mark.parametrize("name", ["softmax", "softmax_cross_entropy", "multiclass_nn"])
def test_a_contract_finite_for_large_logits_has_a_case_of_them(name):
    exercise = get(name)
    assert "800" in exercise.contract or "large logits" in exercise.contract
    assert any("extreme" in case.tags for case in exercise.cases())


def test_rows_far_apart_are_a_case_wherever_a_row_is_shifted_by_its_max():
    for name in ("softmax", "softmax_cross_entropy"):
        far = next(c for c in get(name).cases() if c.name == FAR_ROWS)
        z = far.inputs["z"]
        assert z.max(axis=1)[0] - z.max(axis=1)[1] == 1600  # exp(-1600) = 0 in float64
        expected = get(name).expected_outputs(far)
        assert all(np.all(np.isfinite(np.asarray(v))) for v in expected.values())


def test_one_max_for_the_whole_batch_fails_only_where_rows_are_far_apart():
    result = _check(
        "softmax", "def softmax(z):\n    e = np.exp(z - np.max(z))\n"
        "    return e / e.sum(axis=1, keepdims=True)\n"
    )  # fmt: skip
    failed = [c for c in result.cases if not c.passed]
    assert [c.name for c in failed] == [FAR_ROWS]
    assert failed[0].diagnoses == ["batch-max"]
    assert "expected 0.333333, got nan (z = -800)" in failed[0].message
    assert "keepdims=True" in str(result)  # the hint says how


def test_each_row_shifted_by_its_own_max_passes_the_far_rows():
    for source in (
        "def softmax(z):\n    e = np.exp(z - z.max(axis=1, keepdims=True))\n"
        "    return e / e.sum(axis=1, keepdims=True)\n",
        "def softmax(z):\n    e = np.exp(z - np.max(z, axis=1)[:, None])\n"
        "    return e / np.sum(e, axis=1)[:, None]\n",
    ):
        assert _check("softmax", source).passed


def test_the_log_sum_exp_with_the_batch_max_is_named_in_the_cross_entropy():
    result = _check(
        "softmax_cross_entropy",
        "def _ls(z):\n    m = z.max()\n"
        "    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))\n"
        "def softmax_cross_entropy(z, y):\n    return -np.mean(_ls(z)[np.arange(len(y)), y])\n"
        "def softmax_cross_entropy_grad(z, y):\n    p = np.exp(_ls(z))\n"
        "    p[np.arange(len(y)), y] -= 1\n    return p / len(y)\n",
    )
    assert [c.name for c in result.cases if not c.passed] == [FAR_ROWS]
    assert result.diagnoses == ["batch-max"]


def test_no_batch_max_is_claimed_for_a_softmax_with_no_shift_at_all():
    result = _check(
        "softmax", "def softmax(z):\n    e = np.exp(z)\n    return e / e.sum(1)[:, None]\n"
    )
    assert result.diagnoses == ["unstable"], str(result)


def test_a_gradient_checker_for_matrices_only_fails_on_a_vector():
    """numerical_gradient's result is "shaped like x": any x, not only a matrix."""
    result = _check(
        "gradient_check",
        "def numerical_gradient(f, x, eps=1e-5):\n    g = np.zeros_like(x)\n"
        "    for i in range(x.shape[0]):\n        for j in range(x.shape[1]):\n"
        "            old = x[i, j]\n            x[i, j] = old + eps\n            up = f(x)\n"
        "            x[i, j] = old - eps\n            down = f(x)\n            x[i, j] = old\n"
        "            g[i, j] = (up - down) / (2 * eps)\n    return g\n"
        "def gradient_check(f, x, a, eps=1e-5):\n    n = numerical_gradient(f, x, eps)\n"
        "    return float(np.max(np.abs(a - n) / np.maximum(np.maximum(abs(a), abs(n)), 1e-8)))\n",
    )
    assert [c.name for c in result.cases if not c.passed] == ["numerical gradient of a vector (5,)"]


@pytest.mark.parametrize(
    "name,source,why",
    [
        ("one_hot", "def one_hot(y, n):\n    return np.eye(n, dtype=int)[y]\n",
         "integers (int64) where floats are asked"),
        ("one_hot", "def one_hot(y, n):\n    return np.arange(n) == np.asarray(y)[:, None]\n",
         "booleans (bool) where floats are asked"),
        ("count_parameters",
         "def count_parameters(s):\n    return float(sum(a * b + b for a, b in zip(s, s[1:])))\n",
         "a float (float64) where an integer is asked"),
    ],
)  # fmt: skip
def test_the_right_numbers_of_the_wrong_kind_fail_as_dtype(name, source, why):
    result = _check(name, source)
    assert not result.passed and result.diagnoses == ["dtype"]
    assert all(why in c.message and "the numbers themselves are right" in c.message
               for c in result.cases)  # fmt: skip


def test_the_same_kind_passes_however_it_is_made():
    assert _check("one_hot", "def one_hot(y, n):\n    return np.eye(n)[y]\n").passed
    assert _check(
        "one_hot", "def one_hot(y, n):\n    return np.eye(n, dtype=np.float32)[y]\n"
    ).passed
    counts = (
        "def count_parameters(s):\n    return int(np.sum(np.multiply(s[:-1], s[1:]) + s[1:]))\n"
    )
    assert _check("count_parameters", counts).passed


def test_multiclass_takes_integer_labels_as_its_contract_says():
    exercise = get("multiclass_nn")
    assert "ints or floats" in exercise.contract
    kinds = {c.inputs["y"].dtype.kind for c in exercise.cases() if "y" in c.inputs}
    assert kinds == {"i", "f"}


@pytest.mark.parametrize(
    "name,base,old,new,code",
    [
        ("neural_network", "NETWORK", ".astype(int).ravel()", ".astype(int)", "shape"),
        ("neural_network", "NETWORK", ".astype(int).ravel()", ".ravel()", "dtype"),
        ("multiclass_nn", "MULTICLASS", "axis=1)\n", "axis=1)[:, None]\n", "shape"),
    ],
)
def test_predict_gives_n_integers(name, base, old, new, code):
    from importlib.util import module_from_spec, spec_from_file_location
    from pathlib import Path

    spec = spec_from_file_location("_mutants_c", Path(__file__).with_name("mutants.py"))
    mutants = module_from_spec(spec)
    spec.loader.exec_module(mutants)
    source = getattr(mutants, base)
    assert source.count(old) >= 1
    head, _, tail = source.rpartition(old)  # predict is the class's last method
    result = _check(name, head + new + tail)
    failed = [c for c in result.cases if not c.passed]
    # the case that learns (XOR, the blobs) and, for NeuralNetwork, the forward case's
    # predict(X, threshold=0.7): each says predict, with the one code
    assert 1 <= len(failed) <= 2 and all(c.diagnoses == [code] for c in failed), str(result)
    assert any("predict returned" in c.message for c in failed)
    assert all("predict" in c.message for c in failed)


def _classes():
    from importlib.util import module_from_spec, spec_from_file_location
    from pathlib import Path

    spec = spec_from_file_location("_mutants_f", Path(__file__).with_name("mutants.py"))
    mutants = module_from_spec(spec)
    spec.loader.exec_module(mutants)
    return {"neural_network": mutants.NETWORK, "multiclass_nn": mutants.MULTICLASS}


FRESH = "a fresh network: layout, He's scale, the seed"


@pytest.mark.parametrize("name", ["neural_network", "multiclass_nn"])
@pytest.mark.parametrize(
    "old,new,why",
    [
        ("* np.sqrt(2 / a)", "", "a std of 12.3 times He's"),
        ("* np.sqrt(2 / a)", "* np.sqrt(1 / a)", "a std of 0.707 times He's"),
        # the seed ignored, deterministically: each network draws from the next of 1, 2, 3...
        (
            "np.random.default_rng(seed)",
            "np.random.default_rng(next(_draws))",
            "made with seed=0 differ",
        ),
    ],
)
def test_a_fresh_network_is_drawn_as_the_contract_says(name, old, new, why):
    source = "import itertools\n_draws = itertools.count(1)\n" + _classes()[name]
    assert old in source
    result = _check(name, source.replace(old, new))
    failed = [c for c in result.cases if not c.passed]
    assert [c.name for c in failed] == [FRESH], str(result)
    assert why in failed[0].message
    assert failed[0].diagnoses == ["initialization"]


XOR_LEARNED = "XOR learned in 2000 epochs"


@pytest.mark.parametrize("name", ["neural_network", "multiclass_nn"])
def test_a_network_drawn_without_its_seed_is_named(name):
    """The slip as learners make it: default_rng() draws from the operating system, so the run
    is not repeatable; the seed is named every time, and the only other case such a draw may fail
    is learning XOR (its three seeds no longer choose the starting weights)."""
    source = _classes()[name]
    result = _check(name, source.replace("np.random.default_rng(seed)", "np.random.default_rng()"))
    failed = {c.name: c for c in result.cases if not c.passed}
    assert FRESH in failed, str(result)
    assert "made with seed=0 differ" in failed[FRESH].message
    assert failed[FRESH].diagnoses == ["initialization"]
    others = [n for n in failed if n != FRESH]
    assert all(n.startswith(XOR_LEARNED) for n in others), str(result)


@pytest.mark.parametrize("name", ["neural_network", "multiclass_nn"])
def test_a_fresh_network_drawn_another_right_way_passes(name):
    """Uniform He (the same std) or standard_normal over sqrt(n_in / 2): as the contract asks."""
    source = _classes()[name]
    old = "rng.normal(size=(a, b)) * np.sqrt(2 / a)"
    assert old in source
    for new in (
        "rng.uniform(-1, 1, size=(a, b)) * np.sqrt(6 / a)",
        "rng.standard_normal((a, b)) / np.sqrt(a / 2)",
    ):
        assert _check(name, source.replace(old, new)).passed


@pytest.mark.parametrize(
    "name", ["relu", "sigmoid", "tanh", "sigmoid_derivative", "tanh_derivative"]
)
def test_any_shape_is_any_shape_not_only_a_matrix(name):
    """A loop over z[i, j] with math (a right formula, for a matrix only) fails the case of
    three axes; the same formula over np.ndindex passes."""
    formula = {
        "relu": "max(v, 0.0)",
        "sigmoid": "1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))",
        "tanh": "math.tanh(v)",
        "sigmoid_derivative": "v * (1 - v)",
        "tanh_derivative": "1 - v * v",
    }[name]
    arg = "a" if name.endswith("derivative") else "z"
    matrix_only = (
        f"import math\ndef {name}({arg}):\n    out = np.zeros_like({arg})\n"
        f"    for i in range({arg}.shape[0]):\n        for j in range({arg}.shape[1]):\n"
        f"            v = float({arg}[i, j])\n            out[i, j] = {formula}\n    return out\n"
    )
    any_shape = (
        f"import math\ndef {name}({arg}):\n    out = np.zeros_like({arg})\n"
        f"    for i in np.ndindex({arg}.shape):\n"
        f"        v = float({arg}[i])\n        out[i] = {formula}\n    return out\n"
    )
    result = _check(name, matrix_only)
    failed = [c.name for c in result.cases if not c.passed]
    assert "any shape: (2, 3, 4)" in failed, str(result)
    assert _check(name, any_shape).passed, str(_check(name, any_shape))
