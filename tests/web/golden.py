"""The dashboard's pages in a normalised form, to check that a change of how pages are built (string
building, templates) leaves what they show the same.

:func:`normalise` turns a page into lines: the element tree (each element with all its attributes,
sorted), the text (runs of white space made one space, white space between elements dropped) and, for
every element that holds only inline content (a paragraph, a table cell, a link), its text as a reader
sees it, so that a space gained or lost between two inline pieces shows. Asset URLs lose their content
hash and the store's location is replaced by ``<store>``: neither is the page's content.

``PAGES`` names every page route with the query strings worth telling apart. The golden files under
``tests/web/golden/`` were written from the pages built by ``tag()`` calls, before the pages became
templates; ``WATTSUP_WRITE_GOLDEN=1 pytest tests/web/test_web_golden.py`` writes them again (do that
only for a change meant to alter what a page shows, and read the diff).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

from web_factories import EVIL, TIMELINE_MODEL, run_id_of

FOLDER = Path(__file__).parent / "golden"

_INLINE = frozenset({"a", "b", "br", "code", "em", "i", "small", "span", "strong"})
_VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})
_HASH = re.compile(r"\?v=[0-9a-f]{12}\b")
_SPACE = re.compile(r"\s+")

TIMELINE_RUN = run_id_of(TIMELINE_MODEL)
EVIL_RUN = run_id_of(EVIL)
FAILED_RUN = "0089af6c09b194dd"
"""The study's failed run (the last record of :func:`web_factories.study_records`)."""

PAGES: dict[str, str] = {
    # name: path with its query
    "overview": "/",
    "overview-selected": "/?task=summarization&hardware=NVIDIA+A100-SXM4-80GB&component=gpu",
    "overview-phase": "/?phase=query+model&weights=pretrained&mode=task-specific",
    "leaderboard": "/leaderboard",
    "leaderboard-task": "/leaderboard?task=summarization",
    "leaderboard-sort-kwh-desc": "/leaderboard?task=text-classification&sort=kwh&order=desc",
    "leaderboard-sort-model": "/leaderboard?sort=model&order=asc",
    "leaderboard-sort-stars": "/leaderboard?sort=stars&order=desc",
    "leaderboard-sort-params": "/leaderboard?sort=params",
    "leaderboard-sort-latest": "/leaderboard?sort=latest&order=desc",
    "leaderboard-filtered": "/leaderboard?task=text-classification&size=lt100m&sensors=measured"
    "&hardware_class=A100&limit=3",
    "leaderboard-size-unknown": "/leaderboard?size=unknown&sensors=modeled",
    "leaderboard-none": "/leaderboard?task=text-generation&size=ge10b",
    "study": "/study",
    "study-filtered": "/study?hardware=NVIDIA+H100+80GB+HBM3&component=cpu",
    "params": "/params",
    "params-task": "/params?task=summarization&phase=query+model",
    "modes": "/modes",
    "modes-none": "/modes?task=image-classification",
    "runs": "/runs",
    "runs-page-2": "/runs?page=2",
    "runs-filtered": "/runs?task=text-classification&model=*bert*&status=ok",
    "runs-failed": "/runs?status=failed",
    "run-timeline": f"/runs/{TIMELINE_RUN}",
    "run-evil": f"/runs/{EVIL_RUN}",
    "run-failed": f"/runs/{FAILED_RUN}",
    "run-prefix": f"/runs/{TIMELINE_RUN[:8]}",
    "compare": "/compare",
    "compare-one-model": "/compare?model=gpt2",
    "compare-models": "/compare?model=gpt2&model=Qwen/Qwen2.5-0.5B&model=t5-small",
    "compare-models-missing": "/compare?model=microsoft/resnet-50&model=google/vit-base-patch16-224"
    "&model=nobody/none&task=image-classification",
    "compare-one-run": f"/compare?run={TIMELINE_RUN}",
    "compare-runs": f"/compare?run={TIMELINE_RUN}&run={run_id_of('google/vit-base-patch16-224')}",
    "compare-runs-mixed": f"/compare?run={EVIL_RUN}&run={run_id_of('gpt2')}&component=gpu",
    "lifecycle": "/lifecycle",
    "lifecycle-inputs": "/lifecycle?task=text-generation&model=gpt2&region=FRA&pue=1.2&lifetime_years=4"
    "&utilization=0.5&queries_per_day=5000&years=2&training_kwh=1000&finetune_kwh=10"
    "&gpu=NVIDIA+A100-SXM4-80GB",
    "lifecycle-kwh": "/lifecycle?kwh_per_1k=0.5&region=US-CA",
    "serving": "/serving",
    "serving-model-tpot": "/serving?serving_model=org/small&latency=tpot",
    "label": "/label",
    "label-model": "/label?task=text-classification&model=gpt2&component=gpu",
    "label-evil": f"/label?task=text-classification&model={quote(EVIL)}",
    "label-task": "/label?task=summarization&model=t5-small&phase=query+model",
    "api-docs": "/api/docs",
    "error-404-run": "/runs/ffffffffffffffff",
    "error-404-page": "/no/such/page",
    "error-422-limit": "/leaderboard?limit=-1",
    "error-422-task": "/leaderboard?task=text-clasification",
    "error-422-evil": f"/leaderboard?task={quote(EVIL)}",
    "error-422-region": "/lifecycle?region=Narnia",
    "error-422-label": "/label?task=nothing",
}

EMPTY_PAGES: dict[str, str] = {
    "empty-overview": "/",
    "empty-leaderboard": "/leaderboard",
    "empty-study": "/study",
    "empty-modes": "/modes",
    "empty-runs": "/runs",
    "empty-compare": "/compare",
    "empty-lifecycle": "/lifecycle",
    "empty-serving": "/serving",
    "empty-label": "/label",
}
"""Pages of a store with no runs."""


class _Dump(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.stack: list[tuple[str, int, list[str], bool]] = []
        """Open elements: name, the index of their line, their text pieces, whether all inline."""

    def _text_piece(self, text: str) -> None:
        for _, _, pieces, _ in self.stack:
            pieces.append(text)

    def handle_decl(self, decl: str) -> None:
        self.lines.append(f"<!{decl.lower()}>")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        shown = " ".join(
            name if value is None else f"{name}={_HASH.sub('?v=HASH', value)!r}"
            for name, value in sorted(attrs)
        )
        for i, (name, line, pieces, _inline) in enumerate(self.stack):
            if tag not in _INLINE:
                self.stack[i] = (name, line, pieces, False)
        self.lines.append("  " * len(self.stack) + (f"<{tag} {shown}>" if shown else f"<{tag}>"))
        if tag not in _VOID:
            self.stack.append((tag, len(self.lines) - 1, [], True))

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        while self.stack:
            name, line, pieces, inline = self.stack.pop()
            text = _SPACE.sub(" ", "".join(pieces)).strip()
            nested = any(p for p in self.lines[line + 1 :] if p.lstrip().startswith("<"))
            if inline and nested and text:
                self.lines[line] += f"  ~ {text!r}"
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        self._text_piece(data)
        text = _SPACE.sub(" ", data).strip()
        if text:
            self.lines.append("  " * len(self.stack) + repr(text))


def normalise(page: str, location: str) -> str:
    """The page as lines of its element tree and text (see the module's docstring)."""
    dump = _Dump()
    dump.feed(page.replace(location, "<store>"))
    dump.close()
    return "\n".join(dump.lines) + "\n"


def golden_path(name: str) -> Path:
    return FOLDER / f"{name}.txt"
