"""The pages' template environment: values are text, undefined names are errors, numbers come from
wattsup.format, and the templates ship in one flat folder (what pyproject packages)."""

from __future__ import annotations

from importlib import resources

import pytest
from jinja2 import UndefinedError

from wattsup import format as fmt
from wattsup.web.pages.render import environment, error_page, render

EVIL = "<script>alert(1)</script>"


def test_values_are_escaped_in_pages_and_in_strings() -> None:
    page = error_page(404, EVIL)
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert environment().from_string("{{ x }}").render(x=EVIL) == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_an_undefined_name_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError):
        environment().from_string("{{ v.missing }}").render(v=object())
    with pytest.raises(UndefinedError):
        render("overview.html", location="")


def test_none_writes_nothing_and_numbers_come_from_the_one_formatter() -> None:
    env = environment()
    assert env.from_string("[{{ x }}]").render(x=None) == "[]"
    assert (
        env.from_string("{{ x|kwh }} {{ n|params }} {{ y|number(4) }}").render(
            x=0.0123456, n=66_955_010, y=None
        )
        == f"{fmt.kwh(0.0123456)} {fmt.params(66_955_010)} unknown"
    )


@pytest.mark.parametrize(
    ("count", "note", "expected"),
    [(None, "", ">not rated<"), (3, "among 5", 'title="3 of 5 stars (among 5)"'), (0, "", ">0 of 5 stars<")],
)
def test_stars(count: int | None, note: str, expected: str) -> None:
    html = (
        environment()
        .from_string('{% from "macros.html" import stars %}{{ stars(c, n) }}')
        .render(c=count, n=note)
    )
    assert expected in html


def test_kv_lists_say_unknown_for_missing_values_and_list_mappings() -> None:
    html = (
        environment()
        .from_string('{% from "macros.html" import kv %}{{ kv(items) }}')
        .render(items=[("a", None), ("b", {"k": EVIL, "e": ""}), ("c", [1, 2]), ("d", 0.123456789)])
    )
    assert html.count('<span class="muted">unknown</span>') == 2
    assert "<li><code>k</code>: &lt;script&gt;" in html
    assert "<dd>1, 2</dd>" in html
    assert f"<dd>{fmt.number(0.123456789, 4)}</dd>" in html


def test_templates_are_one_flat_folder() -> None:
    folder = resources.files("wattsup.web") / "templates"
    entries = list(folder.iterdir())
    assert entries
    assert all(e.is_file() and e.name.endswith(".html") for e in entries)
