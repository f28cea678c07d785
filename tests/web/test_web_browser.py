"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright, against
``wattsup dashboard`` serving the study's runs on a loopback port.

Every page must load with no console error, no script error, no dialog and no request leaving the
dashboard; each is screenshotted (into ``$WATTSUP_SCREENSHOTS`` when set, else a temp directory) so a
person can look at them. Without Chromium or Playwright these tests skip, except under ``CI=true``,
where they fail: scripts/chromium.sh installs Chromium, ``pip install playwright`` the driver (its
own browser downloads are not needed).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from web_factories import EVIL, TIMELINE_MODEL, run_id_of
from web_serving import HOSTILE

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: pip install playwright (its browser downloads are not needed)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: run scripts/chromium.sh"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    why = _missing()
    if why is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run under CI=true: {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("WATTSUP_SCREENSHOTS", "").strip()
    folder = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Tab:
    """A browser page on the dashboard and what went wrong in it."""

    page: Any
    base: str
    shots: Path
    problems: list[str] = field(default_factory=list)

    def open(self, path: str) -> None:
        self.page.goto(self.base + path, wait_until="load")
        self.wait_for_charts()

    def wait_for_charts(self) -> None:
        # every chart with a data source ends ready (drawn) or empty (said why), never loading or error
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.chart[data-src]')].filter(c => c.dataset.src)"
            ".every(c => ['ready', 'empty', 'error'].includes(c.dataset.state))",
            timeout=TIMEOUT_MS,
        )
        states = self.page.eval_on_selector_all(
            ".chart[data-src]", "cs => cs.filter(c => c.dataset.src).map(c => c.dataset.state)"
        )
        assert "error" not in states, self.page.inner_text("main")

    def screenshot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def clean(self) -> None:
        assert self.problems == [], self.problems


@pytest.fixture(scope="session")
def context(browser: Any) -> Iterator[Any]:
    # one context for the session: its HTTP cache keeps plotly.js between pages, as a person's would
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    ctx.set_default_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def tab(context: Any, served: str, shots: Path) -> Iterator[Tab]:
    page = context.new_page()
    t = Tab(page, served, shots)
    page.on(
        "console", lambda m: t.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: t.problems.append(f"script error: {e}"))

    def on_dialog(dialog: Any) -> None:
        t.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def on_request(request: Any) -> None:
        if not request.url.startswith((served, "data:", "blob:")):
            t.problems.append(f"request left the dashboard: {request.url}")

    page.on("dialog", on_dialog)
    page.on("request", on_request)
    yield t
    page.close()


def rows(tab: Tab, table: str) -> list[list[str]]:
    found: list[list[str]] = tab.page.eval_on_selector_all(
        f"{table} tbody tr", "rs => rs.map(r => [...r.cells].map(c => c.innerText.trim()))"
    )
    return found


PAGES = [
    ("overview", "/"),
    ("leaderboard", "/leaderboard?task=text-classification"),
    ("study", "/study"),
    ("params", "/params"),
    ("modes", "/modes"),
    ("runs", "/runs"),
    ("run", f"/runs/{run_id_of(TIMELINE_MODEL)}"),
    ("compare-models", "/compare?model=microsoft/resnet-50&model=google/vit-base-patch16-224&model=gpt2"),
    (
        "compare-runs",
        f"/compare?run={run_id_of('microsoft/resnet-50')}&run={run_id_of('google/vit-base-patch16-224')}",
    ),
    ("lifecycle", "/lifecycle?task=summarization&training_kwh=50000"),
    ("serving", "/serving"),
    ("serving-tpot", "/serving?latency=tpot"),
    ("label", "/label?task=image-classification&model=microsoft/resnet-50"),
    ("api", "/api/docs"),
]


@pytest.mark.parametrize(("name", "path"), PAGES, ids=[n for n, _ in PAGES])
def test_page_loads_clean(tab: Tab, name: str, path: str) -> None:
    tab.open(path)
    if name == "lifecycle":
        tab.page.wait_for_selector("#lc-result[data-state=ready]")
    assert tab.page.locator("h1").inner_text()
    drawn = tab.page.locator(".js-plotly-plot").count()
    expected = tab.page.locator(".chart[data-src]:not([data-src=''])").count() + (name == "lifecycle")
    assert drawn == expected, name
    # each chart is the server's figure, rendered: a plotly SVG in every one
    charts = tab.page.locator(".chart")
    assert charts.count() == expected, name
    for i in range(expected):
        assert charts.nth(i).locator("svg.main-svg").count() >= 1, (name, i)
    tab.screenshot(name)
    tab.clean()


def test_study_points_show_details_on_hover(tab: Tab) -> None:
    tab.open("/study")
    points = tab.page.locator(".scatterlayer .trace .points path")
    assert points.count() == 22 + 4  # one per model, and the four task means
    points.first.hover(force=True)
    hover = tab.page.locator(".hoverlayer")
    hover.locator("text").first.wait_for()
    assert "kWh per 1,000 inferences" in (hover.text_content() or "")
    tab.clean()


def test_a_filter_changes_the_table(tab: Tab) -> None:
    tab.open("/leaderboard?task=text-classification")
    before = rows(tab, "#leaderboard")
    assert len(before) == 8
    with tab.page.expect_navigation():
        tab.page.select_option("select[name=size]", "lt100m")
    assert "size=lt100m" in tab.page.url
    assert "model=" not in tab.page.url  # empty fields stay out of the address
    after = rows(tab, "#leaderboard")
    assert 0 < len(after) < len(before)
    assert tab.page.locator("#leaderboard-count").inner_text().startswith(f"{len(after)} of 8")
    with tab.page.expect_navigation():
        tab.page.select_option("select[name=task]", "summarization")
    assert tab.page.locator("h1").inner_text() == "Leaderboard: summarization"
    models = {r[2] for r in rows(tab, "#leaderboard")}
    assert models and models.isdisjoint({r[2] for r in before})
    tab.clean()


def test_sorting_by_a_column(tab: Tab) -> None:
    tab.open("/leaderboard?task=text-classification")
    with tab.page.expect_navigation():
        tab.page.click("a.sort[data-sort=params]")
    assert rows(tab, "#leaderboard")[0][2] == "distilbert-base-uncased-finetuned-sst-2-english"
    with tab.page.expect_navigation():
        tab.page.click("a.sort[data-sort=params]")
    ordered = rows(tab, "#leaderboard")
    assert ordered[0][2] == "bigscience/bloomz-560m"
    assert ordered[-1][2] == EVIL  # unknown size last, shown as text
    tab.clean()


def test_compare_models_picked_on_the_leaderboard(tab: Tab) -> None:
    tab.open("/leaderboard?task=image-classification")
    tab.page.check("input[type=checkbox][value='microsoft/resnet-50']")
    tab.page.check("input[type=checkbox][value='facebook/convnext-large-224']")
    with tab.page.expect_navigation():
        tab.page.click("form.compare-form button[type=submit]")
    tab.wait_for_charts()
    assert "/compare?" in tab.page.url
    head = tab.page.eval_on_selector_all("#compare-models thead th", "hs => hs.map(h => h.innerText)")
    assert head == ["Task", "microsoft/resnet-50", "facebook/convnext-large-224"]
    assert tab.page.locator(".js-plotly-plot").count() == 1
    tab.clean()


def test_the_calculator_updates_as_inputs_change(tab: Tab) -> None:
    tab.open("/lifecycle?task=summarization")
    result = tab.page.locator("#lc-result")

    def updated(n: int) -> None:
        tab.page.wait_for_selector(f"#lc-result[data-updates='{n}'][data-state=ready]")

    def cell(key: str) -> str:
        text: str = tab.page.locator(f"[data-cell='{key}']").inner_text()
        return text

    updated(1)
    assert cell("training-total") == "unknown"
    assert "training energy" in tab.page.locator("#lc-parity").inner_text()
    inference = cell("inference-operational")

    tab.page.fill("input[name=training_kwh]", "50000")
    updated(2)
    assert cell("training-operational").endswith(" t")
    assert cell("training-construction") not in ("…", "unknown")
    assert tab.page.locator("#lc-parity").inner_text().startswith("Cost parity: after 495,000,000 inferences")
    assert "training_kwh=50000" in tab.page.url

    tab.page.select_option("select[name=region]", "FRA")
    updated(3)
    assert cell("inference-operational") != inference

    embodied = cell("inference-embodied")
    tab.page.fill("input[name=lifetime_years]", "2")
    updated(4)
    assert cell("inference-embodied") != embodied

    options = tab.page.locator("select[name=model] option").count()
    tab.page.select_option("select[name=task]", "text-generation")
    updated(5)
    assert tab.page.locator("select[name=model] option").count() != options
    assert "text-generation" in tab.page.locator("#lc-source").inner_text()

    tab.page.fill("input[name=pue]", "0.5")  # out of range: the API's message is shown
    tab.page.wait_for_selector("#lc-result[data-state=error]")
    assert "pue" in tab.page.locator("#lc-error").inner_text()
    refused = "console error: Failed to load resource: the server responded with a status of 422"
    assert [p for p in tab.problems if p.startswith(refused)], tab.problems  # the browser logs the 422
    tab.problems = [p for p in tab.problems if not p.startswith(refused)]
    assert result.get_attribute("data-updates") == "5"
    tab.page.fill("input[name=pue]", "1.2")
    updated(6)
    tab.screenshot("lifecycle-updated")
    tab.clean()


def test_a_hostile_model_id_stays_text(tab: Tab) -> None:
    # an alert() would be caught as a dialog: the model id must show as text everywhere
    for path in (
        "/leaderboard?task=text-classification",
        f"/compare?model={quote(EVIL)}&model=google/flan-t5-base",
        f"/label?task=text-classification&model={quote(EVIL)}",
        f"/runs?model={quote(EVIL)}",
    ):
        tab.open(path)
        assert tab.page.get_by_text(EVIL, exact=True).count() >= 1, path
    # and in the study figure's hover text (the server's figure; plotly.js shows a tag it does not know as
    # text), shown for that model's point
    tab.open("/study")
    shown = tab.page.evaluate(
        """() => {
          const gd = document.querySelector('.js-plotly-plot');
          for (const [curve, trace] of gd.data.entries()) {
            const point = (trace.text || []).findIndex(t => String(t).includes('<script'));
            if (point >= 0) {
              Plotly.Fx.hover(gd, [{curveNumber: curve, pointNumber: point}]);
              return document.querySelector('.hoverlayer').textContent;
            }
          }
          return null;
        }"""
    )
    assert shown is not None and EVIL in shown
    assert tab.page.locator(".js-plotly-plot script").count() == 0
    tab.open("/serving")  # a served model's name in the menu, the table and the figures' legends
    assert tab.page.get_by_text(HOSTILE, exact=True).count() >= 2
    assert HOSTILE in (tab.page.locator("#serving_pareto .legend").text_content() or "")
    assert tab.page.locator("#main img").count() == 0
    tab.clean()


def test_label_downloads(tab: Tab, tmp_path: Path) -> None:
    tab.open("/label?task=image-classification&model=microsoft/resnet-50")
    assert tab.page.locator("#label-img").evaluate("img => img.complete && img.naturalWidth > 0")
    for which, suffix, start in (("svg", ".svg", b"<svg"), ("png", ".png", b"\x89PNG")):
        with tab.page.expect_download() as info:
            tab.page.click(f"#download-{which}")
        download = info.value
        assert (
            download.suggested_filename == f"wattsup-label-microsoft-resnet-50-image-classification{suffix}"
        )
        saved = tmp_path / download.suggested_filename
        download.save_as(str(saved))
        assert saved.read_bytes().startswith(start)
    tab.clean()


def test_an_empty_figure_says_why(tab: Tab) -> None:
    tab.open("/modes?task=image-classification")
    chart = tab.page.locator(".chart[data-src]")
    assert chart.get_attribute("data-state") == "empty"
    assert chart.inner_text() == "No task has runs in both modes in this selection."
    tab.clean()


def test_the_serving_page_draws_its_figures_and_filters(tab: Tab) -> None:
    tab.open("/serving")
    assert len(rows(tab, "#serving-levels")) == 9
    assert tab.page.locator("#serving_energy_vs_concurrency .scatterlayer .trace").count() == 3
    with tab.page.expect_navigation():
        tab.page.select_option("select[name=serving_model]", "org/small")
    tab.wait_for_charts()
    assert "serving_model=org%2Fsmall" in tab.page.url
    assert {r[0] for r in rows(tab, "#serving-levels")} == {"org/small"}
    states = tab.page.eval_on_selector_all(".chart[data-src]", "cs => cs.map(c => c.dataset.state)")
    assert states == ["ready", "empty", "ready", "empty"]  # no rate sweep, no second model at equal load
    assert "arrival rate" in tab.page.locator("#serving_energy_vs_rate .chart").inner_text()
    tab.screenshot("serving-one-model")
    tab.clean()


def test_run_page_draws_the_power_timeline(tab: Tab) -> None:
    tab.open(f"/runs/{run_id_of(TIMELINE_MODEL)}")
    lines = tab.page.locator("#timeline .scatterlayer .trace")
    assert lines.count() == 4  # two repetitions x (gpu:0, cpu)
    assert re.search(r"rep 0 · gpu:0", tab.page.locator("#timeline .legend").text_content() or "")
    tab.clean()
