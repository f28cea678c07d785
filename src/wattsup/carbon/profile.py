"""Hourly (or any-step) grid intensity profiles: time-resolved operational carbon and carbon-aware
scheduling (the lowest-carbon contiguous window before a deadline).

A profile is a step function: each point's intensity holds from its timestamp until the next point; the
last one holds for one more step (the median spacing). Parsing takes CSV text; reading the file is the
caller's job (this package does no I/O beyond its packaged tables).
"""

from __future__ import annotations

import bisect
import csv
import io
import itertools
import math
import statistics
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from wattsup.errors import InvalidInput, finite_number

SECONDS_PER_HOUR = 3600.0


class IntensityProfile(BaseModel):
    """Grid intensity over time: ``points`` are (start of step, gCO2e/kWh), strictly increasing in time."""

    model_config = ConfigDict(frozen=True)

    points: list[tuple[datetime, float]] = Field(min_length=1)
    source: str = "user profile"

    @model_validator(mode="after")
    def _check(self) -> IntensityProfile:
        for (a, _), (b, _) in zip(self.points, self.points[1:], strict=False):
            if b <= a:
                raise ValueError(f"profile timestamps must increase: {b.isoformat()} follows {a.isoformat()}")
        return self

    @property
    def step(self) -> timedelta:
        if len(self.points) < 2:
            return timedelta(hours=1)
        gaps = [(b[0] - a[0]).total_seconds() for a, b in zip(self.points, self.points[1:], strict=False)]
        return timedelta(seconds=statistics.median(gaps))

    @property
    def start(self) -> datetime:
        return self.points[0][0]

    @property
    def end(self) -> datetime:
        return self.points[-1][0] + self.step

    def _edges(self) -> tuple[list[float], list[float], list[float]]:
        edges = [t.timestamp() for t, _ in self.points] + [self.end.timestamp()]
        values = [v for _, v in self.points]
        cum = [0.0]
        for i, v in enumerate(values):
            cum.append(cum[-1] + v * (edges[i + 1] - edges[i]))
        return edges, values, cum

    def _integral(
        self, t: float, tables: tuple[list[float], list[float], list[float]] | None = None
    ) -> float:
        edges, values, cum = tables or self._edges()
        k = max(0, min(bisect.bisect_right(edges, t) - 1, len(values) - 1))
        return cum[k] + values[k] * (t - edges[k])

    def _check_covered(self, start: datetime, end: datetime, flag: str) -> None:
        if start < self.start or end > self.end:
            raise InvalidInput(
                flag,
                f"the profile covers {self.start.isoformat()} to {self.end.isoformat()}, "
                f"but the run needs {start.isoformat()} to {end.isoformat()}",
            )

    def mean_intensity(self, start: datetime, end: datetime) -> float:
        """Time-weighted mean intensity over [start, end] (gCO2e/kWh)."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            raise InvalidInput("--hours", "the run must last a positive time")
        self._check_covered(start, end, "--start")
        a, b = start.timestamp(), end.timestamp()
        tables = self._edges()
        return (self._integral(b, tables) - self._integral(a, tables)) / (b - a)

    def operational_kg(self, energy_kwh: float, start: datetime, end: datetime, pue: float = 1.0) -> float:
        """``sum_h E_h x PUE x CI_h`` with the energy spread evenly over [start, end]."""
        e = finite_number("--energy-kwh", energy_kwh, minimum=0)
        p = finite_number("--pue", pue, minimum=1.0)
        return e * p * self.mean_intensity(start, end) / 1000.0


class Window(BaseModel):
    """A contiguous run window and its mean grid intensity."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
    mean_intensity_g_per_kwh: float


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def parse_timestamp(text: str, flag: str) -> datetime:
    try:
        return _utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise InvalidInput(
            flag, f"cannot read timestamp {text!r}; use ISO 8601, e.g. 2024-05-01T13:00:00Z"
        ) from None


def parse_profile(text: str, source: str = "user profile") -> IntensityProfile:
    """Parse CSV text with columns ``timestamp,g_per_kwh`` (ISO 8601 timestamps; naive ones are UTC)."""
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip() for f in reader.fieldnames or []]
    if "timestamp" not in fields or "g_per_kwh" not in fields:
        raise InvalidInput(
            "--profile", f"expected a CSV header 'timestamp,g_per_kwh', got {','.join(fields)!r}"
        )
    points: list[tuple[datetime, float]] = []
    for n, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not row.get("timestamp") and not row.get("g_per_kwh"):
            continue
        t = parse_timestamp(row.get("timestamp", ""), f"--profile (line {n})")
        try:
            v = float(row.get("g_per_kwh", ""))
        except ValueError:
            raise InvalidInput(
                f"--profile (line {n})", f"g_per_kwh is not a number: {row.get('g_per_kwh')!r}"
            ) from None
        if math.isnan(v) or math.isinf(v) or v < 0:
            raise InvalidInput(f"--profile (line {n})", f"g_per_kwh must be a finite number >= 0, got {v!r}")
        points.append((t, v))
    if not points:
        raise InvalidInput("--profile", "the profile has no rows")
    points.sort(key=lambda p: p[0])
    for (a, _), (b, _) in itertools.pairwise(points):
        if a == b:
            raise InvalidInput("--profile", f"timestamp {a.isoformat()} appears twice")
    return IntensityProfile(points=points, source=source)


def best_window(
    profile: IntensityProfile, duration_h: float, *, deadline: datetime, earliest: datetime | None = None
) -> Window:
    """The lowest-carbon contiguous window of ``duration_h`` hours that starts at or after ``earliest``
    (default: the profile's start) and ends by ``deadline`` (carbon-aware scheduling in time). Ties go to
    the earliest window."""
    d = finite_number("--hours", duration_h, minimum=0, strict_min=True) * SECONDS_PER_HOUR
    lo = max(_utc(earliest), profile.start) if earliest is not None else profile.start
    hi = min(_utc(deadline), profile.end)
    lo_s, hi_s = lo.timestamp(), hi.timestamp()
    if hi_s - lo_s < d - 1e-6:
        raise InvalidInput(
            "--deadline",
            f"no {duration_h:g} h window fits between {lo.isoformat()} and {hi.isoformat()} "
            f"(the profile ends {profile.end.isoformat()})",
        )
    tables = profile._edges()
    edges = tables[0]
    candidates = {lo_s, hi_s - d}
    for e in edges:
        for s in (e, e - d):
            if lo_s <= s <= hi_s - d:
                candidates.add(s)
    best_s, best_mean = lo_s, math.inf
    for s in sorted(candidates):
        mean = (profile._integral(s + d, tables) - profile._integral(s, tables)) / d
        if mean < best_mean - 1e-9:
            best_s, best_mean = s, mean
    start = datetime.fromtimestamp(best_s, tz=UTC)
    return Window(start=start, end=start + timedelta(seconds=d), mean_intensity_g_per_kwh=best_mean)
