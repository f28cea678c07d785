"""The command line: JSON contract, readable text, and one-line errors (exit code 2) naming the flag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.processes import ROOT
from wattsup.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_footprint_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "footprint",
        "--training-kwh",
        "50000",
        "--gpu",
        "H100",
        "--gpus",
        "8",
        "--region",
        "FR",
        "--kwh-per-1k",
        "0.05",
        "--queries-per-day",
        "1000000",
        "--years",
        "2",
        "--json",
    )
    assert code == 0
    d = json.loads(out)
    for key in (
        "operational_kgco2e",
        "embodied_kgco2e",
        "total_kgco2e",
        "training",
        "inference",
        "parity_inferences",
        "assumptions",
    ):
        assert key in d
    for phase in ("training", "inference"):
        assert d[phase]["operational_kgco2e"] > 0 and d[phase]["embodied_kgco2e"] > 0
    assert d["parity_inferences"] == pytest.approx(1e9)
    assert d["assumptions"]["region"] == "FRA"


BLOOM_TRAINING = (
    "footprint",
    "--gpu-hours",
    "1082990",
    "--power-w",
    "400",
    "--intensity",
    "57",
    "--pue",
    "1",
    "--gpu",
    "A100",
    "--gpu-embodied-kg",
    "150",
    "--host",
    "host-apollo6500",
    "--lifetime-years",
    "6",
    "--utilization",
    "0.85",
    "--construction-share",
    "0",
)
"""BLOOM-176B's training as its paper states it (A100-hours, power, grid, hardware, lifetime)."""


def test_bloom_via_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *BLOOM_TRAINING, "--json")
    assert code == 0
    d = json.loads(out)
    assert d["operational_kgco2e"] / 1000 == pytest.approx(24.7, rel=0.02)
    assert d["embodied_kgco2e"] / 1000 == pytest.approx(11.2, rel=0.02)


BLOOM_ARGS = (*BLOOM_TRAINING, "--idle-kwh", "256646")


def test_bloom_total_via_cli_with_idle_energy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *BLOOM_ARGS, "--json")
    assert code == 0
    d = json.loads(out)
    assert d["total_kgco2e"] / 1000 == pytest.approx(50.5, rel=0.05)
    assert d["operational_idle_kgco2e"] / 1000 == pytest.approx(14.6, rel=0.01)
    assert d["training"]["idle_energy_kwh"] == 256646
    code, out, _ = run(capsys, *BLOOM_ARGS)
    assert code == 0
    assert "256,646" in out and "idle" in out and "50.53 t" in out
    assert "14.63 t of idle and infrastructure energy" in out


def test_construction_is_its_own_column_and_key(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("footprint", "--training-kwh", "433196", "--kwh-per-1k", "0.05", "--queries-per-day", "1e6")
    args += ("--years", "2", "--region", "FR", "--gpu", "A100-SXM4-80GB")
    code, out, _ = run(capsys, *args, "--json")
    assert code == 0
    d = json.loads(out)
    assert d["construction_kgco2e"] > 0
    assert d["total_kgco2e"] == pytest.approx(
        d["operational_kgco2e"] + d["embodied_kgco2e"] + d["construction_kgco2e"]
    )
    for phase in ("training", "inference"):
        assert d[phase]["embodied_kgco2e"] == pytest.approx(d[phase]["embodied_hardware_kgco2e"])
    code, out, _ = run(capsys, *args)
    assert code == 0
    # the README example: 15.07 t of hardware and 576 kg of construction, shown apart
    training_row = next(line for line in out.splitlines() if line.startswith("│ training"))
    assert "15.07 t" in training_row and "576.30 kg" in training_row
    assert "construction" in out


def test_footprint_text_shows_assumptions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "footprint",
        "--energy-kwh",
        "120",
        "--gpu",
        "A100",
        "--region",
        "aws:us-west-2",
        "--embodied-bound",
        "high",
        "--what-if",
        "region=SE",
        "--what-if",
        "utilization=1",
    )
    assert code == 0
    for text in (
        "Life-cycle carbon",
        "Assumptions",
        "aws:us-west-2",
        "NWPP",
        "eGRID2022",
        "PUE",
        "1.15",
        "A100-SXM4-80GB",
        "(high)",
        "lifetime",
        "utilisation",
        "What if",
        "region=SE",
    ):
        assert text in out, text


def test_energy_only_footprint_says_embodied_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "footprint", "--energy-kwh", "10", "--region", "DE", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["embodied_kgco2e"] is None and d["total_kgco2e"] is None
    assert d["operational_kgco2e"] == pytest.approx(10 * 1.56 * 381.0 / 1000)


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--energy-kwh", "-5", "--region", "FR"], "--energy-kwh"),
        (["--energy-kwh", "nan", "--region", "FR"], "--energy-kwh"),
        (["--energy-kwh", "inf", "--region", "FR"], "--energy-kwh"),
        (["--energy-kwh", "1", "--region", "FR", "--utilization", "0"], "--utilization"),
        (["--energy-kwh", "1", "--region", "FR", "--utilization", "1.5"], "--utilization"),
        (["--energy-kwh", "1", "--region", "FR", "--lifetime-years", "0"], "--lifetime-years"),
        (["--energy-kwh", "1", "--region", "FR", "--lifetime-years", "-2"], "--lifetime-years"),
        (["--energy-kwh", "1", "--region", "FR", "--pue", "0.5"], "--pue"),
        (["--energy-kwh", "1", "--intensity", "-1"], "--intensity"),
        (["--energy-kwh", "1", "--region", "FR", "--embodied-bound", "max"], "--embodied-bound"),
        (["--energy-kwh", "1", "--region", "FR", "--what-if", "colour=red"], "--what-if"),
        (["--energy-kwh", "1"], "--region"),
        (["--kwh-per-1k", "1", "--region", "FR", "--queries-per-day", "5"], "--years"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], args: list[str], flag: str) -> None:
    code, _out, err = run(capsys, "footprint", *args)
    assert code == 2
    assert err.startswith("wattsup: error: ") and flag in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_unknown_region_and_gpu(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "footprint", "--energy-kwh", "1", "--region", "Frnace")
    assert code == 2 and "France" in err
    code, _, err = run(capsys, "footprint", "--energy-kwh", "1", "--region", "FR", "--gpu", "H1000")
    assert code == 2 and "H100" in err


def test_grid_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "grid", "FR")
    assert code == 0 and "56" in out and "2023" in out and "CC BY 4.0" in out
    code, out, _ = run(capsys, "grid", "gcp:europe-west1", "--json")
    d = json.loads(out)
    assert d["intensity_g_per_kwh"] == 122 and d["year"] == 2023 and d["source"] and d["licence"]
    code, out, _ = run(capsys, "grid", "--list", "--kind", "ca-province", "--json")
    assert code == 0 and len(json.loads(out)) == 13
    code, _, err = run(capsys, "grid", "Germny")
    assert code == 2 and "Germany" in err


def test_hardware_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "hardware", "H100")
    assert code == 0 and "164" in out and "NVIDIA" in out and "spread" in out
    code, out, _ = run(capsys, "hardware", "a100", "--json")
    d = json.loads(out)
    assert d["name"] == "A100-SXM4-80GB" and {e["bound"] for e in d["estimates"]} >= {
        "low",
        "central",
        "high",
    }
    code, out, _ = run(capsys, "hardware", "8xH100-SXM", "--json")
    assert json.loads(out)["embodied_kgco2e"]["central"] == pytest.approx(8 * 164 + 5700)
    code, out, _ = run(capsys, "hardware", "--list")
    assert code == 0 and "MI300X" in out
    code, out, _ = run(capsys, "hardware", "--dies", "814@5", "--memory-gb", "80", "--tdp-w", "700", "--json")
    assert json.loads(out)["total_kg"] == pytest.approx(164, rel=0.01)
    code, _, err = run(capsys, "hardware", "H1000")
    assert code == 2 and "H100" in err
    code, _, err = run(capsys, "hardware", "--dies", "banana")
    assert code == 2 and "--dies" in err


def test_profile_and_deadline(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    values = [500, 500, 400, 100, 100, 100, 450, 500]
    lines = ["timestamp,g_per_kwh"] + [f"2024-05-01T{h:02d}:00:00Z,{v}" for h, v in enumerate(values)]
    path = tmp_path / "grid.csv"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run(
        capsys,
        "footprint",
        "--energy-kwh",
        "30",
        "--hours",
        "3",
        "--profile",
        str(path),
        "--start",
        "2024-05-01T00:00:00Z",
        "--deadline",
        "2024-05-01T08:00:00Z",
        "--json",
    )
    assert code == 0, err
    d = json.loads(out)
    assert d["training"]["intensity_g_per_kwh"] == pytest.approx(1400 / 3)
    shift = d["what_if"][0]
    assert shift["window"][0].startswith("2024-05-01T03:00")
    assert shift["delta_fraction"] < -0.7
    code, _, err = run(
        capsys,
        "footprint",
        "--energy-kwh",
        "30",
        "--hours",
        "3",
        "--profile",
        str(tmp_path / "missing.csv"),
        "--start",
        "2024-05-01T00:00:00Z",
    )
    assert code == 2 and "--profile" in err


def test_cpu_only_footprint_via_cli(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("footprint", "--cpu", "EPYC-7763", "--energy-kwh", "100", "--region", "FR")
    code, out, _ = run(capsys, *args, "--json")
    assert code == 0
    d = json.loads(out)
    assert d["embodied_kgco2e"] > 0 and d["total_kgco2e"] > d["operational_kgco2e"]
    assert d["assumptions"]["cpu"] == "EPYC-7763" and d["training"]["cpu_hours"] > 0
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert "1 x EPYC-7763" in out and "embodied per CPU" in out and "host-cpu-server" in out
    cells = [c.strip() for c in next(ln for ln in out.splitlines() if ln.startswith("│ all")).split("│")]
    embodied, total = cells[-4], cells[-2]  # ..., embodied, construction, total, ''
    assert embodied.endswith("kg") and total.endswith("kg"), cells


def test_gpu_flag_with_a_cpu_name_points_to_cpu(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "footprint", "--gpu", "EPYC-7763", "--energy-kwh", "1", "--region", "FR")
    assert code == 2
    assert "--gpu: 'EPYC-7763' is a CPU" in err and "--cpu EPYC-7763" in err
    assert len(err.strip().splitlines()) == 1


def _documented_footprint_commands() -> list[tuple[str, list[str]]]:
    """``wattsup footprint`` commands of the README and docs/carbon.md that run as written (no files)."""
    import re
    import shlex

    root = ROOT
    readme = (root / "README.md").read_text(encoding="utf-8")
    found = [(f"README: {m}", shlex.split(m)[1:]) for m in re.findall(r"`(wattsup footprint [^`]+)`", readme)]
    docs = (root / "docs" / "carbon.md").read_text(encoding="utf-8").replace("\\\n", " ")
    for line in docs.splitlines():
        if line.startswith("$ wattsup footprint") and "..." not in line and "--profile" not in line:
            cmd = line[2:].split("#", 1)[0]
            found.append((f"docs: {cmd.strip()}", shlex.split(cmd)[1:]))
    return found


DOCUMENTED = _documented_footprint_commands()


@pytest.mark.parametrize(("where", "args"), DOCUMENTED, ids=[w for w, _ in DOCUMENTED])
def test_documented_footprint_commands_run(
    where: str, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 0, (where, err)
    if "--json" in args:
        d = json.loads(out)
        assert d["total_kgco2e"] > 0 and "water_l" in d and "construction_kgco2e" in d
        return
    assert "Life-cycle carbon" in out and "Water:" in out
    if "--idle-kwh" in args and "1082990" in args:  # the BLOOM line of docs/carbon.md: its 50.5 t
        assert "50.53 t" in out


def test_documented_commands_were_found() -> None:
    wheres = [w for w, _ in DOCUMENTED]
    assert sum(w.startswith("README") for w in wheres) == 2
    assert any("--idle-kwh 256646" in w for w in wheres) and any("--cpu EPYC-7763" in w for w in wheres)
