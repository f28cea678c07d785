"""Hourly intensity profiles and carbon-aware scheduling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattsup.carbon import best_window, parse_profile
from wattsup.errors import InvalidInput

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def profile_text(values: list[float]) -> str:
    lines = ["timestamp,g_per_kwh"] + [
        f"{(T0 + timedelta(hours=i)).isoformat()},{v}" for i, v in enumerate(values)
    ]
    return "\n".join(lines) + "\n"


def test_parse_and_mean() -> None:
    p = parse_profile(profile_text([100, 300, 200]))
    assert p.step == timedelta(hours=1)
    assert p.end == T0 + timedelta(hours=3)
    assert p.mean_intensity(T0, T0 + timedelta(hours=2)) == pytest.approx(200)
    assert p.mean_intensity(T0 + timedelta(minutes=30), T0 + timedelta(minutes=90)) == pytest.approx(200)
    assert p.operational_kg(10, T0, T0 + timedelta(hours=1), pue=1.5) == pytest.approx(1.5)


def test_naive_timestamps_are_utc() -> None:
    p = parse_profile("timestamp,g_per_kwh\n2024-01-01T00:00:00,10\n2024-01-01T01:00:00,20\n")
    assert p.start == T0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("time,value\n2024-01-01T00:00:00Z,1\n", "header"),
        ("timestamp,g_per_kwh\nyesterday,1\n", "timestamp"),
        ("timestamp,g_per_kwh\n2024-01-01T00:00:00Z,abc\n", "not a number"),
        ("timestamp,g_per_kwh\n2024-01-01T00:00:00Z,-5\n", ">= 0"),
        ("timestamp,g_per_kwh\n2024-01-01T00:00:00Z,nan\n", "finite"),
        ("timestamp,g_per_kwh\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:00Z,2\n", "twice"),
        ("timestamp,g_per_kwh\n", "no rows"),
    ],
)
def test_parse_errors(text: str, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        parse_profile(text)


def test_outside_profile_is_an_error() -> None:
    p = parse_profile(profile_text([100, 200]))
    with pytest.raises(InvalidInput, match="covers"):
        p.mean_intensity(T0, T0 + timedelta(hours=5))


def test_best_window() -> None:
    p = parse_profile(profile_text([300, 200, 50, 60, 400, 10]))
    w = best_window(p, 2, deadline=T0 + timedelta(hours=6))
    assert w.start == T0 + timedelta(hours=2) and w.mean_intensity_g_per_kwh == pytest.approx(55)
    # a deadline before the cheap hours restricts the choice
    w2 = best_window(p, 2, deadline=T0 + timedelta(hours=3))
    assert w2.start == T0 + timedelta(hours=1)
    with pytest.raises(InvalidInput, match="--deadline"):
        best_window(p, 4, deadline=T0 + timedelta(hours=2))


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.floats(min_value=0, max_value=1000), min_size=2, max_size=48),
    duration=st.integers(min_value=1, max_value=6),
)
def test_best_window_is_no_worse_than_any_hourly_start(values: list[float], duration: int) -> None:
    duration = min(duration, len(values))
    p = parse_profile(profile_text(values))
    w = best_window(p, duration, deadline=p.end)
    for s in range(len(values) - duration + 1):
        mean = sum(values[s : s + duration]) / duration
        assert w.mean_intensity_g_per_kwh <= mean + 1e-6
    assert w.end <= p.end and w.start >= p.start
