"""Data sets, splits and scaling. Nothing here downloads: data ships in a package or is made."""

from .datasets import load_builtin, make_blobs, make_circles, make_moons
from .mnist import load_mnist, load_mnist_subset, pixels_to_float, read_idx
from .preprocessing import Standardizer, train_test_split

__all__ = [
    "Standardizer",
    "train_test_split",
    "load_builtin",
    "make_blobs",
    "make_moons",
    "make_circles",
    "load_mnist",
    "load_mnist_subset",
    "pixels_to_float",
    "read_idx",
]
