"""The dashboard's pages: server-rendered HTML (every text escaped by :mod:`wattsup.web.html`) with
charts drawn by ``app.js`` from the JSON API. Each page calls the same views as its API endpoint."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from wattsup import analysis
from wattsup.analysis.types import COMPONENTS, Facets, Metric, Selection
from wattsup.errors import InvalidInput, NotFound
from wattsup.web import views
from wattsup.web.assets import PLOTLY, asset, href
from wattsup.web.cache import Ask
from wattsup.web.html import Safe, join, path_part, tag, url
from wattsup.web.html import kwh as fmt_kwh
from wattsup.web.html import number as fmt_num
from wattsup.web.html import params as fmt_params
from wattsup.web.html import stars as fmt_stars
from wattsup.web.html import when as fmt_when
from wattsup.web.params import (
    MAX_COMPARE,
    MAX_VALUES,
    SENSOR_FILTERS,
    SIZE_BUCKETS,
    LeaderboardDep,
    LifecycleDep,
    MetricDep,
    Opt,
    OptText,
    RunId,
    SelectionDep,
    metric_params,
    selection_params,
)

router = APIRouter(include_in_schema=False)

NAV: tuple[tuple[str, str, str], ...] = (
    ("overview", "/", "Overview"),
    ("leaderboard", "/leaderboard", "Leaderboard"),
    ("study", "/study", "Energy by task"),
    ("params", "/params", "Energy vs parameters"),
    ("modes", "/modes", "Multi-purpose vs task-specific"),
    ("runs", "/runs", "Runs"),
    ("compare", "/compare", "Compare"),
    ("lifecycle", "/lifecycle", "Life cycle"),
    ("label", "/label", "Energy label"),
    ("api", "/api/docs", "API"),
)


def _ask(request: Request) -> Ask:
    ask: Ask = request.app.state.ask
    return ask


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def layout(title: str, page: str, *content: object, charts: bool = False, location: str = "") -> str:
    """A whole page: head, navigation, the content and the scripts (plotly.js only where charts are)."""
    nav = tag(
        "nav",
        tag("a", "⚡ wattsup", href="/", class_="brand"),
        tag(
            "ul",
            [
                tag("li", tag("a", label, href=link, aria_current="page" if key == page else None))
                for key, link, label in NAV
            ],
        ),
        aria_label="Main",
    )
    scripts = [tag("script", src=href(PLOTLY)) if charts else None, tag("script", src=href("app.js"))]
    footer = tag(
        "footer",
        "wattsup dashboard · read-only · ",
        f"store: {location} · " if location else None,
        "energies in kWh per 1,000 inferences unless stated · unknown figures are shown as unknown, never 0",
    )
    doc = tag(
        "html",
        tag(
            "head",
            Safe('<meta charset="utf-8">'),
            tag("meta", name="viewport", content="width=device-width, initial-scale=1"),
            tag("title", f"{title} · wattsup"),
            tag("link", rel="icon", href=href("favicon.svg"), type="image/svg+xml"),
            tag("link", rel="stylesheet", href=href("app.css")),
        ),
        tag(
            "body",
            tag("header", nav),
            tag("main", tag("h1", title), *content, id="main"),
            footer,
            scripts,
            data_page=page,
        ),
        lang="en",
    )
    return "<!doctype html>\n" + doc


def error_page(status: int, message: str) -> str:
    titles = {404: "Not found", 405: "Not allowed", 422: "Invalid request", 503: "Store unavailable"}
    return layout(
        titles.get(status, "Error"),
        "error",
        tag("p", message, class_="alert", role="alert", data_status=status),
        tag("p", tag("a", "Back to the overview", href="/")),
    )


# ---------------------------------------------------------------- building blocks


def _options(
    values: Iterable[tuple[str, str]], selected: str | Sequence[str] | None, blank: str | None = None
) -> list[Safe]:
    chosen = {selected} if isinstance(selected, str) else set(selected or ())
    out = [tag("option", blank, value="", selected=not chosen)] if blank is not None else []
    out += [tag("option", label, value=value, selected=value in chosen) for value, label in values]
    return out


def _select(
    name: str,
    label: str,
    values: Iterable[tuple[str, str]] | Iterable[str],
    selected: str | Sequence[str] | None,
    *,
    blank: str | None = "any",
) -> Safe:
    """A menu; ``blank`` is the label of the "not chosen" entry (``None``: a value must be chosen)."""
    pairs = [(v, v) if isinstance(v, str) else v for v in values]
    return tag("label", tag("span", label), tag("select", _options(pairs, selected, blank), name=name))


def _checklist(name: str, label: str, values: Iterable[str], selected: Sequence[str]) -> Safe:
    """Checkboxes in a scrolling box, the chosen ones first: a many-valued choice people can see."""
    chosen = list(dict.fromkeys(selected))
    rest = [v for v in values if v not in set(chosen)]
    return tag(
        "fieldset",
        tag("legend", label),
        tag(
            "div",
            [
                tag(
                    "label",
                    tag("input", type="checkbox", name=name, value=v, checked=v in chosen),
                    tag("span", v),
                )
                for v in chosen + rest
            ],
            class_="checklist-box",
        ),
        class_="checklist",
    )


def _input(name: str, label: str, value: object, *, kind: str = "text", **attrs: object) -> Safe:
    return tag(
        "label",
        tag("span", label),
        tag("input", type=kind, name=name, value="" if value is None else value, **attrs),
    )


def _table(head: Sequence[object], rows: Iterable[Sequence[object]], **attrs: object) -> Safe:
    return tag(
        "div",
        tag(
            "table",
            tag("thead", tag("tr", [tag("th", h, scope="col") for h in head])),
            tag("tbody", [tag("tr", [tag("td", c) for c in row]) for row in rows]),
            **attrs,
        ),
        class_="table-wrap",
    )


def _first(value: str | Sequence[str] | None) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else (value[0] if value else None)


def _query(request: Request, drop: Iterable[str] = ()) -> list[tuple[str, str]]:
    skip = set(drop)
    return [(k, v) for k, v in request.query_params.multi_items() if k not in skip]


def _data_src(path: str, request: Request, drop: Iterable[str] = ()) -> str:
    return url(path, _query(request, drop))


def _metric_fields(facet: Facets, metric: Metric) -> list[Safe]:
    return [
        _select("component", "Components", [(c, c) for c in COMPONENTS], metric.component, blank=None),
        _select("phase", "Phase", facet.phases, metric.phase, blank="whole window"),
    ]


def _selection_fields(facet: Facets, selection: Selection) -> list[Safe]:
    return [
        _select("task", "Task", facet.tasks, selection.task),
        _select("hardware", "Hardware", facet.hardware, _first(selection.hardware)),
        _select("weights", "Weights", ["pretrained", "random"], _first(selection.weights)),
        _select("mode", "Mode", ["task-specific", "zero-shot"], _first(selection.mode)),
    ]


def _filters(action: str, *fields: object, hidden: Iterable[tuple[str, str]] = ()) -> Safe:
    return tag(
        "form",
        fields,
        [tag("input", type="hidden", name=k, value=v) for k, v in hidden],
        tag("button", "Apply", type="submit"),
        tag("a", "Reset", href=action, class_="reset"),
        method="get",
        action=action,
        class_="filters",
        data_autosubmit=True,
        role="search",
    )


def _empty(facet: Facets) -> Safe | None:
    if facet.runs:
        return None
    return tag(
        "p",
        "The store has no successful runs yet. Measure some with ",
        tag("code", "wattsup bench"),
        " or import logs with ",
        tag("code", "wattsup import"),
        ", then reload this page.",
        class_="alert",
    )


def _chart(kind: str, src: str, label: str) -> Safe:
    return tag(
        "figure",
        tag("div", class_="chart", data_kind=kind, data_src=src, role="img", aria_label=label),
        tag("figcaption", label),
        class_="chart-box",
    )


def _model_link(model: str, task: str) -> Safe:
    return tag("a", model, href=url("/runs", {"task": task, "model": model}), class_="model")


def _run_link(run_id: str, short: bool = True) -> Safe:
    return tag("a", run_id[:12] if short else run_id, href=f"/runs/{path_part(run_id)}", class_="mono")


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


# ---------------------------------------------------------------- overview


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, selection: SelectionDep, metric: MetricDep) -> HTMLResponse:
    ask = _ask(request)
    facet = ask(analysis.facets)
    summaries = ask(analysis.summary_by_task, selection, metric)
    warnings = ask(analysis.mixed_method_warnings, selection)
    counts = tag(
        "ul",
        [
            tag("li", tag("strong", fmt_num(n, 6)), " ", what)
            for n, what in (
                (facet.runs, "successful runs"),
                (len(facet.tasks), "tasks"),
                (len(facet.models), "models"),
                (len(facet.hardware), "kinds of hardware"),
            )
        ],
        class_="counts",
    )
    table = _table(
        ["Task", "Models", "Runs", "Mean", "Median", "Min", "Max", "Std", "Mixed methods"],
        [
            [
                tag("a", s.task, href=url("/leaderboard", {"task": s.task})),
                s.models,
                s.runs,
                fmt_kwh(s.mean_kwh),
                fmt_kwh(s.median_kwh),
                fmt_kwh(s.min_kwh),
                fmt_kwh(s.max_kwh),
                fmt_kwh(s.std_kwh),
                _yes_no(s.mixes_measured_and_modeled),
            ]
            for s in summaries
        ],
        id="summary",
    )
    notes = (
        tag(
            "details",
            tag("summary", f"{len(warnings)} figures add measured and modelled energy"),
            tag("ul", [tag("li", f"{w.task} · {w.model}: {w.message}") for w in warnings[:MAX_VALUES]]),
            class_="warnings",
        )
        if warnings
        else None
    )
    body = layout(
        "Overview",
        "overview",
        _empty(facet),
        counts,
        _filters("/", *_selection_fields(facet, selection), *_metric_fields(facet, metric)),
        tag("h2", f"Energy per task ({metric.unit})"),
        tag(
            "p",
            "Statistics over models: each model is first averaged over its runs and datasets.",
            class_="lead",
        ),
        table,
        notes,
        location=ask.store.location,
    )
    return _html(body)


# ---------------------------------------------------------------- leaderboard


def _sort_header(request: Request, key: str, label: str, view_sort: str, desc: bool) -> Safe:
    active = key == view_sort
    order = (
        "asc" if active and desc else ("desc" if active else ("desc" if key in ("stars", "runs") else "asc"))
    )
    params = [*_query(request, drop=("sort", "order")), ("sort", key), ("order", order)]
    arrow = (" ▼" if desc else " ▲") if active else ""
    return tag(
        "a",
        label,
        arrow,
        href=url("/leaderboard", params),
        class_="sort" + (" active" if active else ""),
        data_sort=key,
        aria_sort=("descending" if desc else "ascending") if active else None,
    )


@router.get("/leaderboard", response_class=HTMLResponse)
def leaderboard(
    request: Request, selection: SelectionDep, metric: MetricDep, view: LeaderboardDep
) -> HTMLResponse:
    ask = _ask(request)
    facet = ask(analysis.facets)
    if view.task is None and not facet.tasks:
        return _html(layout("Leaderboard", "leaderboard", _empty(facet), location=ask.store.location))
    task = views.default_task(facet, view.task)
    board = ask(views.leaderboard, selection, metric, view, task)
    form = _filters(
        "/leaderboard",
        _select("task", "Task", facet.tasks, task, blank=None),
        _select("hardware_class", "Hardware class", facet.hardware_classes, view.hardware_class),
        _select("hardware", "Hardware", facet.hardware, _first(selection.hardware)),
        _select(
            "size",
            "Model size",
            [(k, v[0]) for k, v in SIZE_BUCKETS.items()] + [("unknown", "unknown")],
            view.size,
        ),
        _select("weights", "Weights", ["pretrained", "random"], _first(selection.weights)),
        _select("sensors", "Sensor method", list(SENSOR_FILTERS.items()), view.sensors),
        _select("mode", "Mode", ["task-specific", "zero-shot"], _first(selection.mode)),
        *_metric_fields(facet, metric),
        hidden=[("sort", view.sort), ("order", "desc" if view.desc else "asc")],
    )
    cols = [
        ("rank", "Rank"),
        ("model", "Model"),
        ("stars", "Stars"),
        ("kwh", "Energy"),
        ("params", "Parameters"),
        ("hardware", "Hardware"),
        ("runs", "Runs"),
        ("latest", "Latest run"),
    ]
    head: list[object] = [tag("span", "Compare", class_="sr-only")]
    head += [_sort_header(request, k, label, view.sort, view.desc) for k, label in cols]
    head += ["Mode", "Measured", "Label"]
    rows = [
        [
            tag("input", type="checkbox", name="model", value=e.model, aria_label=f"compare {e.model}"),
            e.rank,
            _model_link(e.model, task),
            fmt_stars(e.stars, e.rating_note),
            tag("span", fmt_kwh(e.kwh), title=f"± {fmt_kwh(e.std_kwh)} (std over runs)", class_="num"),
            fmt_params(e.n_params),
            tag("span", e.hardware_class, title=e.hardware or "unknown"),
            e.runs,
            tag("span", fmt_when(e.latest), class_="nowrap"),
            tag("span", e.mode, class_="nowrap"),
            "unknown" if e.has_modeled is None else ("partly modelled" if e.has_modeled else "measured"),
            tag("a", "label", href=url("/label", {"model": e.model, "task": task})),
        ]
        for e in board.entries
    ]
    compare = tag(
        "form",
        tag("input", type="hidden", name="task", value=task),
        _table(head, rows, id="leaderboard", data_task=task),
        tag("button", "Compare selected models", type="submit"),
        method="get",
        action="/compare",
        class_="compare-form",
    )
    shown = f"{len(board.entries)} of {board.total} model–hardware rows" if board.total else "No rows"
    body = layout(
        f"Leaderboard: {task}",
        "leaderboard",
        _empty(facet),
        form,
        tag(
            "p",
            f"{shown} · energy in {board.unit} · stars rate models within the task and hardware class "
            "(5 stars: the 20% using the least energy).",
            class_="lead",
            id="leaderboard-count",
        ),
        compare,
        location=ask.store.location,
    )
    return _html(body)


# ---------------------------------------------------------------- figures


@router.get("/study", response_class=HTMLResponse)
def study(request: Request, selection: SelectionDep, metric: MetricDep) -> HTMLResponse:
    ask = _ask(request)
    facet = ask(analysis.facets)
    tasks = ask(analysis.study_figure, selection, metric)
    table = _table(
        ["Task", "Models", "Mean", "Least", "Most", "Spread"],
        [
            [
                tag("a", t.task, href=url("/leaderboard", {"task": t.task})),
                len(t.models),
                fmt_kwh(t.mean_kwh),
                fmt_kwh(min((m.kwh for m in t.models if m.kwh is not None), default=None)),
                fmt_kwh(max((m.kwh for m in t.models if m.kwh is not None), default=None)),
                _spread(t.models),
            ]
            for t in tasks
        ],
        id="study-table",
    )
    body = layout(
        "Energy by task",
        "study",
        _empty(facet),
        tag(
            "p",
            "The Power Hungry Processing study's main figure: one point per model (its mean over runs and "
            f"datasets), tasks from least to most energy, on a log scale ({metric.unit}). Hover a point for "
            "its details.",
            class_="lead",
        ),
        _filters("/study", *_selection_fields(facet, selection), *_metric_fields(facet, metric)),
        _chart("study", _data_src("/api/study", request), f"Energy per task ({metric.unit}, log scale)"),
        table,
        charts=True,
        location=ask.store.location,
    )
    return _html(body)


def _spread(models: Sequence[analysis.ModelEnergy]) -> str:
    values = [m.kwh for m in models if m.kwh is not None and m.kwh > 0]
    if len(values) < 2:
        return "unknown"
    return f"×{max(values) / min(values):.3g}"


@router.get("/params", response_class=HTMLResponse)
def params_page(request: Request, selection: SelectionDep, metric: MetricDep) -> HTMLResponse:
    ask = _ask(request)
    facet = ask(analysis.facets)
    fits = ask(analysis.energy_vs_params, selection, metric)
    table = _table(
        ["Task", "Models", "Slope (log-log)", "r²", "Spearman", "Without a parameter count"],
        [
            [
                f.task,
                f.n,
                fmt_num(f.slope),
                fmt_num(f.r2),
                fmt_num(f.spearman),
                ", ".join(f.missing_params) or "none",
            ]
            for f in fits
        ],
        id="params-table",
    )
    body = layout(
        "Energy vs parameters",
        "params",
        _empty(facet),
        tag(
            "p",
            "Energy per 1,000 inferences against the model's parameter count, per task, with the log-log "
            "least-squares fit: a slope of 1 means energy grows in proportion to size.",
            class_="lead",
        ),
        _filters("/params", *_selection_fields(facet, selection), *_metric_fields(facet, metric)),
        _chart("params", _data_src("/api/energy-vs-params", request), "Energy against parameters (log-log)"),
        table,
        charts=True,
        location=ask.store.location,
    )
    return _html(body)


@router.get("/modes", response_class=HTMLResponse)
def modes(request: Request, selection: SelectionDep, metric: MetricDep) -> HTMLResponse:
    ask = _ask(request)
    facet = ask(analysis.facets)
    found = ask(analysis.multi_vs_task, selection, metric)
    rows: list[list[object]] = []
    for c in found:
        rows.append(
            [
                tag("strong", c.task),
                "all datasets",
                fmt_kwh(c.task_specific_kwh),
                c.task_specific_models,
                fmt_kwh(c.multi_purpose_kwh),
                c.multi_purpose_models,
                "unknown" if c.ratio is None else f"×{c.ratio:.3g}",
            ]
        )
        rows += [
            [
                "",
                d.dataset,
                fmt_kwh(d.task_specific_kwh),
                d.task_specific_models,
                fmt_kwh(d.multi_purpose_kwh),
                d.multi_purpose_models,
                "unknown" if d.ratio is None else f"×{d.ratio:.3g}",
            ]
            for d in c.per_dataset
        ]
    table = _table(
        ["Task", "Dataset", "Task-specific", "Models", "Multi-purpose", "Models", "Ratio"],
        rows,
        id="modes-table",
    )
    body = layout(
        "Multi-purpose vs task-specific",
        "modes",
        _empty(facet),
        tag(
            "p",
            "Multi-purpose models prompted for a task (zero-shot runs) against models trained for it: the "
            "ratio is the multi-purpose mean over the task-specific mean.",
            class_="lead",
        ),
        _filters("/modes", *_selection_fields(facet, selection)[:3], *_metric_fields(facet, metric)),
        None if found else tag("p", "No task has runs in both modes in this selection.", class_="alert"),
        _chart("modes", _data_src("/api/multi-vs-task", request), f"Mean energy per mode ({metric.unit})"),
        table,
        charts=True,
        location=ask.store.location,
    )
    return _html(body)


# ---------------------------------------------------------------- runs


@router.get("/runs", response_class=HTMLResponse)
def runs(
    request: Request,
    task: Annotated[OptText, Query()] = None,
    model: Annotated[OptText, Query()] = None,
    hardware: Annotated[OptText, Query()] = None,
    status: Annotated[Annotated[Literal["ok", "failed"] | None, Opt], Query()] = None,
    page: Annotated[Annotated[int | None, Opt], Query(ge=1, le=100_000)] = None,
) -> HTMLResponse:
    ask = _ask(request)
    facet = ask(analysis.facets, Selection(status=None))
    page = page or 1
    per_page = 50
    found = ask(
        views.run_list,
        task=[task] if task else None,
        model=[model] if model else None,
        hardware=[hardware] if hardware else None,
        status=[status] if status else None,
        limit=per_page,
        offset=(page - 1) * per_page,
    )
    form = _filters(
        "/runs",
        _select("task", "Task", facet.tasks, task),
        _input("model", "Model (globs: *)", model, list="models", maxlength=512),
        tag("datalist", _options([(m, m) for m in facet.models], None), id="models"),
        _select("hardware", "Hardware", facet.hardware, hardware),
        _select("status", "Status", ["ok", "failed"], status),
    )
    rows = [
        [
            _run_link(str(r["run_id"])),
            fmt_when(r["started_at"]),
            r["task"],
            r["model"],
            r["dataset"],
            r["hardware"] or "unknown",
            tag("span", r["status"], class_=f"status-{r['status']}"),
            fmt_kwh(r["energy_kwh_per_1k"]),
            r["reps_measured"],
        ]
        for r in found.runs
    ]
    pages = max(1, -(-found.total // per_page))
    nav = tag(
        "p",
        tag("a", "← newer", href=url("/runs", [*_query(request, ("page",)), ("page", page - 1)]))
        if page > 1
        else None,
        f" page {page} of {pages} ({found.total} runs) ",
        tag("a", "older →", href=url("/runs", [*_query(request, ("page",)), ("page", page + 1)]))
        if page < pages
        else None,
        class_="pager",
    )
    body = layout(
        "Runs",
        "runs",
        form,
        _table(
            ["Run", "Started", "Task", "Model", "Dataset", "Hardware", "Status", "Energy", "Reps"],
            rows,
            id="runs",
        ),
        nav,
        location=ask.store.location,
    )
    return _html(body)


def _kv(items: Iterable[tuple[str, object]], *, empty: str = "unknown") -> Safe:
    """A definition list; ``None`` and empty values read ``empty`` (configuration: "not set")."""
    return tag("dl", [join(tag("dt", k), tag("dd", _value(v, empty))) for k, v in items], class_="kv")


def _value(v: object, empty: str) -> object:
    if isinstance(v, Safe):
        return v
    if v is None or (isinstance(v, str | list | dict) and not v):
        return tag("span", empty, class_="muted")
    if isinstance(v, dict):
        return tag(
            "ul", [tag("li", tag("code", k), ": ", _value(x, empty)) for k, x in v.items()], class_="plain"
        )
    if isinstance(v, list):
        return ", ".join(str(x) for x in v)
    if isinstance(v, float):
        return fmt_num(v, 4)
    return str(v)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: RunId) -> HTMLResponse:
    ask = _ask(request)
    d = ask(analysis.run_details, run_id)
    s = d.summary
    record = d.record
    heading = [
        ("task", s.get("task")),
        ("model", s.get("model")),
        ("dataset", s.get("dataset")),
        ("status", s.get("status")),
        *([("error", s.get("error"))] if s.get("status") != "ok" else []),
        ("started", fmt_when(str(s.get("started_at") or "") or None)),
        ("hardware", s.get("hardware")),
        ("energy (kWh per 1,000 inferences)", fmt_kwh(_float(s.get("energy_kwh_per_1k")))),
        ("std over repetitions", fmt_kwh(_float(s.get("energy_kwh_per_1k_std")))),
        ("error bound", fmt_kwh(_float(s.get("error_bound_kwh_per_1k")))),
        (
            "GPU / CPU / RAM",
            " / ".join(fmt_kwh(_float(s.get(f"{c}_energy_kwh_per_1k"))) for c in ("gpu", "cpu", "ram")),
        ),
        ("mean window (s)", s.get("duration_s")),
        ("inferences per second", s.get("inferences_per_s")),
        ("model load (J)", s.get("load_energy_j")),
        ("sensor methods", s.get("sensor_methods")),
        ("parameters", fmt_params(_int(s.get("n_params")))),
    ]
    phase_rows = [
        [
            p.get("window"),
            tag(
                "span",
                p.get("phase") or "(whole window)",
                style=f"padding-left:{_int(p.get('depth')) or 0}em",
            ),
            p.get("component"),
            p.get("method"),
            p.get("reps"),
            fmt_num(_float(p.get("energy_j")), 4),
            fmt_num(_float(p.get("error_bound_j")), 3),
            fmt_num(_float(p.get("duration_s")), 4),
            tag("span", "per load", class_="muted", title="the model-load window is not per inference")
            if p.get("window") == "load"
            else fmt_kwh(_float(p.get("kwh_per_1k"))),
        ]
        for p in d.phases
    ]
    reps = record.get("repetitions")
    rep_rows = []
    for i, rep in enumerate(reps if isinstance(reps, list) else []):
        m = rep.get("measurement", {}) if isinstance(rep, dict) else {}
        comps = m.get("components", []) if isinstance(m, dict) else []
        total = sum(float(c.get("energy_j", 0.0)) for c in comps if isinstance(c, dict))
        rep_rows.append(
            [
                rep.get("index"),
                rep.get("inferences"),
                fmt_num(_float(m.get("duration_s")), 4),
                fmt_num(total, 5),
                fmt_kwh(d.kwh_per_1k_by_rep[i] if i < len(d.kwh_per_1k_by_rep) else None),
                _value(rep.get("output_units"), "unknown"),
            ]
        )
    provenance = record.get("provenance")
    config = record.get("config")
    body = layout(
        f"Run {d.run_id[:12]}",
        "run",
        tag(
            "p",
            tag("code", d.run_id),
            " · ",
            tag("a", "compare with another run", href=url("/compare", {"run": d.run_id})),
            class_="lead",
        ),
        tag("ul", [tag("li", w) for w in d.warnings], class_="alert warnings") if d.warnings else None,
        tag("section", tag("h2", "Summary"), _kv(heading), id="summary"),
        tag(
            "section",
            tag("h2", "Power timeline"),
            _chart(
                "timeline",
                f"/api/runs/{path_part(d.run_id)}/timeline",
                "Power of each component during the metered windows (W)",
            ),
            id="timeline",
        ),
        tag(
            "section",
            tag("h2", "Phases (mean over repetitions)"),
            _table(
                [
                    "Window",
                    "Phase",
                    "Component",
                    "Method",
                    "Reps",
                    "Energy (J)",
                    "± bound (J)",
                    "Duration (s)",
                    "kWh / 1,000",
                ],
                phase_rows,
                id="phases",
            ),
        ),
        tag(
            "section",
            tag("h2", "Repetitions"),
            _table(
                ["#", "Inferences", "Duration (s)", "Energy (J)", "kWh / 1,000", "Output units"],
                rep_rows,
                id="reps",
            ),
        ),
        tag(
            "section",
            tag("h2", "Provenance"),
            _kv(provenance.items() if isinstance(provenance, dict) else []),
            tag("h2", "Configuration"),
            _kv(config.items() if isinstance(config, dict) else [], empty="not set"),
            id="provenance",
        ),
        charts=True,
        location=ask.store.location,
    )
    return _html(body)


def _float(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _int(v: object) -> int | None:
    return int(v) if isinstance(v, int) and not isinstance(v, bool) else None


# ---------------------------------------------------------------- comparison


@router.get("/compare", response_class=HTMLResponse)
def compare(
    request: Request,
    selection: SelectionDep,
    metric: MetricDep,
    run: Annotated[list[RunId] | None, Query(max_length=MAX_COMPARE)] = None,
) -> HTMLResponse:
    ask = _ask(request)
    facet = ask(analysis.facets)
    if run and len(run) >= 2:
        content = _compare_runs(ask, tuple(run), metric, request)
    else:
        models = [selection.model] if isinstance(selection.model, str) else list(selection.model or [])
        content = _compare_models(ask, models, selection, metric, facet, request, run or [])
    body = layout("Compare", "compare", *content, charts=True, location=ask.store.location)
    return _html(body)


def _compare_models(
    ask: Ask,
    models: list[str],
    selection: Selection,
    metric: Metric,
    facet: Facets,
    request: Request,
    runs_given: list[str],
) -> list[object]:
    form = _filters(
        "/compare",
        _checklist("model", f"Models (2 to {MAX_COMPARE})", facet.models, models),
        _select("task", "Task", facet.tasks, selection.task),
        _select("hardware", "Hardware", facet.hardware, _first(selection.hardware)),
        *_metric_fields(facet, metric),
    )
    out: list[object] = [
        tag(
            "p",
            "Pick two or more models to see their energy side by side on every task they ran; or give run "
            "ids (",
            tag("code", "?run=ID&run=ID"),
            ") to compare runs phase by phase.",
            class_="lead",
        ),
        form,
    ]
    if runs_given:
        out.append(
            tag("p", "Give a second run id to compare runs (add &run=ID to the address).", class_="alert")
        )
    if len(models) < 2:
        return out
    if len(models) > MAX_COMPARE:
        raise InvalidInput("model", f"compare at most {MAX_COMPARE} models at once, got {len(models)}")
    cmp = ask(views.compare_models, tuple(models), selection, metric)
    head: list[object] = ["Task"]
    head += [tag("span", m, class_="model") for m in cmp.models]
    rows = []
    for row in cmp.rows:
        cells: list[object] = [tag("a", row.task, href=url("/leaderboard", {"task": row.task}))]
        for e, ratio in zip(row.energies, row.ratio_to_first, strict=True):
            if e is None:
                cells.append(tag("span", "not run", class_="muted"))
            else:
                cells.append(
                    join(
                        tag("span", fmt_kwh(e.kwh), class_="num"),
                        tag("span", f" ×{ratio:.3g}", class_="muted") if ratio is not None else None,
                        tag("br"),
                        tag("small", f"{e.runs} runs · {fmt_params(e.n_params)} params · {e.hardware_class}"),
                    )
                )
        rows.append(cells)
    out += [
        tag("p", "Not in the selected runs: " + ", ".join(cmp.missing), class_="alert")
        if cmp.missing
        else None,
        _chart(
            "compare-models",
            _data_src("/api/compare/models", request, ("run",)),
            f"Energy per task ({cmp.unit})",
        ),
        tag("h2", f"Energy per task ({cmp.unit}; ratio to the first model)"),
        _table(head, rows, id="compare-models"),
    ]
    return out


def _compare_runs(ask: Ask, run_ids: tuple[str, ...], metric: Metric, request: Request) -> list[object]:
    cmp = ask(analysis.compare_runs, run_ids, metric)
    rows = [
        [
            _run_link(r.run_id),
            r.task,
            r.model,
            r.dataset,
            r.hardware or "unknown",
            fmt_kwh(r.kwh),
            "unknown" if r.ratio_to_first is None else f"×{r.ratio_to_first:.3g}",
            fmt_num(r.duration_s, 4),
            fmt_num(r.inferences_per_s, 4),
        ]
        for r in cmp.runs
    ]
    phase_head: list[object] = ["Phase", *(_run_link(r.run_id) for r in cmp.runs)]
    phase_rows = [[p.phase, *(fmt_kwh(v) for v in p.kwh)] for p in cmp.phases]
    src = url(
        "/api/compare/runs", [("run", r) for r in run_ids] + [(k, v) for k, v in _query(request, ("run",))]
    )
    return [
        tag("ul", [tag("li", w) for w in cmp.warnings], class_="alert warnings") if cmp.warnings else None,
        _chart("compare-runs", src, f"Energy per phase ({cmp.unit})"),
        tag("h2", f"Runs ({cmp.unit}; ratio to the first run)"),
        _table(
            ["Run", "Task", "Model", "Dataset", "Hardware", "Energy", "Ratio", "Window (s)", "Inferences/s"],
            rows,
            id="compare-runs",
        ),
        tag("h2", "Phases"),
        _table(phase_head, phase_rows, id="compare-phases"),
    ]


# ---------------------------------------------------------------- life cycle


@router.get("/lifecycle", response_class=HTMLResponse)
def lifecycle(request: Request, p: LifecycleDep) -> HTMLResponse:
    ask = _ask(request)
    facet = ask(analysis.facets)
    task = p.task if p.task is not None else (facet.tasks[0] if facet.tasks else None)
    task_models = ask(analysis.facets, Selection(task=task)).models if task else facet.models
    given = {k for k, v in request.query_params.items() if v.strip()}

    def shown(name: str, value: float | None) -> str | None:
        # the inputs show what was given (a default stays a placeholder)
        return None if value is None or name not in given else f"{value:.15g}"

    regions = views.regions()
    kinds = {
        "aggregate": "World and regions",
        "country": "Countries",
        "cloud": "Cloud regions",
        "egrid": "US eGRID subregions",
        "us-state": "US states",
        "ca-province": "Canadian provinces",
    }
    chosen_region = p.region
    region_select = tag(
        "label",
        tag("span", "Region (grid)"),
        tag(
            "select",
            [
                tag(
                    "optgroup",
                    [
                        tag(
                            "option",
                            f"{r.code} · {r.name} ({r.intensity_g_per_kwh:.0f} g/kWh)",
                            value=r.code,
                            selected=r.code == chosen_region,
                        )
                        for r in regions
                        if r.kind == kind
                    ],
                    label=title,
                )
                for kind, title in kinds.items()
            ],
            name="region",
        ),
    )
    num = {"kind": "number", "step": "any", "min": "0", "inputmode": "decimal"}
    form = tag(
        "form",
        tag(
            "fieldset",
            tag("legend", "Which model"),
            _select(
                "task",
                "Task",
                facet.tasks,
                task,
                blank="all tasks",
            ),
            _select("model", "Model", task_models, p.model, blank="mean of the task's models"),
            _input(
                "kwh_per_1k",
                "or kWh per 1,000 inferences",
                shown("kwh_per_1k", p.kwh_per_1k),
                placeholder="from the runs",
                **num,
            ),
            _select(
                "gpu",
                "GPU (embodied carbon)",
                [g.name for g in views.gpus()],
                p.gpu,
                blank="from the runs",
            ),
        ),
        tag(
            "fieldset",
            tag("legend", "Where and how long"),
            region_select,
            _input(
                "pue",
                "PUE",
                shown("pue", p.pue),
                placeholder="provider default",
                kind="number",
                step="0.01",
                min="1",
                max="5",
            ),
            _input(
                "lifetime_years",
                "Hardware lifetime (years)",
                shown("lifetime_years", p.lifetime_years),
                placeholder="5",
                kind="number",
                step="0.5",
                min="0.5",
                max="30",
            ),
            _input(
                "utilization",
                "Utilisation (0–1]",
                shown("utilization", p.utilization),
                placeholder="0.85",
                kind="number",
                step="0.05",
                min="0.05",
                max="1",
            ),
        ),
        tag(
            "fieldset",
            tag("legend", "How much"),
            _input("queries_per_day", "Queries per day", f"{p.queries_per_day:.15g}", **num),
            _input(
                "years",
                "Years deployed",
                f"{p.years:.15g}",
                kind="number",
                step="0.5",
                min="0.1",
                max="100",
            ),
            _input(
                "training_kwh",
                "Training energy (kWh)",
                shown("training_kwh", p.training_kwh),
                placeholder="none",
                **num,
            ),
            _input(
                "finetune_kwh",
                "Fine-tuning energy (kWh)",
                shown("finetune_kwh", p.finetune_kwh),
                placeholder="0",
                **num,
            ),
        ),
        tag("noscript", tag("p", "The calculator needs JavaScript; the same figures are at /api/lifecycle.")),
        method="get",
        action="/lifecycle",
        id="calc",
        class_="calc",
    )
    result = tag(
        "section",
        tag("p", "", id="lc-error", class_="alert", role="alert", hidden=True),
        tag("p", "Computing…", id="lc-source", class_="lead"),
        tag(
            "div",
            tag(
                "table",
                tag(
                    "thead",
                    tag(
                        "tr",
                        tag("th", "kgCO2e"),
                        tag("th", "Operational"),
                        tag("th", "Embodied"),
                        tag("th", "Construction"),
                        tag("th", "Total"),
                    ),
                ),
                tag(
                    "tbody",
                    [
                        tag(
                            "tr",
                            tag("th", name, scope="row"),
                            [
                                tag("td", "…", data_cell=f"{key}-{part}", class_="num")
                                for part in ("operational", "embodied", "construction", "total")
                            ],
                        )
                        for key, name in (
                            ("training", "Training"),
                            ("inference", "Inference"),
                            ("all", "Total"),
                        )
                    ],
                ),
                id="lc-table",
            ),
            class_="table-wrap",
        ),
        tag("p", "", id="lc-parity", class_="parity"),
        _chart("lifecycle", "", "Carbon by phase: operational, embodied and construction (kgCO2e)"),
        tag("details", tag("summary", "Assumptions and notes"), tag("ul", id="lc-notes")),
        id="lc-result",
        aria_live="polite",
    )
    body = layout(
        "Life-cycle calculator",
        "lifecycle",
        _empty(facet),
        tag(
            "p",
            "Operational and embodied carbon of training and of serving a model, from the energy you "
            "measured. Change any input: the figures update as you type.",
            class_="lead",
        ),
        tag("div", form, result, class_="calc-grid"),
        charts=True,
        location=ask.store.location,
    )
    return _html(body)


# ---------------------------------------------------------------- energy label


@router.get("/label", response_class=HTMLResponse)
def label(
    request: Request,
    selection: SelectionDep,
    metric: MetricDep,
    model: Annotated[OptText, Query()] = None,
) -> HTMLResponse:
    ask = _ask(request)
    facet = ask(analysis.facets)
    selection = replace(selection, model=None)  # ``model`` is the label's; it is rated among all models
    task = _first(selection.task) or (facet.tasks[0] if facet.tasks else None)
    task_models = ask(analysis.facets, replace(selection, task=task)).models if task else []
    if task is not None and not task_models:
        raise NotFound("task", task, facet.tasks, hint="in the selected runs")
    note = None
    if model is not None and model not in task_models:
        # a task changed in the form with the previous task's model still chosen
        note = tag(
            "p", f"{model} has no runs on {task} in this selection; showing the task's best.", class_="alert"
        )
        model = None
    if model is None and task is not None:
        top = ask(analysis.leaderboard, task, selection, metric, limit=1) if task_models else []
        model = top[0].model if top else None
    form = _filters(
        "/label",
        _select("task", "Task", facet.tasks, task, blank=None),
        _select("model", "Model", task_models, model, blank=None),
        *_metric_fields(facet, metric),
    )
    content: list[object] = [_empty(facet), form, note]
    if model is not None and task is not None:
        found = ask(analysis.energy_label, model, task, selection, metric)
        params = [("model", found.model), ("task", task), *_query(request, ("model", "task"))]
        svg = url("/api/label.svg", params)
        content += [
            tag(
                "div",
                tag(
                    "img",
                    src=svg,
                    alt=f"Energy label of {found.model} on {task}",
                    width=420,
                    height=624,
                    id="label-img",
                ),
                tag(
                    "div",
                    _kv(
                        [
                            ("model", found.model),
                            ("task", found.task),
                            ("energy", f"{fmt_kwh(found.kwh)} {found.unit}"),
                            ("stars", fmt_stars(found.stars, found.rating_note)),
                            ("rating", found.rating_note),
                            ("hardware", found.hardware),
                            ("rated among", f"{found.group_size} models on {found.hardware_class}"),
                            ("runs", found.runs),
                            ("latest run", fmt_when(found.date)),
                            ("includes modelled energy", _yes_no(found.has_modeled)),
                        ]
                    ),
                    tag(
                        "p",
                        tag(
                            "a",
                            "Download SVG",
                            href=url("/api/label.svg", [*params, ("download", "true")]),
                            download=True,
                            class_="button",
                            id="download-svg",
                        ),
                        " ",
                        tag(
                            "a",
                            "Download PNG",
                            href=url("/api/label.png", params),
                            download=True,
                            class_="button",
                            id="download-png",
                        ),
                    ),
                ),
                class_="label-grid",
            )
        ]
    body = layout("Energy label", "label", *content, location=ask.store.location)
    return _html(body)


# ---------------------------------------------------------------- API documentation (offline)


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list of {_schema_name(schema.get('items', {}))}"
    if "anyOf" in schema:
        names = [_schema_name(s) for s in schema["anyOf"]]
        return " | ".join(dict.fromkeys(n for part in names for n in part.split(" | ")))
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    return str(schema.get("type", "object"))


def _param_rows(params: Iterable[dict[str, Any]]) -> list[list[object]]:
    return [
        [
            tag("code", p.get("name", "")),
            p.get("in", ""),
            "yes" if p.get("required") else "no",
            _schema_name(p.get("schema", {})),
            p.get("description") or p.get("schema", {}).get("description", ""),
        ]
        for p in params
    ]


_PARAM_HEAD = ["Parameter", "In", "Required", "Type", "Description"]


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """The OpenAPI document as a page (FastAPI's own pages load their scripts from a CDN)."""
    spec: dict[str, Any] = request.app.openapi()
    groups = {
        "selection": [p for p in inspect.signature(selection_params).parameters],
        "metric": [p for p in inspect.signature(metric_params).parameters],
    }
    examples: dict[str, list[dict[str, Any]]] = {}
    sections = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            params: list[dict[str, Any]] = op.get("parameters", [])
            names = {p.get("name") for p in params}
            shared = [g for g, members in groups.items() if set(members) <= names]
            hidden = {n for g in shared for n in groups[g]}
            for g in shared:
                examples.setdefault(g, [p for p in params if p.get("name") in groups[g]])
            own = [p for p in params if p.get("name") not in hidden]
            ok = op.get("responses", {}).get("200", {}).get("content", {})
            returns = ", ".join(
                f"{kind}: {_schema_name(body.get('schema', {}))}" if body.get("schema") else kind
                for kind, body in ok.items()
            )
            sections.append(
                tag(
                    "section",
                    tag("h2", tag("span", method.upper(), class_="method"), " ", tag("code", path)),
                    tag("p", op.get("summary", "")),
                    tag("p", "Also takes the ", " and ".join(shared), " parameters.") if shared else None,
                    _table(_PARAM_HEAD, _param_rows(own)) if own else None,
                    tag("p", "Returns ", tag("code", returns or "JSON"), class_="muted"),
                    class_="endpoint",
                )
            )
    common = [
        tag(
            "section",
            tag("h2", f"The {g} parameters"),
            tag(
                "p",
                "Which runs an analysis reads (only successful runs; each parameter narrows the selection, "
                "a repeated parameter gives several values, * and ? are globs)."
                if g == "selection"
                else "Which energy figure: the whole repetition window or one phase; all components or one "
                "class.",
            ),
            _table(_PARAM_HEAD, _param_rows(examples[g])),
        )
        for g in groups
        if g in examples
    ]
    body = layout(
        "API",
        "api",
        tag(
            "p",
            spec.get("info", {}).get("description", ""),
            " The OpenAPI document is at ",
            tag("a", "/api/openapi.json", href="/api/openapi.json"),
            ". Invalid parameters get a 422 whose ",
            tag("code", "message"),
            " names the parameter; an unknown task, model or run a 404 with the closest matches.",
            class_="lead",
        ),
        common,
        sections,
    )
    return _html(body)


# ---------------------------------------------------------------- static assets


@router.get("/static/{name}")
def static(request: Request, name: Annotated[str, PathParam(max_length=64)]) -> Response:
    found = asset(name)
    if found is None:
        raise NotFound("asset", name, [])
    headers = {"ETag": found.etag, "Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(found.gzipped, media_type=found.media_type, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)
