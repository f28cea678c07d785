"""Addresses for the dashboard's pages: a query string from parameters, a run id as a path segment.
(Markup is written by the templates in ``wattsup/web/templates``, which escape every value.)"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlencode

__all__ = ["path_part", "url"]


def url(path: str, params: Mapping[str, object] | Iterable[tuple[str, object]] = ()) -> str:
    """``path?query`` with the query encoded; ``None`` and empty values are left out."""
    items = params.items() if isinstance(params, Mapping) else params
    pairs = [(k, str(v)) for k, v in items if v is not None and v != ""]
    return path + ("?" + urlencode(pairs) if pairs else "")


def path_part(text: str) -> str:
    """One URL path segment (a run id): everything but unreserved characters percent-encoded."""
    return quote(text, safe="")
