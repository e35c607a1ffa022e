"""The estimators' parameters: scikit-learn's names, defaults and order, checked in one place.

``check_params(est)`` reads the parameters (never changes them) and returns the resolved
values ``fit`` needs; every problem is a ``TypeError``/``ValueError`` naming the parameter,
raised before anything is drawn or trained.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from ..nn.constraints import Boolean, Constraint, Integer, Options, Real, check
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


# Each parameter's constraint, as scikit-learn's ``_parameter_constraints``: checked at fit
# (and at load), never in ``__init__``. A tuple accepts what any of its members accepts.
# hidden_layer_sizes, dtype and random_state are checked by the functions below.
PARAMETER_CONSTRAINTS: dict[str, Constraint | tuple[Constraint, ...]] = {
    "loss": Options(*REGRESSION_LOSSES),
    "activation": Options(*ACTIVATIONS, *ACTIVATION_ALIASES),
    "solver": Options(*SOLVERS),
    "learning_rate": Options(*SCHEDULES),
    "batch_size": (Options("auto"), Integer(1)),
    "alpha": Real(0.0),
    "learning_rate_init": Real(0.0, low_open=True),
    "power_t": Real(0.0),
    "momentum": Real(0.0, 1.0),
    "beta_1": Real(0.0, 1.0, high_open=True),
    "beta_2": Real(0.0, 1.0, high_open=True),
    "epsilon": Real(0.0, low_open=True),
    "max_iter": Integer(1),
    "max_fun": Integer(1),
    "validation_fraction": Real(0.0, 1.0, low_open=True, high_open=True),
    "n_iter_no_change": (Integer(1), Options(math.inf)),  # inf: never stop early
    "tol": Real(0.0),
    "shuffle": Boolean(),
    "warm_start": Boolean(),
    "nesterovs_momentum": Boolean(),
    "early_stopping": Boolean(),
}
LAYER_SIZE = Integer(1)


def check_params(est) -> dict:
    """Validate every parameter of ``est``; return the resolved values fit needs.

    A bad value raises scikit-learn's ``InvalidParameterError`` (both a ValueError and a
    TypeError, as scikit-learn's estimators raise it) with handgrad's message, so code that
    catches either for a scikit-learn MLP catches it here too."""
    try:
        return _resolved(est)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(str(exc)) from None


def _resolved(est) -> dict:
    who = type(est).__name__

    def value(name: str):
        return check(getattr(est, name), PARAMETER_CONSTRAINTS[name], name, who)

    if getattr(est, "loss", None) is not None:
        value("loss")
    _check_random_state(est.random_state, who)
    activation = value("activation")
    return {
        "sizes": _sizes(est.hidden_layer_sizes, who),
        "activation": ACTIVATION_ALIASES.get(activation, activation),
        "solver": value("solver"),
        "learning_rate": value("learning_rate"),
        "batch_size": value("batch_size"),
        "dtype": _dtype(est.dtype, who),
        "alpha": value("alpha"),
        "lr": value("learning_rate_init"),
        "power_t": value("power_t"),
        "momentum": value("momentum"),
        "beta_1": value("beta_1"),
        "beta_2": value("beta_2"),
        "epsilon": value("epsilon"),
        "max_iter": value("max_iter"),
        "max_fun": value("max_fun"),
        "validation_fraction": value("validation_fraction"),
        "n_iter_no_change": value("n_iter_no_change"),
        "tol": value("tol"),
        "shuffle": value("shuffle"),
        "warm_start": value("warm_start"),
        "nesterov": value("nesterovs_momentum"),
        "early_stopping": value("early_stopping"),
    }


def _sizes(sizes, who: str) -> tuple[int, ...]:
    """hidden_layer_sizes: an int or a sequence of ints, each >= 1."""
    given = sizes
    if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise TypeError(
            f"{who}: hidden_layer_sizes must be an int or a sequence of ints, got {given!r}"
        ) from None
    return tuple(check(h, LAYER_SIZE, "each hidden layer size", who) for h in sizes)


def _dtype(given, who: str) -> np.dtype | None:
    if given is None:
        return None
    try:
        dtype = np.dtype(given)
    except TypeError:
        dtype = None
    if dtype is None or dtype not in DTYPES:  # (np.dtype == None is True for float64)
        raise ValueError(
            f"{who}: dtype must be None (follow X), 'float64' or 'float32', got {given!r}"
        )
    return dtype


def _check_random_state(rs, who: str) -> None:
    if not (
        rs is None
        or isinstance(rs, (np.random.Generator, np.random.RandomState))
        or (isinstance(rs, numbers.Integral) and not isinstance(rs, bool) and 0 <= int(rs) < 2**32)
    ):
        raise TypeError(
            f"{who}: random_state must be None, an int in [0, 2**32), a "
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
