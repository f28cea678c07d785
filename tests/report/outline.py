"""The visible content of a report, normalised for a golden comparison: headings, paragraphs with their
class, list items, table cells and, for each figure, its title and traces (type, name, number of points).
The generation time is replaced by a placeholder; the figures' coordinates (jittered) are not compared."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

_WHEN = re.compile(r"generated \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
_BLOCKS = {"h1", "h2", "h3", "p", "li", "th", "td", "title"}


def _clean(text: str) -> str:
    return _WHEN.sub("generated <when> UTC", " ".join(text.split()))


def _figure_lines(script: str) -> list[str]:
    """The figure a ``Plotly.newPlot(id, data, layout, config)`` call draws."""
    at = script.find("Plotly.newPlot(")
    if at < 0:
        return []
    decoder = json.JSONDecoder()
    rest = script[at + len("Plotly.newPlot(") :].lstrip()
    _, end = decoder.raw_decode(rest)  # the div's id
    data, end2 = decoder.raw_decode(rest[end:].lstrip(" ,\n"))
    layout, _ = decoder.raw_decode(rest[end:].lstrip(" ,\n")[end2:].lstrip(" ,\n"))
    title = layout.get("title")
    text = title.get("text", "") if isinstance(title, dict) else (title or "")
    lines = [f"figure: {_clean(text)}"]
    for trace in data:
        n = len(trace.get("x") or trace.get("y") or [])
        lines.append(f"  trace: {trace.get('type', 'scatter')} {trace.get('name', '')!r} ({n} points)")
    return lines


class _Outline(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._open: list[tuple[str, str]] = []
        self._text: list[str] = []
        self._script = False
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._script, self._text = True, []
        elif tag == "tr":
            self._row = []
        elif tag in _BLOCKS:
            cls = dict(attrs).get("class") or ""
            self._open.append((tag, cls))
            self._text = []
        elif tag == "ul":
            self.lines.append(f"ul.{dict(attrs).get('class') or ''}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script:
            self._script = False
            self.lines += _figure_lines("".join(self._text))
        elif tag == "tr" and self._row is not None:
            self.lines.append("row: " + " | ".join(self._row))
            self._row = None
        elif self._open and self._open[-1][0] == tag:
            name, cls = self._open.pop()
            text = _clean("".join(self._text))
            if name in ("th", "td") and self._row is not None:
                self._row.append(text)
            elif name != "title":
                self.lines.append(f"{name}{'.' + cls if cls else ''}: {text}")

    def handle_data(self, data: str) -> None:
        self._text.append(data)


def html_outline(page: str) -> str:
    """The outline of ``report.html``, one line per element (plotly.js itself is skipped)."""
    body = page[page.find("</head>") :]
    parser = _Outline()
    parser.feed(body)
    return "\n".join(parser.lines) + "\n"


def markdown_outline(text: str) -> str:
    """``summary.md`` with its generation time replaced."""
    return _WHEN.sub("generated <when> UTC", text)
