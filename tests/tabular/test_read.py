"""Reading tables through pandas, and typing their columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from handgrad.tabular import DataError, read_table
from handgrad.tabular.read import column_kind, file_summary, profile_columns


def write(tmp_path, text: str, name: str = "t.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_any_delimiter_quoting_bom_and_blank_lines(tmp_path, sep):
    text = f'\ufeffa{sep} b {sep}label\n1.5{sep}-2{sep}"x{sep} y"\n\n3e2{sep} 4 {sep}z\n'
    frame = read_table(write(tmp_path, text))
    assert list(frame.columns) == ["a", "b", "label"]
    np.testing.assert_array_equal(frame["a"].to_numpy(), [1.5, 300.0])
    np.testing.assert_array_equal(frame["b"].to_numpy(), [-2, 4])
    assert frame["label"].tolist() == [f"x{sep} y", "z"]


@pytest.mark.parametrize("marker", ["", "NA", "N/A", "NaN", "null", "?", "None", "  "])
def test_usual_missing_markers_are_missing(tmp_path, marker):
    frame = read_table(write(tmp_path, f"x,y,c\n1,2,a\n3,{marker},b\n5,6,{marker}\n"))
    assert frame["y"].isna().tolist() == [False, True, False]
    assert frame["c"].isna().tolist() == [False, False, True]
    assert pd.api.types.is_numeric_dtype(frame["y"])


def test_latin1_file_is_read(tmp_path):
    frame = read_table(write(tmp_path, "name,v\nJosé,1\nZoë,2\n" * 3, encoding="cp1252"))
    assert frame["name"].tolist()[:2] == ["José", "Zoë"]


def test_excel_and_parquet(tmp_path):
    frame = pd.DataFrame({"n": [1.0, np.nan, 3.0], "c": ["a", None, "b"], "y": [0, 1, 0]})
    pytest.importorskip("openpyxl")
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    got = read_table(tmp_path / "t.xlsx")
    assert got["n"].isna().tolist() == [False, True, False]
    assert got["c"].tolist()[0] == "a" and pd.isna(got["c"].tolist()[1])
    pytest.importorskip("pyarrow")
    frame.to_parquet(tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.parquet"), frame)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "is empty"),
        ("\n\n", "is empty"),
        ("a,b\n", "has a header but no data rows"),
        ("a,b\n1,2,3,4\n5,6\n", "not a well-formed CSV table"),
        ("a,a\n1,2\n", "repeats the column name(s) 'a'"),
    ],
)
def test_malformed_files_are_named(tmp_path, text, message):
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_table(write(tmp_path, text))


def test_missing_directory_binary_and_damaged_files(tmp_path):
    with pytest.raises(DataError, match="data file not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a directory"):
        read_table(tmp_path)
    png = tmp_path / "picture.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(DataError, match="not a text table"):
        read_table(png)
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    pytest.importorskip("openpyxl")
    with pytest.raises(DataError, match="not a readable Excel file"):
        read_table(tmp_path / "broken.xlsx")


def test_file_summary_hashes_the_bytes(tmp_path):
    import hashlib

    path = write(tmp_path, "a,b\n1,2\n")
    info = file_summary(path)
    assert info["bytes"] == 8
    assert info["sha256"] == hashlib.sha256(b"a,b\n1,2\n").hexdigest()


def test_column_kinds():
    n = 40
    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),  # a running number
            "name": [f"person {i}" for i in range(n)],  # every text distinct
            "x": np.linspace(0, 1, n),  # all distinct too, but a real measurement
            "count": np.arange(n) % 4,
            "color": ["red", "green", None, "blue"] * 10,
            "flag": [True, False] * 20,
            "answer": ["yes", "no", "no", "yes"] * 10,
            "same": ["k"] * n,
            "empty": [None] * n,
        }
    )
    kinds = {c: column_kind(frame[c]) for c in frame.columns}
    assert kinds == {
        "id": "identifier",
        "name": "identifier",
        "x": "numeric",
        "count": "numeric",
        "color": "categorical",
        "flag": "boolean",
        "answer": "boolean",
        "same": "constant",
        "empty": "constant",
    }
    profiles = {p.name: p for p in profile_columns(frame, "count", None, ["x"])}
    assert profiles["count"].action == "target" and not profiles["count"].use
    assert profiles["x"].action.startswith("left out (--ignore")
    assert profiles["color"].use and profiles["color"].missing == 10
    assert profiles["color"].action == "one-hot, 3 values (+ 'missing' as a category: 10 rows)"
    assert profiles["id"].action == "left out: identifier-like (all 40 values distinct)"
    assert profiles["empty"].action == "left out: every cell is missing"
    assert [p.name for p in profiles.values() if p.use] == ["color", "flag", "answer"]


def test_a_missing_optional_reader_names_the_extra(tmp_path, monkeypatch):
    def no_pyarrow(*args, **kwargs):
        raise ImportError("Unable to find a usable engine; tried using: 'pyarrow'")

    monkeypatch.setattr(pd, "read_parquet", no_pyarrow)
    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    from handgrad.install import install_hint

    with pytest.raises(DataError, match=r"needs the optional package pyarrow: ") as caught:
        read_table(tmp_path / "t.parquet")
    # the command that fits this installation ('pip install -e ...[formats]' from a clone)
    assert str(caught.value).endswith(install_hint("formats"))
    assert "[formats]'" in install_hint("formats")
