"""The command line a learner expects: names they know, help for everything, honest output.

In-process through ``handgrad.cli.main`` where the output is what is tested; in a
subprocess where the way the command starts is (``python -m handgrad``).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import handgrad as hg
from handgrad.chapters import CHAPTERS, chapter
from handgrad.cli import build_parser, main
from handgrad.experiments import EXPERIMENTS

ROOT = Path(__file__).resolve().parents[1]


def user_error(capsys, argv: list[str]) -> str:
    """Run ``handgrad argv`` expecting a usage error: -> its one line on stderr."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors exit from inside parse_args
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("handgrad: error: "), err
    return err


# --- python -m handgrad ---------------------------------------------------------------------


def test_python_dash_m_handgrad_is_the_command():
    proc = subprocess.run(
        [sys.executable, "-m", "handgrad", "--version"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"handgrad {hg.__version__}"
    proc = subprocess.run(
        [sys.executable, "-m", "handgrad", "exercise", "list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "backprop" in proc.stdout


# --- did you mean ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, suggestion",
    [
        (["trian"], "did you mean 'train'?"),
        (["exercies", "list"], "did you mean 'exercise'?"),
        (["run", "sien"], "did you mean 'sine'?"),
        (["run", "linear-fti"], "did you mean 'linear-fit'?"),
        (["tour", "--out", "x", "--only", "xor,blbos"], "did you mean 'blobs'?"),
        (["exercise", "strat", "softmax"], "did you mean 'start'?"),
        (["exercise", "start", "backprp"], "did you mean 'backprop'?"),
        (["exercise", "check", "mine.py", "--name", "sofmax"], "did you mean 'softmax'?"),
        (["train", "--data", "iris", "--optimizer", "adma"], "did you mean 'adam'?"),
    ],
)
def test_a_misspelt_name_gets_the_nearest_one(capsys, tmp_path, monkeypatch, argv, suggestion):
    monkeypatch.chdir(tmp_path)
    err = user_error(capsys, argv)
    assert suggestion in err
    assert list(tmp_path.iterdir()) == []  # nothing written before the error


def test_a_name_far_from_every_choice_gets_no_guess(capsys):
    err = user_error(capsys, ["run", "zzzzzz"])
    assert "invalid choice: 'zzzzzz'" in err and "did you mean" not in err
    err = user_error(capsys, ["exercise", "start", "qqqqqqq"])
    assert "no exercise named 'qqqqqqq'" in err and "did you mean" not in err


# --- help: every command and option described, the course's own names ------------------------


def every_parser() -> list[tuple[str, argparse.ArgumentParser]]:
    """(command line, parser) for handgrad and each command and subcommand, depth first."""
    found = []

    def walk(prog: str, parser: argparse.ArgumentParser) -> None:
        found.append((prog, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(f"{prog} {name}", child)

    walk("handgrad", build_parser())
    return found


# names of the documents the course was written from: never shown to a learner
SOURCE_NAMES = re.compile(
    r"seed\s*#?\s*0\d\d|\bseed \d\b|stage\s*\d|\b00\d\s*[A-Z]\d|\bseeds'|seed section"
    r"|\bthe issue\b|\bissue\s*\d",
    re.IGNORECASE,
)


def test_the_helps_name_no_source_document():
    helps = {prog: parser.format_help() for prog, parser in every_parser()}
    assert len(helps) >= 12  # handgrad, its nine commands, the exercise actions
    for prog, text in helps.items():
        assert not SOURCE_NAMES.search(text), (prog, SOURCE_NAMES.search(text))
        # "seed" means a random seed: every use says so or is the --seed/--seeds option
        for line in text.splitlines():
            for match in re.finditer(r"\bseeds?\b", line, re.IGNORECASE):
                before = line[max(0, match.start() - 8) : match.start()]
                assert before.endswith(("random ", "--", "sample-")) or match.group().isupper(), (
                    prog,
                    line,
                )


def test_the_detector_finds_source_names():
    for text in ("seed 002's backprop", "Seed 001, Stage 7", "003 K1", "the seeds' pieces"):
        assert SOURCE_NAMES.search(text), text
    for text in ("random seed (default: 0)", "--seeds 0-2", "2 · Two layers are still linear"):
        assert not SOURCE_NAMES.search(text), text


def test_every_command_and_option_is_described_with_its_default():
    missing = []
    for prog, parser in every_parser():
        assert parser.description and len(parser.description.split()) >= 8, prog
        for action in parser._actions:
            if not action.option_strings or action.dest in ("help", "version"):
                continue
            assert action.help, (prog, action.option_strings)
            if isinstance(action, argparse._StoreTrueAction):
                continue  # a switch: off unless given
            # a value option names its default (or its absence) in its help, as shown
            shown = parser._get_formatter()._expand_help(action)
            if not (action.required or "default" in shown):
                missing.append(f"{prog} {action.option_strings[-1]}: {shown}")
    assert missing == []


def test_the_help_names_the_chapters():
    text = main_help()
    for ch in CHAPTERS:
        assert ch.heading in text and ch.key in text
    run_help = dict(every_parser())["handgrad run"].format_help()
    for key in EXPERIMENTS:
        line = next(ln for ln in run_help.splitlines() if ln.strip().startswith(key + " "))
        assert line.split(None, 1)[1].strip() == chapter(key).heading


def main_help() -> str:
    return build_parser().format_help()


# --- train: early stopping, class names, wide tables, progress --------------------------------


@pytest.fixture(scope="module")
def iris_early(tmp_path_factory) -> tuple[Path, str, str]:
    """`train --data iris` with a short patience: early stopping ends it."""
    out = tmp_path_factory.mktemp("runs") / "iris"
    argv = ["train", "--data", "iris", "--hidden", "8", "--epochs", "300", "--patience", "3"]
    argv += ["--lr", "0.1"]  # fast enough to overfit 90 rows within 300 epochs
    stdout, stderr = io.StringIO(), io.StringIO()
    with _redirect(stdout, stderr):
        assert main([*argv, "--out", str(out)]) == 0
    return out, stdout.getvalue(), stderr.getvalue()


class _redirect:
    def __init__(self, out, err):
        self.out, self.err = out, err

    def __enter__(self):
        self.saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = self.out, self.err

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self.saved


def test_early_stopping_is_named_when_it_ends_a_run(iris_early):
    out, stdout, _ = iris_early
    metrics = json.loads((out / "metrics.json").read_text())
    ran = int(re.search(r"(\d+)/300 epochs", stdout).group(1))
    assert ran < 300
    line = next(ln for ln in stdout.splitlines() if ln.startswith("stopped early"))
    best = int(re.search(r"weights of epoch (\d+)", line).group(1))
    assert line.startswith(
        f"stopped early at {ran}/300 epochs: validation loss did not improve for 3 epochs"
    )
    assert best == ran - 3  # the last improvement, three epochs before the stop
    assert metrics["stop_reason"] == "early_stopping" and metrics["epochs_run"] == ran
    assert best == metrics["best_val_epoch"] == np.argmin(metrics["history"]["val_loss"]) + 1


def test_the_early_stopping_line():
    from handgrad.cli.tabular import early_stopping_line

    history = hg.History(epoch_loss=[1.0] * 39, val_loss=[3.0, 2.0, 1.5, *[1.6] * 36])
    assert early_stopping_line(history, 100, 36) == ""  # ran out of epochs? no: no reason set
    history.stop_reason = "early_stopping"
    assert early_stopping_line(history, 100, 36) == (
        "stopped early at 39/100 epochs: validation loss did not improve for 36 epochs; the "
        "model keeps the weights of epoch 3, the best (--patience sets the wait, 0 turns early "
        "stopping off)"
    )
    history.stop_reason = "interrupted"
    assert early_stopping_line(history, 100, 36) == ""


def test_a_run_that_used_every_epoch_says_nothing_of_early_stopping(capsys, tmp_path):
    argv = ["train", "--data", "iris", "--hidden", "4", "--epochs", "3", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "3/3 epochs" in out and "stopped early" not in out


def test_the_data_sets_class_names_are_used(iris_early, capsys, tmp_path):
    out, stdout, _ = iris_early
    assert "(always predict the most common training class ('" in stdout
    rows = tmp_path / "rows.csv"
    names = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
    rows.write_text(",".join(names) + "\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n")
    assert main(["predict", "--model", str(out / "model.npz"), "--data", str(rows)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "prediction,p_setosa,p_versicolor,p_virginica"
    assert lines[1].split(",")[0] == "setosa" and lines[2].split(",")[0] == "virginica"


def test_builtin_class_names():
    from handgrad.data.datasets import builtin_class_names

    assert builtin_class_names("iris") == ["setosa", "versicolor", "virginica"]
    assert builtin_class_names("breast_cancer") == ["malignant", "benign"]
    assert builtin_class_names("digits") == [str(d) for d in range(10)]
    assert builtin_class_names("diabetes") is None
    with pytest.raises(ValueError, match="unknown built-in data set 'irsi'"):
        builtin_class_names("irsi")


def test_a_wide_table_gets_a_summary_of_its_columns():
    from handgrad.cli.tabular import MAX_COLUMN_LINES, column_lines
    from handgrad.tabular import load_dataset

    digits = column_lines(load_dataset("digits"))
    assert digits == [
        "64 columns, by kind and what is done with them:",
        "  64 numeric columns (pixel_0_0 ... pixel_7_7): standardize",
    ]
    iris = column_lines(load_dataset("iris"))  # a narrow table: a line per column
    assert len(iris) == 1 + 4 and iris[1].startswith("sepal length (cm)  numeric")
    assert MAX_COLUMN_LINES < 64


def test_a_wide_table_of_mixed_kinds_is_summarized_by_kind(tmp_path):
    import pandas as pd

    from handgrad.cli.tabular import column_lines
    from handgrad.tabular.dataset import dataset_from_frame

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=60) for i in range(25)})
    frame["colour"] = rng.choice(["red", "green", "blue"], size=60)
    frame.loc[:4, "x3"] = np.nan
    frame["y"] = rng.choice(["a", "b"], size=60)
    lines = column_lines(dataset_from_frame(frame, "y", None, [], "t.csv", None))
    assert lines[0] == "27 columns, by kind and what is done with them:"
    assert lines[1] == "  24 numeric columns (x0 ... x24): standardize"
    assert lines[2].startswith("  1 numeric column (x3, 5 missing cells): standardize, fill")
    assert lines[3] == "  1 categorical column (colour): one-hot, 3 values"
    assert lines[4] == "  1 categorical column (y): target"


def test_progress_lines_when_piped(iris_early):
    _, _, stderr = iris_early  # a StringIO: not a terminal
    lines = stderr.splitlines()
    assert "\r" not in stderr
    assert [ln.split()[1] for ln in lines] == [f"{k}/300" for k in range(1, len(lines) + 1)]
    assert all(re.search(r" val_loss \d", ln) for ln in lines)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_updates_in_place_on_a_terminal():
    stream = Terminal()
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 2)), rng.integers(0, 2, size=64).astype(float)
    model = hg.mlp([2, 4, 1], seed=0)
    hg.fit(
        model,
        hg.BCEWithLogitsLoss(),
        hg.SGD(model.parameters(), lr=0.1),
        X,
        y,
        epochs=5,
        batch_size=16,
        seed=0,
        callbacks=[hg.ProgressBar(stream)],
    )
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")  # one line, ended when training ends
    drawn = text.split("\r\x1b[K")[1:]  # every redraw clears the line first
    assert len(drawn) >= 5 and drawn[-1].startswith("epoch 5/5 [########################] loss ")


# --- exercises: the starter's check command -------------------------------------------------


def test_the_starters_check_command_honours_dir(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["exercise", "start", "softmax", "--dir", "my work"]) == 0
    said = capsys.readouterr().out
    target = Path("my work") / "softmax.py"
    command = f"handgrad exercise check {shlex.quote(str(target))}"
    assert said.strip().endswith(command)
    assert f"    {command}\n" in target.read_text()
    # the command works as written: it checks the (unfinished) file, no usage error
    assert main(shlex.split(command)[1:]) == 1
    assert "FAILED" in capsys.readouterr().out
    # started here, the command names the file alone
    assert main(["exercise", "start", "softmax"]) == 0
    assert "    handgrad exercise check softmax.py\n" in Path("softmax.py").read_text()


# --- docs: no internal wording --------------------------------------------------------------


def test_docs_use_no_internal_wording():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    wording = re.compile(r"\bthe issue\b|\bissue\s+\d+|\bissues? asks?\b", re.IGNORECASE)
    found = [
        f"{page.name}:{n}: {line.strip()}"
        for page in pages
        for n, line in enumerate(page.read_text().splitlines(), 1)
        if wording.search(line)
    ]
    assert found == []
