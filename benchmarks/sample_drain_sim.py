"""Does the rate the sampler drains the power-sample buffer at change a short window's estimate? (issue 13)

On the fake NVML of the tests (``tests/fakes``: a simulated H100 whose counter steps every 100 ms with
``--jitter`` seconds of jitter, 20 ms power samples with ``--noise`` W of noise in a 4 s buffer) and the
GPU track wattsup builds for it, driven on a fake clock: a load wandering between 600 and
700 W every 50 ms, then ``--windows`` windows of 0.1 s at random offsets, each estimated as the meter does
(wait until the track has observed past its end), for each drain interval given. Prints the median
|error|, the mean signed error and the share of windows inside their own bound, per interval. Run from
the repository root: ``PYTHONPATH=src:. python benchmarks/sample_drain_sim.py``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from unittest import mock

from tests.fakes.gpu_sim import T0, gpu_simulation
from tests.fakes.nvml import FakeGpu, Power
from wattsup.meter import counter_track


def run(every_s: float, windows: int, jitter_s: float, noise_w: float, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    steps = [(T0 + 0.05 * k, 600.0 + 100.0 * rng.random()) for k in range(int(windows * 0.5 / 0.05) + 400)]
    errs: list[float] = []
    covered = 0
    with (
        mock.patch.object(counter_track, "SAMPLES_EVERY_S", every_s),
        gpu_simulation(
            FakeGpu(power=Power.steps(steps), counter_jitter_s=jitter_s, sample_noise_w=noise_w)
        ) as sim,
    ):
        sim.run_to(T0 + 6.0)
        for _ in range(windows):
            a = sim.clock.now + 0.05 + rng.random() * 0.3
            w = sim.window(a, a + 0.1)
            errs.append(100 * w.error_j / w.truth_j)
            covered += abs(w.error_j) <= w.estimate.bound_j
    return {
        "drain_every_s": every_s,
        "windows": windows,
        "median_abs_error_pct": round(statistics.median(abs(e) for e in errs), 3),
        "mean_error_pct": round(statistics.fmean(errs), 3),
        "inside_bound": round(covered / windows, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=float, nargs="+", default=[0.25, 0.5], help="drain intervals, s")
    ap.add_argument("--windows", type=int, default=120)
    ap.add_argument("--jitter", type=float, default=0.04, help="counter step jitter, s")
    ap.add_argument("--noise", type=float, default=10.0, help="power-sample noise, W")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    for every in args.every:
        print(json.dumps(run(every, args.windows, args.jitter, args.noise, args.seed)))


if __name__ == "__main__":
    main()
