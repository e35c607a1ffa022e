"""handgrad: neural networks from first principles.

NumPy only, every gradient derived by hand and verified by finite differences,
numerically stable by construction. The engine lives in ``handgrad.nn``; this package
re-exports the everyday names.
"""

from .nn import (
    SGD,
    Adam,
    BCEWithLogitsLoss,
    Identity,
    L1Penalty,
    L2Penalty,
    LeakyReLU,
    Linear,
    Module,
    MSELoss,
    Parameter,
    ReLU,
    RMSProp,
    Sequential,
    Sigmoid,
    SoftmaxCrossEntropyLoss,
    Tanh,
    count_parameters,
    gradcheck,
    load,
    mlp,
    register_module,
    save,
)
from .nn._version import __version__
from .train import EarlyStopping, History, ModelCheckpoint, ProgressBar, batches, evaluate, fit

_LAZY = {"MLPClassifier", "MLPRegressor", "load_estimator"}


def __getattr__(name: str):
    """The scikit-learn estimators, imported on first use (scikit-learn is slow to import)."""
    if name in _LAZY:
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module 'handgrad' has no attribute {name!r}")


__all__ = [
    "SGD",
    "Adam",
    "RMSProp",
    "BCEWithLogitsLoss",
    "MSELoss",
    "SoftmaxCrossEntropyLoss",
    "L1Penalty",
    "L2Penalty",
    "Identity",
    "LeakyReLU",
    "Linear",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "count_parameters",
    "gradcheck",
    "load",
    "mlp",
    "register_module",
    "save",
    "fit",
    "evaluate",
    "batches",
    "History",
    "EarlyStopping",
    "ModelCheckpoint",
    "ProgressBar",
    "__version__",
]
