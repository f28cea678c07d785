"""The serving, bench, import and fab inputs are declared once (issue 16): every offered field of
``ServeConfig``, ``CarbonOptions``, ``RunOptions``, ``ImportOptions`` and ``FabParameters`` is an option of
its command, checked by the declaration, with errors that name the flag."""

from __future__ import annotations

from typing import Any

import pytest

from wattsup.bench.api import RunOptions
from wattsup.carbon import FabParameters
from wattsup.cli import main
from wattsup.errors import InvalidInput
from wattsup.params import field_infos, flags_of, offered
from wattsup.results.importers import ImportOptions
from wattsup.serving.lifecycle import CarbonOptions
from wattsup.serving.runner import ServeConfig


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The help text as one line of words (the frame's borders left out)."""
    assert main([*argv, "--help"]) == 0
    return " ".join(capsys.readouterr().out.replace("│", " ").split())


@pytest.mark.parametrize(
    ("argv", "models"),
    [
        (["serve"], (ServeConfig, CarbonOptions)),
        (["bench"], (RunOptions,)),
        (["import", "codecarbon"], (ImportOptions,)),
        (["hardware"], (FabParameters,)),
    ],
)
def test_every_offered_field_is_an_option(
    argv: list[str], models: tuple[type[Any], ...], capsys: pytest.CaptureFixture[str]
) -> None:
    text = _help(argv, capsys)
    for model in models:
        for name in field_infos(model):
            if offered(model, name):
                for flag in flags_of(model, name):
                    assert flag in text, (model.__name__, name, flag)


def test_suite_offers_its_overrides_without_defaults_of_their_own(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(["suite"], capsys)
    for flag in ("--device", "--weights", "-n", "--reps", "--timeout"):
        assert flag in text
    assert "--dtype" not in text and "--seed" not in text
    assert "Default: the suite's." in text and "[default: cpu]" not in text


def test_the_optimum_import_says_its_own_gpu_method_default(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(["import", "optimum"], capsys)
    assert "Default for optimum-benchmark reports: sampled" in text
    assert "--device" not in text and "--lengths" not in text


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["serve", "-m", "tiny/gpt2", "-n", "0"], "--requests: must be a whole number ≥ 1, got 0"),
        (["serve", "-m", "tiny/gpt2", "--max-batch", "0"], "--max-batch: must be a whole number ≥ 1, got 0"),
        (["bench", "qa", "-m", "tiny/distilbert-qa", "--warmup", "-1"], "--warmup: must be a whole"),
        (["bench", "qa", "-m", "tiny/distilbert-qa", "--weights", "mine"], "--weights: must be one of"),
        (["suite", "quick", "--reps", "0"], "--reps: must be a whole number ≥ 1, got 0"),
        (["import", "codecarbon", ".", "--inferences", "0"], "--inferences: must be at least 1, got 0"),
        (["import", "optimum", ".", "--cpu-method", "guess"], "--cpu-method: must be one of"),
        (["hardware", "--dies", "814@5", "--yield", "1.5"], "--yield: must be at most 1, got 1.5"),
        (["hardware", "--dies", "814@5", "--abatement", "90"], "--abatement: must be one of 95 or 99"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_flag(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--no-store"] if argv[0] == "serve" else argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wattsup: error:") and says in err and "\n" not in err


def test_the_parametric_estimate_reads_the_bound_fab_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["hardware", "--dies", "814@5", "--json"]) == 0
    base = json.loads(capsys.readouterr().out)
    assert main(["hardware", "--dies", "814@5", "--json", "--abatement", "99", "--yield", "0.5"]) == 0
    other = json.loads(capsys.readouterr().out)
    assert other["dies_kg"] != base["dies_kg"]


def test_the_models_check_their_own_bounds() -> None:
    with pytest.raises(InvalidInput, match="--idle-seconds: must be between 0 and 60"):
        ServeConfig(levels=[], model="tiny/gpt2", idle_seconds=61)
    with pytest.raises(InvalidInput, match="--timeout: must be a finite number > 0"):
        RunOptions(timeout=float("inf"))
    with pytest.raises(InvalidInput, match="--fab-intensity: must be at least 0"):
        FabParameters(fab_intensity_g_per_kwh=-1)
    assert CarbonOptions(wue=0.5).as_inputs()["wue_l_per_kwh"] == 0.5
    assert ImportOptions(lengths_paths=["a.csv"]).lengths_paths == ("a.csv",)
