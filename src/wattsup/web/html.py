"""A small HTML builder that escapes by default: every string is text unless it is :class:`Safe`.

Pages are assembled from :func:`tag` calls, so a model id such as ``<script>alert(1)</script>`` can only
ever reach the browser as text. Number formatting for people lives here too (kWh, parameters, stars).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
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


def kwh(value: float | None) -> str:
    """kWh with four significant digits; ``unknown`` for ``None``."""
    if value is None or math.isnan(value):
        return "unknown"
    if value == 0:
        return "0"
    return f"{value:.4g}" if 1e-3 <= abs(value) < 1e5 else f"{value:.3e}"


def number(value: float | None, digits: int = 3) -> str:
    if value is None or math.isnan(value):
        return "unknown"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def params(n: int | None) -> str:
    """A parameter count as people write it: 135M, 6.7B."""
    if n is None:
        return "unknown"
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.3g}{suffix}"
    return str(n)


def kg(value: float | None) -> str:
    """kgCO2e for people: tonnes, kilograms or grams."""
    if value is None:
        return "unknown"
    if abs(value) >= 1000:
        return f"{value / 1000:,.2f} t"
    if abs(value) >= 1:
        return f"{value:,.2f} kg"
    return f"{value * 1000:,.3g} g"


def when(value: datetime | str | None) -> str:
    """A time in UTC to the minute (stored times are UTC; a naive one is taken as UTC)."""
    if value is None:
        return "unknown"
    moment: datetime
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        moment = value
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


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
