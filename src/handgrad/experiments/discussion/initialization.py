"""Part 2: initialization: signal per layer, training per init, symmetry, ReLU biases."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ... import plots
from ...nn.layers import Linear, Sequential
from ...nn.losses import BCEWithLogitsLoss
from ...train import evaluate
from ..base import bias_of, fmt, linear, md_table
from ._reference import TINY
from ._shared import (
    Config,
    dead_fractions,
    factor,
    moons,
    net,
    part_rng,
    pct,
    save,
    say,
    train_sgd,
)


def small_normal(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float64):
    """N(0, 0.01^2) regardless of width: the classic "small random numbers"."""
    return (0.01 * rng.standard_normal((fan_in, fan_out))).astype(dtype, copy=False)


def constant(value: float):
    def init(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float64):
        return np.full((fan_in, fan_out), value, dtype=dtype)

    init.__name__ = f"constant_{value:g}"
    return init


INITS: dict[str, object] = {
    "zeros": "zeros",
    "N(0, 0.01²)": small_normal,
    "Xavier": "xavier_normal",
    "He": "he_normal",
}


def layer_stats(model: Sequential, X: np.ndarray, y: np.ndarray) -> tuple[list, list, float]:
    """Forward std of each hidden activation, backward std of dL/d(activation), first dW std.

    Runs the engine's layers one by one (forward, then backward in reverse) to read the
    signal between them; the loss is BCE with logits on labels y.
    """
    forward_std, h = [], X
    for layer in model.layers:
        h = layer.forward(h)
        if not isinstance(layer, Linear):
            forward_std.append(float(np.std(h)))
    loss = BCEWithLogitsLoss()
    loss.forward(h, y)
    grad = loss.backward()
    backward_std = []
    for layer in reversed(model.layers):
        if not isinstance(layer, Linear):
            backward_std.append(float(np.std(grad)))  # dL/d(output of this activation)
        below = layer.backward(grad)
        assert below is not None  # every layer passes its input gradient on by default
        grad = below
    return forward_std, backward_std[::-1], float(np.std(linear(model.layers[0]).weight.grad))


def init_depth(cfg: Config, seed: int) -> dict:
    """Std of activations and gradients per layer, 10 hidden layers, 4 inits, ReLU and tanh."""
    rng = part_rng(seed, 21)
    X = rng.standard_normal((cfg.init_samples, cfg.init_width))
    y = (rng.random(cfg.init_samples) < 0.5).astype(np.float64)
    sizes = [cfg.init_width] * (cfg.init_depth + 1) + [1]
    out: dict = {}
    for act in ("relu", "tanh"):
        out[act] = {}
        for k, (name, init) in enumerate(INITS.items()):
            model = net(sizes, act, init, part_rng(seed, 22, k))
            fwd, bwd, dw1 = layer_stats(model, X, y)
            out[act][name] = {"forward_std": fwd, "backward_std": bwd, "first_dW_std": dw1}
    return out


def init_training(cfg: Config, seed: int) -> dict:
    """Same task, same budget, four inits: 4 hidden layers of 64 on two moons."""
    X, y = moons(cfg.train_points, part_rng(seed, 31))
    out: dict = {}
    for act in ("relu", "tanh"):
        out[act] = {}
        for k, (name, init) in enumerate(INITS.items()):
            model = net([2, 64, 64, 64, 64, 1], act, init, part_rng(seed, 32, k))
            h = train_sgd(
                model,
                X,
                y,
                lr=0.05,
                momentum=0.9,
                epochs=cfg.init_epochs,
                rng=part_rng(seed, 33, k),
            )
            final = evaluate(model, BCEWithLogitsLoss(), X, y, ["accuracy"])
            out[act][name] = {
                "epoch_loss": h.epoch_loss,
                "final_loss": final["loss"],
                "final_accuracy": final["accuracy"],
            }
    return out


def unit_signature(model: Sequential) -> np.ndarray:
    """One row per hidden unit: its incoming weights, bias and outgoing weight, (H, D + 2)."""
    first, last = linear(model.layers[0]), linear(model.layers[-1])
    return np.column_stack([first.weight.value.T, bias_of(first).value, last.weight.value])


def symmetry(cfg: Config, seed: int) -> dict:
    """One hidden layer of 16 tanh units: zeros, a constant, and Xavier, trained alike."""
    X, y = moons(cfg.train_points, part_rng(seed, 41))
    out: dict = {}
    for k, (name, init) in enumerate(
        (("zeros", "zeros"), ("constant 0.3", constant(0.3)), ("Xavier", "xavier_normal"))
    ):
        model = net([2, 16, 1], "tanh", init, part_rng(seed, 42, k))
        h = train_sgd(model, X, y, lr=0.5, epochs=cfg.init_epochs, rng=part_rng(seed, 43))
        sig = unit_signature(model)
        scale = max(float(np.max(np.abs(sig))), TINY)
        spread = float(np.max(np.abs(sig - sig[0]))) / scale  # 0: every unit equals unit 0
        # distinct units: rows that differ from every earlier row by more than 1e-9 (relative)
        distinct = sum(
            1
            for i in range(sig.shape[0])
            if all(np.max(np.abs(sig[i] - sig[j])) > 1e-9 * scale for j in range(i))
        )
        final = evaluate(model, BCEWithLogitsLoss(), X, y, ["accuracy"])
        out[name] = {
            "hidden_units": int(sig.shape[0]),
            "distinct_units": int(distinct),
            "relative_spread": spread,
            "max_abs_hidden_weight": float(np.max(np.abs(linear(model.layers[0]).weight.value))),
            "output_bias": float(bias_of(model.layers[-1]).value[0]),
            "final_loss": final["loss"],
            "final_accuracy": final["accuracy"],
            "epochs": h.epochs,
        }
    return out


def set_hidden_bias(model: Sequential, value: float) -> None:
    for layer in model.layers[:-1]:
        if isinstance(layer, Linear):
            bias_of(layer).value[...] = value


def bias_init(cfg: Config, seed: int) -> dict:
    """Dead-at-init ReLU fraction (He weights) for hidden biases 0, 0.01, 0.1, over seeds."""
    X, _ = moons(cfg.train_points, part_rng(seed, 51))
    sizes = [2, 64, 64, 64, 64, 1]
    out: dict = {}
    for value in (0.0, 0.01, 0.1):
        fractions = []
        for s in range(cfg.bias_seeds):
            model = net(sizes, "relu", "he_normal", part_rng(seed, 52, s))
            set_hidden_bias(model, value)
            fractions.append(dead_fractions(model, X))
        per_layer = np.asarray(fractions)  # (seeds, layers)
        out[f"{value:g}"] = {
            "dead_per_layer": per_layer.mean(axis=0).tolist(),
            "dead_overall": float(per_layer.mean()),
            "nets_with_a_dead_unit": int(np.sum(per_layer.max(axis=1) > 0)),
        }
    out["nets"] = cfg.bias_seeds
    return out


def fig_init_depth(ini: dict, path: Path) -> Path:
    fig, axes = plots.new_figure(ncols=2, size=(6.2, 5.6))
    for ax, act in zip(axes, ("relu", "tanh")):
        zero = []
        for i, (name, rec) in enumerate(ini[act].items()):
            if max(rec["forward_std"]) == 0 and max(rec["backward_std"]) == 0:
                zero.append(name)
                continue
            layers = np.arange(1, len(rec["forward_std"]) + 1)
            ax.plot(
                layers, rec["forward_std"], "-o", ms=3, color=f"C{i}", label=f"{name}: activations"
            )
            ax.plot(
                layers, rec["backward_std"], "--s", ms=3, color=f"C{i}", label=f"{name}: gradients"
            )
        ax.set_yscale("log")
        note = f"\n({', '.join(zero)}: exactly 0, not drawn)" if zero else ""
        ax.set_title(f"{act}: std per hidden layer{note}")
        ax.set_xlabel("hidden layer")
        ax.set_ylabel("standard deviation (log scale)")
        ax.grid(True, alpha=0.3)
        plots.legend_below(ax)  # inside, it hid the small init's curves
    return save(fig, path)


def fig_init_training(tr: dict, sym: dict, path: Path) -> Path:
    fig, axes = plots.new_figure(ncols=2, size=(6.2, 5.6))
    ax = axes[0]
    for act, style in (("relu", "-"), ("tanh", "--")):
        for i, (name, rec) in enumerate(tr[act].items()):
            epochs = np.arange(1, len(rec["epoch_loss"]) + 1)
            ax.plot(epochs, rec["epoch_loss"], style, color=f"C{i}", label=f"{act}, {name}")
    ax.set_yscale("log")
    ax.set_title("Training loss per init (4 hidden layers of 64)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean BCE over the epoch")
    ax.grid(True, alpha=0.3)
    plots.legend_below(ax)  # inside, it hid tanh with He init's dip
    names = list(sym)
    ax = axes[1]
    plots.plot_bars(
        ax,
        {"training accuracy (%)": [100 * sym[n]["final_accuracy"] for n in names]},
        names,
        title=f"Symmetry: {sym[names[0]]['hidden_units']} tanh units, one hidden layer",
        ylabel="training accuracy (%)",
        xlabel="initialization (label: distinct hidden units after training)",
    )
    for i, n in enumerate(names):
        text = f"{sym[n]['distinct_units']} of {sym[n]['hidden_units']} distinct"
        ax.text(i, 100 * sym[n]["final_accuracy"] + 1, text, ha="center")
    ax.set_ylim(0, 110)
    return save(fig, path)


def _depth_summary(act: str, inits: dict, depth: int) -> tuple[list[list], str]:
    """One activation's rows of the depth table, and the sentence on which init is steadiest."""
    rows: list[list] = []
    score = {}
    for name, r in inits.items():
        f, b = r["forward_std"], r["backward_std"]
        rows.append(
            [act, name, fmt(f[0]), fmt(f[-1]), fmt(b[-1]), fmt(b[0]), fmt(r["first_dW_std"])]
        )
        if f[0] > 0 and b[-1] > 0 and f[-1] > 0 and b[0] > 0:
            score[name] = abs(math.log(f[-1] / f[0])) + abs(math.log(b[0] / b[-1]))
    best = min(score, key=lambda name: score[name])
    parts = []
    for name, r in inits.items():
        f, b = r["forward_std"], r["backward_std"]
        if max(f) == 0 and max(b) == 0:
            parts.append(f"{name}: exactly 0 forward and backward at every layer")
        elif name != best:
            parts.append(
                f"{name}: the activation std {factor(f[-1] / f[0])} (to {fmt(f[-1])}) and "
                f"the gradient {factor(b[0] / b[-1])} on its way back to layer 1"
            )
    fb = inits[best]
    line = say(
        f"- **{act}**: {best} keeps both signals steadiest (activation std",
        f"{fmt(fb['forward_std'][0])} at layer 1, {fmt(fb['forward_std'][-1])} at layer",
        f"{depth}; gradient std {fmt(fb['backward_std'][-1])} at layer {depth},",
        f"{fmt(fb['backward_std'][0])} at layer 1).",
        "; ".join(parts) + ".",
    )
    return rows, line


def _training(tr: dict) -> tuple[str, list[str]]:
    """The short trainings per init: their table and one line per activation."""
    trows, tlines = [], []
    for act in ("relu", "tanh"):
        for name, r in tr[act].items():
            trows.append([act, name, fmt(r["final_loss"]), pct(r["final_accuracy"])])
        best = min(tr[act], key=lambda n: tr[act][n]["final_loss"])
        stuck = [n for n, r in tr[act].items() if r["final_accuracy"] <= 0.6]
        tlines.append(
            say(
                f"- {act}: lowest final loss with {best} ({fmt(tr[act][best]['final_loss'])},",
                f"{pct(tr[act][best]['final_accuracy'])} accuracy);",
                f"at chance level (accuracy ≤ 60%) after the budget: {', '.join(stuck)}."
                if stuck
                else "every init got past chance level.",
            )
        )
    t2 = md_table(["activation", "init", "final loss", "final accuracy"], trows)
    return t2, tlines


def md_init(ini: dict, tr: dict, sym: dict, bias: dict, cfg: Config) -> str:
    depth = cfg.init_depth
    rows, lines = [], []
    for act in ("relu", "tanh"):
        act_rows, line = _depth_summary(act, ini[act], depth)
        rows += act_rows
        lines.append(line)
    t1 = md_table(
        [
            "activation",
            "init",
            "act. std, layer 1",
            f"act. std, layer {depth}",
            f"grad std, layer {depth}",
            "grad std, layer 1",
            r"std of $\partial L / \partial W_1$",
        ],
        rows,
    )
    t2, tlines = _training(tr)
    return "\n\n".join(
        [
            "### 2. Initialization",
            say(
                f"**Measured:** {depth} hidden layers of {cfg.init_width} units,",
                f"{cfg.init_samples} inputs drawn from N(0, I), BCE on random labels; the std",
                "of each hidden activation (forward) and of the gradient arriving at it",
                "(backward), for each init (figure `init_depth.png`).",
            ),
            t1,
            "\n".join(lines),
            say(
                f"**Training, same budget:** two moons ({cfg.train_points} points), 4 hidden",
                "layers of 64, SGD lr 0.05 with momentum 0.9, batch 32,",
                f"{cfg.init_epochs} epochs (figure `init_training.png`, left).",
            ),
            t2,
            "\n".join(tlines),
            md_symmetry(sym),
            md_bias(bias),
        ]
    )


def md_symmetry(sym: dict) -> str:
    z, c, x = sym["zeros"], sym["constant 0.3"], sym["Xavier"]
    h = z["hidden_units"]
    table = md_table(
        [
            "init",
            f"distinct units (of {h})",
            "largest unit difference / largest weight",
            "max |W1|",
            "output bias",
            "accuracy",
        ],
        [
            [
                n,
                r["distinct_units"],
                fmt(r["relative_spread"]),
                fmt(r["max_abs_hidden_weight"]),
                fmt(r["output_bias"]),
                pct(r["final_accuracy"]),
            ]
            for n, r in sym.items()
        ],
    )
    if z["max_abs_hidden_weight"] == 0.0:
        zeros = say(
            f"With zeros every hidden weight is still exactly 0 after {z['epochs']} epochs:",
            "tanh(0) = 0 makes dW2 = hᵀg = 0, and W2 = 0 makes dW1 = 0, so only the output",
            f"bias learned (to {fmt(z['output_bias'])}) and the accuracy is",
            f"{pct(z['final_accuracy'])}.",
        )
    else:
        zeros = (
            f"With zeros the hidden weights moved (max |W1| = {fmt(z['max_abs_hidden_weight'])})."
        )
    one = c["distinct_units"] == 1
    const = say(
        f"A constant 0.3 lets the weights move (max |W1| = {fmt(c['max_abs_hidden_weight'])})",
        f"but keeps all {h} units identical" if one else f"and ends with {c['distinct_units']}",
        "" if one else "distinct units",
        f"(largest difference {fmt(c['relative_spread'])} of the largest weight): every unit",
        "receives the same gradient, so the layer is worth",
        "a single unit" if one else f"{c['distinct_units']} units",
        f"and reaches {pct(c['final_accuracy'])}. The random Xavier draw gives",
        f"{x['distinct_units']} distinct units and {pct(x['final_accuracy'])}.",
    )
    return "\n\n".join(
        [
            say(
                f"**Symmetry:** one hidden layer of {h} tanh units, SGD lr 0.5, {z['epochs']}",
                "epochs on the same moons (figure `init_training.png`, right).",
            ),
            table,
            zeros + " " + const,
        ]
    )


def md_bias(bias: dict) -> str:
    b0, b1, b2 = bias["0"], bias["0.01"], bias["0.1"]
    table = md_table(
        [
            "hidden bias",
            "dead per layer (mean)",
            "dead overall",
            f"nets with a dead unit (of {bias['nets']})",
        ],
        [
            [
                k,
                ", ".join(pct(v) for v in bias[k]["dead_per_layer"]),
                pct(bias[k]["dead_overall"]),
                bias[k]["nets_with_a_dead_unit"],
            ]
            for k in ("0", "0.01", "0.1")
        ],
    )
    change = b2["dead_overall"] - b0["dead_overall"]
    per_layer = b0["dead_per_layer"]
    deeper = per_layer[0] < min(per_layer[1:])
    text = say(
        f"With He weights and zero biases, {pct(b0['dead_overall'])} of the ReLU units of a",
        "2-input net with 4 hidden layers of 64 output 0 on every training input before the",
        f"first step (mean over {bias['nets']} nets; by layer:",
        f"{', '.join(pct(v) for v in per_layer)}).",
        "Only the deeper layers have them: they see the non-negative outputs of the layer",
        "below, so a unit whose weights are mostly negative never fires, while the first layer",
        "sees centred inputs on both sides of every hyperplane through the origin."
        if deeper
        else "",
        f"A bias of 0.01 gives {pct(b1['dead_overall'])} and 0.1 gives",
        f"{pct(b2['dead_overall'])}: a small positive bias",
        "lowers" if change < 0 else "does not lower",
        f"the dead fraction ({abs(100 * change):.1f} percentage points at 0.1).",
    )
    return "\n\n".join(
        ["**Bias initialization for ReLU** (dead units at initialization):", table, text]
    )
