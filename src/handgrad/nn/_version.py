"""The version of handgrad, written once: the package, pyproject.toml and model files read it."""

__version__ = "0.1.0"
