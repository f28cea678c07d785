"""``wattsup footprint`` with inputs whose figures overflow a float: the error names the options given,
never one that was not (issue 15, item 8)."""

from __future__ import annotations

import json

import pytest

from wattsup.cli import main


@pytest.mark.parametrize(
    ("args", "blamed"),
    [
        (
            ["--kwh-per-1k", "1e300", "--queries-per-day", "1e300", "--years", "100"],
            "--kwh-per-1k/--queries-per-day/--years",
        ),
        (
            ["--kwh-per-1k", "1", "--queries-per-day", "1e308", "--years", "1e5"],
            "--kwh-per-1k/--queries-per-day/--years",
        ),
        (["--gpu-hours", "1e308", "--gpu", "H100"], "--gpu-hours"),
        (["--hours", "1e308", "--gpus", "100000", "--gpu", "H100"], "--hours/--gpus"),
        (["--energy-kwh", "1e308", "--finetune-kwh", "1e308"], "--energy-kwh/--finetune-kwh"),
        (["--training-kwh", "1e308", "--finetune-kwh", "1e308"], "--training-kwh/--finetune-kwh"),
        (["--energy-kwh", "1e308", "--pue", "3"], "--energy-kwh/--pue"),
        (["--energy-kwh", "1e300", "--intensity", "1e300"], "--energy-kwh/--intensity"),
    ],
)
def test_overflow_blames_the_options_given(
    args: list[str], blamed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    region = [] if "--intensity" in args else ["--region", "FR"]
    code = main(["footprint", *args, *region])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"wattsup: error: {blamed}: ") and "too large to compute" in err
    assert len(err.strip().splitlines()) == 1
    if "--energy-kwh" not in args:
        assert "--energy-kwh" not in err


def test_large_but_finite_inputs_still_work(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["footprint", "--energy-kwh", "1e12", "--region", "FR", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["operational_kgco2e"] > 0
