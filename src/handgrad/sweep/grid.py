"""The sweep's grid: read it (TOML file or flags), check it, expand it into trials.

A grid names, for each setting of ``handgrad train``, the values to try. The trials are the
Cartesian product of those lists times the seeds (or ``samples`` of them drawn at random,
seeded). Every value is checked before anything runs, so a typo in the grid file costs
nothing but an error message::

    [data]
    name = "digits"            # a built-in set, or: path = "table.csv", target = "label"

    [grid]
    hidden = [32, 64, "64,32"]  # each value: one width, a list [64, 32], or "64,32"
    lr = [0.003, 0.01]
    epochs = 40                # a single value: held fixed
    seeds = "0-4"              # or [0, 1, 2, 3, 4]

    [sample]                   # optional: a random subset of the settings
    n = 4
    seed = 0
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..nn.constraints import Constraint, Integer, Options, Real, check

__all__ = [
    "GridError",
    "SETTINGS",
    "FIXED",
    "DataSpec",
    "Grid",
    "Trial",
    "load_grid",
    "make_grid",
    "parse_seeds",
    "parse_hidden",
]


class GridError(ValueError):
    """A grid that cannot run (unknown key, wrong type, empty list, impossible value)."""


# the swept settings (TrainConfig's field names) and what each value is
SETTINGS: dict[str, str] = {
    "hidden": "hidden layer widths per value: 64, [64, 32] or '64,32' ('none': a linear model)",
    "activation": "activation name (relu, tanh, sigmoid, leaky_relu)",
    "optimizer": "adam, sgd or rmsprop",
    "lr": "learning rate, a positive number",
    "momentum": "SGD momentum in [0, 1)",
    "batch_size": "minibatch size, an integer >= 1",
    "l2": "L2 penalty λ >= 0",
    "epochs": "number of epochs, an integer >= 1",
    "patience": "early-stopping patience in epochs (0: off)",
}
# settings held fixed for the whole sweep (one value each)
FIXED: dict[str, str] = {
    "val_fraction": "share of the rows held out for validation (the ranking score), in (0, 1)",
    "test_fraction": "share of the rows held out for the test, in (0, 1)",
    "task": "classification or regression (default: the data's own, or inferred)",
}
# what each numeric value may be (the command line's flags read these too)
VALUES: dict[str, Constraint] = {
    "lr": Real(0.0, low_open=True),
    "momentum": Real(0.0, 1.0, high_open=True),
    "batch_size": Integer(1),
    "l2": Real(0.0),
    "epochs": Integer(1),
    "patience": Integer(0),
    "val_fraction": Real(0.0, 1.0, low_open=True, high_open=True),
    "test_fraction": Real(0.0, 1.0, low_open=True, high_open=True),
    "task": Options("classification", "regression"),
    "sample.n": Integer(1),
    "sample.seed": Integer(0),
}
MAX_SEEDS = 10_000  # seeds in one sweep
MAX_SETTINGS = 100_000  # combinations in one grid (before sampling): each is checked
_DATA_KEYS = ("name", "path", "target", "features")
_SAMPLE_KEYS = ("n", "seed")
_TOP_KEYS = ("data", "grid", "sample")


@dataclass(frozen=True)
class DataSpec:
    """Where the rows come from: a built-in set's name or a CSV path (+ target, features)."""

    source: str
    target: str | None = None
    features: tuple[str, ...] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "features": None if self.features is None else list(self.features),
        }


@dataclass(frozen=True)
class Trial:
    """One training: a setting (swept values + fixed values) and a seed."""

    settings: tuple[tuple[str, Any], ...]  # sorted (name, value) pairs, values JSON-ready
    seed: int

    @property
    def config(self) -> dict[str, Any]:
        """The keyword arguments of TrainConfig for this trial."""
        kwargs = dict(self.settings)
        if "hidden" in kwargs:
            kwargs["hidden"] = tuple(kwargs["hidden"])
        if kwargs.get("patience") == 0:
            kwargs["patience"] = None
        kwargs["seed"] = self.seed
        return kwargs

    @property
    def setting_key(self) -> str:
        """Identifies the setting whatever the seed: trials of one setting share it."""
        return _digest(dict(self.settings))

    @property
    def key(self) -> str:
        """Identifies the trial: the name of its record file."""
        return f"{self.setting_key}-s{self.seed}"


@dataclass
class Grid:
    """The swept values per setting, the fixed values, the seeds and the data."""

    data: DataSpec
    values: dict[str, list[Any]]  # setting -> the values tried (one value: held fixed)
    seeds: list[int]
    fixed: dict[str, Any] = field(default_factory=dict)
    samples: int | None = None
    sample_seed: int = 0

    @property
    def swept(self) -> list[str]:
        """The settings with more than one value, in the order of SETTINGS."""
        return [k for k in SETTINGS if len(self.values.get(k, [])) > 1]

    def settings(self) -> list[tuple[tuple[str, Any], ...]]:
        """Every setting of the grid (or the random sample of them), in a fixed order."""
        names = [k for k in SETTINGS if k in self.values]
        combos = [
            tuple(sorted({**self.fixed, **dict(zip(names, combo))}.items()))
            for combo in itertools.product(*(self.values[k] for k in names))
        ]
        if self.samples is not None and self.samples < len(combos):
            rng = np.random.default_rng(self.sample_seed)
            chosen = np.sort(rng.choice(len(combos), size=self.samples, replace=False))
            combos = [combos[i] for i in chosen]
        return combos

    def trials(self) -> list[Trial]:
        """Settings x seeds: every training of the sweep, seeds varying fastest."""
        return [Trial(s, seed) for s in self.settings() for seed in self.seeds]

    def as_dict(self) -> dict[str, Any]:
        return {
            "data": self.data.as_dict(),
            "grid": {k: self.values[k] for k in SETTINGS if k in self.values},
            "fixed": self.fixed,
            "seeds": self.seeds,
            "samples": self.samples,
            "sample_seed": self.sample_seed,
        }


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# --- values -----------------------------------------------------------------------------------


def parse_seeds(spec: Any) -> list[int]:
    """'0-4' -> [0, 1, 2, 3, 4]; '1,5,7' or [1, 5, 7] -> [1, 5, 7]; 3 -> [3]."""
    if isinstance(spec, bool):
        raise GridError(f"seeds must be integers or a range like '0-4', got {spec!r}")
    if isinstance(spec, int):
        return [spec]
    if isinstance(spec, str):
        seeds: list[int] = []
        for part in spec.replace(" ", "").split(","):
            lo, sep, hi = part.partition("-")
            try:
                first, last = int(lo), int(hi) if sep else int(lo)
            except ValueError:
                raise GridError(f"seeds: cannot read {part!r}; write '0-4' or '1,5,7'") from None
            if last - first + 1 + len(seeds) > MAX_SEEDS:
                raise GridError(f"seeds: {part!r} makes more than {MAX_SEEDS} seeds")
            seeds += list(range(first, last + 1))
        spec = seeds
    if not isinstance(spec, list) or not spec:
        raise GridError(f"seeds must be a non-empty list or a range like '0-4', got {spec!r}")
    if len(spec) > MAX_SEEDS:
        raise GridError(f"seeds: {len(spec)} seeds; at most {MAX_SEEDS}")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in spec):
        raise GridError(f"seeds must be integers >= 0, got {spec!r}")
    if len(set(spec)) != len(spec):
        raise GridError(f"seeds: a seed is listed twice in {spec!r}")
    return list(spec)


def parse_hidden(value: Any) -> list[int]:
    """One value of ``hidden``: [64, 32], 64, '64,32' or 'none' -> a list of widths."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("", "none"):
            return []
        try:
            value = [int(part) for part in text.split(",")]
        except ValueError:
            raise GridError(f"hidden: cannot read {value!r}; write widths like '64,32'") from None
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(w, int) and not isinstance(w, bool) and w >= 1 for w in value
    ):
        raise GridError(f"hidden: each value is a list of positive widths, got {value!r}")
    return value


def _checked(name: str, value: Any, constraint: Constraint | tuple[Constraint, ...]) -> Any:
    """``value`` checked by ``constraint`` (see VALUES), or a GridError naming ``name``."""
    return check(value, constraint, name, error=GridError)


def _check_value(name: str, value: Any) -> Any:
    """One value of a swept setting, checked and made canonical (JSON-ready)."""
    from ._pipeline import ACTIVATIONS, OPTIMIZERS

    if name == "hidden":
        return parse_hidden(value)
    if name == "activation":
        return _checked(name, value, Options(*(a for a in ACTIVATIONS if a != "identity")))
    if name == "optimizer":
        return _checked(name, value, Options(*OPTIMIZERS))
    return _checked(name, value, VALUES[name])


def _values(name: str, raw: Any) -> list[Any]:
    """The list of values of one setting; a single value means a list of one."""
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise GridError(f"{name}: the list of values is empty; give at least one value")
    checked = [_check_value(name, v) for v in items]
    if len({json.dumps(v) for v in checked}) != len(checked):
        raise GridError(f"{name}: a value is listed twice in {raw!r}")
    return checked


def _check_fixed(name: str, value: Any) -> Any:
    return _checked(name, value, VALUES[name])


# --- building a grid ----------------------------------------------------------------------


def make_grid(
    data: str | DataSpec,
    grid: Mapping[str, Any],
    *,
    seeds: Any = 0,
    samples: int | None = None,
    sample_seed: int = 0,
) -> Grid:
    """A checked Grid from plain values: ``grid`` maps settings (and fixed keys) to values.

    ``data``: a built-in name or a CSV path (then a DataSpec carries target and features).
    ``grid`` may hold ``seeds`` too (it wins over the ``seeds`` argument). Raises GridError
    naming the first problem; nothing runs before every value is checked.
    """
    spec = data if isinstance(data, DataSpec) else DataSpec(str(data))
    values: dict[str, list[Any]] = {}
    fixed: dict[str, Any] = {}
    for name, raw in grid.items():
        if name == "seeds":
            seeds = raw
        elif name in SETTINGS:
            values[name] = _values(name, raw)
        elif name in FIXED:
            fixed[name] = _check_fixed(name, raw)
        else:
            known = ", ".join([*SETTINGS, *FIXED, "seeds"])
            raise GridError(f"unknown setting {name!r} in the grid; known: {known}")
    if samples is not None:
        samples = _checked("sample.n", samples, VALUES["sample.n"])
    sample_seed = _checked("sample.seed", sample_seed, VALUES["sample.seed"])
    combinations = math.prod(len(v) for v in values.values())
    if combinations > MAX_SETTINGS:
        raise GridError(
            f"the grid has {combinations} combinations of settings; at most {MAX_SETTINGS} "
            "(sample.n draws a subset, but from at most that many)"
        )
    result = Grid(spec, values, parse_seeds(seeds), fixed, samples, sample_seed)
    _check_combinations(result)
    return result


def _check_combinations(grid: Grid) -> None:
    """Settings that are fine alone but impossible together (caught before anything runs)."""
    from ._pipeline import ConfigError, TrainConfig

    for setting in grid.settings():
        try:
            TrainConfig(**Trial(setting, grid.seeds[0]).config).validate()
        except ConfigError as exc:
            shown = ", ".join(f"{k}={v}" for k, v in setting)
            raise GridError(f"impossible setting ({shown}): {exc}") from None


def load_grid(
    path: str | Path, overrides: Mapping[str, Any] | None = None, data: DataSpec | None = None
) -> Grid:
    """Read a TOML grid file (module docstring); ``overrides`` replace its grid entries and
    ``data`` its [data] table."""
    path = Path(path)
    if not path.is_file():
        raise GridError(f"grid file not found: {path}")
    try:
        import tomllib  # type: ignore[import-not-found, unused-ignore]
    except ModuleNotFoundError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GridError(f"{path} cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise GridError(f"{path} is not valid TOML: {exc}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GridError(f"{path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise GridError(f"{path} is not a grid: its arrays or tables nest too deeply") from None
    if data is not None:
        doc = {**doc, "data": {"name": data.source}}
        if data.target is not None:
            doc["data"]["target"] = data.target
        if data.features is not None:
            doc["data"]["features"] = list(data.features)
    return grid_from_document(doc, overrides, where=str(path))


def grid_from_document(
    doc: Mapping[str, Any], overrides: Mapping[str, Any] | None = None, *, where: str = "grid"
) -> Grid:
    """A Grid from the parsed TOML document (tables data, grid, sample)."""
    for key in doc:
        if key not in _TOP_KEYS:
            raise GridError(f"{where}: unknown table or key {key!r}; known: {', '.join(_TOP_KEYS)}")
    data = _section(doc, "data", _DATA_KEYS, where)
    grid = dict(_section(doc, "grid", (*SETTINGS, *FIXED, "seeds"), where))
    sample = _section(doc, "sample", _SAMPLE_KEYS, where)
    grid.update(overrides or {})
    spec = _data_spec(data, where)
    try:
        return make_grid(
            spec,
            grid,
            seeds=grid.pop("seeds", 0),
            samples=sample.get("n"),
            sample_seed=sample.get("seed", 0),
        )
    except GridError as exc:
        raise GridError(f"{where}: {exc}") from None


def _section(doc: Mapping[str, Any], name: str, known: Sequence[str], where: str) -> dict:
    table = doc.get(name, {})
    if not isinstance(table, dict):
        raise GridError(f"{where}: [{name}] must be a table, got {table!r}")
    for key in table:
        if key not in known:
            raise GridError(f"{where}: unknown key {key!r} in [{name}]; known: {', '.join(known)}")
    return table


def _data_spec(data: Mapping[str, Any], where: str) -> DataSpec:
    if not data:
        raise GridError(f"{where}: no [data] table; give one (or --data)")
    if ("name" in data) == ("path" in data):
        raise GridError(f"{where}: [data] needs exactly one of name (a built-in set) or path")
    for key in ("name", "path", "target"):
        if key in data and not isinstance(data[key], str):
            raise GridError(f"{where}: data.{key} must be a string, got {data[key]!r}")
    features = data.get("features")
    if features is not None and not (
        isinstance(features, list) and features and all(isinstance(f, str) for f in features)
    ):
        raise GridError(f"{where}: data.features must be a non-empty list of column names")
    return DataSpec(
        data.get("name") or data["path"],
        data.get("target"),
        None if features is None else tuple(features),
    )
