"""benchmarks/counter_grid.py: the in-process benchmark's oracle for short windows (the NVML counter's steps
timed on their regular grid), and its rescoring of stored runs."""

from __future__ import annotations

import gzip
import importlib.util
import json
import math
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.processes import ROOT

BENCH = ROOT / "benchmarks"


def _module(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:  # the scripts import each other as the benchmark folder's modules
        sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


grid_mod = _module("counter_grid")


SWINGS = ((15.0, 1.3), (5.0, 0.13))
"""A GPU at its power limit: 690 W, swinging ±15 W over 1.3 s and ±5 W over 130 ms (a power-capping loop)."""


def joules(t: float) -> float:
    """The counter's true figure at ``t``: the integral of 690 W and the swings."""
    return 690.0 * t - sum(a * p / (2 * math.pi) * (math.cos(2 * math.pi * t / p) - 1) for a, p in SWINGS)


def steps(n: int = 400, period: float = 0.1, phase: float = 0.037, read_s: float = 0.0033, seed: int = 1):
    """What a reader polling the counter without pause sees: each step (every ``period`` from ``phase``)
    inside a bracket from the start of the read before it to the end of the read that saw it, each read
    taking ``read_s`` and seeing the counter halfway through; every 97th read held up 15 ms before it."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        t = phase + i * period
        start = t - read_s / 2 + rng.uniform(0, read_s)  # the read that saw the step began here
        lo = start - read_s - (0.015 if i % 97 == 5 else 0.0)
        out.append((lo, start + read_s, joules(t)))
    return out


def test_steps_are_put_back_on_their_grid() -> None:
    g = grid_mod.CounterGrid(steps())
    s = g.summary()
    assert s["grid"] is True and s["steps"] == 400 and s["missed_steps"] == 0
    assert s["period_s"] == pytest.approx(0.1, abs=2e-6)
    assert s["outliers_left_out"] >= 4  # the held-up reads are not fitted
    true = [0.037 + i * 0.1 for i in range(400)]
    off = [abs(a - b) for a, b in zip(g.t, true, strict=True)]
    assert max(off) < 6e-4 and sum(off) / len(off) < 2.5e-4  # each bracket alone: ±3.3 ms


def test_a_short_window_is_closer_to_the_truth_than_the_bracket_midpoints() -> None:
    rng = random.Random(2)
    g = grid_mod.CounterGrid(steps())
    mids = [(lo + hi) / 2 for lo, hi, _ in steps()]
    errs_grid, errs_mid, covered = [], [], 0
    for _ in range(200):
        a = rng.uniform(1.0, 38.0)
        b = a + 0.1
        truth = joules(b) - joules(a)
        e, bound = g.energy(a, b)
        errs_grid.append(abs(e / truth - 1))
        covered += abs(e - truth) <= bound
        # the same interpolation on the midpoints as they are
        j = [joules(0.037 + i * 0.1) for i in range(400)]

        def at(x: float, j: list[float] = j) -> float:
            i = max(k for k in range(len(mids)) if mids[k] <= x)
            return j[i] + (j[i + 1] - j[i]) * (x - mids[i]) / (mids[i + 1] - mids[i])

        errs_mid.append(abs((at(b) - at(a)) / truth - 1))
    errs_grid.sort()
    errs_mid.sort()
    assert errs_grid[100] < 0.5 * errs_mid[100]
    assert errs_grid[100] < 0.005  # what is left: the 130 ms swing inside the edges' steps
    assert covered >= 190  # its own bound holds (the swing inside each edge's step)


def test_a_missed_step_keeps_the_count() -> None:
    st = steps()
    del st[200]  # the reader never saw step 200: the next one comes two periods later
    g = grid_mod.CounterGrid(st)
    assert g.summary()["missed_steps"] == 1 and g.grid
    truth = joules(20.5) - joules(19.5)
    assert g.energy(19.5, 20.5)[0] == pytest.approx(truth, rel=2e-3)


def test_irregular_steps_fall_back_to_the_midpoints() -> None:
    rng = random.Random(3)
    t, st = 0.0, []
    for _ in range(300):
        t += rng.uniform(0.05, 0.15)  # a counter that moves when it likes
        st.append((t - 0.001, t + 0.001, joules(t)))
    g = grid_mod.CounterGrid(st)
    assert g.summary()["grid"] is False
    assert g.t == [(lo + hi) / 2 for lo, hi, _ in st]
    a, b = st[10][0] + 0.001, st[20][0] + 0.001  # on two midpoints: the counter's own figure
    assert g.energy(a, b)[0] == pytest.approx(st[20][2] - st[10][2])


def test_bad_input_says_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        grid_mod.CounterGrid(steps()[:2])
    with pytest.raises(ValueError, match="increasing time order"):
        grid_mod.CounterGrid(list(reversed(steps())))
    g = grid_mod.CounterGrid(steps())
    with pytest.raises(ValueError, match="outside the counter steps seen"):
        g.energy(-1.0, 0.5)


def test_a_stored_run_is_scored_against_both_oracles(tmp_path: Path) -> None:
    pytest.importorskip("torch")  # the benchmark module imports it
    rescore = _module("rescore_inprocess")
    st = steps()
    ticks = [((lo + hi) / 2, j) for lo, hi, j in st]
    raw = []
    for k, a in enumerate((3.02, 7.55, 11.31, 15.0)):
        d = 0.1 if k < 2 else 1.0
        truth = joules(a + d) - joules(a)
        raw.append(
            {
                "d": d,
                "a": a,
                "duration_s": d,
                "wattsup_j": truth * 1.004,
                "bound_j": truth * 0.01,
                "truth_j": 690.0 * d,  # the ±1 s oracle: the steady mean × the length
                "oracle_rel_uncertainty": 0.003,
            }
        )
    raw.append({"d": 0.1, "tool": "zeus", "edges": [20.0, 20.1], "p_oracle_w": 690.0, "value": [72.0, 0.1]})
    raw.append({"d": 0.1, "tool": "codecarbon", "edges": [21.0, 21.1], "p_oracle_w": 690.0, "value": None})
    path = tmp_path / "run.json.gz"
    with gzip.open(path, "wt") as f:
        json.dump({"oracle_ticks": ticks, "heavy": {"raw_windows": raw}}, f)
    scored = rescore.rescore(rescore.load(path))
    short, long = scored["heavy"]["windows"]
    assert (short["d"], short["n"], long["d"], long["n"]) == (0.1, 2, 1.0, 2)
    og = short["oracle_grid"]
    assert og["wattsup"]["median_abs_pct"] == pytest.approx(0.4, abs=0.15)
    assert og["wattsup_bound_coverage"] == 1.0
    assert og["zeus"]["n"] == 1 and og["codecarbon"]["n"] == 0 and og["codecarbon"]["median_abs_pct"] is None
    truth_zeus = grid_mod.CounterGrid(st).energy(20.0, 20.1)[0]  # its power over its edges, × its own 0.1 s
    assert og["zeus"]["median_abs_pct"] == pytest.approx(100 * abs(72.0 / truth_zeus - 1), abs=1e-3)
    # the ±1 s oracle misses the swing inside 0.1 s windows; over 1 s it evens out
    assert short["wattsup"]["median_abs_pct"] > og["wattsup"]["median_abs_pct"]
    text = rescore.table(str(path), scored)
    assert "on a grid: True" in text and "0.1 s" in text and "2/2" in text
    with pytest.raises(SystemExit, match="no oracle_ticks"):
        rescore.rescore({"heavy": {"raw_windows": raw}})


def test_the_step_spread_is_the_power_moving_between_steps() -> None:
    g = grid_mod.CounterGrid(steps())
    sp = g.step_spread(2.0, 38.0)
    assert sp is not None
    # ±15 W over 1.3 s and ±5 W over 130 ms, seen in 100 ms means: ~1.5% sd, each step ~1% off the 2 s mean
    assert 1.0 < sp["step_power_sd_pct"] < 2.5 and 0.3 < sp["step_vs_2s_median_pct"] < 2.0
    assert sp["step_vs_2s_p90_pct"] > sp["step_vs_2s_median_pct"]
    flat = grid_mod.CounterGrid([(0.1 * i - 0.002, 0.1 * i + 0.002, 70.0 * i) for i in range(100)])
    sp = flat.step_spread(2.0, 8.0)
    assert sp is not None and sp["step_power_sd_pct"] < 1e-6 and sp["step_vs_2s_p90_pct"] < 1e-6
    assert flat.step_spread(50.0, 60.0) is None  # no steps there
