"""A phase's two edges timed one by one between real inferences, for an A/B of phase implementations on any
machine (issue 13).

``phase_cost_bench.py`` measures what a phase costs a loop's throughput, which on a GPU host resolves
±0.4 µs; on a CPU the inference itself is too noisy for that. This benchmark times each edge alone: a clock
read, the edge (``__enter__``, or ``__exit__``), a clock read, with a small transformer layer's CPU inference
(one thread) between the edges, so the caches are as a real loop leaves them. Variants, interleaved in
blocks of ``BENCH_BLOCK`` (default 200) inferences, ``BENCH_ROUNDS`` (default 30) rounds in a shuffled
order: ``phase`` (``meter.phase("forward")`` then its ``__enter__``), ``held`` (the phase object's edges),
``empty`` (an empty context manager's), ``none`` (the clock reads alone), and, with ``BENCH_REF_METER``
naming another version of ``wattsup/meter/meter.py``, ``ref_phase`` and ``ref_held`` from it. Prints the
median nanoseconds per edge pair of each variant minus ``none``'s, with bootstrap 95% intervals over rounds.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from wattsup.meter import Meter

BLOCK = int(os.environ.get("BENCH_BLOCK", "200"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))


class Empty:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def load_reference_meter(path: str) -> Any:
    """Another version of ``wattsup/meter/meter.py`` (a file) loaded as a module of its own."""
    spec = importlib.util.spec_from_file_location("wattsup_ref_meter", path)
    assert spec is not None and spec.loader is not None
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    return ref


def workload() -> Callable[[], None]:
    """A small transformer layer's inference on one CPU thread, or where torch is not installed, numpy
    matrix products over ~2 MB (also with ``BENCH_WORK=numpy``)."""
    try:
        if os.environ.get("BENCH_WORK") == "numpy":
            raise ImportError("numpy asked for")
        import torch
    except ImportError:
        import numpy as np

        rng = np.random.default_rng(0)
        a = rng.standard_normal((256, 1024), dtype=np.float32)
        b = rng.standard_normal((1024, 256), dtype=np.float32)

        def products() -> None:
            a @ b

        return products
    torch.set_num_threads(1)
    layer = torch.nn.TransformerEncoderLayer(256, 4, 1024, batch_first=True).eval()
    x = torch.randn(1, 16, 256)

    def work() -> None:
        with torch.inference_mode():
            layer(x)

    return work


def boot_ci(xs: list[float], n: int = 2000) -> list[float]:
    rng = random.Random(0)
    meds = sorted(statistics.median(rng.choices(xs, k=len(xs))) for _ in range(n))
    return [meds[int(0.025 * n)], meds[int(0.975 * n)]]


def main() -> None:
    work = workload()

    meters: dict[str, Any] = {"": Meter("edges", sources=[])}
    ref_path = os.environ.get("BENCH_REF_METER")
    if ref_path:
        meters["ref_"] = load_reference_meter(ref_path).Meter("edges-ref", sources=[])
    for m in meters.values():
        m.start()
    empty = Empty()

    def edges(variant: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
        prefix = "ref_" if variant.startswith("ref_") else ""
        m = meters[prefix]
        held = m.phase("forward")
        kind = variant.removeprefix(prefix)
        if kind == "phase":
            return (lambda: m.phase("forward").__enter__()), (lambda: held.__exit__(None, None, None))
        if kind == "held":
            return held.__enter__, (lambda: held.__exit__(None, None, None))
        if kind == "empty":
            return empty.__enter__, (lambda: empty.__exit__(None, None, None))
        return (lambda: None), (lambda: None)

    variants = ["none", "phase", "held", "empty", *(["ref_phase", "ref_held"] if ref_path else [])]
    calls = {v: edges(v) for v in variants}
    pc = time.perf_counter_ns
    per: dict[str, list[float]] = {v: [] for v in variants}
    rng = random.Random(0)
    for r in range(ROUNDS + 1):
        for v in rng.sample(variants, len(variants)):
            enter, exit_ = calls[v]
            xs = []
            for _ in range(BLOCK):
                t0 = pc()
                enter()
                t1 = pc()
                work()
                t2 = pc()
                exit_()
                t3 = pc()
                xs.append(t1 - t0 + t3 - t2)
            if r:  # the first round warms every path up
                per[v].append(statistics.median(xs))
    for m in meters.values():
        m.stop()
    res: dict[str, Any] = {
        "host": platform.node(),
        "python": sys.version.split()[0],
        "work": "torch" if "torch" in sys.modules else "numpy",
        "rounds": ROUNDS,
        "block": BLOCK,
        "none_ns": statistics.median(per["none"]),
    }
    for v in variants[1:]:
        d = [a - b for a, b in zip(per[v], per["none"], strict=True)]
        res[f"{v}_ns"] = statistics.median(d)
        res[f"{v}_ns_ci95"] = boot_ci(d)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
