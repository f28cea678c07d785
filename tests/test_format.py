"""The one number formatter: unknown stays unknown, units switch where people expect them."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from wattsup import format as fmt


def test_unknown_is_never_zero() -> None:
    for f in (fmt.number, fmt.kwh, fmt.kg, fmt.litres, fmt.sig):
        assert f(None) == "unknown"
        assert f(math.nan) == "unknown"
    assert fmt.params(None) == "unknown"
    assert fmt.when(None) == "unknown"
    assert fmt.energy(None) == ("unknown", "kWh")


def test_units_switch() -> None:
    assert fmt.kwh(0.0) == "0"
    assert fmt.kwh(0.012345) == "0.01235"
    assert fmt.kwh(2e-5) == "2.000e-05"
    assert fmt.kg(1500.0) == "1.50 t"
    assert fmt.kg(2.5) == "2.50 kg"
    assert fmt.kg(0.0123) == "12.3 g"
    assert fmt.litres(2500.0) == "2.50 m³"
    assert fmt.litres(0.5) == "500 mL"
    assert fmt.energy(0.25) == ("250", "Wh")
    assert fmt.energy(3.0, "kWh / 1k") == ("3", "kWh / 1k")
    assert fmt.params(6_700_000_000) == "6.7B"
    assert fmt.number(123456.0) == "123,456"
    assert fmt.sig(1.23456, ".2f") == "1.23"


def test_when_is_utc() -> None:
    assert fmt.when(datetime(2026, 1, 2, 3, 4, tzinfo=UTC)) == "2026-01-02 03:04 UTC"
    assert fmt.when("2026-01-02T03:04:00") == "2026-01-02 03:04 UTC"
    assert fmt.when("not a time") == "not a time"
