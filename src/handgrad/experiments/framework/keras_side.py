"""The Keras half of the framework chapter: which backend, and the run in a child process.

The parent (the framework package) calls ``backend_or_reason`` and ``run_keras``; ``run_keras`` runs
this very file as a script in a child Python:

    python keras_side.py < job.json

The child imports NumPy and Keras only (never handgrad: it starts faster, and the parent's
process never sees Keras or its backend), trains the job's one-layer model with Keras's SGD,
one ``train_on_batch`` call per full-batch step, for each dtype asked, and prints the results
as one JSON line after ``RESULT_MARK``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULT_MARK = "HANDGRAD-KERAS-RESULT "  # the child's answer: this, then one line of JSON

# backend name -> the module it needs, in order of preference
# (JAX first: the ``framework`` extra installs it; it is the lightest and computes in float64)
_BACKENDS = (("jax", "jax"), ("torch", "torch"), ("tensorflow", "tensorflow"))


# --- Keras, in a child process ---------------------------------------------------------------
#
# The framework runs in a separate Python process: importing TensorFlow or PyTorch into the
# tour's process would leave their threads, memory and global settings (Keras's floatx and
# dtype policy) behind, and KERAS_BACKEND must be set before Keras is first imported. The
# child gets the job as JSON on stdin and answers with JSON on stdout; Python's JSON keeps
# float64 values exact, so nothing is lost on the way.


def backend_or_reason() -> tuple[str | None, str | None]:
    """-> (backend name, None), or (None, why Keras cannot run here)."""
    if importlib.util.find_spec("keras") is None:
        return None, "Keras is not installed"
    wanted = os.environ.get("KERAS_BACKEND")
    if wanted:
        module = dict(_BACKENDS).get(wanted, wanted)
        if importlib.util.find_spec(module) is None:
            return None, f"KERAS_BACKEND={wanted} but {module} is not installed"
        return wanted, None
    for backend, module in _BACKENDS:
        if importlib.util.find_spec(module) is not None:
            return backend, None
    return None, "Keras is installed but none of its backends is (jax, torch or tensorflow)"


def keras_environment(backend: str, keras_home: str) -> dict[str, str]:
    """The child's environment: this process's, with the backend and a private Keras home.

    KERAS_BACKEND picks the backend before Keras is imported; KERAS_HOME points Keras at an
    empty folder, so it neither reads a user's ``~/.keras/keras.json`` (their floatx or
    backend) nor writes one there. JAX computes in float32 unless x64 is switched on.
    """
    env = dict(os.environ, KERAS_BACKEND=backend, KERAS_HOME=keras_home)
    if backend == "jax":
        env["JAX_ENABLE_X64"] = "1"
        env.setdefault("JAX_PLATFORMS", "cpu")  # no probing for accelerators
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    return env


def run_keras(backend: str, job: dict, timeout: float = 300.0) -> dict:
    """Run this file in a child Python with KERAS_BACKEND=backend; -> its results."""
    with tempfile.TemporaryDirectory(prefix="handgrad-keras-") as keras_home:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__))],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            env=keras_environment(backend, keras_home),
            timeout=timeout,
        )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_MARK)]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"the Keras run ({backend} backend) failed:\n{tail}")
    return json.loads(lines[-1][len(RESULT_MARK) :])


# --- the child ---------------------------------------------------------------------------------


def main() -> None:
    """Entry point of the child process: train the job's model in Keras, print the results."""
    job = json.load(sys.stdin)
    started = time.perf_counter()
    try:
        import keras
    except Exception as exc:  # noqa: BLE001 - a broken install is reported, not raised
        error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        sys.stdout.write("\n" + RESULT_MARK + json.dumps({"import_error": error}) + "\n")
        return

    result = {
        "backend": keras.backend.backend(),
        "version": keras.__version__,
        "import_seconds": time.perf_counter() - started,
        "runs": {},
    }
    X = np.asarray(job["X"], dtype=np.float64)
    Y_ = np.asarray(job["Y"], dtype=np.float64)
    W0 = np.asarray(job["W0"], dtype=np.float64).reshape(-1, 1)
    for dtype in job["dtypes"]:
        # every float in the model, the loss and the optimizer's learning rate in ``dtype``
        keras.config.set_floatx(dtype)
        keras.config.set_dtype_policy(dtype)
        model = keras.Sequential(
            [
                keras.layers.Input(shape=(X.shape[1],), dtype=dtype),
                keras.layers.Dense(
                    1, kernel_regularizer=keras.regularizers.L2(job["lam"]), dtype=dtype
                ),
            ]
        )
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=job["lr"]),
            loss=keras.losses.MeanSquaredError(dtype=dtype),
        )
        model.layers[0].set_weights([W0.astype(dtype), np.asarray([job["b0"]], dtype)])
        x, y = X.astype(dtype), Y_.astype(dtype)
        t0 = time.perf_counter()
        # one call = one SGD step on the whole batch = one epoch; returns that step's loss
        losses = [float(model.train_on_batch(x, y)) for _ in range(job["epochs"])]
        seconds = time.perf_counter() - t0
        W, b = model.layers[0].get_weights()
        queries = np.asarray(job["queries"], dtype=dtype)
        result["runs"][dtype] = {
            "W": np.asarray(W, dtype=np.float64)[:, 0].tolist(),
            "b": float(np.asarray(b)[0]),
            "weight_dtype": str(np.asarray(W).dtype),
            "loss": losses,
            "seconds": seconds,
            "predictions": np.asarray(model.predict(queries, verbose=0), np.float64)[:, 0].tolist(),
        }
    sys.stdout.write("\n" + RESULT_MARK + json.dumps(result) + "\n")


if __name__ == "__main__":
    # run as a script, this folder heads sys.path: drop it, so that no module of handgrad's
    # chapter (measure.py, figures.py, ...) can shadow one that Keras or its backend imports
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    main()
