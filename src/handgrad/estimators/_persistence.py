"""Saving and loading a fitted estimator: handgrad's model file (arrays + JSON), never pickle;
and what pickle (joblib, a GridSearchCV with n_jobs, copy.deepcopy) gets of one.

The file holds the network (``coefs_``/``intercepts_`` as the engine's Linear layers), the
estimator's parameters and what was learned besides the weights (classes_, n_features_in_,
feature names, the history). Loading checks every field and refuses a file that does not
describe a consistent fitted estimator, with a ``ValueError`` naming the file and the problem.

A pickle holds the whole estimator as scikit-learn's do (weights, the optimizer's state,
the shuffling Generator, the history), so that ``partial_fit`` after loading continues
exactly; it never holds data: the values the network's layers saved in their last forward
(rows of X and their activations, kept for a backward) are left out. After unpickling,
``coefs_``/``intercepts_`` are again the network's own arrays (joblib stores each array
reference separately). A pickle records handgrad's version, and loading it under another
version warns, as scikit-learn does for its own estimators.
"""

from __future__ import annotations

import copy
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..io import json_ready, number_from_json
from ..nn._version import __version__
from ..nn.layers import ACTIVATIONS, Linear
from ..nn.serialization import load_with_metadata, save
from ..train import History
from ._params import check_params, jsonable


class Persistence:
    """``save`` / ``load`` and pickling for the estimators (mixed into ``BaseMLP``)."""

    def __getstate__(self):
        state = dict(super().__getstate__())  # type: ignore[misc]
        net = state.get("_model")
        if net is not None:  # the same Parameters (the optimizer's), without saved inputs
            state["_model"] = copy.copy(net)
            state["_model"].layers = [without_saved_values(layer) for layer in net.layers]
        state["_handgrad_version"] = __version__
        return state

    def __setstate__(self, state):
        state = dict(state)
        version = state.pop("_handgrad_version", "unknown")
        if version != __version__:
            warnings.warn(
                f"Unpickling a {type(self).__name__} pickled by handgrad {version} with "
                f"handgrad {__version__}: it may fail or predict differently. Files written "
                "by save() load across versions (MLPClassifier.load, load_estimator).",
                UserWarning,
                stacklevel=2,
            )
        super().__setstate__(state)  # type: ignore[misc]
        net = state.get("_model")
        if net is not None:  # joblib stores each array reference on its own: relink them
            linears = [m for m in net.layers if isinstance(m, Linear)]
            if len(linears) == len(self.coefs_):  # type: ignore[attr-defined]
                for i, lin in enumerate(linears):
                    self.coefs_[i] = lin.weight.value  # type: ignore[attr-defined]
                    if lin.bias is not None:
                        self.intercepts_[i] = lin.bias.value  # type: ignore[attr-defined]

    def _fitted_metadata(self) -> dict:
        return {}

    def _restore_metadata(self, meta: dict) -> None:
        pass

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted estimator to ``path`` (handgrad's .npz format: arrays + JSON)."""
        check_is_fitted(self, "coefs_")
        params = self.get_params()  # type: ignore[attr-defined]
        if isinstance(params["random_state"], (np.random.Generator, np.random.RandomState)):
            params["random_state"] = None  # a random source is not data; it was consumed anyway
        meta = {
            "estimator": type(self).__name__,
            "params": {k: jsonable(v) for k, v in params.items()},
            "n_features_in_": int(self.n_features_in_),  # type: ignore[attr-defined]
            "feature_names_in_": (
                [str(c) for c in self.feature_names_in_]  # type: ignore[attr-defined]
                if hasattr(self, "feature_names_in_")
                else None
            ),
            "n_outputs_": int(self.n_outputs_),  # type: ignore[attr-defined]
            "out_activation_": self.out_activation_,  # type: ignore[attr-defined]
            "t_": int(getattr(self, "t_", 0)),
            "n_iter_": int(getattr(self, "n_iter_", 0)),
            "batch_size_": getattr(self, "batch_size_", None),
            "history_": self.history_.as_dict(),  # type: ignore[attr-defined]
            "validation_scores_": self.validation_scores_,  # type: ignore[attr-defined]
            **self._fitted_metadata(),
        }
        return save(self.model_, path, metadata=json_ready(meta))  # type: ignore[attr-defined]

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
        if params.get("n_iter_no_change") in (None, "inf"):  # inf, written null ("inf": older)
            params["n_iter_no_change"] = math.inf
        est: Any = cls(**params)
        check_params(est)  # parameters a fit would refuse are refused here too
        est.n_features_in_ = _count(meta["n_features_in_"], "n_features_in_")
        est.n_outputs_ = _count(meta["n_outputs_"], "n_outputs_")
        if _output_width(model, est.n_features_in_) != est.n_outputs_:
            raise ValueError(
                f"the network does not map {est.n_features_in_} features to "
                f"{est.n_outputs_} outputs"
            )
        linears = [m for m in model.layers if isinstance(m, Linear)]
        if any(lin.bias is None for lin in linears):
            raise ValueError("every Linear layer of an estimator's network has a bias")
        est.coefs_ = [lin.weight.value for lin in linears]
        est.intercepts_ = [lin.bias.value for lin in linears if lin.bias is not None]
        est._model = model
        est.n_layers_ = len(linears) + 1
        out = meta["out_activation_"]
        if out not in ("logistic", "softmax", "identity", "exp"):
            raise ValueError(f"out_activation_ {out!r} is not one handgrad writes")
        est.out_activation_ = out
        est.t_ = _count(meta["t_"], "t_", minimum=0)
        est.n_iter_ = _count(meta["n_iter_"], "n_iter_", minimum=0)
        if meta["batch_size_"] is not None:
            est.batch_size_ = _count(meta["batch_size_"], "batch_size_")
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
            v is None or isinstance(v, (int, float)) and not isinstance(v, bool) for v in losses
        ):
            raise TypeError("history_.epoch_loss must be a list of numbers")
        losses = est.history_.epoch_loss = [number_from_json(v) for v in losses]  # null: NaN
        est.loss_curve_ = [np.float64(v) for v in losses]  # scikit-learn's type
        est.loss_ = est.loss_curve_[-1] if losses else np.float64(math.nan)
        scores = meta["validation_scores_"]
        if scores is not None and not isinstance(scores, list):
            raise TypeError("validation_scores_ must be a list or null")
        est.validation_scores_ = None if scores is None else [number_from_json(v) for v in scores]
        scores = est.validation_scores_
        est.best_validation_score_ = None if scores is None else max(scores, default=-math.inf)
        est.best_loss_ = None if scores is not None else min(est.loss_curve_, default=math.inf)
        est._no_improvement_count = 0
        est._restore_metadata(meta)
        return est


def own_arrays(est) -> None:
    """Copy on write: before training continues, every array training writes (the weights,
    their gradients, the optimizer's state, the best weights kept by early stopping) becomes
    a writable NumPy array of the estimator's own. ``joblib.load(..., mmap_mode="r")`` gives
    read-only memory maps, shared by the processes that only predict; the first
    ``partial_fit`` or warm-start ``fit`` copies them (the file is never written)."""
    net = est._network()
    for p in net.parameters():
        p.value, p.grad = _own(p.value), _own(p.grad)
    linears = [m for m in net.layers if isinstance(m, Linear)]
    est.coefs_[:] = [lin.weight.value for lin in linears]
    est.intercepts_[:] = [lin.bias.value for lin in linears if lin.bias is not None]
    solver = est.__dict__.get("_optimizer")
    if solver is not None:
        for state in solver.optimizer.state:
            for key, value in state.items():
                if isinstance(value, np.ndarray):
                    state[key] = _own(value)
    if "_best_params" in est.__dict__:
        est._best_params = [_own(a) for a in est._best_params]


def _own(a: np.ndarray) -> np.ndarray:
    """``a`` itself if it is a writable plain ndarray, else a copy that is one."""
    return a if type(a) is np.ndarray and a.flags.writeable else np.array(a)


def without_saved_values(layer):
    """A shallow copy of ``layer`` without what its last forward saved for a backward."""
    layer = copy.copy(layer)
    _drop_saved_values(layer)
    return layer


def release_saved_values(net) -> None:
    """Drop, in place, what the layers of ``net`` saved in their last forward: a fitted
    estimator keeps no rows of the data it was trained on or last predicted."""
    for layer in net.layers:
        _drop_saved_values(layer)


def _drop_saved_values(layer) -> None:
    """The engine's layers keep their forward's input (or output) as plain arrays, and their
    weights as ``Parameter`` objects: every plain array attribute is a saved value."""
    for name, value in list(vars(layer).items()):
        if isinstance(value, np.ndarray):
            setattr(layer, name, None)


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


def _count(value, key: str, minimum: int = 1) -> int:
    """An int >= minimum from the metadata (JSON ints only: no bools, floats or strings)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        kind = "a positive" if minimum == 1 else "a non-negative"
        raise ValueError(f"{key} must be {kind} integer, got {value!r}")
    return value
