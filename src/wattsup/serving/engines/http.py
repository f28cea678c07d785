"""Engine (c): any OpenAI-compatible HTTP server on this machine (vLLM, TGI, SGLang, llama.cpp's server,
``transformers serve``), through ``/v1/completions`` or ``/v1/chat/completions`` with streaming.

TTFT and inter-token latencies come from the stream: each chunk that carries text is stamped when it
arrives (a chunk may hold several tokens: timings are then per chunk, and labelled so). Output tokens are
the server's ``usage.completion_tokens`` when it sends usage (``stream_options.include_usage``), else the
number of text chunks. The server is another process: the meter charges the whole machine's CPU (and
every GPU) around the load, and prefill and decode cannot be told apart from outside it.

The streams are read with aiohttp (its C parser): half the CPU per streamed token of httpx on the same
load (benchmarks/RESULTS.md), and the generator's own cost is what the figures must leave out; the one
call to ``/models`` before the load uses httpx.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

from wattsup.errors import InvalidInput, WattsupError
from wattsup.serving.engines.base import EngineInfo, EngineName
from wattsup.serving.load import LoadLevel, RequestRecord, Window, arrival_times

if TYPE_CHECKING:
    import aiohttp

    from wattsup.serving.profiles import ServingRequest

__all__ = ["APIS", "OpenAIHTTPEngine", "normalise_base_url"]

APIS = ("completions", "chat")


def normalise_base_url(url: str) -> str:
    """``http://host:port`` or ``.../v1`` → ``.../v1`` without a trailing slash."""
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as e:
        raise InvalidInput(
            "base-url", f"{url!r} is not a URL ({e}); give one such as http://127.0.0.1:8000"
        ) from e
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInput(
            "base-url", f"{url!r} needs http:// or https:// and a host, e.g. http://127.0.0.1:8000"
        )
    text = str(parsed).rstrip("/")
    return text if text.endswith("/v1") else text + "/v1"


class OpenAIHTTPEngine:
    name: EngineName = "http"

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api: str = "completions",
        *,
        timeout_s: float = 600.0,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        import httpx

        if api not in APIS:
            raise InvalidInput("api", f"must be one of {', '.join(APIS)}, got {api!r}")
        self.base_url = normalise_base_url(base_url)
        self.api = api
        self.timeout_s = timeout_s
        self.extra_body = dict(extra_body or {})
        try:
            resp = httpx.get(f"{self.base_url}/models", timeout=10)
        except httpx.HTTPError as e:
            raise WattsupError(
                f"cannot reach an OpenAI-compatible server at {self.base_url} ({type(e).__name__}: {e}); "
                "start "
                "it first or check --base-url"
            ) from e
        served: list[str] = []
        if resp.status_code == 200:
            try:
                served = [str(m["id"]) for m in resp.json().get("data", [])]
            except (ValueError, KeyError, TypeError, AttributeError):
                served = []
        if model is None:
            if not served:
                raise InvalidInput(
                    "model", f"{self.base_url}/models lists no model; name the served model with --model"
                )
            model = served[0]
        self.model = model
        self.served = served

    def info(self) -> EngineInfo:
        return EngineInfo(
            engine=self.name,
            model=self.model,
            weights_source=f"whatever the server at {self.base_url} loaded (not known to wattsup)",
            base_url=self.base_url,
            api=self.api,
            cpu_scope="machine",
            prefill_decode="not separable: the server's prefill and decode are not visible from its API",
        )

    def close(self) -> None:
        return None

    def run_level(
        self, requests: list[ServingRequest], level: LoadLevel, window: Window, seed: int
    ) -> list[RequestRecord]:
        return asyncio.run(self._run(requests, level, window, seed))

    def _body(self, req: ServingRequest) -> tuple[str, dict[str, Any]]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": req.max_new_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": 0.0,
        }
        if self.api == "chat":
            body["messages"] = [{"role": "user", "content": req.prompt}]
            path = "/chat/completions"
        else:
            body["prompt"] = req.prompt
            path = "/completions"
        body.update(self.extra_body)
        return path, body

    async def _one(self, session: aiohttp.ClientSession, req: ServingRequest, rec: RequestRecord) -> None:
        import aiohttp

        path, body = self._body(req)
        chunks = 0
        usage: dict[str, Any] | None = None
        try:
            async with session.post(self.base_url + path, json=body) as resp:
                if resp.status != 200:
                    text = (await resp.read()).decode("utf-8", "replace")
                    rec.error = f"HTTP {resp.status}: {text[:200]}"
                    return
                async for line in resp.content:  # one server-sent-event line at a time
                    if not line.startswith(b"data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == b"[DONE]":
                        break
                    obj = json.loads(payload)
                    if obj.get("usage"):
                        usage = obj["usage"]
                    for choice in obj.get("choices") or []:
                        if self.api == "chat":
                            delta = choice.get("delta") or {}
                            text = delta.get("content") or delta.get("reasoning_content") or ""
                        else:
                            text = choice.get("text") or ""
                        if text:
                            rec.token_times_s.append(time.monotonic())
                            chunks += 1
                    if obj.get("error"):
                        rec.error = f"server error in stream: {str(obj['error'])[:200]}"
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError, OSError, ValueError) as e:
            rec.error = f"{type(e).__name__}: {str(e)[:200]}"
        finally:
            rec.finished_s = time.monotonic()
        if usage is not None and isinstance(usage.get("completion_tokens"), int):
            rec.output_tokens = int(usage["completion_tokens"])
            if isinstance(usage.get("prompt_tokens"), int):
                rec.input_tokens = int(usage["prompt_tokens"])
            rec.timing = "per-token" if rec.output_tokens == chunks else "per-chunk"
        else:
            rec.output_tokens = chunks
            rec.timing = "per-chunk"
        if rec.output_tokens and not rec.token_times_s:
            rec.error = rec.error or "the server reported tokens but streamed no text"

    async def _run(
        self, requests: list[ServingRequest], level: LoadLevel, window: Window, seed: int
    ) -> list[RequestRecord]:
        import aiohttp

        n = len(requests)
        records: list[RequestRecord | None] = [None] * n
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        async with aiohttp.ClientSession(
            timeout=timeout, connector=aiohttp.TCPConnector(limit=0), read_bufsize=2**20
        ) as session:

            async def run_one(i: int, submitted: float) -> None:
                rec = records[i] = RequestRecord(index=i, submitted_s=submitted)
                await self._one(session, requests[i], rec)
                window.completed()

            if level.kind == "concurrency":
                todo = iter(range(n))

                async def worker() -> None:
                    for i in todo:
                        if i == n - 1:
                            window.load_ending()
                        await run_one(i, time.monotonic())

                await asyncio.gather(*(worker() for _ in range(min(level.concurrency, n))))
            else:
                start = time.monotonic()
                tasks = []
                for i, t in enumerate(arrival_times(n, level.value, seed)):
                    delay = start + t - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(run_one(i, start + t)))
                window.load_ending()
                await asyncio.gather(*tasks)
        return [r for r in records if r is not None]
