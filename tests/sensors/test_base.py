"""Property-based tests of the wrap/reset-safe counter arithmetic (CounterAccumulator)."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattsup.sensors.base import CounterAccumulator

SCALE_J = 1e-6  # RAPL: µJ
MAX_POWER_W = 500.0

THOROUGH = settings(max_examples=150, deadline=None, derandomize=True)
"""Deterministic (derandomized) and free of time limits: the machine running the tests is shared."""


@st.composite
def wrapping_readings(draw: st.DrawFn) -> tuple[int, int, list[tuple[int, float]], list[int]]:
    """A counter of range R read at increasing times: at most one wrap between two readings, and never
    more energy per interval than MAX_POWER_W allows. Returns (R, first raw, [(raw, t)], increments)."""
    wrap_range = draw(st.integers(min_value=10, max_value=2**40))
    raw = draw(st.integers(min_value=0, max_value=wrap_range - 1))
    t = draw(st.floats(min_value=0.0, max_value=1e6, allow_nan=False))
    readings: list[tuple[int, float]] = [(raw, t)]
    increments: list[int] = []
    for _ in range(draw(st.integers(min_value=1, max_value=40))):
        dt = draw(st.floats(min_value=0.0, max_value=5.0, allow_nan=False))
        # what may pass between two readings: less than one full range, and plausible at full power
        most = min(wrap_range - 1, math.floor(0.999 * MAX_POWER_W * (dt + 1.0) / SCALE_J))
        inc = draw(st.integers(min_value=0, max_value=most))
        t += dt
        raw = (raw + inc) % wrap_range
        readings.append((raw, t))
        increments.append(inc)
    return wrap_range, readings[0][0], readings, increments


@THOROUGH
@given(wrapping_readings())
def test_wraps_reconstruct_the_true_total(case: tuple[int, int, list[tuple[int, float]], list[int]]) -> None:
    wrap_range, _, readings, increments = case
    acc = CounterAccumulator(SCALE_J, wrap_range, MAX_POWER_W)
    totals = [acc.update(raw, t) for raw, t in readings]
    expected = sum(increments) * SCALE_J
    assert acc.total_j == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert acc.resets == 0
    wraps = sum(1 for (a, _), (b, _) in pairwise(readings) if b < a)
    assert acc.wraps == wraps
    assert all(b >= a for a, b in pairwise(totals))
    assert totals[0] == 0.0  # the first reading is the origin


@THOROUGH
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(min_value=0, max_value=10**9)),
        min_size=1,
        max_size=50,
    )
)
def test_resets_count_from_zero_and_never_decrease(steps: list[tuple[bool, int]]) -> None:
    """NVML's counter has no wrap range: a decrease is a reset (driver reload), counted from zero."""
    acc = CounterAccumulator(1e-3, None, 1500.0)
    raw, t = 10**12, 0.0
    acc.update(raw, t)
    expected_mj = 0
    totals = [0.0]
    resets = 0
    for reset, value in steps:
        t += 0.1
        if reset and value < raw:
            raw = value
            expected_mj += value
            resets += 1
        else:
            expected_mj += value
            raw += value
        totals.append(acc.update(raw, t))
    assert acc.total_j == pytest.approx(expected_mj * 1e-3, rel=1e-12)
    assert acc.resets == resets and acc.wraps == 0
    assert all(b >= a for a, b in pairwise(totals))


@THOROUGH
@given(
    st.integers(min_value=1000, max_value=2**32),
    st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=1e15, allow_nan=False, allow_infinity=False),
            st.floats(min_value=-10.0, max_value=10.0, allow_nan=False),
        ),
        min_size=1,
        max_size=60,
    ),
)
def test_totals_are_monotonic_whatever_the_readings(
    wrap_range: int, readings: list[tuple[float, float]]
) -> None:
    """Arbitrary readings (garbage, resets, out-of-order times) never make the cumulative total go down."""
    acc = CounterAccumulator(SCALE_J, wrap_range, MAX_POWER_W)
    t = 0.0
    last = acc.total_j
    for raw, dt in readings:
        t += dt
        total = acc.update(raw, t)
        assert total >= last
        assert math.isfinite(total)
        last = total


@THOROUGH
@given(st.data())
def test_a_decrease_too_large_for_a_wrap_is_a_reset(data: st.DataObject) -> None:
    """A drop that, read as a wrap, would mean more energy than max power allows is a reset."""
    wrap_range = data.draw(st.integers(min_value=2, max_value=2**32))
    last = data.draw(st.integers(min_value=1, max_value=wrap_range - 1))
    acc = CounterAccumulator(1.0, wrap_range, max_power_w=1.0)  # 1 J per raw unit, 1 W
    acc.update(last, 0.0)
    acc.update(0, 0.5)  # as a wrap: wrap_range - last J in 0.5 s, where 1 W × (0.5 + 1) s is plausible
    if wrap_range - last <= 1.5:
        assert (acc.wraps, acc.resets, acc.total_j) == (1, 0, wrap_range - last)
    else:
        assert (acc.wraps, acc.resets, acc.total_j) == (0, 1, 0.0)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0])
def test_invalid_readings_are_refused(bad: float) -> None:
    acc = CounterAccumulator(SCALE_J, 2**32, MAX_POWER_W)
    acc.update(100, 0.0)
    with pytest.raises(ValueError, match="finite non-negative"):
        acc.update(bad, 1.0)
    assert acc.update(300, 2.0) == pytest.approx(200 * SCALE_J)


def test_wrap_slack_covers_a_delayed_reading() -> None:
    """1 s at full power of slack: a wrap read late (dt = 0) is still a wrap."""
    acc = CounterAccumulator(1e-6, 1_000_000, max_power_w=2.0)
    acc.update(900_000, 5.0)
    acc.update(800_000, 5.0)  # 0.9 J in no time: within 2 W × 1 s of slack
    assert acc.wraps == 1
    assert acc.total_j == pytest.approx(0.9)
