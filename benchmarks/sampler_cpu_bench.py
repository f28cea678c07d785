"""Where the sampler process's CPU goes, on whatever machine runs it (issue 13: the sampler costs ≤ 2% of
a core).

A ``Meter()`` as users write it (the shared sampler process, every sensor found here) stays open for
``BENCH_SECONDS`` (default 20) while this process runs a Python-bound loop with a phase around every
iteration (``BENCH_PHASE_US`` of work, default 200 µs, about the light GPU loop's inference); then the
sampler stops and its own CPU report (``WATTSUP_SAMPLER_CPU_DIR``) is printed: CPU seconds in all, at its
start, by use (each track's polls, trimming, measuring the window) and by thread (sampling, serving, and
what neither spent: the threads of the libraries it loads). ``BENCH_MATH_THREADS=default`` leaves numpy's
math libraries their default thread count in the sampler process (before the eighth session's change),
to compare.

Prints JSON; figures go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from wattsup.meter import Meter, process


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "20"))
    work_s = float(os.environ.get("BENCH_PHASE_US", "200")) / 1e6
    folder = tempfile.mkdtemp(prefix="wattsup-sampler-cpu-")
    os.environ[process.SAMPLER_CPU_ENV] = folder
    default_math = os.environ.get("BENCH_MATH_THREADS") == "default"
    if default_math:
        process.ONE_THREAD_MATH = {}
    m = Meter("sampler-cpu")
    m.start()
    n = 0
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        with m.phase("forward"):
            t = time.perf_counter()
            while time.perf_counter() - t < work_s:
                pass
        n += 1
    meas = m.stop()
    m.sampler.stop()  # the shared sampler process stops here and writes its report
    reports = list(Path(folder).glob("sampler-cpu__*.json"))
    if len(reports) != 1:
        sys.exit(f"expected one sampler report in {folder}, found {len(reports)}")
    report = json.loads(reports[0].read_text())
    out = {
        "host": platform.node(),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "math_threads": "default" if default_math else "one",
        "seconds": seconds,
        "phases": n,
        "components": [c.name for c in meas.components],
        "sampler": report,
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
