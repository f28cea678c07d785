"""The local executor and the CLI: every run stored once, resume, bounded retries, dry runs, the worker
that stops when its parent dies."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fakes.sweep_entries import ENTRY
from tests.sweep.attempts import attempts, seeds_sweep
from wattsup.cli import app
from wattsup.results import RunFilter, Store
from wattsup.sweep import plan, run_sweep


def stored(db: str, **filters: str) -> list[tuple[str, str]]:
    with Store.open(db) as s:
        return [(r.config_hash, r.status) for r in s.list_runs(RunFilter(**filters), limit=None)]


def test_local_sweep_stores_each_run_and_a_second_invocation_runs_nothing(
    sweep_file: Callable[..., Path], db: str, fake_env: Callable[..., dict[str, str]], markers: Path
) -> None:
    f = sweep_file(seeds_sweep(3))
    result = run_sweep(f, db=db, entry=ENTRY, env=fake_env())
    assert (result.ok, result.failed, result.not_run) == (3, 0, 0)
    assert all(o.attempts == 1 for o in result.outcomes)
    runs = stored(db)
    assert len(runs) == 3 and {s for _, s in runs} == {"ok"}
    assert {h for h, _ in runs} == {c.config_hash() for c in result.plan.todo}

    again = run_sweep(f, db=db, entry=ENTRY, env=fake_env())
    assert again.plan.todo == [] and len(again.plan.done) == 3 and again.outcomes == []
    assert len(stored(db)) == 3
    assert all(attempts(markers, h) == 1 for h, _ in runs)


def test_a_failing_run_is_retried_a_bounded_number_of_times_then_recorded_once(
    sweep_file: Callable[..., Path], db: str, fake_env: Callable[..., dict[str, str]], markers: Path
) -> None:
    f = sweep_file(seeds_sweep(3, extra="retries: 2\n"))
    result = run_sweep(f, db=db, entry=ENTRY, env=fake_env({1: "fail"}))
    assert (result.ok, result.failed) == (2, 1)
    (bad,) = [o for o in result.outcomes if o.status == "failed"]
    assert bad.config.seed == 1 and bad.attempts == 3
    assert attempts(markers, bad.config.config_hash()) == 3
    assert bad.error == "RuntimeError: the model refused to load (all 3 attempts failed)"
    failed = stored(db, status="failed")
    assert failed == [(bad.config.config_hash(), "failed")]
    with Store.open(db) as s:
        assert s.get(bad.run_id).error == bad.error

    # Failed configurations are not done: the next invocation tries them again (and only them).
    again = run_sweep(f, db=db, entry=ENTRY, env=fake_env(), retries=0)
    assert [c.seed for c in again.plan.todo] == [1] and again.ok == 1
    assert len(stored(db, status="ok")) == 3


def test_a_run_that_fails_once_is_stored_once_as_ok(
    sweep_file: Callable[..., Path], db: str, fake_env: Callable[..., dict[str, str]]
) -> None:
    f = sweep_file(seeds_sweep(2))
    result = run_sweep(f, db=db, entry=ENTRY, env=fake_env({0: "fail_once"}))
    assert result.ok == 2 and [o.attempts for o in result.outcomes] == [2, 1]
    assert sorted(s for _, s in stored(db)) == ["ok", "ok"]  # the failed first attempt is not recorded


def test_local_records_say_how_the_host_was_shared(
    sweep_file: Callable[..., Path], db: str, fake_env: Callable[..., dict[str, str]]
) -> None:
    result = run_sweep(sweep_file(seeds_sweep(1)), db=db, entry=ENTRY, env=fake_env())
    with Store.open(db) as s:
        note = s.get(result.outcomes[0].run_id).provenance.sensors["sharing"]
    assert note.startswith("executor local; 1 run at most at once on this host")
    assert "one sweep run at a time on this host (local executor)" in note


def test_plan_is_a_dry_run(sweep_file: Callable[..., Path], db: str) -> None:
    p = plan(sweep_file(seeds_sweep(4)), db)
    assert len(p.todo) == 4 and p.done == []
    assert stored(db) == []


def test_wrong_options_are_refused(sweep_file: Callable[..., Path], db: str) -> None:
    from wattsup.errors import InvalidInput

    f = sweep_file(seeds_sweep(1))
    with pytest.raises(InvalidInput, match="--executor"):
        run_sweep(f, db=db, executor="slurm")
    with pytest.raises(InvalidInput, match="--address"):
        run_sweep(f, db=db, address="localhost:6379")
    with pytest.raises(InvalidInput, match="--workers"):
        run_sweep(f, db=db, workers=2)


def test_a_local_sweep_on_cuda_without_cuda_is_refused_before_anything_runs(
    sweep_file: Callable[..., Path], tmp_path: Path
) -> None:
    # (that every run ends with the process that started it is the runner's: tests/bench/test_runner.py)
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    from wattsup.bench.api import DeviceUnavailable

    db = str(tmp_path / "never.db")
    f = sweep_file(seeds_sweep(2, device="cuda"))
    assert len(plan(f, str(tmp_path / "plan.db")).todo) == 2  # a dry run still plans it
    with pytest.raises(DeviceUnavailable, match=r"--device cuda: .*--device cpu"):
        run_sweep(f, db=db)
    assert not Path(db).exists()
    with pytest.raises(Exception, match="--timeout"):
        run_sweep(sweep_file(seeds_sweep(1)), db=db, timeout_s=float("nan"))


def test_a_run_the_store_refuses_is_saved_to_a_file(
    sweep_file: Callable[..., Path],
    db: str,
    fake_env: Callable[..., dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sqlite3

    from wattsup.records import RunRecord

    Store.open(db).close()
    con = sqlite3.connect(db)
    con.execute("CREATE TRIGGER no_runs BEFORE INSERT ON runs BEGIN SELECT RAISE(FAIL, 'disk is full'); END")
    con.commit()
    con.close()
    monkeypatch.chdir(tmp_path)
    result = run_sweep(sweep_file(seeds_sweep(1)), db=db, entry=ENTRY, env=fake_env())
    assert result.ok == 1
    (note,) = [v for k, v in result.details.items() if k.startswith("not stored")]
    saved = tmp_path / f"wattsup-run-{result.outcomes[0].run_id}.json"
    assert "disk is full" in note and str(saved) in note and "wattsup import record" in note
    assert RunRecord.model_validate_json(saved.read_text()).status == "ok"


def test_long_names_in_a_sweep_file_are_problems_with_their_lines(
    sweep_file: Callable[..., Path], tmp_path: Path
) -> None:
    from wattsup.sweep.expand import SweepFileError

    long = "x" * 5000
    f = sweep_file(
        "tasks: text-classification\nweights: random\nn: 2\nreps: 1\n"
        f"models: [tiny/bert-classifier, {long}]\ndatasets: [imdb, ./{long}.csv]\n"
    )
    with pytest.raises(SweepFileError) as err:
        plan(f, str(tmp_path / "p.db"))
    text = str(err.value)
    assert (
        "unknown model" in text
        and "(5,000 characters)" in text
        and "(5,006 characters) does not exist" in text
    )
    assert len(text) < 2000 and ":5:" in text and ":6:" in text


# ---------------------------------------------------------------------------------------------- CLI

runner = CliRunner()


def test_cli_dry_run_lists_the_runs_and_writes_nothing(sweep_file: Callable[..., Path], db: str) -> None:
    f = sweep_file(seeds_sweep(2, extra="batch_sizes: [1, 2]\n"))
    res = runner.invoke(app, ["sweep", str(f), "--db", db, "--dry-run", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert (data["configurations"], data["to_run"], data["already_done"]) == (4, 4, 0)
    assert {(r["seed"], r["batch_size"]) for r in data["runs"]} == {(s, b) for s in (0, 1) for b in (1, 2)}
    res = runner.invoke(app, ["sweep", str(f), "--db", db, "--dry-run"])
    assert res.exit_code == 0 and "4 to run" in res.stdout and "dry run: nothing was run" in res.stdout
    assert stored(db) == []


def test_cli_reports_file_problems_with_lines(
    sweep_file: Callable[..., Path], db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from wattsup.cli import main

    f = sweep_file("tasks: text-classification\nmodels: tiny/bert-classifier\nbatch_size: 2\n")
    assert main(["sweep", str(f), "--db", db]) == 2
    err = capsys.readouterr().err
    assert f"wattsup: error: {f}: 1 problem:\n  {f}:3: batch_size: unknown key 'batch_size'" in err
    ok = sweep_file(seeds_sweep(1), "ok.yaml")
    assert main(["sweep", str(ok), "--db", db, "--address", "x:1"]) == 2
    assert "--address: names a Ray cluster: use it with --executor ray" in capsys.readouterr().err
    assert stored(db) == []


@pytest.mark.slow
def test_cli_runs_tiny_models_locally_then_resumes(sweep_file: Callable[..., Path], db: str) -> None:
    f = sweep_file(
        "name: tiny-local\nweights: random\nn: 2\nreps: 1\nwarmup: 0\nretries: 0\n"
        "matrix:\n  - {tasks: text-classification, models: tiny/bert-classifier, datasets: [imdb, sst2]}\n"
    )
    res = runner.invoke(app, ["sweep", str(f), "--db", db])
    assert res.exit_code == 0, res.output
    assert "tiny-local (local): 2 ok, 0 failed, 0 done before" in res.stdout
    with Store.open(db) as s:
        runs = s.list_runs(limit=None)
        assert len(runs) == 2 and all(r.status == "ok" and r.energy_kwh_per_1k for r in runs)
    res = runner.invoke(app, ["sweep", str(f), "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert (summary["already_done"], summary["ran"]) == (2, 0)
