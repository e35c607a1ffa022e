"""Modules: each forward beside its backward, every shape stated.

Conventions: rows are samples. ``forward(x)`` caches what ``backward`` needs and returns
the output; ``backward(grad_y)`` takes dL/d(output) for that same batch, writes dL/dθ into
each parameter's ``.grad`` (overwriting, never accumulating) and returns dL/d(input).
"""

from __future__ import annotations

import numpy as np

from . import functional as F
from ._checks import as_float_array, check_finite, check_matrix
from .init import DEFAULT_FOR_ACTIVATION, get_initializer, make_rng

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
]


class Parameter:
    """A trainable array and its gradient.

    ``value`` and ``grad`` have the same shape and dtype; ``grad`` is overwritten by each
    backward. ``regularize`` says whether weight decay / an L2 penalty applies (weights yes,
    biases no).
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


class Module:
    """Base class: a differentiable function with (possibly) parameters."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """dL/dy -> dL/dx; with ``input_grad=False`` dL/dx is skipped (returns None)."""
        raise NotImplementedError

    def parameters(self) -> list[Parameter]:
        return []

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def config(self) -> dict:
        """JSON-ready description from which the module (without its weights) is rebuilt."""
        return {"type": type(self).__name__}

    def output_features(self, in_features: int) -> int:
        return in_features

    def num_parameters(self) -> int:
        return sum(p.value.size for p in self.parameters())

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "type")
        return f"{type(self).__name__}({args})"

    # --- the training loop's path ---------------------------------------------------------
    # ``fit`` validates its data once, at its boundary, and then calls ``_forward`` and
    # ``_backward`` every step: the same math as ``forward``/``backward``, without the
    # per-call input checks, and writing into buffers the module keeps and reuses for every
    # batch of the same size (so the arrays they return are overwritten by the next call).
    # A module that does not override them runs its public methods.

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def _backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return self.backward(grad_y, input_grad)

    def _has_training_path(self) -> bool:
        """False if ``forward`` or ``backward`` was replaced after ``_forward``/``_backward``
        were written for it: set on the instance, or overridden by a subclass that kept
        its parent's ``_forward``/``_backward``. ``fit`` then calls the public methods."""
        if "forward" in vars(self) or "backward" in vars(self):
            return False
        cls = type(self)
        for public, private in (("forward", "_forward"), ("backward", "_backward")):
            fast = _defined_in(cls, private)  # Module's own just calls the public method
            if fast is not Module and not issubclass(fast, _defined_in(cls, public)):
                return False
        return True

    def _buffer(self, name: str, shape: tuple[int, ...], dtype, fill=None) -> np.ndarray:
        """A scratch array of this shape and dtype, allocated once (filled with ``fill`` if
        given, else uninitialized) and reused."""
        buffers = self.__dict__.setdefault("_buffers", {})
        key = (name, shape, dtype)
        buf = buffers.get(key)
        if buf is None:
            buf = buffers[key] = (
                np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)
            )
        return buf

    def _cached(self, attr: str):
        value = getattr(self, attr, None)
        if value is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return value


def _defined_in(cls: type, name: str) -> type:
    """The class in ``cls``'s method resolution order whose body defines ``name``."""
    return next(klass for klass in cls.__mro__ if name in vars(klass))


def _check_grad(grad_y: np.ndarray, expected_shape: tuple[int, ...], who: str) -> np.ndarray:
    grad_y = np.asarray(grad_y)
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
        init="xavier_uniform",
        bias_init: float = 0.0,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        dtype=np.float64,
    ):
        """``init`` names the weight initializer (see ``handgrad.nn.init``); biases start at
        the constant ``bias_init`` (0 unless asked otherwise, e.g. 0.01 to keep ReLUs alive)."""
        if not np.isfinite(bias_init):
            raise ValueError(f"Linear: bias_init must be a finite number, got {bias_init!r}")
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"Linear: {name} must be a positive integer, got {n!r}")
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"Linear: dtype must be a floating type, got {dtype}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.dtype = dtype
        self.init = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        weight = get_initializer(init)(in_features, out_features, make_rng(seed, rng), dtype)
        self.weight = Parameter(weight, "weight", regularize=True)
        self.bias = (
            Parameter(np.full(out_features, bias_init, dtype), "bias", regularize=False)
            if bias
            else None
        )
        self._x = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x (N, in) -> y (N, out)."""
        if not (
            isinstance(x, np.ndarray)
            and x.ndim == 2
            and x.dtype == self.dtype
            and x.shape[1] == self.in_features
            and x.shape[0] > 0
        ):
            x = as_float_array(x, "Linear input", self.dtype)
            check_matrix(x, "Linear input", self.in_features)
        check_finite(x, "Linear input")
        return self._affine(x)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return self._affine(x, out=self._buffer("y", (x.shape[0], self.out_features), x.dtype))

    def _affine(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        self._x = x
        y = np.dot(x, self.weight.value, out=out)
        if self.bias is not None:
            y += self.bias.value
        return y

    def backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """grad_y (N, out) -> dL/dx (N, in); writes weight.grad (in, out) and bias.grad (out,)."""
        x = self._cached("_x")
        grad_y = _check_grad(grad_y, (x.shape[0], self.out_features), "Linear")
        return self._gradients(x, grad_y, input_grad)

    def _backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        x = self._x
        out = self._buffer("dx", x.shape, x.dtype) if input_grad else None
        return self._gradients(x, grad_y, input_grad, out)

    def _gradients(self, x, grad_y, input_grad: bool, out=None) -> np.ndarray | None:
        np.matmul(x.T, grad_y, out=self.weight.grad)
        if self.bias is not None:  # the column sums of G, as the product 1^T G
            np.matmul(self._ones(x.shape[0], x.dtype), grad_y, out=self.bias.grad)
        return np.dot(grad_y, self.weight.value.T, out=out) if input_grad else None

    def _ones(self, n: int, dtype) -> np.ndarray:
        """(n,) ones, kept per batch size: a BLAS product sums the columns of a small G
        several times faster than np.sum(G, axis=0)."""
        return self._buffer("ones", (n,), dtype, fill=1)

    def parameters(self) -> list[Parameter]:
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def config(self) -> dict:
        return {
            "type": "Linear",
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias is not None,
        }

    def output_features(self, in_features: int) -> int:
        return self.out_features


# --- activations ----------------------------------------------------------------------------


class ReLU(Module):
    """y = max(x, 0); dL/dx = dL/dy where x > 0, else 0. Shapes: any, y like x."""

    kink = 0.0  # where the derivative jumps (gradcheck reports entries that straddle it)

    def __init__(self):
        self._x = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return F.relu(x)

    def backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray:
        x = self._cached("_x")
        return F.relu_backward(_check_grad(grad_y, x.shape, "ReLU"), x)

    # F.relu and F.relu_backward, written into reused buffers
    def _forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return np.maximum(x, 0, out=self._buffer("y", x.shape, x.dtype))

    def _backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray:
        x = self._x
        return np.multiply(grad_y, x > 0, out=self._buffer("dx", x.shape, x.dtype))


class LeakyReLU(Module):
    """y = x for x > 0, a * x otherwise; dL/dx = dL/dy times 1 or a."""

    kink = 0.0

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = float(negative_slope)
        self._x = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return F.leaky_relu(x, self.negative_slope)

    def backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray:
        x = self._cached("_x")
        grad_y = _check_grad(grad_y, x.shape, "LeakyReLU")
        return F.leaky_relu_backward(grad_y, x, self.negative_slope)

    def config(self) -> dict:
        return {"type": "LeakyReLU", "negative_slope": self.negative_slope}


class Tanh(Module):
    """y = tanh(x); dL/dx = dL/dy * (1 - y^2), using the cached output."""

    def __init__(self):
        self._y = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = F.tanh(x)
        return self._y

    def backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray:
        y = self._cached("_y")
        return _check_grad(grad_y, y.shape, "Tanh") * (1.0 - y * y)


class Sigmoid(Module):
    """y = sigmoid(x); dL/dx = dL/dy * y * (1 - y), using the cached output.

    As a hidden activation only: for a probability output, feed the logits to
    ``BCEWithLogitsLoss`` instead, which is stable where this product underflows.
    """

    def __init__(self):
        self._y = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._y = F.sigmoid(x)
        return self._y

    def backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray:
        y = self._cached("_y")
        return F.sigmoid_backward(_check_grad(grad_y, y.shape, "Sigmoid"), y)


class Identity(Module):
    """y = x; dL/dx = dL/dy."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray:
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

    def backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        for i in range(len(self.layers) - 1, -1, -1):
            grad_y = self.layers[i].backward(grad_y, input_grad=input_grad or i > 0)
        return grad_y

    def _has_training_path(self) -> bool:
        return super()._has_training_path() and all(
            layer._has_training_path() for layer in self.layers
        )

    def _forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer._forward(x)
        return x

    def _backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        for i in range(len(self.layers) - 1, -1, -1):
            grad_y = self.layers[i]._backward(grad_y, input_grad or i > 0)
        return grad_y

    def parameters(self) -> list[Parameter]:
        """All parameters in layer order, weight before bias."""
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """("0.weight", p), ("0.bias", p), ... in layer order."""
        return [
            (f"{i}.{p.name}", p) for i, layer in enumerate(self.layers) for p in layer.parameters()
        ]

    def config(self) -> dict:
        return {"type": "Sequential", "layers": [layer.config() for layer in self.layers]}

    def output_features(self, in_features: int) -> int:
        for layer in self.layers:
            in_features = layer.output_features(in_features)
        return in_features

    @property
    def in_features(self) -> int | None:
        """Input width of the first Linear layer (None if there is none)."""
        for layer in self.layers:
            if isinstance(layer, Linear):
                return layer.in_features
        return None

    @property
    def dtype(self) -> np.dtype:
        params = self.parameters()
        return params[0].value.dtype if params else np.dtype(np.float64)

    def summary(self) -> str:
        """A table: layer, output shape, parameter count; and the total."""
        width = self.in_features
        rows = [("layer", "output shape", "params")]
        for i, layer in enumerate(self.layers):
            width = layer.output_features(width) if width is not None else None
            rows.append((f"{i}: {layer!r}", f"(N, {width})", f"{layer.num_parameters():,}"))
        rows.append(("total", "", f"{self.num_parameters():,}"))
        widths = [max(len(r[c]) for r in rows) for c in range(3)]
        lines = [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}" for r in rows]
        rule = "-" * len(lines[0])
        return "\n".join([lines[0], rule, *lines[1:-1], rule, lines[-1]])

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"Sequential(\n{inner}\n)"


def mlp(
    sizes: list[int],
    activation: str = "relu",
    *,
    init: str | None = None,
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    dtype=np.float64,
) -> Sequential:
    """A multilayer perceptron: Linear, activation, ..., Linear (the last layer emits logits).

    ``sizes`` = [in, hidden..., out]; ``init`` defaults to He for ReLU-like units and
    Xavier for tanh / sigmoid. All layers draw from one Generator, in order.
    """
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes needs at least [in, out], got {sizes!r}")
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"mlp: unknown activation {activation!r}; choose from {sorted(ACTIVATIONS)}"
        )
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
    if len(layer_sizes) < 2 or any(int(n) < 1 for n in layer_sizes):
        raise ValueError(f"count_parameters: need two or more positive sizes, got {layer_sizes!r}")
    return sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
