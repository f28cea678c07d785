"""CodeCarbon and optimum-benchmark importers, on small logs written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wattsup.errors import InvalidInput, NotFound
from wattsup.meter.measurement import JOULES_PER_KWH
from wattsup.results import Store
from wattsup.results.importers import (
    ImportOptions,
    import_codecarbon,
    import_optimum,
    parse_name,
    read_codecarbon,
    read_lengths,
    read_params,
)

HEADER = (
    "timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,cpu_energy,"
    "gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,region,cloud_provider,cloud_region,os,"
    "python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,"
    "tracking_mode,on_cloud,pue"
)
CPU = "Intel(R) Xeon(R) Platinum 8275CL CPU @ 3.00GHz"


def _row(
    run_id: str,
    model: str,
    cpu: str,
    gpu: str,
    ram: str,
    duration: float = 10.0,
    ts: str = "2023-09-10T21:06:08",
) -> str:
    return (
        f"{ts},{model},{run_id},{duration},0.0005,6e-05,42.5,500.0,430.0,{cpu},{gpu},{ram},0.004,"
        f"United States,USA,oregon,,,Linux-5.15,3.8.16,2.3.1,1,{CPU},8,8 x NVIDIA A100-SXM4-80GB,"
        "-119.7,45.8,1148.738,machine,N,1"
    )


def _task_row(task: str, run_id: str, model: str, cpu: str, gpu: str, ram: str, duration: float) -> str:
    cols = _row(run_id, model, cpu, gpu, ram, duration).split(",")[:-1]  # task-mode logs have no pue column
    return ",".join([task, *cols])


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    complete = tmp_path / "complete"
    base = tmp_path / "base"
    complete.mkdir()
    base.mkdir()
    (complete / "text_classif_tomatoes.csv").write_text(
        "\n".join(
            [
                HEADER,
                _row("r1", "org/bert", "0.0001", "0.002", "0.0009"),
                _row("r2", "org/bert", "0.0001", "", "0.0009"),
            ]
        )
        + "\n"
    )
    task_header = "task_name," + HEADER.removesuffix(",pue")
    (base / "emissions_base_r1.csv").write_text(
        "\n".join(
            [
                task_header,
                _task_row("load model", "r1", "org/bert", "0.00004", "0.0008", "0.0004", 4.0),
                _task_row("query model", "r1", "org/bert", "0.00006", "0.0012", "0.0005", 6.0),
            ]
        )
        + "\n"
    )
    (base / "emissions_base_r9.csv").write_text(  # no plain row shares r9: task unknown
        "\n".join([task_header, _task_row("query model", "r9", "org/x", "0.1", "0.1", "0.1", 1.0)]) + "\n"
    )
    return tmp_path


def test_rows_sharing_a_run_id_are_one_run(logs: Path, tmp_path: Path) -> None:
    records, report = read_codecarbon([logs / "complete", logs / "base"])
    assert report.files == 3 and report.rows == 5 and report.runs == 2
    assert report.skipped == {
        "task unknown (no plain log with a study file name shares its run_id; give --task)": 1
    }
    r1 = next(r for r in records if r.run_id == "r1")
    assert r1.config.task == "text-classification" and r1.config.dataset == "rotten_tomatoes"
    assert r1.config.model == "org/bert" and r1.config.n == 1000 and r1.config.mode == "task-specific"
    (rep,) = r1.repetitions
    window = rep.measurement
    assert window.energy_by_component_j == pytest.approx(
        {"gpu": 0.002 * JOULES_PER_KWH, "cpu": 0.0001 * JOULES_PER_KWH, "ram": 0.0009 * JOULES_PER_KWH}
    )
    assert {c.name: c.method for c in window.components} == {
        "gpu": "counter",
        "cpu": "modeled",
        "ram": "modeled",
    }
    assert all(c.error_bound_j > 0 for c in window.components)
    assert [p.name for p in window.phases] == ["load model", "query model"]
    assert window.phases[1].energy_by_component_j["gpu"] == pytest.approx(0.0012 * JOULES_PER_KWH)
    assert window.phases[1].start_s == pytest.approx(4.0)
    prov = r1.provenance
    assert prov.gpus == ["NVIDIA A100-SXM4-80GB"] * 8 and prov.libraries == {"codecarbon": "2.3.1"}
    assert (
        "imported from CodeCarbon log" in prov.input_source
        and "text_classif_tomatoes.csv" in prov.input_source
    )
    assert r1.hardware == "NVIDIA A100-SXM4-80GB"
    r2 = next(r for r in records if r.run_id == "r2")
    # an empty column: unknown, not zero
    assert "gpu" not in r2.repetitions[0].measurement.energy_by_component_j
    assert r2.repetitions[0].measurement.phases == []


def test_task_option_imports_task_mode_only_runs(logs: Path) -> None:
    records, report = read_codecarbon(
        [logs / "base" / "emissions_base_r9.csv"], ImportOptions(task="qa", dataset="squad")
    )
    (r9,) = records
    assert r9.config.task == "question-answering" and r9.config.dataset == "squad"
    window = r9.repetitions[0].measurement
    assert window.total_energy_j == pytest.approx(0.3 * JOULES_PER_KWH)  # the sum of its task-mode rows
    assert any("sum of its task-mode rows" in w for w in window.warnings)
    assert report.skipped == {}
    _, report = read_codecarbon([logs / "base" / "emissions_base_r9.csv"], ImportOptions(task="qa"))
    assert report.skipped == {"dataset unknown (give --dataset)": 1}


def test_import_is_idempotent_and_summarises(logs: Path, tmp_path: Path) -> None:
    from wattsup.analysis import Metric, summary_by_task

    with Store.open(str(tmp_path / "runs.db")) as store:
        first = import_codecarbon(store, [logs / "complete", logs / "base"])
        again = import_codecarbon(store, [logs / "complete", logs / "base"])
        assert (first.added, again.added) == (2, 0)
        (query,) = summary_by_task(store, metric=Metric(phase="query model"))
        assert query.mean_kwh == pytest.approx(0.00006 + 0.0012 + 0.0005)
        assert query.models == 1 and query.runs == 1  # r2 has no task-mode rows: no such phase
        (gpu,) = summary_by_task(store, metric=Metric(component="gpu"))
        assert gpu.runs == 1 and gpu.mean_kwh == pytest.approx(0.002)


def test_errors_name_the_flag(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="PATH"):
        read_codecarbon([tmp_path / "missing.csv"])
    with pytest.raises(InvalidInput, match="--inferences"):
        read_codecarbon([tmp_path], ImportOptions(inferences=0))
    with pytest.raises(NotFound, match="task"):
        read_codecarbon([tmp_path], ImportOptions(task="no-such-task"))
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "\n" + _row("r1", "m", "x", "0.1", "0.1") + "\n")
    with pytest.raises(InvalidInput, match="cpu_energy is not a number"):
        read_codecarbon([bad], ImportOptions(task="qa", dataset="squad"))
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    _, report = read_codecarbon([other])
    assert report.runs == 0 and any("not a CodeCarbon log" in w for w in report.warnings)


@pytest.mark.parametrize(
    ("stem", "task", "mode", "dataset", "tokens"),
    [
        ("text_classif_imdb", "text-classification", "task-specific", "imdb", None),
        ("obj_detection_CPPE_resized", "object-detection", "task-specific", "cppe-5", None),
        ("obj_detection_CPPE", "object-detection", "task-specific", "cppe-5_native", None),
        ("itt_visualgenome_resized", "image-to-text", "task-specific", "visual_genome", None),
        ("summarize_cnn_15", "summarization", "task-specific", "cnn_dailymail", 15),
        ("zeroshot_summarize_xsum_bloomz", "summarization", "zero-shot", "xsum", None),
        ("zeroshot_qa_squad2", "question-answering", "zero-shot", "squad_v2", None),
        ("qa_squadv2", "question-answering", "task-specific", "squad_v2", None),
        ("tti_sd_prompts", "text-to-image", "task-specific", "sd_prompts", None),
        ("fillmask_c4", "fill-mask", "task-specific", "c4", None),
    ],
)
def test_study_file_names(stem: str, task: str, mode: str, dataset: str, tokens: int | None) -> None:
    name = parse_name(stem)
    assert name is not None
    assert (name.task, name.mode, name.dataset, name.max_new_tokens) == (task, mode, dataset, tokens)


def test_not_study_names() -> None:
    assert parse_name("emissions") is None
    assert parse_name("textgen_unknowndataset") is None


def test_params_and_lengths(tmp_path: Path) -> None:
    p = tmp_path / "params.csv"
    p.write_text("model_name,num_parameters\ngpt2,124439808\ngpt2,124439808\n")
    assert read_params(p) == {"gpt2": 124439808}
    with pytest.raises(InvalidInput, match="--params"):
        read_params(tmp_path / "none.csv")
    lengths = tmp_path / "lengths"
    lengths.mkdir()
    (lengths / "squad2_flan.csv").write_text(
        "Input,Output,model,dataset\n10,4,bigscience/bloomz-1b,Squad_2_\n10,6,bigscience/bloomz-1b,x\n"
    )
    warnings: list[str] = []
    got = read_lengths([lengths], ["bigscience/bloomz-1b7", "bigscience/bloomz-3b"], warnings=warnings)
    assert got == {("bigscience/bloomz-1b7", "squad_v2"): 5.0}
    assert warnings and "unique prefix" in warnings[0]


def _report(tmp_path: Path, *, with_config: bool = True) -> Path:
    energy = {"unit": "kWh", "cpu": 0.001, "ram": 0.0005, "gpu": 0.01, "total": 0.0115}
    report = {
        "load_model": {"energy": energy, "latency": {"unit": "s", "values": [2.0]}},
        "preprocess_dataset": {"energy": energy},
        "prefill": {"energy": energy, "latency": {"unit": "s", "values": [1.0, 1.5]}},
        "decode": {"energy": {**energy, "gpu": 0.03}, "latency": {"unit": "s", "values": [5.0]}},
    }
    config = {
        "backend": {
            "model": "HuggingFaceTB/SmolLM2-135M",
            "task": "text-generation",
            "device": "cuda",
            "device_ids": "0",
            "torch_dtype": "bfloat16",
            "no_weights": True,
        },
        "scenario": {
            "name": "energy_star",
            "num_samples": 1000,
            "dataset_name": "AIEnergyScore/text_generation",
            "input_shapes": {"batch_size": 1},
            "generate_kwargs": {"max_new_tokens": 10, "min_new_tokens": 10},
        },
        "environment": {
            "gpu": ["NVIDIA H100 80GB HBM3"],
            "cpu": "AMD EPYC",
            "cpu_count": 16,
            "cpu_ram_mb": 131072,
            "python_version": "3.11",
            "optimum_benchmark_version": "0.6.0",
        },
    }
    out = tmp_path / "run1"
    out.mkdir()
    if with_config:
        (out / "benchmark.json").write_text(json.dumps({"config": config, "report": report}))
        return out / "benchmark.json"
    (out / "benchmark_report.json").write_text(json.dumps(report))
    return out / "benchmark_report.json"


def test_optimum_benchmark_report(tmp_path: Path) -> None:
    path = _report(tmp_path)
    with Store.open(str(tmp_path / "runs.db")) as store:
        records, report = import_optimum(store, [tmp_path])
        assert report.added == 1 and any("preprocess_dataset" in w for w in report.warnings)
        (rec,) = records
        assert rec.config.task == "text-generation" and rec.config.weights == "random"
        assert rec.config.device == "cuda:0" and rec.config.max_new_tokens == 10 and rec.config.n == 1000
        assert rec.hardware == "NVIDIA H100 80GB HBM3"
        window = rec.repetitions[0].measurement
        assert [p.name for p in window.phases] == ["prefill", "decode"]
        assert window.energy_by_component_j["gpu"] == pytest.approx(0.04 * JOULES_PER_KWH)
        assert window.duration_s == pytest.approx(7.5)
        assert rec.load is not None
        assert rec.load.energy_by_component_j["gpu"] == pytest.approx(0.01 * JOULES_PER_KWH)
        assert rec.kwh_per_1k("gpu") == pytest.approx([0.04])
        _, again = import_optimum(store, [path])
        assert again.added == 0  # the run id is the report's hash
    bare = _report(tmp_path / "bare", with_config=False) if (tmp_path / "bare").mkdir() is None else None
    assert bare is not None
    _, skipped = import_optimum(None, [bare])
    assert skipped.runs == 0 and any("task unknown" in k for k in skipped.skipped)
    records, _ = import_optimum(None, [bare], ImportOptions(task="text-generation", model="m", dataset="d"))
    assert records[0].config.model == "m"
