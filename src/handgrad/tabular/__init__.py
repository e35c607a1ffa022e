"""Your own table (the course's last chapter): read, type, encode, train, predict, report.

read.py        pandas reading (CSV, Parquet, Excel) and column typing
encode.py      the fitted preprocessing, stored as JSON and applied without scikit-learn
dataset.py     ``load_dataset``: a table file or built-in set -> ``Dataset``
config.py      ``TrainConfig``: every choice, checked before any work
pipeline.py    ``train_model``: split, encode, train, score -> ``TrainRun``
predictor.py   ``Predictor``: a saved model.npz applied to new rows
run_folder.py  the run folder, written whole or not at all
report.py      figures and the Markdown/HTML report of a run
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ..data.tabular import DataError
from .config import MAX_PARAMETERS, OPTIMIZERS, ConfigError, TrainConfig

if TYPE_CHECKING:
    from .dataset import Dataset, load_dataset
    from .encode import EncodeNotes, TablePreprocessor
    from .pipeline import TrainRun, train_model
    from .predictor import MODEL_KIND, Predictor
    from .read import ColumnProfile, profile_columns, read_table
    from .run_folder import RunFolderError

# pandas and the training code load on first use, so `handgrad --help` and the commands
# that never read a table stay fast
_LAZY = {
    "Dataset": "dataset",
    "load_dataset": "dataset",
    "EncodeNotes": "encode",
    "TablePreprocessor": "encode",
    "TrainRun": "pipeline",
    "train_model": "pipeline",
    "MODEL_KIND": "predictor",
    "Predictor": "predictor",
    "ColumnProfile": "read",
    "profile_columns": "read",
    "read_table": "read",
    "RunFolderError": "run_folder",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ColumnProfile",
    "ConfigError",
    "DataError",
    "Dataset",
    "EncodeNotes",
    "MAX_PARAMETERS",
    "MODEL_KIND",
    "OPTIMIZERS",
    "Predictor",
    "RunFolderError",
    "TablePreprocessor",
    "TrainConfig",
    "TrainRun",
    "load_dataset",
    "profile_columns",
    "read_table",
    "train_model",
]
