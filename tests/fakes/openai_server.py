"""A minimal OpenAI-compatible server (FastAPI + uvicorn) over a local transformers causal LM, with real
token-by-token streaming: the stand-in for ``transformers serve`` where its extra dependencies (``openai``,
``accelerate``) are not installed. Run: ``python -m tests.fakes.openai_server MODEL_DIR PORT``.

It serves ``/v1/models``, ``/v1/completions`` and ``/v1/chat/completions`` (``stream`` true or false,
``stream_options.include_usage``), greedy decoding with a KV cache, one forward per token; a request for
another model name gets a 404, as real servers answer.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import torch
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse
from transformers import AutoModelForCausalLM, AutoTokenizer


def build_app(model_dir: str) -> FastAPI:
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    model.eval()
    tok = AutoTokenizer.from_pretrained(model_dir)
    lock = threading.Lock()  # one forward at a time: the model is shared by the worker threads
    app = FastAPI()

    def tokens(prompt_ids: list[int], max_tokens: int) -> Iterator[int]:
        ids = torch.tensor([prompt_ids], dtype=torch.long)
        past = None
        with torch.no_grad():
            for _ in range(max_tokens):
                with lock:
                    out = model(input_ids=ids, past_key_values=past, use_cache=True)
                past = out.past_key_values
                nxt = int(out.logits[0, -1].argmax())
                yield nxt
                ids = torch.tensor([[nxt]], dtype=torch.long)

    def handle(body: dict[str, Any], chat: bool) -> Any:
        if body.get("model") not in (None, model_dir):
            raise HTTPException(
                404, f"model {body.get('model')!r} is not served here; this serves {model_dir!r}"
            )
        prompt = body["messages"][-1]["content"] if chat else body["prompt"]
        prompt_ids = list(tok(prompt)["input_ids"])
        max_tokens = int(body.get("max_tokens") or 16)
        rid = f"cmpl-{uuid.uuid4().hex}"
        kind = "chat.completion.chunk" if chat else "text_completion"

        def chunk(text: str, finish: str | None = None) -> dict[str, Any]:
            choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
            if chat:
                choice["delta"] = {"content": text} if text else {}
            else:
                choice["text"] = text
            return {
                "id": rid,
                "object": kind,
                "created": int(time.time()),
                "model": model_dir,
                "choices": [choice],
            }

        usage = {"prompt_tokens": len(prompt_ids), "completion_tokens": 0}
        if not body.get("stream"):
            out = list(tokens(prompt_ids, max_tokens))
            usage["completion_tokens"] = len(out)
            text = tok.decode(out)
            msg = {"message": {"role": "assistant", "content": text}} if chat else {"text": text}
            return JSONResponse(
                {"id": rid, "model": model_dir, "choices": [{"index": 0, **msg}], "usage": usage}
            )

        def stream() -> Iterator[str]:
            for t in tokens(prompt_ids, max_tokens):
                usage["completion_tokens"] += 1
                yield f"data: {json.dumps(chunk(tok.decode([t]) or ' '))}\n\n"
            yield f"data: {json.dumps(chunk('', 'length'))}\n\n"
            if (body.get("stream_options") or {}).get("include_usage"):
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
                yield f"data: {json.dumps({**chunk(''), 'choices': [], 'usage': usage})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_dir, "object": "model"}]}

    @app.post("/v1/completions")
    async def completions(request: Request) -> Any:
        return handle(await request.json(), chat=False)

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Any:
        return handle(await request.json(), chat=True)

    return app


if __name__ == "__main__":
    uvicorn.run(build_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
