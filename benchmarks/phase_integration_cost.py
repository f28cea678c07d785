"""What the sampler spends turning a window with a phase per inference into a Measurement (CPU only).

A window of 1.5 s holding N back-to-back phase intervals (170 µs each, 12 µs apart: a 5,500 inferences/s
loop with a phase around each) is measured over synthetic but realistic series: a GPU counter track
(NVML-like: 20 ms power samples, a bracketed counter step every second), a polled CPU model track and a RAM
track (a reading every 0.1 s), and the host-load track. Prints microseconds per phase interval for
``build_measurement`` (what ``Meter.stop()`` waits for in the sampler process) and for each track's
estimates alone, one interval at a time (``energy``) and all at once (``total``, where the tree has it),
best of ``--repeat``.

    PYTHONPATH=src python benchmarks/phase_integration_cost.py [--phases 8000] [--repeat 5]

Run it with another tree's ``src`` on PYTHONPATH for an A/B (same series, same seed).
"""

from __future__ import annotations

import argparse
import json
import random
import time

from wattsup.meter.counter_track import CounterTrack
from wattsup.meter.timeline import HostLoadTrack, PolledEnergyTrack
from wattsup.meter.window import Node, build_measurement


def counter_track(rnd: random.Random) -> CounterTrack:
    tr = CounterTrack("gpu:0", lambda: 0.0, lambda: [], "synthetic NVML", period_s=0.1, max_power_w=700.0)
    t, cum, prev = 0.0, 0.0, None
    while t < 30:
        p = 150 + rnd.gauss(0, 5)
        if prev is not None:
            cum += (prev[1] + p) / 2 * (t - prev[0])
            tr.s_cum.append(cum)
        tr.s_t.append(t)
        tr.s_p.append(p)
        prev = (t, p)
        t += 0.02
    for k in range(30):  # a bracketed step every second (sparse brackets), 14 ms wide
        m = k + 0.05
        tr.tick_lo.append(m - 0.007)
        tr.tick_hi.append(m + 0.007)
        tr.tick_m.append(m)
        tr.tick_e.append(150 * m)
    return tr


def polled_track(rnd: random.Random, name: str, watts: tuple[float, float]) -> PolledEnergyTrack:
    tr = PolledEnergyTrack(name, lambda t: 0.0, 0.1, "modeled", f"synthetic {name}", 0.05)
    t, e = 0.0, 0.0
    while t < 30:
        tr.t.append(t)
        tr.e.append(e)
        tr.half.append(rnd.uniform(1e-5, 1e-3))
        dt = rnd.uniform(0.08, 0.12)
        t += dt
        e += rnd.uniform(*watts) * dt
    return tr


def host_track(rnd: random.Random) -> HostLoadTrack:
    h = HostLoadTrack(lambda: (0.0, 0.0), ncpu=16)
    t, hs, ts = 0.0, 0.0, 0.0
    while t < 30:
        h.t.append(t)
        h.host_s.append(hs)
        h.tree_s.append(ts)
        t += 1.0
        hs += rnd.uniform(1.2, 1.6)
        ts += rnd.uniform(1.0, 1.1)
    return h


def best_of(repeat: int, fn: object) -> float:
    assert callable(fn)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--phases", type=int, default=8000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rnd = random.Random(0)
    tracks = [counter_track(rnd), polled_track(rnd, "cpu", (20, 60)), polled_track(rnd, "ram", (50, 51))]
    host = host_track(rnd)
    root = Node("window", [(10.0, 11.5)])
    phase = root.child("forward")
    a = 10.0
    for _ in range(args.phases):
        phase.add(a, a + 170e-6)
        a += 182e-6
    intervals = phase.intervals
    out: dict[str, float] = {}
    for tr in tracks:
        s = best_of(args.repeat, lambda tr=tr: [tr.energy(x, y) for x, y in intervals])
        out[f"{tr.name}_us_per_phase"] = round(s / args.phases * 1e6, 2)
        if hasattr(tr, "total"):  # the window's intervals at once (vectorised where numpy is installed)
            s = best_of(args.repeat, lambda tr=tr: tr.total(phase.starts, phase.ends))
            out[f"{tr.name}_total_us_per_phase"] = round(s / args.phases * 1e6, 2)
    s = best_of(args.repeat, lambda: build_measurement(tracks, root, [], False, host))
    out["build_measurement_us_per_phase"] = round(s / args.phases * 1e6, 2)
    m = build_measurement(tracks, root, [], False, host)
    out["phase_energy_j"] = round(m.phases[0].total_energy_j, 6)  # the same in an A/B: same series
    print(json.dumps({"phases": args.phases, **out}))


if __name__ == "__main__":
    main()
