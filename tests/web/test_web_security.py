"""The dashboard's guarantees: read-only, every text escaped, bad requests are a 422 that names the
parameter (never a 500), no request path reaches the disk, offline assets, security headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError
from web_factories import EVIL, MODELS, record

from wattsup.results import Store
from wattsup.web import create_app

PAGES = (
    "/",
    "/leaderboard",
    "/study",
    "/params",
    "/modes",
    "/runs",
    "/compare",
    "/lifecycle",
    "/label",
    "/api/docs",
)


def message(client: TestClient, path: str, params: object = None, status: int = 422) -> str:
    r = client.get(path, params=params)  # type: ignore[arg-type]
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body["message"], str)
    return body["message"]


# ---------------------------------------------------------------- invalid input: 422 naming the parameter


@pytest.mark.parametrize(
    ("path", "params", "names"),
    [
        ("/api/leaderboard", {"limit": "0"}, "limit"),
        ("/api/leaderboard", {"limit": "many"}, "limit"),
        ("/api/leaderboard", {"size": "huge"}, "size"),
        ("/api/leaderboard", {"sort": "energy; DROP TABLE runs"}, "sort"),
        ("/api/summary", {"component": "gpu0"}, "component"),
        ("/api/summary", {"mode": "few-shot"}, "mode"),
        ("/api/summary", {"since": "yesterday"}, "since"),
        ("/api/summary", {"task": "x" * 513}, "task"),
        ("/api/summary", {"task": "text\x00classification"}, "task"),
        ("/api/summary", [("task", f"t{i}") for i in range(51)], "task"),
        ("/api/lifecycle", {"queries_per_day": "-1"}, "queries_per_day"),
        ("/api/lifecycle", {"pue": "0.5"}, "pue"),
        ("/api/lifecycle", {"pue": "nan"}, "pue"),
        ("/api/lifecycle", {"training_kwh": "inf"}, "training_kwh"),
        ("/api/lifecycle", {"utilization": "1.5"}, "utilization"),
        ("/api/lifecycle", {"years": "0"}, "years"),
        ("/api/runs", {"offset": "-5"}, "offset"),
        ("/api/runs", {"status": "running"}, "status"),
        ("/api/compare/runs", {"run": "only-one"}, "run"),
        ("/api/compare/runs", [("run", "a"), ("run", "../etc/passwd")], "run"),
        ("/api/label", {"task": "text-classification"}, "model"),
        ("/api/label", {"model": "  ", "task": "text-classification"}, "model"),
        ("/api/parity", {}, "training_kwh"),
    ],
)
def test_invalid_parameters_are_422_naming_them(
    client: TestClient, path: str, params: object, names: str
) -> None:
    text = message(client, path, params)
    assert text.startswith("invalid request: ")
    assert re.search(rf"\b{names}\b", text), text


@pytest.mark.parametrize(
    ("path", "params", "expected"),
    [
        ("/api/leaderboard", {"task": "text-clasification"}, "did you mean 'text-classification'"),
        ("/api/lifecycle", {"region": "Narnia"}, "unknown region 'Narnia'"),
        ("/api/lifecycle", {"task": "text-generation", "model": "gpt3"}, "no stored run matches"),
        ("/api/lifecycle", {"gpu": "Z80"}, "unknown GPU"),
        ("/api/label", {"model": "gpt3", "task": "text-generation"}, "did you mean 'gpt2'"),
        ("/api/compare/models", {"model": "gpt2"}, "at least two models"),
        ("/api/compare/models", [("model", f"m{i}") for i in range(13)], "at most 12"),
        ("/api/summary", {"phase": "   "}, None),
    ],
)
def test_analysis_errors_are_422_with_what_to_do(
    client: TestClient, path: str, params: object, expected: str | None
) -> None:
    r = client.get(path, params=params)  # type: ignore[arg-type]
    if expected is None:  # a blank value means "not given"
        assert r.status_code == 200
        return
    assert r.status_code == 422, r.text
    assert expected.lower() in r.json()["message"].lower()


def test_pages_show_errors_as_pages(client: TestClient) -> None:
    r = client.get("/leaderboard", params={"limit": "-1"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "limit" in r.text
    missing = client.get("/runs/ffffffffffffffff")
    assert missing.status_code == 404
    assert "unknown run" in missing.text
    assert client.get("/no/such/page").status_code == 404
    assert client.get("/api/no/such/thing").json()["message"] == "no such page: /api/no/such/thing"


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../../../etc/passwd",
        "/static/..%2f..%2fpyproject.toml",
        "/static/%2e%2e/app.py",
        "/static/app.py",
        "/static/__init__.py",
        "/static/%00",
        "/runs/..%2f..%2fetc%2fpasswd",
        "/api/runs/..%2F..%2Fetc%2Fpasswd",
        "/api/runs/%2e%2e",
    ],
)
def test_no_request_path_reaches_the_disk(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code in (404, 422), (path, r.status_code)
    assert "root:" not in r.text
    assert "def create_app" not in r.text


# ---------------------------------------------------------------- escaping


def test_names_and_stored_text_render_as_text(client: TestClient) -> None:
    pages = [
        ("/leaderboard", {"task": "text-classification"}),
        ("/runs", {"task": "text-classification"}),
        ("/params", {}),
        ("/label", {"task": "text-classification", "model": EVIL}),
        ("/compare", [("model", EVIL), ("model", "google/flan-t5-base")]),
        ("/lifecycle", {"task": "text-classification"}),
    ]
    for path, params in pages:
        r = client.get(path, params=params)  # type: ignore[arg-type]
        assert r.status_code == 200, (path, r.text)
        assert EVIL not in r.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text, path
        # the only scripts are the dashboard's own files
        scripts = re.findall(r"<script\b[^>]*>", r.text)
        assert scripts, path
        assert all(re.fullmatch(r'<script src="/static/[a-z.]+\?v=[0-9a-f]+">', s) for s in scripts), scripts


def test_reflected_parameters_are_escaped(client: TestClient) -> None:
    evil = '"><img src=x onerror=alert(1)>'
    for path, params in [
        ("/runs", {"model": evil}),
        ("/leaderboard", {"task": "text-classification", "hardware_class": evil}),
        ("/compare", [("model", evil), ("model", "gpt2")]),
        ("/lifecycle", {"kwh_per_1k": "1", "region": "WORLD", "gpu": "H100-SXM5-80GB", "task": evil}),
    ]:
        r = client.get(path, params=params)  # type: ignore[arg-type]
        assert "<img src=x" not in r.text, path
    err = client.get("/leaderboard", params={"task": evil})
    assert err.status_code == 422
    assert "<img src=x" not in err.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in err.text


# ---------------------------------------------------------------- read-only


def test_the_store_refuses_writes_once_served(tmp_path: Path) -> None:
    with Store.open(str(tmp_path / "runs.db")) as store:
        store.add(record(MODELS[0], "imdb", 0, seq=1))
        client = TestClient(create_app(store, allowed_hosts=["testserver"]))
        assert client.get("/api/facets").json()["runs"] == 1
        with pytest.raises(DBAPIError, match=r"readonly|read-only|attempt to write"):
            store.add(record(MODELS[1], "imdb", 0, seq=2))
        assert client.get("/api/facets").json()["runs"] == 1


@pytest.mark.postgres
def test_the_postgres_store_refuses_writes_once_served(pg_database: str) -> None:
    with Store.open(pg_database) as store:
        store.add(record(MODELS[0], "imdb", 0, seq=1))
        client = TestClient(create_app(store, allowed_hosts=["testserver"]))
        with pytest.raises(DBAPIError, match="read-only transaction"):
            store.add(record(MODELS[1], "imdb", 0, seq=2))
        assert client.get("/api/facets").json()["runs"] == 1


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_only_get(client: TestClient, method: str) -> None:
    for path in ("/api/runs", "/leaderboard", "/api/lifecycle"):
        r = client.request(method, path)
        assert r.status_code == 405
        assert "read-only" in r.text


# ---------------------------------------------------------------- headers, hosts, offline assets


def test_security_headers(client: TestClient) -> None:
    for path in ("/", "/api/summary", "/static/app.css", "/no/such/page"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-eval" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"


def test_other_hosts_are_refused(client: TestClient) -> None:
    # a page elsewhere cannot reach the dashboard by pointing its own name at 127.0.0.1
    r = client.get("/api/summary", headers={"host": "attacker.example"})
    assert r.status_code == 400
    assert client.get("/api/summary", headers={"host": "127.0.0.1:8050"}).status_code == 200
    assert client.get("/api/summary", headers={"host": "localhost:8050"}).status_code == 200


def test_pages_load_nothing_from_elsewhere(client: TestClient) -> None:
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 200, path
        for ref in re.findall(r'(?:src|href)="([^"]+)"', r.text):
            assert ref.startswith(("/", "#")), (path, ref)
    js = client.get("/static/app.js").text
    assert "http://" not in js and "https://" not in js


def test_plotly_is_served_from_the_installed_package(client: TestClient) -> None:
    from plotly.offline import get_plotlyjs

    page = client.get("/study").text
    src = re.search(r'<script src="(/static/plotly\.min\.js\?v=[0-9a-f]+)">', page)
    assert src is not None
    r = client.get(src.group(1))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.text == get_plotlyjs()


def test_static_assets_are_cached_and_compressed(client: TestClient) -> None:
    r = client.get("/static/app.css", headers={"accept-encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    etag = r.headers["etag"]
    again = client.get("/static/app.css", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    plain = client.get("/static/app.css", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.text.startswith("/* wattsup dashboard")
