"""The numeric columns' fill values: NumPy, the same bits as scikit-learn's SimpleImputer."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from handgrad.tabular import TablePreprocessor
from handgrad.tabular.encode import fill_values


def imputer_fills(V: np.ndarray, strategy: str) -> np.ndarray:
    from sklearn.impute import SimpleImputer

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # all-missing columns, overflowing means
        return SimpleImputer(strategy=strategy).fit(V).statistics_.astype(np.float64)


def random_table(rng: np.random.Generator, kind: int) -> np.ndarray:
    """(N, k) float64 with NaN holes: the values a numeric column becomes before fitting."""
    n, k = int(rng.integers(1, 300)), int(rng.integers(1, 6))
    if kind == 0:  # measurements of any magnitude
        V = rng.normal(size=(n, k)) * 10.0 ** float(rng.integers(-6, 7))
    elif kind == 1:  # integer columns (ties everywhere)
        V = rng.integers(-3, 4, size=(n, k)).astype(np.float64)
    elif kind == 2:  # booleans and signed zeros: equal values of different bits
        V = rng.choice([0.0, -0.0, 1.0, -1.0], size=(n, k))
    elif kind == 3:  # near the largest float: sums overflow
        V = rng.normal(size=(n, k)) * 1e307
    else:  # heavy tails
        V = rng.exponential(size=(n, k)) ** 5
    V[rng.random((n, k)) < rng.random()] = np.nan
    if rng.random() < 0.15:
        V[:, int(rng.integers(k))] = np.nan  # a column with no value at all
    return V


@pytest.mark.parametrize("strategy", ["mean", "median"])
def test_same_bits_as_simple_imputer_on_many_tables(strategy):
    rng = np.random.default_rng(24)
    for i in range(400):
        V = random_table(rng, i % 5)
        if i % 3 == 0:  # the layout decides the order of the sums: both give the same bits
            V = np.asfortranarray(V)
        expected = imputer_fills(V, strategy)
        got = fill_values(V, strategy)
        assert got.tobytes() == expected.tobytes(), (i, V.shape, expected, got)


@pytest.mark.parametrize("strategy", ["mean", "median"])
def test_same_bits_on_edge_columns(strategy):
    columns = [
        [np.nan, np.nan, np.nan],  # nothing to fill from
        [5.0, np.nan, np.nan],  # one value
        [-0.0, 0.0, np.nan, -0.0],  # signed zeros
        [1.7e308, 1.7e308, np.nan],  # the mean (and the median's sum) overflow
        [-1.7e308, 1.0, 1.7e308],
        [2.0, 1.0, 4.0, 3.0],  # even count: half the two middle values
    ]
    for column in columns:
        V = np.array(column).reshape(-1, 1)
        assert fill_values(V, strategy).tobytes() == imputer_fills(V, strategy).tobytes()
    counts = fill_values(np.array([[1.0, np.nan], [2.0, 3.0], [np.nan, 7.0]]), strategy)
    assert counts.tolist() == [1.5, 5.0]


@pytest.mark.parametrize("impute", ["mean", "median"])
def test_fitted_fills_match_simple_imputer_on_mixed_dtypes(impute):
    rng = np.random.default_rng(3)
    n = 200
    ints = rng.integers(0, 9, n)
    frame = pd.DataFrame(
        {
            "int": ints,
            "nullable": pd.array(np.where(rng.random(n) < 0.3, None, ints), dtype="Int64"),
            "float32": rng.normal(size=n).astype(np.float32),
            "bool": rng.random(n) < 0.4,
            "text numbers": np.where(rng.random(n) < 0.2, None, rng.normal(size=n).astype(str)),
            "holes": np.where(rng.random(n) < 0.7, np.nan, rng.exponential(size=n)),
            "port": rng.choice(["S", "C", "Q"], n),  # categorical: its own encoder
        }
    )
    kinds = {name: "numeric" for name in frame.columns[:-1]} | {"port": "categorical"}
    pre = TablePreprocessor.fit(frame, kinds, impute=impute)
    numeric = frame.iloc[:, :-1].apply(pd.to_numeric, errors="coerce").astype(np.float64)
    # fit stacks the columns row-major (the sums' order follows the layout)
    expected = imputer_fills(np.ascontiguousarray(numeric.to_numpy()), impute)
    got = np.array([c["fill"] for c in pre.columns if c["kind"] == "numeric"])
    assert got.tobytes() == expected.tobytes()


def test_unknown_strategy_is_named():
    with pytest.raises(ValueError, match="unknown impute strategy 'mode'"):
        fill_values(np.ones((3, 1)), "mode")


def test_fitting_numeric_columns_does_not_import_scikit_learn():
    """A sweep's worker fits the preprocessing at every training: importing scikit-learn
    there cost each fresh worker ~0.6 s of CPU."""
    code = (
        "import sys, pandas as pd\n"
        "from handgrad.tabular import TablePreprocessor\n"
        "frame = pd.DataFrame({'a': [1.0, None, 3.0], 'b': [4, 5, 6]})\n"
        "pre = TablePreprocessor.fit(frame, {'a': 'numeric', 'b': 'numeric'})\n"
        "print(pre.columns[0]['fill'], 'sklearn' in sys.modules)\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src, "OPENBLAS_NUM_THREADS": "1"},
    ).stdout.split()
    assert out == ["2.0", "False"]
