"""The life-cycle calculator: a form of the deployment's inputs; ``app.js`` fills the result from
``/api/lifecycle`` as the inputs change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from wattsup import analysis
from wattsup.analysis.types import Facets, Selection
from wattsup.web import views
from wattsup.web.pages.render import ask_of, page
from wattsup.web.params import LifecycleDep, LifecycleParams

router = APIRouter(include_in_schema=False)

REGION_KINDS: tuple[tuple[str, str], ...] = (
    ("aggregate", "World and regions"),
    ("country", "Countries"),
    ("cloud", "Cloud regions"),
    ("egrid", "US eGRID subregions"),
    ("us-state", "US states"),
    ("ca-province", "Canadian provinces"),
)
"""The groups of the region menu, in order: kind of grid region and heading."""


@dataclass(frozen=True)
class RegionGroup:
    label: str
    regions: Sequence[views.Region]


@dataclass(frozen=True)
class Calculator:
    facet: Facets
    p: LifecycleParams
    task: str | None
    task_models: Sequence[str]
    given: frozenset[str]
    """The inputs the request gave (the others show their default as a placeholder)."""
    region_groups: Sequence[RegionGroup]
    gpus: Sequence[str]

    def shown(self, name: str) -> str | None:
        """An input's value as given, or None where it was not (its default stays a placeholder)."""
        value = getattr(self.p, name)
        return None if value is None or name not in self.given else f"{value:.15g}"


@router.get("/lifecycle", response_class=HTMLResponse)
def lifecycle(request: Request, p: LifecycleDep) -> HTMLResponse:
    ask = ask_of(request)
    facet = ask(analysis.facets)
    task = p.task if p.task is not None else (facet.tasks[0] if facet.tasks else None)
    regions = views.regions()
    v = Calculator(
        facet=facet,
        p=p,
        task=task,
        task_models=ask(analysis.facets, Selection(task=task)).models if task else facet.models,
        given=frozenset(k for k, value in request.query_params.items() if value.strip()),
        region_groups=[
            RegionGroup(title, [r for r in regions if r.kind == kind]) for kind, title in REGION_KINDS
        ],
        gpus=[g.name for g in views.gpus()],
    )
    return page("lifecycle.html", v=v, location=ask.store.location)
