"""Life-cycle figures from stored runs, through :mod:`wattsup.carbon`: the cost parity of training and
inference per model (Power Hungry Processing: the number of inferences whose energy equals training's),
and the operational/embodied × training/inference breakdown of a deployment scenario."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from wattsup.analysis.query import Source
from wattsup.analysis.summary import _with_task, model_energies
from wattsup.analysis.types import (
    DEFAULT_METRIC,
    LOAD_PHASE,
    LifecycleBreakdown,
    Metric,
    ParityRow,
    Scenario,
    Selection,
)
from wattsup.carbon import Footprint, FootprintInput, footprint, parity_inferences
from wattsup.errors import InvalidInput, NotFound, finite_number
from wattsup.params.carry import shared_fields


def parity(
    source: Source,
    training_kwh: float,
    selection: Selection | None = None,
    metric: Metric = DEFAULT_METRIC,
    *,
    finetune_kwh: float = 0.0,
    queries_per_day: float | None = None,
) -> list[ParityRow]:
    """Per (task, model): inferences (and days at ``queries_per_day``) after which inference has used
    as much energy as training plus fine-tuning."""
    if metric.phase == LOAD_PHASE:
        raise InvalidInput("--phase", "parity needs energy per inference, not the model-load window")
    finite_number("--training-kwh", training_kwh, minimum=0)
    if queries_per_day is not None:
        finite_number("--queries-per-day", queries_per_day, minimum=0, strict_min=True)
    out = []
    for m in model_energies(source, selection, metric):
        if m.kwh is None:
            continue
        n = parity_inferences(training_kwh, m.kwh / 1000.0, finetune_kwh)
        out.append(
            ParityRow(
                task=m.task,
                model=m.model,
                kwh_per_1k=m.kwh,
                training_kwh=training_kwh,
                finetune_kwh=finetune_kwh,
                parity_inferences=n,
                parity_days=(n / queries_per_day) if n is not None and queries_per_day else None,
            )
        )
    return out


def _narrow(selection: Selection | None, scenario: Scenario) -> Selection:
    sel = _with_task(selection, scenario.task) if scenario.task else (selection or Selection())
    if scenario.model:
        from dataclasses import replace

        sel = replace(sel, model=scenario.model)
    return sel


def lifecycle(
    source: Source,
    scenario: Scenario,
    selection: Selection | None = None,
    metric: Metric = DEFAULT_METRIC,
) -> LifecycleBreakdown:
    """The footprint of deploying the selected model(s) as ``scenario`` says: energy per 1,000
    inferences from the runs (the mean over the selected models, or ``scenario.kwh_per_1k``), the GPU
    from the runs' hardware when the catalog knows it (else ``scenario.gpu``; unknown hardware leaves
    embodied carbon unknown), training from ``scenario.training_kwh``."""
    if metric.phase == LOAD_PHASE:
        raise InvalidInput("--phase", "a deployment needs energy per inference, not the model-load window")
    if scenario.region is None:
        raise InvalidInput(
            "--region", "give the region the deployment runs in (e.g. USA, FRA, aws:us-west-2)"
        )
    finite_number("--queries-per-day", scenario.queries_per_day, minimum=0, strict_min=True)
    finite_number("--years", scenario.years, minimum=0, strict_min=True)
    notes: list[str] = []
    sel = _narrow(selection, scenario)
    models = [m for m in model_energies(source, sel, metric) if m.kwh is not None]
    if scenario.kwh_per_1k is not None:
        kwh = finite_number("--kwh-per-1k", scenario.kwh_per_1k, minimum=0)
        source_text = "given (--kwh-per-1k)"
    elif models:
        kwh = sum(m.kwh for m in models if m.kwh is not None) / len(models)
        what = models[0].model if len(models) == 1 else f"mean of {len(models)} models"
        task = scenario.task or ", ".join(sorted({m.task for m in models}))
        source_text = f"from stored runs: {what} on {task} ({metric.unit}, {metric.component} components)"
    else:
        raise InvalidInput(
            "--task",
            "no stored run matches the scenario's task/model; import or run some, or give --kwh-per-1k",
        )
    gpu = scenario.gpu
    if gpu is None:
        hw = Counter(h for m in models if m.hardware for h in m.hardware.split(" | "))
        for name, _ in hw.most_common():
            try:
                from wattsup.carbon import gpu as find_gpu

                gpu = find_gpu(name).name
                break
            except NotFound:
                continue
        if gpu is None:
            notes.append("hardware not in the carbon catalog: embodied carbon unknown (give --gpu)")
    # every footprint input the scenario declares (region, PUE, scale, training) is carried as given
    inp = FootprintInput(
        **shared_fields(scenario, FootprintInput, but=("gpu", "kwh_per_1k")), gpu=gpu, kwh_per_1k=kwh
    )
    return breakdown(scenario, kwh, source_text, gpu, footprint(inp), notes)


def breakdown(
    scenario: Scenario, kwh: float, kwh_source: str, gpu: str | None, fp: Footprint, notes: Sequence[str]
) -> LifecycleBreakdown:
    """The breakdown of ``scenario``'s footprint ``fp`` (computed from ``kwh`` per 1,000 inferences, as
    ``kwh_source`` says, on ``gpu``): its notes are ``notes`` and then the footprint's."""
    tr, inf = fp.training, fp.inference
    assert inf is not None  # a scenario always describes a deployment
    return LifecycleBreakdown(
        scenario=scenario,
        kwh_per_1k=kwh,
        kwh_source=kwh_source,
        gpu=gpu,
        training_operational_kg=tr.operational_kgco2e if tr else None,
        training_embodied_kg=tr.embodied_kgco2e if tr else None,
        inference_operational_kg=inf.operational_kgco2e,
        inference_embodied_kg=inf.embodied_kgco2e,
        training_construction_kg=tr.construction_kgco2e if tr else None,
        inference_construction_kg=inf.construction_kgco2e,
        total_kg=fp.total_kgco2e,
        total_excluding_embodied_kg=fp.total_excluding_embodied_kgco2e,
        parity_inferences=fp.parity_inferences,
        parity_days=fp.parity_days,
        notes=[*notes, *fp.assumptions.notes],
        footprint=fp.to_dict(),
    )
