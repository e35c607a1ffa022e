"""The estimators' solvers: L-BFGS (through SciPy) and minibatch SGD / Adam / RMSProp.

Both minimize scikit-learn's MLP objective, computed by the engine (``model.forward``,
the loss's ``forward``/``backward``, ``model.backward``). On a batch of rows with weights
w_i (1 when no sample_weight is given):

    J = ( c * sum_i w_i l_i  +  alpha/2 * sum ||W||^2 ) / sum_i w_i        (biases excluded)

with l_i the engine's loss of row i summed over its outputs (softmax cross-entropy, binary
cross-entropy per label, squared error, half the Poisson deviance) and c = 1/2 for the
squared error (scikit-learn's "half squared error"; the engine's MSELoss has no 1/2), 1
otherwise. The value reported (``loss_``, the loss curve, the
stopping rule, the value L-BFGS sees) is scikit-learn's: for its squared error with K
outputs, the data term divided by K (scikit-learn's value averages the outputs, its gradient
sums them); the gradient is always that of J. L-BFGS uses the whole
training set as the batch (full-batch gradient, in float64 for the optimizer); the
stochastic solvers use each minibatch and scikit-learn's schedules and stopping rule.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ..nn._checks import NonFiniteError, all_finite
from ..nn.layers import Sequential
from ..nn.optim import SGD, Adam, Optimizer, RMSProp
from ..train import fast, fast_losses
from ._data import rows
from ._rewind import Rewind


class Objective:
    """J above for one network and loss; ``value_and_grad`` leaves dJ/dtheta in each ``.grad``.

    Dense X goes through the engine's fused kernels (``handgrad.train.fast``: reused
    buffers, no input gradient for the first layer; sample weights through the loss
    kernel's weighted sum), the same numbers as the textbook calls to a few ulps; anything
    else through the textbook ``forward``/``backward`` of the model and the loss. Sparse X
    is never densified: the first layer multiplies its rows as they are, as scikit-learn's
    MLPs do (``_sparse_data_term``).
    """

    def __init__(self, model, loss, scale: float, alpha: float, reported: float = 1.0):
        self.model, self.loss, self.scale, self.alpha = model, loss, scale, alpha
        self.reported = reported  # the data term's factor in the value reported (1/K or 1)
        self.params = model.parameters()
        self.weights = [p for p in self.params if p.regularize]
        self._fast: tuple | None = None  # (X, T, FastStep, the loss's target) once built
        self._after_first = Sequential(*model.layers[1:])  # the same layers, for sparse X

    def _fused(self, X, T):
        """(FastStep, prepared target) for this training set, built once; None where the
        fused kernels do not apply (a type of the user's, an unusual dtype)."""
        if self._fast is not None and self._fast[0] is X and self._fast[1] is T:
            return self._fast[2:]
        dtype = self.params[0].value.dtype
        probe = SGD(self.params, lr=1.0)  # FastStep wants an optimizer; it never steps here
        if X.dtype != dtype or not fast.supports(self.model, self.loss, probe, dtype):
            return None
        shape = (T.shape[0], self.params[-1].value.shape[0])
        target = self.loss.prepare_target(T, shape, dtype)
        step = fast.FastStep(self.model, self.loss, probe, None, X, target, None)
        self._fast = (X, T, step, target)
        return step, target

    def _fused_value_and_grad(self, step, X, target, w, idx) -> float:
        if idx is None:
            xb, tb = X, target
        elif isinstance(idx, slice):
            xb, tb = X[idx], target[idx]
        else:
            xb, tb, _ = step.batch(idx)
        if w is None:
            denom = float(len(tb))
        else:  # the loss kernel's weighted sum (fast_losses.RowWeighted), in the model's dtype
            wb = (w if idx is None else w[idx]).astype(X.dtype, copy=False)
            denom, tb = _weight_sum(wb), fast_losses.RowWeighted(tb, wb)
        with np.errstate(over="ignore", invalid="ignore"):
            value = step.loss(step.forward(xb), tb)
            if not math.isfinite(value):
                return math.nan
            step.backward()
            k = self.scale / denom
            for p in self.params:
                p.grad *= k
            return self.reported * self.scale * value / denom + self._penalty(denom)

    def _data_term(self, xb: np.ndarray, tb: np.ndarray, wb, denom: float) -> float:
        """c * sum_i w_i l_i / denom on a batch; the parameters' .grad get its gradient."""
        z = self.model.forward(xb)
        total = self.loss.forward(z, tb) if wb is None else self.loss.forward(z, tb, wb)
        self.model.backward(self.loss.backward() * (self.scale / denom))
        return self.scale * total / denom

    def _sparse_data_term(self, xb, tb: np.ndarray, wb, denom: float) -> float:
        """``_data_term`` on sparse rows xb (n, d): the first Linear's forward X W + b and
        its weight gradient X^T G are sparse products (cost: the nonzeros times the layer's
        width, never n x d), the layers after it the engine's forward and backward."""
        first, rest = self.model.layers[0], self._after_first
        z = np.asarray(xb @ first.weight.value)
        z += first.bias.value
        outputs = rest.forward(z) if rest.layers else z
        total = self.loss.forward(outputs, tb) if wb is None else self.loss.forward(outputs, tb, wb)
        G = self.loss.backward() * (self.scale / denom)
        G = rest.backward(G) if rest.layers else G
        first.weight.grad[...] = xb.T @ G
        first.bias.grad[...] = G.sum(axis=0)
        return self.scale * total / denom

    def _penalty(self, denom: float) -> float:
        """alpha/2 ||W||^2 / denom, its gradient added to the weights' .grad."""
        if not self.alpha:
            return 0.0
        k = self.alpha / denom
        value = 0.0
        for p in self.weights:
            value += float(np.vdot(p.value, p.value))
            p.grad += k * p.value
        return 0.5 * k * value

    def value_and_grad(self, X, T, w, idx=None) -> float:
        """J on the rows ``idx`` of (X, T, w) (all rows if None), as reported (above); NaN
        if anything overflows. Each parameter's ``.grad`` holds dJ/dparameter.

        Dense X takes the fused kernels where they apply; sparse X the sparse first layer.
        """
        if isinstance(X, np.ndarray):
            fused = self._fused(X, T)
            if fused is not None:
                return self._fused_value_and_grad(fused[0], X, fused[1], w, idx)
        sel = slice(None) if idx is None else idx
        Tb = T[sel]
        wb = None if w is None else w[sel]
        n = len(Tb)
        denom = float(n) if wb is None else _weight_sum(wb)
        dtype = self.params[0].value.dtype
        data_term = self._sparse_data_term if sp.issparse(X) else self._data_term
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                value = data_term(rows(X, sel, dtype), Tb, wb, denom)
                value = self.reported * value + self._penalty(denom)
        except NonFiniteError:
            return math.nan
        return value


def _weight_sum(wb: np.ndarray) -> float:
    """The batch's total weight, the objective's denominator; refused when 0 (a minibatch
    of zero weights only), as scikit-learn refuses it (the same exception, its words first)."""
    total = float(wb.sum())
    if total == 0.0:
        raise ZeroDivisionError(
            "Weights sum to zero, can't be normalized: every row of a batch of "
            f"{len(wb)} has sample_weight 0. Shuffle the rows (shuffle=True), use larger "
            "batches, or drop the rows of weight 0"
        )
    return total


# --- L-BFGS ---------------------------------------------------------------------------------


def lbfgs(objective: Objective, data, *, max_iter: int, max_fun: int, tol: float, who: str):
    """Minimize J over the whole training set with SciPy's L-BFGS-B, as scikit-learn does.

    The parameters are flattened into one float64 vector (the optimizer works in float64; a
    float32 model is evaluated in float32 at each float64 point, rounded). Returns
    (final J, iterations, scipy's result, J after each iteration). Warns
    ``ConvergenceWarning`` when L-BFGS stops for any reason but convergence (max_iter,
    max_fun, a failed line search).
    """
    X, T, w = data
    params = objective.params
    curve: list[float] = []  # J after each iteration
    ends = np.cumsum([p.value.size for p in params]).tolist()
    pieces = [(p, start, end) for p, start, end in zip(params, [0, *ends[:-1]], ends)]
    theta0 = np.concatenate([p.value.ravel() for p in params]).astype(np.float64, copy=False)

    def unpack(theta: np.ndarray) -> None:
        for p, start, end in pieces:
            p.value[...] = theta[start:end].reshape(p.value.shape)

    def fun(theta: np.ndarray):
        unpack(theta)
        value = objective.value_and_grad(X, T, w)
        if not math.isfinite(value):
            return math.inf, np.zeros_like(theta)
        grad = np.empty(ends[-1])  # a new array per call: SciPy keeps the previous one
        for p, start, end in pieces:
            grad[start:end] = p.grad.ravel()
        return value, grad

    result = scipy.optimize.minimize(
        fun,
        theta0,
        method="L-BFGS-B",
        jac=True,
        options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
        callback=lambda intermediate_result: curve.append(np.float64(intermediate_result.fun)),
    )
    unpack(result.x)
    if result.status != 0:
        reason = result.message.decode() if isinstance(result.message, bytes) else result.message
        warnings.warn(  # scikit-learn's first words: users' warning filters match them
            f"lbfgs failed to converge after {min(int(result.nit), max_iter)} iteration(s) "
            f"(status={result.status}):\n{reason}\n{who}: {result.nfev} evaluation(s). Increase "
            "max_iter or max_fun, or scale the data.",
            ConvergenceWarning,
            stacklevel=6,  # the caller of fit (fit, _transaction, _fit, _fit_lbfgs, lbfgs)
        )
    return np.float64(result.fun), min(int(result.nit), max_iter), result, curve


# --- the stochastic solvers -----------------------------------------------------------------


class ScikitLearnAdam(Adam):
    """Adam as scikit-learn steps: the bias corrections folded into the rate and epsilon
    added to sqrt(v), not to the corrected sqrt(v_hat):

        W <- W - lr_t * m / (sqrt(v) + epsilon),   lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)

    which is the engine's step ``lr * m_hat / (sqrt(v_hat) + eps_t)`` with
    eps_t = epsilon / sqrt(1 - b2^t): each step sets ``eps`` so, then takes the engine's.
    """

    def __init__(self, params, lr: float, betas: tuple[float, float], epsilon: float):
        super().__init__(params, lr=lr, betas=betas, eps=epsilon)
        self.epsilon = epsilon

    def step(self) -> None:
        self.eps = self.epsilon / math.sqrt(1.0 - self.beta2 ** (self.t + 1))
        super().step()


class StochasticSolver:
    """An engine optimizer with scikit-learn's learning-rate schedules on top.

    ``learning_rate`` is the current rate. "invscaling": learning_rate_init / (t + 1)^power_t
    after each epoch, t the number of samples seen; "adaptive": divided by 5 each time the
    stopping rule fires, until it falls to 1e-6. Schedules apply to "sgd" (as in scikit-learn).

    scikit-learn's SGD keeps its velocity in parameter units (v <- mu v - lr g), the
    engine's in gradient units (v <- mu v + g, step lr v): equal while lr is constant; when
    the rate changes, the engine's velocity is rescaled by old/new so that the two stay equal.
    """

    def __init__(self, params, solver: str, p: dict):
        self.solver, self.schedule = solver, p["learning_rate"] if solver == "sgd" else "constant"
        self.learning_rate_init = self.learning_rate = p["lr"]
        self.power_t = p["power_t"]
        self.optimizer: Optimizer
        if solver == "sgd":
            mu = p["momentum"]
            self.optimizer = SGD(params, lr=p["lr"], momentum=mu, nesterov=p["nesterov"] and mu > 0)
        elif solver == "rmsprop":
            self.optimizer = RMSProp(params, lr=p["lr"], eps=p["epsilon"])
        else:
            self.optimizer = ScikitLearnAdam(
                params, p["lr"], (p["beta_1"], p["beta_2"]), p["epsilon"]
            )

    def set_learning_rate(self, lr: float) -> None:
        opt = self.optimizer
        for state in opt.state:
            if "velocity" in state:
                state["velocity"] *= self.learning_rate / lr
        self.learning_rate = opt.lr = lr

    def iteration_ends(self, t: int) -> None:
        if self.schedule == "invscaling":
            self.set_learning_rate(self.learning_rate_init / (t + 1) ** self.power_t)

    def trigger_stopping(self, message: str, verbose: bool) -> bool:
        """The stopping rule fired: stop (True), or, with "adaptive", lower the rate."""
        if self.schedule != "adaptive":
            if verbose:
                print(f"{message} Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(f"{message} Learning rate too small. Stopping.")
            return True
        self.set_learning_rate(self.learning_rate / 5.0)
        if verbose:
            print(f"{message} Setting learning rate to {self.learning_rate:f}")
        return False


def _diverged(est, where: str, reason: str, kept: str) -> None:
    message = (
        f"{type(est).__name__}: training diverged at {where}: {reason}. Stopped; the model "
        f"keeps {kept}. Scale X and y, or try a smaller learning_rate_init "
        f"(now {est._optimizer.learning_rate:g})."
    )
    est.history_.stop_reason, est.history_.message = "diverged", message
    est.__dict__.setdefault("loss_", np.float64(math.nan))  # diverged in the first epoch
    warnings.warn(message, RuntimeWarning, stacklevel=8)  # the caller of fit


INTERRUPTED = "Training interrupted by user."  # scikit-learn's words

# history_.step_loss (one float per minibatch) keeps every step of the current call but at
# most this many from the calls before: a stream of partial_fit calls must not grow it (and
# the pickle) for ever. loss_curve_ keeps one value per epoch, all of them, as scikit-learn's.
STEP_LOSSES_KEPT = 1000


def run_epochs(est, objective: Objective, data, val, p: dict, batch_size: int, rng, incremental):
    """scikit-learn's ``_fit_stochastic`` loop on the engine: epochs of minibatches, the loss
    curve, t_, the stopping rule (with ``tol`` / ``n_iter_no_change``), early stopping with
    the best weights restored, schedules, and a stop that keeps finite weights on divergence.
    Ctrl-C (KeyboardInterrupt) ends the training as in scikit-learn: a warning, and ``fit``
    returns the model as far as it got (``history_.stop_reason == "interrupted"``).

    ``data`` = (X, T, w); ``val`` = (X_val, y_val, w_val) or None. State lives on ``est``.
    """
    try:
        _epochs(est, objective, data, val, p, batch_size, rng, incremental)
    except KeyboardInterrupt:
        est.history_.stop_reason, est.history_.message = "interrupted", INTERRUPTED
        warnings.warn(INTERRUPTED, UserWarning, stacklevel=6)  # the caller of fit


def _epochs(est, objective: Objective, data, val, p: dict, batch_size: int, rng, incremental):
    X, T, w = data
    params = objective.params
    solver: StochasticSolver = est._optimizer
    rewind = Rewind(params, solver, lambda idx: objective.value_and_grad(X, T, w, idx))
    n = T.shape[0]
    history = est.history_
    del history.step_loss[:-STEP_LOSSES_KEPT]
    est.n_iter_ = 0
    for _ in range(1 if incremental else p["max_iter"]):
        started = time.perf_counter()
        order = rng.permutation(n) if p["shuffle"] else None
        accumulated = 0.0
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            idx = order[start:stop] if order is not None else slice(start, stop)
            value = objective.value_and_grad(X, T, w, idx)
            if not math.isfinite(value):
                _diverged(  # (first: its message names the rate the schedule had reached)
                    est,
                    f"epoch {est.n_iter_ + 1}",
                    f"the loss is {value} (the network's values overflow)",
                    "the last weights whose loss was finite",
                )
                rewind.undo_last_update()
                return
            if not all(all_finite(p_.grad) for p_ in params):  # (one pass, no temporary)
                _diverged(
                    est, f"epoch {est.n_iter_ + 1}", "a gradient is not finite", "these weights"
                )
                return
            rewind.before_update(idx)
            solver.optimizer.step()
            history.step_loss.append(value)
            accumulated += value * (stop - start)
        est.n_iter_ += 1
        est.loss_ = np.float64(accumulated / n)  # scikit-learn's type (has .item(), .round())
        est.t_ += n
        est.loss_curve_.append(est.loss_)
        history.epoch_loss.append(est.loss_)
        history.epoch_seconds.append(time.perf_counter() - started)
        if p["verbose"]:
            print(f"Iteration {est.n_iter_}, loss = {est.loss_:.8f}", flush=True)
        if not all(all_finite(p_.value) for p_ in params):
            _diverged(
                est,
                f"epoch {est.n_iter_}",
                "an update made a weight NaN or inf",
                "the weights before that update",
            )
            rewind.undo_last_update()
            return
        _update_no_improvement_count(est, val, p, params)
        solver.iteration_ends(est.t_)
        if est._no_improvement_count > p["n_iter_no_change"]:
            what = "Validation score" if val is not None else "Training loss"
            message = (
                f"{what} did not improve more than tol={p['tol']:f} for "
                f"{p['n_iter_no_change']} consecutive epochs."
            )
            if solver.trigger_stopping(message, p["verbose"]):
                history.stop_reason, history.message = "early_stopping", message
                break
            est._no_improvement_count = 0
        if incremental:
            break
        if est.n_iter_ == p["max_iter"]:
            warnings.warn(  # scikit-learn's words: users' warning filters match them
                f"Stochastic Optimizer: Maximum iterations ({p['max_iter']}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=7,  # the caller of fit or partial_fit
            )


def _update_no_improvement_count(est, val, p: dict, params) -> None:
    """scikit-learn's rule, to the letter: a count of epochs whose loss is not below the
    best by more than tol (or whose validation score is not above the best by tol); the
    best moves with every improvement, however small."""
    tol = p["tol"]
    if val is not None:
        score = est._validation_score(*val)
        est.validation_scores_.append(score)
        if p["verbose"]:
            print(f"Validation score: {score:f}")
        if score < est.best_validation_score_ + tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            est._best_params = [q.value.copy() for q in params]
    elif est.best_loss_ is not None:  # (None: partial_fit after an early-stopping fit)
        if est.loss_curve_[-1] > est.best_loss_ - tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if est.loss_curve_[-1] < est.best_loss_:
            est.best_loss_ = est.loss_curve_[-1]
