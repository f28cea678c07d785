"""Output length against energy by model family (the study's Figure 5: decoder-only models' energy
grows faster with output length than sequence-to-sequence models'). One point per (model, task,
dataset): mean output units per inference (from the runs' ``output_units``) against kWh per 1,000
inferences; a least-squares line per family."""

from __future__ import annotations

import re
from collections.abc import Mapping

import sqlalchemy as sa

from wattsup.analysis.query import Rollup, Source, check_metric, dataset_level, fetch
from wattsup.analysis.stats import pearson, slope_intercept
from wattsup.analysis.types import DEFAULT_METRIC, FamilyFit, LengthPoint, Metric, Selection

FAMILIES: tuple[tuple[str, str], ...] = (
    (
        r"flan-t5|(^|/)t5-|mt5|bart|pegasus|marian|led-|prophetnet|blenderbot|m2m|nllb|whisper",
        "encoder-decoder",
    ),
    (
        r"bloom|gpt|opt-|llama|mistral|mixtral|falcon|qwen|phi-|gemma|pythia|smollm|olmo|starcoder|codegen",
        "decoder-only",
    ),
)
"""Regular expressions on the model id (case-insensitive, first match wins) → architecture family.
Anything else is ``unknown`` (left out of the fits unless a mapping names it)."""


def model_family(model: str, families: Mapping[str, str] | None = None) -> str:
    """The architecture family of a model id: from ``families`` if it names the model, else by
    :data:`FAMILIES` (``google/flan-t5-xl`` → ``encoder-decoder``, ``bigscience/bloomz-7b1`` →
    ``decoder-only``), else ``unknown``."""
    if families is not None and model in families:
        return families[model]
    for pattern, family in FAMILIES:
        if re.search(pattern, model, re.IGNORECASE):
            return family
    return "unknown"


def output_length_vs_energy(
    source: Source,
    selection: Selection | None = None,
    metric: Metric = DEFAULT_METRIC,
    *,
    families: Mapping[str, str] | None = None,
) -> list[FamilyFit]:
    """Per model family: points (mean output tokens per inference, kWh per 1,000) and a linear fit.
    Runs without ``output_units`` are left out (unknown length, not zero)."""
    check_metric(metric)
    d = dataset_level(Rollup(selection, metric, extra=("units_per_inference",)))
    rows = fetch(
        source,
        sa.select(d.c.task, d.c.model, d.c.dataset, d.c.kwh, d.c.units_per_inference).where(
            d.c.units_per_inference.is_not(None)
        ),
    )
    by_family: dict[str, list[LengthPoint]] = {}
    for r in rows:
        fam = model_family(r["model"], families)
        by_family.setdefault(fam, []).append(
            LengthPoint(
                model=r["model"],
                family=fam,
                task=r["task"],
                dataset=r["dataset"],
                output_units=float(r["units_per_inference"]),
                kwh=float(r["kwh"]),
            )
        )
    out = []
    for fam in sorted(by_family):
        pts = sorted(by_family[fam], key=lambda p: (p.output_units, p.model, p.dataset))
        xs = [p.output_units for p in pts]
        ys = [p.kwh for p in pts]
        slope, intercept = slope_intercept(xs, ys)
        out.append(
            FamilyFit(
                family=fam,
                n=len(pts),
                slope=slope,
                intercept=intercept,
                r=pearson(xs, ys),
                points=pts,
                unit=metric.unit,
            )
        )
    return out
