"""Energy labels: one card per model and task with its energy per 1,000 inferences, the hardware it was
measured on, the date, and its star rating within the task and hardware class. Drawn from one layout
as SVG (plain text, no dependency) or PNG (matplotlib)."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path

from wattsup.analysis.query import Source
from wattsup.analysis.summary import leaderboard
from wattsup.analysis.types import DEFAULT_METRIC, EnergyLabel, Metric, Selection
from wattsup.errors import InvalidInput, NotFound
from wattsup.format import energy
from wattsup.params.carry import shared_fields

WIDTH = 420
HEIGHT = 624
GREEN = "#1a7f37"
GREY = "#c9ced6"
INK = "#1f2328"
MUTED = "#57606a"


def energy_label(
    source: Source,
    model: str,
    task: str,
    selection: Selection | None = None,
    metric: Metric = DEFAULT_METRIC,
) -> EnergyLabel:
    """What the label of ``model`` on ``task`` shows. With runs on several hardware classes, the class
    with the most runs is shown (narrow it with ``Selection(hardware=...)``)."""
    if not model.strip():
        raise InvalidInput("MODEL", "is empty")
    entries = leaderboard(source, task, selection, metric)
    mine = [e for e in entries if e.model == model] or [
        e for e in entries if e.model.lower() == model.lower()
    ]
    if not mine:
        raise NotFound("model", model, [e.model for e in entries], hint=f"on task {task!r}")
    best = max(mine, key=lambda e: (e.runs, -e.rank))
    group = sum(1 for e in entries if e.hardware_class == best.hardware_class)
    return EnergyLabel(
        **shared_fields(best, EnergyLabel, but=("task", "unit")),
        task=task,
        unit=metric.unit,
        date=best.latest,
        group_size=group,
        phase=metric.phase,
        component=metric.component,
    )


@dataclass(frozen=True)
class _Text:
    x: float
    y: float
    text: str
    size: float
    weight: str = "normal"
    color: str = INK
    anchor: str = "start"


@dataclass(frozen=True)
class _Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    stroke: str | None = None
    radius: float = 0.0


@dataclass(frozen=True)
class _Star:
    cx: float
    cy: float
    r: float
    fill: str


Shape = _Text | _Rect | _Star


def _wrap(text: str, width: int) -> list[str]:
    if len(text) <= width:
        return [text]
    out = []
    while len(text) > width:
        cut = max(text.rfind("/", 0, width), text.rfind("-", 0, width), text.rfind(" ", 0, width))
        cut = cut + 1 if cut > width // 3 else width
        out.append(text[:cut])
        text = text[cut:]
    out.append(text)
    return out[:3]


def layout(label: EnergyLabel) -> list[Shape]:
    """The label's shapes, in drawing order, on a WIDTH × HEIGHT canvas (y down)."""
    shapes: list[Shape] = [
        _Rect(0, 0, WIDTH, HEIGHT, "#ffffff", stroke=INK, radius=14),  # its height is set at the end
        _Rect(0, 0, WIDTH, 64, GREEN, radius=14),
        _Rect(0, 40, WIDTH, 24, GREEN),
        _Text(24, 42, "Energy label", 24, "bold", "#ffffff"),
        _Text(WIDTH - 24, 42, "wattsup", 15, "normal", "#ffffff", "end"),
    ]
    y = 102
    for line in _wrap(label.model, 30):
        shapes.append(_Text(24, y, line, 21, "bold"))
        y += 27
    shapes.append(_Text(24, y + 4, f"task: {label.task}", 16, color=MUTED))
    y += 48
    shapes.append(_Rect(24, y - 6, WIDTH - 48, 1.5, GREY))
    stars = label.stars or 0
    y += 46
    for i in range(5):
        shapes.append(_Star(64 + i * 73, y, 30, GREEN if i < stars else GREY))
    y += 52
    rating = f"{label.stars} of 5 stars" if label.stars is not None else "not rated"
    shapes.append(_Text(WIDTH / 2, y, rating, 18, "bold", anchor="middle"))
    for line in textwrap.wrap(label.rating_note, 58) or [""]:  # the whole reason, never cut
        y += 17
        shapes.append(_Text(WIDTH / 2, y, line, 12, color=MUTED, anchor="middle"))
    y += 35
    shapes.append(_Rect(24, y - 6, WIDTH - 48, 1.5, GREY))
    value, unit = energy(label.kwh, label.unit)
    y += 56
    shapes.append(_Text(WIDTH / 2, y, value, 46, "bold", anchor="middle"))
    y += 26
    shapes.append(_Text(WIDTH / 2, y, unit, 15, color=MUTED, anchor="middle"))
    what = "phase " + repr(label.phase) if label.phase else "whole inference window"
    comps = "all components" if label.component == "all" else f"{label.component} only"
    y += 20
    shapes.append(_Text(WIDTH / 2, y, f"{what}, {comps}", 12, color=MUTED, anchor="middle"))
    if label.has_modeled:
        y += 17
        shapes.append(
            _Text(
                WIDTH / 2, y, "includes modelled (estimated) components", 12, color="#9a6700", anchor="middle"
            )
        )
    y += 26
    shapes.append(_Rect(24, y - 6, WIDTH - 48, 1.5, GREY))
    y += 24
    hw_lines = _wrap(label.hardware or "unknown", 36)
    shapes.append(_Text(24, y, "hardware", 13, color=MUTED))
    for line in hw_lines:
        shapes.append(_Text(WIDTH - 24, y, line, 13, anchor="end"))
        y += 18
    date = label.date.strftime("%Y-%m-%d") if isinstance(label.date, datetime) else "unknown"
    y += 4
    shapes.append(_Text(24, y, "measured", 13, color=MUTED))
    runs = f"{label.runs} run{'s' if label.runs != 1 else ''}"
    shapes.append(_Text(WIDTH - 24, y, f"{date} ({runs})", 13, anchor="end"))
    y += 22
    shapes.append(_Text(24, y, "rated among", 13, color=MUTED))
    shapes.append(
        _Text(WIDTH - 24, y, f"{label.group_size} models on {label.hardware_class}", 13, anchor="end")
    )
    height = max(HEIGHT, y + 48)  # room for everything above the footer
    shapes[0] = _Rect(0, 0, WIDTH, height, "#ffffff", stroke=INK, radius=14)
    shapes.append(
        _Text(
            WIDTH / 2,
            height - 16,
            "5 stars: the 20% of models using the least energy",
            11,
            color=MUTED,
            anchor="middle",
        )
    )
    return shapes


def _star_points(s: _Star) -> list[tuple[float, float]]:
    pts = []
    for k in range(10):
        r = s.r if k % 2 == 0 else s.r * 0.45
        a = -math.pi / 2 + k * math.pi / 5
        pts.append((s.cx + r * math.cos(a), s.cy + r * math.sin(a)))
    return pts


def canvas_height(shapes: list[Shape]) -> float:
    """The label's height: its frame's (the first shape), which grows with long names and reasons."""
    frame = shapes[0]
    assert isinstance(frame, _Rect)
    return frame.h


def label_svg(label: EnergyLabel) -> str:
    """The label as a standalone SVG document."""
    shapes = layout(label)
    height = canvas_height(shapes)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:g}" '
        f'viewBox="0 0 {WIDTH} {height:g}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">',
        f"<title>Energy label: {escape(label.model)} on {escape(label.task)}</title>",
    ]
    for s in shapes:
        if isinstance(s, _Rect):
            stroke = f' stroke="{s.stroke}" stroke-width="2"' if s.stroke else ""
            parts.append(
                f'<rect x="{s.x:g}" y="{s.y:g}" width="{s.w:g}" height="{s.h:g}" rx="{s.radius:g}" '
                f'fill="{s.fill}"{stroke}/>'
            )
        elif isinstance(s, _Star):
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in _star_points(s))
            parts.append(f'<polygon points="{pts}" fill="{s.fill}"/>')
        else:
            anchor = {"start": "start", "middle": "middle", "end": "end"}[s.anchor]
            parts.append(
                f'<text x="{s.x:g}" y="{s.y:g}" font-size="{s.size:g}" font-weight="{s.weight}" '
                f'fill="{s.color}" text-anchor="{anchor}">{escape(s.text)}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _png(label: EnergyLabel, out: Path, dpi: int = 200) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import FancyBboxPatch, Polygon, Rectangle

    shapes = layout(label)
    height = canvas_height(shapes)
    fig = plt.figure(figsize=(WIDTH / 100, height / 100), dpi=dpi)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, WIDTH)
    ax.set_ylim(height, 0)
    ax.axis("off")
    pt = 72 / 100  # canvas px → points at 100 px per inch
    for s in shapes:
        if isinstance(s, _Rect):
            if s.radius:
                ax.add_patch(
                    FancyBboxPatch(
                        (s.x + 1, s.y + 1),
                        s.w - 2,
                        s.h - 2,
                        boxstyle=f"round,pad=0,rounding_size={s.radius}",
                        facecolor=s.fill,
                        edgecolor=s.stroke or s.fill,
                        linewidth=1.5 if s.stroke else 0,
                    )
                )
            else:
                ax.add_patch(Rectangle((s.x, s.y), s.w, s.h, facecolor=s.fill, edgecolor="none"))
        elif isinstance(s, _Star):
            ax.add_patch(Polygon(_star_points(s), closed=True, facecolor=s.fill, edgecolor="none"))
        else:
            ha = {"start": "left", "middle": "center", "end": "right"}[s.anchor]
            ax.text(
                s.x,
                s.y,
                s.text,
                fontsize=s.size * pt,
                fontweight=s.weight,
                color=s.color,
                ha=ha,
                va="baseline",
                family="DejaVu Sans",
            )
    fig.savefig(out, dpi=dpi)
    plt.close(fig)


def write_label(label: EnergyLabel, out: str | Path) -> Path:
    """Write the label as SVG or PNG, as the file name's suffix says. Returns the path written."""
    path = Path(out).expanduser()
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise InvalidInput("--out", f"must end in .svg or .png, got {str(out)!r}")
    if not path.parent.exists():
        raise InvalidInput("--out", f"directory {path.parent} does not exist")
    if suffix == ".svg":
        path.write_text(label_svg(label), encoding="utf-8")
    else:
        _png(label, path)
    return path
