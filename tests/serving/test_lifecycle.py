"""Each level's request life cycle and the ML.ENERGY-comparable export, on the CPU: a tiny random-weight
model through the static engine at levels 1 and 2. The GPU is the fake NVML of tests/fakes (nvidia-ml-py
patched with autospec, a simulated H100 drawing a constant power), metered in this process."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from wattsup.cli import main
from wattsup.meter import Meter, discover
from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.sensors import nvml
from wattsup.serving import ServeConfig, ServingResult, parse_levels, run_serving
from wattsup.serving.lifecycle import CarbonOptions, IdleGpu, level_life_cycle
from wattsup.serving.mlenergy import FIELDS, MLENERGY_FIELDS, NO_COUNTERPART, mlenergy_rows, write_mlenergy
from wattsup.serving.results import Figure

pytest.importorskip("torch")
pynvml = pytest.importorskip("pynvml")
from tests.fakes.nvml import FakeGpu, fake_nvml_factory  # noqa: E402 (needs pynvml)

GPU_W = 150.0
ARGS = ["-m", "tiny/gpt2", "-c", "1,2", "-n", "6", "--max-input-tokens", "8", "--max-output-tokens", "4"]


def _serve(gpus: list[FakeGpu], init_error: Any = None, **carbon: Any) -> ServingResult:
    """Serve levels 1 and 2 with a fake NVML installed and each window metered in this process."""
    saved = nvml._library.refs, nvml._module
    nvml._library.refs, nvml._module = 0, None
    make, cleanup = fake_nvml_factory()
    try:
        make(gpus, init_error=init_error)
        cfg = ServeConfig(
            engine="static",
            levels=parse_levels("1,2", None),
            model="tiny/gpt2",
            requests=6,
            max_input_tokens=8,
            max_output_tokens=4,
            idle_seconds=0.5,
            carbon=CarbonOptions(**carbon),
        )
        return run_serving(cfg, make_meter=lambda info: Meter(name="level", sources=discover()))
    finally:
        cleanup()
        nvml._library.refs, nvml._module = saved


@pytest.fixture(scope="module")
def gpu_result() -> ServingResult:
    return _serve([FakeGpu(power=GPU_W)], region="FRA", wue=0.5, water_intensity=2.0)


@pytest.fixture(scope="module")
def cpu_result() -> ServingResult:
    return _serve([], init_error=pynvml.NVMLError_LibraryNotFound)


def test_each_level_carries_its_life_cycle_under_both_boundaries(gpu_result: ServingResult) -> None:
    idle = gpu_result.gpu_idle_power_w
    assert idle is not None and idle.value is not None and idle.error_bound is not None
    assert abs(idle.value - GPU_W) <= idle.error_bound  # the fake GPU's constant power, within its bound
    assert gpu_result.gpu_model == "NVIDIA H100 80GB HBM3"
    assert gpu_result.carbon_options["region"] == "FRA"
    assert [lv.level.label for lv in gpu_result.levels] == ["c=1", "c=2"]
    for lv in gpu_result.levels:
        lc = lv.life_cycle
        assert lc is not None, lv.life_cycle_note
        assert lc["load"] == lv.level.label and lc["gpus"] == 1 and lc["gpu"] is not None
        assert lc["requests"] == lv.window_requests_completed >= 1
        assert lc["output_tokens"] == round(lv.window_output_tokens) >= 1
        # the metered phase's duration (the meter's edges, microseconds from the window's own stamps)
        assert lc["duration_s"] == pytest.approx(lv.window_s, abs=1e-3)
        assert lc["idle_power_w"] == idle.value
        assert lc["active"]["includes"] == ["accelerator"]
        assert lc["comprehensive"]["includes"] == [
            "accelerator",
            "host",
            "idle capacity",
            "datacenter overhead",
        ]
        assert lc["comprehensive"]["omitted"] == []
        assert lc["ratio"] >= 1  # host energy exists (modelled CPU and RAM), plus idle capacity and PUE
        gpu_j = lv.components["gpu:0"].energy_j
        assert lc["active"]["per_request"]["energy_wh"] * 3600 == pytest.approx(gpu_j / lc["requests"])
        tok = lc["active"]["per_1k_output_tokens"]["energy_wh"] * 3600 / 1000
        assert tok == pytest.approx(gpu_j / lc["output_tokens"])
        for b in ("active", "comprehensive"):
            for unit in ("per_request", "per_1k_output_tokens"):
                f = lc[b][unit]
                assert f["energy_wh"] > 0 and f["operational_location_g"] > 0 and f["water_ml"] > 0
                assert f["embodied_g"] is not None and f["embodied_g"] > 0
        assert lc["region"] == "FRA" and lc["intensity_g_per_kwh"] > 0


def test_the_life_cycle_survives_the_store(gpu_result: ServingResult, tmp_path: Path) -> None:
    from wattsup.results.serving_store import load_result, save_result

    db = str(tmp_path / "lc.db")
    save_result(gpu_result, db)
    back = load_result(gpu_result.id, db)
    assert [lv.life_cycle for lv in back.levels] == [lv.life_cycle for lv in gpu_result.levels]
    assert back.gpu_idle_power_w == gpu_result.gpu_idle_power_w


def test_a_cpu_only_host_says_why_there_is_no_life_cycle(cpu_result: ServingResult) -> None:
    idle = cpu_result.gpu_idle_power_w
    assert idle is not None and idle.value is None and idle.note.startswith("no GPU")
    assert cpu_result.gpu_model is None
    for lv in cpu_result.levels:
        assert lv.completed == 6 and set(lv.components) <= {"cpu", "dram", "ram"}
        assert lv.life_cycle is None and lv.life_cycle_note.startswith("no GPU is metered on this host")


def _window(components: list[ComponentEnergy], duration_s: float = 10.0) -> Measurement:
    return Measurement(name="steady", start_s=0.0, duration_s=duration_s, components=components)


def _ce(name: str, j: float) -> ComponentEnergy:
    return ComponentEnergy(name=name, energy_j=j, method="counter", error_bound_j=j / 100)


H100 = IdleGpu("NVIDIA H100 80GB HBM3", Figure(value=70.0, method="given"))


def test_unknown_region_gives_energy_and_carbon_none_with_the_reason() -> None:
    lc, note = level_life_cycle(
        _window([_ce("gpu:0", 3600.0), _ce("cpu", 720.0), _ce("ram", 360.0)]),
        load="c=4",
        requests_completed=10,
        output_tokens=2000.0,
        gpu_utilisation_pct=90.0,
        idle=H100,
        host_cpu_model=None,
        options=CarbonOptions(),
    )
    assert lc is not None and "region unknown" in note
    assert lc["region"] is None and lc["intensity_source"].startswith("unknown: no region given")
    for b in ("active", "comprehensive"):
        for unit in ("window", "per_request", "per_1k_output_tokens"):
            f = lc[b][unit]
            assert f["operational_location_g"] is None and f["operational_market_g"] is None  # never 0
            assert f["water_offsite_ml"] is None and f["energy_wh"] > 0
    assert lc["active"]["per_request"]["energy_wh"] == pytest.approx(3600.0 / 3600 / 10)
    assert lc["ratio"] > 1 and lc["gpu_utilization"] == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("steady", "requests", "tokens", "says"),
    [
        (None, 5, 100.0, "no steady-state window formed"),
        (_window([_ce("cpu", 10.0)]), 5, 100.0, "no GPU is metered"),
        (_window([_ce("gpu:0", 10.0)]), 0, 100.0, "no request completed"),
        (_window([_ce("gpu:0", 10.0)]), 5, 0.2, "no output token"),
    ],
)
def test_a_level_without_a_life_cycle_says_why(
    steady: Measurement | None, requests: int, tokens: float, says: str
) -> None:
    lc, note = level_life_cycle(
        steady,
        load="c=1",
        requests_completed=requests,
        output_tokens=tokens,
        gpu_utilisation_pct=None,
        idle=H100,
        host_cpu_model=None,
        options=CarbonOptions(region="FRA"),
    )
    assert lc is None and says in note


def _rows_back(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".json":
        rows: list[dict[str, Any]] = json.loads(path.read_text())
        return rows
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == FIELDS
        return list(reader)


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_the_mlenergy_export_round_trips_with_its_fields_and_units(
    gpu_result: ServingResult, cpu_result: ServingResult, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"rows{suffix}"
    assert write_mlenergy([gpu_result, cpu_result], out) == 4
    rows = _rows_back(out)
    assert [tuple(r) for r in rows] == [FIELDS] * 4
    expected = mlenergy_rows([gpu_result, cpu_result])

    def num(v: Any) -> float | None:
        return None if v in (None, "") else float(v)

    for row, want, lv in zip(rows, expected, [*gpu_result.levels, *cpu_result.levels], strict=True):
        for k in ("energy_per_token_joules", "avg_power_watts", "mean_itl_ms", "p99_itl_ms"):
            assert num(row[k]) == want[k]  # exact: floats round-trip through JSON and CSV
        for k in NO_COUNTERPART:
            assert row[k] in (None, "")
        assert row["domain"] == "llm" and row["model_id"] == "tiny/gpt2"
        assert num(row["max_num_seqs"]) == lv.level.concurrency
        assert num(row["mean_itl_ms"]) == pytest.approx(lv.itl.mean_s * 1000)  # ms, not s
    for row, lv in zip(rows[:2], gpu_result.levels, strict=True):
        gpu_j = lv.components["gpu:0"].energy_j
        assert num(row["num_gpus"]) == 1 and row["gpu_model"] == "NVIDIA H100 80GB HBM3"
        assert num(row["steady_state_energy_joules"]) == pytest.approx(gpu_j)  # GPU only, as ML.ENERGY
        assert num(row["energy_per_token_joules"]) == pytest.approx(gpu_j / lv.window_output_tokens)
        assert lv.output_tokens_per_request is not None
        assert num(row["energy_per_request_joules"]) == pytest.approx(
            gpu_j / lv.window_output_tokens * lv.output_tokens_per_request
        )
        power = num(row["avg_power_watts"])
        assert power is not None and power == pytest.approx(gpu_j / (lv.window_s or 0))
        ratio = num(row["wattsup_boundary_ratio"])
        assert ratio is not None and ratio >= 1
    for row in rows[2:]:  # a CPU-only host: the GPU-only fields are unknown, wattsup's own figure is given
        assert row["energy_per_token_joules"] in (None, "") and num(row["num_gpus"]) == 0
        assert num(row["wattsup_j_per_output_token"]) is not None
        assert "no GPU metered" in row["wattsup_notes"]


def test_the_mlenergy_fields_are_the_leaderboards() -> None:
    assert MLENERGY_FIELDS[:3] == ("domain", "task", "model_id")
    assert {"energy_per_token_joules", "energy_per_request_joules", "max_num_seqs", "num_gpus"} <= set(
        MLENERGY_FIELDS
    )
    assert set(NO_COUNTERPART) <= set(MLENERGY_FIELDS)
    assert all(f.startswith("wattsup_") for f in FIELDS[len(MLENERGY_FIELDS) :])


def test_the_cli_table_shows_each_levels_life_cycle(gpu_result: ServingResult) -> None:
    from rich.console import Console

    from wattsup.cli.serve_cmd import _print_life_cycle

    buf = io.StringIO()
    _print_life_cycle(Console(file=buf, width=200), gpu_result)
    out = buf.getvalue()
    assert "Wh active" in out and "Wh comprehensive" in out and "ratio" in out
    assert "gCO2e (location)" in out and "mL water" in out
    assert out.count("1,000 tokens") == 2 and out.count("request") >= 2
    assert "grid: FRA" in out and "PUE" in out


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--pue", "0.5"], "pue: must be a finite number ≥ 1"),
        (["--fleet-utilisation", "1.5"], "fleet-utilisation: must be a finite number > 0 and ≤ 1"),
        (["--lifetime-years", "0"], "lifetime-years: must be a finite number > 0"),
        (["--wue", "-1"], "wue: must be a finite number ≥ 0"),
        (["--market-intensity", "nan"], "market-intensity: must be a finite number"),
        (["--region", "Atlantis"], "unknown region 'Atlantis'"),
        (["--idle-seconds", "-1"], "idle-seconds: must be between 0 and 60"),
        (["--mlenergy-out", "rows.txt"], "mlenergy-out: name a .json or .csv file"),
        (["--mlenergy-out", "/no/such/dir/rows.csv"], "does not exist; create it first"),
    ],
)
def test_bad_life_cycle_options_are_one_clear_line(
    extra: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", *ARGS, "--no-store", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wattsup: error:") and says in err and "\n" not in err


def test_the_cli_json_carries_the_life_cycle_and_writes_the_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "rows.csv"
    code = main(["serve", *ARGS, "--json", "--no-store", "--region", "FRA", "--mlenergy-out", str(out)])
    assert code == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["carbon_options"]["region"] == "FRA"
    for lv in data["levels"]:
        assert "life_cycle" in lv and lv["life_cycle_note"]  # a dict, or None with the reason
    assert "wrote 2 ML.ENERGY-comparable rows" in captured.err
    assert len(_rows_back(out)) == 2


def test_stored_results_export_as_mlenergy_rows(
    gpu_result: ServingResult, cpu_result: ServingResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from wattsup.results.serving_store import save_result

    db = str(tmp_path / "serve.db")
    save_result(gpu_result, db)
    save_result(cpu_result, db)
    out = tmp_path / "all.json"
    assert main(["export", "--table", "serving", "--format", "mlenergy", "--out", str(out), "--db", db]) == 0
    rows = _rows_back(out)
    assert len(rows) == 4 and {r["wattsup_result_id"] for r in rows} == {gpu_result.id, cpu_result.id}
    assert "wrote 4 ML.ENERGY-comparable rows" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.partial"))
    csv_out = tmp_path / "gpt2.csv"
    args = ["export", "--table", "serving", "--out", str(csv_out), "--db", db, "--model", "TINY/*"]
    assert main(args) == 0 and len(_rows_back(csv_out)) == 4
    assert main([*args[:-1], "other/model"]) == 0 and _rows_back(csv_out) == []


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--format", "csv", "--out", "x.csv"], "--format: the serving table is exported as mlenergy rows"),
        (["--out", "-"], "--out: give a .json or .csv file"),
        (["--out", "x.parquet"], "--out: name a .json or .csv file"),
        (["--out", "x.csv", "--task", "chat"], "--task: does not apply to the serving table"),
    ],
)
def test_the_serving_export_refuses_bad_options_in_one_line(
    extra: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from wattsup.results import Store

    db = str(tmp_path / "empty.db")
    Store.open(db).close()
    assert main(["export", "--table", "serving", "--db", db, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert says in err and "\n" not in err


def test_no_idle_window_is_metered_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    from wattsup.serving.lifecycle import measure_gpu_idle

    monkeypatch.setattr(nvml._library, "refs", 0)
    monkeypatch.setattr(nvml, "_module", None)
    made: list[Meter] = []

    def meter() -> Meter:
        made.append(Meter(name="idle", sources=discover()))
        return made[-1]

    for gpus, init_error in (([], pynvml.NVMLError_LibraryNotFound), ([FakeGpu(power=GPU_W)], None)):
        make, cleanup = fake_nvml_factory()
        try:
            make(gpus, init_error=init_error)
            idle = measure_gpu_idle(2.0 if init_error else 0.0, meter)
        finally:
            cleanup()
        if init_error:
            assert idle.name is None and idle.power.value is None and idle.power.note.startswith("no GPU")
        else:  # --idle-seconds 0: the GPU is named, its idle power not measured
            assert idle.name == "NVIDIA H100 80GB HBM3" and idle.power.value is None
            assert idle.power.method == "not measured"
    assert made == []  # no meter opened, no idle time spent
