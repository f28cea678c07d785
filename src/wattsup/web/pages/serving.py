"""The serving page: the stored serving runs' load levels (``wattsup serve``) and the four serving figures,
each drawn from ``/api/figures/``; the table is ``/api/serving``'s answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from wattsup import figures
from wattsup.analysis.serving import LATENCIES
from wattsup.web.pages.render import ask_of, data_src, page
from wattsup.web.params import ServingDep, ServingParams
from wattsup.web.serving import ServingTable, serving_table

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Chart:
    name: str
    src: str
    heading: str


@dataclass(frozen=True)
class Serving:
    table: ServingTable
    view: ServingParams
    charts: Sequence[Chart]
    latencies: Sequence[tuple[str, str]] = tuple(LATENCIES.items())


@router.get("/serving", response_class=HTMLResponse)
def serving(request: Request, view: ServingDep) -> HTMLResponse:
    ask = ask_of(request)
    charts = [
        Chart(s.name, data_src(f"/api/figures/{s.name}", request), s.heading)
        for s in figures.specs("serving")
    ]
    v = Serving(ask(serving_table, view.serving_model, view.latency), view, charts)
    return page("serving.html", v=v, location=ask.store.location)
