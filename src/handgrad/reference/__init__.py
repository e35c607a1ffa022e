"""Exercise-shaped functions, built on the engine's math (never a copy of it).

``binary_classifier``   the one-hidden-layer binary classifier of chapter 4 ("Backprop by hand")
                        as plain functions: forward, loss, backward, step, gradient check, train
``sigmoid_backprop``    ``backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2)``: the
                        gradients of the summed BCE of a sigmoid-sigmoid network
"""

from . import binary_classifier, sigmoid_backprop
from .binary_classifier import (
    backward,
    bce_from_logits,
    forward,
    gd_step,
    gradient_check,
    init_params,
    train,
)
from .sigmoid_backprop import backprop

__all__ = [
    "backprop",
    "binary_classifier",
    "sigmoid_backprop",
    "forward",
    "bce_from_logits",
    "backward",
    "gd_step",
    "gradient_check",
    "init_params",
    "train",
]
