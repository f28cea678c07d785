"""Fuzzing the parsers that read files people hand to wattsup: sweep files, CodeCarbon logs and
optimum-benchmark reports. Whatever the input, the answer is a result or one typed, clear error
(``SweepFileError`` / ``InvalidInput``), never a traceback, and nothing non-finite or all-zero is
imported. Examples are bounded so the suite stays fast."""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wattsup.errors import WattsupError
from wattsup.results.importers import ImportOptions, import_optimum, read_codecarbon
from wattsup.sweep import SweepFileError, expand_text

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        ["tiny/bert-classifier", "text-classification", "qa", "imdb", "float16", "random", "cpu"]
    ),
)
KEYS = [
    "tasks",
    "models",
    "datasets",
    "batch_sizes",
    "dtypes",
    "reps",
    "weights",
    "seeds",
    "n",
    "warmup",
    "device",
    "max_new_tokens",
    "zero_shot",
    "matrix",
    "exclude",
    "retries",
    "timeout_s",
    "ray",
    "name",
]
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), inner, max_size=5),
    ),
    max_leaves=20,
)


@FUZZ
@given(documents)
def test_sweep_files_from_any_structure(doc: Any) -> None:
    try:
        text = yaml.safe_dump(doc)
    except yaml.YAMLError:
        return
    try:
        expand_text(text, "fuzz.yaml")
    except SweepFileError as err:
        assert str(err).startswith("fuzz.yaml")


@FUZZ
@given(st.text(alphabet=st.sampled_from(list("abc:-[]{}&*!|>'\"#,?\n 0123456789.")), max_size=200))
def test_sweep_files_from_any_text(text: str) -> None:
    try:
        expand_text(text, "fuzz.yaml")
    except SweepFileError as err:
        assert str(err).startswith("fuzz.yaml")


@FUZZ
@given(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=9))
def test_sweep_alias_chains_of_any_depth_and_width(depth: int, width: int) -> None:
    lines = ['a0: &a0 ["tiny/bert-classifier"]']
    for i in range(1, depth + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    lines.append(f"models: *a{depth}")
    try:
        expand_text("\n".join(lines) + "\n", "fuzz.yaml")
    except SweepFileError as err:
        assert "fuzz.yaml" in str(err)


CC_COLUMNS = [
    "timestamp",
    "project_name",
    "run_id",
    "experiment_id",
    "duration",
    "emissions",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "country_iso_code",
    "gpu_count",
    "gpu_model",
    "codecarbon_version",
    "pue",
]
cells = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "0.0",
            "1e-05",
            "0.002",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "1e309",
            "-1",
            "abc",
            "8",
            "2023-09-10T21:06:08",
            "2023-10-06 0:05:27",
            "yesterday",
            "r1",
            "r2",
            "1 x NVIDIA A100",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8),
)


@FUZZ
@given(
    st.lists(st.sampled_from(CC_COLUMNS), min_size=1, max_size=12, unique=True),
    st.lists(st.lists(cells, max_size=14), max_size=5),
    st.booleans(),
)
def test_codecarbon_logs_of_any_content(header: list[str], rows: list[list[str]], task_mode: bool) -> None:
    if task_mode:
        header = ["task_name", *header]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "emissions.csv"
        path.write_text(buf.getvalue(), encoding="utf-8")
        try:
            records, report = read_codecarbon([path], ImportOptions(task="qa", dataset="squad", model="m"))
        except WattsupError as err:
            assert "\n" not in str(err)
            return
    assert report.runs == len(records)
    for rec in records:
        energies = [c.energy_j for m in rec.repetitions[0].measurement.walk() for c in m.components]
        assert energies and all(math.isfinite(e) and e >= 0 for e in energies)
        assert rec.repetitions[0].measurement.total_energy_j > 0  # never an all-zero run


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
energy_values = st.one_of(st.floats(min_value=0, max_value=1), st.just(0.0), json_values)


@FUZZ
@given(
    st.fixed_dictionaries(
        {
            "unit": st.sampled_from(["kWh", "J", 3]),
            "gpu": energy_values,
            "cpu": energy_values,
            "ram": energy_values,
        }
    ),
    st.one_of(st.none(), st.lists(json_values, max_size=3)),
    st.dictionaries(
        st.sampled_from(["num_samples", "dataset_name", "warmup_runs", "input_shapes"]), json_values
    ),
    st.sampled_from(["prefill", "decode", "forward", "call", "load_model", "other"]),
)
def test_optimum_reports_of_any_content(
    energy: dict[str, Any], latencies: list[Any] | None, scenario: dict[str, Any], target: str
) -> None:
    body: dict[str, Any] = {"energy": energy}
    if latencies is not None:
        body["latency"] = {"values": latencies}
    config = {
        "backend": {"model": "org/m", "task": "text-classification"},
        "scenario": {"dataset_name": "imdb", **scenario},
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "benchmark.json"
        path.write_text(json.dumps({"config": config, "report": {target: body}}))
        try:
            records, _ = import_optimum(None, [path])
        except WattsupError as err:
            assert "\n" not in str(err)
            return
    for rec in records:
        total = rec.repetitions[0].measurement.total_energy_j
        assert math.isfinite(total) and total > 0
