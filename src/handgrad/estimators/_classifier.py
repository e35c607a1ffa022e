"""``MLPClassifier``: scikit-learn's MLP classifier on handgrad's engine.

2 classes        1 logit z       BCE with logits          P(classes_[1]) = sigmoid(z)
C > 2 classes    C logits Z      softmax cross-entropy    P = softmax(Z)
K labels         K logits Z      BCE with logits per label P(label k) = sigmoid(Z_k)
                 (y an indicator matrix: multilabel)
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target

from ..metrics import log_probabilities, probabilities
from ..nn import functional as F
from ..nn.losses import BCEWithLogitsLoss, Loss, SoftmaxCrossEntropyLoss
from ._base import BaseMLP
from ._params import jsonable


def _check_classification_targets(kind: str, y) -> None:
    """scikit-learn's ``check_classification_targets`` on y of type ``kind`` (its
    message and warning: scikit-learn's common checks match them). Labels mixing text and
    numbers are refused in the words of scikit-learn's ``unique_labels`` (its MLPs fail
    there with a TypeError from sorting them)."""
    if kind == "unknown" and _mixes_text_and_numbers(y):
        raise ValueError(
            "Mix of label input types (string and number): the labels of y must be all text "
            "or all numbers"
        )
    if kind not in (
        "binary",
        "multiclass",
        "multiclass-multioutput",
        "multilabel-indicator",
        "multilabel-sequences",
    ):
        raise ValueError(
            f"Unknown label type: {kind}. Maybe you are trying to fit a classifier, which "
            "expects discrete classes on a regression target with continuous values."
        )
    n = len(y)
    if "multiclass" in kind and n > 20 and np.unique(y).shape[0] > round(0.5 * n):
        warnings.warn(
            "The number of unique classes is greater than 50% of the number of samples. "
            "`y` could represent a regression problem, not a classification problem.",
            UserWarning,
            stacklevel=5,
        )


def _mixes_text_and_numbers(y) -> bool:
    values = np.asarray(y).ravel()
    if values.dtype != object:
        return False
    text = [isinstance(v, str) for v in values]
    return any(text) and not all(text)


def _stochastic(est) -> bool:
    """partial_fit exists for the stochastic solvers only (as in scikit-learn)."""
    return est.solver != "lbfgs"


class MLPClassifier(ClassifierMixin, BaseMLP):
    """A multilayer perceptron classifier trained by handgrad: scikit-learn's
    ``MLPClassifier`` parameters, methods and fitted attributes, on handgrad's engine.

    Parameters (scikit-learn's, in its order; see docs/estimators.md for the table):
    hidden_layer_sizes=(100,), activation="relu" ("identity", "logistic" or "sigmoid",
    "tanh", "relu", "leaky_relu"), then keyword-only solver="adam" ("lbfgs", "sgd",
    "adam", "rmsprop"), alpha=1e-4, batch_size="auto", learning_rate="constant"
    ("invscaling", "adaptive"), learning_rate_init=1e-3, power_t=0.5, max_iter=200,
    shuffle=True, random_state=None (int, RandomState or Generator), tol=1e-4,
    verbose=False, warm_start=False, momentum=0.9, nesterovs_momentum=True,
    early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
    epsilon=1e-8, n_iter_no_change=10, max_fun=15000; handgrad's extra dtype=None
    (follow X: float32 X trains a float32 network, anything else float64).

    Fitted attributes: classes_, coefs_, intercepts_, loss_, loss_curve_, best_loss_,
    validation_scores_, best_validation_score_, t_, n_iter_, n_layers_, n_outputs_,
    out_activation_ ("logistic" or "softmax"), n_features_in_, feature_names_in_; and
    handgrad's model_ (the engine's Sequential on coefs_), history_, batch_size_.
    """

    def __init__(  # (its own, so that a wrong keyword names MLPClassifier, as scikit-learn's)
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
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dtype=dtype,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _encode_targets(self, y, dtype, first: bool, classes=None):
        kind = type_of_target(y, input_name="y")  # (once: 1.5 ms on 133 rows)
        incremental = classes is not None or getattr(self, "_incremental", False)
        redefine = "classes_" not in self.__dict__ or (not self.warm_start and not incremental)
        if kind == "multilabel-indicator":
            n_labels = y.shape[1]
            if not redefine and self.classes_.shape != (n_labels,):
                raise ValueError(
                    f"y has {n_labels} labels per row, but the model was fitted with "
                    f"{self.classes_.size}"
                )
            sparse = self.__dict__.get("_sparse_labels", False) if not redefine else sp.issparse(y)
            T = (y.toarray() if sp.issparse(y) else np.asarray(y)).astype(dtype)
            attrs = {"classes_": np.arange(n_labels), "_multilabel": True, "_sparse_labels": sparse}
            return T, n_labels, "logistic", attrs
        _check_classification_targets(kind, y)
        if kind not in ("binary", "multiclass"):
            raise ValueError(  # scikit-learn's first words (its LabelBinarizer's), then ours
                "Multioutput target data is not supported with label binarization: "
                f"{type(self).__name__} needs class labels (n_samples,) or an indicator "
                f"matrix (n_samples, n_labels), got a target of type {kind!r}"
            )
        y = _plain_strings(y)
        if classes is not None:
            found = np.unique(_plain_strings(np.asarray(classes)))
            where = "in classes, but it holds"
        elif redefine:
            found = np.unique(y)
            where = "in y, but the data holds"
        else:
            found = self.classes_
            if self.warm_start and not incremental:
                seen = np.unique(y)
                if set(seen.tolist()) != set(found.tolist()):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in "
                        f"the previous call to fit. Previously got {found}, `y` has {seen}"
                    )
        if found.size == 0:
            raise ValueError(f"{type(self).__name__} needs at least 1 class {where} none")
        binary = found.size <= 2  # one class (a cross-validation fold): one logit, as 2
        T = _indices(y, found)
        T = T.astype(dtype).reshape(-1, 1) if binary else T
        attrs = {"classes_": found, "_multilabel": False, "_sparse_labels": False}
        return T, 1 if binary else int(found.size), "logistic" if binary else "softmax", attrs

    def _split_labels(self, T):
        """Two classes: stratified, and a class of one sample refused (scikit-learn's
        ``train_test_split(stratify=y)``). More classes: stratified when every class has 2
        samples or more, else not (scikit-learn 1.9 never stratifies them, so never refuses
        a fit for it). Multilabel: not stratified."""
        if T.ndim == 1:
            return T if np.unique(T, return_counts=True)[1].min() >= 2 else None
        return T[:, 0] if T.shape[1] == 1 else None

    def _make_loss(self) -> tuple[Loss, float]:
        if self.out_activation_ == "softmax":
            return SoftmaxCrossEntropyLoss(reduction="sum"), 1.0
        return BCEWithLogitsLoss(reduction="sum"), 1.0

    def _score_outputs(self, outputs, target, sample_weight) -> float:
        if self.__dict__.get("_multilabel"):
            right = np.all((outputs > 0) == (target == 1), axis=1)
        elif outputs.shape[1] == 1:  # the index predict takes (one class: always right)
            right = _binary_index(outputs[:, 0], self.classes_.size) == target.ravel()
        else:
            right = np.argmax(outputs, axis=1) == target
        return float(np.average(right, weights=sample_weight))

    @available_if(_stochastic)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One more epoch over (X, y), continuing from the current weights and the
        optimizer's state. ``classes`` (every label that will ever appear) is required on
        the first call; later it must name the same labels."""
        if "classes_" not in self.__dict__ and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit "
                "(every label the model will ever see)"
            )
        if "classes_" in self.__dict__ and classes is not None:
            given = np.unique(np.asarray(classes))
            if given.shape != self.classes_.shape or np.any(given != self.classes_):
                raise ValueError(  # scikit-learn's first words, then ours
                    f"`classes={jsonable(given.tolist())}` is not the same as on last call to "
                    f"partial_fit: the model was fitted with {self.classes_.tolist()}"
                )
            classes = None
        if classes is not None and type_of_target(y) == "multilabel-indicator":
            classes = None
        self._incremental = True
        try:
            return self._transaction(self._fit, X, y, sample_weight, True, classes)
        finally:
            del self._incremental

    def decision_function(self, X) -> np.ndarray:
        """The logits: (n_samples,) for two classes (> 0 means classes_[1]), else
        (n_samples, n_outputs)."""
        z = self._logits(X)
        return z[:, 0] if z.shape[1] == 1 else z

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities (n_samples, n_classes), columns in the order of ``classes_``:
        [sigmoid(-z), sigmoid(z)] for two classes, softmax for more, sigmoid per label for
        multilabel (rows need not sum to 1). A classifier fitted on a single class has
        scikit-learn's two columns [sigmoid(-z), sigmoid(z)] too: its one logit was trained
        toward the first (the class it always predicts; the second names no class)."""
        z = self._logits(X)
        if self.__dict__.get("_multilabel"):
            return F.sigmoid(z)
        return probabilities(z) if z.shape[1] == 1 else _softmax_in_place(z)

    def predict_log_proba(self, X) -> np.ndarray:
        """log of ``predict_proba``, computed from the logits (finite for any finite logit)."""
        z = self._logits(X)
        if self.__dict__.get("_multilabel"):  # as log_probabilities: 0 where p rounds to 1
            out = F.log_sigmoid(z)
            out[F.sigmoid(z) == 1] = 0
            return out
        return log_probabilities(z)

    def predict(self, X) -> np.ndarray:
        """The most probable label per row (n_samples,); multilabel: the indicator matrix
        (n_samples, n_labels), a SciPy CSR matrix if fit was given a sparse y (as scikit-learn)."""
        z = self._logits(X)
        if self.__dict__.get("_multilabel"):  # as y was given to fit: dense, or sparse CSR
            labels = (z > 0).astype(int)
            return sp.csr_matrix(labels) if self.__dict__.get("_sparse_labels") else labels
        if z.shape[1] == 1:
            return self.classes_[_binary_index(z[:, 0], self.classes_.size)]
        return self.classes_[np.argmax(z, axis=1)]

    def _fitted_metadata(self) -> dict:
        values = self.classes_.tolist()
        for v in values:
            if not isinstance(v, (str, int, float, bool)):
                raise TypeError(
                    f"save: class label {v!r} of type {type(v).__name__} cannot be stored as "
                    "JSON; use str, int, float or bool labels"
                )
        return {
            "classes_": values,
            "classes_dtype": self.classes_.dtype.str,
            "multilabel": bool(self.__dict__.get("_multilabel", False)),
            "sparse_labels": bool(self.__dict__.get("_sparse_labels", False)),
        }

    def _restore_metadata(self, meta: dict) -> None:
        values, dtype = meta["classes_"], np.dtype(meta["classes_dtype"])
        if not isinstance(values, list) or dtype.kind not in "biufUO":
            raise ValueError("classes_ must be a list of labels of a plain dtype")
        if dtype.kind == "O":
            self.classes_ = np.empty(len(values), dtype=object)
            self.classes_[:] = values
        else:
            self.classes_ = np.asarray(values, dtype=dtype)
        multilabel = meta.get("multilabel", False)
        if not isinstance(multilabel, bool):
            raise TypeError("multilabel must be true or false")
        self._multilabel = multilabel
        sparse = meta.get("sparse_labels", False)
        if not isinstance(sparse, bool) or (sparse and not multilabel):
            raise TypeError("sparse_labels must be true or false (true for multilabel only)")
        self._sparse_labels = sparse
        expected = self.classes_.size if multilabel or self.classes_.size > 2 else 1
        if self.classes_.ndim != 1 or self.n_outputs_ != expected:
            raise ValueError(
                f"{self.classes_.size} classes do not fit a network with {self.n_outputs_} "
                "output(s)"
            )


def _binary_index(z: np.ndarray, n_classes: int) -> np.ndarray:
    """The class index (n_samples,) of one logit per row: 1 where z > 0, for two classes; 0
    for a classifier fitted on a single class (a cross-validation fold may hold only one),
    which predicts that class whatever the logit, as scikit-learn's does."""
    return np.minimum(z > 0, n_classes - 1).astype(np.intp)


def _softmax_in_place(z: np.ndarray) -> np.ndarray:
    """softmax of each row of the logits z (N, C), written into z: the bits of
    ``handgrad.nn.functional.softmax`` (the same operations in the same order) without its
    two fresh arrays. z must be the caller's own (here: the network's fresh output)."""
    with np.errstate(over="ignore"):  # logits spanning more than the float range: -inf,
        z -= np.max(z, axis=1, keepdims=True)  # whose exp is 0, the exact limit
    np.exp(z, out=z)
    z /= np.sum(z, axis=1, keepdims=True)
    return z


def _plain_strings(labels: np.ndarray) -> np.ndarray:
    """Object labels that are all str (a pandas column of text) as a NumPy str array, as
    scikit-learn's ``classes_`` holds them (so ``predict`` gives its ``np.str_`` values)."""
    if labels.dtype == object and all(isinstance(v, str) for v in labels.ravel()):
        return labels.astype(str)
    return labels


def _indices(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Labels -> their positions in ``classes`` (sorted); ValueError for an unknown label."""
    idx = np.searchsorted(classes, y)
    idx_safe = np.minimum(idx, classes.size - 1)
    unknown = classes[idx_safe] != y
    if np.any(unknown):
        raise ValueError(  # scikit-learn's first words, then which label
            f"`y` has classes not in `self.classes_`: y holds label "
            f"{jsonable(y[unknown][0])!r}, which is not among the classes {classes.tolist()}"
        )
    return idx.astype(np.intp)
