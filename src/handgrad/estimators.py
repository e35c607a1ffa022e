"""scikit-learn estimators on top of handgrad's engine and training loop.

``MLPClassifier`` and ``MLPRegressor`` follow scikit-learn's estimator contract, so they
drop into ``Pipeline``, ``GridSearchCV``, ``cross_val_score``, ``clone`` and pickling:

    __init__ stores its arguments and nothing else; fit validates X and y at the boundary,
    builds ``handgrad.mlp([n_features, *hidden_layer_sizes, n_outputs])`` and trains it with
    ``handgrad.fit``; everything learned ends in ``_`` (``model_`` is the engine's
    ``Sequential``, usable on its own).

Outputs and link functions (the last layer always emits logits / raw values):

    binary classifier      1 logit z      BCEWithLogitsLoss      P(classes_[1]) = sigmoid(z)
    multiclass classifier  C logits Z     softmax cross-entropy  P = softmax(Z)
    regressor              K outputs      MSELoss (no factor 1/2) prediction = the outputs

The L2 strength ``alpha`` has scikit-learn's meaning, implemented the way scikit-learn's
MLP implements it: each step minimizes

    mean loss over the batch + alpha / (2 * B) * sum of squared weights   (biases excluded)

with B the batch size (``min(batch_size, n_samples)``), i.e. an ``L2Penalty`` of
``lam = alpha / B`` in the "half" convention. With full-batch training (B = n) this is the
objective of scikit-learn's user guide, alpha / (2 n) ||W||^2. The only difference from
scikit-learn's code: it divides by the size of each batch, so an epoch's final short
batch gets a slightly stronger penalty there; here every batch uses the nominal B.

Randomness: one ``numpy.random.Generator`` per fit, built from ``random_state`` (an int,
None for fresh entropy, or a Generator, which is then consumed); from it come the initial
weights, the validation split and the shuffling. The global NumPy state is never used.

``partial_fit`` trains one more epoch on the data it is given, keeping the weights and the
optimizer's state between calls (for data that arrives in pieces or does not fit in memory).

Models are saved with ``hg.save`` (arrays + JSON, never pickle) and the estimator's
parameters and fitted metadata; ``MLPClassifier.load(path)`` gives back a fitted estimator.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from .metrics import log_probabilities, probabilities, r2_score
from .nn._checks import NonFiniteError, check_finite
from .nn.layers import ACTIVATIONS, Linear, mlp
from .nn.losses import BCEWithLogitsLoss, L2Penalty, Loss, MSELoss, SoftmaxCrossEntropyLoss
from .nn.optim import SGD, Adam, Optimizer, RMSProp
from .nn.serialization import load_with_metadata, save
from .train import Callback, EarlyStopping, History, TrainingContext, predict_outputs
from .train import fit as train_fit

__all__ = ["MLPClassifier", "MLPRegressor", "load_estimator"]

_SOLVERS = ("adam", "sgd", "rmsprop")
# scikit-learn calls the sigmoid "logistic"; both names are accepted.
_ACTIVATION_ALIASES = {"logistic": "sigmoid"}
_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))


# --- helpers --------------------------------------------------------------------------------


def _check_validation_split(
    y_enc: np.ndarray, fraction: float, stratify: bool, classes: np.ndarray | None = None
) -> None:
    """Refuse a split the way scikit-learn's MLP refuses it (its ``train_test_split``): a
    validation set of fewer than 2 rows, no training row, and, when stratified, a class with
    a single member. Draws nothing: fit calls it before touching random_state.

    (scikit-learn stratifies binary targets only, and then also asks for at least as many
    validation rows as classes; here every classifier is stratified, and a class may get no
    validation row when there are fewer rows than classes.)
    """
    n = y_enc.shape[0]
    n_val = math.ceil(fraction * n)  # as scikit-learn's train_test_split rounds a test size
    if stratify:
        labels, counts = np.unique(y_enc, return_counts=True)
        if counts.min() < 2:
            names = labels if classes is None else classes[labels.astype(np.intp)]
            lonely = [_jsonable(c) for c in names[counts < 2]]
            raise ValueError(
                f"early_stopping: the stratified validation split needs at least 2 samples "
                f"of each class; class(es) {lonely} have only 1 (as in scikit-learn)"
            )
    where = f"early_stopping: validation_fraction={fraction} of {n} samples"
    if n_val < 2:
        raise ValueError(
            f"{where} holds out {n_val} sample(s); the validation set needs at least 2 (as "
            "in scikit-learn): increase validation_fraction or the size of the data"
        )
    if n_val >= n:
        raise ValueError(f"{where} leaves {n - n_val} for training; training needs at least 1")


def _validation_split(
    y_enc: np.ndarray,
    fraction: float,
    rng: np.random.Generator,
    stratify: bool,
    classes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, validation); stratified by class when ``stratify``.

    Checked by ``_check_validation_split`` first.
    """
    _check_validation_split(y_enc, fraction, stratify, classes)
    n = y_enc.shape[0]
    n_val = math.ceil(fraction * n)
    if stratify:
        # Each class gets its share of n_val: the floors first, then the remaining slots to
        # the largest remainders (ties broken at random).
        labels, counts = np.unique(y_enc, return_counts=True)
        exact = n_val * counts / n
        quota = np.floor(exact).astype(np.intp)
        spare = n_val - int(quota.sum())
        order = np.lexsort((rng.random(labels.size), -(exact - quota)))
        quota[order[:spare]] += 1
        val = []
        for c, k in zip(labels, quota):
            rows = np.flatnonzero(y_enc == c)
            val.append(rng.permutation(rows)[:k])
        val_idx = np.sort(np.concatenate(val))
    else:
        val_idx = np.sort(rng.permutation(n)[:n_val])
    train_mask = np.ones(n, dtype=bool)
    train_mask[val_idx] = False
    return np.flatnonzero(train_mask), val_idx


def _jsonable(value):
    """Parameters as JSON values: tuples -> lists, NumPy scalars -> Python scalars."""
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (float, np.floating)) and math.isinf(value):
        return "inf" if value > 0 else "-inf"  # strict JSON has no Infinity
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.dtype):
        return str(value)
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    return value


class _EpochPrinter(Callback):
    """``verbose``: one line per epoch, like scikit-learn's "Iteration i, loss = ..."."""

    def on_epoch_end(self, ctx: TrainingContext) -> None:
        extra = "".join(f", {k} = {v:.6f}" for k, v in ctx.logs.items() if k != "loss")
        print(f"Iteration {ctx.epoch + 1}, loss = {ctx.logs['loss']:.8f}{extra}", flush=True)


# --- the shared estimator -------------------------------------------------------------------


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, validation, training, I/O."""

    _loss_kind: str = ""  # set by subclasses

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 1e-4,
        batch_size="auto",
        learning_rate_init: float = 1e-3,
        max_iter: int = 200,
        momentum: float = 0.9,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        random_state=None,
        dtype: str = "float64",
        verbose: bool = False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.momentum = momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose

    # -- parameter checks (read the parameters, never change them) ---------------------------

    def _checked_params(self) -> dict:
        """Validate every parameter; return the resolved values fit needs."""
        name = type(self).__name__

        def positive_int(key, value, minimum=1):
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

        def patience(value):
            """n_iter_no_change: an int >= 1, or inf (never stop early) as in scikit-learn."""
            if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
                if float(value) == math.inf:
                    return math.inf
                raise ValueError(
                    f"{name}: n_iter_no_change must be an integer >= 1 or inf, got {value!r}"
                )
            return positive_int("n_iter_no_change", value)

        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = (sizes,)
        try:
            sizes = tuple(sizes)
        except TypeError:
            raise TypeError(
                f"{name}: hidden_layer_sizes must be an int or a sequence of ints, "
                f"got {self.hidden_layer_sizes!r}"
            ) from None
        sizes = tuple(positive_int("each hidden layer size", h) for h in sizes)

        activation = self.activation
        if isinstance(activation, str):
            activation = _ACTIVATION_ALIASES.get(activation, activation)
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            choices = sorted(set(ACTIVATIONS) | set(_ACTIVATION_ALIASES))
            raise ValueError(
                f"{name}: activation must be one of {choices}, got {self.activation!r}"
            )
        if self.solver not in _SOLVERS:
            raise ValueError(f"{name}: solver must be one of {list(_SOLVERS)}, got {self.solver!r}")
        if isinstance(self.batch_size, str):
            if self.batch_size != "auto":
                raise ValueError(
                    f"{name}: batch_size must be 'auto' or an int, got {self.batch_size!r}"
                )
            batch_size = "auto"
        else:
            batch_size = positive_int("batch_size", self.batch_size)
        try:
            dtype = None if self.dtype is None else np.dtype(self.dtype)
        except TypeError:
            dtype = None
        if dtype is None or dtype not in _DTYPES:  # (np.dtype == None is True for float64)
            raise ValueError(f"{name}: dtype must be 'float64' or 'float32', got {self.dtype!r}")
        rs = self.random_state
        if not (
            rs is None
            or isinstance(rs, np.random.Generator)
            or (isinstance(rs, numbers.Integral) and not isinstance(rs, bool) and int(rs) >= 0)
        ):
            raise TypeError(
                f"{name}: random_state must be None, a non-negative int or a "
                f"numpy.random.Generator, got {rs!r}"
            )
        return {
            "sizes": sizes,
            "activation": activation,
            "batch_size": batch_size,
            "dtype": dtype,
            "alpha": real("alpha", self.alpha, 0.0, math.inf),
            "lr": real("learning_rate_init", self.learning_rate_init, 0.0, math.inf, True),
            "momentum": real("momentum", self.momentum, 0.0, 1.0),
            "max_iter": positive_int("max_iter", self.max_iter),
            "validation_fraction": real(
                "validation_fraction", self.validation_fraction, 0.0, 1.0, True
            ),
            "n_iter_no_change": patience(self.n_iter_no_change),
            "tol": real("tol", self.tol, 0.0, math.inf),
        }

    # -- subclass hooks ----------------------------------------------------------------------

    def _encode_targets(self, y: np.ndarray, dtype: np.dtype, classes=None):
        """y as validated -> (targets for the loss, number of network outputs,
        fitted attributes to set once training is done). ``classes``: partial_fit's."""
        raise NotImplementedError

    def _encode_more_targets(self, y: np.ndarray) -> np.ndarray:
        """partial_fit after the first call: y -> targets, checked against what was learned."""
        raise NotImplementedError

    def _make_loss(self, n_outputs: int) -> Loss:
        raise NotImplementedError

    def _score_metric(self):
        """(name, callable(outputs, target)) monitored on the validation set."""
        raise NotImplementedError

    def _fitted_metadata(self) -> dict:
        return {}

    def _restore_metadata(self, meta: dict) -> None:
        pass

    # -- fit ---------------------------------------------------------------------------------

    def _make_optimizer(self, params, p: dict) -> Optimizer:
        if self.solver == "sgd":
            return SGD(params, lr=p["lr"], momentum=p["momentum"])
        if self.solver == "rmsprop":
            return RMSProp(params, lr=p["lr"])
        return Adam(params, lr=p["lr"])

    def _rngs(self) -> list[np.random.Generator]:
        """Three independent streams from random_state: initial weights, split, shuffling."""
        rs = self.random_state
        root = rs if isinstance(rs, np.random.Generator) else np.random.default_rng(rs)
        return [np.random.default_rng(s) for s in root.integers(0, 2**63 - 1, size=3)]

    @staticmethod
    def _resolve_batch_size(p: dict, n: int) -> int:
        batch_size = min(200, n) if p["batch_size"] == "auto" else p["batch_size"]
        if batch_size > n:
            warnings.warn(
                f"batch_size={batch_size} is larger than the {n} training samples; "
                f"using {n} (full batch)",
                UserWarning,
                stacklevel=4,
            )
            batch_size = n
        return batch_size

    def _validate(self, X, y, dtype, reset: bool):
        is_regressor = self._loss_kind == "mse"
        return validate_data(
            self, X, y, reset=reset, dtype=dtype, multi_output=is_regressor, y_numeric=is_regressor
        )

    def _transaction(self, method, *args):
        """Run ``method``; if it raises, put every attribute back as it was.

        validate_data records n_features_in_ and feature names as it goes: an error raised
        after that (a bad y, say) must not leave them half-updated.
        """
        before = dict(self.__dict__)
        try:
            return method(*args)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def fit(self, X, y):
        """Train a fresh network on X (n_samples, n_features) and y; returns self.

        A refit starts over. If anything raises (bad parameters, bad X or y), the
        estimator is left exactly as it was.
        """
        return self._transaction(self._fit, X, y)

    def _fit(self, X, y):
        p = self._checked_params()
        X, y = self._validate(X, y, p["dtype"], reset=True)
        targets, n_outputs, target_attrs = self._encode_targets(y, p["dtype"])
        stratify = self._loss_kind != "mse"
        split_targets = targets if stratify else np.zeros(X.shape[0])
        classes = target_attrs.get("classes_")
        if self.early_stopping:  # before random_state is drawn from (it may be a Generator)
            _check_validation_split(split_targets, p["validation_fraction"], stratify, classes)
        init_rng, split_rng, shuffle_rng = self._rngs()

        score_name, score_fn = self._score_metric()
        validation_data = None
        if self.early_stopping:
            train_idx, val_idx = _validation_split(
                split_targets, p["validation_fraction"], split_rng, stratify, classes
            )
            validation_data = (X[val_idx], targets[val_idx])
            X, targets = X[train_idx], targets[train_idx]

        batch_size = self._resolve_batch_size(p, X.shape[0])
        model = mlp(
            [X.shape[1], *p["sizes"], n_outputs], p["activation"], rng=init_rng, dtype=p["dtype"]
        )
        optimizer = self._make_optimizer(model.parameters(), p)
        l2 = L2Penalty(p["alpha"] / batch_size, "half") if p["alpha"] > 0 else None

        # inf: never stop early; a patience above max_iter can never run out
        patience = min(p["n_iter_no_change"], p["max_iter"] + 1)
        if self.early_stopping:
            stopper = EarlyStopping(
                monitor=f"val_{score_name}",
                patience=patience,
                min_delta=p["tol"],
                mode="max",
                restore_best_weights=True,
            )
        else:
            stopper = EarlyStopping(
                monitor="loss",
                patience=patience,
                min_delta=p["tol"],
                mode="min",
                restore_best_weights=False,
            )
        callbacks: list[Callback] = [stopper]
        if self.verbose:
            callbacks.append(_EpochPrinter())

        history = train_fit(
            model,
            self._make_loss(n_outputs),
            optimizer,
            X,
            targets,
            epochs=p["max_iter"],
            batch_size=batch_size,
            rng=shuffle_rng,
            validation_data=validation_data,
            metrics=[score_fn] if self.early_stopping else (),
            l2=l2,
            callbacks=callbacks,
        )
        if history.stop_reason is None and history.epochs == p["max_iter"]:
            warnings.warn(
                f"{type(self).__name__}: max_iter={p['max_iter']} epochs reached and the "
                "optimization has not converged yet (see n_iter_no_change and tol).",
                ConvergenceWarning,
                stacklevel=3,
            )

        for key, value in target_attrs.items():
            setattr(self, key, value)
        self.model_ = model
        self.n_outputs_ = n_outputs
        self._optimizer, self._shuffle_rng = optimizer, shuffle_rng  # for partial_fit
        self._set_history(history, batch_size)
        if self.early_stopping:
            self.validation_scores_ = list(history.val_metrics.get(score_name, []))
            self.best_validation_score_ = max(self.validation_scores_, default=None)
            self.best_loss_ = None  # as scikit-learn: the validation score is what counts
        return self

    def _set_history(self, history: History, batch_size: int) -> None:
        self.history_ = history
        self.loss_curve_ = list(history.epoch_loss)
        self.n_iter_ = history.epochs
        self.best_loss_ = min(self.loss_curve_, default=None)
        self.batch_size_ = batch_size
        self.validation_scores_ = None
        self.best_validation_score_ = None

    def _partial_fit(self, X, y, classes=None):
        p = self._checked_params()
        first = not hasattr(self, "model_")
        dtype = p["dtype"] if first else self.model_.dtype
        X, y = self._validate(X, y, dtype, reset=first)
        if first:
            targets, n_outputs, target_attrs = self._encode_targets(y, dtype, classes)
            init_rng, _, shuffle_rng = self._rngs()
            model = mlp(
                [X.shape[1], *p["sizes"], n_outputs], p["activation"], rng=init_rng, dtype=dtype
            )
            history = History()
        else:
            targets = self._encode_more_targets(y)
            model, n_outputs, history = self.model_, self.n_outputs_, self.history_
            target_attrs = {}
            shuffle_rng = getattr(self, "_shuffle_rng", None)
            if shuffle_rng is None:  # an estimator read back by load()
                shuffle_rng = self._rngs()[2]
        optimizer = getattr(self, "_optimizer", None) if not first else None
        if optimizer is None:  # first call, or an estimator read back by load()
            optimizer = self._make_optimizer(model.parameters(), p)

        batch_size = self._resolve_batch_size(p, X.shape[0])
        l2 = L2Penalty(p["alpha"] / batch_size, "half") if p["alpha"] > 0 else None
        epoch = train_fit(
            model,
            self._make_loss(n_outputs),
            optimizer,
            X,
            targets,
            epochs=1,
            batch_size=batch_size,
            rng=shuffle_rng,
            l2=l2,
            callbacks=[_EpochPrinter()] if self.verbose else (),
        )
        for key, value in target_attrs.items():
            setattr(self, key, value)
        self.model_, self.n_outputs_ = model, n_outputs
        self._optimizer, self._shuffle_rng = optimizer, shuffle_rng
        history.step_loss += epoch.step_loss
        history.epoch_loss += epoch.epoch_loss
        history.epoch_seconds += epoch.epoch_seconds
        history.stop_reason, history.message = epoch.stop_reason, epoch.message
        self._set_history(history, batch_size)
        return self

    # -- inference ---------------------------------------------------------------------------

    def _logits(self, X) -> np.ndarray:
        """Validated X -> the network's raw outputs (n_samples, n_outputs), in its dtype."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=self.model_.dtype)
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # reported below, by name
                z = predict_outputs(self.model_, X)
            check_finite(z, "the network's outputs")
        except NonFiniteError as exc:
            raise NonFiniteError(
                f"{type(self).__name__}: X is finite, but the network's values overflow the "
                f"float range on it ({exc}); X is far from the scale the model was trained "
                "on, or training diverged (see history_.stop_reason)"
            ) from None
        return z

    # -- saving ------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted estimator to ``path`` (handgrad's .npz format: arrays + JSON).

        The file holds the network's weights, the estimator's parameters and what was
        learned besides the weights (classes_, n_features_in_, feature names, history).
        """
        check_is_fitted(self, "model_")
        params = self.get_params()
        if isinstance(params["random_state"], np.random.Generator):
            params["random_state"] = None  # a Generator is not data; it was consumed anyway
        meta = {
            "estimator": type(self).__name__,
            "params": {k: _jsonable(v) for k, v in params.items()},
            "n_features_in_": int(self.n_features_in_),
            "feature_names_in_": (
                [str(c) for c in self.feature_names_in_]
                if hasattr(self, "feature_names_in_")
                else None
            ),
            "n_outputs_": int(self.n_outputs_),
            "batch_size_": int(self.batch_size_),
            "history_": self.history_.as_dict(),
            "validation_scores_": self.validation_scores_,
            **self._fitted_metadata(),
        }
        return save(self.model_, path, metadata=meta)

    @classmethod
    def load(cls, path: str | os.PathLike):
        """Read an estimator written by ``save``; returns it fitted, ready to predict.

        A file that is not an intact handgrad model raises ValueError (see ``hg.load``), and
        so does estimator metadata that is missing a key or does not fit the network.
        """
        model, meta = load_with_metadata(path)
        kind = meta.get("estimator")
        if kind != cls.__name__:
            raise ValueError(
                f"{path} holds {'a ' + repr(kind) if kind else 'no handgrad estimator'}, "
                f"not a {cls.__name__}"
            )
        try:
            return cls._from_metadata(model, meta)
        except KeyError as exc:
            raise ValueError(
                f"cannot load {cls.__name__} from {path}: its metadata has no {exc.args[0]!r}"
            ) from None
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise ValueError(
                f"cannot load {cls.__name__} from {path}: invalid estimator metadata ({exc})"
            ) from None

    @classmethod
    def _from_metadata(cls, model, meta: dict):
        """The fitted estimator described by ``meta`` around ``model``; checked throughout."""
        params = dict(meta["params"])
        if isinstance(params.get("hidden_layer_sizes"), list):
            params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
        if params.get("n_iter_no_change") == "inf":
            params["n_iter_no_change"] = math.inf
        est = cls(**params)
        est._checked_params()  # parameters a fit would refuse are refused here too
        est.model_ = model
        est.n_features_in_ = _count(meta["n_features_in_"], "n_features_in_")
        est.n_outputs_ = _count(meta["n_outputs_"], "n_outputs_")
        est.batch_size_ = _count(meta["batch_size_"], "batch_size_")
        if _output_width(model, est.n_features_in_) != est.n_outputs_:
            raise ValueError(
                f"the network does not map {est.n_features_in_} features to "
                f"{est.n_outputs_} outputs"
            )
        names = meta["feature_names_in_"]
        if names is not None:
            if not isinstance(names, list) or len(names) != est.n_features_in_:
                raise ValueError("feature_names_in_ must list one name per feature")
            est.feature_names_in_ = np.asarray([str(c) for c in names], dtype=object)
        history = meta["history_"]
        if not isinstance(history, dict):
            raise TypeError("history_ must be a JSON object")
        est.history_ = History(**history)
        losses = est.history_.epoch_loss
        if not isinstance(losses, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in losses
        ):
            raise TypeError("history_.epoch_loss must be a list of numbers")
        est.loss_curve_ = list(est.history_.epoch_loss)
        est.n_iter_ = est.history_.epochs
        scores = meta["validation_scores_"]
        if scores is not None and not isinstance(scores, list):
            raise TypeError("validation_scores_ must be a list or null")
        est.validation_scores_ = scores
        est.best_validation_score_ = max(scores or [], default=None)
        est.best_loss_ = None if est.early_stopping else min(est.loss_curve_, default=None)
        est._restore_metadata(meta)
        return est


def _output_width(model, n_features: int) -> int | None:
    """The network's output width for n_features inputs; None if a layer does not fit."""
    width = n_features
    for layer in model.layers:
        if isinstance(layer, Linear):
            if layer.in_features != width:
                return None
            width = layer.out_features
        elif type(layer) not in ACTIVATIONS.values():
            return None  # an estimator's network holds Linear layers and activations only
    return width


def _count(value, key: str) -> int:
    """A positive int from the metadata (JSON ints only: no bools, floats or strings)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{key} must be a positive integer, got {value!r}")
    return value


# --- classifier -----------------------------------------------------------------------------


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multilayer perceptron classifier trained by handgrad.

    Two classes: one output logit z and ``BCEWithLogitsLoss``; P(classes_[1] | x) = sigmoid(z).
    More classes: one logit per class and softmax cross-entropy; P = softmax(logits).
    Labels may be any values (ints, strings, ...); ``classes_`` holds them sorted, and
    the network sees their indices.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (100,)
        Width of each hidden layer; ``()`` gives a linear model (logistic regression).
    activation : {"relu", "tanh", "sigmoid" (alias "logistic"), "leaky_relu", "identity"}
    solver : {"adam", "sgd", "rmsprop"}, default "adam"
    alpha : float, default 1e-4
        L2 strength with scikit-learn's MLP convention: alpha / (2 B) * ||W||^2 per step,
        B the batch size; biases are not penalized. See the module docstring.
    batch_size : "auto" or int, default "auto" (= min(200, n_samples))
    learning_rate_init : float, default 1e-3
    max_iter : int, default 200
        Number of epochs (passes over the training data).
    momentum : float, default 0.9
        Momentum of the "sgd" solver (classical, not Nesterov).
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training data (stratified) and stop when
        the validation accuracy has not improved by ``tol`` for ``n_iter_no_change``
        epochs; the weights of the best epoch are restored. Without it, training stops
        when the training loss has not improved by ``tol`` for ``n_iter_no_change`` epochs.
    validation_fraction, n_iter_no_change, tol : see ``early_stopping``.
    random_state : None, int or numpy.random.Generator
        Seeds the initial weights, the validation split and the shuffling.
    dtype : "float64" or "float32", default "float64"
        Precision of the weights, activations, gradients and outputs.
    verbose : bool, default False
        Print the loss after every epoch.

    Fitted attributes
    -----------------
    model_ : handgrad.Sequential, the trained network (it emits logits)
    classes_ : array of the sorted labels
    n_features_in_, feature_names_in_ (when X had string column names)
    loss_curve_ : training loss (with the L2 term) per epoch
    n_iter_ : epochs run;  history_ : ``handgrad.train.History``
    validation_scores_, best_validation_score_ : validation accuracy per epoch / best
        (None without early stopping);  best_loss_ : lowest training loss
    n_outputs_ : number of logits (1 for two classes);  batch_size_ : the batch size used
    """

    _loss_kind = "classification"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False
        tags.classifier_tags.multi_label = False
        return tags

    def _encode_targets(self, y: np.ndarray, dtype: np.dtype, classes=None):
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__} needs a 1-D vector of class labels, got a target of "
                f"type {kind!r}"
            )
        if classes is None:
            classes = np.unique(y)
            where = "in y, but the data holds"
        else:
            classes = np.unique(np.asarray(classes))
            where = "in classes, but it holds"
        if classes.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 classes {where} 1 class: "
                f"{_jsonable(classes[0])!r}"
            )
        n_outputs = 1 if classes.size == 2 else int(classes.size)
        return self._indices(y, classes, dtype), n_outputs, {"classes_": classes}

    def _indices(self, y: np.ndarray, classes: np.ndarray, dtype: np.dtype) -> np.ndarray:
        """Labels -> their positions in ``classes`` (float 0/1 for the binary logit)."""
        idx = np.searchsorted(classes, y)
        idx_safe = np.minimum(idx, classes.size - 1)
        unknown = classes[idx_safe] != y
        if np.any(unknown):
            raise ValueError(
                f"y holds label {_jsonable(y[unknown][0])!r}, which is not among the classes "
                f"{classes.tolist()}"
            )
        return idx.astype(dtype) if classes.size == 2 else idx.astype(np.intp)

    def _encode_more_targets(self, y: np.ndarray) -> np.ndarray:
        check_classification_targets(y)
        return self._indices(y, self.classes_, self.model_.dtype)

    def partial_fit(self, X, y, classes=None):
        """One more epoch over (X, y), continuing from the current weights and optimizer state.

        ``classes`` (every label that will ever appear) is required on the first call.
        ``early_stopping``, ``max_iter``, ``n_iter_no_change`` and ``tol`` do not apply:
        each call is one epoch, and the caller decides when to stop.
        """
        if not hasattr(self, "model_") and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit "
                "(every label the model will ever see)"
            )
        if hasattr(self, "model_") and classes is not None:
            given = np.unique(np.asarray(classes))
            if given.shape != self.classes_.shape or np.any(given != self.classes_):
                raise ValueError(
                    f"partial_fit: classes={_jsonable(given.tolist())} is not the same as the "
                    f"classes the model was fitted with, {self.classes_.tolist()}"
                )
        return self._transaction(self._partial_fit, X, y, classes)

    def _make_loss(self, n_outputs: int) -> Loss:
        return BCEWithLogitsLoss() if n_outputs == 1 else SoftmaxCrossEntropyLoss()

    def _score_metric(self):
        def accuracy(outputs: np.ndarray, target: np.ndarray) -> float:
            if outputs.shape[1] == 1:
                return float(np.mean((outputs[:, 0] > 0) == (target.reshape(-1) == 1)))
            return float(np.mean(np.argmax(outputs, axis=1) == target))

        return "accuracy", accuracy

    def decision_function(self, X) -> np.ndarray:
        """The logits: shape (n_samples,) for two classes (> 0 means classes_[1]),
        (n_samples, n_classes) otherwise."""
        z = self._logits(X)
        return z[:, 0] if z.shape[1] == 1 else z

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n_samples, n_classes), columns in the order of ``classes_``.

        Two classes: [sigmoid(-z), sigmoid(z)] (each side computed directly, so a tiny
        probability is not lost to 1 - p); more: softmax of the logits.
        """
        return probabilities(self._logits(X))

    def predict_log_proba(self, X) -> np.ndarray:
        """log of ``predict_proba``, computed from the logits (finite for any finite logit)."""
        return log_probabilities(self._logits(X))

    def predict(self, X) -> np.ndarray:
        """The most probable label for each row (n_samples,)."""
        z = self._logits(X)
        if z.shape[1] == 1:
            return self.classes_[(z[:, 0] > 0).astype(np.intp)]
        return self.classes_[np.argmax(z, axis=1)]

    def _fitted_metadata(self) -> dict:
        classes = self.classes_
        values = classes.tolist()
        for v in values:
            if not isinstance(v, (str, int, float, bool)):
                raise TypeError(
                    f"save: class label {v!r} of type {type(v).__name__} cannot be stored as "
                    "JSON; use str, int, float or bool labels"
                )
        return {"classes_": values, "classes_dtype": classes.dtype.str}

    def _restore_metadata(self, meta: dict) -> None:
        values, dtype = meta["classes_"], np.dtype(meta["classes_dtype"])
        if not isinstance(values, list) or dtype.kind not in "biufUO":
            raise ValueError("classes_ must be a list of labels of a plain dtype")
        if dtype.kind == "O":
            self.classes_ = np.empty(len(values), dtype=object)
            self.classes_[:] = values
        else:
            self.classes_ = np.asarray(values, dtype=dtype)
        if self.classes_.ndim != 1 or self.n_outputs_ != (
            1 if self.classes_.size == 2 else self.classes_.size
        ):
            raise ValueError(
                f"{self.classes_.size} classes do not fit a network with {self.n_outputs_} "
                "output(s)"
            )


# --- regressor ------------------------------------------------------------------------------


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multilayer perceptron regressor trained by handgrad with ``MSELoss``.

    The last layer is linear (identity link): ``predict`` returns the network's outputs.
    y of shape (n_samples,) gives predictions of shape (n_samples,); y of shape
    (n_samples, k) trains k outputs and predicts (n_samples, k). ``score`` is R^2.
    The targets are not rescaled: standardize them (e.g. ``TransformedTargetRegressor``
    with a ``StandardScaler``) when they are far from unit scale.

    Parameters and fitted attributes are those of ``MLPClassifier`` (without ``classes_``);
    with ``early_stopping`` the validation score is R^2, and ``loss_curve_`` holds the MSE
    (mean over all elements, no factor 1/2; scikit-learn reports half of it) plus the L2 term.
    """

    _loss_kind = "mse"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _encode_targets(self, y: np.ndarray, dtype: np.dtype, classes=None):
        y = y.astype(dtype, copy=False)
        n_outputs = 1 if y.ndim == 1 else int(y.shape[1])
        return y, n_outputs, {"_y_is_1d": y.ndim == 1}

    def _encode_more_targets(self, y: np.ndarray) -> np.ndarray:
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if n_outputs != self.n_outputs_:
            raise ValueError(
                f"y has {n_outputs} output(s) per row, but the model was fitted with "
                f"{self.n_outputs_}"
            )
        return y.astype(self.model_.dtype, copy=False)

    def partial_fit(self, X, y):
        """One more epoch over (X, y), continuing from the current weights and optimizer state.

        ``early_stopping``, ``max_iter``, ``n_iter_no_change`` and ``tol`` do not apply:
        each call is one epoch, and the caller decides when to stop.
        """
        return self._transaction(self._partial_fit, X, y)

    def _make_loss(self, n_outputs: int) -> Loss:
        return MSELoss()

    def _score_metric(self):
        def r2(outputs: np.ndarray, target: np.ndarray) -> float:
            return r2_score(target, outputs)

        return "r2", r2

    def predict(self, X) -> np.ndarray:
        """Predicted targets: (n_samples,) if fit on a 1-D y, else (n_samples, n_outputs)."""
        z = self._logits(X)
        return z[:, 0] if self._y_is_1d else z

    def _fitted_metadata(self) -> dict:
        return {"y_is_1d": bool(self._y_is_1d)}

    def _restore_metadata(self, meta: dict) -> None:
        if not isinstance(meta["y_is_1d"], bool):
            raise TypeError("y_is_1d must be true or false")
        self._y_is_1d = meta["y_is_1d"]


def load_estimator(path: str | os.PathLike):
    """Load whichever handgrad estimator ``path`` holds (MLPClassifier or MLPRegressor)."""
    _, meta = load_with_metadata(path)
    kinds = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}
    kind = meta.get("estimator")
    if kind not in kinds:
        raise ValueError(f"{path} does not hold a handgrad estimator (found {kind!r})")
    return kinds[kind].load(path)
