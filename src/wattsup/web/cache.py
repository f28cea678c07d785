"""A memo of analysis answers, so that many people (or one busy page) asking the same question cost
the store one query, and answers stay current.

An answer is reused until the store changes (a cheap *version* of it, asked at most every
``check_every_s`` seconds: the number of runs and the newest run) and for at most ``ttl_s`` seconds
(the dashboard's ``--cache-seconds``; 0 turns the memo off). Keys are the function and its arguments
(a :class:`~wattsup.analysis.Selection`, a :class:`~wattsup.analysis.Metric`, plain values: all
hashable). One caller computes an answer; callers of the same key meanwhile wait for it, or, when an
older answer exists, get that one (so an expiring answer never stalls a crowd). Errors are not kept.
The answers are frozen pydantic models, safe to share between threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

if TYPE_CHECKING:
    from wattsup.results import Store

P = ParamSpec("P")
R = TypeVar("R")

log = logging.getLogger("wattsup.web")

MAX_ENTRIES = 1024
"""The most answers kept; the least recently used go first."""

CHECK_EVERY_S = 1.0
"""How often the store's version is asked: new runs show on the dashboard within about this long."""

_UNSET = object()


@dataclass
class _Entry:
    at: float = 0.0
    """When the computation of ``value`` started (monotonic seconds)."""
    value: Any = None
    known: bool = False
    pending: Future[Any] | None = None


class Memo:
    """Answers of recent calls, each kept ``ttl_s`` seconds."""

    def __init__(
        self,
        ttl_s: float,
        *,
        version: Callable[[], Hashable] | None = None,
        check_every_s: float = CHECK_EVERY_S,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        if ttl_s < 0:
            raise ValueError(f"ttl_s must be at least 0, got {ttl_s}")
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.check_every_s = check_every_s
        self._version_of = version
        self._version: object = _UNSET
        self._checked_at = -float("inf")
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    def _check_version(self, now: float) -> None:
        """Forget every answer when the store's version changed (one caller asks; the others go on)."""
        if self._version_of is None:
            return
        with self._lock:
            if now - self._checked_at < self.check_every_s:
                return
            self._checked_at = now
        try:
            current = self._version_of()
        except Exception as err:  # the question itself will meet the same problem and report it
            log.warning("could not ask the store whether it changed: %s", err)
            with self._lock:
                self._entries.clear()
            return
        with self._lock:
            if current != self._version:
                self._entries.clear()
                self._version = current

    def __call__(self, fn: Callable[..., R], *args: object, **kwargs: object) -> R:
        """``fn(*args, **kwargs)``, or its answer from the last ``ttl_s`` seconds."""
        if self.ttl_s == 0:
            return fn(*args, **kwargs)
        key = (fn, args, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:  # an argument that cannot be a key (a list): asked afresh
            return fn(*args, **kwargs)
        now = time.monotonic()
        self._check_version(now)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                if entry.known and (now - entry.at < self.ttl_s or entry.pending is not None):
                    answer: R = entry.value  # fresh, or being refreshed by another caller
                    return answer
                if entry.pending is not None:
                    future = entry.pending
                    mine = False
            if entry is None or entry.pending is None:
                entry = entry or _Entry()
                future = entry.pending = Future()
                self._entries[key] = entry
                mine = True
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        if not mine:
            waited: R = future.result()
            return waited
        try:
            value = fn(*args, **kwargs)
        except BaseException as err:
            with self._lock:
                entry.pending = None
                if not entry.known and self._entries.get(key) is entry:
                    del self._entries[key]
            future.set_exception(err)
            raise
        with self._lock:
            entry.value, entry.known, entry.at, entry.pending = value, True, now, None
        future.set_result(value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class Ask:
    """Asks the store a question through the memo: ``ask(analysis.facets, selection)`` is
    ``analysis.facets(store, selection)``, answered from the memo when it was asked just before."""

    def __init__(self, store: Store, memo: Memo) -> None:
        self.store = store
        self.memo = memo

    def __call__(self, fn: Callable[Concatenate[Store, P], R], *args: P.args, **kwargs: P.kwargs) -> R:
        call: Any = self.memo
        result: R = call(fn, self.store, *args, **kwargs)
        return result
