"""Figures for reports and `registry plot`: matplotlib on the Agg backend, no display needed.

Each figure draws rows a view has already computed (km_survival, measurement_trajectory,
pooled_outcomes); nothing here re-estimates a statistic. Figures are built with
matplotlib.figure.Figure (not pyplot), so no global state is kept between figures.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#882255", "#44AA99",
           "#999933", "#F0E442"]
POOLED_COLOUR = "#444444"
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
# Above this many patients a trajectory draws only the first ones' lines (the summary uses all).
MAX_PATIENT_LINES = 100

matplotlib.rcParams.update(
    {
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#e5e5e5",
        "grid.linewidth": 0.6,
        "legend.frameon": False,
        "svg.hashsalt": "caseregistry",  # stable ids: the same figure gives the same SVG bytes
        "svg.fonttype": "path",
    }
)


def _finite(value: Any) -> float:
    return math.nan if value is None else float(value)


# ---- Kaplan-Meier ---------------------------------------------------------------------------------


@dataclass
class KmCurve:
    """One group's curve as drawn: a step function from day 0 through the km_survival rows."""

    label: str
    days: list[float]
    survival: list[float]
    ci_low: list[float]
    ci_high: list[float]
    censored_days: list[float] = field(default_factory=list)
    censored_survival: list[float] = field(default_factory=list)
    n_patients: int = 0


def km_curves(rows: Sequence[dict[str, Any]]) -> list[KmCurve]:
    """Group km_survival rows (as dicts) by study_id (None: pooled) into step curves.

    Each curve starts at day 0 with survival 1 (everyone alive at the index day) and then takes
    each row's survival and interval unchanged; censored days are marked where n_censored > 0.
    """
    groups: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["study_id"], []).append(row)
    curves = []
    for study_id in sorted(groups, key=lambda s: (s is None, s or "")):
        group = sorted(groups[study_id], key=lambda r: r["day"])
        label = study_id if study_id is not None else "pooled (all patient rows)"
        curve = KmCurve(label, [0.0], [1.0], [1.0], [1.0], n_patients=int(group[0]["n_patients"]))
        for row in group:
            curve.days.append(float(row["day"]))
            curve.survival.append(float(row["survival"]))
            curve.ci_low.append(_finite(row["ci_low"]))
            curve.ci_high.append(_finite(row["ci_high"]))
            if row["n_censored"]:
                curve.censored_days.append(float(row["day"]))
                curve.censored_survival.append(float(row["survival"]))
        curves.append(curve)
    return curves


def km_figure(rows: Sequence[dict[str, Any]], title: str = "Kaplan-Meier survival") -> Figure:
    """Survival curves with their pointwise 95 % log-log band and censoring ticks."""
    curves = km_curves(rows)
    fig = Figure(figsize=(7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for index, curve in enumerate(curves):
        pooled = curve.label.startswith("pooled")
        colour = POOLED_COLOUR if pooled else PALETTE[index % len(PALETTE)]
        style = "--" if pooled else "-"
        ax.step(curve.days, curve.survival, where="post", color=colour, linestyle=style, linewidth=2,
                label=f"{curve.label} (n = {curve.n_patients})")
        ax.fill_between(curve.days, curve.ci_low, curve.ci_high, step="post", color=colour, alpha=0.15, linewidth=0)
        if curve.censored_days:
            ax.plot(curve.censored_days, curve.censored_survival, linestyle="none", marker="|", markersize=10,
                    markeredgewidth=1.5, color=colour)
    ax.plot([], [], linestyle="none", marker="|", markersize=10, color="#555555", label="censored")
    ax.fill_between([], [], [], color="#555555", alpha=0.15, label="95 % CI (log-log)")
    ax.set_ylim(-0.02, 1.05)
    ax.set_xlim(left=0)
    ax.set_xlabel("Days from the index day (day 0)")
    ax.set_ylabel("Survival probability")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=9)
    return fig


# ---- trajectories -----------------------------------------------------------------------------------


def trajectory_figure(
    summary: Sequence[dict[str, Any]],
    patients: Sequence[dict[str, Any]],
    *,
    analyte: str,
    name: str,
    unit: str,
    multi_study: bool = False,
) -> Figure:
    """Median and interquartile range per day (measurement_trajectory rows), with each patient's values.

    A group is a study (when several are drawn) and a measurement context; values of different
    contexts are never joined, as measurement_trajectory never pools them. Each patient's line
    joins their values within one group, in grey; a value with no partner in its group is a dot.
    """

    def key(row: dict[str, Any]) -> tuple[str, str]:
        return (row["study_id"] if multi_study else "", row["context"] or "")

    groups = sorted({key(r) for r in summary})
    colours = {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)}
    fig = Figure(figsize=(9.0 if len(groups) > 2 else 7.5, 4.2), layout="constrained")
    ax = fig.add_subplot()

    lines: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for row in patients:
        lines.setdefault((*key(row), row["patient_id"]), []).append((float(row["day"]), float(row["value"])))
    drawn = sorted({k[2] for k in lines})[:MAX_PATIENT_LINES]
    faint = 0.7 if len(drawn) <= 20 else 0.3  # many lines: keep the median readable above them
    first = True
    for (study, context, patient), points in sorted(lines.items()):
        if patient not in drawn:
            continue
        points.sort()
        xs, ys = zip(*points)
        ax.plot(xs, ys, color="#9a9a9a", linewidth=0.8, alpha=faint, marker="o", markersize=2.5, zorder=1,
                label="each patient" if first else None)
        first = False

    # Groups sharing a day are set side by side (at most 0.3 day apart in all) so their bars stay visible.
    span = min(0.3, 0.06 * (len(groups) - 1))
    for index, group in enumerate(groups):
        rows = sorted((r for r in summary if key(r) == group), key=lambda r: r["day"])
        offset = (index / (len(groups) - 1) - 0.5) * span if len(groups) > 1 else 0.0
        days = [float(r["day"]) + offset for r in rows]
        median = [float(r["median"]) for r in rows]
        low = [float(r["q1"]) for r in rows]
        high = [float(r["q3"]) for r in rows]
        ns = [int(r["n"]) for r in rows]
        study, context = group
        named = " · ".join(p for p in (study, context) if p)
        label = "median, IQR" + (f": {named}" if named else "")
        label += f" (n = {min(ns)}–{max(ns)})" if min(ns) != max(ns) else f" (n = {ns[0]})"
        colour = colours[group]
        if len(days) > 1:
            ax.fill_between(days, low, high, color=colour, alpha=0.18, linewidth=0, zorder=2)
        ax.errorbar(days, median, yerr=[[m - lo for m, lo in zip(median, low)], [hi - m for m, hi in zip(median, high)]],
                    color=colour, linewidth=2, marker="s", markersize=5, capsize=4, zorder=3, label=label)
    ax.set_xlabel("Days from the index day (day 0)")
    ax.set_ylabel(f"{name} ({unit})")
    ax.set_title(name)
    if len(drawn) < len({k[2] for k in lines}):
        ax.text(0.99, 0.01, f"lines of the first {len(drawn)} patients shown", transform=ax.transAxes,
                ha="right", va="bottom", fontsize=8, color="#666666")
    if len(groups) > 2:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(fontsize=8, loc="best")
    all_days = sorted({float(r["day"]) for r in summary})
    if all_days and len(all_days) <= 15:
        ax.set_xticks(all_days)
    return fig


# ---- pooled outcomes (forest plot) ----------------------------------------------------------------


def forest_figure(rows: Sequence[dict[str, Any]], outcome: str) -> Figure:
    """Per-study proportions with Wilson intervals and the pooled random-effects estimates
    (pooled_outcomes rows of one outcome that have a count)."""
    rows = [r for r in rows if r["outcome"] == outcome and r["estimate"] is not None]
    studies = sorted((r for r in rows if r["study_id"] is not None), key=lambda r: r["study_id"])
    pooled = sorted((r for r in rows if r["study_id"] is None), key=lambda r: bool(r["includes_secondary"]))
    ordered = studies + pooled
    fig = Figure(figsize=(7.5, 0.45 * len(ordered) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    labels = []
    for position, row in enumerate(reversed(ordered)):
        is_pooled = row["study_id"] is None
        estimate, low, high = (100 * float(row[k]) for k in ("estimate", "ci_low", "ci_high"))
        if is_pooled:
            ax.fill([low, estimate, high, estimate], [position, position + 0.25, position, position - 0.25],
                    color=POOLED_COLOUR)
            which = "all studies" if row["includes_secondary"] else "primary studies"
            labels.append(f"Pooled, {which} ({row['n_studies']} studies, I² {float(row['i2'] or 0):.0f} %)")
        else:
            colour = "#999999" if row["secondary"] else PALETTE[0]
            ax.plot([low, high], [position, position], color=colour, linewidth=2)
            ax.plot([estimate], [position], marker="s", color=colour, markersize=7)
            note = ", secondary" if row["secondary"] else ""
            labels.append(f"{row['study_id']} ({row['n_events']}/{row['n_patients']}{note})")
    ax.set_yticks(range(len(ordered)), labels)
    ax.grid(axis="y", visible=False)
    ax.set_xlim(-2, 102)
    ax.set_xlabel("Proportion of patients (%), 95 % CI")
    ax.set_title(outcome[0].upper() + outcome[1:])
    return fig


# ---- output ------------------------------------------------------------------------------------------


def figure_format(path: Path) -> str:
    """The image format a file name asks for (.png, .svg or .pdf)."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"{path}: unknown image format {path.suffix!r} (use .png, .svg or .pdf)") from None


def save(fig: Figure, path: Path) -> Path:
    from .errors import RegistryError

    try:
        fig.savefig(path, format=figure_format(path), dpi=150)
    except OSError as error:
        raise RegistryError(f"cannot write {path}: {error.strerror or error}") from None
    return path


def data_uri(fig: Figure, fmt: str = "svg") -> str:
    """The figure as a data: URI, so an HTML file carries its images inside it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=110)
    mime = "image/svg+xml" if fmt == "svg" else "image/png"
    return f"data:{mime};base64,{base64.b64encode(buffer.getvalue()).decode('ascii')}"


def as_dicts(columns: Iterable[str], rows: Iterable[tuple]) -> list[dict[str, Any]]:
    names = list(columns)
    return [dict(zip(names, row)) for row in rows]
