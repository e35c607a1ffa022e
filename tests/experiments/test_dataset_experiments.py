"""The classification experiments of seed 001, stages 5 and 6: digits, MNIST, framework.

Each runs through ``run_experiment`` into a temporary folder (quick variants unless the full
run is cheap), and the tests check the numbers it measured, the files it wrote, and that
the section's sentences follow the numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from handgrad.data import load_mnist_subset
from handgrad.experiments import digits as digits_exp
from handgrad.experiments import framework as framework_exp
from handgrad.experiments import run_experiment
from handgrad.experiments.framework import keras_side
from handgrad.install import install_hint


def check_written(result, folder, n_figures: int) -> dict:
    """metrics.json and section.md exist and agree with the result; figures are PNGs."""
    assert (folder / "section.md").read_text().startswith(f"## {result.title}")
    payload = json.loads((folder / "metrics.json").read_text())
    assert payload["name"] == result.name
    assert len(result.figures) == n_figures
    for fig in result.figures:
        assert fig.path.parent == folder and fig.caption
        assert fig.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return payload


# --- digits -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits_quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits_quick")
    return run_experiment("digits", seed=0, out_dir=out, quick=True), out / "digits"


@pytest.mark.slow
def test_digits_quick_accuracy_sweep_and_files(digits_quick):
    result, folder = digits_quick
    m = result.metrics
    payload = check_written(result, folder, 2)
    assert payload["metrics"]["test_accuracy"] == m["test_accuracy"]
    assert m["test_accuracy"] >= 0.95  # quick run: fewer epochs than the full one
    assert m["n_train"] + m["n_test"] == 1797 and m["n_fit"] + m["n_val"] == m["n_train"]
    assert len(m["sweep"]) == len(digits_exp.HIDDEN) * len(digits_exp.LEARNING_RATES)
    chosen = m["sweep"][f"H={m['chosen']['H']},lr={m['chosen']['lr']:g}"]
    assert chosen["final_val_accuracy"] == max(s["final_val_accuracy"] for s in m["sweep"].values())
    # the smallest learning rate leaves the highest training loss at every width
    for H in digits_exp.HIDDEN:
        losses = [m["sweep"][f"H={H},lr={lr:g}"]["final_train_loss"] for lr in (0.01, 0.1, 0.5)]
        assert losses[0] > losses[1] > losses[2]
    assert f"{m['test_accuracy']:.2%}" in result.markdown


@pytest.mark.slow
def test_digits_fused_gradient_checked_numerically(digits_quick):
    g = digits_quick[0].metrics["gradient_check"]
    assert g["engine_vs_formula_max_abs"] < 1e-15
    assert g["finite_diff_passed"] and g["finite_diff_max_rel"] < 1e-7
    assert g["model_gradcheck_passed"] and g["model_gradcheck_max_rel"] < 1e-7
    assert f"{g['finite_diff_max_rel']:.1e}" in digits_quick[0].markdown


@pytest.mark.slow
def test_digits_full_run_reaches_97_percent(tmp_path):
    result = run_experiment("digits", seed=0, out_dir=tmp_path)
    assert result.metrics["test_accuracy"] >= 0.97
    assert "meets the 97 % target" in result.markdown


def fake_sweep(loss_by_lr: dict, val_acc: float = 0.9, rises: int = 0) -> dict:
    """A sweep summary with chosen numbers, to test that the text follows them."""
    return {
        (H, lr): {
            "first_epoch_loss": 2.0,
            "final_train_loss": loss_by_lr[lr] / (1 + k),
            "final_train_accuracy": 1.0,
            "final_val_accuracy": val_acc,
            "final_val_loss": 0.3,
            "epochs_to_95_val": None,
            "loss_increases": rises if lr == 0.5 else 0,
            "diverged": False,
        }
        for k, H in enumerate(digits_exp.HIDDEN)
        for lr in digits_exp.LEARNING_RATES
    }


def test_digits_trend_words():
    assert digits_exp.prose.trend([3, 2, 1]) == "fell"
    assert digits_exp.prose.trend([1, 2, 3]) == "rose"
    assert digits_exp.prose.trend([0.961, 0.967, 0.967]) == "rose or stayed level"
    assert digits_exp.prose.trend([2, 2, 1]) == "fell or stayed level"
    assert digits_exp.prose.trend([1, 1, 1]) == "stayed level"
    assert digits_exp.prose.trend([1, 3, 2]) == "went up and down"


def test_digits_text_follows_the_numbers():
    falling = fake_sweep({0.01: 0.5, 0.1: 0.1, 0.5: 0.01}, rises=9)
    _, lr_lines, bumpy, width = digits_exp.prose.sweep_text(falling, 40)
    assert "training loss fell as the learning rate went" in lr_lines[0]
    assert "bumpier" in bumpy and "27 times at lr=0.5" in bumpy
    assert "(it fell)" in width
    rising = fake_sweep({0.01: 0.01, 0.1: 0.1, 0.5: 0.5}, rises=0)
    _, lr_lines, bumpy, _ = digits_exp.prose.sweep_text(rising, 40)
    assert "at every width the final training loss rose as the learning rate went" in lr_lines[0]
    assert "did not make the curves bumpier" in bumpy
    assert "H=16: never (within 40), never (within 40)" in lr_lines[1]
    mixed = dict(falling)
    mixed[(digits_exp.HIDDEN[0], 0.5)] = {
        **mixed[(digits_exp.HIDDEN[0], 0.5)],
        "final_train_loss": 9.0,
    }
    _, lr_lines, _, _ = digits_exp.prose.sweep_text(mixed, 40)
    assert f"went up and down at H={digits_exp.HIDDEN[0]}" in lr_lines[0]
    assert f"fell at H={digits_exp.HIDDEN[1]}" in lr_lines[0]


# --- MNIST ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_mnist_quick_on_the_packaged_subset(tmp_path):
    result = run_experiment("mnist", seed=0, out_dir=tmp_path, quick=True)
    m = result.metrics
    check_written(result, tmp_path / "mnist", 3)
    assert m["kind"] == "subset" and m["n_train"] == 4000 and m["n_test"] == 1000
    assert m["test_accuracy"] >= 0.90
    conf = np.asarray(m["confusion"])
    assert conf.shape == (10, 10) and conf.sum() == 1000
    assert np.array_equal(conf.sum(axis=1), [100] * 10)  # stratified held-out split
    assert conf.trace() == 1000 - m["errors"]
    assert m["errors"] == round((1 - m["test_accuracy"]) * 1000)
    confidences = [e["confidence"] for e in m["examples"]]
    assert len(confidences) == min(m["errors"], 24)
    assert confidences == sorted(confidences, reverse=True)
    assert all(e["true"] != e["predicted"] for e in m["examples"])
    assert all(c > 0.1 for c in confidences)  # argmax of 10 probabilities is at least 0.1
    pair = m["most_confused_pairs"][0]
    assert (
        conf[pair["true"], pair["predicted"]]
        == pair["count"]
        == conf[~np.eye(10, dtype=bool)].max()
    )
    assert len(m["curves"]["held_out_accuracy"]) == m["epochs"]
    assert f"{m['test_accuracy']:.2%}" in result.markdown


@pytest.mark.slow
def test_mnist_with_a_path_uses_the_given_split_and_judges_the_target(tmp_path):
    """The --mnist PATH route, on a small npz cut from the packaged subset (fast)."""
    images, labels = load_mnist_subset()
    order = np.random.default_rng(0).permutation(len(labels))
    train, test = order[:3000], order[3000:4000]
    path = tmp_path / "small_mnist.npz"
    np.savez_compressed(
        path,
        x_train=images[train].reshape(-1, 28, 28),
        y_train=labels[train],
        x_test=images[test].reshape(-1, 28, 28),
        y_test=labels[test],
    )
    result = run_experiment("mnist", seed=1, out_dir=tmp_path / "out", quick=True, mnist=path)
    m = result.metrics
    assert m["kind"] == "full" and m["n_train"] == 3000 and m["n_test"] == 1000
    assert m["held_out_name"] == "test"
    assert m["meets_target"] == (m["test_accuracy"] >= 0.98)
    # 3,000 images for 2 epochs cannot reach 98 %: the section must say so
    assert not m["meets_target"] and "does NOT meet the 98% target" in result.markdown
    with pytest.raises(TypeError, match="unexpected option"):
        run_experiment("mnist", out_dir=tmp_path / "x", quick=True, epochs=3)


# --- framework --------------------------------------------------------------------------------


def gradient_descent_iterate(lam: float, W0, steps: int = framework_exp.EPOCHS):
    """Closed form of full-batch GD on mean((X w + b - y)^2) + lam |w|^2 (centered X).

    w_t = w* + (I - 2 lr A)^t (w_0 - w*) with A = X^T X / N + lam I and w* = A^-1 X^T y_c / N;
    -> (w_t, w*, the optimal bias = mean(y)).
    """
    X = (framework_exp.X_RAW - framework_exp.X_RAW.mean(0)) / framework_exp.X_RAW.std(0)
    y = framework_exp.Y[:, 0]
    n = len(y)
    A = X.T @ X / n + lam * np.eye(3)
    w_star = np.linalg.solve(A, X.T @ (y - y.mean()) / n)
    M = np.linalg.matrix_power(np.eye(3) - 2 * framework_exp.LR * A, steps)
    return w_star + M @ (np.asarray(W0) - w_star), w_star, y.mean()


def test_framework_handgrad_half_without_keras(tmp_path):
    result = run_experiment("framework", seed=0, out_dir=tmp_path, quick=True, keras=False)
    check_written(result, tmp_path / "framework", 2)
    h, k = result.metrics["handgrad"], result.metrics["keras"]
    assert k == {"available": False, "reason": "switched off (keras=False)"}
    assert "Keras comparison skipped" in result.markdown
    W0 = result.metrics["initial_W"]
    w_t, w_star, b_star = gradient_descent_iterate(framework_exp.LAM, W0)
    np.testing.assert_allclose(h["W_std"], w_t, rtol=1e-10)
    assert h["b_std"] == pytest.approx(b_star, rel=1e-12)
    # 1000 steps do not reach the optimum (nearly collinear features); the section says so
    r = result.metrics["ridge"]
    np.testing.assert_allclose(r["w_star"], w_star, rtol=1e-12)
    assert r["relative_distance_to_optimum"] > 1e-3 and "Not quite" in result.markdown
    # the other convention runs the same descent with lam / 2
    w_half, _, _ = gradient_descent_iterate(framework_exp.LAM / 2, W0)
    np.testing.assert_allclose(result.metrics["half_convention"]["W_std"], w_half, rtol=1e-10)
    assert result.metrics["half_convention"]["max_abs_weight_diff"] > 0.1
    # A and B differ only in age: the difference is the age weight times 44 years
    assert h["people"]["B"] - h["people"]["A"] == pytest.approx(h["W_orig"][1] * 44, rel=1e-9)


def test_framework_reports_a_missing_keras(tmp_path, monkeypatch):
    monkeypatch.setattr(
        keras_side, "backend_or_reason", lambda: (None, "Keras is not installed (test)")
    )
    result = framework_exp.run(seed=0, out_dir=tmp_path, quick=True)
    assert result.metrics["keras"]["available"] is False
    assert "skipped:** Keras is not installed (test)" in result.markdown
    hint = install_hint("framework")
    assert "[framework]'" in hint and hint in result.markdown
    # and the tour's status line says what was skipped and the command that enables it
    assert result.skipped == [f"the Keras half: Keras is not installed (test) ({hint})"]
    assert len(result.figures) == 2


@pytest.mark.parametrize(
    "installed, env, expected",
    [
        (set(), None, (None, "Keras is not installed")),
        ({"keras"}, None, (None, "none of its backends is")),
        ({"keras", "torch", "jax"}, None, ("jax", None)),
        ({"keras", "tensorflow", "torch"}, None, ("torch", None)),
        ({"keras", "tensorflow"}, None, ("tensorflow", None)),
        ({"keras", "tensorflow"}, "torch", (None, "KERAS_BACKEND=torch but torch is not")),
        ({"keras", "jax"}, "jax", ("jax", None)),
    ],
)
def test_framework_backend_choice(monkeypatch, installed, env, expected):
    monkeypatch.setattr(
        keras_side.importlib.util,
        "find_spec",
        lambda name: object() if name in installed else None,
    )
    if env is None:
        monkeypatch.delenv("KERAS_BACKEND", raising=False)
    else:
        monkeypatch.setenv("KERAS_BACKEND", env)
    backend, reason = keras_side.backend_or_reason()
    assert backend == expected[0]
    assert (reason is None) if expected[1] is None else expected[1] in reason


def test_framework_reports_a_keras_that_fails_to_import(tmp_path, monkeypatch):
    # with or without Keras installed, the child's `import keras` fails for this backend
    monkeypatch.setattr(keras_side, "backend_or_reason", lambda: ("no-such-backend", None))
    result = framework_exp.run(seed=0, out_dir=tmp_path, quick=True)
    k = result.metrics["keras"]
    assert k["available"] is False
    assert k["reason"].startswith("importing Keras with the no-such-backend backend failed (")
    assert k["reason"] in result.markdown
    assert result.metrics["handgrad"]["final_loss"] > 0  # the handgrad half still ran


def test_importing_the_experiments_loads_no_framework():
    code = (
        "import sys, json; import handgrad.experiments.framework, handgrad.experiments.mnist; "
        "print(json.dumps([m for m in ('keras', 'tensorflow', 'torch', 'jax') "
        "if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.slow
def test_framework_matches_keras(tmp_path, monkeypatch):
    # Keras and JAX come with the test extra: the Keras half runs here, never skipped
    backend, reason = keras_side.backend_or_reason()
    assert backend is not None, f"the Keras half cannot run: {reason}"
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # where Keras would write ~/.keras/keras.json
    result = run_experiment("framework", seed=0, out_dir=tmp_path / "out", quick=True)
    k, h = result.metrics["keras"], result.metrics["handgrad"]
    assert k["available"] is True and k["backend"] == backend and result.skipped == []
    # same start, same data, same 1000 steps: the weights agree far beyond the fit's scale
    assert k["max_rel_weight_diff"] < 1e-6
    assert k["abs_bias_diff"] < 1e-4
    assert k["max_abs_prediction_diff"] < 1e-3  # score points
    assert k["max_rel_loss_diff"] < 1e-5
    np.testing.assert_allclose(k["W_std"], h["W_std"], rtol=1e-6)
    # the agreement the section reports is the measured one
    assert f"{k['max_abs_weight_diff']:.2e}" in result.markdown
    assert f"relative {k['max_rel_weight_diff']:.1e}" in result.markdown
    assert f"Keras ran on the {backend} backend" in result.markdown
    if backend == "jax":  # x64 switched on in the child: Keras computed in float64
        assert k["dtype"] == "float64" and not k["losses_are_float32"]
    # the user's Keras configuration was neither read nor written
    assert not (home / ".keras").exists()


def test_the_keras_child_gets_its_backend_and_a_private_home(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")  # a user's choice for their own work
    monkeypatch.setenv("KERAS_HOME", "/users/own/keras")
    env = keras_side.keras_environment("jax", "/tmp/private")
    assert env["KERAS_BACKEND"] == "jax" and env["KERAS_HOME"] == "/tmp/private"
    assert env["JAX_ENABLE_X64"] == "1"
    assert "JAX_ENABLE_X64" not in keras_side.keras_environment("torch", "/tmp/private")
    # this process's environment is left as it was
    assert os.environ["KERAS_BACKEND"] == "torch" and os.environ["KERAS_HOME"] == "/users/own/keras"
