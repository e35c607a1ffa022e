"""One validator everywhere: every public constructor and option refuses a bad value with
the same message shape (who, the parameter, the allowed set, the value received), and
accepts the values on the boundary of that set."""

from __future__ import annotations

import argparse
import math
import re

import numpy as np
import pytest

import handgrad as hg
from handgrad.cli import main
from handgrad.cli._common import FRACTION, NON_NEGATIVE_INT, PORT, POSITIVE_INT, train_option
from handgrad.data.datasets import make_blobs, make_circles, make_moons
from handgrad.data.preprocessing import train_test_split
from handgrad.estimators import MLPClassifier, MLPRegressor
from handgrad.estimators._params import check_params
from handgrad.nn.constraints import (
    Boolean,
    Integer,
    Options,
    Real,
    argument_type,
    check,
    describe,
    problem,
)
from handgrad.nn.gradcheck import numerical_gradient
from handgrad.playground.data import DataSpec
from handgrad.playground.network import NetSpec
from handgrad.reference.binary_classifier import gd_step
from handgrad.sweep.grid import GridError, make_grid
from handgrad.tabular.config import ConfigError, TrainConfig


def _params():
    return hg.Linear(2, 2, seed=0).parameters()


# --- the validator itself ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("constraint", "words"),
    [
        (Real(), "a finite number"),
        (Real(0.0), "a finite number >= 0"),
        (Real(0.0, low_open=True), "a finite number > 0"),
        (Real(high=1.0, high_open=True), "a finite number < 1"),
        (Real(0.0, 1.0, high_open=True), "a finite number in [0, 1)"),
        (Real(0.0, 1e6, low_open=True, high_open=True), "a finite number in (0, 1e+06)"),
        (Real(0.05, 0.9), "a finite number in [0.05, 0.9]"),
        (Integer(1), "an integer >= 1"),
        (Integer(0, 2**32 - 1), "an integer in [0, 4294967295]"),
        (Options("mean", "sum"), "'mean' or 'sum'"),
        (Options("a", "b", "c"), "one of 'a', 'b', 'c'"),
        (Boolean(), "True or False"),
        ((Options("auto"), Integer(1)), "'auto' or an integer >= 1"),
        ((Integer(1), Options(math.inf)), "an integer >= 1 or inf"),
    ],
)
def test_each_constraint_describes_its_set(constraint, words):
    assert describe(constraint) == words


@pytest.mark.parametrize(
    ("value", "constraint", "error", "message"),
    [
        (1.5, Real(0.0, 1.0, high_open=True), ValueError, "got 1.5"),
        (1.0, Real(0.0, 1.0, high_open=True), ValueError, "got 1.0"),
        (0.0, Real(0.0, low_open=True), ValueError, "got 0.0"),
        (float("nan"), Real(), ValueError, "got nan"),
        (float("inf"), Real(0.0), ValueError, "got inf"),
        (-float("inf"), Real(), ValueError, "got -inf"),
        ("0.1", Real(), TypeError, "got '0.1'"),
        (True, Real(), TypeError, "got True"),
        (1 + 0j, Real(), TypeError, r"got \(1\+0j\)"),
        (None, Real(), TypeError, "got None"),
        (2**1100, Real(0.0), ValueError, "got an integer of 332 digits"),
        (-(2**1100), Real(), ValueError, "got a negative integer of 332 digits"),
        (0, Integer(1), ValueError, "got 0"),
        (2.0, Integer(1), TypeError, "got 2.0"),
        (np.float64(3.0), Integer(1), TypeError, "got np.float64"),
        (False, Integer(0), TypeError, "got False"),
        (np.bool_(True), Integer(0), TypeError, "got np.True_"),
        ("avg", Options("mean", "sum"), ValueError, "got 'avg'"),
        (["mean"], Options("mean", "sum"), ValueError, r"got \['mean'\]"),
        (np.array(["mean"]), Options("mean", "sum"), ValueError, r"got array\(\['mean'\]"),
        (1, Options(True, False), ValueError, "got 1"),
        ("yes", Boolean(), TypeError, "got 'yes'"),
        (1, Boolean(), TypeError, "got 1"),
        (1.5, (Options("auto"), Integer(1)), ValueError, "got 1.5"),
        ("x" * 100, Real(), TypeError, "got '" + "x" * 56 + r"\.\.\.$"),
    ],
)
def test_a_bad_value_gets_the_error_of_its_kind(value, constraint, error, message):
    expected = f"^who: p must be {re.escape(describe(constraint))}, {message}"
    with pytest.raises(error, match=expected):
        check(value, constraint, "p", "who")
    assert re.search(expected, problem(value, constraint, "p", "who") or "")


def test_the_caller_may_ask_for_one_error_class():
    class FileError(ValueError):
        pass

    with pytest.raises(FileError, match="^n must be an integer >= 1, got 'x'$"):
        check("x", Integer(1), "n", error=FileError)


@pytest.mark.parametrize(
    ("value", "constraint", "expected"),
    [
        (0.0, Real(0.0), 0.0),
        (1.0, Real(0.0, 1.0), 1.0),
        (5e-324, Real(0.0, low_open=True), 5e-324),
        (np.float32(0.5), Real(), 0.5),
        (np.int64(3), Real(), 3.0),
        (-1e308, Real(), -1e308),
        (1, Integer(1), 1),
        (np.int32(7), Integer(0, 7), 7),
        (2**32 - 1, Integer(0, 2**32 - 1), 2**32 - 1),
        ("sum", Options("mean", "sum"), "sum"),
        (None, Options(None, "x"), None),
        (np.bool_(False), Boolean(), False),
        ("auto", (Options("auto"), Integer(1)), "auto"),
        (math.inf, (Integer(1), Options(math.inf)), math.inf),
    ],
)
def test_boundary_values_are_accepted_and_converted(value, constraint, expected):
    got = check(value, constraint, "p")
    assert got == expected and type(got) is type(expected)
    assert problem(value, constraint, "p") is None


def test_argument_type_reads_and_checks_a_word():
    epochs = argument_type(Integer(1))
    assert epochs("1") == 1 and type(epochs("1")) is int
    for word in ("0", "1.5", "x", ""):
        with pytest.raises(argparse.ArgumentTypeError) as err:
            epochs(word)
        assert str(err.value) == f"expected an integer >= 1, got {word!r}"
    rate = argument_type(Real(0.0, 1.0, high_open=True))
    assert rate("0") == 0.0 and rate("0.999") == 0.999
    for word in ("1", "nan", "-inf", "1e400"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"in \[0, 1\), got"):
            rate(word)
    batch = argument_type((Options("auto"), Integer(1)))
    assert batch("auto") == "auto" and batch("8") == 8


# --- every surface ------------------------------------------------------------------------

# (a call that must fail, the error class, the whole message)
REFUSED = [
    (lambda: hg.Linear(0, 2), ValueError, "Linear: in_features must be an integer >= 1, got 0"),
    (lambda: hg.Linear(2, 2.0), TypeError, "Linear: out_features must be an integer >= 1, got 2.0"),
    (lambda: hg.Linear(2, 2, bias="no"), TypeError, "Linear: bias must be True or False, got 'no'"),
    (
        lambda: hg.Linear(2, 2, bias_init=math.inf),
        ValueError,
        "Linear: bias_init must be a finite number, got inf",
    ),
    (
        lambda: hg.LeakyReLU(math.nan),
        ValueError,
        "LeakyReLU: negative_slope must be a finite number, got nan",
    ),
    (
        lambda: hg.mlp([2, 3], "swish"),
        ValueError,
        "mlp: activation must be one of 'relu', 'leaky_relu', 'tanh', 'sigmoid', 'identity', "
        "got 'swish'",
    ),
    (
        lambda: hg.nn.count_parameters([2, 0]),
        ValueError,
        "count_parameters: each layer size must be an integer >= 1, got 0",
    ),
    (
        lambda: hg.MSELoss(reduction="avg"),
        ValueError,
        "MSELoss: reduction must be 'mean' or 'sum', got 'avg'",
    ),
    (
        lambda: hg.BCEWithLogitsLoss(reduction=None),
        ValueError,
        "BCEWithLogitsLoss: reduction must be 'mean' or 'sum', got None",
    ),
    (
        lambda: hg.SoftmaxCrossEntropyLoss(reduction="none"),
        ValueError,
        "SoftmaxCrossEntropyLoss: reduction must be 'mean' or 'sum', got 'none'",
    ),
    (
        lambda: hg.L2Penalty(-0.1),
        ValueError,
        "L2Penalty: lam must be a finite number >= 0, got -0.1",
    ),
    (
        lambda: hg.L2Penalty(0.1, convention="double"),
        ValueError,
        "L2Penalty: convention must be 'half' or 'full', got 'double'",
    ),
    (
        lambda: hg.SGD(_params(), lr=0),
        ValueError,
        "SGD: lr must be a finite number in (0, 1e+06), got 0",
    ),
    (
        lambda: hg.SGD(_params(), momentum=1.0),
        ValueError,
        "SGD: momentum must be a finite number in [0, 1), got 1.0",
    ),
    (
        lambda: hg.SGD(_params(), weight_decay=-1e-9),
        ValueError,
        "SGD: weight_decay must be a finite number in [0, 1e+06), got -1e-09",
    ),
    (
        lambda: hg.Adam(_params(), betas=(0.9, 1.0)),
        ValueError,
        "Adam: beta2 must be a finite number in [0, 1), got 1.0",
    ),
    (
        lambda: hg.Adam(_params(), eps=0.0),
        ValueError,
        "Adam: eps must be a finite number > 0, got 0.0",
    ),
    (
        lambda: hg.RMSProp(_params(), rho="0.9"),
        TypeError,
        "RMSProp: rho must be a finite number in [0, 1), got '0.9'",
    ),
    (
        lambda: hg.fit(hg.mlp([1, 1]), hg.MSELoss(), hg.SGD(_params()), [[0.0]], [0.0], epochs=-1),
        ValueError,
        "epochs must be an integer >= 0, got -1",
    ),
    (
        lambda: hg.EarlyStopping(patience=1.5),
        TypeError,
        "EarlyStopping: patience must be an integer >= 0, got 1.5",
    ),
    (
        lambda: hg.EarlyStopping(mode="up"),
        ValueError,
        "EarlyStopping: mode must be one of 'min', 'max', 'auto', got 'up'",
    ),
    (
        lambda: hg.ModelCheckpoint("x.npz", every=0),
        ValueError,
        "ModelCheckpoint: every must be an integer >= 1, got 0",
    ),
    (
        lambda: numerical_gradient(lambda: 0.0, np.zeros(2), order=3),
        ValueError,
        "numerical_gradient: order must be 2 or 4, got 3",
    ),
    (
        lambda: make_moons(0),
        ValueError,
        "make_moons: n_samples must be an integer >= 1, got 0",
    ),
    (
        lambda: make_circles(10, factor=1.0),
        ValueError,
        "make_circles: factor must be a finite number in (0, 1), got 1.0",
    ),
    (
        lambda: make_blobs(std=-1.0),
        ValueError,
        "make_blobs: std must be a finite number >= 0, got -1.0",
    ),
    (
        lambda: train_test_split(np.zeros((4, 1)), np.zeros(4), test_fraction=1.0),
        ValueError,
        "train_test_split: test_fraction must be a finite number in (0, 1), got 1.0",
    ),
    (
        lambda: gd_step({}, {}, 0.0),
        ValueError,
        "gd_step: lr must be a finite number > 0, got 0.0",
    ),
    (
        lambda: check_params(MLPClassifier(alpha=-1)),
        ValueError,
        "MLPClassifier: alpha must be a finite number >= 0, got -1",
    ),
    (
        lambda: check_params(MLPRegressor(loss="absolute_error")),
        ValueError,
        "MLPRegressor: loss must be 'squared_error' or 'poisson', got 'absolute_error'",
    ),
    (
        lambda: check_params(MLPClassifier(n_iter_no_change=0.5)),
        ValueError,
        "MLPClassifier: n_iter_no_change must be an integer >= 1 or inf, got 0.5",
    ),
    (
        lambda: check_params(MLPClassifier(early_stopping=1)),
        TypeError,
        "MLPClassifier: early_stopping must be True or False, got 1",
    ),
    (
        lambda: TrainConfig(momentum=1.0, optimizer="sgd").validate(),
        ConfigError,
        "--momentum must be a finite number in [0, 1), got 1.0",
    ),
    (
        lambda: TrainConfig(test_fraction=0.0).validate(),
        ConfigError,
        "--test-fraction must be a finite number in (0, 1), got 0.0",
    ),
    (
        lambda: TrainConfig(hidden=(8, 0)).validate(),
        ConfigError,
        "each --hidden size must be an integer >= 1, got 0",
    ),
    (
        lambda: TrainConfig(impute="mode").validate(),
        ConfigError,
        "--impute must be 'median' or 'mean', got 'mode'",
    ),
    (
        lambda: make_grid("iris", {"lr": [0.1, 0]}),
        GridError,
        "lr must be a finite number > 0, got 0",
    ),
    (
        lambda: make_grid("iris", {"val_fraction": 1}),
        GridError,
        "val_fraction must be a finite number in (0, 1), got 1",
    ),
    (
        lambda: NetSpec(lr=0.0).validate(),
        ValueError,
        "learning rate must be a finite number in (0, 10], got 0.0",
    ),
    (
        lambda: NetSpec(regularization="l2", reg_rate=10.5).validate(),
        ValueError,
        "regularization rate must be a finite number in [0, 10], got 10.5",
    ),
    (
        lambda: NetSpec(regularization="l3").validate(),
        ValueError,
        "regularization must be one of 'none', 'l1', 'l2', got 'l3'",
    ),
    (
        lambda: NetSpec(seed=2**32).validate(),
        ValueError,
        "seed must be an integer in [0, 4294967295], got 4294967296",
    ),
    (
        lambda: DataSpec(noise=2.5).validate(),
        ValueError,
        "noise must be a finite number in [0, 2], got 2.5",
    ),
    (
        lambda: DataSpec(classes=6).validate(),
        ValueError,
        "number of classes (blobs) must be an integer in [2, 5], got 6",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), REFUSED)
def test_every_surface_refuses_a_bad_value_by_name(call, error, message):
    with pytest.raises(error) as err:
        call()
    assert str(err.value) == message


# calls on the boundary of every set above: each must pass
ACCEPTED = [
    lambda: hg.Linear(1, 1, bias=False, bias_init=-1e308),
    lambda: hg.LeakyReLU(0.0),
    lambda: hg.MSELoss(reduction="sum"),
    lambda: hg.L2Penalty(0.0, convention="full"),
    lambda: hg.SGD(_params(), lr=5e-324, momentum=0.0, weight_decay=0.0),
    lambda: hg.SGD(_params(), lr=999_999.0, momentum=0.999_999, nesterov=True),
    lambda: hg.Adam(_params(), betas=(0.0, 0.0), eps=5e-324),
    lambda: hg.RMSProp(_params(), rho=0.0, weight_decay=999_999.0),
    lambda: numerical_gradient(lambda: 0.0, np.zeros(2), order=4),
    lambda: hg.EarlyStopping(patience=0, min_delta=0.0, mode="auto"),
    lambda: hg.ModelCheckpoint("x.npz", every=1),
    lambda: make_moons(1, noise=0.0),
    lambda: make_circles(2, factor=1e-9),
    lambda: make_blobs(1, std=0.0),
    lambda: train_test_split(np.zeros((4, 1)), np.zeros(4), test_fraction=0.5),
    lambda: check_params(
        MLPClassifier(
            hidden_layer_sizes=1,
            alpha=0,
            momentum=1.0,
            beta_1=0.0,
            batch_size=1,
            n_iter_no_change=math.inf,
            validation_fraction=1e-9,
            tol=0.0,
            dtype="float32",
        )
    ),
    lambda: check_params(MLPRegressor(loss="poisson", activation="logistic", max_iter=1)),
    lambda: TrainConfig(
        lr=1000.0, momentum=0.0, optimizer="sgd", epochs=1, batch_size=1, seed=0, rare_min=1
    ).validate(),
    lambda: TrainConfig(val_fraction=0.0, test_fraction=0.999, l2=0.0).validate(),
    lambda: make_grid("iris", {"patience": [0], "lr": [1e-300], "momentum": [0.0]}),
    lambda: NetSpec(
        lr=10.0, batch_size=5000, regularization="l1", reg_rate=1.0, seed=2**32 - 1, decay=1e-9
    ).validate(),
    lambda: DataSpec(n=20, noise=2.0, classes=5, test_fraction=0.9).validate(),
    lambda: DataSpec(n=5000, noise=0.0, classes=2, test_fraction=0.05, seed=0).validate(),
]


@pytest.mark.parametrize("call", ACCEPTED)
def test_every_surface_accepts_its_boundary_values(call):
    call()


def test_accepted_values_come_back_converted():
    opt = hg.SGD(_params(), lr=np.float32(0.5), momentum=np.int64(0))
    assert type(opt.lr) is float and type(opt.momentum) is float
    resolved = check_params(MLPClassifier(activation="logistic", max_iter=np.int64(3)))
    assert resolved["activation"] == "sigmoid" and type(resolved["max_iter"]) is int


# --- command-line options share the constraints --------------------------------------------


@pytest.mark.parametrize(
    ("parse", "word", "expected"),
    [
        (POSITIVE_INT, "1", 1),
        (NON_NEGATIVE_INT, "0", 0),
        (FRACTION, "0", 0.0),
        (PORT, "65535", 65535),
        (train_option("lr"), "1000", 1000.0),
        (train_option("test_fraction"), "0.999", 0.999),
        (train_option("seed"), "0", 0),
    ],
)
def test_option_types_accept_their_boundaries(parse, word, expected):
    assert parse(word) == expected


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--epochs", "0"], "argument --epochs: expected an integer >= 1, got '0'"),
        (
            ["train", "--lr", "0"],
            "argument --lr: expected a finite number in (0, 1000], got '0'",
        ),
        (
            ["train", "--test-fraction", "0"],
            "argument --test-fraction: expected a finite number in (0, 1), got '0'",
        ),
        (
            ["train", "--momentum", "1"],
            "argument --momentum: expected a finite number in [0, 1), got '1'",
        ),
        (["train", "--l2", "-1"], "argument --l2: expected a finite number >= 0, got '-1'"),
        (
            ["sweep", "--data", "iris", "--lr", "0.1", "-1"],
            "argument --lr: expected a finite number > 0, got '-1'",
        ),
        (
            ["sweep", "--data", "iris", "--val-fraction", "1"],
            "argument --val-fraction: expected a finite number in (0, 1), got '1'",
        ),
        (["sweep", "--data", "iris", "--workers", "0"], "argument --workers: expected an integer"),
        (
            ["playground", "--port", "70000"],
            "argument --port: expected an integer in [1, 65535], got '70000'",
        ),
        (["run", "--seed", "-1"], "argument --seed: expected an integer >= 0, got '-1'"),
    ],
)
def test_command_line_options_are_refused_with_the_constraint(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
