"""The grid: expansion as documented, and bad grids rejected before anything runs."""

from __future__ import annotations

import pytest

from handgrad.cli import main
from handgrad.sweep import GridError, load_grid, make_grid, parse_seeds, run_sweep

GOOD = """
[data]
name = "iris"

[grid]
hidden = [8, "16,8", [32]]
lr = [0.01, 0.1]
activation = "tanh"
epochs = 5
seeds = "0-2"
"""


def write(tmp_path, text, name="grid.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_toml_grid_expands_to_settings_times_seeds(tmp_path):
    grid = load_grid(write(tmp_path, GOOD))
    assert grid.data.source == "iris"
    assert grid.swept == ["hidden", "lr"]  # single values are held fixed, not swept
    assert grid.values["hidden"] == [[8], [16, 8], [32]]
    assert grid.seeds == [0, 1, 2]
    trials = grid.trials()
    assert len(trials) == 3 * 2 * 3
    first = trials[0].config
    assert first == {
        "activation": "tanh",
        "epochs": 5,
        "hidden": (8,),
        "lr": 0.01,
        "seed": 0,
    }
    # seeds vary fastest; every (setting, seed) pair appears exactly once
    assert [t.seed for t in trials[:4]] == [0, 1, 2, 0]
    assert len({t.key for t in trials}) == 18
    assert len({t.setting_key for t in trials}) == 6
    hidden_lr = {(tuple(t.config["hidden"]), t.config["lr"]) for t in trials}
    assert hidden_lr == {(h, lr) for h in [(8,), (16, 8), (32,)] for lr in (0.01, 0.1)}


def test_flags_and_toml_give_the_same_trials(tmp_path):
    from_file = load_grid(write(tmp_path, GOOD))
    from_values = make_grid(
        "iris",
        {"hidden": ["8", "16,8", "32"], "lr": [0.01, 0.1], "activation": ["tanh"], "epochs": [5]},
        seeds="0-2",
    )
    assert [t.key for t in from_file.trials()] == [t.key for t in from_values.trials()]


def test_flags_override_the_file(tmp_path):
    grid = load_grid(write(tmp_path, GOOD), {"lr": [0.5], "seeds": "4,7"})
    assert grid.values["lr"] == [0.5]
    assert grid.seeds == [4, 7]
    assert len(grid.trials()) == 3 * 1 * 2


def test_random_samples_are_a_seeded_subset():
    full = make_grid("iris", {"hidden": [4, 8, 16], "lr": [0.1, 0.01, 0.001]})
    a = make_grid("iris", {"hidden": [4, 8, 16], "lr": [0.1, 0.01, 0.001]}, samples=4)
    b = make_grid("iris", {"hidden": [4, 8, 16], "lr": [0.1, 0.01, 0.001]}, samples=4)
    c = make_grid(
        "iris", {"hidden": [4, 8, 16], "lr": [0.1, 0.01, 0.001]}, samples=4, sample_seed=1
    )
    assert len(a.settings()) == 4
    assert a.settings() == b.settings()  # same sample seed, same draw
    assert all(s in full.settings() for s in a.settings())
    assert a.settings() != c.settings()


@pytest.mark.parametrize(
    ("spec", "seeds"),
    [
        ("0-4", [0, 1, 2, 3, 4]),
        ("1,5,7", [1, 5, 7]),
        ("0-1,9", [0, 1, 9]),
        (3, [3]),
        ([2, 0], [2, 0]),
    ],
)
def test_seed_specs(spec, seeds):
    assert parse_seeds(spec) == seeds


BAD = [
    ("[grid]\nlr = [0.1]\nwidth = [3]\n", "unknown key 'width' in [grid]"),
    ('[grid]\nlr = [0.1, "fast"]\n', "lr must be a finite number > 0, got 'fast'"),
    ("[grid]\nepochs = [2.5]\n", "epochs must be an integer >= 1, got 2.5"),
    ("[grid]\nlr = []\n", "lr: the list of values is empty"),
    ("[grid]\nhidden = [[0]]\n", "hidden: each value is a list of positive widths"),
    (
        '[grid]\nactivation = ["relu", "swish"]\n',
        "activation must be one of 'relu', 'leaky_relu', 'tanh', 'sigmoid', got 'swish'",
    ),
    ("[grid]\nlr = [0.1]\nseeds = []\n", "seeds must be a non-empty list"),
    ('[grid]\nlr = [0.1]\nseeds = "0-x"\n', "seeds: cannot read '0-x'"),
    ("[grid]\nlr = [0.1, 0.1]\n", "lr: a value is listed twice"),
    ('[grid]\noptimizer = ["adam"]\nmomentum = [0.9]\n', "momentum applies to --optimizer sgd"),
    ("[grids]\nlr = [0.1]\n", "unknown table or key 'grids'"),
    ("[sample]\nn = 0\n[grid]\nlr = [0.1]\n", "sample.n must be an integer >= 1, got 0"),
    ("[grid]\nlr = [0.1\n", "is not valid TOML"),
]


@pytest.mark.parametrize(("body", "message"), BAD)
def test_bad_grid_files_are_rejected_before_anything_runs(tmp_path, body, message):
    path = write(tmp_path, '[data]\nname = "iris"\n' + body if "[data]" not in body else body)
    out = tmp_path / "out"
    with pytest.raises(GridError, match=message.replace("(", r"\(").replace("[", r"\[")):
        run_sweep(load_grid(path), out=out, scheduler="serial")
    assert not out.exists()


def test_data_table_is_required(tmp_path):
    with pytest.raises(GridError, match=r"no \[data\] table"):
        load_grid(write(tmp_path, "[grid]\nlr = [0.1]\n"))
    with pytest.raises(GridError, match="exactly one of name"):
        load_grid(write(tmp_path, '[data]\nname = "iris"\npath = "x.csv"\n'))


def test_cli_reports_a_bad_grid_in_one_line_and_runs_nothing(tmp_path, capsys):
    path = write(tmp_path, '[data]\nname = "iris"\n[grid]\nlr = [0.1]\nbatch = [3]\n')
    out = tmp_path / "out"
    code = main(["sweep", "--grid", str(path), "--out", str(out), "--serial"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("handgrad: error: ") and "unknown key 'batch' in [grid]" in err
    assert err.count("\n") == 1
    assert not out.exists()


def test_cli_flag_values_are_checked(tmp_path, capsys):
    code = main(["sweep", "--data", "iris", "--hidden", "8", "x", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "hidden: cannot read 'x'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_folder_holding_another_sweep_is_refused(tmp_path):
    out = tmp_path / "out"
    run_sweep({"hidden": [4], "epochs": 1}, data="iris", out=out, scheduler="serial", report=False)
    with pytest.raises(GridError, match="holds a sweep on other data"):
        run_sweep({"hidden": [4], "epochs": 1}, data="wine", out=out, scheduler="serial")


def test_unknown_setting_in_a_mapping():
    with pytest.raises(GridError, match="unknown setting 'width'"):
        make_grid("iris", {"width": [3]})


# grid files that once ended in a traceback (MemoryError, RecursionError, a ValueError from
# NumPy, minutes of checking): each is now one error line naming the file and the problem
HOSTILE = [
    ('[grid]\nlr = [0.1]\nseeds = "0-100000000000"\n', "makes more than 10000 seeds"),
    (
        "[grid]\nlr = [0.1, 0.2]\n[sample]\nn = 1\nseed = -1\n",
        "sample.seed must be an integer >= 0, got -1",
    ),
    ("[grid]\nhidden = " + "[" * 5000 + "]" * 5000 + "\n", "nest too deeply"),
    (
        f"[grid]\nhidden = {list(range(1, 1001))}\nlr = {[i / 1000 for i in range(1, 1001)]}\n",
        "1000000 combinations of settings; at most 100000",
    ),
]


@pytest.mark.parametrize(("body", "message"), HOSTILE, ids=["seeds", "sample-seed", "deep", "huge"])
def test_hostile_grid_files_are_one_error_line(tmp_path, capsys, body, message):
    path = write(tmp_path, '[data]\nname = "iris"\n' + body)
    out = tmp_path / "out"
    code = main(["sweep", "--grid", str(path), "--out", str(out), "--serial"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"handgrad: error: {path}") and message in err
    assert err.count("\n") == 1
    assert not out.exists()


SWEEP_ARGV = ["sweep", "--data", "iris", "--hidden", "4", "--epochs", "1", "--serial", "--quiet"]


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    """A one-trial sweep run to its end once; each test edits a copy of its folder."""
    out = tmp_path_factory.mktemp("finished") / "out"
    assert main([*SWEEP_ARGV, "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda r: [r], "a JSON list, not an object"),
        (lambda r: {k: v for k, v in r.items() if k != "scores"}, "no scores"),
        (lambda r: {**r, "status": 3}, "status 3 is not ok, failed or error"),
        (lambda r: {**r, "history": {"val_loss": "x"}}, "no history of validation losses"),
    ],
    ids=["list", "no-scores", "status", "history"],
)
def test_a_broken_record_is_one_error_line_naming_the_file(
    finished_sweep, tmp_path, capsys, edit, problem
):
    import json
    import shutil

    out = tmp_path / "out"
    shutil.copytree(finished_sweep, out)
    capsys.readouterr()
    (record,) = (out / "records").glob("*.json")
    record.write_text(json.dumps(edit(json.loads(record.read_text()))))
    assert main([*SWEEP_ARGV, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"handgrad: error: {record}: not a sweep record ({problem}")
    assert err.count("\n") == 1


def test_a_sweep_description_that_is_not_an_object_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "sweep.json").write_text("[1, 2]")
    with pytest.raises(GridError, match="is not a sweep's description"):
        run_sweep({"hidden": [4], "epochs": 1}, data="iris", out=out, scheduler="serial")
