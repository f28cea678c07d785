"""Engine (b): transformers' own continuous batching, driven request by request.

The model's paged attention is set (``set_attn_implementation("paged|sdpa")``) and its continuous-batching
manager started under ``torch.no_grad()`` (never ``inference_mode``: its thread then fails every request
and returns no tokens). Requests go in with ``add_request`` as the level says (closed loop: a new one as
each finishes; open loop: at Poisson arrival times) and come back with ``get_result``; each counts only the
tokens it really produced (``generated_tokens``). Token timestamps come from ``record_timestamps`` where
the installed transformers has it; otherwise they are derived (spread evenly over the request's life span)
and labelled ``derived``. Prefill and decode share forward passes here, so no phase holds either alone:
after the load, a prefill-only pass (the same prompts, one new token each, as AI Energy Score measures
prefill) is metered as a phase of its own, and the window's energy is split with it (labelled derived).
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wattsup.errors import WattsupError
from wattsup.serving.engines.base import EngineInfo, EngineName, LoadedModel
from wattsup.serving.load import LoadLevel, RequestRecord, Window, arrival_times

if TYPE_CHECKING:
    from wattsup.serving.profiles import ServingRequest

__all__ = ["ContinuousBatchingEngine"]

POLL_S = 0.2
PAGE_SIZE = 256
MAX_BATCH_TOKENS = 8192
PREFILL_PASS_PHASE = "prefill_pass"
STALL_S = 600.0
"""A level whose manager returns nothing for this long while requests are in flight fails them."""


@dataclass(frozen=True)
class _Session:
    """A running continuous-batching manager, the level's encoded prompts and what every request adds."""

    manager: Any
    encoded: list[list[int]]
    seed: int
    extra: dict[str, Any]


class ContinuousBatchingEngine:
    name: EngineName = "continuous"

    def __init__(self, lm: LoadedModel) -> None:
        self.lm = lm
        model = lm.model
        if not hasattr(model, "init_continuous_batching"):
            raise WattsupError(
                "this transformers has no continuous batching (init_continuous_batching); install "
                "transformers 5 or newer, or use --engine static"
            )
        try:
            model.set_attn_implementation("paged|sdpa")
        except (ValueError, AttributeError, ImportError) as e:
            raise WattsupError(
                f"{lm.name} cannot use paged attention for continuous batching ({e}); use --engine static"
            ) from e
        self.timestamps = True

    def info(self) -> EngineInfo:
        notes = list(self.lm.notes)
        if not self.timestamps:
            notes.append("token times derived: this transformers records no per-token timestamps")
        return self.lm.info(
            self.name,
            "derived: continuous batching runs prefill and decode of different requests in the same "
            "forward passes, so prefill = (a prefill-only pass of the same prompts at the same "
            "concurrency, one new token each, AI Energy Score's method) per request × the requests whose "
            "first token fell in the window; decode = window − prefill",
            notes,
        )

    def close(self) -> None:
        return None

    def run_level(
        self, requests: list[ServingRequest], level: LoadLevel, window: Window, seed: int
    ) -> list[RequestRecord]:
        import torch
        from transformers import GenerationConfig

        lm = self.lm
        lm.check_fits(requests)
        encoded = [lm.encode(r) for r in requests]
        config: Any = GenerationConfig(  # type: ignore[no-untyped-call]
            max_new_tokens=max(r.max_new_tokens for r in requests),
            do_sample=False,
            pad_token_id=lm.pad_token_id,
        )
        # The paged cache is sized to the level's workload, not to free memory (transformers' default: 90% of
        # a GPU, or tens of GB of host memory off one, which takes minutes to allocate): every level then
        # holds what its requests need and no level inherits another's cache.
        slots = level.concurrency if level.kind == "concurrency" else min(len(requests), 256)
        longest = max(len(x) + r.max_new_tokens for x, r in zip(encoded, requests, strict=True))
        batch_tokens = max(512, min(slots * max(len(x) for x in encoded), MAX_BATCH_TOKENS))
        kwargs: dict[str, Any] = {}
        takes_config = (
            "continuous_batching_config" in inspect.signature(lm.model.init_continuous_batching).parameters
        )
        try:
            from transformers import ContinuousBatchingConfig
        except ImportError:
            takes_config = False
        if takes_config:
            # tokens per cache block: ``page_size`` in transformers 5.25, ``block_size`` in 5.17; 256 in both
            default = ContinuousBatchingConfig()
            page = int(
                getattr(default, "page_size", None) or getattr(default, "block_size", None) or PAGE_SIZE
            )
            kwargs["continuous_batching_config"] = ContinuousBatchingConfig(
                num_blocks=slots * (-(-longest // page)) + 1, max_batch_tokens=batch_tokens
            )
        else:  # older transformers read the sizes from the generation config
            config.num_blocks = slots * (-(-longest // PAGE_SIZE)) + 1
            config.max_batch_tokens, config.block_size = batch_tokens, PAGE_SIZE
        with torch.no_grad():
            manager = lm.model.init_continuous_batching(generation_config=config, **kwargs)
            add_params = inspect.signature(manager.add_request).parameters
            self.timestamps = "record_timestamps" in add_params
            extra: dict[str, Any] = {}
            if self.timestamps:
                extra["record_timestamps"] = True
            if "eos_token_id" in add_params:
                extra["eos_token_id"] = -1  # no EOS: every request produces its drawn length
            manager.start()
            try:
                session = _Session(manager, encoded, seed, extra)
                records = self._drive(session, requests, level, window, "wattsup")
                self._prefill_pass(session, requests, level, window, records)
                return records
            finally:
                manager.stop(block=True, timeout=60)

    def _drive(
        self, session: _Session, requests: list[ServingRequest], level: LoadLevel, window: Window, prefix: str
    ) -> list[RequestRecord]:
        manager, encoded, seed, extra = session.manager, session.encoded, session.seed, session.extra
        offset = time.monotonic() - time.perf_counter()  # transformers stamps with perf_counter
        n = len(requests)
        records: dict[int, RequestRecord] = {}
        next_i = 0
        in_flight = 0
        start = time.monotonic()
        arrive = [start + t for t in arrival_times(n, level.value, seed)] if level.kind == "rate" else None

        def submit(i: int) -> None:
            nonlocal in_flight
            records[i] = RequestRecord(index=i, submitted_s=time.monotonic(), input_tokens=len(encoded[i]))
            rid = manager.add_request(
                input_ids=encoded[i],
                request_id=f"{prefix}-{i}",
                max_new_tokens=requests[i].max_new_tokens,
                **extra,
            )
            if rid is None:
                records[i].error = "the continuous-batching manager refused the request (it is stopping)"
                records[i].finished_s = time.monotonic()
            else:
                in_flight += 1
            if i == n - 1:
                window.load_ending()

        last_progress = time.monotonic()
        while next_i < n or in_flight > 0:
            with window.generator():
                if arrive is None:
                    while next_i < n and in_flight < level.concurrency:
                        submit(next_i)
                        next_i += 1
                    timeout = POLL_S
                else:
                    now = time.monotonic()
                    while next_i < n and arrive[next_i] <= now:
                        records_at = arrive[next_i]
                        submit(next_i)
                        records[next_i].submitted_s = records_at
                        next_i += 1
                    timeout = min(POLL_S, max(0.0, arrive[next_i] - now)) if next_i < n else POLL_S
            if in_flight == 0:
                if timeout > 0:
                    time.sleep(timeout)
                continue
            result = manager.get_result(timeout=timeout) if timeout > 0 else None
            if result is None:
                if not manager.is_running() or time.monotonic() - last_progress > STALL_S:
                    why = (
                        "the generation thread stopped" if not manager.is_running() else "no result for 600 s"
                    )
                    for r in records.values():
                        if r.finished_s is None:
                            r.error, r.finished_s = why, time.monotonic()
                    break
                continue
            if not result.is_finished():
                continue
            last_progress = time.monotonic()
            with window.generator():
                self._record(records, result, offset)
                in_flight -= 1
            window.completed()
        for i in range(next_i, n):  # never submitted: the manager died first
            records[i] = RequestRecord(
                index=i, submitted_s=time.monotonic(), error="not submitted: the generation thread stopped"
            )
        return [records[i] for i in range(n)]

    def _prefill_pass(
        self,
        session: _Session,
        requests: list[ServingRequest],
        level: LoadLevel,
        window: Window,
        records: list[RequestRecord],
    ) -> None:
        """The same prompts again with one new token each (AI Energy Score's prefill), at the level's
        concurrency (an open-loop level: its mean number in flight inside the window), metered as the phase
        :data:`PREFILL_PASS_PHASE` after the steady window; ``window.prefill_pass_requests`` says how many
        completed. The metrics split the window's energy with it."""
        a, b = window.opened_s, window.closed_s
        if a is None or b is None or b <= a:
            return
        if level.kind == "concurrency":
            slots = level.concurrency
        else:
            busy = sum(
                max(0.0, min(r.finished_s, b) - max(r.submitted_s, a))
                for r in records
                if r.ok and r.finished_s is not None
            )
            slots = max(1, round(busy / (b - a)))
        ones = [r.model_copy(update={"max_new_tokens": 1}) for r in requests]
        never = Window(window.meter, ramp_requests=len(requests) + 1)  # opens no steady phase
        phase = window.meter.phase(PREFILL_PASS_PHASE)
        phase.__enter__()
        try:
            done = self._drive(session, ones, LoadLevel(kind="concurrency", value=slots), never, "prefill")
        finally:
            phase.__exit__(None, None, None)
        window.prefill_pass_requests = sum(1 for r in done if r.ok and r.output_tokens == 1)

    def _record(self, records: dict[int, RequestRecord], result: Any, offset: float) -> None:
        i = int(str(result.request_id).rsplit("-", 1)[1])
        rec = records[i]
        rec.finished_s = time.monotonic()
        tokens = list(result.generated_tokens)
        rec.output_tokens = len(tokens)
        if result.error is not None:
            rec.error = str(result.error).splitlines()[0] if str(result.error) else "failed"
        stamps = getattr(result, "timestamps", None)
        if stamps:
            rec.token_times_s = [t + offset for t in stamps][: len(tokens)]
            rec.timing = "per-token"
        elif tokens:
            begin, end = (t + offset for t in getattr(result, "lifespan", (-1.0, -1.0)))
            if not (0 < begin <= end):
                begin, end = rec.submitted_s, rec.finished_s
            step = (end - begin) / len(tokens)
            rec.token_times_s = [begin + step * (k + 1) for k in range(len(tokens))]
            rec.timing = "derived"
