"""CSV reading for `handgrad train` / `predict`: values, labels, and the errors users cause."""

from __future__ import annotations

import numpy as np
import pytest

from handgrad.data.tabular import DataError, encode_labels, infer_task, read_csv


def write(tmp_path, text: str, name: str = "t.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_reads_header_rows_and_numbers(tmp_path):
    path = write(
        tmp_path, '\ufeffa, b ,label\n1.5,-2,"x, y"\n\n3e2, 4 ,z\n', encoding="utf-8"
    )  # BOM, spaces, a quoted comma, a blank line
    table = read_csv(path)
    assert table.columns == ["a", "b", "label"]
    assert table.rows == [["1.5", "-2", "x, y"], ["3e2", "4", "z"]]
    assert table.lines == [2, 4]
    np.testing.assert_array_equal(table.numbers(["b", "a"]), [[-2.0, 1.5], [4.0, 300.0]])
    assert table.text("label") == ["x, y", "z"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "is empty"),
        ("\n\n", "is empty"),
        ("a,b\n", "has a header but no data rows"),
        ("a,b\n1,2,3\n", "line 2 has 3 fields but the header has 2"),
        ("a,a\n1,2\n", "repeats the column name(s) 'a'"),
        ("a,,c\n1,2,3\n", "column 2 of the header has no name"),
    ],
)
def test_malformed_files_are_named(tmp_path, text, message):
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_csv(write(tmp_path, text))


def test_missing_file_directory_and_binary(tmp_path):
    with pytest.raises(DataError, match="data file not found"):
        read_csv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a directory"):
        read_csv(tmp_path)
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"a,b\n\xff\xfe\x00\x01,2\n")
    with pytest.raises(DataError, match="not UTF-8 text"):
        read_csv(binary)


@pytest.mark.parametrize(
    "cell, message",
    [
        ("", "missing value on line 3 (an empty cell)"),
        ("NaN", "missing value on line 3 ('NaN')"),
        ("NA", "missing value on line 3 ('NA')"),
        ("inf", "non-finite value on line 3 ('inf')"),
        ("-Infinity", "non-finite value on line 3 ('-Infinity')"),
        ("abc", "non-numeric value on line 3: 'abc'"),
        ("1,5", None),  # quoted below: a decimal comma is text
    ],
)
def test_bad_cells_name_column_line_and_value(tmp_path, cell, message):
    if cell == "1,5":
        path = write(tmp_path, 'x,y\n1,2\n3,"1,5"\n')
        message = "column 'y' has a non-numeric value on line 3: '1,5'"
    else:
        path = write(tmp_path, f"x,y\n1,2\n3,{cell}\n")
    table = read_csv(path)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        table.numbers(["x", "y"])
    assert "column 'y'" in str(err.value)
    np.testing.assert_array_equal(table.numbers(["x"]).ravel(), [1.0, 3.0])


def test_unknown_column_lists_the_columns(tmp_path):
    table = read_csv(write(tmp_path, "alpha,beta\n1,2\n"))
    with pytest.raises(DataError, match="no column 'gamma'; the columns are: 'alpha', 'beta'"):
        table.numbers(["gamma"])


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
