"""Exercise-shaped functions from the seeds, built on the engine's math (never a copy of it).

``backprop``            seed 002: gradients of the summed BCE of a sigmoid-sigmoid network
``seed000``             seed 000: forward / loss / backward / step / check / train as functions
"""

from . import seed000
from .seed000 import (
    backward,
    bce_from_logits,
    forward,
    gd_step,
    gradient_check,
    init_params,
    train,
)
from .seed002 import backprop

__all__ = [
    "backprop",
    "seed000",
    "forward",
    "bce_from_logits",
    "backward",
    "gd_step",
    "gradient_check",
    "init_params",
    "train",
]
