"""Energy star ratings, as the AI Energy Score does them: per task, the models measured on the same
hardware class are split into five 20% groups by energy; the least-energy group gets 5 stars.

- *Hardware class*: the GPU family named in the run's hardware (``NVIDIA A100-SXM4-80GB`` → ``A100``,
  ``NVIDIA H100 80GB HBM3`` → ``H100``), whatever its memory size or form factor; ``CPU`` for a
  processor; the hardware string itself when no family is recognised; ``unknown`` when not recorded.
  Energy depends on the hardware, so models are only ranked against models on the same class.
- *Groups*: models sorted by energy (ties share the better rank); a model at rank ``r`` (1-based) of
  ``n`` gets ``5 - floor(5 (r - 1) / n)`` stars. Fewer than :data:`MIN_MODELS` models on a class are
  not rated (``stars`` is ``None`` with a note): a quintile of three models means nothing.
- *Size classes*: text generation is rated within size classes as the AI Energy Score does
  (A ≤ 20B parameters, B ≤ 66B, C > 66B); a model of unknown size is rated with the other unknowns.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from wattsup.analysis.query import Rollup, Source, fetch, model_level
from wattsup.analysis.types import DEFAULT_METRIC, Metric, Selection, StarRating
from wattsup.params.carry import shared_fields

MIN_MODELS = 5
"""The fewest models on one hardware class (and size class) that get star ratings."""

SIZE_CLASS_TASKS = ("text-generation", "chat")
"""Tasks rated within parameter-size classes (AI Energy Score)."""

_GPU_FAMILY = re.compile(
    r"\b(GB200|GH200|B200|B100|H200|H100|H800|H20|A100|A800|A10G|A10|A16|A30|A40|A2|L40S|L40|L4|T4|V100|"
    r"P100|P4|K80|MI300X|MI300A|MI250X|MI250|MI210|MI100|RTX\s?PRO\s?\d{4}|RTX\s?A\d{4}|RTX\s?\d{4}\s?(?:Ti)?|"
    r"TITAN\s?\w+|Gaudi\s?\d?)\b",
    re.IGNORECASE,
)
_CPU_WORDS = re.compile(
    r"\b(CPU|Xeon|EPYC|Ryzen|Core\(TM\)|Threadripper|Apple M\d|Graviton|Neoverse)\b", re.I
)


def hardware_class(hardware: str | None) -> str:
    """The class a run's hardware is rated in (see the module docs)."""
    if hardware is None or not hardware.strip():
        return "unknown"
    found = _GPU_FAMILY.search(hardware)
    if found:
        return re.sub(r"\s+", " ", found.group(1).upper().replace("TI", "Ti")).strip()
    if _CPU_WORDS.search(hardware):
        return "CPU"
    return hardware.strip()


def size_class(n_params: int | None) -> str | None:
    """AI Energy Score's text-generation size class: A ≤ 20B, B ≤ 66B, C > 66B parameters."""
    if n_params is None:
        return None
    if n_params <= 20e9:
        return "A"
    return "B" if n_params <= 66e9 else "C"


@dataclass(frozen=True)
class Rated:
    key: str
    kwh: float
    stars: int | None
    rank: int
    group_size: int
    note: str


def rate(values: Sequence[tuple[str, float]], *, group: str = "", minimum: int = MIN_MODELS) -> list[Rated]:
    """Stars for ``(key, kwh)`` pairs of one group (see the module docs), sorted by energy."""
    ordered = sorted(values, key=lambda kv: (kv[1], kv[0]))
    n = len(ordered)
    out: list[Rated] = []
    rank = 0
    previous: float | None = None
    for i, (key, kwh) in enumerate(ordered):
        if previous is None or kwh != previous:
            rank = i + 1
        previous = kwh
        if n < minimum:
            stars: int | None = None
            where = f" on {group}" if group else ""
            note = f"not rated: {n} model{'s' if n != 1 else ''}{where}, ratings need at least {minimum}"
        else:
            stars = 5 - math.floor(5 * (rank - 1) / n)
            note = f"group {6 - stars} of 5 (20% each) among {n} models"
        out.append(Rated(key, kwh, stars, rank, n, note))
    return out


def star_ratings(
    source: Source,
    selection: Selection | None = None,
    metric: Metric = DEFAULT_METRIC,
    *,
    size_classes: bool = True,
) -> list[StarRating]:
    """Star ratings of every (task, model) in the selection, per hardware class (and size class for text
    generation when ``size_classes``). A model's energy on a class is the mean over the hardware
    of that class it ran on (each hardware averaged over datasets, each dataset over runs)."""
    m = model_level(Rollup(selection, metric, by=("hardware",), extra=("n_params",)))
    rows = fetch(source, m.select())
    # (task, class, model) -> energies per hardware string; and parameter counts
    per: dict[tuple[str, str, str], list[float]] = {}
    params: dict[tuple[str, str], int] = {}
    for r in rows:
        if r["kwh"] is None:
            continue
        per.setdefault((r["task"], hardware_class(r["hardware"]), r["model"]), []).append(float(r["kwh"]))
        if r["n_params"] is not None:
            params[(r["task"], r["model"])] = int(r["n_params"])
    groups: dict[tuple[str, str, str | None], list[tuple[str, float]]] = {}
    for (task, cls, model), values in per.items():
        sc = size_class(params.get((task, model))) if size_classes and task in SIZE_CLASS_TASKS else None
        if size_classes and task in SIZE_CLASS_TASKS and sc is None:
            sc = "unknown size"
        groups.setdefault((task, cls, sc), []).append((model, sum(values) / len(values)))
    out: list[StarRating] = []
    for task, cls, sc in sorted(groups, key=lambda k: (k[0], k[1], k[2] or "")):
        label = cls + (f", size class {sc}" if sc else "")
        for rated in rate(groups[(task, cls, sc)], group=label):
            out.append(
                StarRating(
                    **shared_fields(rated, StarRating),
                    task=task,
                    model=rated.key,
                    hardware_class=cls,
                    size_class=sc,
                )
            )
    return out
