"""The estimators' parameters: scikit-learn's names, defaults and order, checked in one place.

``check_params(est)`` reads the parameters (never changes them) and returns the resolved
values ``fit`` needs; every problem is a ``TypeError``/``ValueError`` naming the parameter,
raised before anything is drawn or trained.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..nn.layers import ACTIVATIONS

SOLVERS = ("lbfgs", "sgd", "adam", "rmsprop")
STOCHASTIC = ("sgd", "adam", "rmsprop")
SCHEDULES = ("constant", "invscaling", "adaptive")
REGRESSION_LOSSES = ("squared_error", "poisson")
# scikit-learn calls the sigmoid "logistic"; both names are accepted.
ACTIVATION_ALIASES = {"logistic": "sigmoid"}
DTYPES = (np.dtype(np.float64), np.dtype(np.float32))

# scikit-learn 1.9's parameters, in its order (the regressor puts ``loss`` first); handgrad's
# extra ``dtype`` comes last.
COMMON_DEFAULTS: dict = {
    "hidden_layer_sizes": (100,),
    "activation": "relu",
    "solver": "adam",
    "alpha": 1e-4,
    "batch_size": "auto",
    "learning_rate": "constant",
    "learning_rate_init": 1e-3,
    "power_t": 0.5,
    "max_iter": 200,
    "shuffle": True,
    "random_state": None,
    "tol": 1e-4,
    "verbose": False,
    "warm_start": False,
    "momentum": 0.9,
    "nesterovs_momentum": True,
    "early_stopping": False,
    "validation_fraction": 0.1,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "epsilon": 1e-8,
    "n_iter_no_change": 10,
    "max_fun": 15000,
    "dtype": None,
}


def check_params(est) -> dict:
    """Validate every parameter of ``est``; return the resolved values fit needs."""
    name = type(est).__name__

    def integer(key, value, minimum=1):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name}: {key} must be an integer, got {value!r}")
        if value < minimum:
            raise ValueError(f"{name}: {key} must be >= {minimum}, got {value!r}")
        return int(value)

    def real(key, value, low, high, low_open=False, high_open=True):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name}: {key} must be a number, got {value!r}")
        value = float(value)
        ok = math.isfinite(value) and (value > low if low_open else value >= low)
        ok = ok and (value < high if high_open else value <= high)
        if not ok:
            lb, rb = "(" if low_open else "[", ")" if high_open else "]"
            raise ValueError(f"{name}: {key} must be in {lb}{low}, {high}{rb}, got {value!r}")
        return value

    def choice(key, value, options):
        if not isinstance(value, str) or value not in options:
            raise ValueError(f"{name}: {key} must be one of {list(options)}, got {value!r}")
        return value

    def boolean(key, value):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name}: {key} must be True or False, got {value!r}")
        return bool(value)

    def patience(value):
        """n_iter_no_change: an int >= 1, or inf (never stop early) as in scikit-learn."""
        if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
            if float(value) == math.inf:
                return math.inf
            raise ValueError(
                f"{name}: n_iter_no_change must be an integer >= 1 or inf, got {value!r}"
            )
        return integer("n_iter_no_change", value)

    sizes = est.hidden_layer_sizes
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise TypeError(
            f"{name}: hidden_layer_sizes must be an int or a sequence of ints, "
            f"got {est.hidden_layer_sizes!r}"
        ) from None
    sizes = tuple(integer("each hidden layer size", h) for h in sizes)

    activation = est.activation
    if isinstance(activation, str):
        activation = ACTIVATION_ALIASES.get(activation, activation)
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        choices = sorted(set(ACTIVATIONS) | set(ACTIVATION_ALIASES))
        raise ValueError(f"{name}: activation must be one of {choices}, got {est.activation!r}")
    if isinstance(est.batch_size, str):
        if est.batch_size != "auto":
            raise ValueError(f"{name}: batch_size must be 'auto' or an int, got {est.batch_size!r}")
        batch_size = "auto"
    else:
        batch_size = integer("batch_size", est.batch_size)
    dtype = None
    if est.dtype is not None:
        try:
            dtype = np.dtype(est.dtype)
        except TypeError:
            dtype = None
        if dtype is None or dtype not in DTYPES:  # (np.dtype == None is True for float64)
            raise ValueError(
                f"{name}: dtype must be None (follow X), 'float64' or 'float32', got {est.dtype!r}"
            )
    rs = est.random_state
    if not (
        rs is None
        or isinstance(rs, (np.random.Generator, np.random.RandomState))
        or (isinstance(rs, numbers.Integral) and not isinstance(rs, bool) and 0 <= int(rs) < 2**32)
    ):
        raise TypeError(
            f"{name}: random_state must be None, an int in [0, 2**32), a numpy.random.RandomState "
            f"or a numpy.random.Generator, got {rs!r}"
        )
    loss = getattr(est, "loss", None)
    if loss is not None:
        choice("loss", loss, REGRESSION_LOSSES)
    return {
        "sizes": sizes,
        "activation": activation,
        "solver": choice("solver", est.solver, SOLVERS),
        "learning_rate": choice("learning_rate", est.learning_rate, SCHEDULES),
        "batch_size": batch_size,
        "dtype": dtype,
        "alpha": real("alpha", est.alpha, 0.0, math.inf),
        "lr": real("learning_rate_init", est.learning_rate_init, 0.0, math.inf, True),
        "power_t": real("power_t", est.power_t, 0.0, math.inf),
        "momentum": real("momentum", est.momentum, 0.0, 1.0, high_open=False),
        "beta_1": real("beta_1", est.beta_1, 0.0, 1.0),
        "beta_2": real("beta_2", est.beta_2, 0.0, 1.0),
        "epsilon": real("epsilon", est.epsilon, 0.0, math.inf, True),
        "max_iter": integer("max_iter", est.max_iter),
        "max_fun": integer("max_fun", est.max_fun),
        "validation_fraction": real("validation_fraction", est.validation_fraction, 0.0, 1.0, True),
        "n_iter_no_change": patience(est.n_iter_no_change),
        "tol": real("tol", est.tol, 0.0, math.inf),
        "shuffle": boolean("shuffle", est.shuffle),
        "warm_start": boolean("warm_start", est.warm_start),
        "nesterov": boolean("nesterovs_momentum", est.nesterovs_momentum),
        "early_stopping": boolean("early_stopping", est.early_stopping),
    }


def generator(random_state) -> np.random.Generator:
    """The Generator behind ``random_state``: an int or None seeds a fresh one, a Generator is
    used (and consumed) as it is, a RandomState (scikit-learn's kind) is consumed by drawing
    the seed of one, so that two fits from the same RandomState differ, as in scikit-learn."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**32, size=4, dtype=np.uint64))
    return np.random.default_rng(random_state)


def jsonable(value):
    """Parameters as JSON values: tuples -> lists, NumPy scalars -> Python scalars."""
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (float, np.floating)) and math.isinf(value):
        return "inf" if value > 0 else "-inf"  # strict JSON has no Infinity
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    return value
