"""The engine imports NumPy and the standard library only, and never the global RNG."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import handgrad

NN_DIR = Path(handgrad.__file__).parent / "nn"
ENGINE_FILES = sorted(NN_DIR.glob("*.py"))
FRAMEWORKS = ("torch", "jax", "tensorflow", "autograd")


def test_engine_files_are_found():
    names = {p.name for p in ENGINE_FILES}
    assert {"functional.py", "layers.py", "losses.py", "optim.py", "gradcheck.py"} <= names


def test_importing_the_engine_loads_no_autodiff_framework():
    code = (
        "import sys, json; import handgrad.nn; "
        f"print(json.dumps([m for m in {FRAMEWORKS!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def imported_modules(path: Path) -> list[tuple[str, int]]:
    """Top-level names of absolute imports in a file, with line numbers."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], node.lineno))
    return found


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: p.name)
def test_engine_imports_numpy_and_stdlib_only(path):
    allowed = set(sys.stdlib_module_names) | {"numpy", "__future__"}
    bad = [
        f"{path.name}:{line} imports {name}"
        for name, line in imported_modules(path)
        if name not in allowed
    ]
    assert bad == []


# numpy.random names that take an explicit seed or build a Generator; everything else in
# np.random (seed, rand, randn, normal, shuffle, ...) uses the hidden global state.
# (RandomState: the estimators recognize a user's, as scikit-learn's random_state allows.)
EXPLICIT_RNG = {
    "default_rng",
    "Generator",
    "SeedSequence",
    "BitGenerator",
    "PCG64",
    "Philox",
    "RandomState",
}


SOURCE_FILES = sorted(NN_DIR.parent.rglob("*.py"))  # all of src/handgrad


@pytest.mark.parametrize("path", SOURCE_FILES, ids=lambda p: str(p.relative_to(NN_DIR.parent)))
def test_no_global_random_state(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    bad = []
    for node in ast.walk(tree):
        # np.random.<name> / numpy.random.<name>
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "random"
            and isinstance(node.value.value, ast.Name)
            and node.value.value.id in ("np", "numpy")
            and node.attr not in EXPLICIT_RNG
        ):
            bad.append(f"{path.name}:{node.lineno} uses np.random.{node.attr}")
        if isinstance(node, ast.Import) and any(a.name == "random" for a in node.names):
            bad.append(f"{path.name}:{node.lineno} imports the stdlib random module")
    assert bad == []


def test_public_api_names():
    for name in handgrad.__all__:
        assert hasattr(handgrad, name), name
    for name in handgrad.nn.__all__:
        assert hasattr(handgrad.nn, name), name
    assert isinstance(handgrad.__version__, str)
