"""CPU of the shared sampler process (the meter's default), on whatever machine runs it.

Starts the process-wide sampler as ``Meter()`` does, opens a window, and reads the sampler process's CPU
time over ``--seconds`` of wall time (from /proc, as ``ProcessSampler.cpu_time_s``); prints its share of
one core and the sensors it polls. The GPU figure of the same quantity comes from
``gpu_inprocess_bench.py`` (``sampler_cpu_share_of_a_core``).

    PYTHONPATH=src python benchmarks/sampler_process_cost.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import time

from wattsup.meter import Meter, shared_sampler


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=20.0)
    args = p.parse_args()
    sampler, _ = shared_sampler()
    m = Meter("sampler-cost")
    m.start()
    time.sleep(2.0)  # past start-up (the counter's period is learnt by reading without pause)
    c0, t0 = sampler.cpu_time_s(), time.monotonic()
    time.sleep(args.seconds)
    c1, t1 = sampler.cpu_time_s(), time.monotonic()
    m.stop()
    statuses = getattr(sampler, "statuses", [])
    print(
        json.dumps(
            {
                "sampler_cpu_share_of_a_core": None if c0 is None or c1 is None else (c1 - c0) / (t1 - t0),
                "seconds": t1 - t0,
                "sensors": [f"{s.component}:{s.method}" for s in statuses if s.available],
            }
        )
    )


if __name__ == "__main__":
    main()
