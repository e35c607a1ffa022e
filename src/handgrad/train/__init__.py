"""The training loop: ``fit`` and what it uses, one module per job.

loop         fit, as five named steps (prepare, choose the step, run an epoch,
             end an epoch, finish)
steps        the Step protocol; ReferenceStep (the textbook calls) and choose_step
fast         FastStep: the built-in types through fused kernels and reused buffers
guard        the divergence guard: snapshots in memory, rollback, why weights are bad
checkpoints  the training state on disk, resume bit for bit
callbacks    History, TrainingContext, ProgressBar, EarlyStopping, ModelCheckpoint
inputs       checking fit's inputs: counts, X, y, validation split, metrics
batching     batches of indices; evaluate, predict_outputs on whole arrays
"""

from .batching import batches, evaluate, predict_logits, predict_outputs
from .callbacks import (
    Callback,
    EarlyStopping,
    History,
    ModelCheckpoint,
    ProgressBar,
    TrainingContext,
)
from .checkpoints import TrainingState, read_checkpoint, save_checkpoint
from .guard import DivergenceGuard, Snapshot
from .loop import fit

__all__ = [
    "batches",
    "fit",
    "evaluate",
    "predict_outputs",
    "predict_logits",
    "History",
    "Callback",
    "ProgressBar",
    "EarlyStopping",
    "ModelCheckpoint",
    "TrainingContext",
    "DivergenceGuard",
    "Snapshot",
    "TrainingState",
    "save_checkpoint",
    "read_checkpoint",
]
