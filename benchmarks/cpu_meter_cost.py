"""CPU-side costs of the meter (issue 2), on whatever machine runs it (no GPU needed).

* one phase enter/exit pair (two clock reads, no device sync): wall time per pair;
* one start/stop pair of a Meter on its own sampler: CPU time of the calling process, and the wall
  latency of stop(), which waits until every sensor has observed past the window's end;
* the background timeline: CPU time per second of wall time with the sampler polling (modelled CPU and
  RAM, plus a RAPL-style powercap tree in a temp dir polled every 50 ms), against the same idle
  process without it.

Prints JSON; figures go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from wattsup.meter import Meter, Sampler, discover


def fake_powercap(root: Path) -> None:
    for s in range(2):
        z = root / f"intel-rapl:{s}"
        z.mkdir()
        (z / "name").write_text(f"package-{s}\n")
        (z / "energy_uj").write_text(str(10**9 * (s + 1)))
        (z / "max_energy_range_uj").write_text("262143328850\n")
        d = root / f"intel-rapl:{s}:0"
        d.mkdir()
        (d / "name").write_text("dram\n")
        (d / "energy_uj").write_text("12345\n")
        (d / "max_energy_range_uj").write_text("65712999613\n")


def main() -> None:
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        fake_powercap(Path(tmp))
        src = discover(gpu=False, powercap_root=tmp)
        out["tracks"] = [f"{t.name} ({t.method})" for t in src.tracks]
        sampler = Sampler(src.tracks)
        sampler.start()
        m = Meter(sources=sampler, sync=None)
        m.start()
        n = 200_000
        t0 = time.perf_counter()
        for _ in range(n):
            with m.phase("p"):
                pass
        out["phase_pair_us"] = (time.perf_counter() - t0) / n * 1e6
        m.stop()

        cpu, lat = [], []
        for _ in range(20):
            c0, w0 = time.process_time(), time.perf_counter()
            m.start()
            m.stop()
            cpu.append(time.process_time() - c0)
            lat.append(time.perf_counter() - w0)
        out["start_stop_cpu_ms_median"] = statistics.median(cpu) * 1e3
        out["start_stop_wall_ms_median"] = statistics.median(lat) * 1e3

        # background timeline: process CPU time per wall second, sampler on vs off, interleaved
        on, off = [], []
        for _ in range(3):
            c0, w0 = time.process_time(), time.perf_counter()
            time.sleep(5)
            on.append((time.process_time() - c0) / (time.perf_counter() - w0))
            sampler.stop()
            c0, w0 = time.process_time(), time.perf_counter()
            time.sleep(5)
            off.append((time.process_time() - c0) / (time.perf_counter() - w0))
            src = discover(gpu=False, powercap_root=tmp)
            sampler = Sampler(src.tracks)
            sampler.start()
        sampler.stop()
        out["timeline_cpu_ms_per_s_on"] = statistics.median(on) * 1e3
        out["timeline_cpu_ms_per_s_off"] = statistics.median(off) * 1e3
        out["timeline_cpu_ms_per_s"] = (statistics.median(on) - statistics.median(off)) * 1e3
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
