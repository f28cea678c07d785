"""CPU of the shared sampler process (the meter's default), on whatever machine runs it, and where it goes.

Starts the process-wide sampler as ``Meter()`` does and opens a window; over ``--seconds`` of wall time this
process either sleeps (``--phase-us 0``, the default) or runs a Python-bound loop with a phase around every
iteration of ``--phase-us`` µs of work (200: about the light GPU loop's inference). Prints the sampler
process's share of one core over that time (from /proc, as ``ProcessSampler.cpu_time_s``), the sensors it
polls, and its own CPU report when it stops (``WATTSUP_SAMPLER_CPU_DIR``): CPU seconds in all, at its start,
by use (each track's polls, trimming, measuring the window) and by thread (sampling, serving, and what
neither spent: the threads of the libraries it loads). ``--math-threads default`` leaves numpy's math
libraries their default thread count in the sampler process (as before the eighth session), to compare.
The GPU figure of the share comes from ``gpu_inprocess_bench.py`` (``sampler_cpu_share_of_a_core``).

    PYTHONPATH=src python benchmarks/sampler_process_cost.py [--seconds 20] [--phase-us 200]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from wattsup.meter import Meter, process, shared_sampler


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--phase-us", type=float, default=0.0, help="0: sleep with the window open")
    p.add_argument("--math-threads", choices=["one", "default"], default="one")
    args = p.parse_args()
    folder = tempfile.mkdtemp(prefix="wattsup-sampler-cpu-")
    os.environ[process.SAMPLER_CPU_ENV] = folder
    if args.math_threads == "default":
        process.ONE_THREAD_MATH = {}
    sampler, _ = shared_sampler()
    m = Meter("sampler-cost")
    m.start()
    time.sleep(2.0)  # past start-up (the counter's period is learnt by reading without pause)
    c0, t0 = sampler.cpu_time_s(), time.monotonic()
    phases = 0
    if args.phase_us <= 0:
        time.sleep(args.seconds)
    else:
        work_s = args.phase_us / 1e6
        while time.monotonic() - t0 < args.seconds:
            with m.phase("forward"):
                t = time.perf_counter()
                while time.perf_counter() - t < work_s:
                    pass
            phases += 1
    c1, t1 = sampler.cpu_time_s(), time.monotonic()
    m.stop()
    statuses = getattr(sampler, "statuses", [])
    sampler.stop()  # the sampler process writes its report as it stops
    reports = list(Path(folder).glob("sampler-cpu__*.json"))
    if len(reports) != 1:
        sys.exit(f"expected one sampler report in {folder}, found {len(reports)}")
    print(
        json.dumps(
            {
                "sampler_cpu_share_of_a_core": None if c0 is None or c1 is None else (c1 - c0) / (t1 - t0),
                "seconds": t1 - t0,
                "phases": phases,
                "math_threads": args.math_threads,
                "cores": os.cpu_count(),
                "sensors": [f"{s.component}:{s.method}" for s in statuses if s.available],
                "sampler_report": json.loads(reports[0].read_text()),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
