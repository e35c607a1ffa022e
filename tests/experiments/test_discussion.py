"""The measured discussion of seed 000: the facts its prose relies on, checked on a quick run."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from handgrad.experiments import run_experiment
from handgrad.experiments.discussion import _reference, initialization, stability
from handgrad.experiments.discussion._shared import QUICK, dead_fractions, net

pytestmark = pytest.mark.slow  # the shared quick run takes over 3 s
EPS = float(np.finfo(np.float64).eps)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One quick run (seed 0) shared by the tests of this file."""
    out = tmp_path_factory.mktemp("discussion")
    return run_experiment("discussion", seed=0, out_dir=out, quick=True), out / "discussion"


def metrics(quick) -> dict:
    return quick[0].metrics


# --- 1. stability ---------------------------------------------------------------------------


def test_naive_bce_breaks_near_37_where_the_engine_stays_exact(quick):
    st = metrics(quick)["stability"]
    first = st["naive_first_non_finite"]
    # p = 1 / (1 + exp(-z)) rounds to 1 once exp(-z) < 2^-53, i.e. z > 36.74
    assert 36.0 <= first["y=0_positive_z"] <= 40.0
    assert 36.0 <= first["y=1_positive_z"] <= 40.0
    assert st["naive_p_at_first_failure"]["positive_z"] == 1.0
    # on the negative side exp(-z) overflows near z = -709.78
    assert -712.0 <= first["y=1_negative_z"] <= -709.0
    naive = st["forms"]["naive"]
    assert naive["y=0"]["inf"] > 0 and naive["y=1"]["nan"] > 0
    engine = st["forms"]["engine BCEWithLogitsLoss"]
    for label in ("y=0", "y=1"):
        assert engine[label]["non_finite"] == 0
        assert engine[label]["max_rel_err_finite"] <= 4 * EPS
        assert engine[label]["lost_all_precision"] == 0


def test_patches_are_finite_but_cap_the_loss_and_kill_the_gradient(quick):
    st = metrics(quick)["stability"]
    clip, epsf = "clip(p, 1e-15, 1 − 1e-15)", "log(p + 1e-15)"
    for name in (clip, epsf):
        assert st["forms"][name]["y=0"]["non_finite"] == 0
        assert st["forms"][name]["y=1"]["non_finite"] == 0
    at_1000 = next(r for r in st["wrong_label_probe"] if r["z"] == 1000.0)
    assert at_1000["exact"] == pytest.approx(1000.0, rel=1e-15)
    assert at_1000["engine BCEWithLogitsLoss"] == pytest.approx(1000.0, rel=1e-15)
    # capped near -log(1e-15) = 34.54 (1 - (1 - 1e-15) is 9.99e-16 in float64, hence rel=1e-3)
    assert at_1000[clip] == pytest.approx(-math.log(1e-15), rel=1e-3)
    assert at_1000[epsf] == pytest.approx(-math.log(1e-15), rel=1e-3)
    slopes = st["slope_at_z1000_y0"]
    assert slopes[clip] == 0.0 and slopes[epsf] == 0.0
    assert slopes["engine backward"] == pytest.approx(1.0, rel=1e-12)


def test_one_minus_p_loses_every_digit_and_the_stable_forms_do_not(quick):
    cp = metrics(quick)["complement"]
    naive = cp["q"]["1 − sigmoid(z)"]
    assert naive["max_rel_err"] == 1.0  # returns 0 for a positive number
    assert 36.0 <= naive["first_z_zero"] <= 40.0
    assert 15.0 <= naive["first_z_err_above_1e-8"] <= 22.0
    assert cp["naive_digits_lost_per_unit_z"] == pytest.approx(math.log10(math.e), abs=0.05)
    for name in ("sigmoid(−z)", "−expm1(log_sigmoid(z))"):
        assert cp["q"][name]["max_rel_err"] < 1e-15
    log_q = cp["log_q"]
    assert log_q["log1p(−p)"]["first_z_non_finite"] == log_q["log(1 − p)"]["first_z_non_finite"]
    assert log_q["−softplus(z)"]["first_z_non_finite"] is None
    assert log_q["−softplus(z)"]["max_rel_err_finite"] < 1e-15


def test_softmax_needs_the_shift_and_binary_is_two_class_softmax(quick):
    m = metrics(quick)
    sm = m["softmax"]
    assert 709.0 < sm["naive_softmax_first_nan_pos"] < 710.0
    assert -746.0 < sm["naive_softmax_first_nan_neg"] < -744.0
    assert sm["non_finite"]["naive softmax"] > 0
    assert sm["non_finite"]["engine softmax"] == 0
    assert sm["non_finite"]["engine logsumexp"] == 0
    assert sm["max_rel_err_finite"]["engine softmax"] < 1e-15
    bm = m["binary_vs_softmax"]
    assert bm["max_ulps_loss"] <= 2 and bm["max_ulps_grad"] <= 2


def test_stability_without_mpmath_uses_numpy_reference(monkeypatch):
    monkeypatch.setattr(_reference, "mpmath", None)
    ref = _reference.Reference()
    assert "NumPy" in ref.name
    st = stability.bce_stability(QUICK, ref)
    engine = st["forms"]["engine BCEWithLogitsLoss"]
    assert engine["y=0"]["max_rel_err_finite"] < 1e-14
    assert 36.0 <= st["naive_first_non_finite"]["y=0_positive_z"] <= 40.0


# --- 2. initialization ----------------------------------------------------------------------


def test_init_scales_through_depth(quick):
    ini = metrics(quick)["init_depth"]
    for act in ("relu", "tanh"):
        zeros = ini[act]["zeros"]
        assert max(zeros["forward_std"]) == 0.0 and max(zeros["backward_std"]) == 0.0
        small = ini[act]["N(0, 0.01²)"]["forward_std"]
        assert small[-1] < 1e-6 * small[0]  # the signal dies
    he = ini["relu"]["He"]["forward_std"]
    assert 0.5 < he[-1] / he[0] < 2.0  # He keeps ReLU activations at scale
    xavier = ini["relu"]["Xavier"]["forward_std"]
    assert xavier[-1] / xavier[0] < he[-1] / he[0]


def test_zero_and_constant_inits_keep_hidden_units_identical(quick):
    sym = metrics(quick)["symmetry"]
    assert sym["zeros"]["distinct_units"] == 1
    assert sym["zeros"]["max_abs_hidden_weight"] == 0.0  # nothing but the output bias moved
    assert sym["constant 0.3"]["distinct_units"] == 1
    assert sym["constant 0.3"]["relative_spread"] < 1e-12
    assert sym["constant 0.3"]["max_abs_hidden_weight"] != 0.3  # it did train
    assert sym["Xavier"]["distinct_units"] == sym["Xavier"]["hidden_units"]
    tr = metrics(quick)["init_training"]
    for act in ("relu", "tanh"):
        assert tr[act]["zeros"]["final_loss"] == pytest.approx(math.log(2), abs=0.01)
        assert tr[act]["He"]["final_accuracy"] > 0.85


# --- 3. activations -------------------------------------------------------------------------


def test_sigmoid_gradient_vanishes_with_depth(quick):
    depth = metrics(quick)["grad_vs_depth"]
    sig = depth["sigmoid"]["first_layer_grad_norm"]
    relu = depth["relu"]["first_layer_grad_norm"]
    assert sig[-1] < 1e-2 * relu[-1]
    assert sig[-1] < 1e-2 * sig[0]
    per_layer = depth["sigmoid"]["per_layer_deepest"]
    assert per_layer[0] < per_layer[-1]


def test_dead_relu_units_detected_and_mitigated(quick):
    dead = metrics(quick)["dead_relu"]
    killed, by_lr, fixed, leaky = (dead[n] for n in dead)
    assert killed["dead_after"][1] == 1.0  # the whole second layer
    assert killed["max_grad_into_stuck_units"] == 0.0  # no gradient: no way back
    assert killed["final_accuracy"] <= 0.6
    assert by_lr["dead_after_overall"] > np.mean(by_lr["dead_at_init"])  # the lr killed units
    assert fixed["dead_after_overall"] < killed["dead_after_overall"]
    assert fixed["dead_after_overall"] < by_lr["dead_after_overall"]
    assert fixed["final_accuracy"] > 0.85
    assert leaky["max_grad_into_stuck_units"] > 0.0  # leaky units still get a gradient


def test_dead_fraction_counts_units_that_never_fire():
    model = net([2, 4, 1], "relu", "he_normal", np.random.default_rng(0))
    model.layers[0].bias.value[:2] = -100.0  # two units can never fire on these inputs
    X = np.random.default_rng(1).uniform(-1, 1, (50, 2))
    assert dead_fractions(model, X) == [0.5]


# --- 4. batch size --------------------------------------------------------------------------


def test_gradient_variance_scales_as_one_over_batch(quick):
    bv = metrics(quick)["batch_variance"]
    assert -1.2 <= bv["slope_with_replacement"] <= -0.8
    assert -1.2 <= bv["slope_without_replacement_fpc_removed"] <= -0.8
    # without replacement is steeper: the finite-population factor (N-B)/(N-1)
    assert bv["slope_without_replacement"] < bv["slope_without_replacement_fpc_removed"]
    for ratio in bv["ratio_to_theory_with"] + bv["ratio_to_theory_without"]:
        assert 0.5 < ratio < 2.0
    assert bv["full_batch_shuffled_sq_diff"] < 1e-20 * bv["grad_norm"] ** 2 + 1e-28
    assert bv["sum_over_mean_grad_norm"] == pytest.approx(bv["n"], rel=1e-9)


def test_linear_lr_scaling_tracks_the_small_batch_run(quick):
    runs = metrics(quick)["lr_scaling"]["runs"]
    base, keep, root2, lin, aggressive = runs.values()
    assert base["curve_distance_to_base"] == 0.0
    assert lin["curve_distance_to_base"] < keep["curve_distance_to_base"]
    assert keep["curve_log_ratio_to_base"] > 0  # same lr, half the steps: slower
    assert aggressive["grad_norm_max_over_median"] > base["grad_norm_max_over_median"]
    assert aggressive["first_epoch_loss"] > base["first_epoch_loss"]
    assert aggressive["final_loss"] > lin["final_loss"]  # the monitors flagged a real problem


# --- the report -----------------------------------------------------------------------------


def test_figures_written_and_referenced(quick):
    result, folder = quick
    assert len(result.figures) == 8
    section = (folder / "section.md").read_text()
    for fig in result.figures:
        assert fig.path.parent == folder
        assert fig.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert fig.path.stat().st_size > 10_000
        assert f"`{fig.path.name}`" in section
        assert fig.caption


def test_section_states_the_measured_numbers(quick):
    result, folder = quick
    text = result.markdown
    st = result.metrics["stability"]
    assert f"{st['naive_first_non_finite']['y=0_positive_z']:.4g}" in text  # rounded in prose
    assert f"{result.metrics['batch_variance']['slope_with_replacement']:.3f}" in text
    for bad in ("None", "nan", "NaN%"):
        assert bad not in text
    assert result.metrics["stability"]["reference"] in text
    payload = json.loads((folder / "metrics.json").read_text())
    assert payload["name"] == "discussion" and payload["quick"] is True


def test_conclusions_follow_the_numbers():
    """The same prose function, fed numbers that point the other way, says the other thing."""
    bias = {
        "nets": 4,
        "0": {"dead_per_layer": [0.0, 0.1], "dead_overall": 0.05, "nets_with_a_dead_unit": 3},
        "0.01": {"dead_per_layer": [0.0, 0.1], "dead_overall": 0.05, "nets_with_a_dead_unit": 3},
        "0.1": {"dead_per_layer": [0.0, 0.1], "dead_overall": 0.04, "nets_with_a_dead_unit": 2},
    }
    assert "small positive bias lowers" in initialization.md_bias(bias)
    bias["0.1"]["dead_overall"] = 0.06
    assert "small positive bias does not lower" in initialization.md_bias(bias)

    unit = {"hidden_units": 16, "relative_spread": 0.0, "max_abs_hidden_weight": 0.4}
    unit |= {"output_bias": 0.0, "final_loss": 0.3, "final_accuracy": 0.86, "epochs": 5}
    sym = {
        "zeros": {**unit, "distinct_units": 1, "max_abs_hidden_weight": 0.0},
        "constant 0.3": {**unit, "distinct_units": 1},
        "Xavier": {**unit, "distinct_units": 16},
    }
    assert "keeps all 16 units identical" in initialization.md_symmetry(sym)
    sym["constant 0.3"]["distinct_units"] = 5
    assert "keeps all 16 units identical" not in initialization.md_symmetry(sym)
    assert "ends with 5 distinct units" in initialization.md_symmetry(sym)


@pytest.mark.slow
def test_deterministic_for_a_seed(quick, tmp_path):
    first = quick[0]
    again = run_experiment("discussion", seed=0, out_dir=tmp_path, quick=True)
    assert json.dumps(again.metrics, sort_keys=True) == json.dumps(first.metrics, sort_keys=True)
    assert again.markdown == first.markdown
