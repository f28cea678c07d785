"""The API's documentation as a page (FastAPI's own pages load their scripts from a CDN) and the static
assets."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from wattsup.errors import NotFound
from wattsup.web.assets import asset
from wattsup.web.pages.render import page
from wattsup.web.params import metric_params, selection_params

router = APIRouter(include_in_schema=False)

GROUPS: dict[str, tuple[str, str]] = {
    "selection": (
        ",".join(inspect.signature(selection_params).parameters),
        "Which runs an analysis reads (only successful runs; each parameter narrows the selection, a "
        "repeated parameter gives several values, * and ? are globs).",
    ),
    "metric": (
        ",".join(inspect.signature(metric_params).parameters),
        "Which energy figure: the whole repetition window or one phase; all components or one class.",
    ),
}
"""Parameters many endpoints share, described once: their names and what they choose."""


def schema_name(schema: Mapping[str, Any]) -> str:
    """A JSON schema as a type people read: ``list of Run``, ``string | null``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list of {schema_name(schema.get('items', {}))}"
    if "anyOf" in schema:
        names = [schema_name(s) for s in schema["anyOf"]]
        return " | ".join(dict.fromkeys(n for part in names for n in part.split(" | ")))
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    return str(schema.get("type", "object"))


@dataclass(frozen=True)
class Param:
    name: str
    where: str
    required: bool
    type: str
    description: str

    @classmethod
    def of(cls, p: Mapping[str, Any]) -> Param:
        schema = p.get("schema", {})
        return cls(
            name=p.get("name", ""),
            where=p.get("in", ""),
            required=bool(p.get("required")),
            type=schema_name(schema),
            description=p.get("description") or schema.get("description", ""),
        )


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    summary: str
    shared: Sequence[str]
    """The groups of shared parameters it takes (their rows are in the groups' sections)."""
    params: Sequence[Param]
    returns: str


@dataclass(frozen=True)
class Group:
    name: str
    text: str
    params: Sequence[Param]


def _returns(op: Mapping[str, Any]) -> str:
    ok = op.get("responses", {}).get("200", {}).get("content", {})
    return ", ".join(
        f"{kind}: {schema_name(body.get('schema', {}))}" if body.get("schema") else kind
        for kind, body in ok.items()
    )


def endpoints(spec: Mapping[str, Any]) -> tuple[list[Endpoint], list[Group]]:
    """The operations of an OpenAPI document, and the groups of shared parameters they take."""
    members = {g: set(names.split(",")) for g, (names, _) in GROUPS.items()}
    examples: dict[str, list[Param]] = {}
    out = []
    for path, methods in spec.get("paths", {}).items():
        for method, op in methods.items():
            params: list[dict[str, Any]] = op.get("parameters", [])
            names = {p.get("name") for p in params}
            shared = [g for g, m in members.items() if m <= names]
            hidden = {n for g in shared for n in members[g]}
            for g in shared:
                examples.setdefault(g, [Param.of(p) for p in params if p.get("name") in members[g]])
            own = [Param.of(p) for p in params if p.get("name") not in hidden]
            out.append(Endpoint(method.upper(), path, op.get("summary", ""), shared, own, _returns(op)))
    groups = [Group(g, GROUPS[g][1], examples[g]) for g in GROUPS if g in examples]
    return out, groups


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    spec: dict[str, Any] = request.app.openapi()
    found, groups = endpoints(spec)
    description = spec.get("info", {}).get("description", "")
    return page("api_docs.html", endpoints=found, groups=groups, description=description)


def _headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": "public, max-age=86400", "Vary": "Accept-Encoding"}


@router.get("/static/{name}")
def static(request: Request, name: Annotated[str, PathParam(max_length=64)]) -> Response:
    found = asset(name)
    if found is None:
        raise NotFound("asset", name, [])
    headers = _headers(found.etag)
    if request.headers.get("if-none-match") == found.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(found.gzipped, media_type=found.media_type, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)
