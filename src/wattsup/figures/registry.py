"""The figure registry: a name → the function that draws the figure and the analysis that feeds it.

Every surface asks for a figure the same way: the report iterates :func:`specs`, the dashboard's API asks
:func:`figure_json` for one by name. A figure module registers its figures with :func:`register`; adding a
figure is one function in one module (and its test)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

from wattsup.analysis.query import Source
from wattsup.analysis.types import DEFAULT_METRIC, Metric, Scenario, Selection
from wattsup.errors import NotFound

if TYPE_CHECKING:
    import plotly.graph_objects as go

T = TypeVar("T")
Section = Literal["energy", "serving"]


@dataclass(frozen=True)
class FigureQuery:
    """What every figure is drawn from: where the runs are, which runs, which energy figure, the life-cycle
    scenario, parameter counts given by the user, and for the serving figures the model and the latency of
    the Pareto front (``ttft`` or ``tpot``). Analyses computed for one figure are kept for the next
    (:meth:`once`): draw several figures from one query."""

    source: Source
    selection: Selection = field(default_factory=Selection)
    metric: Metric = DEFAULT_METRIC
    scenario: Scenario = field(default_factory=Scenario)
    params: Mapping[str, int] | None = None
    serving_model: str | None = None
    latency: str = "ttft"
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def unit(self) -> str:
        return self.metric.unit

    def once(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()``, computed once per query and ``key``."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])


@dataclass(frozen=True)
class FigureSpec(Generic[T]):
    """One figure: ``draw(inputs(query), query.unit)`` gives it, or ``None`` when there is nothing to draw.
    ``heading`` titles its section of the report; ``what`` names it in a note when its analysis fails
    (``inputs`` raised a :class:`~wattsup.errors.WattsupError`)."""

    name: str
    heading: str
    section: Section
    inputs: Callable[[FigureQuery], T]
    draw: Callable[[T, str], go.Figure | None]
    what: str = ""

    def figure(self, query: FigureQuery) -> go.Figure | None:
        return self.draw(self.inputs(query), query.unit)


_FIGURES: dict[str, FigureSpec[Any]] = {}


def register(
    name: str,
    heading: str,
    inputs: Callable[[FigureQuery], T],
    *,
    section: Section = "energy",
    what: str = "",
) -> Callable[[Callable[[T, str], go.Figure | None]], Callable[[T, str], go.Figure | None]]:
    """Register the decorated ``draw(inputs, unit)`` as figure ``name``; figures keep registration order."""

    def add(draw: Callable[[T, str], go.Figure | None]) -> Callable[[T, str], go.Figure | None]:
        if name in _FIGURES:
            raise ValueError(f"figure {name!r} is registered twice")
        _FIGURES[name] = FigureSpec(name, heading, section, inputs, draw, what or f"{heading} figure")
        return draw

    return add


def specs(section: Section | None = None) -> list[FigureSpec[Any]]:
    """The registered figures (of one ``section``), in registration order."""
    return [s for s in _FIGURES.values() if section is None or s.section == section]


def spec(name: str) -> FigureSpec[Any]:
    try:
        return _FIGURES[name]
    except KeyError:
        raise NotFound("figure", name, list(_FIGURES), hint=f"Figures: {', '.join(_FIGURES)}.") from None


def figure(name: str, query: FigureQuery) -> go.Figure | None:
    """Figure ``name`` drawn from ``query``; ``None`` when its analysis gives nothing to draw."""
    return spec(name).figure(query)


def figure_json(name: str, query: FigureQuery) -> dict[str, Any] | None:
    """Figure ``name`` as plotly's JSON (``fig.to_plotly_json()`` with plain JSON types:
    ``{"data": [...], "layout": {...}}``) for ``Plotly.newPlot``; ``None`` when there is nothing to draw."""
    import json

    fig = figure(name, query)
    return None if fig is None else cast(dict[str, Any], json.loads(fig.to_json()))
