"""Part 3a: four activations on the same budget; the first-layer gradient against depth."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ... import plots
from ...nn.layers import Linear
from ...nn.losses import BCEWithLogitsLoss
from ..base import fmt, linear, md_table
from ._shared import Config, factor, moons, net, part_rng, pct, save, say, train_sgd

COMPARED_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid")


DEFAULT_INIT = {
    "relu": "he_normal",
    "leaky_relu": "he_normal",
    "tanh": "xavier_normal",
    "sigmoid": "xavier_normal",
}


TARGET_ACCURACY = 0.95


def activation_race(cfg: Config, seed: int) -> dict:
    """Two hidden layers of 32 on two moons, SGD lr 0.1, same budget for each activation."""
    X, y = moons(cfg.train_points, part_rng(seed, 61))
    Xv, yv = moons(cfg.train_points, part_rng(seed, 62))
    out: dict = {}
    for act in COMPARED_ACTIVATIONS:
        model = net([2, 32, 32, 1], act, DEFAULT_INIT[act], part_rng(seed, 63))
        h = train_sgd(
            model,
            X,
            y,
            lr=0.1,
            epochs=cfg.act_epochs,
            batch_size=16,
            rng=part_rng(seed, 64),
            validation=(Xv, yv),
        )
        acc = h.val_metrics["accuracy"]
        reached = [i + 1 for i, a in enumerate(acc) if a >= TARGET_ACCURACY]
        out[act] = {
            "val_loss": h.val_loss,
            "train_loss": h.epoch_loss,
            "final_val_accuracy": acc[-1],
            "final_val_loss": h.val_loss[-1],
            "epochs_to_target": reached[0] if reached else None,
        }
    out["target_accuracy"] = TARGET_ACCURACY
    out["epochs"] = cfg.act_epochs
    return out


def first_layer_grad_norm(cfg: Config, seed: int) -> dict:
    """||dL/dW1|| at initialization against depth (hidden layers of 32), mean over nets."""
    X, y = moons(cfg.train_points, part_rng(seed, 71))
    loss = BCEWithLogitsLoss()
    out: dict = {"depths": list(cfg.depth_list)}
    for act in COMPARED_ACTIVATIONS:
        norms, per_layer_deepest = [], None
        for depth in cfg.depth_list:
            vals = []
            for s in range(cfg.depth_seeds):
                model = net([2] + [32] * depth + [1], act, DEFAULT_INIT[act], part_rng(seed, 72, s))
                loss.forward(model.forward(X), y)
                model.backward(loss.backward())
                vals.append(float(np.linalg.norm(linear(model.layers[0]).weight.grad)))
                if depth == cfg.depth_list[-1] and s == 0:
                    per_layer_deepest = [
                        float(np.linalg.norm(layer.weight.grad))
                        for layer in model.layers
                        if isinstance(layer, Linear)
                    ]
            norms.append(float(np.mean(vals)))
        out[act] = {"first_layer_grad_norm": norms, "per_layer_deepest": per_layer_deepest}
    return out


def fig_activations(race: dict, depth: dict, path: Path) -> Path:
    fig, axes = plots.new_figure(ncols=2, size=(6.2, 4.2))
    plots.plot_curves(
        axes[0],
        {a: race[a]["val_loss"] for a in COMPARED_ACTIVATIONS},
        logy=True,
        title="Two moons, 2 hidden layers of 32, SGD lr 0.1",
        xlabel="epoch",
        ylabel="held-out BCE",
    )
    plots.plot_curves(
        axes[1],
        {a: depth[a]["first_layer_grad_norm"] for a in COMPARED_ACTIVATIONS},
        x=dict.fromkeys(COMPARED_ACTIVATIONS, depth["depths"]),
        logy=True,
        title="First-layer gradient at initialization",
        xlabel="hidden layers (32 units each)",
        ylabel="‖dL/dW1‖ (Frobenius)",
    )
    return save(fig, path)


def md_activations(race: dict, depth: dict, cfg: Config) -> str:
    rows = []
    for a in COMPARED_ACTIVATIONS:
        r = race[a]
        rows.append(
            [
                a,
                DEFAULT_INIT[a],
                r["epochs_to_target"] or f"not within {race['epochs']}",
                pct(r["final_val_accuracy"]),
                fmt(r["final_val_loss"]),
            ]
        )
    target = pct(race["target_accuracy"])
    t1 = md_table(
        ["activation", "init", f"epochs to {target} held-out", "final accuracy", "final loss"],
        rows,
    )
    reached = {a: race[a]["epochs_to_target"] for a in COMPARED_ACTIVATIONS}
    reached = {a: e for a, e in reached.items() if e is not None}
    never = [a for a in COMPARED_ACTIVATIONS if a not in reached]
    fastest = min(reached, key=lambda name: reached[name]) if reached else None
    best = min(COMPARED_ACTIVATIONS, key=lambda a: race[a]["final_val_loss"])
    race_text = say(
        f"{fastest} reached {target} first (epoch {reached[fastest]})."
        if fastest
        else f"No activation reached {target}.",
        f"Not reached within the budget: {', '.join(never)}." if never else "All four reached it.",
        f"Lowest final held-out loss: {best} ({fmt(race[best]['final_val_loss'])}).",
    )
    ds = depth["depths"]
    t2 = md_table(
        ["activation"] + [f"{d} hidden" for d in ds],
        [[a] + [fmt(v) for v in depth[a]["first_layer_grad_norm"]] for a in COMPARED_ACTIVATIONS],
    )
    sig, relu = depth["sigmoid"]["first_layer_grad_norm"], depth["relu"]["first_layer_grad_norm"]
    per, per_r = depth["sigmoid"]["per_layer_deepest"], depth["relu"]["per_layer_deepest"]
    vanishes = sig[-1] < relu[-1] and per[0] < per[-1]
    depth_text = say(
        f"From {ds[0]} to {ds[-1]} hidden layers the first-layer gradient of sigmoid",
        f"{factor(sig[-1] / sig[0])}, that of ReLU {factor(relu[-1] / relu[0])}; at depth",
        f"{ds[-1]} sigmoid's is {fmt(sig[-1] / relu[-1])} × ReLU's. Inside the {ds[-1]}-layer",
        f"sigmoid net the weight-gradient norm is {fmt(per[0])} at the first layer and",
        f"{fmt(per[-1])} at the output layer (ratio {fmt(per[0] / per[-1])}; ReLU:",
        f"{fmt(per_r[0] / per_r[-1])}):",
        "the gradient vanishes on its way down, each sigmoid layer multiplying it by",
        "σ′ ≤ 1/4 (times the weights)." if vanishes else "no vanishing is visible at this depth.",
    )
    return "\n\n".join(
        [
            "### 3. Activations",
            say(
                f"**Measured:** two moons ({cfg.train_points} training and {cfg.train_points}",
                "held-out points), 2 hidden layers of 32, each activation with its usual init,",
                f"SGD lr 0.1, batch 16, {race['epochs']} epochs (figure `activations.png`, left).",
            ),
            t1,
            race_text,
            say(
                "**Vanishing gradients:**",
                r"$\lVert \partial L / \partial W_1 \rVert$ at initialization on the moons, hidden",
                f"layers of 32, mean over {cfg.depth_seeds} nets per cell (figure",
                "`activations.png`, right).",
            ),
            t2,
            depth_text,
        ]
    )
