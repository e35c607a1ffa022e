"""Data sets, splits and scaling. Nothing here downloads: data ships in a package or is made."""

from .preprocessing import Standardizer, train_test_split

__all__ = ["Standardizer", "train_test_split"]
