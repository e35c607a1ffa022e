"""The benchmark workloads: shapes, loss, batch size, and the synthetic data they train on.

Only the shapes matter for speed, so the data is synthetic and fixed by a seed: standard
normal inputs and labels from a random linear "teacher" (so the loss actually goes down).
Every framework trains the same network on the same arrays with plain SGD, lr 0.01, and a
fresh shuffle every epoch.

``epochs`` is how many epochs one benchmark process trains; the big workloads use few
epochs per process (and many processes) to keep ``make bench`` within minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LEARNING_RATE = 0.01
DATA_SEED = 0
MODEL_SEED = 0


@dataclass(frozen=True)
class Workload:
    name: str
    n_samples: int
    sizes: tuple[int, ...]  # [in, hidden..., out]
    loss: str  # "softmax_ce" (integer labels) or "bce" (one logit, labels 0/1)
    batch_size: int
    dtypes: tuple[str, ...]
    epochs: int  # per benchmark process

    @property
    def network(self) -> str:
        return "-".join(str(s) for s in self.sizes) + " ReLU"

    @property
    def loss_name(self) -> str:
        return "softmax CE" if self.loss == "softmax_ce" else "sigmoid + BCE"

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_samples // self.batch_size)

    def batch_sizes(self) -> list[int]:
        """The size of every batch of one epoch (the last one may be short)."""
        full, rest = divmod(self.n_samples, self.batch_size)
        return [self.batch_size] * full + ([rest] if rest else [])


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in [
        Workload("W1", 60_000, (784, 128, 10), "softmax_ce", 128, ("float32", "float64"), 2),
        Workload("W2", 60_000, (784, 256, 128, 10), "softmax_ce", 128, ("float32", "float64"), 2),
        Workload("W3", 1_797, (64, 64, 10), "softmax_ce", 32, ("float64",), 40),
        Workload("W4", 100_000, (20, 32, 1), "bce", 256, ("float64",), 6),
    ]
}


def make_data(workload: Workload, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """X (N, D) of ``dtype``; y (N,) int64 class labels, or (N,) 0/1 of ``dtype`` for BCE."""
    rng = np.random.default_rng(DATA_SEED)
    n, d, k = workload.n_samples, workload.sizes[0], workload.sizes[-1]
    X = rng.standard_normal((n, d), dtype=np.dtype(dtype).type)
    teacher = rng.standard_normal((d, max(k, 2)), dtype=np.dtype(dtype).type)
    scores = X @ teacher
    if workload.loss == "softmax_ce":
        y = np.argmax(scores, axis=1).astype(np.int64)
    else:
        y = (scores[:, 0] > scores[:, 1]).astype(dtype)
    return X, y
