"""One training of the sweep, on the train-your-own pipeline; the sweep's only import of it.

The pipeline (``TrainConfig``, ``load_dataset``, ``train_model``) is imported here and nowhere
else in the package, so moving it means changing this one import.
"""

from __future__ import annotations

import functools
import os
import socket
import time
import warnings
from pathlib import Path
from typing import Any

from ..nn.layers import ACTIVATIONS
from ..tabular import OPTIMIZERS, ConfigError, TrainConfig, load_dataset, train_model

__all__ = [
    "ACTIVATIONS",
    "OPTIMIZERS",
    "ConfigError",
    "TrainConfig",
    "load_dataset",
    "train_model",
    "train_trial",
    "retrain",
    "score_name",
]

BLAS_ENV = {  # one BLAS thread per worker process: the cores go to the trainings, not to BLAS
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
}


def score_name(task: str) -> str:
    """The validation score the sweep ranks by (higher is better)."""
    return "accuracy" if task == "classification" else "r2"


@functools.cache
def _blas_controller() -> Any:
    """This process's thread pools, found once (finding them costs ~0.5 ms a call)."""
    from threadpoolctl import ThreadpoolController  # ships with scikit-learn

    return ThreadpoolController()


def _one_blas_thread():
    """A context pinning BLAS to one thread (also where the environment could not be set)."""
    return _blas_controller().limit(limits=1, user_api="blas")


def train_trial(dataset: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Train one setting and seed; the record's measured part (JSON-ready).

    ``dataset``: what ``load_dataset`` returned (the same object on every worker);
    ``config``: TrainConfig keyword arguments. A diverging training is a result, not an
    exception: its record has status "failed" and the reason. Other errors propagate.
    """
    start, cpu_start = time.perf_counter(), time.thread_time()
    with _one_blas_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a divergence is in the record
        # no run folder (the record is the sweep's own), no linear reference fit
        run = train_model(dataset, TrainConfig(**config), None, compare_linear=False)
    seconds, cpu_seconds = time.perf_counter() - start, time.thread_time() - cpu_start
    if run.history.stop_reason == "interrupted":  # Ctrl-C in a serial sweep: nothing to keep
        raise KeyboardInterrupt
    h, m = run.history, run.metrics
    name = score_name(run.task)
    scores = {part: m[part].get(name) for part in ("train", "val", "test") if part in m}
    status, reason = "ok", ""
    if h.stop_reason == "diverged":
        status, reason = "failed", h.message
    elif scores.get("val") is None:
        status, reason = "failed", f"the validation {name} is not a finite number"
    return {
        "status": status,
        "reason": reason,
        "task": run.task,
        "score": name,
        "scores": scores,
        "metrics": {k: m[k] for k in ("train", "val", "test", "baseline") if k in m},
        "epochs_run": h.epochs,
        "stop_reason": h.stop_reason,
        "best_val_epoch": m.get("best_val_epoch"),
        "history": {
            "epoch_loss": h.epoch_loss,
            "val_loss": h.val_loss,
            "metrics": h.metrics,
            "val_metrics": h.val_metrics,
        },
        "n_parameters": run.n_parameters,
        "seconds": seconds,  # the whole task: data split, preprocessing, fit, evaluation
        "cpu_seconds": cpu_seconds,  # the same, this thread's CPU time (load-independent)
        "fit_seconds": float(sum(h.epoch_seconds)),  # the epochs alone
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


def retrain(dataset: Any, config: dict[str, Any], out_dir: Path) -> Any:
    """Train ``config`` into the run folder ``out_dir`` (model.npz, report); the TrainRun."""
    with _one_blas_thread():
        return train_model(dataset, TrainConfig(**config), out_dir)
