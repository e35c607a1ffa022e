"""The curriculum experiments binary, linear-fit, linear-two-layer, sine, credit, xor, blobs.

Each runs once in quick mode (module-scoped cache) into a temporary folder; the tests check
the numbers each experiment measured against the bounds its section argues from, that
every figure it names was written as a PNG, and that metrics.json and section.md exist.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from handgrad.experiments import run_experiment

NAMES = ("binary", "linear-fit", "linear-two-layer", "sine", "credit", "xor", "blobs")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """run(name) -> (ExperimentResult, folder, metrics.json payload), each run at most once."""
    cache = {}
    root = tmp_path_factory.mktemp("experiments")

    def get(name: str):
        if name not in cache:
            result = run_experiment(name, seed=0, out_dir=root, quick=True)
            folder = root / name
            payload = json.loads((folder / "metrics.json").read_text())
            cache[name] = (result, folder, payload)
        return cache[name]

    return get


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n == "sine" else n for n in NAMES]
)  # the quick sine run takes over 2 s
def test_writes_metrics_section_and_every_figure(quick_run, name):
    result, folder, payload = quick_run(name)
    assert payload["name"] == name and payload["quick"] is True and payload["seed"] == 0
    section = (folder / "section.md").read_text()
    assert section.startswith(f"## {result.title}")
    assert len(section) > 800  # a report, not a stub
    assert result.figures, "every experiment draws at least one figure"
    listed = [f["path"] for f in payload["figures"]]
    for fig in result.figures:
        assert fig.path.parent == folder
        assert fig.path.name in listed
        assert fig.caption
        assert fig.path.read_bytes()[:8] == PNG_MAGIC
        # the section refers to its figures by file name
        assert f"`{fig.path.name}`" in section, fig.path.name
    # metrics are plain JSON (the file parsed) and contain no NaN
    assert "NaN" not in (folder / "metrics.json").read_text()


def test_binary_classifier(quick_run):
    _, _, payload = quick_run("binary")
    m = payload["metrics"]
    for act in ("relu", "tanh"):
        bc = m["results"][f"breast cancer/{act}"]
        assert bc["test_accuracy"] >= 0.95, (act, bc["test_accuracy"])
        assert bc["final_loss"] < bc["first_loss"]
        assert m["results"][f"moons/{act}"]["test_accuracy"] >= 0.85
    assert m["gradcheck_passed"]
    assert m["gradcheck_max_rel_error"] < 1e-7
    # both activations, both data sets, all four parameters
    assert len(m["gradcheck"]) == 16
    assert {c["parameter"] for c in m["gradcheck"]} == {"W1", "b1", "W2", "b2"}


def test_linear_fit_recovers_the_line_and_the_stability_limit(quick_run):
    _, _, payload = quick_run("linear-fit")
    m = payload["metrics"]
    assert abs(m["gd"]["w"] - 2.5) < 0.1 and abs(m["gd"]["b"] + 0.7) < 0.1
    # gradient descent lands on the least-squares solution
    assert abs(m["gd"]["w"] - m["least_squares"]["w"]) < 1e-9
    assert abs(m["gd"]["b"] - m["least_squares"]["b"]) < 1e-9
    assert m["gd"]["loss_increases"] == 0
    # the Hessian of the MSE for x = linspace(-2, 2, 200) is diag(2 E[x^2], 2)
    x = np.linspace(-2, 2, 200)
    assert m["hessian"]["lambda_max"] == pytest.approx(2 * np.mean(x * x), rel=1e-12)
    assert m["hessian"]["lr_limit"] == pytest.approx(1 / np.mean(x * x), rel=1e-12)
    cmp = m["compared"]
    assert cmp["0.05"]["kind"] == "monotone, converging"
    assert cmp["0.5"]["kind"] == "oscillating, converging"
    assert cmp["1.1"]["diverged"]
    for lr, beh in cmp.items():
        if not beh["diverged"]:
            assert beh["measured_factor_top"] == pytest.approx(
                beh["predicted_factor_top"], abs=1e-6
            ), lr
    assert m["sweep"]["agreement_with_theory"] == 1.0
    near = m["near_zero"]
    assert near["b_optimization_gap_end"] < 1e-6 < near["w_optimization_gap_end"]
    assert near["w_standard_error"] > 10 * near["b_standard_error"]


def test_linear_two_layer_is_one_linear_map(quick_run):
    _, _, payload = quick_run("linear-two-layer")
    m = payload["metrics"]
    assert m["final_loss"] < m["first_loss"]
    assert m["loss_increases"] == 0
    assert m["composition_max_abs_diff_train"] < 1e-10
    assert m["composition_max_abs_diff_new"] < 1e-10
    assert m["gradcheck_passed"] and m["gradcheck_max_rel_error"] < 1e-7
    checked = {(r["layer"], r["gradient"]) for r in m["gradcheck"]}
    assert checked == {(layer, g) for layer in ("lin1", "lin2") for g in ("dW", "db", "dx")}
    assert abs(m["effective"]["w"] - m["least_squares"]["w"]) < 1e-3


@pytest.mark.slow
def test_sine_measures_underfitting_and_its_causes(quick_run):
    result, folder, payload = quick_run("sine")
    m = payload["metrics"]
    assert m["epochs"] == [200, 2000]
    assert "Quick mode" in (folder / "section.md").read_text()
    runs = m["runs"]
    for run in runs.values():
        for snap in run["snapshots"].values():
            assert math.isfinite(snap["train_mse"]) and math.isfinite(snap["truth_mse_grid"])
            # the exact split: train = truth(on the training x) - absorbed + noise variance
            assert snap["train_mse"] == pytest.approx(
                snap["truth_mse_train_x"] - snap["noise_absorbed"] + m["noise_variance"],
                rel=1e-9,
            )
    tanh_lab = runs["tanh, lr 0.005"]["snapshots"]["2000"]
    assert tanh_lab["train_mse"] == pytest.approx(m["best_line_mse"], rel=0.1)
    assert tanh_lab["mean_tanh_slope"] > 0.9
    spread = runs["ReLU spread kinks, lr 0.05"]["snapshots"]["2000"]
    default = runs["ReLU, lr 0.05"]["snapshots"]["2000"]
    assert spread["truth_mse_grid"] < 0.5 * default["truth_mse_grid"]
    assert spread["longest_straight_stretch"] < default["longest_straight_stretch"]
    assert m["initial_kinks_at_zero"] == 32
    assert all(limit > 0.05 for limit in m["lr_limit_init"].values())


def test_credit_weights_persons_and_l2_checks(quick_run):
    _, _, payload = quick_run("credit")
    m = payload["metrics"]
    norms = []
    for lam, r in m["by_lambda"].items():
        assert r["gd_vs_closed_form"] < 1e-6, lam
        for who in ("A", "B"):
            p = r["persons"][who]
            assert abs(p["model"] - p["by_hand"]) < 1e-9 * abs(p["model"])
        norms.append(r["weight_norm"])
        assert r["epochs"] <= 20000
        assert m["lr"] < r["lr_limit"]
    assert norms == sorted(norms, reverse=True)  # larger lambda, smaller weights
    # the lab's lr 0.01 x 1000 epochs is measurably short of the minimum at lambda = 0
    assert m["by_lambda"]["0"]["lab_vs_closed_form"] > 0.1
    assert m["l2_checks"]["mini_check_max_abs_error"] < 1e-12
    assert m["l2_checks"]["fd_passed"]
    # unstandardizing: W_orig = W_std / sigma
    r = m["by_lambda"]["0.01"]
    np.testing.assert_allclose(np.array(r["W_orig"]) * np.array(m["std"]), r["W_std"], rtol=1e-12)


def test_credit_weights_per_step_are_the_change_in_score_for_that_step():
    """utilization is a fraction: its weight read per 0.1 is the score change between two
    people 10 percentage points of utilization apart, everything else equal."""
    from handgrad.experiments import credit

    W_orig, b_orig = np.array([-56.3, 2.67, -13.4]), 600.0
    person = np.array([0.30, 40.0, 1.0])
    for j, step in enumerate(credit.UNIT_STEPS):
        moved = person.copy()
        moved[j] += step
        change = (moved @ W_orig + b_orig) - (person @ W_orig + b_orig)
        assert credit.per_step(W_orig)[j] == pytest.approx(change, rel=1e-12)
    assert credit.per_step(W_orig)[0] == pytest.approx(-5.63)
    assert "10 percentage points of utilization" in credit.UNITS[0]


def test_credit_training_above_the_stable_limit_stops_at_the_overflow():
    from handgrad.experiments import credit

    # raw columns: lambda_max 2,785, so lr 0.3 multiplies the error by about 835 per step
    with np.errstate(all="raise"):  # no overflow warning reaches the learner
        _, losses = credit.train(credit.X_RAW, credit.Y, lam=0.0, lr=0.3, epochs=5000, seed=0)
    assert 10 < len(losses) < 5000 and losses[-1] == math.inf
    assert all(math.isfinite(v) for v in losses[:-1])
    assert all(b > 100 * a for a, b in zip(losses[:5], losses[1:6]))  # grows at every step
    # below the limit (2 / 2,785 = 0.00072) every one of the epochs runs and the loss falls
    _, losses = credit.train(credit.X_RAW, credit.Y, lam=0.0, lr=0.0007, epochs=300, seed=0)
    assert len(losses) == 300 and losses[-1] < losses[0]


def test_xor_solved_and_zero_init_stays_symmetric(quick_run):
    _, _, payload = quick_run("xor")
    m = payload["metrics"]
    for key in ("relu_sgd", "tanh_sgd", "adam_two_hidden"):
        assert m[key]["perfect"] == m[key]["runs"] == m["inits_per_config"], key
    for key, sym in m["symmetric"].items():
        assert sym["spread_end"] == 0.0, key
        assert sym["accuracy"] <= 0.75, key
    assert m["symmetric"]["0/relu"]["largest_parameter_change"] == 0.0
    assert m["symmetric"]["0.5/tanh"]["largest_parameter_change"] > 0  # it learned, as one unit
    assert m["single_unit_best_accuracy"] <= 0.75


def test_blobs_accuracy_shapes_and_counts(quick_run):
    _, _, payload = quick_run("blobs")
    m = payload["metrics"]
    assert m["train_accuracy"] >= 0.9 and m["test_accuracy"] >= 0.9
    B = 8
    expected = {
        "X": [B, 2], "W1": [2, 32], "b1": [32], "z1": [B, 32], "a1": [B, 32],
        "W2": [32, 3], "b2": [3], "z2": [B, 3], "probabilities": [B, 3], "dz2": [B, 3],
        "dW2": [32, 3], "db2": [3], "da1": [B, 32], "dz1": [B, 32], "dW1": [2, 32],
        "db1": [32],
    }  # fmt: skip
    assert m["shapes"] == expected
    assert m["parameter_counts"] == {
        "2-32-3": 195,
        "2-32-3 (built model)": 195,
        "10-64-3": 899,
        "10-64-3 (built model)": 899,
    }
    assert m["gradcheck_passed"]
    assert m["fused_gradient_max_abs_error"] < 1e-15
    assert sum(map(sum, m["confusion_test"])) == 150


@pytest.mark.parametrize("name", ["linear-two-layer", "blobs"])
def test_a_run_is_deterministic_for_its_seed(quick_run, tmp_path, name):
    first, _, _ = quick_run(name)  # seed 0, run once for this module (the other tests' run)
    second = run_experiment(name, seed=0, out_dir=tmp_path / "b", quick=True)
    assert json.dumps(first.metrics, default=str) == json.dumps(second.metrics, default=str)
    assert first.markdown == second.markdown
    other = run_experiment(name, seed=4, out_dir=tmp_path / "c", quick=True)
    assert json.dumps(other.metrics, default=str) != json.dumps(first.metrics, default=str)


@pytest.mark.parametrize(
    ("typed", "meant"), [("sin", "sine"), ("Sine", "sine"), ("linear_fit", "linear-fit")]
)
def test_a_mistyped_chapter_name_is_answered_with_the_nearest_one(typed, meant):
    from handgrad.experiments import load_experiment

    with pytest.raises(ValueError, match=f"unknown experiment '{typed}'; did you mean '{meant}'"):
        load_experiment(typed)
    with pytest.raises(ValueError, match=r"unknown experiment 'xyz'; choose from: linear-fit"):
        load_experiment("xyz")
