"""Importers that lose nothing and accept nothing bogus: logs CodeCarbon wrote itself, and the bad
inputs found by trying to break the importers (issue 15, items 3, 7, 8, 9, 10, 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wattsup.errors import InvalidInput
from wattsup.meter.measurement import JOULES_PER_KWH
from wattsup.results import Store
from wattsup.results.importers import ImportOptions, import_codecarbon, import_optimum, read_codecarbon

DATA = Path(__file__).parent / "data"
VERSIONS = ("2.3.4", "3.3.2")
QA = ImportOptions(task="question-answering", dataset="squad")


def _cc(version: str, kind: str) -> Path:
    return DATA / f"codecarbon-{version}" / kind


def _task_files(version: str) -> tuple[Path, Path]:
    d = _cc(version, "task")
    (task_file,) = d.glob("emissions_wattsup_*.csv")
    return task_file, d / "emissions.csv"


# -- logs CodeCarbon wrote itself -------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_real_plain_log_is_a_cpu_only_run_with_codecarbons_own_emissions(
    version: str, tmp_path: Path
) -> None:
    path = _cc(version, "plain") / "emissions.csv"
    with Store.open(str(tmp_path / "runs.db")) as store:
        report = import_codecarbon(store, [path], QA)
        assert (report.runs, report.added, report.skipped) == (1, 1, {})
        (summary,) = store.list_runs()
        rec = store.get(summary.run_id)
    window = rec.repetitions[0].measurement
    assert set(window.energy_by_component_j) == {
        "cpu",
        "ram",
    }  # no GPU on that machine: no GPU component, no zero
    assert rec.config.device == "cpu" and rec.provenance.gpus == [] and summary.gpu_count == 0
    row = next(iter(_csv_rows(path)))
    assert window.energy_by_component_j["cpu"] == pytest.approx(float(row["cpu_energy"]) * JOULES_PER_KWH)
    assert rec.reported is not None and rec.reported.tool == f"CodeCarbon {version}"
    assert rec.reported.emissions_kg == pytest.approx(float(row["emissions"]))
    assert (rec.reported.country_iso_code, rec.reported.country_name) == ("FRA", "France")
    assert summary.reported_emissions_kg == pytest.approx(float(row["emissions"]))
    assert summary.reported_country == "FRA"


@pytest.mark.parametrize("version", VERSIONS)
def test_real_task_mode_run_is_the_same_whatever_the_order_of_the_calls(version: str, tmp_path: Path) -> None:
    task_file, plain_file = _task_files(version)
    results = {}
    for name, calls in {
        "one call": [[task_file, plain_file]],
        "task first": [[task_file], [plain_file]],
        "plain first": [[plain_file], [task_file]],
    }.items():
        with Store.open(str(tmp_path / f"{name}.db")) as store:
            reports = [import_codecarbon(store, files, QA) for files in calls]
            (summary,) = store.list_runs()
            results[name] = store.get(summary.run_id)
        if len(calls) == 2:
            assert reports[0].added == 1 and reports[1].added == 0
            assert reports[1].merged == 1  # the second file completed the stored run: not dropped
    window = results["one call"].repetitions[0].measurement
    plain = next(iter(_csv_rows(plain_file)))
    assert window.duration_s == pytest.approx(float(plain["duration"]))  # the plain row's window
    assert [p.name for p in window.phases] == ["load model", "query model"]
    for name in ("task first", "plain first"):
        other = results[name].repetitions[0].measurement
        assert other.duration_s == pytest.approx(window.duration_s) and other.phases == window.phases
        assert other.energy_by_component_j == pytest.approx(window.energy_by_component_j)
        assert results[name].reported == results["one call"].reported


def test_an_import_that_adds_nothing_says_why(tmp_path: Path) -> None:
    task_file, plain_file = _task_files("3.3.2")
    with Store.open(str(tmp_path / "runs.db")) as store:
        import_codecarbon(store, [task_file, plain_file], QA)
        again = import_codecarbon(store, [plain_file], QA)
    assert (again.added, again.merged, again.unchanged) == (0, 0, 1)
    assert again.to_dict()["unchanged"] == 1


def test_a_plain_row_that_disagrees_with_the_stored_one_is_a_warning(tmp_path: Path) -> None:
    _, plain_file = _task_files("3.3.2")
    other = tmp_path / "other.csv"
    text = plain_file.read_text().splitlines()
    row = text[1].split(",")
    row[4] = "9.5"  # duration
    other.write_text("\n".join([text[0], ",".join(row)]) + "\n")
    with Store.open(str(tmp_path / "runs.db")) as store:
        import_codecarbon(store, [plain_file], QA)
        report = import_codecarbon(store, [other], QA)
        (summary,) = store.list_runs()
    assert report.added == 0 and report.merged == 0
    assert any("plain row differs" in w for w in report.warnings)
    assert summary.duration_s == pytest.approx(float(text[1].split(",")[4]))  # the stored one, kept


def _csv_rows(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


# -- non-finite and zero energies (item 3) ------------------------------------------------------------------


def _with(path: Path, out: Path, **values: str) -> Path:
    rows = _csv_rows(path)
    for k, v in values.items():
        rows[0][k] = v
    import csv

    with out.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return out


@pytest.mark.parametrize("bad", ["inf", "1e309", "NaN", "-inf"])
def test_non_finite_energies_are_never_stored(bad: str, tmp_path: Path) -> None:
    src = _cc("2.3.4", "plain") / "emissions.csv"
    path = _with(src, tmp_path / "e.csv", cpu_energy=bad)
    records, report = read_codecarbon([path], QA)
    assert records == [] and report.skipped == {
        "energy not finite or all zero (not stored; see the warnings)": 1
    }
    assert any(f"{path}:2: cpu_energy is {bad!r}" in w for w in report.warnings)


def test_all_zero_energies_are_never_stored(tmp_path: Path) -> None:
    src = _cc("3.3.2", "plain") / "emissions.csv"
    path = _with(src, tmp_path / "z.csv", cpu_energy="0.0", ram_energy="0", energy_consumed="0")
    with Store.open(str(tmp_path / "runs.db")) as store:
        report = import_codecarbon(store, [path], QA)
        assert store.count() == 0  # never an ok run at 0 kWh that ranks first
    assert report.runs == 0
    assert report.skipped == {"energy not finite or all zero (not stored; see the warnings)": 1}
    assert any(f"{path}:2: every energy (cpu_energy, ram_energy) is 0" in w for w in report.warnings)


def test_a_zero_gpu_figure_of_a_run_with_gpus_is_flagged(tmp_path: Path) -> None:
    src = _cc("2.3.4", "plain") / "emissions.csv"
    path = _with(src, tmp_path / "g.csv", gpu_count="1", gpu_model="1 x NVIDIA A100", gpu_energy="0")
    (rec,), _ = read_codecarbon([path], QA)
    window = rec.repetitions[0].measurement
    assert window.energy_by_component_j["gpu"] == 0 and rec.config.device == "cuda:0"
    assert any("gpu_energy is 0" in w for w in window.warnings)


# -- what CodeCarbon logs look like in the wild (items 8, 11) ---------------------------------------------


def test_rows_without_a_run_id_are_runs_of_their_own(tmp_path: Path) -> None:
    src = _cc("2.3.4", "plain") / "emissions.csv"
    path = _with(src, tmp_path / "n.csv", run_id="")
    with Store.open(str(tmp_path / "runs.db")) as store:
        first = import_codecarbon(store, [path], QA)
        again = import_codecarbon(store, [path], QA)
        (summary,) = store.list_runs()
    assert first.added == 1 and again.added == 0 and again.unchanged == 1
    assert summary.run_id.startswith("cc-")


def test_the_2021_format_is_read(tmp_path: Path) -> None:
    path = tmp_path / "emissions.csv"
    path.write_text(
        "timestamp,experiment_id,project_name,duration,emissions,energy_consumed,country_name,"
        "country_iso_code,region,on_cloud,cloud_provider,cloud_region\n"
        "2020-03-23T09:26:11,68f53844-f3af-48fb-971a-ffab844a6b6f,project_gamma,34,8,8,USA,USA,Ohio,Y,aws,"
        "us-east-2\n"
        "2020-03-24T15:26:11,9288b395-c196-45c3-9c5e-05a8c127f753,project_delta,16,1,3,Taiwan,TWN,"
        "Changhua County,Y,gcp,asia-east1\n"
    )
    records, report = read_codecarbon([path], QA)
    assert report.skipped == {} and len(records) == 2
    gamma = next(r for r in records if r.config.model == "project_gamma")
    assert gamma.run_id == "68f53844-f3af-48fb-971a-ffab844a6b6f"
    assert gamma.repetitions[0].measurement.energy_by_component_j == {
        "total": pytest.approx(8 * JOULES_PER_KWH)
    }
    assert gamma.reported is not None and gamma.reported.cloud_region == "us-east-2"


def test_a_row_cut_short_is_counted_and_named(tmp_path: Path) -> None:
    src = (_cc("2.3.4", "plain") / "emissions.csv").read_text().splitlines()
    path = tmp_path / "cut.csv"
    path.write_text("\n".join([src[0], src[1], src[1][:60]]) + "\n")
    records, report = read_codecarbon([path], QA)
    assert len(records) == 1
    assert report.skipped == {"row cut short or too long (fields do not match the header)": 1}
    assert any(w.startswith(f"{path}:3: ") and "fields for a header of" in w for w in report.warnings)


def test_an_unparseable_timestamp_is_an_error_with_its_line(tmp_path: Path) -> None:
    path = _with(_cc("2.3.4", "plain") / "emissions.csv", tmp_path / "t.csv", timestamp="yesterday")
    with pytest.raises(InvalidInput, match=rf"{path.name}:2: timestamp 'yesterday' is not a date"):
        read_codecarbon([path], QA)
    path = _with(_cc("2.3.4", "plain") / "emissions.csv", tmp_path / "s.csv", timestamp="2023-10-06 0:05:27")
    (rec,), _ = read_codecarbon([path], QA)  # as a spreadsheet writes it (a file of the study has these)
    assert rec.finished_at is not None and rec.finished_at.hour == 0 and rec.finished_at.minute == 5


def test_cli_default_gpu_method_is_the_counter_and_help_says_so(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from wattsup.cli import app

    path = _with(
        _cc("2.3.4", "plain") / "emissions.csv", tmp_path / "g.csv", gpu_count="1", gpu_energy="0.001"
    )
    db = str(tmp_path / "runs.db")
    result = CliRunner().invoke(
        app, ["import", "codecarbon", str(path), "--task", "qa", "--dataset", "squad", "--db", db]
    )
    assert result.exit_code == 0, result.output
    with Store.open(db) as store:
        (summary,) = store.list_runs()
        assert "gpu=counter" in (summary.sensor_methods or "")
    help_text = CliRunner().invoke(app, ["import", "codecarbon", "--help"], env={"COLUMNS": "200"}).output
    assert "counter (the default" in " ".join(help_text.split())


# -- optimum-benchmark reports (items 3, 7, 11) --------------------------------------------------------------


def _energy(gpu: object = 0.01) -> dict[str, object]:
    return {"unit": "kWh", "cpu": 0.001, "ram": 0.0005, "gpu": gpu, "total": 0.0115}


def _report(**forward: object) -> dict[str, object]:
    return {"forward": {"energy": _energy(), "latency": {"unit": "s", "values": [1.0, 2.0]}, **forward}}


def _config() -> dict[str, object]:
    return {
        "backend": {"model": "org/m", "task": "text-classification", "device": "cuda", "device_ids": "0"},
        "scenario": {"num_samples": 1000, "dataset_name": "imdb"},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            json.dumps({"config": _config(), "report": _report(energy=_energy(gpu="lots"))}),
            r"forward\.energy\.gpu: expected a number, got \"lots\"",
        ),
        (
            json.dumps({"config": _config(), "report": _report(energy=_energy(gpu=float("nan")))}),
            "NaN is not a number JSON allows",
        ),
        (
            json.dumps({"config": _config(), "report": _report(energy=_energy(gpu=1e308 * 10))}),
            "Infinity is not a number JSON allows",
        ),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (
            json.dumps(
                {
                    "config": {**_config(), "scenario": {"num_samples": "many", "dataset_name": "imdb"}},
                    "report": _report(),
                }
            ),
            r"num_samples: expected a number",
        ),
        (
            json.dumps({"config": _config(), "report": _report(latency={"values": [1, None]})}),
            r"latency\.values\[1\]: expected a number",
        ),
        (
            json.dumps(
                {
                    "config": {**_config(), "scenario": {"num_samples": 2.5, "dataset_name": "imdb"}},
                    "report": _report(),
                }
            ),
            "whole number",
        ),
    ],
)
def test_malformed_optimum_reports_give_one_clear_error(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "benchmark.json"
    path.write_text(text)
    with pytest.raises(InvalidInput, match=message) as info:
        import_optimum(None, [path])
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_an_all_zero_optimum_report_is_not_stored(tmp_path: Path) -> None:
    zero = {"unit": "kWh", "cpu": 0.0, "ram": 0.0, "gpu": 0.0, "total": 0.0}
    path = tmp_path / "benchmark.json"
    path.write_text(json.dumps({"config": _config(), "report": {"forward": {"energy": zero}}}))
    records, report = import_optimum(None, [path])
    assert records == [] and report.skipped == {"inference energy all zero (not stored; see the warnings)": 1}
    assert any("every energy of forward is 0" in w for w in report.warnings)


def test_one_result_under_two_file_names_is_stored_once(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "benchmark.json").write_text(json.dumps({"config": _config(), "report": _report()}))
    (b / "benchmark_report.json").write_text(json.dumps(_report(), indent=2))
    (b / "benchmark_config.json").write_text(json.dumps(_config()))
    with Store.open(str(tmp_path / "runs.db")) as store:
        records, report = import_optimum(store, [a, b])
        assert len(records) == 1 and report.added == 1 and store.count() == 1
        assert any("same measurements" in w for w in report.warnings)
        _, again = import_optimum(store, [b / "benchmark_report.json"])
        assert again.added == 0 and again.unchanged == 1 and store.count() == 1


def test_cli_import_says_what_a_second_call_did(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from wattsup.cli import main

    task_file, plain_file = _task_files("2.3.4")
    db = str(tmp_path / "runs.db")
    common = ["--task", "qa", "--dataset", "squad", "--db", db]
    assert main(["import", "codecarbon", str(task_file), *common]) == 0
    capsys.readouterr()
    assert main(["import", "codecarbon", str(plain_file), *common]) == 0
    out = capsys.readouterr().out
    assert "1 runs, 0 new in" in out and "completed 1 stored run(s) with the rows of these files" in out
    assert main(["import", "codecarbon", str(plain_file), *common, "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert (got["added"], got["merged"], got["unchanged"]) == (0, 0, 1)
