"""The leaderboard page: a task's models ranked by energy, filtered and sorted as the view asks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from wattsup import analysis
from wattsup.web import views
from wattsup.web.html import url
from wattsup.web.pages.render import Filtered, ask_of, page, query
from wattsup.web.params import SENSOR_FILTERS, SIZE_BUCKETS, LeaderboardDep, MetricDep, SelectionDep

router = APIRouter(include_in_schema=False)

COLUMNS: tuple[tuple[str, str], ...] = (
    ("rank", "Rank"),
    ("model", "Model"),
    ("stars", "Stars"),
    ("kwh", "Energy"),
    ("params", "Parameters"),
    ("hardware", "Hardware"),
    ("runs", "Runs"),
    ("latest", "Latest run"),
)
"""The columns a leaderboard sorts by: key and heading."""

SIZES: tuple[tuple[str, str], ...] = (*((k, v[0]) for k, v in SIZE_BUCKETS.items()), ("unknown", "unknown"))


@dataclass(frozen=True)
class SortHeader:
    """A column heading that sorts by its column (again: the other way round)."""

    key: str
    label: str
    href: str
    active: bool
    desc: bool

    @property
    def arrow(self) -> str:
        return (" ▼" if self.desc else " ▲") if self.active else ""

    @property
    def aria_sort(self) -> str | None:
        return ("descending" if self.desc else "ascending") if self.active else None


def sort_headers(request: Request, sort: str, desc: bool) -> list[SortHeader]:
    headers = []
    for key, label in COLUMNS:
        active = key == sort
        # the active column turns round; the others start with their natural order
        natural = "desc" if key in ("stars", "runs") else "asc"
        order = ("asc" if desc else "desc") if active else natural
        params = [*query(request, drop=("sort", "order")), ("sort", key), ("order", order)]
        headers.append(SortHeader(key, label, url("/leaderboard", params), active, desc))
    return headers


@dataclass(frozen=True)
class Board(Filtered):
    board: views.Leaderboard
    headers: Sequence[SortHeader]
    sizes: Sequence[tuple[str, str]] = SIZES
    sensors: Sequence[tuple[str, str]] = tuple(SENSOR_FILTERS.items())

    @property
    def shown(self) -> str:
        b = self.board
        return f"{len(b.entries)} of {b.total} model–hardware rows" if b.total else "No rows"


@router.get("/leaderboard", response_class=HTMLResponse)
def leaderboard(
    request: Request, selection: SelectionDep, metric: MetricDep, view: LeaderboardDep
) -> HTMLResponse:
    ask = ask_of(request)
    facet = ask(analysis.facets)
    if view.task is None and not facet.tasks:
        return page("leaderboard_empty.html", facet=facet, location=ask.store.location)
    task = views.default_task(facet, view.task)
    board = ask(views.leaderboard, selection, metric, view, task)
    v = Board(facet, selection, metric, board, sort_headers(request, view.sort, view.desc))
    return page("leaderboard.html", v=v, location=ask.store.location)
