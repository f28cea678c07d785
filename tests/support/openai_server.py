"""A real OpenAI-compatible server process over a catalog causal LM with random weights, for the serving
tests and the HTTP engine's benchmarks: ``transformers serve`` where its extras are installed, else
``tests/fakes/openai_server.py`` (FastAPI + uvicorn, token-by-token streaming)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.processes import ROOT, Server, python_path, stop

CHAT_TEMPLATE = "{% for m in messages %}{{ m['content'] }} {% endfor %}"


def save_model(out: Path, name: str = "tiny/llama-chat") -> None:
    """Catalog chat model ``name`` with random weights (seed 0) and wattsup's synthetic tokenizer (with a
    plain chat template), saved with ``save_pretrained`` to ``out``."""
    import torch

    from wattsup.bench.models import load_config, load_model, load_tokenizer, resolve_model_source

    src = resolve_model_source(name, "chat", "random")
    config, model_type = load_config(src)
    torch.manual_seed(0)
    model = load_model(src, config, "AutoModelForCausalLM", "cpu", dtype=torch.float32)
    tok, _ = load_tokenizer(src, config, model_type)
    tok.chat_template = CHAT_TEMPLATE
    model.save_pretrained(out)
    tok.save_pretrained(out)


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


class ServerFailed(RuntimeError):
    pass


def start_server(model_dir: Path, port: int, log: Path, timeout_s: float = 120) -> Server:
    """Start a server for ``model_dir`` on 127.0.0.1:``port`` (its output to ``log``) and wait until it
    answers ``/v1/models``; raises :class:`ServerFailed` with the end of its log if it exits or does not
    answer within ``timeout_s``."""
    import httpx

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": python_path()}
    if transformers_serve_ready() is None:
        kind = "transformers serve"
        cmd = [
            sys.executable,
            "-c",
            "import sys; from transformers.cli.transformers import main; "
            "sys.argv[0] = 'transformers'; main()",
            "serve",
            str(model_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--device",
            "cpu",
        ]
    else:
        kind = "fastapi (tests/fakes/openai_server.py)"
        cmd = [sys.executable, "-m", "tests.fakes.openai_server", str(model_dir), str(port)]
    with log.open("wb") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise ServerFailed(f"{kind} exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                return Server(url, str(model_dir), kind, proc)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop(proc)
            raise ServerFailed(f"{kind} did not answer in {timeout_s:g} s: {log.read_text()[-2000:]}")
        time.sleep(0.5)
