"""Part 3b: dead ReLU units: created by a large step or a negative bias, detected, mitigated."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import plots
from ...nn._checks import NonFiniteError
from ...nn.layers import Linear, Sequential
from ...nn.losses import BCEWithLogitsLoss
from ..base import bias_of, fmt, md_table
from ._shared import (
    Config,
    activation_outputs,
    dead_fractions,
    moons,
    net,
    part_rng,
    pct,
    pcts,
    save,
    say,
    train_sgd,
)
from .initialization import set_hidden_bias

KILL_LR = 2.5  # kills much of a ReLU layer on the moons; 3 sometimes diverges instead


def dead_relu(cfg: Config, seed: int) -> dict:
    """Kill ReLU units (negative bias init; too-large lr), detect them, try the mitigations."""
    X, y = moons(cfg.train_points, part_rng(seed, 81))
    runs = {  # name: (activation, hidden bias at init, lr)
        "ReLU, bias −3, lr 0.5": ("relu", -3.0, 0.5),
        f"ReLU, bias 0, lr {KILL_LR:g}": ("relu", 0.0, KILL_LR),
        "ReLU, bias 0, lr 0.5 (He default)": ("relu", 0.0, 0.5),
        "leaky ReLU, bias −3, lr 0.5": ("leaky_relu", -3.0, 0.5),
    }
    out: dict = {}
    for name, (act, hidden_bias, lr) in runs.items():
        model = net([2, 64, 64, 1], act, "he_normal", part_rng(seed, 82))
        set_hidden_bias(model, hidden_bias)
        at_init = dead_fractions(model, X)
        h = train_sgd(model, X, y, lr=lr, epochs=cfg.dead_epochs, rng=part_rng(seed, 83))
        record = {"activation": act, "bias": hidden_bias, "lr": lr, "dead_at_init": at_init}
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # a diverged net overflows
                record.update(inspect_stuck_units(model, X, y))
        except NonFiniteError:  # the run diverged: activations overflow, nothing to inspect
            record.update(
                dead_after=None,
                dead_after_overall=None,
                max_grad_into_stuck_units=None,
                final_accuracy=None,
            )
        record["stop_reason"] = h.stop_reason
        out[name] = record
    return out


def inspect_stuck_units(model: Sequential, X: np.ndarray, y: np.ndarray) -> dict:
    """Dead fractions after training, the gradient those units get, and the accuracy."""
    after = dead_fractions(model, X)
    outs = activation_outputs(model, X)
    loss = BCEWithLogitsLoss()
    logits = model.forward(X)
    accuracy = float(np.mean((logits[:, 0] > 0) == (y == 1)))
    loss.forward(logits, y)
    model.backward(loss.backward())  # full-batch gradient: exactly 0 into dead ReLU units
    linears = [layer for layer in model.layers if isinstance(layer, Linear)]
    stuck_grad = 0.0
    for a, lin in zip(outs, linears):
        stuck = np.all(a <= 0.0, axis=0)
        if np.any(stuck):
            g = np.concatenate([lin.weight.grad[:, stuck].ravel(), bias_of(lin).grad[stuck]])
            stuck_grad = max(stuck_grad, float(np.max(np.abs(g))))
    return {
        "dead_after": after,
        "dead_after_overall": float(np.mean(after)),
        "max_grad_into_stuck_units": stuck_grad,
        "final_accuracy": accuracy,
    }


def fig_dead(dead: dict, path: Path) -> Path:
    fig, ax = plots.new_figure(size=(9.0, 4.2))
    names = list(dead)
    groups = {}
    for layer in (0, 1):
        groups[f"layer {layer + 1}, at init"] = [dead[n]["dead_at_init"][layer] for n in names]
        groups[f"layer {layer + 1}, after training"] = [
            (dead[n]["dead_after"] or [np.nan, np.nan])[layer] for n in names
        ]
    labels = [n.replace(", lr", "\nlr") for n in names]
    plots.plot_bars(
        ax,
        groups,
        labels,
        ylabel="fraction of units ≤ 0 on every example",
        title="Dead ReLU units: killed by a negative bias or a large lr, and the fixes",
    )
    return save(fig, path)


def _dead_table(dead: dict) -> str:
    return md_table(
        [
            "run",
            "dead at init (layer 1, 2)",
            "dead after training",
            "max |grad| into them",
            "accuracy",
            "stopped",
        ],
        [
            [
                n,
                pcts(r["dead_at_init"]),
                pcts(r["dead_after"]),
                fmt(r["max_grad_into_stuck_units"]),
                pct(r["final_accuracy"]) if r["final_accuracy"] is not None else "—",
                r["stop_reason"] or "ran all epochs",
            ]
            for n, r in dead.items()
        ],
    )


def _killers(kb: dict, klr: dict, cfg: Config) -> list[str]:
    """What the negative bias (``kb``) and the large lr (``klr``) did to the units."""
    parts: list[str] = []
    if kb["dead_after"] is not None:
        parts += [
            f"A −3 bias leaves {pct(kb['dead_at_init'][1])} of layer 2 dead at initialization",
            f"and {pct(kb['dead_after'][1])} after {cfg.dead_epochs} epochs (accuracy",
            f"{pct(kb['final_accuracy'])});",
            "the gradient into those units is exactly 0, so nothing can revive them."
            if kb["max_grad_into_stuck_units"] == 0.0
            else f"the gradient into them is {fmt(kb['max_grad_into_stuck_units'])}.",
        ]
    if klr["dead_after"] is None:
        parts.append(f"lr {klr['lr']:g} with zero bias diverged ({klr['stop_reason']}).")
    else:
        grew = klr["dead_after_overall"] > float(np.mean(klr["dead_at_init"]))
        parts += [
            f"lr {klr['lr']:g} with zero bias",
            "kills" if grew else "does not kill",
            f"units during training: {pcts(klr['dead_after'])} dead at the end (from",
            f"{pcts(klr['dead_at_init'])}),",
            f"and the surviving units still reach {pct(klr['final_accuracy'])} accuracy."
            if klr["final_accuracy"] > 0.8
            else f"and the accuracy is {pct(klr['final_accuracy'])}.",
        ]
    return parts


def _fixes(ok: dict, leaky: dict, killed: list[float], cfg: Config) -> list[str]:
    """He init with zero bias, and leaky ReLU under the killing bias."""
    parts: list[str] = []
    if ok["dead_after"] is not None:
        worked = bool(killed) and ok["dead_after_overall"] < min(killed)
        parts += [
            f"He init with zero bias and lr 0.5 ends with {pcts(ok['dead_after'])} dead and",
            f"{pct(ok['final_accuracy'])} accuracy:",
            "fewer dead units than either killed net, and a working classifier."
            if worked and ok["final_accuracy"] > 0.8
            else "not better than the killed nets in this run.",
        ]
    if leaky["dead_after"] is not None:
        recovered = leaky["dead_after_overall"] < float(np.mean(leaky["dead_at_init"]))
        parts += [
            "Leaky ReLU under the same −3 bias keeps a gradient on its negative-side units",
            f"(max {fmt(leaky['max_grad_into_stuck_units'])}, where ReLU's is 0)",
            "and they recovered:" if recovered else "but it is too weak to pull them back:",
            f"{pcts(leaky['dead_after'])} are still negative on every example after",
            f"{cfg.dead_epochs} epochs, accuracy {pct(leaky['final_accuracy'])}.",
        ]
    return parts


def md_dead(dead: dict, cfg: Config) -> str:
    kb, klr, ok, leaky = (dead[n] for n in list(dead))
    killed = [r["dead_after_overall"] for r in (kb, klr) if r["dead_after_overall"] is not None]
    parts = [
        "Detection is one check over the training set: a unit is dead if its output is 0 on",
        f"all {cfg.train_points} examples.",
        *_killers(kb, klr, cfg),
        *_fixes(ok, leaky, killed, cfg),
    ]
    return "\n\n".join(
        [
            say(
                "**Follow-up: a ReLU unit that is 0 on the whole training set.** It is dead:",
                "its pre-activation is negative on every input, so both its output and its",
                "local derivative are 0 and no gradient reaches its weights or bias. Two ways",
                "to kill units on the moons (2 hidden layers of 64, He weights,",
                f"{cfg.dead_epochs} epochs, SGD, batch 32), and the fixes (figure",
                "`dead_relu.png`):",
            ),
            _dead_table(dead),
            say(*parts),
        ]
    )
