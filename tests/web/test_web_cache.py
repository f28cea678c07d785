"""The dashboard's memo of analysis answers: reuse within the time to live, one computation for
concurrent askers, errors never kept."""

from __future__ import annotations

import threading
import time

import pytest

from wattsup.web.cache import Memo


class Counter:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.calls = 0
        self.delay_s = delay_s
        self.lock = threading.Lock()

    def __call__(self, x: int, *, scale: int = 1) -> int:
        with self.lock:
            self.calls += 1
        time.sleep(self.delay_s)
        return x * scale


def test_answers_are_reused_within_the_time_to_live() -> None:
    memo = Memo(ttl_s=60)
    f = Counter()
    assert memo(f, 2) == 2
    assert memo(f, 2) == 2
    assert f.calls == 1
    assert memo(f, 2, scale=3) == 6  # other arguments, another question
    assert memo(f, 3) == 3
    assert f.calls == 3


def test_answers_expire() -> None:
    memo = Memo(ttl_s=0.05)
    f = Counter()
    memo(f, 1)
    time.sleep(0.08)
    memo(f, 1)
    assert f.calls == 2


def test_zero_turns_it_off_and_unhashable_arguments_pass_through() -> None:
    f = Counter()
    off = Memo(ttl_s=0)
    off(f, 1)
    off(f, 1)
    assert f.calls == 2
    g = Counter()
    on = Memo(ttl_s=60)

    def total(items: list[int]) -> int:
        g(1)
        return sum(items)

    assert on(total, [1, 2]) == 3
    assert on(total, [1, 2]) == 3
    assert g.calls == 2
    assert len(on) == 0


def test_concurrent_askers_share_one_computation() -> None:
    memo = Memo(ttl_s=60)
    f = Counter(delay_s=0.2)
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(memo(f, 7))) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [7] * 20
    assert f.calls == 1


def test_errors_are_not_kept() -> None:
    memo = Memo(ttl_s=60)
    calls = []

    def flaky(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            raise ValueError("first call fails")
        return x

    with pytest.raises(ValueError, match="first call fails"):
        memo(flaky, 1)
    assert memo(flaky, 1) == 1
    assert len(calls) == 2


def test_size_is_bounded() -> None:
    memo = Memo(ttl_s=60, max_entries=10)
    f = Counter()
    for i in range(25):
        memo(f, i)
    assert len(memo) == 10
    memo(f, 24)  # recent: kept
    memo(f, 0)  # old: asked again
    assert f.calls == 26


def test_negative_time_to_live_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 0"):
        Memo(ttl_s=-1)


def test_an_expired_answer_is_served_while_one_caller_refreshes_it() -> None:
    memo = Memo(ttl_s=0.05)
    f = Counter(delay_s=0.3)
    assert memo(f, 5) == 5
    time.sleep(0.08)
    refresher = threading.Thread(target=lambda: memo(f, 5))
    refresher.start()
    time.sleep(0.05)
    start = time.monotonic()
    assert memo(f, 5) == 5  # the old answer, at once, not after the refresh
    assert time.monotonic() - start < 0.1
    refresher.join()
    assert f.calls == 2


def test_a_changed_store_forgets_every_answer() -> None:
    version = [1]
    memo = Memo(ttl_s=600, version=lambda: version[0], check_every_s=0)
    f = Counter()
    memo(f, 1)
    memo(f, 1)
    assert f.calls == 1
    version[0] = 2
    memo(f, 1)
    assert f.calls == 2


def test_the_store_is_asked_for_its_version_at_most_every_interval() -> None:
    asked: list[int] = []

    def version() -> int:
        asked.append(1)
        return 1

    memo = Memo(ttl_s=600, version=version, check_every_s=60)
    f = Counter()
    for i in range(10):
        memo(f, i % 2)
    assert len(asked) == 1
    assert f.calls == 2


def test_a_failing_version_check_keeps_nothing() -> None:
    def version() -> int:
        raise RuntimeError("store gone")

    memo = Memo(ttl_s=600, version=version, check_every_s=0)
    f = Counter()
    memo(f, 1)
    memo(f, 1)
    assert f.calls == 2
