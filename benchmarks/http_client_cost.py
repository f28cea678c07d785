"""CPU per streamed token of the HTTP clients the serving engine could read streams with (issue 14).

Against one real server process (as ``http_generator_cost.py`` starts it: ``tiny/llama-chat``, random
weights, on this machine's CPU), ``--requests`` streamed completions of 32 tokens at concurrency 4, read
with httpx (``aiter_lines``), httpx (raw bytes split by hand) and aiohttp (line iteration), alternating;
the figure is the reading thread's CPU time per text chunk received.

    PYTHONPATH=src:. python benchmarks/http_client_cost.py [--requests 32] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.openai_server import save_model, start_server


def _count(line: bytes | str) -> int:
    """Text chunks in one server-sent-event line (0 for others); -1 at ``[DONE]``."""
    text = line.decode() if isinstance(line, bytes) else line
    if not text.startswith("data:"):
        return 0
    payload = text[5:].strip()
    if payload == "[DONE]":
        return -1
    obj: dict[str, Any] = json.loads(payload)
    return sum(1 for ch in obj.get("choices") or [] if ch.get("text"))


async def _httpx(url: str, body: dict[str, Any], n: int, c: int, raw: bool) -> int:
    import httpx

    todo, chunks = iter(range(n)), 0
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def one() -> None:
            nonlocal chunks
            async with client.stream("POST", url, json=body) as resp:
                if not raw:
                    async for line in resp.aiter_lines():
                        k = _count(line)
                        if k < 0:
                            break
                        chunks += k
                    return
                buf = b""
                async for data in resp.aiter_raw():
                    *lines, buf = (buf + data).split(b"\n")
                    for ln in lines:
                        chunks += max(_count(ln), 0)

        async def worker() -> None:
            for _ in todo:
                await one()

        await asyncio.gather(*(worker() for _ in range(c)))
    return chunks


async def _aiohttp(url: str, body: dict[str, Any], n: int, c: int) -> int:
    import aiohttp

    todo, chunks = iter(range(n)), 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one() -> None:
            nonlocal chunks
            async with session.post(url, json=body) as resp:
                async for line in resp.content:
                    k = _count(line)
                    if k < 0:
                        break
                    chunks += k

        async def worker() -> None:
            for _ in todo:
                await one()

        await asyncio.gather(*(worker() for _ in range(c)))
    return chunks


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=32)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--port", type=int, default=18732)
    args = p.parse_args()
    import aiohttp  # noqa: F401 - imported before any timing
    import httpx  # noqa: F401

    with tempfile.TemporaryDirectory() as d:
        model_dir = Path(d) / "tiny-llama"
        save_model(model_dir)
        server = start_server(model_dir, args.port, Path(d) / "server.log")
        proc, kind = server.proc, server.kind
        url = f"http://127.0.0.1:{args.port}/v1/completions"
        body = {
            "model": str(model_dir),
            "prompt": "hello world " * 8,
            "max_tokens": 32,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        clients = {
            "httpx aiter_lines": lambda: _httpx(url, body, args.requests, 4, raw=False),
            "httpx raw bytes": lambda: _httpx(url, body, args.requests, 4, raw=True),
            "aiohttp": lambda: _aiohttp(url, body, args.requests, 4),
        }
        rows = []
        try:
            for r in range(args.rounds):
                for name, go in clients.items():
                    cpu0 = time.thread_time()
                    chunks = asyncio.run(go())
                    cpu = time.thread_time() - cpu0
                    row = {"round": r, "client": name, "chunks": chunks, "us_per_chunk": 1e6 * cpu / chunks}
                    rows.append(row)
        finally:
            proc.terminate()
            proc.wait(30)
    print(json.dumps({"server": kind, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
