"""The load: closed-loop concurrency levels and open-loop Poisson arrival rates, each request's record, and
the steady-state window, whose edges are the edges of the Meter phase ``steady``.

Ramp-up: the window opens once as many requests have completed as the level keeps in flight (closed loop),
or a tenth of the level's requests (open loop): by then every initial slot has turned over. Drain: the
window closes when the last request is submitted, before the load thins out. Everything is read on
``time.monotonic``, the Meter's clock.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from wattsup.errors import InvalidInput

if TYPE_CHECKING:
    from wattsup.meter import Meter

__all__ = ["STEADY_PHASE", "LoadLevel", "RequestRecord", "Window", "arrival_times", "parse_levels"]

STEADY_PHASE = "steady"

TokenTiming = Literal["per-token", "per-chunk", "per-step", "derived"]


class LoadLevel(BaseModel):
    """``concurrency``: requests kept in flight (a closed loop; for static batching, the batch size).
    ``rate``: Poisson arrivals per second (an open loop)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["concurrency", "rate"]
    value: float = Field(gt=0)

    @property
    def label(self) -> str:
        return f"c={int(self.value)}" if self.kind == "concurrency" else f"rate={self.value:g}/s"

    @property
    def concurrency(self) -> int:
        if self.kind != "concurrency":
            raise ValueError("an open-loop level has no fixed concurrency")
        return int(self.value)

    def ramp_requests(self, n_requests: int) -> int:
        """Completions before the steady-state window opens."""
        if self.kind == "concurrency":
            return self.concurrency
        return max(1, math.ceil(n_requests / 10))

    def check_requests(self, n_requests: int) -> None:
        """Enough requests that a steady-state window remains between ramp-up and drain."""
        need = self.ramp_requests(n_requests) + 2 * (self.concurrency if self.kind == "concurrency" else 1)
        if n_requests < need:
            raise InvalidInput(
                "requests",
                f"{n_requests} requests at {self.label} leave no steady-state window after ramp-up and "
                f"before drain; give --requests {need} or more",
            )


def parse_levels(concurrency: str | None, rates: str | None) -> list[LoadLevel]:
    """Levels from comma lists: ``"1,2,4,8"`` concurrencies and ``"0.5,1,2"`` arrival rates (per second)."""
    levels: list[LoadLevel] = []
    for flag, text, kind in (("concurrency", concurrency, "concurrency"), ("rate", rates, "rate")):
        if not text:
            continue
        for raw in text.split(","):
            part = raw.strip()
            try:
                value = int(part) if kind == "concurrency" else float(part)
            except ValueError:
                raise InvalidInput(
                    flag,
                    f"{part!r} is not a {'whole number' if kind == 'concurrency' else 'number'}; "
                    "give a comma list such as 1,2,4,8",
                ) from None
            if not value > 0 or (kind == "rate" and not math.isfinite(value)):
                raise InvalidInput(flag, f"every level must be a positive finite number, got {part!r}")
            levels.append(LoadLevel(kind=kind, value=value))  # type: ignore[arg-type]
    if not levels:
        raise InvalidInput("concurrency", "give at least one level: --concurrency 1,2,4 or --rate 1,2")
    return levels


def arrival_times(n: int, rate_per_s: float, seed: int) -> list[float]:
    """Offsets (s) of ``n`` Poisson arrivals at ``rate_per_s``, the first at 0."""
    rng = random.Random(seed)
    t, out = 0.0, []
    for _ in range(n):
        out.append(t)
        t += rng.expovariate(rate_per_s)
    return out


@dataclass
class RequestRecord:
    """What one request did, on the monotonic clock. ``token_times_s`` holds when each output token (or
    stream chunk, for ``per-chunk``) was seen; ``output_tokens`` is what the request really produced."""

    index: int
    submitted_s: float
    input_tokens: int | None = None
    output_tokens: int = 0
    token_times_s: list[float] = field(default_factory=list)
    finished_s: float | None = None
    error: str | None = None
    timing: TokenTiming = "per-token"

    @property
    def ok(self) -> bool:
        return self.error is None and self.finished_s is not None

    @property
    def ttft_s(self) -> float | None:
        return self.token_times_s[0] - self.submitted_s if self.token_times_s else None

    def tokens_between(self, a: float, b: float) -> float:
        """Output tokens seen in ``[a, b]`` (chunks weighted by the tokens they carried on average)."""
        if not self.token_times_s or self.output_tokens == 0:
            return 0.0
        inside = sum(1 for t in self.token_times_s if a <= t <= b)
        return inside * self.output_tokens / len(self.token_times_s)


class Window:
    """The steady-state window of one level, as the Meter phase :data:`STEADY_PHASE`. Call it from the thread
    that holds the Meter (phases are per meter, not per thread): :meth:`completed` after each finished
    request,
    :meth:`load_ending` when the last request has been submitted.

    ``generator_cpu_s`` collects the load generator's own CPU time inside the window: engines add their
    thread's CPU spent on generating load (:meth:`generator`), or, with ``thread_is_generator``, :meth:`open`
    and :meth:`close` take all the CPU of the thread that calls them (an HTTP client's event loop, which does
    nothing but generate load and read the streams)."""

    def __init__(
        self,
        meter: Meter,
        ramp_requests: int,
        *,
        thread_is_generator: bool = False,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self.meter = meter
        self.on_progress = on_progress
        self.ramp_requests = ramp_requests
        self.thread_is_generator = thread_is_generator
        self.done = 0
        self.ended = False
        self.opened_s: float | None = None
        self.closed_s: float | None = None
        self.generator_cpu_s = 0.0
        self.prefill_pass_requests: int | None = None
        """Set by an engine that meters a prefill-only pass (phase ``prefill_pass``): the requests it did."""
        self._phase: object | None = None
        self._cpu0 = 0.0

    @property
    def is_open(self) -> bool:
        return self.opened_s is not None and self.closed_s is None

    def completed(self, n: int = 1) -> None:
        self.done += n
        if self.on_progress is not None:
            self.on_progress(self.done)
        if self.done >= self.ramp_requests and self.opened_s is None and not self.ended:
            self.open()

    def open(self) -> None:
        phase = self.meter.phase(STEADY_PHASE)
        phase.__enter__()
        self._phase = phase
        self.opened_s = time.monotonic()
        if self.thread_is_generator:
            self._cpu0 = time.thread_time()

    def load_ending(self) -> None:
        """The last request is in: the drain begins. A window still waiting for its ramp never opens."""
        self.ended = True
        if self.is_open:
            self.close()

    def close(self) -> None:
        if self.thread_is_generator:
            self.generator_cpu_s += time.thread_time() - self._cpu0
        self.closed_s = time.monotonic()
        phase = self._phase
        assert phase is not None
        phase.__exit__(None, None, None)  # type: ignore[attr-defined]

    def generator(self) -> _GeneratorSpan:
        """``with window.generator():`` around load-generating code: its thread CPU time counts while open."""
        return _GeneratorSpan(self)


class _GeneratorSpan:
    __slots__ = ("t0", "window")

    def __init__(self, window: Window) -> None:
        self.window = window
        self.t0 = 0.0

    def __enter__(self) -> None:
        self.t0 = time.thread_time()

    def __exit__(self, *exc: object) -> None:
        if self.window.is_open and not self.window.thread_is_generator:
            self.window.generator_cpu_s += time.thread_time() - self.t0
