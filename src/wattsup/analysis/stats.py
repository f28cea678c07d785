"""Small statistics on already-aggregated values (a few points per task or family): least squares,
Pearson and Spearman correlation, percentile bootstrap. Pure Python: the data are tens of points."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

from wattsup.analysis.types import ConfidenceInterval
from wattsup.errors import InvalidInput


def _moments(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float, float, float] | None:
    """Means of x and y and the sums of squared (co)deviations Sxx, Syy, Sxy; ``None`` below 2 points."""
    n = len(xs)
    if n < 2:
        return None
    mx = math.fsum(xs) / n
    my = math.fsum(ys) / n
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    syy = math.fsum((y - my) ** 2 for y in ys)
    sxy = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return mx, my, sxx, syy, sxy


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float] | None:
    """Least-squares ``y = slope·x + intercept``; ``None`` when x does not vary (or fewer than 2 points)."""
    m = _moments(xs, ys)
    if m is None or m[2] == 0:
        return None
    mx, my, sxx, _, sxy = m
    slope = sxy / sxx
    return slope, my - slope * mx


def slope_intercept(xs: Sequence[float], ys: Sequence[float]) -> tuple[float | None, float | None]:
    """:func:`linear_fit`'s slope and intercept, both ``None`` where there is no line (the fields of a fit
    record, unknown rather than absent)."""
    fit = linear_fit(xs, ys)
    return (None, None) if fit is None else fit


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r; ``None`` below 2 points or when either variable is constant."""
    m = _moments(xs, ys)
    if m is None or m[2] == 0 or m[3] == 0:
        return None
    _, _, sxx, syy, sxy = m
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation (Pearson on average ranks)."""
    if len(xs) < 2:
        return None
    return pearson(_ranks(xs), _ranks(ys))


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def bootstrap_ci(
    values: Sequence[float],
    *,
    statistic: Callable[[Sequence[float]], float] = mean,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> ConfidenceInterval:
    """A percentile bootstrap interval of ``statistic`` (the mean by default) over ``values``:
    ``resamples`` resamples with replacement, seeded (the same inputs give the same interval)."""
    if not 0 < confidence < 1:
        raise InvalidInput("--confidence", f"must be between 0 and 1 (exclusive), got {confidence}")
    if resamples < 100:
        raise InvalidInput("--resamples", f"must be at least 100, got {resamples}")
    data = [float(v) for v in values]
    if len(data) < 2:
        raise InvalidInput("values", f"a bootstrap needs at least 2 values, got {len(data)}")
    if any(math.isnan(v) or math.isinf(v) for v in data):
        raise InvalidInput("values", "must be finite numbers")
    rng = random.Random(seed)
    n = len(data)
    stats = sorted(statistic([data[rng.randrange(n)] for _ in range(n)]) for _ in range(resamples))
    alpha = (1 - confidence) / 2
    lo = stats[max(0, math.floor(alpha * resamples))]
    hi = stats[min(resamples - 1, math.ceil((1 - alpha) * resamples) - 1)]
    return ConfidenceInterval(
        estimate=statistic(data), low=lo, high=hi, confidence=confidence, n=n, resamples=resamples
    )
