"""What the classifier and the regressor share: parameters, the network, fit, partial_fit.

The fitted weights are scikit-learn's ``coefs_`` (each (in, out)) and ``intercepts_``; the
engine's network ``model_`` is a ``Sequential`` whose Linear layers hold those very arrays
(no copy): a step of the engine's optimizer changes ``coefs_``, and weights assigned to
``coefs_`` are what the next ``partial_fit`` or ``predict`` uses.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..nn._checks import NonFiniteError, all_finite, check_finite
from ..nn.inference import infer
from ..nn.layers import ACTIVATIONS, Linear, Module, Sequential
from ..nn.losses import Loss
from ..train import History
from ._data import (
    as_rows,
    check_sample_weight,
    check_validation_split,
    chunks,
    rows,
    validation_split,
)
from ._params import check_params, generator
from ._persistence import Persistence, own_arrays, release_saved_values
from ._solvers import Objective, StochasticSolver, lbfgs, run_epochs

# the dtypes X keeps when validated for prediction (others are converted to float64)
_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


class BaseMLP(Persistence, BaseEstimator):
    """Parameters, validation, training and inference common to both estimators."""

    _is_regressor = False
    coefs_: list[np.ndarray]
    intercepts_: list[np.ndarray]
    loss_curve_: list[float]
    validation_scores_: list[float] | None
    best_validation_score_: float | None
    best_loss_: float | None
    _best_params: list[np.ndarray]  # the weights at the best validation score (early stopping)

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=1e-3,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dtype=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dtype = dtype

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- subclass hooks ----------------------------------------------------------------------

    def _encode_targets(self, y, dtype, first: bool, classes=None):
        """y as validated -> (targets for the loss, n_outputs, output activation name,
        attributes to set once training is done)."""
        raise NotImplementedError

    def _make_loss(self) -> tuple[Loss, float]:
        """(the engine's loss with reduction="sum", its factor c in the objective)."""
        raise NotImplementedError

    def _reported_fraction(self) -> float:
        """The data term's factor in the loss scikit-learn reports: 1, but 1/K for the
        regressor's squared error with K outputs (scikit-learn's value averages them)."""
        return 1.0

    def _objective(self, alpha: float) -> Objective:
        loss, scale = self._make_loss()
        return Objective(self._network(), loss, scale, alpha, self._reported_fraction())

    def _split_labels(self, T) -> np.ndarray | None:
        """The labels to stratify the early-stopping split by (None: not stratified)."""
        return None

    def _score_outputs(self, outputs: np.ndarray, target, sample_weight) -> float:
        raise NotImplementedError

    # -- the network -------------------------------------------------------------------------

    def _network(self) -> Sequential:
        """The engine's Sequential around ``coefs_`` / ``intercepts_`` (the same arrays); built
        once and kept while those arrays stay the ones it holds."""
        net = self.__dict__.get("_model")
        if net is not None:
            linears = [m for m in net.layers if isinstance(m, Linear)]
            if len(linears) == len(self.coefs_) and all(
                lin.weight.value is W and lin.bias is not None and lin.bias.value is b
                for lin, W, b in zip(linears, self.coefs_, self.intercepts_)
            ):
                return net
        layers: list[Module] = []
        activation = _engine_activation(self.activation)
        for i, (W, b) in enumerate(zip(self.coefs_, self.intercepts_)):
            W, b = np.asarray(W), np.asarray(b)
            dtype = W.dtype if W.dtype in (np.float32, np.float64) else np.dtype(np.float64)
            W = np.ascontiguousarray(W, dtype=dtype)
            b = np.ascontiguousarray(np.reshape(b, (W.shape[1],)), dtype=dtype)
            self.coefs_[i], self.intercepts_[i] = W, b  # (the same objects when already fit)
            lin = Linear(W.shape[0], W.shape[1], init="zeros", dtype=dtype)
            assert lin.bias is not None
            lin.weight.value, lin.bias.value = W, b
            layers.append(lin)
            if i < len(self.coefs_) - 1:
                layers.append(ACTIVATIONS[activation]())
        self._model = net = Sequential(*layers)
        return net

    @property
    def model_(self) -> Sequential:
        """The trained network (``handgrad.Sequential``), emitting logits / raw outputs."""
        check_is_fitted(self, "coefs_")
        return self._network()

    def _initialize(self, units: list[int], p: dict, dtype, rng, n_outputs: int, out: str):
        self.coefs_, self.intercepts_ = glorot_uniform(units, p["activation"], rng, dtype)
        for stale in ("_model", "loss_"):  # (loss_: a new fit diverging at once has none yet)
            self.__dict__.pop(stale, None)
        self.n_iter_, self.t_ = 0, 0
        self.n_outputs_, self.n_layers_, self.out_activation_ = n_outputs, len(units), out
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self.history_ = History()
        self.__dict__.pop("_optimizer", None)
        if p["early_stopping"] and p["solver"] != "lbfgs":
            self.validation_scores_, self.best_validation_score_ = [], -math.inf
            self.best_loss_ = None
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            self.best_loss_ = math.inf

    # -- fit ---------------------------------------------------------------------------------

    def _transaction(self, method, *args, **kwargs):
        """Run ``method``; if it raises, put every attribute back as it was (validate_data
        records n_features_in_ as it goes; a bad y found later must not leave it changed)."""
        before = dict(self.__dict__)
        try:
            return method(*args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def fit(self, X, y, sample_weight=None):
        """Train on X (n_samples, n_features), dense or sparse, and y; returns self.

        A fit starts over unless ``warm_start`` (then it continues from the current weights
        when the architecture is unchanged). ``sample_weight`` (n_samples,) weighs each row's
        loss; a weight of 2 counts a row twice. If anything is refused, nothing changes.
        """
        return self._transaction(self._fit, X, y, sample_weight, incremental=False)

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        p = check_params(self)
        p["verbose"] = bool(self.verbose)
        if incremental and p["early_stopping"]:
            raise ValueError(  # scikit-learn's words, then ours
                "partial_fit does not support early_stopping=True: each call is one epoch on "
                "the rows given, with no validation split; set early_stopping=False to train "
                "incrementally"
            )
        fitted = "coefs_" in self.__dict__
        first = not fitted or (not p["warm_start"] and not incremental)
        X, y = validate_data(
            self,
            X,
            y,
            reset=first,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            multi_output=True,
            y_numeric=self._is_regressor,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        dtype = p["dtype"] or X.dtype
        if not first:
            dtype = np.asarray(self.coefs_[0]).dtype
        X = as_rows(X)
        if X.dtype != dtype:
            X = X.astype(dtype)
        w = check_sample_weight(sample_weight, X.shape[0], dtype)
        T, n_outputs, out, attrs = self._encode_targets(y, dtype, first, classes)
        units = [X.shape[1], *p["sizes"], n_outputs]
        if not first and [np.shape(W) for W in self.coefs_] != list(zip(units[:-1], units[1:])):
            first = True  # warm start with another architecture: a fresh network
        labels = self._split_labels(T)  # stratify the early-stopping split by these
        split_targets = labels if labels is not None else np.zeros(len(T))
        if p["early_stopping"] and p["solver"] != "lbfgs":  # before random_state is drawn
            check_validation_split(
                split_targets, p["validation_fraction"], labels is not None, attrs.get("classes_")
            )

        # --- from here on, state changes: random_state draws, the weights train
        root = generator(self.random_state)
        init_rng, split_rng, shuffle_rng = (
            np.random.default_rng(s) for s in root.integers(0, 2**63 - 1, size=3)
        )
        for key, value in attrs.items():
            setattr(self, key, value)
        if first:
            self._initialize(units, p, dtype, init_rng, n_outputs, out)
        else:  # continuing (warm start, partial_fit, or weights set by hand): fill what is missing
            d = self.__dict__
            d.setdefault("n_iter_", 0)
            d.setdefault("t_", 0)
            d.setdefault("loss_curve_", [])
            d.setdefault("_no_improvement_count", 0)
            d.setdefault("best_loss_", None if p["early_stopping"] else math.inf)
            d.setdefault("validation_scores_", [] if p["early_stopping"] else None)
            d.setdefault("best_validation_score_", -math.inf if p["early_stopping"] else None)
            self.n_outputs_, self.n_layers_, self.out_activation_ = n_outputs, len(units), out
            if "history_" not in d or not incremental:
                self.history_ = History(epoch_loss=list(self.loss_curve_))
            own_arrays(self)  # e.g. read-only memory maps from joblib.load(mmap_mode="r")
        objective = self._objective(p["alpha"])

        if p["solver"] == "lbfgs":
            self._fit_lbfgs(objective, X, T, w, p)
        else:
            self._fit_stochastic(
                objective, (X, T, w), p, incremental, labels, split_rng, shuffle_rng
            )
        release_saved_values(objective.model)  # the estimator keeps no training rows
        return self

    def _fit_lbfgs(self, objective, X, T, w, p):
        value, self.n_iter_, result, curve = lbfgs(
            objective,
            (X, T, w),
            max_iter=p["max_iter"],
            max_fun=p["max_fun"],
            tol=p["tol"],
            who=type(self).__name__,
        )
        self.loss_ = value
        self.loss_curve_ = self.loss_curve_ + curve
        self.best_loss_ = min(self.best_loss_ or math.inf, value)
        self.history_.epoch_loss = list(self.loss_curve_)
        if not math.isfinite(value):
            self.history_.stop_reason = "diverged"
            self.history_.message = (
                f"{type(self).__name__}: lbfgs found no finite loss ({result.message}); the "
                "model keeps its initial weights. Scale X and y."
            )
            warnings.warn(self.history_.message, RuntimeWarning, stacklevel=5)  # fit's caller
        if p["verbose"]:
            print(f"lbfgs: {self.n_iter_} iterations, loss = {value:.8f} ({result.message})")

    def _fit_stochastic(self, objective, data, p, incremental, labels, split_rng, shuffle_rng):
        X, T, w = data
        val = None
        if p["early_stopping"]:
            stratify = labels is not None
            split_targets = labels if stratify else np.zeros(len(T))
            classes = getattr(self, "classes_", None)
            train_idx, val_idx = validation_split(
                split_targets, p["validation_fraction"], split_rng, stratify, classes
            )
            val = (
                X[val_idx],
                T[val_idx],
                None if w is None else w[val_idx],
            )
            X, T = X[train_idx], T[train_idx]
            w = None if w is None else w[train_idx]
        n = T.shape[0]
        if p["batch_size"] == "auto":
            batch_size = min(200, n)
        else:
            batch_size = p["batch_size"]
            if batch_size > n:
                warnings.warn(  # scikit-learn's first words: users' warning filters match them
                    "Got `batch_size` less than 1 or larger than sample size. It is going to be "
                    f"clipped: batch_size={batch_size}, {n} training samples (full batch)",
                    UserWarning,
                    stacklevel=5,  # the caller of fit
                )
                batch_size = n
        self.batch_size_ = batch_size
        solver = self.__dict__.get("_optimizer")
        params = objective.params
        if (
            not incremental
            or solver is None
            or solver.solver != p["solver"]
            or any(a is not b for a, b in zip(solver.optimizer.params, params))
        ):
            self._optimizer = StochasticSolver(params, p["solver"], p)
        if incremental:
            rng = self.__dict__.get("_shuffle_rng") or shuffle_rng
            self._shuffle_rng = rng
        else:
            rng = self._shuffle_rng = shuffle_rng
        if "_best_params" not in self.__dict__ or len(self._best_params) != len(params):
            self._best_params = [q.value.copy() for q in params]
        run_epochs(self, objective, (X, T, w), val, p, batch_size, rng, incremental)
        if val is not None:
            for q, best in zip(params, self._best_params):
                q.value[...] = best
            self.history_.val_metrics = {"score": list(self.validation_scores_ or [])}

    def _loss_grad_lbfgs(self, packed_coef_inter, X, y, sample_weight=None, *unused):
        """scikit-learn's private hook, kept for its tests: (J, dJ/dtheta) at theta, the
        flattened ``coefs_`` then ``intercepts_`` (scikit-learn's order); X dense, y as
        scikit-learn's LabelBinarizer encodes it (or the regression targets)."""
        params = [*self.coefs_, *self.intercepts_]
        theta = np.asarray(packed_coef_inter, dtype=np.float64)
        start = 0
        for a in params:
            a[...] = theta[start : start + a.size].reshape(a.shape)
            start += a.size
        dtype = self.coefs_[0].dtype
        T = np.asarray(y, dtype=dtype)
        T = T.reshape(len(T), -1)
        if self.out_activation_ == "softmax":
            T = np.argmax(T, axis=1)
        objective = self._objective(float(self.alpha))
        w = check_sample_weight(sample_weight, len(T), dtype)
        value = objective.value_and_grad(np.asarray(X, dtype=dtype), T, w)
        net = self._network()
        linears = [m for m in net.layers if isinstance(m, Linear)]
        biases = [lin.bias for lin in linears if lin.bias is not None]  # scikit-learn's: all
        grads = [lin.weight.grad for lin in linears] + [b.grad for b in biases]
        return value, np.concatenate([g.ravel() for g in grads]).astype(np.float64)

    def _validation_score(self, X_val, T_val, w_val) -> float:
        try:
            outputs = self._outputs(X_val)
        except NonFiniteError:
            return math.nan
        return float(self._score_outputs(outputs, T_val, w_val))

    # -- inference ---------------------------------------------------------------------------

    def _outputs(self, X) -> np.ndarray:
        """The network's raw outputs (n_samples, n_outputs) on validated X (dense or sparse),
        computed in chunks of rows."""
        model = self._network()
        dtype = self.coefs_[0].dtype
        widest = max(np.shape(W)[1] for W in self.coefs_)  # (sparse X is never densified)
        if not sp.issparse(X):
            widest = max(widest, X.shape[1])
        with np.errstate(over="ignore", invalid="ignore"):  # reported by name below
            parts = [_forward(model, rows(X, part, dtype)) for part in chunks(X.shape[0], widest)]
        if len(parts) == 1:
            z = parts[0]
        else:
            z = np.concatenate(parts) if parts else np.empty((0, self.n_outputs_), dtype)
        check_finite(z, "the network's outputs")
        return z

    def _plain_input(self, X) -> bool:
        """Whether X is what ``validate_data`` (called as in ``_logits``) would return as it
        is, with no warning, if it is finite: a NumPy float64 or float32 array
        (N, n_features_in_), N >= 1, for an estimator fitted without feature names. Such X
        skips that call's ~100 us of Python (its finiteness the first layer checks, as it
        would anyway); any other X, and every error or warning, goes through it."""
        return (
            type(X) is np.ndarray
            and X.dtype in _FLOAT_DTYPES
            and X.ndim == 2
            and X.shape[0] > 0
            and X.shape[1] == self.__dict__.get("n_features_in_")
            and "feature_names_in_" not in self.__dict__
        )

    def _validated(self, X):
        """X checked as scikit-learn's MLPs check it for prediction (``dtype="numeric"``:
        text is refused, even numeric text that ``fit`` converts), then as floats."""
        X = validate_data(self, X, reset=False, accept_sparse=["csr", "csc"])
        return X if X.dtype in _FLOAT_DTYPES else X.astype(np.float64)

    def _logits(self, X) -> np.ndarray:
        """Validated X -> the network's raw outputs (n_samples, n_outputs), in its dtype."""
        check_is_fitted(self, "coefs_")
        plain = self._plain_input(X)
        if not plain:
            X = self._validated(X)
        try:
            return self._outputs(as_rows(X))
        except NonFiniteError as exc:
            if not all_finite(X.data if sp.issparse(X) else X):
                if plain:
                    self._validated(X)  # raises scikit-learn's own error for a NaN or inf in X
                raise NonFiniteError(  # validation was skipped: sklearn's assume_finite=True
                    f"Input X contains NaN or infinity. {type(self).__name__} cannot compute "
                    "on them, even under scikit-learn's assume_finite=True"
                ) from None
            raise NonFiniteError(
                f"{type(self).__name__}: X is finite, but the network's values overflow the "
                f"float range on it ({exc}); X is far from the scale the model was trained "
                "on, or training diverged (see history_.stop_reason)"
            ) from None


def _forward(net: Sequential, x) -> np.ndarray:
    """The outputs (N, n_outputs) of an estimator's network on x (N, n_features), an array or
    a sparse matrix of the network's dtype: ``infer`` checking X only, as scikit-learn's
    ``predict`` does (the caller checks the outputs). Sparse x: the first layer multiplies
    its rows as they are (never densified), ``infer`` the layers after it."""
    if type(x) is np.ndarray or not sp.issparse(x):
        return infer(net, x, check_hidden=False)
    check_finite(x.data, "X")
    first = net.layers[0]
    assert isinstance(first, Linear) and first.bias is not None  # (as _network builds it)
    z = np.asarray(x @ first.weight.value)
    z += first.bias.value
    return infer(Sequential(*net.layers[1:]), z, check_hidden=False)


def glorot_uniform(units: list[int], activation: str, rng: np.random.Generator, dtype):
    """scikit-learn's initial weights AND biases, drawn from ``rng``: for each layer
    (fan_in, fan_out) = (units[i], units[i+1]), W (fan_in, fan_out) then b (fan_out,), both
    uniform on [-a, a] with a = sqrt(f / (fan_in + fan_out)), f = 2 for a sigmoid ("logistic")
    hidden activation, else 6 (Glorot & Bengio's bound)."""
    factor = 2.0 if activation == "sigmoid" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        a = math.sqrt(factor / (fan_in + fan_out))
        coefs.append(rng.uniform(-a, a, (fan_in, fan_out)).astype(dtype))
        intercepts.append(rng.uniform(-a, a, fan_out).astype(dtype))
    return coefs, intercepts


def _engine_activation(name: str) -> str:
    return {"logistic": "sigmoid"}.get(name, name)


__all__ = ["BaseMLP"]
