"""What a sweep found: the ranked table, the heat map, the learning curves and the report.

The table groups the records by setting: the validation score (accuracy, or R² for a
regression; higher is better) over the seeds that finished, as mean ± standard deviation
(n - 1 in the denominator) and min–max. Settings are ranked by that mean.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_write, write_text
from .grid import SETTINGS, Grid, Trial

__all__ = ["Row", "rank", "format_value", "table_markdown", "write_table_csv", "to_html"]


@dataclass
class Row:
    """One setting of the grid, summarized over its seeds."""

    setting_key: str
    settings: dict[str, Any]
    seeds_ok: list[int]
    seeds_failed: list[int]
    val: list[float]  # validation scores of the seeds that finished, in seed order
    test: list[float]
    train: list[float]
    seconds: float  # mean training time of one seed
    records: list[dict]  # the "ok" records

    @property
    def mean(self) -> float:
        return float(np.mean(self.val)) if self.val else -math.inf

    @property
    def std(self) -> float:
        return float(np.std(self.val, ddof=1)) if len(self.val) > 1 else 0.0


def rank(grid: Grid, records: dict[str, dict]) -> list[Row]:
    """One Row per setting of ``grid`` that has a record, best mean validation score first."""
    rows = []
    for setting in grid.settings():
        keyed = [(seed, records.get(_key(setting, seed))) for seed in grid.seeds]
        found = [(seed, r) for seed, r in keyed if r is not None]
        if not found:
            continue
        ok = [(seed, r) for seed, r in found if r["status"] == "ok"]
        rows.append(
            Row(
                setting_key=found[0][1]["setting_key"],
                settings=dict(setting),
                seeds_ok=[seed for seed, _ in ok],
                seeds_failed=[seed for seed, r in found if r["status"] != "ok"],
                val=[r["scores"]["val"] for _, r in ok],
                test=[r["scores"]["test"] for _, r in ok],
                train=[r["scores"]["train"] for _, r in ok],
                seconds=float(np.mean([r["seconds"] for _, r in ok])) if ok else 0.0,
                records=[r for _, r in ok],
            )
        )
    # stable sort: ties keep the grid's order
    return sorted(rows, key=lambda row: -row.mean)


def _key(setting, seed: int) -> str:
    return Trial(setting, seed).key


def format_value(name: str, value: Any) -> str:
    """A setting's value as the table shows it."""
    if name == "hidden":
        return ",".join(map(str, value)) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _columns(grid: Grid) -> list[str]:
    return grid.swept or [k for k in SETTINGS if k in grid.values][:1]


def table_markdown(grid: Grid, rows: Sequence[Row], score: str) -> list[str]:
    """The ranked table as Markdown lines."""
    cols = _columns(grid)
    head = ["rank", *cols, "seeds", "val. mean ± std", "val. min – max", "test mean", "s each"]
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join(["---:"] * len(head)) + " |"]
    for i, row in enumerate(rows, 1):
        values = [format_value(c, row.settings.get(c)) for c in cols]
        n = f"{len(row.seeds_ok)}/{len(row.seeds_ok) + len(row.seeds_failed)}"
        if row.val:
            spread = f"{row.mean:.4f} ± {row.std:.4f}"
            extent = f"{min(row.val):.4f} – {max(row.val):.4f}"
            test = f"{np.mean(row.test):.4f}"
        else:
            spread = extent = test = "failed"
        cells = [str(i), *values, n, spread, extent, test, f"{row.seconds:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_table_csv(path: Path, grid: Grid, rows: Sequence[Row]) -> Path:
    """The ranked table for other programs: one line per setting."""
    cols = _columns(grid)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        ["rank", *cols, "seeds_ok", "seeds_failed", "val_mean", "val_std", "val_min", "val_max"]
        + ["test_mean", "seconds_mean", "setting_key"]
    )
    for i, row in enumerate(rows, 1):
        stats = (
            [repr(row.mean), repr(row.std), repr(min(row.val)), repr(max(row.val))]
            + [repr(float(np.mean(row.test)))]
            if row.val
            else ["", "", "", "", ""]
        )
        writer.writerow(
            [i, *(format_value(c, row.settings.get(c)) for c in cols)]
            + [len(row.seeds_ok), len(row.seeds_failed), *stats, f"{row.seconds:.3f}"]
            + [row.setting_key]
        )
    return write_text(path, buf.getvalue())


# --- figures ----------------------------------------------------------------------------------


def plot_heatmap(
    path: Path, grid: Grid, rows: Sequence[Row], axes: tuple[str, str], score: str
) -> Path:
    """Mean validation score over two swept settings (the best over the other settings)."""
    from .. import plots

    a, b = axes
    a_vals, b_vals = grid.values[a], grid.values[b]
    cells = np.full((len(a_vals), len(b_vals)), np.nan)
    for row in rows:
        if not row.val:
            continue
        i, j = a_vals.index(row.settings[a]), b_vals.index(row.settings[b])
        cells[i, j] = np.fmax(cells[i, j], row.mean)
    fig, ax = plots.new_figure(size=(1.1 * len(b_vals) + 3.0, 0.7 * len(a_vals) + 2.2))
    image = ax.imshow(np.ma.masked_invalid(cells), cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(b_vals)), [format_value(b, v) for v in b_vals])
    ax.set_yticks(range(len(a_vals)), [format_value(a, v) for v in a_vals])
    ax.set_xlabel(b)
    ax.set_ylabel(a)
    others = [k for k in grid.swept if k not in axes]
    ax.set_title(f"validation {score}, mean over seeds" + (" (best of the rest)" if others else ""))
    finite = cells[np.isfinite(cells)]
    middle = float(finite.mean()) if finite.size else 0.0
    for (i, j), value in np.ndenumerate(cells):
        text = "failed" if np.isnan(value) else f"{value:.3f}"
        colour = "black" if np.isnan(value) or value > middle else "white"
        ax.text(j, i, text, ha="center", va="center", color=colour, fontsize=9)
    fig.colorbar(image, ax=ax, label=f"validation {score}")
    return plots.save_figure(fig, path)


def _mean_curve(curves: list[list[float]]) -> list[float]:
    """Per-epoch mean over the seeds still training at that epoch (early stopping varies)."""
    longest = max(len(c) for c in curves)
    stacked = np.full((len(curves), longest), np.nan)
    for i, c in enumerate(curves):
        stacked[i, : len(c)] = [np.nan if isinstance(v, str) else v for v in c]
    with np.errstate(all="ignore"):
        return np.nanmean(stacked, axis=0).tolist()


def plot_curves(path: Path, grid: Grid, rows: Sequence[Row], task: str) -> Path:
    """Validation loss and score per epoch of the best settings (mean over their seeds)."""
    from .. import plots

    cols = _columns(grid)
    fig, (ax_loss, ax_score) = plots.new_figure(ncols=2)
    losses, scores = {}, {}
    for i, row in enumerate(rows, 1):
        label = f"#{i} " + ", ".join(f"{c} {format_value(c, row.settings.get(c))}" for c in cols)
        losses[label] = _mean_curve([r["history"]["val_loss"] for r in row.records])
        name = "accuracy" if task == "classification" else "mse"
        scores[label] = _mean_curve([r["history"]["val_metrics"][name] for r in row.records])
    plots.plot_curves(
        ax_loss,
        losses,
        title="Validation loss per epoch (mean over seeds)",
        xlabel="epoch",
        ylabel="loss (nats)" if task == "classification" else "MSE (standardized target)",
        logy=True,
    )
    plots.plot_curves(
        ax_score,
        scores,
        title=f"Validation {'accuracy' if task == 'classification' else 'MSE'} per epoch",
        xlabel="epoch",
        ylabel="fraction correct" if task == "classification" else "MSE (standardized target)",
    )
    return plots.save_figure(fig, path)


# --- HTML -----------------------------------------------------------------------------------


def to_html(markdown: str, out: Path, title: str) -> Path:
    """report.md -> the self-contained report.html (figures inlined); the one converter call."""
    from ..report import markdown_to_html_document

    page = markdown_to_html_document(markdown, title=title, base_dir=out)
    return atomic_write(out / "report.html", lambda fh: fh.write(page.encode("utf-8")))
