"""The report's static figures (matplotlib, PNG): one function per figure, each taking the analysis
results and returning the path written, or ``None`` with nothing written when there is nothing to draw."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wattsup.analysis import FamilyFit, LifecycleBreakdown, ModeComparison, ParamFit, StudyTask, TaskPhases

DPI = 160
_MODE_MARKERS = {"task-specific": "o", "zero-shot": "^", "mixed": "s", "unknown": "D"}
_MODE_LABELS = {"task-specific": "task-specific model", "zero-shot": "multi-purpose (zero-shot)"}


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    plt.rcParams.update(
        {
            "font.size": 11,
            "axes.titlesize": 13,
            "axes.labelsize": 11,
            "legend.fontsize": 9,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.dpi": DPI,
            "savefig.bbox": "tight",
        }
    )
    return plt


def _save(fig: Any, out: Path) -> Path:
    fig.savefig(out, dpi=DPI)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return out


def _colors(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def energy_by_task(study: Sequence[StudyTask], out: Path, unit: str) -> Path | None:
    """The study's main figure: energy per task on a log scale, one point per model, tasks ordered by
    their mean (black bar)."""
    if not study:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(7.0, 0.85 * len(study) + 2.5), 5.2))
    rng = random.Random(0)
    seen: set[str] = set()
    for i, t in enumerate(study):
        for m in t.models:
            if m.kwh is None or m.kwh <= 0:
                continue
            label = _MODE_LABELS.get(m.mode, m.mode) if m.mode not in seen else None
            seen.add(m.mode)
            ax.scatter(
                i + rng.uniform(-0.22, 0.22),
                m.kwh,
                s=28,
                marker=_MODE_MARKERS.get(m.mode, "o"),
                color="#0969da" if m.mode != "zero-shot" else "#cf222e",
                alpha=0.75,
                edgecolors="white",
                linewidths=0.5,
                label=label,
                zorder=3,
            )
        if t.mean_kwh:
            ax.hlines(
                t.mean_kwh,
                i - 0.32,
                i + 0.32,
                color="black",
                linewidth=2,
                zorder=4,
                label="mean over models" if i == 0 else None,
            )
    ax.set_yscale("log")
    ax.set_xticks(range(len(study)))
    ax.set_xticklabels([t.task for t in study], rotation=30, ha="right")
    ax.set_ylabel(f"energy ({unit}, log scale)")
    ax.set_title("Energy per task, one point per model")
    ax.grid(axis="y", which="major", alpha=0.35)
    ax.grid(axis="y", which="minor", alpha=0.12)
    ax.legend(loc="upper left", frameon=False)
    return _save(fig, out)


def energy_vs_params(fits: Sequence[ParamFit], out: Path, unit: str) -> Path | None:
    """Energy against parameter count, log-log, one colour per task with its least-squares line."""
    drawn = [f for f in fits if f.points]
    if not drawn:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8.6, 5.4))
    for f, color in zip(drawn, _colors(len(drawn)), strict=True):
        xs = [p.n_params for p in f.points]
        ys = [p.kwh for p in f.points]
        r = f"r = {f.r:.2f}" if f.r is not None else "r n/a"
        ax.scatter(
            xs,
            ys,
            s=26,
            color=color,
            alpha=0.85,
            edgecolors="white",
            linewidths=0.4,
            label=f"{f.task} ({r}, n = {f.n})",
            zorder=3,
        )
        if f.slope is not None and f.intercept is not None and len(set(xs)) > 1:
            lo, hi = math.log10(min(xs)), math.log10(max(xs))
            ax.plot(
                [10**lo, 10**hi],
                [10 ** (f.intercept + f.slope * lo), 10 ** (f.intercept + f.slope * hi)],
                color=color,
                linewidth=1.3,
                alpha=0.9,
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters (log scale)")
    ax.set_ylabel(f"energy ({unit}, log scale)")
    ax.set_title("Energy against model size (lines: log-log least squares per task)")
    ax.grid(which="major", alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _save(fig, out)


def modes(comparisons: Sequence[ModeComparison], out: Path, unit: str) -> Path | None:
    """Multi-purpose against task-specific per task: the two means on a log axis, joined, with the ratio;
    small marks per dataset."""
    rows = [c for c in comparisons if c.task_specific_kwh and c.multi_purpose_kwh]
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8.4, 1.2 + 1.0 * len(rows)))
    for i, c in enumerate(rows):
        assert c.task_specific_kwh is not None and c.multi_purpose_kwh is not None
        ax.plot([c.task_specific_kwh, c.multi_purpose_kwh], [i, i], color="#8c959f", linewidth=2, zorder=1)
        ax.scatter(
            c.task_specific_kwh,
            i,
            s=90,
            color="#0969da",
            zorder=3,
            label="task-specific (mean over models)" if i == 0 else None,
        )
        ax.scatter(
            c.multi_purpose_kwh,
            i,
            s=90,
            marker="^",
            color="#cf222e",
            zorder=3,
            label="multi-purpose (mean over models)" if i == 0 else None,
        )
        for d in c.per_dataset:
            if d.task_specific_kwh:
                ax.scatter(d.task_specific_kwh, i - 0.18, s=12, color="#0969da", alpha=0.6, zorder=2)
            if d.multi_purpose_kwh:
                ax.scatter(
                    d.multi_purpose_kwh, i - 0.18, s=12, marker="^", color="#cf222e", alpha=0.6, zorder=2
                )
        if c.ratio is not None:
            ax.annotate(
                f"×{c.ratio:.3g}",
                (max(c.task_specific_kwh, c.multi_purpose_kwh), i),
                xytext=(10, -4),
                textcoords="offset points",
                fontsize=10,
            )
    ax.set_xscale("log")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([c.task for c in rows])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(f"energy ({unit}, log scale); small marks: per dataset")
    ax.set_title("Multi-purpose against task-specific models")
    ax.grid(axis="x", which="major", alpha=0.3)
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo, hi * 3)
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.28 if len(rows) < 3 else -0.14), ncol=2, frameon=False
    )
    return _save(fig, out)


def phases(breakdown: Sequence[TaskPhases], out: Path, unit: str) -> Path | None:
    """Each task's window split by its top-level phases (share of the window), with the window's energy."""
    rows = [t for t in breakdown if t.phases and t.window_kwh]
    if not rows:
        return None
    names: list[str] = []
    for t in rows:
        for p in t.phases:
            if p.phase not in names:
                names.append(p.phase)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9.0, 1.3 + 0.5 * len(rows)))
    colors = dict(zip(names, _colors(len(names)), strict=True))
    for i, t in enumerate(rows):
        assert t.window_kwh is not None
        left = 0.0
        for p in t.phases:
            if p.kwh is None:
                continue
            share = 100.0 * p.kwh / t.window_kwh
            ax.barh(
                i,
                share,
                left=left,
                color=colors[p.phase],
                edgecolor="white",
                label=p.phase if i == 0 or p.phase not in [q.phase for q in rows[0].phases] else None,
            )
            if share >= 8:
                ax.text(
                    left + share / 2, i, f"{share:.0f}%", ha="center", va="center", fontsize=8, color="white"
                )
            left += share
        ax.text(max(left, 100) + 1.5, i, f"{t.window_kwh:.3g}", va="center", fontsize=9)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(
        unique.values(),
        unique.keys(),
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12 if len(rows) > 4 else -0.3),
        ncol=min(4, len(unique)),
        frameon=False,
    )
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([t.task for t in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 118)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel(f"share of the repetition window's energy (%); right: window energy ({unit})")
    ax.set_title("Where the energy goes: phases of each task (mean over models)")
    return _save(fig, out)


def lifecycle(breakdown: LifecycleBreakdown, out: Path) -> Path | None:
    """Operational, embodied and construction carbon of training and of the deployment (kgCO2e), stacked
    per phase (construction is its own segment, not part of embodied)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.4, 4.8))
    groups = [
        (
            "training",
            breakdown.training_operational_kg,
            breakdown.training_embodied_kg,
            breakdown.training_construction_kg,
        ),
        (
            "inference\n(deployment)",
            breakdown.inference_operational_kg,
            breakdown.inference_embodied_kg,
            breakdown.inference_construction_kg,
        ),
    ]
    biggest = max((g[1] or 0) + (g[2] or 0) + (g[3] or 0) for g in groups)
    scale, unit = (1000.0, "tCO2e") if biggest >= 1000 else (1.0, "kgCO2e")
    for i, (_name, op, emb, con) in enumerate(groups):
        if op is None:
            ax.text(
                i,
                0,
                "unknown\n(no training energy given:\n--training-kwh)",
                ha="center",
                va="bottom",
                fontsize=9,
                color="#57606a",
            )
            continue
        ax.bar(i, op / scale, color="#0969da", width=0.55, label="operational" if i == 1 else None)
        top = op
        if con is not None:
            ax.bar(
                i,
                con / scale,
                bottom=top / scale,
                color="#8250df",
                width=0.55,
                label="construction" if i == 1 else None,
            )
            top += con
        if emb is not None:
            ax.bar(
                i,
                emb / scale,
                bottom=top / scale,
                color="#bf8700",
                width=0.55,
                label="embodied" if i == 1 else None,
            )
            top += emb
            ax.text(i, top / scale, f"{top / scale:,.3g}", ha="center", va="bottom", fontsize=10)
        else:
            ax.text(
                i,
                top / scale,
                f"{top / scale:,.3g}\n(embodied unknown)",
                ha="center",
                va="bottom",
                fontsize=9,
            )
    sc = breakdown.scenario
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g[0] for g in groups])
    ax.set_ylabel(f"carbon ({unit})")
    who = sc.model or sc.task or "selected models"
    ax.set_title(
        f"Life cycle: {who}, {sc.queries_per_day:,.0f} queries/day for {sc.years:g} y in {sc.region}",
        fontsize=11,
    )
    ax.grid(axis="y", alpha=0.3)
    ax.legend(frameon=False, loc="upper left")
    _, hi = ax.get_ylim()
    ax.set_ylim(0, max(hi, 1e-9) * 1.18)
    if breakdown.parity_inferences is not None:
        days = f" ({breakdown.parity_days:,.0f} days)" if breakdown.parity_days is not None else ""
        fig.text(
            0.01,
            -0.02,
            f"energy parity with training after {breakdown.parity_inferences:,.3g} inferences{days}",
            fontsize=9,
            color="#57606a",
        )
    return _save(fig, out)


def output_length(fits: Sequence[FamilyFit], out: Path, unit: str) -> Path | None:
    """Energy against mean output length per inference, by model family, with least-squares lines."""
    drawn = [f for f in fits if f.points]
    if not drawn:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8.0, 5.0))
    for f, color in zip(drawn, _colors(len(drawn)), strict=True):
        xs = [p.output_units for p in f.points]
        ys = [p.kwh for p in f.points]
        slope = f"{f.slope:.3g} per token" if f.slope is not None else "no fit"
        ax.scatter(
            xs,
            ys,
            s=24,
            color=color,
            alpha=0.8,
            edgecolors="white",
            linewidths=0.4,
            label=f"{f.family} (slope {slope}, n = {f.n})",
            zorder=3,
        )
        if f.slope is not None and f.intercept is not None:
            lo, hi = min(xs), max(xs)
            ax.plot(
                [lo, hi], [f.intercept + f.slope * lo, f.intercept + f.slope * hi], color=color, linewidth=1.4
            )
    ax.set_xlabel("mean output length (tokens per inference)")
    ax.set_ylabel(f"energy ({unit})")
    ax.set_title("Output length against energy, by model family")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, loc="upper left")
    return _save(fig, out)
