"""A small HTML builder that escapes by default: every string is text unless it is :class:`Safe`.

Pages are assembled from :func:`tag` calls, so a model id such as ``<script>alert(1)</script>`` can only
ever reach the browser as text. Numbers for people come from :mod:`wattsup.format`; the stars are
markup, so they live here.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlencode

Child = object
"""What a tag may contain: text (escaped), :class:`Safe` markup, numbers, ``None`` (nothing) or an
iterable of those."""

_VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})


class Safe(str):
    """Markup built by this module (or escaped already): inserted as it is."""

    __slots__ = ()


def esc(value: object) -> Safe:
    """``value`` as HTML text: markup characters and quotes escaped (unless it is :class:`Safe`)."""
    if isinstance(value, Safe):
        return value
    return Safe(html.escape(str(value), quote=True))


def _children(items: Iterable[Child]) -> Iterable[str]:
    for item in items:
        if item is None or item is False:
            continue
        if isinstance(item, str):
            yield esc(item)
        elif isinstance(item, bool | int | float):
            yield esc(str(item))
        elif isinstance(item, Iterable):
            yield from _children(item)
        else:
            yield esc(str(item))


def _attr_name(name: str) -> str:
    return name.rstrip("_").replace("_", "-")


def tag(element: str, /, *children: Child, **attrs: object) -> Safe:
    """``<element attrs>children</element>``. Attribute names: ``class_`` → ``class``, ``data_x`` →
    ``data-x``; a value of ``None``/``False`` leaves the attribute out, ``True`` writes it bare."""
    parts = [element]
    for key, value in attrs.items():
        if value is None or value is False:
            continue
        attr = _attr_name(key)
        parts.append(attr if value is True else f'{attr}="{esc(value)}"')
    open_tag = "<" + " ".join(parts) + ">"
    if element in _VOID:
        return Safe(open_tag)
    return Safe(open_tag + "".join(_children(children)) + f"</{element}>")


def join(*children: Child) -> Safe:
    """Several pieces as one fragment (text escaped)."""
    return Safe("".join(_children(children)))


def url(path: str, params: Mapping[str, object] | Iterable[tuple[str, object]] = ()) -> str:
    """``path?query`` with the query encoded; ``None`` and empty values are left out."""
    items = params.items() if isinstance(params, Mapping) else params
    pairs = [(k, str(v)) for k, v in items if v is not None and v != ""]
    return path + ("?" + urlencode(pairs) if pairs else "")


def path_part(text: str) -> str:
    """One URL path segment (a run id): everything but unreserved characters percent-encoded."""
    return quote(text, safe="")


# ---------------------------------------------------------------- figures for people

from wattsup.format import kg, kwh, number, params, when  # noqa: E402  (one formatter: wattsup.format)

__all__ = ["Safe", "esc", "join", "kg", "kwh", "number", "params", "path_part", "stars", "tag", "url", "when"]


def stars(count: int | None, note: str = "") -> Safe:
    """Filled and empty stars with the rating as text for screen readers and the tooltip."""
    if count is None:
        return tag("span", "not rated", class_="muted", title=note or None)
    label = f"{count} of 5 stars" + (f" ({note})" if note else "")
    return tag(
        "span",
        tag("span", "★" * count, aria_hidden="true"),
        tag("span", "☆" * (5 - count), class_="star-empty", aria_hidden="true"),
        tag("span", f"{count} of 5 stars", class_="sr-only"),
        class_="stars",
        title=label,
        data_stars=count,
    )
