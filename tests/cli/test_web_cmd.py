"""``wattsup dashboard``: its options, its errors, and the real server on loopback."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wattsup.cli import app, main

runner = CliRunner()


def test_help_lists_the_dashboard() -> None:
    out = runner.invoke(app, ["--help"]).output
    assert "dashboard" in out
    help_text = runner.invoke(app, ["dashboard", "--help"]).output
    for flag in ("--db", "--host", "--port"):
        assert flag in help_text


def test_a_missing_store_is_an_error_not_a_new_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "nope.db"
    assert main(["dashboard", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "no results store at" in err
    assert "--db" in err
    assert not db.exists()


def test_a_port_in_use_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from wattsup.results import Store

    db = tmp_path / "runs.db"
    Store.open(str(db)).close()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["dashboard", "--db", str(db), "--port", str(port)]) == 2
    assert "pick another --port" in capsys.readouterr().err


def test_a_bad_port_is_a_usage_error() -> None:
    result = runner.invoke(app, ["dashboard", "--port", "70000"])
    assert result.exit_code == 2


def get(url: str, host: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def test_the_command_serves_the_dashboard(served: str) -> None:
    status, body = get(f"{served}/api/summary")
    assert status == 200
    assert {t["task"] for t in json.loads(body)} == {
        "text-classification",
        "summarization",
        "image-classification",
        "text-generation",
    }
    status, page = get(f"{served}/leaderboard")
    assert status == 200
    assert b"Leaderboard: image-classification" in page
    status, _ = get(f"{served}/api/summary", host="attacker.example")
    assert status == 400
