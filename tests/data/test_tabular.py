"""Targets of user tables: the task a target implies, and class labels <-> codes.

Reading whole tables is tested in tests/tabular/test_read.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from handgrad.data.tabular import DataError, encode_labels, infer_task


@pytest.mark.parametrize(
    "cells, task",
    [
        (["a", "b", "a", "c"], "classification"),
        (["0", "1", "1", "0", "1", "0"], "classification"),
        (["1.0", "2.0", "1.0", "2.0"], "classification"),  # integer-valued floats
        (["0.5", "1.5", "0.5", "1.5"], "regression"),  # not integers
        ([str(i) for i in range(40)], "regression"),  # every value distinct
        ([str(i % 25) for i in range(200)], "regression"),  # more than 20 distinct
        ([str(i % 20) for i in range(200)], "classification"),
    ],
)
def test_infer_task(cells, task):
    got, reason = infer_task(cells)
    assert got == task
    assert "distinct" in reason


def test_encode_text_labels_sorted():
    codes, classes = encode_labels(["dog", "cat", "dog", "emu"])
    assert classes == ["cat", "dog", "emu"]
    np.testing.assert_array_equal(codes, [1, 0, 1, 2])
    assert codes.dtype == np.int64


def test_encode_numeric_labels_as_numbers():
    codes, classes = encode_labels(["10", "9", "1.0", "1", "9"])
    assert classes == ["1", "9", "10"]  # numeric order, "1" and "1.0" are one class
    np.testing.assert_array_equal(codes, [2, 1, 0, 0, 1])
    _, classes = encode_labels(["0.5", "-2", "0.5"])
    assert classes == ["-2", "0.5"]


def test_encode_rejects_one_class_and_missing_labels():
    with pytest.raises(DataError, match="single class \\('x'\\); classification needs at least"):
        encode_labels(["x", "x", "x"], "kind")
    with pytest.raises(DataError, match="target column 'kind' has a missing label on line 7"):
        encode_labels(["x", "", "y"], "kind", lines=[2, 7, 9])
