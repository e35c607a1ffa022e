"""``MLPRegressor``: scikit-learn's MLP regressor on handgrad's engine.

    loss="squared_error"   K outputs, identity    1/2 * squared error  prediction = z
    loss="poisson"         K log-rates z, exp     1/2 * Poisson deviance  prediction = exp(z)

Both are scikit-learn's "half" losses, so a learning rate tuned for scikit-learn's
regressor takes the same steps here.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if

from ..nn.losses import Loss, MSELoss, PoissonLoss
from ._base import BaseMLP
from ._classifier import _stochastic


class MLPRegressor(RegressorMixin, BaseMLP):
    """A multilayer perceptron regressor trained by handgrad: scikit-learn's
    ``MLPRegressor`` parameters (``loss`` first, then those of ``MLPClassifier``), methods
    and fitted attributes, on handgrad's engine.

    y (n_samples,) predicts (n_samples,); y (n_samples, k) trains k outputs. ``score`` is
    R^2. The targets are not rescaled: standardize them (e.g. ``TransformedTargetRegressor``
    with a ``StandardScaler``) when they are far from unit scale. ``out_activation_`` is
    "identity" (squared error) or "exp" (Poisson: the network emits the log of the rate).
    """

    _is_regressor = True

    def __init__(
        self,
        loss="squared_error",
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
        self.loss = loss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        if self.loss == "poisson":
            tags.target_tags.positive_only = True
        return tags

    def _encode_targets(self, y, dtype, first: bool, classes=None):
        if sp.issparse(y):  # (scikit-learn's words, as its MLPRegressor says for one column)
            raise TypeError(
                "Sparse data was passed for y, but dense data is required. Use '.toarray()' "
                "to convert to a dense numpy array."
            )
        y = np.asarray(y).astype(dtype, copy=False)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError("loss='poisson' needs y >= 0 (counts or rates)")
        n_outputs = 1 if y.ndim == 1 else int(y.shape[1])
        T = y.reshape(len(y), n_outputs)
        out = "exp" if self.loss == "poisson" else "identity"
        return T, n_outputs, out, {"_y_is_1d": y.ndim == 1}

    def _make_loss(self) -> tuple[Loss, float]:
        if self.loss == "poisson":
            return PoissonLoss(reduction="sum"), 1.0
        return MSELoss(reduction="sum"), 0.5

    def _reported_fraction(self) -> float:
        return 1.0 / np.shape(self.coefs_[-1])[1] if self.loss == "squared_error" else 1.0

    def _score_outputs(self, outputs, target, sample_weight) -> float:
        prediction = np.exp(outputs) if self.out_activation_ == "exp" else outputs
        return float(r2_score(target, prediction, sample_weight=sample_weight))

    @available_if(_stochastic)
    def partial_fit(self, X, y, sample_weight=None):
        """One more epoch over (X, y), continuing from the current weights and the
        optimizer's state."""
        fitted = "coefs_" in self.__dict__
        if fitted:
            n_outputs = 1 if np.ndim(y) == 1 else np.shape(y)[1]
            if n_outputs != self.n_outputs_:
                raise ValueError(
                    f"y has {n_outputs} output(s) per row, but the model was fitted with "
                    f"{self.n_outputs_}"
                )
        return self._transaction(self._fit, X, y, sample_weight, True)

    def predict(self, X) -> np.ndarray:
        """Predicted targets: (n_samples,) if fit on a 1-D y, else (n_samples, n_outputs)."""
        z = self._logits(X)
        if self.out_activation_ == "exp":
            with np.errstate(over="ignore"):
                z = np.exp(z)
        return z[:, 0] if self.__dict__.get("_y_is_1d", z.shape[1] == 1) else z

    def _fitted_metadata(self) -> dict:
        return {"y_is_1d": bool(self.__dict__.get("_y_is_1d", self.n_outputs_ == 1))}

    def _restore_metadata(self, meta: dict) -> None:
        if not isinstance(meta["y_is_1d"], bool):
            raise TypeError("y_is_1d must be true or false")
        self._y_is_1d = meta["y_is_1d"]
