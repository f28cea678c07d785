"""Rendering the dashboard's pages: one Jinja2 environment (autoescaped, strict about undefined names),
the numbers formatted by :mod:`wattsup.format` as filters, and the helpers every page route shares.

A route builds a small view model (a frozen dataclass) from the analysis API and renders one template
with it: the template is the only place markup is written, and every value reaches it as text, so a
model id such as ``<script>alert(1)</script>`` can only ever reach the browser as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from wattsup import format as fmt
from wattsup.analysis.types import COMPONENTS, Facets, Metric, ModelEnergy, Selection
from wattsup.web.assets import PLOTLY, href
from wattsup.web.cache import Ask
from wattsup.web.html import path_part, url

NAV: tuple[tuple[str, str, str], ...] = (
    ("overview", "/", "Overview"),
    ("leaderboard", "/leaderboard", "Leaderboard"),
    ("study", "/study", "Energy by task"),
    ("params", "/params", "Energy vs parameters"),
    ("modes", "/modes", "Multi-purpose vs task-specific"),
    ("runs", "/runs", "Runs"),
    ("compare", "/compare", "Compare"),
    ("lifecycle", "/lifecycle", "Life cycle"),
    ("serving", "/serving", "Serving"),
    ("label", "/label", "Energy label"),
    ("api", "/api/docs", "API"),
)

FORMATS = ("number", "sig", "kwh", "params", "kg", "when")
"""The :mod:`wattsup.format` functions the templates use as filters (``{{ e.kwh|kwh }}``)."""

ERROR_TITLES = {404: "Not found", 405: "Not allowed", 422: "Invalid request", 503: "Store unavailable"}


def spread(models: Sequence[ModelEnergy]) -> str:
    """How many times the most energy-hungry model of a task uses the least one's energy."""
    values = [m.kwh for m in models if m.kwh is not None and m.kwh > 0]
    if len(values) < 2:
        return "unknown"
    return f"×{max(values) / min(values):.3g}"


def yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def ratio(value: float | None) -> str:
    """A ratio as ``×1.23``; ``unknown`` when there is none."""
    return "unknown" if value is None else f"×{fmt.sig(value, '.3g')}"


def pairs(values: Iterable[str | tuple[str, str]]) -> list[tuple[str, str]]:
    """A menu's entries as (value, label): a plain value is its own label."""
    return [(v, v) if isinstance(v, str) else v for v in values]


def chosen_of(selected: str | Sequence[str] | None) -> set[str]:
    """The values chosen in a menu or checklist (one, several or none)."""
    return {selected} if isinstance(selected, str) else set(selected or ())


def chosen_first(values: Iterable[str], selected: Sequence[str]) -> list[str]:
    """A checklist's values, the chosen ones first (in the order chosen)."""
    chosen = list(dict.fromkeys(selected))
    return chosen + [v for v in values if v not in set(chosen)]


def _nothing_for_none(value: object) -> object:
    """What ``{{ value }}`` writes: nothing for ``None`` (a template says "unknown" where it means it)."""
    return "" if value is None else value


@cache
def environment() -> Environment:
    """The templates of ``wattsup/web/templates``, every value escaped unless a template marks it."""
    env = Environment(
        loader=PackageLoader("wattsup.web", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_nothing_for_none,
    )
    # numbers for people: wattsup.format, the one formatter
    env.filters.update({name: getattr(fmt, name) for name in FORMATS})
    env.filters.update({f.__name__: f for f in (yes_no, ratio, path_part)})
    env.tests["markup"] = lambda value: isinstance(value, Markup)
    env.globals.update({f.__name__: f for f in (url, first, pairs, chosen_of, chosen_first, spread)})
    env.globals.update(nav=NAV, asset=href, plotly=PLOTLY, components=COMPONENTS)
    return env


def render(template: str, /, **context: Any) -> str:
    """``template`` rendered with ``context`` (a page: its view model and the layout's fields)."""
    return environment().get_template(template).render(**context)


def page(template: str, /, *, location: str = "", status: int = 200, **context: Any) -> HTMLResponse:
    """A whole page as a response that no one keeps (the store changes under it)."""
    body = render(template, location=location, **context)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def error_page(status: int, message: str) -> str:
    return render(
        "error.html", title=ERROR_TITLES.get(status, "Error"), status=status, message=message, location=""
    )


# ---------------------------------------------------------------- what every route needs


@dataclass(frozen=True)
class Filtered:
    """What a page with the filters form shows above its content: the store's facets, the selection
    and the energy figure chosen."""

    facet: Facets
    selection: Selection
    metric: Metric


def ask_of(request: Request) -> Ask:
    ask: Ask = request.app.state.ask
    return ask


def first(value: str | Sequence[str] | None) -> str | None:
    """The first of a selection's values (the menus show one)."""
    if value is None:
        return None
    return value if isinstance(value, str) else (value[0] if value else None)


def query(request: Request, drop: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The request's query parameters, less those in ``drop``."""
    skip = set(drop)
    return [(k, v) for k, v in request.query_params.multi_items() if k not in skip]


def data_src(path: str, request: Request, drop: Iterable[str] = ()) -> str:
    """The API address a chart draws from: ``path`` with the page's own query."""
    return url(path, query(request, drop))
