"""Prompt profiles, load levels, Poisson arrivals and the steady-state window (no model needed)."""

from __future__ import annotations

import itertools
import statistics
import time

import pytest

from wattsup.errors import InvalidInput, NotFound
from wattsup.meter import Meter
from wattsup.serving.load import STEADY_PHASE, LoadLevel, RequestRecord, Window, arrival_times, parse_levels
from wattsup.serving.profiles import get_profile, load_profiles, make_requests


def test_every_profile_has_a_source_and_sane_lengths() -> None:
    profiles = load_profiles()
    assert {"chat", "summarisation", "reasoning"} <= set(profiles)
    for p in profiles.values():
        assert p.source and p.description
        for d in (p.input, p.output):
            assert d.min_tokens <= d.mean_tokens <= d.max_tokens


def test_requests_are_seeded_and_follow_the_profile_mean() -> None:
    p = get_profile("summarisation")
    a = make_requests(p, 4000, seed=7)
    assert a == make_requests(p, 4000, seed=7)
    assert a != make_requests(p, 4000, seed=8)
    # lognormal with the published mean; clipping at [64, 4096] barely moves it at sigma 0.4
    assert statistics.fmean(r.input_tokens for r in a) == pytest.approx(p.input.mean_tokens, rel=0.05)
    assert statistics.fmean(r.max_new_tokens for r in a) == pytest.approx(p.output.mean_tokens, rel=0.05)
    assert all(len(r.prompt.split()) == r.input_tokens for r in a[:50])


def test_caps_clip_the_drawn_lengths() -> None:
    reqs = make_requests(get_profile("reasoning"), 200, seed=0, max_input_tokens=12, max_output_tokens=5)
    assert max(r.input_tokens for r in reqs) <= 12 and max(r.max_new_tokens for r in reqs) <= 5
    assert min(r.max_new_tokens for r in reqs) >= 1


def test_bad_profile_inputs_say_what_to_do() -> None:
    with pytest.raises(NotFound, match="did you mean 'chat'"):
        get_profile("chta")
    with pytest.raises(InvalidInput, match="requests"):
        make_requests(get_profile("chat"), 0, seed=0)
    with pytest.raises(InvalidInput, match="max-output-tokens"):
        make_requests(get_profile("chat"), 3, seed=0, max_output_tokens=0)


def test_levels_parse_and_refuse_bad_values() -> None:
    levels = parse_levels("1, 2,8", "0.5,2")
    assert [lv.label for lv in levels] == ["c=1", "c=2", "c=8", "rate=0.5/s", "rate=2/s"]
    for conc, rate, flag in (
        ("1,x", None, "concurrency"),
        ("0", None, "concurrency"),
        (None, "nan", "rate"),
        (None, None, "concurrency"),
    ):
        with pytest.raises(InvalidInput, match=flag):
            parse_levels(conc, rate)


def test_a_level_needs_requests_beyond_ramp_and_drain() -> None:
    LoadLevel(kind="concurrency", value=4).check_requests(12)
    with pytest.raises(InvalidInput, match="--requests 12 or more"):
        LoadLevel(kind="concurrency", value=4).check_requests(11)


def test_poisson_arrivals_have_the_asked_rate() -> None:
    t = arrival_times(20000, 4.0, seed=1)
    gaps = [b - a for a, b in itertools.pairwise(t)]
    assert t[0] == 0 and all(g >= 0 for g in gaps)
    assert statistics.fmean(gaps) == pytest.approx(0.25, rel=0.03)
    assert statistics.pstdev(gaps) == pytest.approx(0.25, rel=0.05)  # exponential: sd = mean


def test_tokens_are_counted_inside_the_window_only() -> None:
    r = RequestRecord(
        index=0, submitted_s=0.0, output_tokens=4, token_times_s=[1.0, 2.0, 3.0, 4.0], finished_s=4.0
    )
    assert r.tokens_between(1.5, 3.5) == 2 and r.ttft_s == 1.0
    chunked = RequestRecord(index=1, submitted_s=0.0, output_tokens=6, token_times_s=[1.0, 2.0, 3.0])
    assert chunked.tokens_between(0.0, 2.5) == 4  # two chunks of three tokens on average


def test_the_window_is_the_meters_steady_phase_between_ramp_and_drain() -> None:
    with Meter() as m:
        w = Window(m, ramp_requests=2)
        w.completed()
        assert not w.is_open
        time.sleep(0.05)
        w.completed()  # ramp done: the window opens
        assert w.is_open
        with w.generator():
            sum(i * i for i in range(200_000))  # generator work inside the window is charged to it
        time.sleep(0.2)
        w.load_ending()
        assert not w.is_open
        w.load_ending()  # closing twice is harmless
        time.sleep(0.05)
    assert m.measurement is not None
    steady = m.measurement.phase(STEADY_PHASE)
    assert w.opened_s is not None and w.closed_s is not None
    assert steady.duration_s == pytest.approx(w.closed_s - w.opened_s, abs=0.01)
    assert steady.duration_s < m.measurement.duration_s - 0.05
    assert w.generator_cpu_s > 0


def test_a_window_whose_ramp_outlasts_the_load_never_opens() -> None:
    with Meter() as m:
        w = Window(m, ramp_requests=3)
        w.completed()
        w.load_ending()  # every request is in before the ramp completed: no steady state exists
        w.completed(2)
        assert not w.is_open and w.opened_s is None
    assert m.measurement is not None
    with pytest.raises(KeyError):
        m.measurement.phase(STEADY_PHASE)
