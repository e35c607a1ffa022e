"""Fixtures for the table tests: real tables, a Titanic-style table, the command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="session")
def penguins_csv() -> Path:
    """penguins.csv exactly as the palmerpenguins package ships it (NA cells, text columns)."""
    palmerpenguins = pytest.importorskip(
        "palmerpenguins", reason="the test extra installs palmerpenguins"
    )
    path = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"
    assert path.exists()
    return path


def titanic_frame(n: int = 700, seed: int = 7) -> pd.DataFrame:
    """A Titanic-style passenger list: the Kaggle columns, the same kinds of missing values.

    Survival follows the well-known pattern (women, first class and children first), with
    noise, so a model has something real but imperfect to learn.
    """
    rng = np.random.default_rng(seed)
    pclass = rng.choice([1, 2, 3], size=n, p=[0.24, 0.21, 0.55])
    sex = rng.choice(["male", "female"], size=n, p=[0.65, 0.35])
    age = np.clip(rng.normal(30 - 4 * (pclass - 2), 14, size=n), 0.4, 80).round(1)
    sibsp = rng.choice([0, 1, 2, 3, 4], size=n, p=[0.68, 0.23, 0.05, 0.02, 0.02])
    parch = rng.choice([0, 1, 2, 3], size=n, p=[0.76, 0.13, 0.09, 0.02])
    fare = np.round(np.exp(rng.normal(4.2 - 0.8 * (pclass - 1), 0.5, size=n)), 4)
    embarked = rng.choice(["S", "C", "Q"], size=n, p=[0.72, 0.19, 0.09]).astype(object)
    logit = 0.2 + 2.5 * (sex == "female") - 1.0 * (pclass - 1) - 0.03 * (age - 30)
    logit += 1.0 * (age < 10) - 0.3 * sibsp
    survived = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    titles = np.where(sex == "female", rng.choice(["Mrs.", "Miss."], size=n), "Mr.")
    titles = np.where((sex == "male") & (age < 13), "Master.", titles)
    surnames = ["Smith", "Brown", "Olsen", "Kelly", "Dubois", "Rossi", "Novak", "Berg"]
    names = [f"{surnames[i % 8]}{i}, {titles[i]} {chr(65 + i % 26)}. Passenger" for i in range(n)]
    tickets = [
        f"{rng.choice(['', 'PC ', 'A/5 ', 'STON/O2. '])}{rng.integers(1000, 1200)}"
        for _ in range(n)
    ]
    cabins = np.array(
        [f"{'ABCDEFG'[rng.integers(0, 7)]}{rng.integers(1, 130)}" for _ in range(n)], dtype=object
    )
    cabins[rng.random(n) < np.where(pclass == 1, 0.2, 0.95)] = None  # most cabins unknown
    age_text = age.astype(object)
    age_text[rng.random(n) < 0.2] = None  # a fifth of the ages unknown
    embarked[rng.choice(n, size=2, replace=False)] = None
    return pd.DataFrame(
        {
            "PassengerId": np.arange(1, n + 1),
            "Survived": survived,
            "Pclass": pclass,
            "Name": names,
            "Sex": sex,
            "Age": age_text,
            "SibSp": sibsp,
            "Parch": parch,
            "Ticket": tickets,
            "Fare": fare,
            "Cabin": cabins,
            "Embarked": embarked,
        }
    )


@pytest.fixture(scope="session")
def titanic_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("titanic") / "titanic.csv"
    titanic_frame().to_csv(path, index=False)
    return path


def _command() -> list[str]:
    script = Path(sys.executable).parent / "handgrad"
    if script.exists():
        return [str(script)]
    found = shutil.which("handgrad")
    return [found] if found else [sys.executable, "-m", "handgrad.cli"]


@pytest.fixture(scope="session")
def handgrad_cmd() -> list[str]:
    """The console script as a user runs it."""
    return _command()


@pytest.fixture(scope="session")
def cli(handgrad_cmd):
    """Run ``handgrad ARGS`` in a subprocess -> CompletedProcess (text)."""

    def run(*args, cwd=None, timeout=300) -> subprocess.CompletedProcess:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
        return subprocess.run(
            [*handgrad_cmd, *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def user_error():
    """Check a one-line ``handgrad: error: ...`` with exit status 2 naming every fragment."""

    def check(proc: subprocess.CompletedProcess, *fragments: str) -> str:
        assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert lines[0].startswith("handgrad: error: "), lines[0]
        for fragment in fragments:
            assert fragment in lines[0], (fragment, lines[0])
        return lines[0]

    return check
