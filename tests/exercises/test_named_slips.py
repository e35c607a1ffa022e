"""The slips named since the catalogue of common_bugs_named.py, asserted on their own: what
each name rests on, that none of them is said of a right answer, and where an error raised
inside NumPy is placed (the answer's line, not NumPy's)."""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import handgrad.exercises as ex
from handgrad.exercises.running import _NOT_THE_ANSWERS, describe_error

MSE = "def mse(y_pred, y_true):\n"
NEW_CODES = {
    "abs-for-relu", "tanh-prime", "square-each", "root-taken", "mae-for-mse", "broadcast",
    "layer-input", "old-velocity", "one-hot-labels", "largest-error",
}  # fmt: skip


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_{name}", Path(__file__).with_name(name))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check(name: str, source: str):
    namespace: dict = {}
    exec(compile("import numpy as np\n" + source, f"<{name}>", "exec"), namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return ex.check(name, namespace)


def test_every_new_code_is_in_the_slip_catalogue():
    bugs = _load("common_bugs.py").BUGS
    named = {code for _, _, codes, _, _ in bugs for code in codes}
    assert NEW_CODES <= named
    assert "row-index" in {
        c for _, e, codes, _, _ in bugs if e == "softmax_cross_entropy" for c in codes
    }


@pytest.mark.parametrize(
    "name,source",
    [
        # each a right answer whose numbers sit next to a new mistake's
        ("relu", "def relu(z):\n    return (z + np.abs(z)) / 2\n"),
        ("tanh_derivative", "def tanh_derivative(a):\n    return (1 - a) * (1 + a)\n"),
        ("mse", MSE + "    return np.linalg.norm(y_pred - y_true) ** 2 / y_true.size\n"),
        ("mse", MSE + "    d = np.ravel(y_pred) - np.ravel(y_true)\n    return d @ d / d.size\n"),
        ("mse", MSE + "    return np.mean(np.square(y_pred - y_true.reshape(y_pred.shape)))\n"),
        ("l2_penalty", "def l2_penalty(w, lam):\n    return lam / 2 * np.linalg.norm(w) ** 2\n\n"
                       "def l2_penalty_grad(w, lam):\n    return lam * w\n"),
        ("sgd_momentum", "def sgd_momentum_step(w, grad, velocity, lr, momentum):\n"
                         "    step = momentum * velocity - lr * grad\n    return w + step, step\n"),
    ],
)  # fmt: skip
def test_a_right_answer_beside_a_new_mistake_passes(name, source):
    """(Every right answer of correct_variants.py passes with no code at all, in
    test_correct_variants; these sit closest to the new mistakes' numbers.)"""
    result = _check(name, source)
    assert result.passed and result.diagnoses == [], str(result)


def test_one_number_that_fits_a_mistake_by_chance_does_not_name_it():
    """0.5 * mean(d^2) on one sample d = 2 is 2 = |d| = sqrt(d^2): the other cases rule the
    absolute and the root error out, so neither is named, and the factor 0.5 seen on every
    case is."""
    result = ex.check("mse", lambda p, y: 0.5 * np.mean((p - y) ** 2))
    assert result.diagnoses == ["scale"], str(result)


def test_of_two_mistakes_that_fit_one_case_the_one_the_others_rule_out_goes():
    """|d| and sqrt(d^2) agree on the worked example (both errors 0.2): RMSE there is
    named RMSE only, because the batch of ten rules the absolute error out."""
    rmse = ex.check("mse", lambda p, y: np.sqrt(np.mean((p - y) ** 2)))
    mae = ex.check("mse", lambda p, y: np.mean(np.abs(p - y)))
    assert rmse.cases[0].diagnoses == ["root-taken"] and rmse.diagnoses == ["root-taken"]
    assert mae.cases[0].diagnoses == ["mae-for-mse"] and mae.diagnoses == ["mae-for-mse"]


def test_a_factor_found_on_top_of_a_mistake_goes_with_it():
    """The naive softmax cross-entropy at logits of 800: its gradient happens to be half
    of what p[:, y] -= 1 gives, but its loss is inf, which that mistake does not give: the
    mistake is not named, nor the factor that came with it."""
    source = _load("common_bugs.py")
    bug = next(b for b in source.BUGS if b[0] == "sce-naive")
    namespace: dict = {}
    exec(compile(bug[4], "<sce>", "exec"), namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = ex.check("softmax_cross_entropy", namespace)
    assert result.diagnoses == ["unstable"], str(result)


def test_the_gradient_checkers_mean_is_named_and_the_other_definition_passes():
    gc = _load("common_bugs.py").BASES["gradient_check"][1]
    mean = gc.replace("float(np.max(", "float(np.mean(")
    assert _check("gradient_check", mean).diagnoses == ["largest-error"]
    other = gc.replace(
        "np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-8)",
        "np.maximum(np.abs(a) + np.abs(n), 1e-8)",
    )
    assert _check("gradient_check", other).passed


# --- an error raised inside NumPy is placed at the answer's line ----------------------------


def _from_file(tmp_path: Path, name: str, source: str):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    namespace: dict = {}
    exec(compile(source, str(path), "exec"), namespace)
    return ex.check(name, namespace)


def test_a_misspelt_numpy_function_names_the_answers_line(tmp_path):
    source = (
        "import numpy as np\n\n" + MSE + "    d = y_pred - y_true\n    return np.maen(d ** 2)\n"
    )
    message = _from_file(tmp_path, "mse", source).cases[0].message
    assert "no attribute 'maen'" in message
    assert "(line 5: return np.maen(d ** 2))" in message, message


def test_a_shape_error_inside_np_dot_names_the_answers_line(tmp_path):
    source = (
        "import numpy as np\n\ndef forward(X, params, activation='relu'):\n"
        "    z1 = np.dot(params['W1'], X) + params['b1']\n    return {'z1': z1}\n"
    )
    result = _from_file(tmp_path, "forward", source)
    message = result.cases[0].message
    assert "not aligned" in message and "(line 4: z1 = np.dot(params['W1'], X)" in message
    assert result.diagnoses == ["product-shapes"]


def test_an_error_deep_in_numpys_python_code_names_the_answers_line(tmp_path):
    """np.linalg.norm with an axis the array lacks raises in NumPy's Python code, frames
    below the answer's."""
    source = (
        "import numpy as np\n\n" + MSE + "    return np.linalg.norm(y_pred - y_true, axis=3) ** 2\n"
    )
    message = _from_file(tmp_path, "mse", source).cases[0].message
    assert "(line 4: return np.linalg.norm(" in message, message


def test_numpys_folder_and_the_interpreters_are_not_the_answers():
    numpy_dir = os.path.dirname(np.__file__)
    assert numpy_dir.startswith(_NOT_THE_ANSWERS) or os.path.realpath(numpy_dir).startswith(
        _NOT_THE_ANSWERS
    )
    assert os.__file__.startswith(_NOT_THE_ANSWERS) or os.path.realpath(os.__file__).startswith(
        _NOT_THE_ANSWERS
    )
    assert all(folder.endswith(os.sep) for folder in _NOT_THE_ANSWERS)  # not a prefix of a name
    try:
        np.maen  # noqa: B018
    except AttributeError as exc:
        # this test's frame is the "answer" here: its line, not numpy/__init__.py's
        assert describe_error(exc).endswith("np.maen  # noqa: B018)")
