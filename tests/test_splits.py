"""The one row splitter (handgrad.splits): scikit-learn's sizes and class quotas, a fixed
order of draws, and every splitter of the project built on it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import train_test_split as sk_train_test_split

from handgrad.data import train_test_split
from handgrad.estimators._data import validation_split
from handgrad.playground.data import split as playground_split
from handgrad.splits import held_out_count, split_rows
from handgrad.train.inputs import validation_order, validation_rows


@pytest.mark.parametrize(
    ("n", "fraction", "expected"),
    [(10, 0.2, 2), (10, 0.25, 3), (7, 0.5, 4), (25, 0.28, 8), (100, 0.1, 10), (3, 0.01, 1)],
)
def test_held_out_count_is_scikit_learns_ceil(n, fraction, expected):
    assert held_out_count(n, fraction) == expected
    _, test = sk_train_test_split(np.arange(n), test_size=fraction, random_state=0)
    assert len(test) == expected  # 0.28 * 25 is 7.000000000000001 there too


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_held_out_count_refuses_a_fraction_outside_0_1(fraction):
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        held_out_count(10, fraction)


@pytest.mark.parametrize("n_held", [0, 5, 6])
def test_a_split_with_an_empty_part_is_refused(n_held):
    with pytest.raises(ValueError, match=f"holding out {n_held} of 5 rows leaves a part empty"):
        split_rows(5, n_held, np.random.default_rng(0))


@pytest.mark.parametrize("labels", [None, np.arange(40) % 3])
@pytest.mark.parametrize("shuffle", [True, False])
def test_the_parts_are_a_permutation_of_the_rows(labels, shuffle):
    kept, held = split_rows(40, 9, np.random.default_rng(1), labels=labels, shuffle=shuffle)
    assert (kept.shape, held.shape) == ((31,), (9,))
    assert np.array_equal(np.sort(np.concatenate([kept, held])), np.arange(40))
    ordered = np.all(np.diff(kept) > 0) and np.all(np.diff(held) > 0)
    assert ordered != shuffle  # 31 and 9 rows shuffled are in increasing order with p ~ 1e-39


def test_same_generator_state_same_rows_and_another_seed_other_rows():
    labels = np.repeat([0, 1, 2], [10, 20, 30])
    a = split_rows(60, 12, np.random.default_rng(5), labels=labels)
    b = split_rows(60, 12, np.random.default_rng(5), labels=labels)
    c = split_rows(60, 12, np.random.default_rng(6), labels=labels)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(np.sort(a[1]), np.sort(c[1]))


@pytest.mark.parametrize(
    ("counts", "n_held", "quotas"),
    [
        ([10, 20, 30], 12, [2, 4, 6]),  # exact shares
        ([5, 5, 3], 4, None),  # remainders tie: compared with scikit-learn by total only
        ([50, 30, 20], 11, [6, 3, 2]),  # 5.5, 3.3, 2.2: the spare row goes to the 0.5
        ([7, 2], 3, [2, 1]),  # 2.33, 0.67: floors 2 + 0, the spare to the second class
    ],
)
def test_stratified_quotas_are_floors_plus_largest_remainders(counts, n_held, quotas):
    labels = np.repeat(np.arange(len(counts)), counts)
    n = labels.size
    _, held = split_rows(n, n_held, np.random.default_rng(0), labels=labels)
    got = np.bincount(labels[held], minlength=len(counts))
    assert got.sum() == n_held
    if quotas is not None:
        assert got.tolist() == quotas
        _, sk_held = sk_train_test_split(
            np.arange(n), test_size=n_held, random_state=0, stratify=labels
        )
        assert np.bincount(labels[sk_held]).tolist() == quotas  # scikit-learn agrees
    assert np.all(np.abs(got - n_held * np.array(counts) / n) < 1)


def test_stratify_labels_must_have_one_per_row():
    with pytest.raises(ValueError, match=r"stratify labels have shape \(9,\), expected \(10,\)"):
        split_rows(10, 2, np.random.default_rng(0), labels=np.zeros(9))


# --- the four splitters are this one -------------------------------------------------------


def test_train_test_split_is_split_rows_shuffled():
    X, y = np.arange(50).reshape(25, 2), np.arange(25) % 2
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, 0.3, seed=3, stratify=True)
    kept, held = split_rows(25, held_out_count(25, 0.3), np.random.default_rng(3), labels=y)
    assert np.array_equal(X_tr, X[kept]) and np.array_equal(X_te, X[held])
    assert np.array_equal(y_tr, y[kept]) and np.array_equal(y_te, y[held])
    assert len(y_te) == 8  # ceil(7.5)


def test_fit_validation_rows_are_split_rows_with_the_ceil_count():
    assert validation_rows(0.25, 10) == 3
    train, val = validation_order(10, 3, np.random.default_rng(2))
    kept, held = split_rows(10, 3, np.random.default_rng(2))
    assert np.array_equal(train, kept) and np.array_equal(val, held)


def test_estimators_split_is_split_rows_sorted():
    labels = np.repeat([0, 1], [12, 8])
    train, val = validation_split(labels, 0.2, np.random.default_rng(4), stratify=True)
    kept, held = split_rows(20, 4, np.random.default_rng(4), labels=labels, shuffle=False)
    assert np.array_equal(train, kept) and np.array_equal(val, held)
    assert np.bincount(labels[val]).tolist() == [2, 2]  # 2.4, 1.6: the spare to 1.6


def test_playground_split_is_split_rows_on_seed_plus_one():
    train, test = playground_split(50, 0.3, seed=7)
    kept, held = split_rows(50, 15, np.random.default_rng(8), shuffle=False)
    assert np.array_equal(train, kept) and np.array_equal(test, held)
