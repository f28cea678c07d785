"""What bench and suite say before and during a run: the estimate from earlier runs and the progress bar."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from wattsup.cli.progress import RunProgress
from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.records import Repetition, RunConfig, RunRecord
from wattsup.results import Store
from wattsup.results.estimate import estimate, from_record, say_duration

CONFIG = RunConfig(task="text-classification", model="tiny/bert-classifier", dataset="imdb", n=10, reps=2)


def window(duration_s: float) -> Measurement:
    return Measurement(
        name="w",
        start_s=0.0,
        duration_s=duration_s,
        components=[ComponentEnergy(name="cpu", energy_j=1.0, method="modeled", error_bound_j=0.1)],
    )


def record(config: RunConfig) -> RunRecord:
    reps = [Repetition(index=i, measurement=window(5.0), inferences=config.n) for i in range(config.reps)]
    return RunRecord(config=config, status="ok", load=window(3.0), repetitions=reps)


def test_the_estimate_scales_an_earlier_run_of_the_same_setup(tmp_path: Path) -> None:
    bigger = CONFIG.model_copy(update={"n": 100, "reps": 3, "warmup": 10})
    found = from_record(bigger, record(CONFIG))  # 20 inferences in 10 s: 0.5 s each, 3 s to load
    assert found is not None and found.seconds == pytest.approx(3.0 + 0.5 * (10 + 300))
    assert "2 inferences/s" in found.basis and "3 s to load" in found.basis
    with Store.open(str(tmp_path / "e.db")) as store:
        assert estimate(bigger, store) is None  # nothing to go by: no guess
        store.keep(record(CONFIG))
        other_device = bigger.model_copy(update={"batch_size": 4})
        assert estimate(other_device, store) is None  # another setup is no basis
        again = estimate(bigger, store)
        assert again is not None and again.seconds == pytest.approx(found.seconds)
    assert [say_duration(s) for s in (42, 200, 7500)] == ["42 s", "3 min 20 s", "2 h 05 min"]


def test_progress_shows_the_stage_its_rate_and_time_left() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with RunProgress(True, runs=2, console=console) as bar:
        bar.run_started("text-classification · tiny/bert-classifier")
        bar.stage("load", 1, 1)
        for i in range(1, 6):
            bar.stage("rep 1", i, 10)
        console.print(bar._progress.get_renderable() if bar._progress else "")  # the bar as drawn now
        bar.run_finished()
    text = out.getvalue()
    assert "text-classification · tiny/bert-classifier" in text and "rep 1" in text and "5/10" in text
    assert "ETA" in text and "inferences/s" in text


def test_no_progress_when_quiet() -> None:
    out = io.StringIO()
    with RunProgress(False, console=Console(file=out, force_terminal=True)) as bar:
        bar.stage("rep 1", 1, 2)
    assert out.getvalue() == ""


def test_a_sensor_says_its_method_once() -> None:
    from wattsup.bench.protocol import sensor_text

    assert sensor_text("modeled", "modelled: 16.0 GB installed × 0.375 W/GB = 6.0 W") == (
        "modeled: 16.0 GB installed × 0.375 W/GB = 6.0 W"
    )
    assert sensor_text("counter", "NVML total energy, gpu 0") == "counter: NVML total energy, gpu 0"
