"""The runs: a page through the stored runs (failed ones too) and one run's page in full."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from wattsup import analysis
from wattsup.analysis.types import Facets, Selection
from wattsup.web import views
from wattsup.web.html import url
from wattsup.web.pages.render import ask_of, page, query
from wattsup.web.params import Opt, OptText, RunId

router = APIRouter(include_in_schema=False)

PER_PAGE = 50


@dataclass(frozen=True)
class Runs:
    facet: Facets
    task: str | None
    model: str | None
    hardware: str | None
    status: str | None
    found: views.RunList
    page: int
    pages: int
    newer: str | None
    """The previous page's address (None on the first)."""
    older: str | None


@router.get("/runs", response_class=HTMLResponse)
def runs(
    request: Request,
    task: Annotated[OptText, Query()] = None,
    model: Annotated[OptText, Query()] = None,
    hardware: Annotated[OptText, Query()] = None,
    status: Annotated[Annotated[Literal["ok", "failed"] | None, Opt], Query()] = None,
    page_no: Annotated[Annotated[int | None, Opt], Query(ge=1, le=100_000, alias="page")] = None,
) -> HTMLResponse:
    ask = ask_of(request)
    number = page_no or 1
    found = ask(
        views.run_list,
        task=[task] if task else None,
        model=[model] if model else None,
        hardware=[hardware] if hardware else None,
        status=[status] if status else None,
        limit=PER_PAGE,
        offset=(number - 1) * PER_PAGE,
    )
    pages = max(1, -(-found.total // PER_PAGE))
    here = query(request, ("page",))
    v = Runs(
        facet=ask(analysis.facets, Selection(status=None)),
        task=task,
        model=model,
        hardware=hardware,
        status=status,
        found=found,
        page=number,
        pages=pages,
        newer=url("/runs", [*here, ("page", number - 1)]) if number > 1 else None,
        older=url("/runs", [*here, ("page", number + 1)]) if number < pages else None,
    )
    return page("runs.html", v=v, location=ask.store.location)


def _float(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _int(v: object) -> int | None:
    return int(v) if isinstance(v, int) and not isinstance(v, bool) else None


@dataclass(frozen=True)
class Repetition:
    index: object
    inferences: object
    duration_s: float | None
    energy_j: float
    kwh_per_1k: float | None
    output_units: object


def repetitions(record: Mapping[str, Any], kwh_by_rep: Sequence[float | None]) -> list[Repetition]:
    """The repetitions of a stored record (as JSON), each with its energy per 1,000 inferences."""
    reps = record.get("repetitions")
    out = []
    for i, rep in enumerate(reps if isinstance(reps, list) else []):
        m = rep.get("measurement", {}) if isinstance(rep, dict) else {}
        comps = m.get("components", []) if isinstance(m, dict) else []
        total = sum(float(c.get("energy_j", 0.0)) for c in comps if isinstance(c, dict))
        out.append(
            Repetition(
                index=rep.get("index"),
                inferences=rep.get("inferences"),
                duration_s=_float(m.get("duration_s")),
                energy_j=total,
                kwh_per_1k=kwh_by_rep[i] if i < len(kwh_by_rep) else None,
                output_units=rep.get("output_units"),
            )
        )
    return out


@dataclass(frozen=True)
class Phase:
    """A row of the phases table: a window × phase × component, averaged over repetitions."""

    window: object
    phase: object
    depth: int
    component: object
    method: object
    reps: object
    energy_j: float | None
    error_bound_j: float | None
    duration_s: float | None
    kwh_per_1k: float | None

    @classmethod
    def of(cls, p: Mapping[str, object]) -> Phase:
        return cls(
            window=p.get("window"),
            phase=p.get("phase") or "(whole window)",
            depth=_int(p.get("depth")) or 0,
            component=p.get("component"),
            method=p.get("method"),
            reps=p.get("reps"),
            energy_j=_float(p.get("energy_j")),
            error_bound_j=_float(p.get("error_bound_j")),
            duration_s=_float(p.get("duration_s")),
            kwh_per_1k=_float(p.get("kwh_per_1k")),
        )


@dataclass(frozen=True)
class RunPage:
    details: analysis.RunDetails
    summary: Mapping[str, Any]
    phases: Sequence[Phase]
    repetitions: Sequence[Repetition]
    provenance: Mapping[str, Any]
    config: Mapping[str, Any]

    def number(self, key: str) -> float | None:
        """A figure of the summary, or None where it is not a number."""
        return _float(self.summary.get(key))

    @property
    def started(self) -> str | None:
        return str(self.summary.get("started_at") or "") or None

    def count(self, key: str) -> int | None:
        return _int(self.summary.get(key))


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _config(value: object) -> Mapping[str, Any]:
    """The stored configuration as people read it: the task settings that were given, without the family
    tag that types them (none given reads "not set", as before the settings were typed)."""
    config = dict(_mapping(value))
    settings = config.get("settings")
    if isinstance(settings, dict):
        given = {k: v for k, v in settings.items() if k != "family"}
        config["settings"] = given.get("values", given) if settings.get("family") == "legacy" else given
        config["settings"] = config["settings"] or None
    return config


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: RunId) -> HTMLResponse:
    ask = ask_of(request)
    d = ask(analysis.run_details, run_id)
    v = RunPage(
        details=d,
        summary=d.summary,
        phases=[Phase.of(p) for p in d.phases],
        repetitions=repetitions(d.record, d.kwh_per_1k_by_rep),
        provenance=_mapping(d.record.get("provenance")),
        config=_config(d.record.get("config")),
    )
    return page("run.html", v=v, location=ask.store.location)
