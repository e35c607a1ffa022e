"""Modules: each forward beside its backward, every shape stated.

The protocol, the one every course writes: ``forward(x)`` keeps what ``backward`` needs
and returns the output; ``backward(grad_y)`` takes dL/d(output) for that same batch,
writes dL/dθ into each parameter's ``.grad`` (overwriting, never accumulating) and
returns dL/d(input). A module with parameters lists them in ``parameters()``. That is
all a module needs to work in ``Sequential``, ``fit``, ``evaluate`` and ``gradcheck``;
widths are learned from the arrays, never declared.

Speed lives elsewhere: ``handgrad.train.fast`` runs the built-in modules with reused
buffers inside ``fit``, and the tests keep it equal to the code below.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import functional as F
from ._changes import Counted
from ._checks import as_float_array, check_finite, check_matrix
from .constraints import Boolean, Integer, Options, Real, check
from .init import DEFAULT_FOR_ACTIVATION, Initializer, get_initializer, make_rng

# A module's config: what ``json.dumps`` writes, so its values are any JSON value.
Config = dict[str, Any]
T = TypeVar("T")
# a layer's width
SIZE = Integer(1)

__all__ = [
    "Parameter",
    "Module",
    "Linear",
    "ReLU",
    "LeakyReLU",
    "Tanh",
    "Sigmoid",
    "Identity",
    "Sequential",
    "mlp",
    "count_parameters",
    "ACTIVATIONS",
    "MODULE_TYPES",
    "register_module",
]


class Parameter(Counted):
    """A trainable array and its gradient.

    ``value`` and ``grad`` have the same shape and dtype; ``grad`` is overwritten by each
    backward. ``regularize`` says whether weight decay / an L2 penalty applies (weights yes,
    biases no). Rebinding ``value`` or ``grad`` counts as a change (``_changes``); writing
    into them does not.
    """

    __slots__ = ("value", "grad", "name", "regularize")

    def __init__(self, value: np.ndarray, name: str = "", regularize: bool = True):
        self.value = value
        self.grad = np.zeros_like(value)
        self.name = name
        self.regularize = regularize

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.shape

    def __repr__(self) -> str:
        return f"Parameter({self.name!r}, shape={self.value.shape}, dtype={self.value.dtype})"


class Module(Counted):
    """Base class: a differentiable function y = f(x; θ), with θ in ``parameters()``.

    Setting a public attribute counts as a change (``_changes``: a fast step kept for the
    model notices); what forward keeps for backward is named with an underscore."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (N, ...) -> y (N, ...); keeps what backward needs."""
        raise NotImplementedError

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        """dL/dy -> dL/dx, writing dL/dθ into each parameter's ``.grad``."""
        raise NotImplementedError

    def parameters(self) -> list[Parameter]:
        return []

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def config(self) -> Config:
        """JSON-ready description: {"type": class name, **the keyword arguments of __init__}."""
        return {"type": type(self).__name__}

    @classmethod
    def from_config(cls, config: Config, dtype: DTypeLike = np.float64) -> Module:
        """Rebuild a module (weights not included) from ``config()``; see ``register_module``."""
        return cls(**{k: v for k, v in config.items() if k != "type"})

    def num_parameters(self) -> int:
        return sum(p.value.size for p in self.parameters())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"


def _saved(value: T | None, who: str) -> T:
    """What forward kept for backward, or a clear error if forward has not run."""
    if value is None:
        raise RuntimeError(f"{who}.backward called before forward")
    return value


def _check_grad(grad_y: ArrayLike, expected_shape: tuple[int, ...], who: str) -> np.ndarray:
    """The upstream gradient as a real float array of the last forward's output shape."""
    grad_y = F.as_real_float(grad_y, f"{who}.backward gradient")
    if grad_y.shape != expected_shape:
        raise ValueError(
            f"{who}.backward: gradient has shape {grad_y.shape}, "
            f"but the last forward produced {expected_shape}"
        )
    return grad_y


# --- Linear ---------------------------------------------------------------------------------


class Linear(Module):
    """Affine map y = x @ W + b.

    Shapes: x (N, in), W (in, out), b (out,), y (N, out).
    Backward, with G = dL/dy of shape (N, out):
        dW = x.T @ G          (in, out)   each weight sees its input times its output's gradient
        db = sum_n G[n]       (out,)      b is added to every row, so its gradients add up
        dx = G @ W.T          (N, in)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        init: str | Initializer = "xavier_uniform",
        bias_init: float = 0.0,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        dtype: DTypeLike = np.float64,
    ):
        """``init`` names the weight initializer (see ``handgrad.nn.init``); biases start at
        the constant ``bias_init`` (0 unless asked otherwise, e.g. 0.01 to keep ReLUs alive)."""
        in_features = check(in_features, SIZE, "in_features", "Linear")
        out_features = check(out_features, SIZE, "out_features", "Linear")
        bias = check(bias, Boolean(), "bias", "Linear")
        bias_init = check(bias_init, Real(), "bias_init", "Linear")
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"Linear: dtype must be a floating type, got {dtype}")
        self.in_features: int = in_features
        self.out_features: int = out_features
        self.dtype = dtype
        self.init = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        weight = get_initializer(init)(in_features, out_features, make_rng(seed, rng), dtype)
        self.weight = Parameter(weight, "weight", regularize=True)
        self.bias = (
            Parameter(np.full(out_features, bias_init, dtype), "bias", regularize=False)
            if bias
            else None
        )
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (N, in) -> y (N, out)."""
        x = as_float_array(x, "Linear input", self.dtype)
        check_matrix(x, "Linear input", self.in_features)
        check_finite(x, "Linear input")
        self._x = x
        y: np.ndarray = x @ self.weight.value
        if self.bias is not None:
            y += self.bias.value
        return y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        """G (N, out) -> dL/dx (N, in); writes weight.grad (in, out) and bias.grad (out,)."""
        x = _saved(self._x, "Linear")
        G = _check_grad(grad_y, (x.shape[0], self.out_features), "Linear")
        self.weight.grad[...] = x.T @ G
        if self.bias is not None:
            self.bias.grad[...] = G.sum(axis=0)
        grad_x: np.ndarray = G @ self.weight.value.T
        return grad_x

    def parameters(self) -> list[Parameter]:
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def config(self) -> Config:
        return {
            "type": "Linear",
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias is not None,
        }

    @classmethod
    def from_config(cls, config: Config, dtype: DTypeLike = np.float64) -> Linear:
        return cls(
            int(config["in_features"]),
            int(config["out_features"]),
            bias=bool(config.get("bias", True)),
            init="zeros",
            dtype=dtype,
        )


# --- activations ----------------------------------------------------------------------------


class ReLU(Module):
    """y = max(x, 0); dL/dx = dL/dy where x > 0, else 0. Shapes: any, y like x."""

    kink = 0.0  # where the derivative jumps (gradcheck reports entries that straddle it)

    def __init__(self) -> None:
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return F.relu(x)

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        x = _saved(self._x, "ReLU")
        return F.relu_backward(_check_grad(grad_y, x.shape, "ReLU"), x)


class LeakyReLU(Module):
    """y = x for x > 0, a * x otherwise; dL/dx = dL/dy times 1 or a."""

    kink = 0.0

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope: float = check(negative_slope, Real(), "negative_slope", "LeakyReLU")
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return F.leaky_relu(x, self.negative_slope)

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        x = _saved(self._x, "LeakyReLU")
        grad_y = _check_grad(grad_y, x.shape, "LeakyReLU")
        return F.leaky_relu_backward(grad_y, x, self.negative_slope)

    def config(self) -> Config:
        return {"type": "LeakyReLU", "negative_slope": self.negative_slope}


class Tanh(Module):
    """y = tanh(x); dL/dx = dL/dy * (1 - y^2), using the kept output."""

    def __init__(self) -> None:
        self._y: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = F.tanh(x)
        return self._y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        y = _saved(self._y, "Tanh")
        return F.tanh_backward(_check_grad(grad_y, y.shape, "Tanh"), y)


class Sigmoid(Module):
    """y = sigmoid(x); dL/dx = dL/dy * y * (1 - y), using the kept output.

    As a hidden activation only: for a probability output, feed the logits to
    ``BCEWithLogitsLoss`` instead, which is stable where this product underflows.
    """

    def __init__(self) -> None:
        self._y: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = F.sigmoid(x)
        return self._y

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        y = _saved(self._y, "Sigmoid")
        return F.sigmoid_backward(_check_grad(grad_y, y.shape, "Sigmoid"), y)


class Identity(Module):
    """y = x; dL/dx = dL/dy."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        return grad_y


ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "identity": Identity,
}


# --- containers -----------------------------------------------------------------------------


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse (the chain rule)."""

    def __init__(self, *layers: Module):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: item {i} is a {type(layer).__name__}, not a Module")
        self.layers = list(layers)

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        """dL/dy -> dL/dx through every layer, last first (the chain rule)."""
        for layer in reversed(self.layers):
            grad_y = layer.backward(grad_y)
        return grad_y

    def parameters(self) -> list[Parameter]:
        """All parameters in layer order, weight before bias."""
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """("0.weight", p), ("0.bias", p), ... in layer order."""
        return [
            (f"{i}.{p.name}", p) for i, layer in enumerate(self.layers) for p in layer.parameters()
        ]

    def config(self) -> Config:
        return {"type": "Sequential", "layers": [layer.config() for layer in self.layers]}

    @property
    def in_features(self) -> int | None:
        """Input width of the first Linear layer when only built-in activations precede it;
        None when it cannot be known without data (a custom module may change widths)."""
        for layer in self.layers:
            if type(layer) is Linear:
                return layer.in_features
            if type(layer) not in ACTIVATIONS.values():
                return None
        return None

    @property
    def dtype(self) -> np.dtype:
        params = self.parameters()
        return params[0].value.dtype if params else np.dtype(np.float64)

    def summary(self) -> str:
        """A table: layer, output shape (from a forward pass on one zero row), parameters."""
        x = None if self.in_features is None else np.zeros((1, self.in_features), self.dtype)
        rows = [("layer", "output shape", "params")]
        for i, layer in enumerate(self.layers):
            x = None if x is None else layer.forward(x)
            shape = "(N, ?)" if x is None else "(N, " + ", ".join(map(str, x.shape[1:])) + ")"
            rows.append((f"{i}: {layer!r}", shape, f"{layer.num_parameters():,}"))
        rows.append(("total", "", f"{self.num_parameters():,}"))
        widths = [max(len(r[c]) for r in rows) for c in range(3)]
        lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}" for r in rows]
        rule = "-" * len(lines[0])
        return "\n".join([lines[0], rule, *lines[1:-1], rule, lines[-1]])

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"Sequential(\n{inner}\n)"


# --- the types a model file may hold --------------------------------------------------------

MODULE_TYPES: dict[str, type[Module]] = {
    cls.__name__: cls for cls in (Linear, ReLU, LeakyReLU, Tanh, Sigmoid, Identity)
}


def register_module(cls: type[Module]) -> type[Module]:
    """Let model files hold ``cls`` (usable as a class decorator); returns ``cls``.

    The contract: ``cls().config()`` is JSON with ``"type": cls.__name__`` and the
    keyword arguments that rebuild it; ``cls.from_config(config, dtype)`` rebuilds it
    (the default passes those arguments to ``cls``); ``parameters()`` come back in the
    same order with the same names and shapes, and the saved values are copied into them.
    """
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"register_module: expected a Module subclass, got {cls!r}")
    known = MODULE_TYPES.get(cls.__name__)
    if known is not None and known is not cls:
        raise ValueError(f"register_module: another module is already named {cls.__name__!r}")
    MODULE_TYPES[cls.__name__] = cls
    return cls


# --- builders -------------------------------------------------------------------------------


def mlp(
    sizes: list[int],
    activation: str = "relu",
    *,
    init: str | Initializer | None = None,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    dtype: DTypeLike = np.float64,
) -> Sequential:
    """A multilayer perceptron: Linear, activation, ..., Linear (the last layer emits logits).

    ``sizes`` = [in, hidden..., out]; ``init`` defaults to He for ReLU-like units and
    Xavier for tanh / sigmoid. All layers draw from one Generator, in order.
    """
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes needs at least [in, out], got {sizes!r}")
    check(activation, Options(*ACTIVATIONS), "activation", "mlp")
    init = init or DEFAULT_FOR_ACTIVATION[activation]
    rng = make_rng(seed, rng)
    layers: list[Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(fan_in, fan_out, init=init, rng=rng, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return Sequential(*layers)


def count_parameters(layer_sizes: list[int]) -> int:
    """Weights plus biases of a fully connected net: sum of in*out + out over the layers.

    >>> count_parameters([10, 64, 3])   # 640 + 64 + 192 + 3
    899
    """
    if len(layer_sizes) < 2:
        raise ValueError(f"count_parameters: need two or more sizes, got {layer_sizes!r}")
    for n in layer_sizes:
        check(n, SIZE, "each layer size", "count_parameters")
    return sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
