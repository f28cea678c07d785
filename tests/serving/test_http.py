"""Engine (c) against a real OpenAI-compatible server process started here (``transformers serve`` where its
dependencies are installed, else tests/fakes/openai_server.py), through the CLI in a process of its own
(the meter then charges the whole machine's CPU, server included)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import Server, free_port, python_path
from wattsup.errors import InvalidInput, WattsupError
from wattsup.serving.engines.http import OpenAIHTTPEngine, normalise_base_url

pytest.importorskip("httpx")
pytest.importorskip("fastapi")


def _serve(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": python_path(), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "wattsup", "serve", "--engine", "http", "--db", str(tmp_path / "s.db"), *args],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.mark.parametrize("api", ["completions", "chat"])
def test_http_engine_streams_from_a_real_server(openai_server: Server, tmp_path: Path, api: str) -> None:
    proc = _serve(
        [
            "--base-url",
            openai_server.base_url,
            "--api",
            api,
            "-c",
            "1,2",
            "-n",
            "8",
            "--max-input-tokens",
            "12",
            "--max-output-tokens",
            "6",
            "--json",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["engine"]["engine"] == "http" and result["engine"]["cpu_scope"] == "machine"
    assert result["engine"]["model"] == openai_server.model  # found through /v1/models
    assert "machine" in result["provenance"]["cpu_scope"]
    for lv in result["levels"]:
        assert lv["completed"] == 8 and lv["failed"] == 0, lv["errors"]
        assert lv["window_output_tokens"] > 0
        assert lv["j_per_output_token"]["value"] > 0 and lv["j_per_output_token"]["method"]
        assert lv["energy_j"]["method"] == "+".join(sorted({c["method"] for c in lv["components"].values()}))
        assert lv["ttft"]["p50_s"] > 0 and lv["itl"]["p50_s"] is not None
        assert "timestamps" in lv["ttft"]["method"]
        # not separable from outside the server: unknown, and said so
        assert lv["prefill_energy_j"]["value"] is None and lv["decode_energy_j"]["value"] is None
        assert "not separable" in lv["prefill_energy_j"]["note"]
        assert lv["generator_cpu_s"] > 0 and lv["generator_share"] is not None
        assert lv["output_tokens_per_request"] == pytest.approx(6, abs=6)  # what the server produced


def test_refused_requests_are_failures_with_the_servers_reason(openai_server: Server, tmp_path: Path) -> None:
    proc = _serve(
        ["--base-url", openai_server.base_url, "--model", "no-such-model", "-c", "1", "-n", "3", "--json"],
        tmp_path,
    )
    assert proc.returncode == 1
    (lv,) = json.loads(proc.stdout)["levels"]
    assert lv["completed"] == 0 and lv["failed"] == 3
    assert lv["errors"] and lv["errors"][0].startswith("HTTP 4")
    assert lv["j_per_output_token"]["value"] is None  # unknown, never zero


def test_an_unreachable_server_is_one_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    proc = _serve(["--base-url", url, "-c", "1", "-n", "3"], tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("wattsup: error: cannot reach an OpenAI-compatible server")
    assert "--base-url" in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(WattsupError, match="start it first"):
        OpenAIHTTPEngine(url)


def test_base_urls_are_normalised_or_refused() -> None:
    assert normalise_base_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/v1"
    assert normalise_base_url("http://127.0.0.1:8000/v1/") == "http://127.0.0.1:8000/v1"
    for bad in ("127.0.0.1:8000", "ftp://host/v1", "http://"):
        with pytest.raises(InvalidInput, match="base-url"):
            normalise_base_url(bad)
