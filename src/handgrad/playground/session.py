"""One learner's playground: the data, the network, the trainer, and what a frame shows.

A ``Session`` belongs to one browser tab. Its state changes only through ``configure``
(validated first: a bad setting leaves the session as it was), ``advance`` (training steps
then a frame), ``step`` (one minibatch, taken apart by the inspector), ``gradient_check``
and ``reset``. A lock serializes them, because training runs in a worker thread while the
page may ask for an export.

A frame (JSON) holds the scores on the train and test parts, the decision regions (or the
fitted curve) over a grid, what each hidden unit computes over that grid, the gradient norm
of each layer's weights, the fraction of dead ReLUs per layer, and the weights themselves.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import fields, replace

import numpy as np

import handgrad as hg

from ..data.tabular import DataError
from ..metrics import accuracy, r2_score
from ..nn.constraints import Integer, Real, check
from . import data as pdata
from .inspector import check_gradients, inspect_step
from .network import MAX_UNITS, TWEAKS, NetSpec, Trainer
from .pictures import (
    COARSE,
    CURVE_POINTS,
    GRID,
    UNIT_GRID,
    all_finite,
    dead_fractions,
    normalize,
    pictures,
    to_bytes,
)

__all__ = ["Session", "ConfigError", "GRID", "UNIT_GRID"]

MAX_STEPS_PER_FRAME = 200
WEIGHT = Real(-100.0, 100.0)  # what a weight may be set to from the page
CSV_KEYS = {"target", "features", "plane"}  # data settings that only an uploaded table uses


class ConfigError(ValueError):
    """A setting the page sent that cannot work (the message names it)."""


def _spec_from(cls, values: dict, what: str):
    """Build a dataclass from a JSON object, refusing unknown keys and wrong types."""
    if not isinstance(values, dict):
        raise ConfigError(f"{what} settings must be a JSON object")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"unknown {what} setting(s): {', '.join(unknown)}")
    spec = cls(**values)
    for f in fields(cls):
        value, default = getattr(spec, f.name), getattr(cls(), f.name)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            setattr(spec, f.name, float(value))
        elif type(value) is not type(default):
            raise ConfigError(f"{what} setting {f.name!r} has the wrong type: {value!r}")
    try:
        spec.validate()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return spec


class Session:
    """A tab's data, network and training state (see the module docstring).

    ``log``: what changed during the run since its last reset, as ``{"step": s, ...}``
    records in order (setting tweaks and edited weights); the exported script replays it.
    ``stopping``: set when the server shuts down; training checks it before every step.
    """

    def __init__(self, session_id: str, stopping: threading.Event | None = None):
        self.id = session_id
        self.lock = threading.Lock()
        self.stopping = stopping or threading.Event()
        self.upload: pdata.UploadedTable | None = None
        self.data_settings: dict = {}
        self.data_spec = pdata.DataSpec()
        self.net_spec = NetSpec()
        self.steps_per_frame = 5
        self.playing = False
        self.data = pdata.generated(self.data_spec)
        self.trainer = Trainer(self.net_spec, self.data)
        self.log: list[dict] = []
        self.start_data, self.start_net = self.data_spec, self.net_spec  # at the last reset
        self._set_view()

    # --- settings ---------------------------------------------------------------------------

    def configure(self, message: dict) -> dict:
        """New settings, validated in full before anything changes.

        ``message["data"]`` / ``message["network"]``: the full settings (a key left out takes
        its default); either may be omitted to keep the current ones. Settings in
        ``RESETTING`` start a fresh run; the others (learning rate, optimizer, L1/L2, batch
        size, steps per frame, noise) change the running training where it stands.
        Returns ``{"reset": bool, "changes": {name: value}}`` (the tweaks applied).
        """
        data_values = message.get("data", self.data_settings)
        if not isinstance(data_values, dict):
            raise ConfigError("data settings must be a JSON object")
        unknown = sorted(set(data_values) - CSV_KEYS - {f.name for f in fields(pdata.DataSpec)})
        if unknown:
            raise ConfigError(f"unknown data setting(s): {', '.join(map(str, unknown))}")
        spec = _spec_from(
            pdata.DataSpec, {k: v for k, v in data_values.items() if k not in CSV_KEYS}, "data"
        )
        if spec.name == "csv":  # no noise to change, no new points to draw in a table
            spec = replace(spec, noise=self.data_spec.noise, draw=self.data_spec.draw)
        net_spec = _spec_from(NetSpec, message.get("network", self.net_spec.__dict__), "network")
        speed = message.get("steps_per_frame", self.steps_per_frame)
        check(speed, Integer(1, MAX_STEPS_PER_FRAME), "steps per frame", error=ConfigError)
        same_data = (
            replace(spec, noise=self.data_spec.noise, draw=self.data_spec.draw) == self.data_spec
            and {k: data_values.get(k) for k in CSV_KEYS}
            == {k: self.data_settings.get(k) for k in CSV_KEYS}
            and (spec.name != "csv" or self.data.preprocessor is not None)
        )
        same_net = replace(net_spec, **{k: getattr(self.net_spec, k) for k in TWEAKS}) == (
            self.net_spec
        )
        dataset = self.data
        redrawn = (spec.noise, spec.draw) != (self.data_spec.noise, self.data_spec.draw)
        if not same_data or redrawn:
            if spec.name == "csv":
                dataset = self._csv_dataset(data_values, spec)
            else:
                dataset = pdata.generated(spec)
            if len(dataset.train) < 2:
                raise ConfigError("the training part needs at least two rows")
        with self.lock:
            self.data_settings, self.steps_per_frame = dict(data_values), speed
            if not (same_data and same_net):
                self.data_spec, self.net_spec, self.data = spec, net_spec, dataset
                self.trainer = Trainer(net_spec, dataset)
                self.log = []
                self.start_data, self.start_net = spec, net_spec
                self._set_view()
                return {"reset": True, "changes": {}}
            changes: dict = {}
            if dataset is not self.data:
                changes.update(
                    {k: getattr(spec, k) for k in ("noise", "draw")
                     if getattr(spec, k) != getattr(self.data_spec, k)}
                )  # fmt: skip
                self.data_spec, self.data = spec, dataset
                self.trainer.set_data(dataset)
            for name in TWEAKS:
                value = getattr(net_spec, name)
                if value != getattr(self.net_spec, name):
                    self.trainer.tweak(name, value)
                    changes[name] = value
            self.net_spec = net_spec
            if changes and self.trainer.steps == 0 and not self.log:
                self.start_data, self.start_net = self.data_spec, self.net_spec  # from the start
            elif changes:
                self.log.append({"step": self.trainer.steps, **changes})
            return {"reset": False, "changes": changes}

    def _csv_dataset(self, values: dict, spec: pdata.DataSpec) -> pdata.Dataset:
        if self.upload is None:
            raise ConfigError("upload a CSV file first")
        target = values.get("target")
        features = values.get("features")
        plane = values.get("plane")
        if not isinstance(target, str) or not isinstance(features, list):
            raise ConfigError("a CSV needs a target column and a list of feature columns")
        if not all(isinstance(f, str) for f in features) or len(set(features)) != len(features):
            raise ConfigError("feature columns must be distinct column names")
        if not (isinstance(plane, list) and len(plane) == 2 and plane[0] != plane[1]):
            plane = None
        for name in [target, *features]:
            if name not in self.upload.columns:
                raise ConfigError(f"{self.upload.filename} has no column {name!r}")
        try:
            return pdata.dataset_from_table(
                self.upload,
                target,
                features,
                (str(plane[0]), str(plane[1])) if plane else None,
                spec.test_fraction,
                spec.seed,
            )
        except (DataError, ValueError) as exc:
            raise ConfigError(str(exc)) from None

    def set_upload(self, upload: pdata.UploadedTable) -> None:
        with self.lock:
            self.upload = upload

    def reset(self) -> None:
        """The same settings, the same seed: the run starts again from the same bits."""
        with self.lock:
            self.trainer = Trainer(self.net_spec, self.data)
            self.log = []
            self.start_data, self.start_net = self.data_spec, self.net_spec

    def weight(self, layer, i, j, value=None) -> dict:
        """Read (and with ``value``, set) one weight W[layer][i, j], or with ``i`` None the
        bias b[layer][j]: -> its value and the gradient of the last step (0 before any). An
        edit is logged: training goes on from it."""
        linears = [m for m in self.trainer.model if isinstance(m, hg.Linear)]
        named = (layer, j) if i is None else (layer, i, j)
        if not all(isinstance(k, int) and not isinstance(k, bool) for k in named):
            raise ConfigError(
                "a bias is named by two integers: layer, unit"
                if i is None
                else "a weight is named by three integers: layer, row, column"
            )
        if not 0 <= layer < len(linears):
            raise ConfigError(f"layer must be 0 to {len(linears) - 1}, got {layer}")
        param = linears[layer].weight if i is not None else linears[layer].bias
        if param is None:
            raise ConfigError(f"layer {layer} has no bias")
        at = (i, j) if i is not None else (j,)
        if not all(0 <= k < n for k, n in zip(at, param.value.shape)):
            name = f"W{layer + 1}" if i is not None else f"b{layer + 1}"
            raise ConfigError(f"{name} has shape {param.value.shape}; no entry {at}")
        with self.lock:
            if value is not None:
                value = check(value, WEIGHT, "a weight's value", error=ConfigError)
                param.value[at] = value
                key, where = ("weight", [layer, i, j]) if i is not None else ("bias", [layer, j])
                self.log.append({"step": self.trainer.steps, key: [*where, float(value)]})
            grad = float(param.grad[at]) if self.trainer.steps else 0.0
            return {"layer": layer, "i": i, "j": j, "value": float(param.value[at]), "grad": grad}

    # --- the view ---------------------------------------------------------------------------

    def _set_view(self) -> None:
        """The grid the pictures are drawn on (the data's extent plus a margin), as network
        inputs: the plane's features computed on it, or the other CSV inputs at their mean."""
        d = self.data
        self.curve = d.X.shape[1] == 1 and d.points is None
        self.feature_pictures: dict[str, str] | None = None
        if self.curve:
            lo, hi = float(d.X[:, 0].min()), float(d.X[:, 0].max())
            pad = 0.05 * (hi - lo or 1.0)
            self.xs = np.linspace(lo - pad, hi + pad, CURVE_POINTS)
            self.grid = self.xs.reshape(-1, 1)
            self.bounds = [lo - pad, hi + pad]
            return
        P = self.plane_points()
        lo, hi = P.min(axis=0), P.max(axis=0)
        pad = 0.1 * np.maximum(hi - lo, 1e-6)
        lo, hi = lo - pad, hi + pad
        u = np.linspace(lo[0], hi[0], GRID)
        v = np.linspace(hi[1], lo[1], GRID)  # top row first: the page draws rows downward
        uu, vv = np.meshgrid(u, v)
        if d.points is not None and d.inputs is not None:
            plane = np.column_stack([uu.ravel(), vv.ravel()])
            self.grid = pdata.feature_matrix(plane, d.inputs)
            every = pdata.feature_matrix(plane[COARSE], list(pdata.FEATURES))
            self.feature_pictures = {  # every input the page can switch on, over the plane
                name: to_bytes((normalize(every[:, k]) + 1.0) / 2.0)
                for k, name in enumerate(pdata.FEATURES)
            }
        else:
            i, j = d.plane
            self.grid = np.zeros((GRID * GRID, d.X.shape[1]))  # other inputs at their mean (0)
            self.grid[:, i], self.grid[:, j] = uu.ravel(), vv.ravel()
        self.bounds = [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])]

    def plane_points(self) -> np.ndarray:
        """(N, 2): where each row sits on the plane the page draws."""
        d = self.data
        return d.points if d.points is not None else d.X[:, list(d.plane)]

    def dataset_payload(self) -> dict:
        """The points to draw (plane coordinates or x, y), their part, and the labels."""
        d = self.data
        coords = np.column_stack([d.X[:, 0], d.y]) if self.curve else self.plane_points()
        part = np.zeros(len(d.y), np.int8)
        part[d.test] = 1
        return {
            "type": "dataset",
            "task": d.task,
            "curve": self.curve,
            "classes": d.classes,
            "features": d.feature_names,
            "plane": None
            if self.curve
            else ["x₁", "x₂"]
            if d.points is not None
            else [d.feature_names[k] for k in d.plane],
            "inputs": d.inputs,
            "values": d.y.tolist() if d.task == "regression" else None,
            "target": d.target_name,
            "points": np.round(coords, 4).tolist(),
            "labels": d.y.tolist() if d.task == "classification" else None,
            "test": part.tolist(),
            "bounds": self.bounds,
            "n_train": len(d.train),
            "n_test": len(d.test),
            "seed": self.net_spec.seed,
            "sizes": [d.X.shape[1], *self.net_spec.hidden, d.n_outputs],
            "input_pictures": None  # each input over the plane, drawn as its node
            if self.curve
            else [
                to_bytes((normalize(self.grid[COARSE, k]) + 1.0) / 2.0)
                for k in range(self.grid.shape[1])
            ],
            "feature_pictures": self.feature_pictures,  # None: the inputs are fixed
            "unit_grid": UNIT_GRID,
            "max_units": MAX_UNITS,
        }

    # --- work -------------------------------------------------------------------------------

    def advance(self, pictures: bool = True) -> dict:
        """Up to ``steps_per_frame`` training steps (fewer once paused or the server stops),
        then a frame (without its pictures and weights unless ``pictures``)."""
        with self.lock:
            self.trainer.run(self.steps_per_frame, self.should_stop)
            if self.stopping.is_set():  # the server is going down: no pictures to make
                return {"type": "frame", "step": self.trainer.steps, "epoch": self.trainer.epoch,
                        "diverged": self.trainer.diverged, "stopping": True}  # fmt: skip
            return self._frame(pictures)

    def should_stop(self) -> bool:
        return not self.playing or self.stopping.is_set()

    def frame(self) -> dict:
        with self.lock:
            return self._frame()

    def step(self, count: int = 1) -> dict:
        """``count`` minibatch steps, the last with every tensor recorded, then a frame:
        {"inspect": ..., "frame": ...} ("inspect" None when the run diverged before the last)."""
        check(count, Integer(1, MAX_STEPS_PER_FRAME), "steps", error=ConfigError)
        with self.lock:
            if self.trainer.diverged:
                raise ConfigError("the run has diverged; press reset")
            self.trainer.run(count - 1, self.stopping.is_set)
            if self.trainer.diverged or self.stopping.is_set():
                return {"inspect": None, "frame": self._frame()}
            with np.errstate(over="ignore", invalid="ignore"):
                inspected = inspect_step(self.trainer)
            return {"inspect": inspected, "frame": self._frame()}

    def gradient_check(self) -> Callable[[], dict]:
        """The network as it is now, copied (the model and the loss): -> a function that runs
        the gradient check on the copy, so the session may go on training meanwhile."""
        with self.lock:
            t = self.trainer
            if t.diverged:
                raise ConfigError("the run has diverged; press reset before checking gradients")
            copied = copy.copy(t)  # the training rows are shared: they are only read
            copied.model, copied.loss = copy.deepcopy(t.model), copy.deepcopy(t.loss)
        return lambda: {**check_gradients(copied), "step": copied.steps}

    def _frame(self, with_pictures: bool = True) -> dict:
        """What the page draws; a bare ``diverged`` frame once any number in it would not be
        finite (the loss, or a weight, an output or a gradient norm that overflowed float64:
        a run at the largest rates can grow its gradients past 1e308 before its loss)."""
        t = self.trainer
        frame: dict = {"type": "frame", "step": t.steps, "epoch": t.epoch, "diverged": t.diverged}
        if t.diverged:
            return frame
        with np.errstate(over="ignore", invalid="ignore"):
            frame.update(self._scores())
            if t.diverged:
                return {**frame, "diverged": True}
            if with_pictures:
                frame.update(pictures(t.model, self.grid, self.data, self.curve))
            frame["grad_norms"] = [
                float(np.linalg.norm(layer.weight.grad)) if t.steps else 0.0
                for layer in t.model
                if isinstance(layer, hg.Linear)
            ]
            frame["dead"] = dead_fractions(t.model, t.X_train)
        linears = [layer for layer in t.model if isinstance(layer, hg.Linear)]
        if not with_pictures:  # a hidden tab: the scores and norms for its curves only
            return frame if all_finite(frame) else self._diverged(frame)
        frame["weights"] = [np.round(layer.weight.value, 4).tolist() for layer in linears]
        frame["biases"] = [
            np.round(layer.bias.value, 4).tolist() if layer.bias is not None else None
            for layer in linears
        ]
        return frame if all_finite(frame) else self._diverged(frame)

    def _diverged(self, frame: dict) -> dict:
        """The run ends as diverged: a frame with a number JSON cannot carry is not sent."""
        self.trainer.diverged = True
        return {"type": "frame", "step": frame["step"], "epoch": frame["epoch"], "diverged": True}

    def _scores(self) -> dict:
        t, d = self.trainer, self.data
        scores = {}
        for part, X, Y, idx in (
            ("train", t.X_train, t.Y_train, d.train),
            ("test", t.X_test, t.Y_test, d.test),
        ):
            outputs = t.model.forward(X)
            if not np.isfinite(outputs).all():
                t.diverged = True
                return {}
            scores[f"{part}_loss"] = float(t.loss.forward(outputs, Y))
            if d.task == "classification":
                codes = np.argmax(outputs, axis=1) if outputs.shape[1] > 1 else (outputs[:, 0] > 0)
                scores[f"{part}_acc"] = accuracy(d.y[idx], codes.astype(np.int64))
            else:
                scores[f"{part}_r2"] = r2_score(Y, outputs)
        return scores
