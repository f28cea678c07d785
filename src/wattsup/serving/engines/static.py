"""Engine (a): in-process transformers with static batching.

A batch of up to ``concurrency`` requests (closed loop), or of every request that has arrived (open loop,
up to ``max_batch``), is left-padded and run by ``generate`` to its longest output; each request keeps only
the tokens it asked for, so the tokens a shorter request's slot computes past its end cost energy but are
not counted (the waste of static batching). Per-step timestamps come from a stopping criterion (a device
sync on CUDA, where ``generate`` syncs every step anyway). Inside the steady-state window each batch is
metered as two phases: ``prefill`` (the prompt's forward and the first token) and ``decode`` (the rest).
EOS is ignored (``min_new_tokens = max_new_tokens``), as AI Energy Score does, so lengths follow the profile.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any

from wattsup.serving.engines.base import EngineInfo, EngineName, LoadedModel
from wattsup.serving.load import LoadLevel, RequestRecord, Window, arrival_times

if TYPE_CHECKING:
    from wattsup.serving.profiles import ServingRequest

__all__ = ["StaticBatchingEngine"]

PREFILL_PHASE = "prefill"
DECODE_PHASE = "decode"


class StaticBatchingEngine:
    name: EngineName = "static"

    def __init__(self, lm: LoadedModel, max_batch: int = 256) -> None:
        self.lm = lm
        self.max_batch = max_batch

    def info(self) -> EngineInfo:
        return self.lm.info(
            self.name,
            "metered phases: prefill = the batch's prompt forward and first token, decode = the rest",
        )

    def close(self) -> None:
        return None

    def run_level(
        self, requests: list[ServingRequest], level: LoadLevel, window: Window, seed: int
    ) -> list[RequestRecord]:
        self.lm.check_fits(requests)
        encoded = [self.lm.encode(r) for r in requests]
        records: list[RequestRecord] = []
        pending = deque(range(len(requests)))
        start = time.monotonic()
        arrive = (
            [start + t for t in arrival_times(len(requests), level.value, seed)]
            if level.kind == "rate"
            else None
        )
        while pending:
            with window.generator():
                if arrive is None:
                    take = [pending.popleft() for _ in range(min(level.concurrency, len(pending)))]
                    submitted = [time.monotonic()] * len(take)
                else:
                    wait = arrive[pending[0]] - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                    now = time.monotonic()
                    take = []
                    while pending and arrive[pending[0]] <= now and len(take) < self.max_batch:
                        take.append(pending.popleft())
                    submitted = [arrive[i] for i in take]
                if not pending:
                    window.load_ending()
            done = self._batch([requests[i] for i in take], [encoded[i] for i in take], submitted, window)
            records.extend(done)
            window.completed(len(done))
        return records

    def _batch(
        self, reqs: list[ServingRequest], ids: list[list[int]], submitted: list[float], window: Window
    ) -> list[RequestRecord]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList

        from wattsup.bench.backends.transformers import fixed_length_generation_config

        lm = self.lm
        width = max(len(x) for x in ids)
        input_ids = torch.full((len(ids), width), lm.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for row, x in enumerate(ids):
            input_ids[row, width - len(x) :] = torch.tensor(x, dtype=torch.long)
            mask[row, width - len(x) :] = 1
        input_ids, mask = input_ids.to(lm.device), mask.to(lm.device)
        max_new = max(r.max_new_tokens for r in reqs)
        generation = fixed_length_generation_config(lm.model, max_new, pad_token_id=lm.pad_token_id)
        times: list[float] = []
        metered = window.is_open
        phases: list[Any] = []
        sync = torch.cuda.synchronize if lm.device.startswith("cuda") else None

        class Stamp(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                if sync is not None:
                    sync()
                times.append(time.monotonic())
                if metered and len(times) == 1:
                    phases.pop().__exit__(None, None, None)
                    decode = window.meter.phase(DECODE_PHASE)
                    decode.__enter__()
                    phases.append(decode)
                return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

        if metered:
            prefill = window.meter.phase(PREFILL_PHASE)
            prefill.__enter__()
            phases.append(prefill)
        error: str | None = None
        try:
            with torch.no_grad():
                lm.model.generate(
                    input_ids=input_ids,
                    attention_mask=mask,
                    generation_config=generation,
                    stopping_criteria=StoppingCriteriaList([Stamp()]),
                )
        except (RuntimeError, ValueError) as e:  # out of memory, a shape the model refuses
            error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        finally:
            if phases:
                phases.pop().__exit__(None, None, None)
        end = time.monotonic()
        out = []
        for r, x, t0 in zip(reqs, ids, submitted, strict=True):
            n = 0 if error else min(r.max_new_tokens, len(times))
            out.append(
                RequestRecord(
                    index=r.index,
                    submitted_s=t0,
                    input_tokens=len(x),
                    output_tokens=n,
                    token_times_s=times[:n],
                    finished_s=end,
                    error=error,
                    timing="per-step",
                )
            )
        return out
