"""The report (HTML, PNG, Markdown) and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.analysis_records import record
from tests.support.report_stores import filled_store, modelled_store
from wattsup.analysis import ReportOptions
from wattsup.cli import main
from wattsup.errors import InvalidInput
from wattsup.report import build_report
from wattsup.results import Store

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def filled(tmp_path: Path) -> Store:
    """Two tasks, task-specific and zero-shot models, phases, output lengths, mixed methods."""
    return filled_store(tmp_path / "runs.db")


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_summary_and_leaderboard(filled: Store, capsys: pytest.CaptureFixture[str]) -> None:
    db = filled.location
    code, out, err = _run(["summary", "--by", "task", "--json", "--db", db], capsys)
    assert code == 0
    data = json.loads(out)
    assert [set(d) for d in data] == [
        {"task", "mean_kwh", "std_kwh", "median_kwh", "min_kwh", "max_kwh", "models"}
    ] * 2
    assert "measured and modelled" in err  # the warning goes to stderr, the JSON stays clean
    code, out, _ = _run(
        ["summary", "--phase", "query model", "--component", "gpu", "--ci", "--db", db], capsys
    )
    assert code == 0 and "text-to-image" in out and "95% CI" in out
    code, out, _ = _run(["summary", "--by", "model", "--db", db, "--task", "text-to-image"], capsys)
    assert code == 0 and "sd-5" in out
    code, out, _ = _run(["leaderboard", "text-classification", "--db", db, "--mode", "task-specific"], capsys)
    assert code == 0 and "★★★★★" in out
    for sub in (
        ["params"],
        ["modes"],
        ["lengths"],
        ["ratings"],
        ["warnings"],
        ["parity", "--training-kwh", "100"],
    ):
        code, out, _ = _run(["analyze", *sub, "--db", db], capsys)
        assert code == 0 and out.strip(), sub
    code, out, _ = _run(
        ["analyze", "lifecycle", "--region", "FRA", "--task", "text-to-image", "--json", "--db", db], capsys
    )
    assert code == 0 and json.loads(out)["kwh_per_1k"] == pytest.approx(3.5)
    filled.close()


def test_cli_errors_name_the_flag(filled: Store, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = filled.location
    for args, flag in (
        (["summary", "--by", "dataset"], "--by"),
        (["summary", "--component", "disk"], "--component"),
        (["summary", "--mode", "general"], "--mode"),
        (["summary", "--format", "csv"], "--format"),
        (["label", "sd-0", "--task", "text-to-image", "--out", str(tmp_path / "x.gif")], "--out"),
        (["analyze", "lifecycle", "--task", "text-to-image"], "--region"),
        (["report", "--out", str(tmp_path / "r"), "--serving-latency", "e2e"], "--latency"),
    ):
        code, _, err = _run([*args, "--db", db], capsys)
        assert code == 2 and flag in err, (args, err)
    filled.close()


def test_cli_label_report_and_compare(
    filled: Store, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = filled.location
    code, out, _ = _run(
        ["label", "sd-0", "--task", "text-to-image", "--out", str(tmp_path / "sd.png"), "--db", db], capsys
    )
    assert code == 0 and "5 stars" in out and (tmp_path / "sd.png").read_bytes()[:8] == PNG
    code, out, _ = _run(
        ["label", "sd-5", "--task", "text-to-image", "--out", str(tmp_path / "sd.svg"), "--db", db], capsys
    )
    assert code == 0 and "1 stars" in out and (tmp_path / "sd.svg").read_text().startswith("<svg")
    code, out, err = _run(
        ["report", "--out", str(tmp_path / "rep"), "--region", "USA", "--training-kwh", "5000", "--db", db],
        capsys,
    )
    assert code == 0 and (tmp_path / "rep" / "report.html").is_file(), err
    ids = [r.run_id for r in filled.list_runs(limit=2)]
    code, out, _ = _run(["compare", *ids, "--db", db], capsys)
    assert code == 0 and "× first" in out
    code, out, _ = _run(["summary", "--db", db, "--out", str(tmp_path / "s.parquet")], capsys)
    assert code == 0 and (tmp_path / "s.parquet").is_file()
    filled.close()


def test_cli_import_codecarbon(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header = (
        "timestamp,project_name,run_id,duration,cpu_energy,gpu_energy,ram_energy,energy_consumed,"
        "codecarbon_version"
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "emissions.csv").write_text(
        header + "\n2024-01-01T00:00:00,gpt2,abc,5,0.001,0.002,0.0005,0.0035,2.8.0\n"
    )
    db = str(tmp_path / "runs.db")
    code, _, err = _run(["import", "codecarbon", str(logs), "--db", db], capsys)
    assert code == 2 and "--task" in err  # the file name says nothing: the task must be given
    code, out, _ = _run(
        [
            "import",
            "codecarbon",
            str(logs),
            "--task",
            "text-generation",
            "--dataset",
            "wikitext",
            "--inferences",
            "500",
            "--db",
            db,
            "--json",
        ],
        capsys,
    )
    assert code == 0 and json.loads(out)["added"] == 1
    code, out, _ = _run(["summary", "--json", "--db", db], capsys)
    (row,) = json.loads(out)
    assert row["task"] == "text-generation" and row["mean_kwh"] == pytest.approx(0.0035 * 1000 / 500)


def test_report_on_an_empty_store_leaves_no_folder_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store.open(str(tmp_path / "empty.db")) as store, pytest.raises(InvalidInput, match="no runs match"):
        build_report(store, tmp_path / "out", ReportOptions())
    assert not (tmp_path / "out").exists()
    code, _, err = _run(["report", "--db", str(tmp_path / "empty.db"), "--out", str(tmp_path / "o2")], capsys)
    assert code == 2 and "no runs match" in err and not (tmp_path / "o2").exists()


@pytest.fixture
def modelled(tmp_path: Path) -> str:
    """A store whose every figure is modelled (a CPU machine without RAPL): the first thing users see."""
    with modelled_store(tmp_path / "cpu.db") as store:
        return store.location


def test_modelled_figures_are_labelled_where_people_read_them(
    modelled: str, capsys: pytest.CaptureFixture[str]
) -> None:
    label = "modelled: all runs' figures include modelled energy (cpu, ram: estimated from a power model"
    for argv in (
        ["summary"],
        ["summary", "--by", "model"],
        ["leaderboard", "text-classification"],
        ["analyze", "params"],
        ["analyze", "modes"],
        ["analyze", "ratings"],
        ["analyze", "parity", "--training-kwh", "100"],
        ["analyze", "lifecycle", "--region", "FRA", "--task", "text-classification"],
    ):
        code, out, _ = _run([*argv, "--db", modelled], capsys)
        assert code == 0 and label in " ".join(out.split()), argv
    code, out, _ = _run(["summary", "--by", "model", "--db", modelled], capsys)
    assert out.count("modelled") >= 5  # a basis cell on every row, and the label
    code, out, _ = _run(["leaderboard", "text-classification", "--db", modelled], capsys)
    assert " measured " not in out and out.count("modelled") >= 5
    # a GPU-only figure of the same store's runs includes nothing modelled: no label
    code, out, _ = _run(["summary", "--component", "gpu", "--db", modelled], capsys)
    assert "modelled:" not in out


def test_measured_figures_get_no_modelled_label(filled: Store, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["leaderboard", "text-to-image", "--db", filled.location], capsys)
    assert code == 0 and "measured" in out and "modelled:" not in out
    filled.close()


def test_cli_says_why_two_models_give_no_fit_nor_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store.open(str(tmp_path / "two.db")) as store:
        store.add_many([record("t", "a", 1.0, n_params=10**8), record("t", "b", 3.0, n_params=10**9)])
        db = store.location
    code, out, _ = _run(["analyze", "params", "--db", db], capsys)
    assert code == 0 and "-1.000" not in out and "1.000" not in out
    assert "no fit: 2 models with a parameter count; at least 4 are needed" in " ".join(out.split())
    code, out, _ = _run(["summary", "--ci", "--db", db], capsys)
    assert code == 0 and "n/a (< 5 models)" in out
