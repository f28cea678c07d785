"""Fixtures of the serving tests: offline, a store in a temp dir, a tiny random-weight causal LM saved to a
folder, and a real OpenAI-compatible server process serving it on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import Server, free_port, python_path, stop

CHAT_TEMPLATE = "{% for m in messages %}{{ m['content'] }} {% endfor %}"


@pytest.fixture(autouse=True)
def _isolated(scratch_default_store: None, quiet_warnings: None) -> None:
    """The default store is the test's own, and the model hub is offline."""


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny/llama-chat with random weights and wattsup's synthetic tokenizer, saved with save_pretrained."""
    import torch

    from wattsup.bench.models import load_config, load_model, load_tokenizer, resolve_model_source

    out = tmp_path_factory.mktemp("tiny-llama")
    src = resolve_model_source("tiny/llama-chat", "chat", "random")
    config, model_type = load_config(src)
    torch.manual_seed(0)
    model = load_model(src, config, "AutoModelForCausalLM", "cpu", dtype=torch.float32)
    tok, _ = load_tokenizer(src, config, model_type)
    tok.chat_template = CHAT_TEMPLATE
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def transformers_serve_ready() -> str | None:
    """None when ``transformers serve`` can run here, else why not."""
    missing = [
        m for m in ("openai", "accelerate", "fastapi", "uvicorn") if importlib.util.find_spec(m) is None
    ]
    if missing:
        return (
            f"transformers serve needs {', '.join(missing)} (transformers[serving]; accelerate for its "
            "device_map), not installed here"
        )
    return None


@pytest.fixture(scope="module")
def openai_server(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server process: ``transformers serve`` where it can run, else tests/fakes/openai_server.py."""
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": python_path()}
    if transformers_serve_ready() is None:
        kind = "transformers serve"
        cmd = [
            sys.executable,
            "-c",
            "import sys; from transformers.cli.transformers import main; "
            "sys.argv[0] = 'transformers'; main()",
            "serve",
            str(tiny_model_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--device",
            "cpu",
        ]
    else:
        kind = "fastapi (tests/fakes/openai_server.py)"
        cmd = [sys.executable, "-m", "tests.fakes.openai_server", str(tiny_model_dir), str(port)]
    log = tmp_path_factory.mktemp("server") / "server.log"
    with log.open("wb") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
    import httpx

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            pytest.fail(f"{kind} exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            pytest.fail(f"{kind} did not answer in 120 s: {log.read_text()[-2000:]}")
        time.sleep(0.5)
    try:
        yield Server(url, str(tiny_model_dir), kind, proc)
    finally:
        stop(proc, 20)
