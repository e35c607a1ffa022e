"""The course's chapters: one table, the names a learner sees everywhere.

Each experiment (``handgrad run NAME``) is a chapter of the course; the CLI, the report, the
notebooks, the exercise list and the docs take the chapter's number and title from here, so a
learner meets one scheme. "Seed" in handgrad always means a random seed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chapter:
    number: int
    key: str  # the experiment's command-line name (``handgrad run KEY``)
    title: str
    summary: str

    @property
    def heading(self) -> str:
        """'3 · Nonlinearity: fitting a sine'."""
        return f"{self.number} · {self.title}"


CHAPTERS: tuple[Chapter, ...] = (
    Chapter(
        1,
        "linear-fit",
        "A line by gradient descent",
        "fit y = wx + b by gradient descent; what too large a learning rate does",
    ),
    Chapter(
        2,
        "linear-two-layer",
        "Two layers are still linear",
        "two stacked Linear layers collapse into one linear map",
    ),
    Chapter(
        3,
        "sine",
        "Nonlinearity: fitting a sine",
        "ReLU against tanh on a sine wave; more epochs, better fits",
    ),
    Chapter(
        4,
        "binary",
        "Backprop by hand: a binary classifier",
        "one hidden layer, forward and backward written out, checked by finite differences",
    ),
    Chapter(
        5, "xor", "XOR and symmetry", "momentum and Adam on XOR; why an all-zero start never learns"
    ),
    Chapter(
        6,
        "credit",
        "Regularization on a credit table",
        "standardization and L2 on a small credit table",
    ),
    Chapter(
        7,
        "blobs",
        "Softmax and shapes: three blobs",
        "a three-class softmax network, every tensor's shape, parameter counts",
    ),
    Chapter(
        8,
        "digits",
        "Softmax and minibatches: digits",
        "softmax cross-entropy with minibatches on 8x8 digits; hidden size and learning rate",
    ),
    Chapter(9, "mnist", "MNIST", "the same network on handwritten digits at 28x28"),
    Chapter(
        10,
        "framework",
        "The same model in Keras",
        "the credit model in Keras beside handgrad, number for number",
    ),
    Chapter(
        11,
        "discussion",
        "Why it works: stability, initialization, activations, batch size",
        "every claim about training measured",
    ),
)

# `handgrad train` on a table of your own follows the course as its last step.
OWN_DATA = Chapter(12, "train", "Your own data", "train on a table of your own with handgrad train")

BY_KEY: dict[str, Chapter] = {c.key: c for c in CHAPTERS}


def chapter(key: str) -> Chapter:
    """The chapter of experiment ``key`` ('sine' -> Chapter 3)."""
    if key == OWN_DATA.key:
        return OWN_DATA
    try:
        return BY_KEY[key]
    except KeyError:
        raise ValueError(f"no chapter {key!r}; chapters: {', '.join(BY_KEY)}") from None
