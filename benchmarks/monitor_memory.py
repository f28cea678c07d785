"""Memory of a long-running sampler (issue 13): ``wattsup monitor`` at a high sample rate, RSS over time.

Runs the real ``wattsup monitor`` command in a child process for DURATION_S (default 600 s) with every
track polled every POLL_S (default 10 ms: twenty-five times the CPU model's usual rate) and reads the
child's resident memory every 10 s. Before the timeline was trimmed, every poll appended to the tracks'
lists for ever; now they keep a bounded recent history (meter/sampler.py HISTORY_S) when no window is open.

    python benchmarks/monitor_memory.py [DURATION_S] [POLL_S]

Prints one JSON line per sample and a summary: RSS at 1 minute and at the end, growth after the first
history span, growth per hour extrapolated.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import psutil

DRIVER = """
import sys
from wattsup.meter import sources
poll = float(sys.argv[1])
sources.MODEL_INTERVAL_S = sources.RAPL_INTERVAL_S = sources.SAMPLED_INTERVAL_S = poll
sources.GPU_POWER_INTERVAL_S = sources.HOST_INTERVAL_S = poll
from wattsup.cli import main
sys.argv = ["wattsup", "monitor", "--interval", "1", "--duration", sys.argv[2]]
sys.exit(main())
"""


def main() -> None:
    duration = float(sys.argv[1]) if len(sys.argv) > 1 else 600.0
    poll = float(sys.argv[2]) if len(sys.argv) > 2 else 0.01
    child = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(poll), str(duration)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc = psutil.Process(child.pid)
    t0 = time.monotonic()
    samples: list[tuple[float, float]] = []
    while child.poll() is None:
        try:
            rss = proc.memory_info().rss / 2**20
        except psutil.NoSuchProcess:
            break
        t = time.monotonic() - t0
        samples.append((t, rss))
        print(json.dumps({"t_s": round(t, 1), "rss_mib": round(rss, 2)}), flush=True)
        time.sleep(10.0)
    child.wait()
    at_1min = next((r for t, r in samples if t >= 60), samples[-1][1])
    late = [(t, r) for t, r in samples if t >= 180]
    growth_h = None
    if len(late) >= 2:
        (ta, ra), (tb, rb) = late[0], late[-1]
        growth_h = (rb - ra) / (tb - ta) * 3600 if tb > ta else None
    print(
        json.dumps(
            {
                "duration_s": duration,
                "poll_s": poll,
                "exit": child.returncode,
                "rss_mib_at_1min": round(at_1min, 2),
                "rss_mib_end": round(samples[-1][1], 2),
                "rss_mib_max": round(max(r for _, r in samples), 2),
                "growth_mib_per_h_after_3min": None if growth_h is None else round(growth_h, 2),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
