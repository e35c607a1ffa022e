"""handgrad.nn — the engine. NumPy and the standard library only.

Every backward pass is derived by hand, sits beside its forward, and is verified by
finite differences in the test suite.
"""

from . import functional, init
from ._checks import NonFiniteError
from .gradcheck import GradcheckReport, gradcheck, numerical_gradient
from .layers import (
    ACTIVATIONS,
    MODULE_TYPES,
    Identity,
    LeakyReLU,
    Linear,
    Module,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    count_parameters,
    mlp,
    register_module,
)
from .losses import (
    BCEWithLogitsLoss,
    L1Penalty,
    L2Penalty,
    Loss,
    MSELoss,
    PoissonLoss,
    SoftmaxCrossEntropyLoss,
)
from .optim import SGD, Adam, Optimizer, RMSProp
from .serialization import load, load_with_metadata, save

__all__ = [
    "functional",
    "init",
    "NonFiniteError",
    "GradcheckReport",
    "gradcheck",
    "numerical_gradient",
    "ACTIVATIONS",
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
    "mlp",
    "MODULE_TYPES",
    "register_module",
    "BCEWithLogitsLoss",
    "L1Penalty",
    "L2Penalty",
    "Loss",
    "MSELoss",
    "PoissonLoss",
    "SoftmaxCrossEntropyLoss",
    "SGD",
    "Adam",
    "Optimizer",
    "RMSProp",
    "load",
    "load_with_metadata",
    "save",
]
