"""Engine (a) over several devices: one copy of the model per device behind one load generator
(``wattsup serve --replicas 2 --device cuda``: the model on cuda:0 and on cuda:1).

Each replica runs static batches (:class:`~wattsup.serving.engines.static.StaticBatchingEngine`'s) in a
thread of its own; the load generator hands the next batch to the next free replica, in turn. A closed-loop
level keeps ``concurrency`` requests in flight over all replicas, each batch holding at most
``ceil(concurrency / replicas)`` of them; an open-loop level gives a free replica every request that has
arrived (up to ``--max-batch``). The steady-state window is the one Meter's, which meters every GPU this
process sees (``gpu:N`` each): set ``CUDA_VISIBLE_DEVICES`` to the replicas' GPUs, so that the level's
energy and its life cycle count exactly the GPUs the model used. Prefill and decode are not metered apart:
the replicas' batches overlap, and one Meter's phases cannot tell them apart.

(Splitting one model over several GPUs with transformers' ``device_map`` needs ``accelerate``, which is
not a dependency of wattsup; replicas need nothing more than torch.)
"""

from __future__ import annotations

import math
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from wattsup.errors import InvalidInput
from wattsup.serving.engines.base import EngineInfo, EngineName, LoadedModel
from wattsup.serving.engines.static import StaticBatchingEngine
from wattsup.serving.load import LoadLevel, RequestRecord, Window, arrival_times

if TYPE_CHECKING:
    from wattsup.meter import Meter
    from wattsup.serving.profiles import ServingRequest

__all__ = ["PREFILL_DECODE", "ReplicaEngine", "load_replicas", "replica_devices"]

PREFILL_DECODE = (
    "not separated: the replicas' batches overlap, and one Meter's phases cannot tell them apart "
    "(serve one replica for the prefill/decode split)"
)


def replica_devices(device: str, replicas: int) -> list[str]:
    """The device of each replica: ``cuda`` gives cuda:0 … cuda:N-1 (each must exist); ``cpu`` gives N
    copies on the CPU (they share its cores: for checking the plumbing, not for figures)."""
    if replicas < 1:
        raise InvalidInput("replicas", f"must be at least 1, got {replicas}")
    if device == "cpu":
        return ["cpu"] * replicas
    if device != "cuda":
        raise InvalidInput(
            "device", f"{device!r} with --replicas: give --device cuda (replica k runs on cuda:k) or cpu"
        )
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count < replicas:
        raise InvalidInput(
            "replicas",
            f"{replicas} replicas need {replicas} GPUs, torch sees {count} here (CUDA_VISIBLE_DEVICES "
            "limits them); give fewer replicas",
        )
    return [f"cuda:{k}" for k in range(replicas)]


def load_replicas(spec: str, weights: str, device: str, dtype: str, replicas: int) -> list[LoadedModel]:
    """One copy of the model on each replica's device (:func:`replica_devices`)."""
    from wattsup.serving.engines.base import load_causal_lm

    return [load_causal_lm(spec, weights, d, dtype) for d in replica_devices(device, replicas)]


def _visible_gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


class ReplicaEngine:
    """Static batching over one replica per device, the replicas running at once (see the module doc)."""

    name: EngineName = "static"

    def __init__(self, lms: list[LoadedModel], max_batch: int = 256) -> None:
        if not lms:
            raise InvalidInput("replicas", "must be at least 1, got 0")
        self.replicas = [StaticBatchingEngine(lm, max_batch=max_batch) for lm in lms]
        self.max_batch = max_batch
        self.pool = ThreadPoolExecutor(max_workers=len(lms), thread_name_prefix="wattsup replica")

    @property
    def devices(self) -> list[str]:
        return [r.lm.device for r in self.replicas]

    def info(self) -> EngineInfo:
        lm = self.replicas[0].lm
        devices = self.devices
        notes = [
            *lm.notes,
            f"{len(devices)} replicas of the model, one per device ({', '.join(devices)}); each batch goes "
            "to the next free replica, the replicas running at once in threads of this process",
        ]
        used = sum(d.startswith("cuda") for d in devices)
        seen = _visible_gpus() if used else 0
        if seen > used:
            notes.append(
                f"{seen} GPUs are visible but the replicas use {used}: every visible GPU is metered and "
                "counted as the server's; set CUDA_VISIBLE_DEVICES to the replicas' GPUs"
            )
        return lm.info(self.name, PREFILL_DECODE, notes).model_copy(update={"device": ",".join(devices)})

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    @staticmethod
    def _run_batch(
        replica: StaticBatchingEngine,
        batch: tuple[list[ServingRequest], list[list[int]], list[float]],
        meter: Meter,
    ) -> list[RequestRecord]:
        """One batch on one replica, in a pool thread: timed per step as the static engine times it, with no
        phase of the shared Meter (``quiet`` never opens)."""
        reqs, ids, submitted = batch
        quiet = Window(meter, ramp_requests=1)
        if replica.lm.device.startswith("cuda"):
            import torch

            with torch.cuda.device(replica.lm.device):  # its steps synchronise its own GPU
                return replica._batch(reqs, ids, submitted, quiet)
        return replica._batch(reqs, ids, submitted, quiet)

    def _take(
        self, level: LoadLevel, pending: deque[int], in_flight: int, arrive: list[float] | None
    ) -> list[int]:
        """The next batch for a free replica: request indices (empty: none may go now)."""
        if arrive is None:
            share = math.ceil(level.concurrency / len(self.replicas))
            n = min(share, level.concurrency - in_flight, len(pending))
            return [pending.popleft() for _ in range(max(n, 0))]
        now = time.monotonic()
        take: list[int] = []
        while pending and arrive[pending[0]] <= now and len(take) < self.max_batch:
            take.append(pending.popleft())
        return take

    def run_level(
        self, requests: list[ServingRequest], level: LoadLevel, window: Window, seed: int
    ) -> list[RequestRecord]:
        for r in self.replicas:
            r.lm.check_fits(requests)
        encoded = [self.replicas[0].lm.encode(r) for r in requests]
        start = time.monotonic()
        arrive = (
            [start + t for t in arrival_times(len(requests), level.value, seed)]
            if level.kind == "rate"
            else None
        )
        pending = deque(range(len(requests)))
        free = deque(range(len(self.replicas)))
        running: dict[Future[list[RequestRecord]], tuple[int, int]] = {}
        records: list[RequestRecord] = []
        in_flight = 0
        while pending or running:
            while free and pending:
                with window.generator():
                    take = self._take(level, pending, in_flight, arrive)
                    if take and not pending:
                        window.load_ending()
                if not take:
                    break
                k = free.popleft()
                submitted = [time.monotonic()] * len(take) if arrive is None else [arrive[i] for i in take]
                batch = ([requests[i] for i in take], [encoded[i] for i in take], submitted)
                fut = self.pool.submit(self._run_batch, self.replicas[k], batch, window.meter)
                running[fut] = (k, len(take))
                in_flight += len(take)
            timeout = None
            if arrive is not None and pending and free:
                timeout = max(arrive[pending[0]] - time.monotonic(), 0.0)
            done, _ = (
                wait(list(running), timeout=timeout, return_when=FIRST_COMPLETED)
                if running
                else (set(), set())
            )
            if not running and timeout:
                time.sleep(timeout)
            for fut in done:
                k, n = running.pop(fut)
                finished = fut.result()
                records.extend(finished)
                window.completed(len(finished))
                in_flight -= n
                free.append(k)
        return sorted(records, key=lambda r: r.index)
