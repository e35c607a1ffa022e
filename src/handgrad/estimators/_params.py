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
from ..nn.registry import OPTIMIZERS

# the engine's optimizers in their ``solver=`` spelling, after SciPy's L-BFGS
STOCHASTIC = tuple(entry.solver for entry in OPTIMIZERS.values())
SOLVERS = ("lbfgs", *STOCHASTIC)
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
    c = _Checker(type(est).__name__)
    loss = getattr(est, "loss", None)
    if loss is not None:
        c.choice("loss", loss, REGRESSION_LOSSES)
    c.random_state(est.random_state)
    return {
        "sizes": c.sizes(est.hidden_layer_sizes),
        "activation": c.activation(est.activation),
        "solver": c.choice("solver", est.solver, SOLVERS),
        "learning_rate": c.choice("learning_rate", est.learning_rate, SCHEDULES),
        "batch_size": c.batch_size(est.batch_size),
        "dtype": c.dtype(est.dtype),
        "alpha": c.real("alpha", est.alpha, 0.0, math.inf),
        "lr": c.real("learning_rate_init", est.learning_rate_init, 0.0, math.inf, True),
        "power_t": c.real("power_t", est.power_t, 0.0, math.inf),
        "momentum": c.real("momentum", est.momentum, 0.0, 1.0, high_open=False),
        "beta_1": c.real("beta_1", est.beta_1, 0.0, 1.0),
        "beta_2": c.real("beta_2", est.beta_2, 0.0, 1.0),
        "epsilon": c.real("epsilon", est.epsilon, 0.0, math.inf, True),
        "max_iter": c.integer("max_iter", est.max_iter),
        "max_fun": c.integer("max_fun", est.max_fun),
        "validation_fraction": c.real(
            "validation_fraction", est.validation_fraction, 0.0, 1.0, True
        ),
        "n_iter_no_change": c.patience(est.n_iter_no_change),
        "tol": c.real("tol", est.tol, 0.0, math.inf),
        "shuffle": c.boolean("shuffle", est.shuffle),
        "warm_start": c.boolean("warm_start", est.warm_start),
        "nesterov": c.boolean("nesterovs_momentum", est.nesterovs_momentum),
        "early_stopping": c.boolean("early_stopping", est.early_stopping),
    }


class _Checker:
    """One check per kind of parameter; each error names the estimator and the parameter."""

    def __init__(self, name: str):
        self.name = name

    def integer(self, key, value, minimum=1) -> int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{self.name}: {key} must be an integer, got {value!r}")
        if value < minimum:
            raise ValueError(f"{self.name}: {key} must be >= {minimum}, got {value!r}")
        return int(value)

    def real(self, key, value, low, high, low_open=False, high_open=True) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{self.name}: {key} must be a number, got {value!r}")
        value = float(value)
        ok = math.isfinite(value) and (value > low if low_open else value >= low)
        ok = ok and (value < high if high_open else value <= high)
        if not ok:
            lb, rb = "(" if low_open else "[", ")" if high_open else "]"
            raise ValueError(f"{self.name}: {key} must be in {lb}{low}, {high}{rb}, got {value!r}")
        return value

    def choice(self, key, value, options) -> str:
        if not isinstance(value, str) or value not in options:
            raise ValueError(f"{self.name}: {key} must be one of {list(options)}, got {value!r}")
        return value

    def boolean(self, key, value) -> bool:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{self.name}: {key} must be True or False, got {value!r}")
        return bool(value)

    def patience(self, value):
        """n_iter_no_change: an int >= 1, or inf (never stop early) as in scikit-learn."""
        if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
            if float(value) == math.inf:
                return math.inf
            raise ValueError(
                f"{self.name}: n_iter_no_change must be an integer >= 1 or inf, got {value!r}"
            )
        return self.integer("n_iter_no_change", value)

    def sizes(self, sizes) -> tuple[int, ...]:
        given = sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = (sizes,)
        try:
            sizes = tuple(sizes)
        except TypeError:
            raise TypeError(
                f"{self.name}: hidden_layer_sizes must be an int or a sequence of ints, "
                f"got {given!r}"
            ) from None
        return tuple(self.integer("each hidden layer size", h) for h in sizes)

    def activation(self, given) -> str:
        activation = ACTIVATION_ALIASES.get(given, given) if isinstance(given, str) else given
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            choices = sorted(set(ACTIVATIONS) | set(ACTIVATION_ALIASES))
            raise ValueError(f"{self.name}: activation must be one of {choices}, got {given!r}")
        return activation

    def batch_size(self, value):
        if isinstance(value, str):
            if value != "auto":
                raise ValueError(f"{self.name}: batch_size must be 'auto' or an int, got {value!r}")
            return "auto"
        return self.integer("batch_size", value)

    def dtype(self, given) -> np.dtype | None:
        if given is None:
            return None
        try:
            dtype = np.dtype(given)
        except TypeError:
            dtype = None
        if dtype is None or dtype not in DTYPES:  # (np.dtype == None is True for float64)
            raise ValueError(
                f"{self.name}: dtype must be None (follow X), 'float64' or 'float32', got {given!r}"
            )
        return dtype

    def random_state(self, rs) -> None:
        if not (
            rs is None
            or isinstance(rs, (np.random.Generator, np.random.RandomState))
            or (
                isinstance(rs, numbers.Integral)
                and not isinstance(rs, bool)
                and 0 <= int(rs) < 2**32
            )
        ):
            raise TypeError(
                f"{self.name}: random_state must be None, an int in [0, 2**32), a "
                f"numpy.random.RandomState or a numpy.random.Generator, got {rs!r}"
            )


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
    """Parameters as JSON values: tuples -> lists, NumPy scalars -> Python scalars (inf stays
    a float: ``handgrad.io.json_ready`` writes it null, as every number that is not finite)."""
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    return value
