"""The `handgrad` console script, run as a user runs it: in a subprocess.

Success paths (train -> predict round trips, gradcheck, run, tour) and every bad-input path
(exit status 2, a one-line `handgrad: error: ...` naming the problem, no traceback). The
table of bad inputs, `demo` and `gradcheck` run in this process through ``handgrad.cli.main``
(what the script calls; the fast tests start the script twice, the slow ones for every
train and predict round trip), a few of the bad inputs through the script as well.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn import functional as F
from handgrad.nn.serialization import load_with_metadata


def _command() -> list[str]:
    script = Path(sys.executable).parent / "handgrad"
    if script.exists():
        return [str(script)]
    found = shutil.which("handgrad")
    return [found] if found else [sys.executable, "-m", "handgrad.cli"]


def handgrad(*args, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    return subprocess.run(
        [*_command(), *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def assert_user_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    """Exit status 2, one line on stderr starting `handgrad: error:`, naming the problem."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("handgrad: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def write_csv(path: Path, header: list[str], rows) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv_rows(path_or_text) -> tuple[list[str], list[list[str]]]:
    text = path_or_text.read_text() if isinstance(path_or_text, Path) else path_or_text
    rows = list(csv.reader(text.splitlines()))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """Small tables: 3 string classes, 2 string classes, a regression target."""
    d = tmp_path_factory.mktemp("tables")
    rng = np.random.default_rng(5)
    n = 150
    X = rng.normal(size=(n, 3))
    three = np.where(X[:, 0] > 0.4, "high", np.where(X[:, 1] > 0, "mid", "low"))
    write_csv(
        d / "three.csv",
        ["f1", "f2", "f3", "kind", "note"],
        [[*X[i].tolist(), three[i], f"row {i}"] for i in range(n)],
    )
    two = np.where(X[:, 0] + X[:, 2] > 0, "spam", "ham")
    # the target first and the features in another order: columns are found by name
    write_csv(
        d / "two.csv",
        ["label", "f3", "f1", "f2"],
        [[two[i], X[i, 2], X[i, 0], X[i, 1]] for i in range(n)],
    )
    y = 50 + 8 * X[:, 0] - 3 * X[:, 1] * X[:, 2] + 0.2 * rng.normal(size=n)
    write_csv(d / "reg.csv", ["f1", "f2", "f3", "score"], [[*X[i], y[i]] for i in range(n)])
    return d


def manual_predictions(model_path: Path, csv_path: Path):
    """hg.load + the stored preprocessing, by hand: labels and probabilities, or values."""
    model, meta = load_with_metadata(model_path)
    header, rows = read_csv_rows(csv_path)
    columns = meta["preprocessing"]["columns"]  # all numeric in these tables, none missing
    assert {c["kind"] for c in columns} == {"numeric"}
    cols = [header.index(c["name"]) for c in columns]
    X = np.array([[float(r[c]) for c in cols] for r in rows])
    Z = (X - np.array([c["mean"] for c in columns])) / np.array([c["scale"] for c in columns])
    out = model.forward(Z)
    if meta["task"] == "regression":
        t = meta["target_standardizer"]
        return out[:, 0] * t["scale"][0] + t["mean"][0], None, meta
    if out.shape[1] == 1:
        probs = np.column_stack([F.sigmoid(-out[:, 0]), F.sigmoid(out[:, 0])])
    else:
        probs = F.softmax(out, axis=1)
    return [meta["classes"][k] for k in probs.argmax(axis=1)], probs, meta


# --- train -> predict -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_run(data_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "three"
    proc = handgrad(
        "train", "--data", data_dir / "three.csv", "--target", "kind", "--features", "f1,f2,f3",
        "--hidden", "16,8", "--epochs", "40", "--batch-size", "16", "--seed", "3",
        "--out", out,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # not a terminal: a plain progress line per epoch on stderr, nothing rewritten in place
    lines = proc.stderr.splitlines()
    assert 1 <= len(lines) <= 40 and "\r" not in proc.stderr
    assert [ln.split()[1] for ln in lines] == [f"{k}/40" for k in range(1, len(lines) + 1)]
    assert all(" val_loss " in ln for ln in lines)
    assert "task: classification (inferred: the target holds text (3 distinct values)" in (
        proc.stdout
    )
    return out


@pytest.mark.slow
def test_train_classification_writes_the_run_folder(three_run):
    for name in ("config.json", "metrics.json", "model.npz", "loss.png", "metric.png",
                 "confusion.png", "report.md", "report.html"):  # fmt: skip
        assert (three_run / name).stat().st_size > 0, name
    config = json.loads((three_run / "config.json").read_text())
    assert config["layer_sizes"] == [3, 16, 8, 3] and config["classes"] == ["high", "low", "mid"]
    split = config["split"]
    assert sum(split.values()) == 150  # 60/20/20, each class split in those shares
    assert abs(split["val"] - 30) <= 2 and abs(split["test"] - 30) <= 2
    metrics = json.loads((three_run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > metrics["baseline"]["accuracy"] + 0.2
    assert metrics["train"]["accuracy"] > 0.85
    assert np.sum(metrics["test"]["confusion"]) == split["test"] == metrics["test"]["n"]
    assert len(metrics["history"]["epoch_loss"]) == 40
    report = (three_run / "report.md").read_text()
    for heading in ("## The data", "## Hyperparameters and how they were chosen",
                    "## Layers and neurons", "## How the data was split",
                    "## How the model was evaluated", "## Training and test results"):  # fmt: skip
        assert heading in report
    test = metrics["test"]
    assert f"| test | {test['n']} | {test['loss']:.4g} | {test['accuracy']:.4f} |" in report
    assert "Layer widths 3 → 16 → 8 → 3" in report
    assert f"{split['train']} training, {split['val']} validation and {split['test']} test" in (
        report
    )
    for link in (ln.split("](")[1][:-1] for ln in report.splitlines() if ln.startswith("![")):
        assert (three_run / link).exists()


@pytest.mark.slow
def test_predict_round_trip_classification(three_run, data_dir, tmp_path):
    proc = handgrad("predict", "--model", three_run / "model.npz", "--data", data_dir / "three.csv")
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv_rows(proc.stdout)
    assert header == ["prediction", "p_high", "p_low", "p_mid"]
    assert len(rows) == 150
    labels, probs, _ = manual_predictions(three_run / "model.npz", data_dir / "three.csv")
    assert [r[0] for r in rows] == labels
    got = np.array([[float(v) for v in r[1:]] for r in rows])
    np.testing.assert_allclose(got, probs, rtol=1e-12, atol=0)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-12)
    # the accuracy over all rows is the row-weighted mean of the three parts' accuracies
    metrics = json.loads((three_run / "metrics.json").read_text())
    _, raw = read_csv_rows(data_dir / "three.csv")
    overall = np.mean([r[0] == t[3] for r, t in zip(rows, raw)])
    parts = [metrics[k] for k in ("train", "val", "test")]
    assert overall == pytest.approx(sum(p["accuracy"] * p["n"] for p in parts) / 150, abs=1e-12)
    # --out writes the same text atomically
    out = tmp_path / "pred.csv"
    proc2 = handgrad(
        "predict", "--model", three_run / "model.npz", "--data", data_dir / "three.csv",
        "--out", out,
    )  # fmt: skip
    assert proc2.returncode == 0 and proc2.stdout == ""
    assert out.read_text() == proc.stdout
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


@pytest.mark.slow
def test_binary_string_labels_round_trip(data_dir, tmp_path):
    out = tmp_path / "two"
    proc = handgrad(
        "train", "--data", data_dir / "two.csv", "--target", "label", "--hidden", "8",
        "--activation", "tanh", "--optimizer", "sgd", "--momentum", "0.9", "--lr", "0.05",
        "--epochs", "30", "--l2", "1e-3", "--out", out,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    config = json.loads((out / "config.json").read_text())
    assert config["layer_sizes"] == [3, 8, 1]  # two classes: one logit
    assert config["features"] == ["f3", "f1", "f2"]
    # predict on a file with the feature columns in yet another order, without the target
    _, rows = read_csv_rows(data_dir / "two.csv")
    shuffled = write_csv(
        tmp_path / "new.csv", ["f2", "f1", "f3"], [[r[3], r[2], r[1]] for r in rows]
    )
    proc = handgrad("predict", "--model", out / "model.npz", "--data", shuffled)
    assert proc.returncode == 0, proc.stderr
    header, pred = read_csv_rows(proc.stdout)
    assert header == ["prediction", "p_ham", "p_spam"]
    labels, probs, _ = manual_predictions(out / "model.npz", shuffled)
    assert [r[0] for r in pred] == labels
    np.testing.assert_allclose([[float(v) for v in r[1:]] for r in pred], probs, rtol=1e-12)
    accuracy = np.mean([p[0] == r[0] for p, r in zip(pred, rows)])
    assert accuracy > 0.85


@pytest.mark.slow
def test_regression_round_trip(data_dir, tmp_path):
    out = tmp_path / "reg"
    proc = handgrad(
        "train", "--data", data_dir / "reg.csv", "--target", "score", "--hidden", "32",
        "--epochs", "60", "--patience", "10", "--out", out,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "task: regression (inferred: the target holds numbers with 150 distinct values" in (
        proc.stdout
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["r2"] > 0.8 and metrics["baseline"]["r2"] < 0.05
    assert metrics["test"]["mse"] < 0.25 * metrics["baseline"]["mse"]
    assert (out / "pred_vs_true.png").exists()
    proc = handgrad("predict", "--model", out / "model.npz", "--data", data_dir / "reg.csv")
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv_rows(proc.stdout)
    assert header == ["prediction"]
    values, _, meta = manual_predictions(out / "model.npz", data_dir / "reg.csv")
    np.testing.assert_allclose([float(r[0]) for r in rows], values, rtol=1e-12)
    # the MSE over all rows is the row-weighted mean of the parts' MSEs (original units)
    _, raw = read_csv_rows(data_dir / "reg.csv")
    mse = np.mean((np.array([float(r[0]) for r in rows]) - [float(r[3]) for r in raw]) ** 2)
    parts = [metrics[k] for k in ("train", "val", "test")]
    assert mse == pytest.approx(sum(p["mse"] * p["n"] for p in parts) / 150, rel=1e-9)
    assert meta["target"] == "score" and meta["task"] == "regression"


@pytest.mark.slow
def test_train_builtin_set(tmp_path):
    proc = handgrad(
        "train", "--data", "iris", "--hidden", "8", "--epochs", "30", "--out", tmp_path / "iris"
    )
    assert proc.returncode == 0, proc.stderr
    assert "task: classification (the task of the built-in data set 'iris')" in proc.stdout
    metrics = json.loads((tmp_path / "iris" / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.8
    meta = load_with_metadata(tmp_path / "iris" / "model.npz")[1]
    assert meta["feature_names"][0] == "sepal length (cm)"
    assert meta["classes"] == ["setosa", "versicolor", "virginica"]  # the set's own names


# --- bad input ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bad")
    (d / "empty.csv").write_text("")
    (d / "header_only.csv").write_text("a,b,y\n")
    (d / "text.csv").write_text("a,b,y\n1,2,x\n3,hello,y\n5,6,x\n")
    (d / "missing.csv").write_text("a,b,y\n1,2,x\n3,,y\n5,6,x\n")
    (d / "nan.csv").write_text("a,b,y\n1,2,x\n3,4,y\n5,NaN,x\n")
    (d / "one_class.csv").write_text("a,b,y\n1,2,x\n3,4,x\n5,6,x\n")
    (d / "ragged.csv").write_text("a,b,y\n1,2,x\n3,4,5,6\n")
    (d / "no_b.csv").write_text("a,y\n1,x\n")
    np.savez(d / "plain.npz", w=np.ones(3))
    hg.save(hg.mlp([2, 3, 1], seed=0), d / "bare_model.npz")
    (d / "notes.txt").write_text("not a model\n")
    return d


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["train", "--data", "{d}/nope.csv", "--target", "y"], ["data file not found", "nope.csv"]),
        (["train", "--data", "no_such_set", "--target", "y"], ["data file not found: no_such_set",
                                                               "built-in sets: digits"]),
        (["train", "--data", "{d}/empty.csv", "--target", "y"], ["empty.csv is empty"]),
        (["train", "--data", "{d}/header_only.csv", "--target", "y"], ["no data rows"]),
        (["train", "--data", "{d}/text.csv", "--target", "zz"], ["column 'zz' does not exist",
                                                                 "'a', 'b', 'y'"]),
        (["train", "--data", "{d}/text.csv", "--target", "Y"], ["did you mean 'y'?"]),
        (["train", "--data", "{d}/text.csv", "--target", "y"], ["3 usable row(s) are too few"]),
        (["train", "--data", "{d}/missing.csv", "--target", "y", "--drop-missing"],
         ["single class ('x')"]),  # the one 'y' row had a missing feature
        (["train", "--data", "{d}/one_class.csv", "--target", "y"], ["single class ('x')"]),
        (["train", "--data", "{d}/ragged.csv", "--target", "y"], ["not a well-formed CSV",
                                                                  "line 3"]),
        (["train", "--data", "{d}/text.csv"], ["--target COLUMN is required"]),
        (["train", "--data", "{d}/one_class.csv", "--target", "y", "--task", "regression"],
         ["needs numbers for regression", "3 row(s) hold other values (first: 'x')"]),
        (["train", "--data", "{d}/one_class.csv", "--target", "y", "--test-fraction", "0.6",
          "--val-fraction", "0.4"], ["leave no rows for training"]),
        (["train", "--data", "{d}/one_class.csv", "--target", "y", "--hidden", "4,x"],
         ["--hidden takes comma-separated layer widths"]),
        (["train", "--data", "iris", "--target", "species"], ["built-in 'iris' has its own"]),
        (["train", "--data", "iris", "--optimizer", "lbfgs"], ["invalid choice: 'lbfgs'"]),
        (["train", "--data", "iris", "--epochs", "0"], ["--epochs", "integer >= 1"]),
        (["predict", "--model", "{d}/nope.npz", "--data", "{d}/text.csv"],
         ["model file not found"]),
        (["predict", "--model", "{d}/notes.txt", "--data", "{d}/text.csv"],
         ["cannot load model from", "notes.txt"]),
        (["predict", "--model", "{d}/plain.npz", "--data", "{d}/text.csv"],
         ["not a handgrad model file"]),
        (["predict", "--model", "{d}/bare_model.npz", "--data", "{d}/text.csv"],
         ["not written by `handgrad train`"]),
        (["run", "no-such-experiment"], ["invalid choice: 'no-such-experiment'"]),
        (["run", "xor", "--mnist", "{d}/x.npz"], ["--mnist applies to the mnist experiment"]),
        (["run", "mnist", "--mnist", "{d}/x.npz"], ["MNIST file not found"]),
        (["frobnicate"], ["invalid choice: 'frobnicate'"]),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2(bad_files, args, fragments, cli_here):
    """In this process (a subprocess per case cost 25 interpreter starts and pandas imports
    for the same lines); the script itself: the test below."""
    argv = [a.replace("{d}", str(bad_files)) for a in args]
    assert_user_error(cli_here(*argv), *fragments)


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["train", "--data", "{d}/ragged.csv", "--target", "y"], ["not a well-formed CSV"]),
        (["train", "--data", "iris", "--epochs", "0"], ["--epochs", "integer >= 1"]),
    ],
)
def test_bad_input_from_the_console_script_is_one_line_exit_2(bad_files, args, fragments):
    """The installed script, in a process of its own: a data error and an option's error
    end the process with status 2 and one line, as in this process above."""
    proc = handgrad(*(a.replace("{d}", str(bad_files)) for a in args))
    assert_user_error(proc, *fragments)


@pytest.mark.slow
def test_predict_bad_data(three_run, bad_files, tmp_path, cli_here):
    model = three_run / "model.npz"
    assert_user_error(
        cli_here("predict", "--model", model, "--data", bad_files / "no_b.csv"),
        "no_b.csv lacks 3 of the model's feature column(s): 'f1', 'f2', 'f3'",
    )
    rows = [["1", "2", "oops"], ["3", "4", "5"]]
    assert_user_error(
        cli_here("predict", "--model", model, "--data", write_csv(tmp_path / "x.csv",
                                                                  ["f1", "f2", "f3"], rows)),
        "numeric column 'f3' holds text in 1 row(s) (first at row 0: 'oops')",
    )  # fmt: skip
    assert_user_error(
        cli_here("predict", "--model", model, "--data", bad_files / "header_only.csv"),
        "no data rows",
    )
    out = tmp_path / "never.csv"
    proc = cli_here("predict", "--model", model, "--data", bad_files / "empty.csv", "--out", out)
    assert_user_error(proc, "empty.csv is empty")
    assert not out.exists()


# --- gradcheck, run, tour -------------------------------------------------------------------


def test_gradcheck_prints_a_table_per_activation_and_loss(cli_here):
    proc = cli_here("gradcheck", "--seed", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for act in ("relu", "leaky_relu", "tanh", "sigmoid"):
        for loss in ("MSELoss", "BCEWithLogitsLoss", "SoftmaxCrossEntropyLoss"):
            assert f"== {act}, layers 4-5-4-" in proc.stdout and f", {loss}, batch 6" in proc.stdout
    assert proc.stdout.count("PASSED: all ") == 12
    assert "12/12 gradient checks passed" in proc.stdout
    worst = float(proc.stdout.rsplit("worst relative error ", 1)[1].split()[0])
    assert worst < 1e-7


@pytest.mark.slow
def test_help_is_written_for_users(cli_here):
    proc = handgrad("--help")
    assert proc.returncode == 0
    first = proc.stdout.split("\n\n")[1]  # the paragraph after the usage line
    assert first.startswith("handgrad: neural networks from first principles")
    assert "Thin" not in proc.stdout and "argument parsing" not in proc.stdout
    for command in ("demo", "run", "tour", "gradcheck"):  # the same parser, in this process
        sub = cli_here(command, "--help")
        assert sub.returncode == 0
        description = sub.stdout.split("\n\n")[1]
        assert len(description.split()) > 10, (command, description)
        assert "(default: 0)" in sub.stdout  # --seed shows its default
    assert "(default: runs)" in cli_here("run", "--help").stdout


def test_demo_still_runs(cli_here):
    proc = cli_here("demo")
    assert proc.returncode == 0, proc.stderr
    accuracy = float(proc.stdout.rsplit("final held-out accuracy: ", 1)[1].split("%")[0])
    assert accuracy > 90


def _no_nan_or_inf(token: str):
    raise AssertionError(f"non-standard JSON token {token}")


@pytest.mark.slow
def test_diverged_training_still_writes_the_run_and_exits_1(data_dir, tmp_path):
    out = tmp_path / "div"
    proc = handgrad(
        "train", "--data", data_dir / "reg.csv", "--target", "score", "--optimizer", "sgd",
        "--lr", "5", "--epochs", "5", "--out", out,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    # the progress line of the epoch it diverged in, then the error
    assert proc.stderr.splitlines()[0].startswith("epoch 1/5  loss ")
    assert proc.stderr.splitlines()[-1].startswith("handgrad: error: training diverged at epoch ")
    assert "Try a smaller learning rate (now 5)" in proc.stderr
    metrics = json.loads((out / "metrics.json").read_text(), parse_constant=_no_nan_or_inf)
    assert metrics["stop_reason"] == "diverged"
    assert "**Training diverged**" in (out / "report.md").read_text()
    assert (out / "model.npz").exists()


@pytest.mark.slow
def test_predict_out_must_be_a_file(three_run, data_dir, tmp_path):
    proc = handgrad(
        "predict", "--model", three_run / "model.npz", "--data", data_dir / "three.csv",
        "--out", tmp_path,
    )  # fmt: skip
    assert_user_error(proc, "is a directory; give a file name")


@pytest.mark.slow
def test_run_and_tour_real_experiment_quick(tmp_path):
    proc = handgrad("run", "linear-fit", "--quick", "--seed", "2", "--out", tmp_path / "runs")
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "runs" / "linear-fit"
    assert f"results in {folder}/" in proc.stdout
    payload = json.loads((folder / "metrics.json").read_text())
    assert payload["seed"] == 2 and payload["quick"] is True
    for fig in payload["figures"]:
        assert (folder / fig["path"]).exists()
    # its own report, the same self-contained HTML as the tour's
    assert f"report: {folder / 'report.md'}" in proc.stdout
    one = (folder / "report.html").read_text()
    # a figure is one inlined PNG, or one row of its panels cut apart (for narrow screens)
    shown = one.count('<img src="data:image/png;base64,') + one.count('<span class="panel-row"')
    assert shown == len(payload["figures"])
    assert '<nav class="side"' in one and 'id="figure-1-1"' in one

    proc = handgrad(
        "tour", "--quick", "--only", "linear-fit", "--seed", "2", "--out", tmp_path / "t"
    )
    assert proc.returncode == 0, proc.stderr
    # not a terminal: plain progress lines, one as the chapter starts and one as it ends
    assert proc.stderr.splitlines()[0] == "[1/1] 1 · A line by gradient descent ..."
    assert proc.stderr.splitlines()[1].startswith("[1/1] 1 · A line by gradient descent: ok, ")
    assert f"report: {tmp_path / 't' / 'report.md'}" in proc.stdout
    md = (tmp_path / "t" / "report.md").read_text()
    # the chapter's heading carries its own number
    assert f"## {payload['title']}" in md and "| seed | 2 |" in md
    section = (tmp_path / "t" / "linear-fit" / "section.md").read_text().splitlines()
    assert section[4] in md  # the section's first body line
    links = [ln.split("](")[1][:-1] for ln in md.splitlines() if ln.startswith("![")]
    assert len(links) == len(payload["figures"]) > 0
    page = (tmp_path / "t" / "report.html").read_text()
    shown = page.count('<img src="data:image/png;base64,') + page.count('<span class="panel-row"')
    assert shown == len(links)
    assert 'src="http' not in page
