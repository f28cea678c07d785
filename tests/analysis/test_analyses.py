"""Regressions, comparisons, uncertainty, ratings, labels, life cycle, runs and exports."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.support.analysis_records import A100, H100, MIXED, record
from wattsup.analysis import (
    Metric,
    Scenario,
    Selection,
    bootstrap_ci,
    compare_runs,
    energy_label,
    energy_vs_params,
    export_rows,
    hardware_class,
    label_svg,
    lifecycle,
    mixed_method_warnings,
    model_family,
    multi_vs_task,
    output_length_vs_energy,
    parity,
    run_details,
    star_ratings,
    summary_by_task,
    task_intervals,
    write_label,
)
from wattsup.analysis.ratings import rate, size_class
from wattsup.errors import InvalidInput, NotFound
from wattsup.results import Store


def test_energy_vs_params_recovers_a_power_law(store: Store) -> None:
    # kWh = 1e-12 · params^0.8 exactly: the fit gives slope 0.8 and r = 1
    recs = [record("t", f"m{p}", 1e-12 * 10 ** (0.8 * p), n_params=10**p) for p in (6, 7, 8, 9)]
    recs.append(record("t", "nosize", 1.0))
    store.add_many(recs)
    (fit,) = energy_vs_params(store)
    assert fit.n == 4 and fit.slope == pytest.approx(0.8) and fit.r == pytest.approx(1.0)
    assert fit.intercept == pytest.approx(-12.0) and fit.spearman == pytest.approx(1.0)
    assert fit.missing_params == ["nosize"]  # unknown size: left out and said so
    (fit2,) = energy_vs_params(store, params={"nosize": 10**10})
    assert fit2.n == 5 and fit2.missing_params == []


def test_multi_vs_task_ratio_of_means(store: Store) -> None:
    store.add_many(
        [
            record("qa", "ts1", 1.0, dataset="a"),
            record("qa", "ts2", 3.0, dataset="a"),
            record("qa", "ts1", 1.0, dataset="b"),
            record("qa", "mp1", 20.0, dataset="a", mode="zero-shot"),
            record("qa", "mp2", 40.0, dataset="c", mode="zero-shot"),
            record("only-ts", "x", 1.0),
        ]
    )
    (c,) = multi_vs_task(store)
    assert c.task == "qa" and c.task_specific_models == 2 and c.multi_purpose_models == 2
    assert c.task_specific_kwh == pytest.approx(2.0) and c.multi_purpose_kwh == pytest.approx(30.0)
    assert c.ratio == pytest.approx(15.0)
    per = {d.dataset: d for d in c.per_dataset}
    assert per["a"].ratio == pytest.approx(20.0 / 2.0)
    assert per["b"].multi_purpose_kwh is None and per["b"].ratio is None  # unknown, not zero
    assert per["c"].task_specific_kwh is None


def test_output_length_by_family(store: Store) -> None:
    store.add_many(
        [
            record(
                "s",
                "google/flan-t5-base",
                1.0 + 0.1 * k,
                dataset=f"d{k}",
                output_units=1000 * k,
                mode="zero-shot",
            )
            for k in range(1, 4)
        ]
        + [
            record("s", "bigscience/bloomz-560m", 1.0 + 0.3 * k, dataset=f"d{k}", output_units=1000 * k)
            for k in range(1, 4)
        ]
        + [record("s", "no-length", 5.0)]
    )
    fits = {f.family: f for f in output_length_vs_energy(store)}
    assert set(fits) == {"decoder-only", "encoder-decoder"}
    assert fits["decoder-only"].slope == pytest.approx(0.3)
    assert fits["encoder-decoder"].slope == pytest.approx(0.1)
    assert fits["decoder-only"].r == pytest.approx(1.0)
    assert model_family("mistralai/Mistral-7B") == "decoder-only"
    assert model_family("resnet-50") == "unknown"
    assert model_family("resnet-50", {"resnet-50": "cnn"}) == "cnn"


def test_bootstrap_is_seeded_and_brackets_the_mean() -> None:
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    a = bootstrap_ci(values, resamples=500, seed=1)
    assert a == bootstrap_ci(values, resamples=500, seed=1)
    assert a.estimate == pytest.approx(4.0)
    assert a.low <= a.estimate <= a.high
    assert min(values) <= a.low and a.high <= max(values)
    with pytest.raises(InvalidInput, match="--confidence"):
        bootstrap_ci(values, confidence=1.5)
    with pytest.raises(InvalidInput, match="at least 2"):
        bootstrap_ci([1.0])


def test_task_intervals(store: Store) -> None:
    store.add_many([record("t", f"m{i}", float(i)) for i in range(1, 6)] + [record("u", "solo", 1.0)])
    got = {t.task: t for t in task_intervals(store, resamples=200)}
    assert got["t"].interval is not None and got["t"].interval.estimate == pytest.approx(3.0)
    assert got["u"].interval is None  # one model: no interval


def test_too_few_models_get_no_interval_and_no_fit(store: Store) -> None:
    # two models: a bootstrap of their mean is their min–max and r is ±1 whatever the data
    store.add_many([record("t", "a", 1.0, n_params=10**8), record("t", "b", 3.0, n_params=10**9)])
    (iv,) = task_intervals(store, resamples=200)
    assert iv.models == 2 and iv.interval is None
    (fit,) = energy_vs_params(store)
    assert fit.n == 2 and fit.r is None and fit.slope is None and fit.spearman is None
    assert "at least 4" in fit.note and "±1" in fit.note


def test_mixed_method_warnings(store: Store) -> None:
    store.add_many([record("t", "mixed", 1.0, split=MIXED), record("t", "pure", 1.0)])
    (w,) = mixed_method_warnings(store)
    assert w.model == "mixed" and "cpu" in w.message and "ram" in w.message and "modelled" in w.message
    assert summary_by_task(store, Selection(model="pure"))[0].mixes_measured_and_modeled is False


def test_hardware_classes_and_rating_groups() -> None:
    assert hardware_class("NVIDIA A100-SXM4-80GB") == "A100"
    assert hardware_class("NVIDIA A100-PCIE-40GB") == "A100"
    assert hardware_class("NVIDIA H100 80GB HBM3") == "H100"
    assert hardware_class("NVIDIA GeForce RTX 4090") == "RTX 4090"
    assert hardware_class("AMD EPYC 9454 48-Core Processor") == "CPU"
    assert hardware_class("Intel(R) Xeon(R) Platinum 8275CL CPU @ 3.00GHz") == "CPU"
    assert hardware_class(None) == "unknown"
    assert hardware_class("Mystery Accelerator") == "Mystery Accelerator"
    stars = [r.stars for r in rate([(f"m{i}", float(i)) for i in range(7)])]
    assert stars == [5, 5, 4, 3, 3, 2, 1]
    tied = rate([("a", 1.0), ("b", 1.0), ("c", 2.0), ("d", 3.0), ("e", 4.0)])
    assert [r.stars for r in tied] == [5, 5, 3, 2, 1]  # ties share the better rank
    assert all(r.stars is None for r in rate([("a", 1.0), ("b", 2.0)]))
    assert size_class(7_000_000_000) == "A" and size_class(65e9) == "B" and size_class(70e9) == "C"
    assert size_class(None) is None


def test_star_ratings_per_hardware_and_size_class(store: Store) -> None:
    recs = [record("text-generation", f"small{i}", float(i + 1), n_params=1_000_000_000) for i in range(5)]
    recs += [record("text-generation", f"big{i}", float(100 + i), n_params=70_000_000_000) for i in range(5)]
    recs += [record("text-classification", f"c{i}", float(i + 1), hardware=H100) for i in range(5)]
    store.add_many(recs)
    got = {(r.task, r.model): r for r in star_ratings(store)}
    assert (
        got[("text-generation", "small0")].stars == 5 and got[("text-generation", "small0")].size_class == "A"
    )
    assert got[("text-generation", "big0")].stars == 5 and got[("text-generation", "big0")].size_class == "C"
    assert got[("text-classification", "c4")].stars == 1
    assert got[("text-classification", "c4")].hardware_class == "H100"
    pooled = {
        r.model: r.stars for r in star_ratings(store, size_classes=False) if r.task == "text-generation"
    }
    assert pooled["big0"] == 3


def test_energy_label_svg_and_png(store: Store, tmp_path: Path) -> None:
    store.add_many([record("t", f"org/model-{i}", float(i + 1)) for i in range(5)])
    label = energy_label(store, "org/model-0", "t")
    assert label.stars == 5 and label.hardware == A100 and label.group_size == 5 and label.date is not None
    svg = label_svg(label)
    assert svg.startswith("<svg") and "org/model-0" in svg and "5 of 5 stars" in svg
    assert svg.count("<polygon") == 5
    out_svg = write_label(label, tmp_path / "l.svg")
    out_png = write_label(label, tmp_path / "l.png")
    assert out_svg.read_text().startswith("<svg")
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InvalidInput, match="--out"):
        write_label(label, tmp_path / "l.jpg")
    with pytest.raises(NotFound, match="org/model-1"):
        energy_label(store, "org/model-I", "t")


def test_energy_label_says_its_whole_reason_and_counts_runs_right(store: Store, tmp_path: Path) -> None:
    import re

    odd = "Tenstorrent Wormhole n300 Accelerator Card Edition"  # a class of its own, with a long name
    long = "org/" + "very-long-model-name-" * 4
    store.add_many([record("t", long, 1.0, hardware=odd), record("t", "b", 2.0, hardware=odd)])
    label = energy_label(store, long, "t")
    assert label.stars is None and label.runs == 1 and len(label.rating_note) > 58
    svg = label_svg(label)
    texts = re.findall(r'<text x="[^"]*" y="([^"]*)"[^>]*>([^<]*)</text>', svg)
    shown = " ".join(t for _, t in texts)
    assert label.rating_note in shown  # the whole reason, over as many lines as it needs
    assert "(1 run)" in shown and "1 runs" not in shown
    height = float(re.search(r'height="([0-9.]+)"', svg).group(1))  # type: ignore[union-attr]
    ys = sorted(float(y) for y, _ in texts)
    assert ys[-1] < height and ys[-2] < ys[-1] - 12  # nothing below the frame, nothing on the footer
    assert write_label(label, tmp_path / "l.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_parity_and_lifecycle(store: Store) -> None:
    store.add_many([record("text-generation", "a", 0.05), record("text-generation", "b", 0.15)])
    rows = {r.model: r for r in parity(store, 1000.0, queries_per_day=1e6)}
    assert rows["a"].parity_inferences == pytest.approx(1000.0 / 0.05e-3)
    assert rows["a"].parity_days == pytest.approx(1000.0 / 0.05e-3 / 1e6)
    b = lifecycle(
        store, Scenario(task="text-generation", region="FRA", queries_per_day=1e6, years=2, training_kwh=5e4)
    )
    assert b.kwh_per_1k == pytest.approx(0.1) and b.gpu == "A100-SXM4-80GB"
    assert b.training_operational_kg is not None and b.training_operational_kg > 0
    assert b.inference_embodied_kg is not None and b.total_kg is not None
    # construction is its own line, next to (not inside) embodied
    assert b.training_construction_kg is not None and b.inference_construction_kg is not None
    assert b.training_embodied_kg is not None
    assert b.total_kg == pytest.approx(
        b.training_operational_kg
        + b.inference_operational_kg
        + b.training_embodied_kg
        + b.inference_embodied_kg
        + b.training_construction_kg
        + b.inference_construction_kg
    )
    assert b.parity_inferences == pytest.approx(5e4 / 0.1e-3)
    assert b.inference_operational_kg == pytest.approx(
        b.footprint["inference"]["operational_kgco2e"]  # type: ignore[index]
    )
    no_training = lifecycle(store, Scenario(task="text-generation", region="FRA"))
    assert no_training.training_operational_kg is None and no_training.parity_inferences is None
    with pytest.raises(InvalidInput, match="--region"):
        lifecycle(store, Scenario(task="text-generation"))
    with pytest.raises(InvalidInput, match="--task"):
        lifecycle(store, Scenario(task="nothing", region="FRA"))


def test_run_details_and_compare(store: Store) -> None:
    a = record("t", "a", [1.0, 3.0], phases={"prefill": 0.5}, split=MIXED)
    b = record("t", "b", 4.0, phases={"prefill": 0.25}, hardware=H100)
    store.add_many([a, b])
    d = run_details(store, a.run_id[:12])
    assert d.run_id == a.run_id and d.kwh_per_1k_by_rep == pytest.approx([1.0, 3.0])
    assert any("modelled" in w for w in d.warnings)
    assert {p["phase"] for p in d.phases} == {"", "prefill"}
    c = compare_runs(store, [a.run_id, b.run_id])
    assert [r.kwh for r in c.runs] == pytest.approx([2.0, 4.0])
    assert c.runs[1].ratio_to_first == pytest.approx(2.0)
    assert c.phases[0].phase == "prefill" and c.phases[0].kwh == pytest.approx([1.0, 1.0])
    assert any("different hardware" in w for w in c.warnings)
    gpu = compare_runs(store, [a.run_id, b.run_id], Metric(component="gpu"))
    assert gpu.runs[0].kwh == pytest.approx(1.2)
    with pytest.raises(InvalidInput, match="RUN_ID"):
        compare_runs(store, [a.run_id])


def test_compare_says_whether_runs_differ_beyond_their_intervals(store: Store) -> None:
    base = record("t", "a", [1.00, 1.02, 0.98])
    same = record("t", "b", [1.01, 0.99, 1.00])
    apart = record("t", "c", [1.50, 1.52, 1.49])
    noisy = record("t", "d", [0.2, 3.0])  # two far-apart repetitions: a wide interval, never below zero
    store.add_many([base, same, apart, noisy])
    c = compare_runs(store, [base.run_id, same.run_id, apart.run_id, noisy.run_id])
    first, r_same, r_apart, r_noisy = c.runs
    assert first.differs_from_first is None and first.kwh_ci95 is not None
    assert first.kwh_ci95[0] < 1.0 < first.kwh_ci95[1]
    assert r_same.differs_from_first is False
    assert r_apart.differs_from_first is True
    assert r_noisy.kwh_ci95 is not None and r_noisy.kwh_ci95[0] > 0
    assert r_noisy.differs_from_first is False  # too noisy to tell


def test_export_rows(sqlite_store: Store, tmp_path: Path) -> None:
    sqlite_store.add_many([record("t", "a", 1.0), record("t", "b", 3.0), record("u", "c", 2.0)])
    rows = summary_by_task(sqlite_store)
    assert export_rows(rows, tmp_path / "s.csv") == 2
    text = (tmp_path / "s.csv").read_text().splitlines()
    assert text[0].startswith("task,mean_kwh,std_kwh,median_kwh")
    assert text[2].split(",")[2] == ""  # unknown std (one model): empty, not 0
    export_rows(rows, tmp_path / "s.json")
    data = json.loads((tmp_path / "s.json").read_text())
    assert data[1]["std_kwh"] is None and data[0]["models"] == 2
    export_rows(rows, tmp_path / "s.parquet")
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "s.parquet")
    assert table.num_rows == 2 and math.isclose(table.column("mean_kwh")[0].as_py(), 2.0)
    with pytest.raises(InvalidInput, match="--format"):
        export_rows(rows, tmp_path / "s.txt")
