"""Part 4: minibatch gradient variance against B; doubling the batch with lr, √2·lr, 2·lr."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ... import plots
from ...nn._checks import NonFiniteError
from ...nn.layers import Sequential
from ...nn.losses import BCEWithLogitsLoss
from ...train import evaluate
from ..base import fmt, md_table
from ._shared import Config, GradNorm, moons, net, part_rng, pct, save, say, train_sgd


def flat_grad(model: Sequential, loss: BCEWithLogitsLoss, X: np.ndarray, y: np.ndarray):
    """Mean-BCE gradient of all parameters on (X, y), flattened to one vector (P,)."""
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    return np.concatenate([p.grad.ravel() for p in model.parameters()])


def batch_variance(cfg: Config, seed: int) -> dict:
    """E||g_B - g||^2 at one parameter point, with and without replacement, many draws."""
    n = cfg.var_points
    X, y = moons(n, part_rng(seed, 91))
    model = net([2, 16, 1], "tanh", "xavier_normal", part_rng(seed, 92))
    train_sgd(
        model, X, y, lr=0.5, epochs=3, rng=part_rng(seed, 93)
    )  # a typical point, not the init
    loss = BCEWithLogitsLoss()
    g = flat_grad(model, loss, X, y)
    per_example = np.stack([flat_grad(model, loss, X[i : i + 1], y[i : i + 1]) for i in range(n)])
    sigma2 = float(np.mean(np.sum((per_example - g) ** 2, axis=1)))  # trace of the covariance
    rng = part_rng(seed, 94)
    sizes = [1, 4, 16, 64, 256]
    measured: dict[str, list[float]] = {"with replacement": [], "without replacement": []}
    for b in sizes:
        for scheme, values in measured.items():
            total = 0.0
            for _ in range(cfg.var_draws):
                if scheme == "with replacement":
                    idx = rng.integers(0, n, size=b)
                else:
                    idx = rng.choice(n, size=b, replace=False)
                d = flat_grad(model, loss, X[idx], y[idx]) - g
                total += float(d @ d)
            values.append(total / cfg.var_draws)
    perm = rng.permutation(n)  # B = N without replacement: the same rows, another order
    full = flat_grad(model, loss, X[perm], y[perm])
    logb = np.log(sizes)
    fpc = np.array([(n - b) / (n - 1) for b in sizes])
    wo = np.asarray(measured["without replacement"])
    wr = np.asarray(measured["with replacement"])
    theory_wr = sigma2 / np.asarray(sizes, dtype=float)
    g_sum = sum_gradient(model, X, y)
    return {
        "n": n,
        "draws": cfg.var_draws,
        "batch_sizes": sizes,
        "sigma2": sigma2,
        "measured": measured,
        "theory_with_replacement": theory_wr.tolist(),
        "theory_without_replacement": (theory_wr * fpc).tolist(),
        "fpc": fpc.tolist(),
        "slope_with_replacement": float(np.polyfit(logb, np.log(wr), 1)[0]),
        "slope_without_replacement": float(np.polyfit(logb, np.log(wo), 1)[0]),
        "slope_without_replacement_fpc_removed": float(np.polyfit(logb, np.log(wo / fpc), 1)[0]),
        "ratio_to_theory_with": (wr / theory_wr).tolist(),
        "ratio_to_theory_without": (wo / (theory_wr * fpc)).tolist(),
        "full_batch_shuffled_sq_diff": float(np.sum((full - g) ** 2)),
        "sum_over_mean_grad_norm": float(np.linalg.norm(g_sum) / np.linalg.norm(g)),
        "grad_norm": float(np.linalg.norm(g)),
    }


def sum_gradient(model: Sequential, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The same full-batch gradient with reduction="sum" (the `backprop` exercise's convention)."""
    loss = BCEWithLogitsLoss(reduction="sum")
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    return np.concatenate([p.grad.ravel() for p in model.parameters()])


BASE_BATCH, BASE_LR, AGGRESSIVE = 16, 0.05, 128.0


def _lr_run(shared: tuple, item: tuple[int, float, int]) -> tuple:
    """One training of the study -> (History, gradient norms, final loss and accuracy)."""
    X, y, cfg, seed = shared
    batch, mult, s = item
    model = net([2, 32, 32, 1], "tanh", "xavier_normal", part_rng(seed, 102, s))
    monitor = GradNorm()
    h = train_sgd(
        model,
        X,
        y,
        lr=BASE_LR * mult,
        epochs=cfg.lr_epochs,
        batch_size=batch,
        rng=part_rng(seed, 103, s),
        callbacks=[monitor],
    )
    return h, monitor.norms, evaluate_loss(model, X, y)


def lr_scaling(cfg: Config, seed: int, scheduler=None) -> dict:
    """Double the batch: keep lr, sqrt(2) lr, 2 lr; and a far too large 128 lr, same epochs.

    ``scheduler``: run the trainings (settings x seeds) as Dask tasks through
    ``handgrad.sweep.parallel_map``; the same bits as the plain loop with BLAS on one thread.
    """
    X, y = moons(cfg.lr_points, part_rng(seed, 101), noise=0.25)
    runs = {
        f"B={BASE_BATCH}, lr={BASE_LR:g}": (BASE_BATCH, 1.0),
        f"B={2 * BASE_BATCH}, lr": (2 * BASE_BATCH, 1.0),
        f"B={2 * BASE_BATCH}, √2·lr": (2 * BASE_BATCH, math.sqrt(2.0)),
        f"B={2 * BASE_BATCH}, 2·lr": (2 * BASE_BATCH, 2.0),
        f"B={2 * BASE_BATCH}, {AGGRESSIVE:g}·lr": (2 * BASE_BATCH, AGGRESSIVE),
    }
    out: dict = {"base_batch": BASE_BATCH, "base_lr": BASE_LR, "seeds": cfg.lr_seeds, "runs": {}}
    items = [(batch, mult, s) for batch, mult in runs.values() for s in range(cfg.lr_seeds)]
    shared = (X, y, cfg, seed)
    if scheduler is None:
        results = [_lr_run(shared, item) for item in items]
    else:
        from ...sweep import parallel_map

        where = None if scheduler == "local" else scheduler
        results = parallel_map(_lr_run, items, shared=shared, scheduler=where)
    for k, (name, (batch, mult)) in enumerate(runs.items()):
        per_seed = results[k * cfg.lr_seeds : (k + 1) * cfg.lr_seeds]
        out["runs"][name] = summarize_runs(per_seed, batch, mult)
    base = np.log(out["runs"][next(iter(runs))]["epoch_loss"])
    for rec in out["runs"].values():
        log_ratio = np.log(rec["epoch_loss"][: base.size]) - base[: len(rec["epoch_loss"])]
        rec["curve_distance_to_base"] = float(np.mean(np.abs(log_ratio)))  # mean |Δ log loss|
        rec["curve_log_ratio_to_base"] = float(np.mean(log_ratio))  # > 0: above the B curve
    return out


def evaluate_loss(model: Sequential, X: np.ndarray, y: np.ndarray) -> dict:
    """Loss and accuracy on (X, y); NaN for a model whose outputs overflow (a diverged run)."""
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            return evaluate(model, BCEWithLogitsLoss(), X, y, ["accuracy"])
    except NonFiniteError:
        return {"loss": math.nan, "accuracy": math.nan}


def nanmean(values: Sequence[float]) -> float | None:
    """Mean of the finite values; None when there are none (JSON has no NaN)."""
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def summarize_runs(per_seed: list, batch: int, mult: float) -> dict:
    """Mean over seeds of the final numbers and the monitors, plus seed 0's curves."""
    epochs = min(len(h.epoch_loss) for h, _, _ in per_seed)
    curves = np.array([h.epoch_loss[:epochs] for h, _, _ in per_seed])
    rises, norm_ratio, noise = [], [], []
    for h, norms, _ in per_seed:
        rises.append(int(np.sum(np.diff(h.epoch_loss) > 0)))
        norms = np.asarray(norms)
        norm_ratio.append(float(np.max(norms) / np.median(norms)))
        half = np.asarray(h.step_loss[len(h.step_loss) // 2 :])
        noise.append(float(np.std(np.diff(half)) / math.sqrt(2.0) / np.mean(half)))
    h0, norms0, _ = per_seed[0]
    return {
        "batch_size": batch,
        "lr_multiplier": mult,
        "final_loss": nanmean([f["loss"] for _, _, f in per_seed]),
        "final_accuracy": nanmean([f["accuracy"] for _, _, f in per_seed]),
        "first_epoch_loss": float(curves[:, 0].mean()),
        "epoch_loss": curves.mean(axis=0).tolist(),
        "epoch_loss_rises": float(np.mean(rises)),
        "grad_norm_max_over_median": float(np.mean(norm_ratio)),
        "step_loss_noise": float(np.mean(noise)),
        "diverged": sum(h.stop_reason == "diverged" for h, _, _ in per_seed),
        "_grad_norms_seed0": norms0,  # for the figure only, not kept in the metrics
        "steps_per_epoch": math.ceil(len(h0.step_loss) / max(h0.epochs, 1)),
    }


def fig_variance(bv: dict, path: Path) -> Path:
    fig, ax = plots.new_figure(size=(6.4, 4.4))
    b = np.asarray(bv["batch_sizes"], dtype=float)
    fine = np.geomspace(b[0], b[-1], 100)
    n, s2 = bv["n"], bv["sigma2"]
    ax.plot(fine, s2 / fine, "k-", lw=1, label="σ²/B (with replacement)")
    ax.plot(fine, s2 / fine * (n - fine) / (n - 1), "k--", lw=1, label="σ²/B · (N−B)/(N−1)")
    ax.plot(b, bv["measured"]["with replacement"], "o", label="measured, with replacement")
    ax.plot(
        b,
        bv["measured"]["without replacement"],
        "s",
        mfc="none",
        label="measured, without replacement",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(f"Minibatch gradient noise, N = {n}, {bv['draws']} draws per point")
    ax.set_xlabel("batch size B")
    ax.set_ylabel("E ‖g_B − g‖²")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return save(fig, path)


def fig_lr(lr: dict, path: Path) -> Path:
    """Three panels: the compared doublings on their own scale, the far too large step beside
    the B run (its loss is ten times higher and would flatten the others), the step norms."""
    fig, axes = plots.new_figure(ncols=3, size=(5.4, 4.2))
    runs = lr["runs"]
    names = list(runs)
    base, aggressive = names[0], names[4]
    plots.plot_curves(
        axes[0],
        {n: runs[n]["epoch_loss"] for n in names[:4]},
        logy=True,
        title="Doubling the batch: training loss",
        xlabel="epoch",
        ylabel="mean BCE over the epoch",
    )
    plots.plot_curves(
        axes[1],
        {n: runs[n]["epoch_loss"] for n in (base, aggressive)},
        logy=True,
        title="A far too large step",
        xlabel="epoch",
        ylabel="mean BCE over the epoch",
    )
    for line, color in zip(axes[1].get_lines(), ("C0", "C4")):
        line.set_color(color)  # the same colour per run as in the first panel
    axes[1].legend()
    shown = {n: runs[n]["_grad_norms_seed0"] for n in (base, names[3], aggressive)}
    x = {n: (np.arange(len(v)) + 1) / runs[n]["steps_per_epoch"] for n, v in shown.items()}
    plots.plot_curves(
        axes[2],
        shown,
        x=x,
        logy=True,
        title="Monitor: gradient norm per step",
        xlabel="epoch",
        ylabel="‖g‖ of the step's batch",
    )
    for line, color in zip(axes[2].get_lines(), ("C0", "C3", "C4")):
        line.set_color(color)
    axes[2].legend()
    return save(fig, path)


def md_variance(bv: dict) -> str:
    sizes = bv["batch_sizes"]
    mw, mo = bv["measured"]["with replacement"], bv["measured"]["without replacement"]
    table = md_table(
        [
            "$B$",
            "with repl.",
            r"$\sigma^2/B$",
            "ratio",
            "without repl.",
            r"$\sigma^2/B \cdot (N-B)/(N-1)$",
            "ratio",
        ],
        [
            [
                b,
                fmt(mw[i]),
                fmt(bv["theory_with_replacement"][i]),
                fmt(bv["ratio_to_theory_with"][i]),
                fmt(mo[i]),
                fmt(bv["theory_without_replacement"][i]),
                fmt(bv["ratio_to_theory_without"][i]),
            ]
            for i, b in enumerate(sizes)
        ],
    )
    ratios = bv["ratio_to_theory_with"] + bv["ratio_to_theory_without"]
    k = len(sizes) - 1
    s_with = bv["slope_with_replacement"]
    s_wo = bv["slope_without_replacement"]
    s_fpc = bv["slope_without_replacement_fpc_removed"]
    law = abs(s_with + 1) < 0.1 and abs(s_fpc + 1) < 0.1
    text = say(
        f"On log–log axes the measured variance falls with slope {s_with:.3f} with replacement",
        f"and {s_wo:.3f} without ({s_fpc:.3f} once divided by",
        r"$(N-B)/(N-1)$):",
        "the $1/B$ law." if law else "not the $1/B$ law.",
        f"Every measurement lies within a factor [{fmt(min(ratios))}, {fmt(max(ratios))}] of its",
        r"prediction from the per-example variance",
        f"$\\sigma^2$ = {fmt(bv['sigma2'])} (the trace of the covariance of the {bv['n']}",
        f"per-example gradients). At $B = {sizes[k]}$ the factor",
        r"$(N-B)/(N-1)$" f" is {bv['fpc'][k]:.3f}; the measured ratio without/with",
        f"replacement is {mo[k] / mw[k]:.3f}. At $B = N$ without replacement the batch is the",
        r"data set: $\lVert g_B - g \rVert^2$ =" f" {fmt(bv['full_batch_shuffled_sq_diff'])},",
        "the summation order only.",
        r"So the standard deviation of the gradient noise falls like $1/\sqrt{B}$: four times the",
        "batch for half the noise." if law else "",
    )
    mean_sum = say(
        'Mean or sum: with `reduction="sum"` the full-batch gradient is',
        f"{fmt(bv['sum_over_mean_grad_norm'], 6)} × the mean's (N = {bv['n']}), so a summed loss",
        "needs lr / N for the same step and its step grows with the batch; with the mean the",
        "expected step does not depend on B, only its noise does.",
    )
    return "\n\n".join(
        [
            "### 4. Batch size and gradient variance",
            say(
                "**Measured:** at one parameter point (a 2–16–1 tanh net after 3 epochs on",
                f"{bv['n']} moons), the full-batch gradient $g$ and",
                r"$\mathbb{E}\,\lVert g_B - g \rVert^2$ over",
                f"{bv['draws']} random batches per size, drawn with and without replacement",
                "(figure `batch_variance.png`).",
            ),
            table,
            text,
            mean_sum,
        ]
    )


def worse(run: dict, reference: dict) -> bool:
    """A run ended worse than the reference: higher final loss, or no finite loss at all."""
    return run["final_loss"] is None or run["final_loss"] > reference["final_loss"]


def _lr_table(runs: dict) -> str:
    return md_table(
        [
            "run",
            "final loss",
            "accuracy",
            "mean |Δ log loss| vs B",
            "epochs with a loss rise",
            "grad-norm max / median",
            "step-loss noise",
            "first-epoch loss",
        ],
        [
            [
                n,
                fmt(r["final_loss"]),
                pct(r["final_accuracy"]) if r["final_accuracy"] is not None else "—",
                fmt(r["curve_distance_to_base"]),
                fmt(r["epoch_loss_rises"]),
                fmt(r["grad_norm_max_over_median"]),
                fmt(r["step_loss_noise"]),
                fmt(r["first_epoch_loss"]),
            ]
            for n, r in runs.items()
        ],
    )


def _scaling(runs: dict) -> tuple[str, str]:
    """Which rule for the doubled batch tracked the B run; -> (the paragraph, that rule)."""
    base, keep, root2, lin, aggr = list(runs)
    rb, rk, rr, rl, ra = (runs[n] for n in (base, keep, root2, lin, aggr))
    doubled = {n: runs[n]["curve_distance_to_base"] for n in (keep, root2, lin)}
    closest = min(doubled, key=lambda name: doubled[name])
    others = ", ".join(f"{fmt(v)} for {n}" for n, v in doubled.items() if n != closest)
    between = (
        min(rk["curve_distance_to_base"], rl["curve_distance_to_base"])
        < rr["curve_distance_to_base"]
        < max(rk["curve_distance_to_base"], rl["curve_distance_to_base"])
    )
    scaling = say(
        "Same epochs, so the 2B runs take half as many steps. Keeping lr leaves the loss curve",
        "above" if rk["curve_log_ratio_to_base"] > 0 else "below",
        f"the B run's (mean log ratio {rk['curve_log_ratio_to_base']:+.3f}; final loss",
        f"{fmt(rk['final_loss'])} against {fmt(rb['final_loss'])}). The doubled batch whose",
        f"curve stays closest to the B run is **{closest}** (mean |Δ log loss|",
        f"{fmt(doubled[closest])}, against {others}).",
        "That is the linear scaling rule: $g_{2B}$ has the same mean as $g_B$ and half its",
        r"variance, so two steps of $\eta$ at $B$ and one of $2\eta$ at $2B$ move the weights",
        r"by the same expected amount with the same variance, $2\eta^2\sigma^2/B$ per $2B$",
        "examples either way." if closest == lin else "Here that is not the linear rule.",
        "The square-root rule, which keeps the noise of each single step equal, lands in",
        "between." if between else "does not land between the two.",
        "With the same lr the larger batch's step losses fluctuate",
        "less" if rk["step_loss_noise"] < rb["step_loss_noise"] else "more",
        f"({fmt(rk['step_loss_noise'])} against {fmt(rb['step_loss_noise'])}, the std of",
        "step-to-step changes over the second half, relative to the mean).",
    )
    return scaling, closest


def _monitor_flags(ra: dict, rb: dict) -> list[str]:
    """The monitors that moved for the too-large step ``ra`` against the B run ``rb``."""
    flags = []
    if ra["first_epoch_loss"] > 1.5 * rb["first_epoch_loss"]:
        flags.append(
            f"the first-epoch loss is {fmt(ra['first_epoch_loss'])} against "
            f"{fmt(rb['first_epoch_loss'])}"
        )
    if ra["epoch_loss_rises"] > rb["epoch_loss_rises"]:
        flags.append(
            f"the epoch loss went up in {fmt(ra['epoch_loss_rises'])} epochs (mean over seeds) "
            f"against {fmt(rb['epoch_loss_rises'])}"
        )
    if ra["grad_norm_max_over_median"] > 1.5 * rb["grad_norm_max_over_median"]:
        flags.append(
            f"the gradient norm peaks at {fmt(ra['grad_norm_max_over_median'])} × its median "
            f"against {fmt(rb['grad_norm_max_over_median'])} ×"
        )
    if ra["step_loss_noise"] > 1.5 * rb["step_loss_noise"]:
        flags.append(
            f"the step loss fluctuates {fmt(ra['step_loss_noise'] / rb['step_loss_noise'])} × "
            "as much"
        )
    return flags


def _monitors(lr: dict, flags: list[str]) -> str:
    """What the monitors showed for the too-large step, and how it ended against 2·lr."""
    *_, lin, aggr = list(lr["runs"])
    ra, rl = lr["runs"][aggr], lr["runs"][lin]
    multiplier = f"{ra['lr_multiplier']:g}·lr"
    return say(
        f"A step that is too large shows in the monitors. With {multiplier}:",
        "; ".join(flags) + "." if flags else "none of the monitors moved in this run.",
        f"It ends at loss {fmt(ra['final_loss'])} against {fmt(rl['final_loss'])} for 2·lr,",
        "worse despite the larger steps" if worse(ra, rl) else "not worse, in this run",
        f"(and diverged in {ra['diverged']} of {lr['seeds']} runs)." if ra["diverged"] else ".",
    ).replace(" .", ".")


def _advice(closest: str, lin: str, flags: list[str], ra: dict, rl: dict) -> str:
    """What to do when doubling the batch, from the rule that won and the monitors."""
    return say(
        "So: double lr with the batch (linear scaling), which tracked the smaller-batch run"
        if closest == lin
        else f"So: of the three rules, {closest} tracked the smaller-batch run best",
        "here; then compare the first epochs' loss with the smaller-batch run, count epochs",
        "whose training loss goes up, and watch the gradient norm's peaks relative to its",
        "median (figure `lr_scaling.png`, right).",
        "In this run those monitors flagged the step that also ended worse: when they jump,"
        " the increase was too aggressive; back off, or warm the lr up over the first epochs."
        if flags and worse(ra, rl)
        else "In this run they did not single out a step that ended worse, so read them"
        " together with the loss itself.",
    )


def md_lr(lr: dict) -> str:
    runs = lr["runs"]
    base, _, _, lin, aggr = list(runs)
    scaling, closest = _scaling(runs)
    flags = _monitor_flags(runs[aggr], runs[base])
    multiplier = f"{runs[aggr]['lr_multiplier']:g}·lr"
    return "\n\n".join(
        [
            say(
                "**Follow-up: double the batch: how to set lr, and what to watch.** Two moons",
                "(noise 0.25), 2 hidden layers of 32 tanh units, plain SGD,",
                f"B = {lr['base_batch']} at lr = {fmt(lr['base_lr'])} against",
                f"B = {2 * lr['base_batch']} at lr, √2·lr, 2·lr and {multiplier}, the same",
                f"number of epochs, mean over {lr['seeds']}",
                "seed" if lr["seeds"] == 1 else "seeds",
                "(figure `lr_scaling.png`).",
            ),
            _lr_table(runs),
            scaling,
            _monitors(lr, flags),
            _advice(closest, lin, flags, runs[aggr], runs[lin]),
        ]
    )
