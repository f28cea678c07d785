"""One run per GPU at a time (``wattsup sweep --gpus``): placement, overlap, retries, order, Ctrl-C, the CPU
runs after the GPU runs, and the option's checks; against a fake NVML of several GPUs and fake runners."""

from __future__ import annotations

import _thread
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.nvml import FakeGpu, FakeNvml, fake_nvml_factory
from tests.fakes.slot_entries import gpu_record
from tests.support.processes import python_path
from tests.sweep.attempts import seeds_sweep
from wattsup.cli import main
from wattsup.errors import InvalidInput
from wattsup.records import Provenance, RunConfig, RunRecord
from wattsup.results import RunFilter, Store
from wattsup.sensors import nvml
from wattsup.sweep import load_sweep
from wattsup.sweep.execute import NullReporter, Outcome, RunOptions, plan_sweep, run_local
from wattsup.sweep.slots import CPU_RUNS, Gpu, resolve_gpus
from wattsup.sweep.worker import ENV_CONTEXT, annotate

GPUS = [Gpu(i, "NVIDIA H100 80GB HBM3", f"GPU-{i}") for i in range(3)]


@pytest.fixture
def fake_nvml(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeNvml]]:
    """``fake_nvml(n)``: a fake NVML of ``n`` GPUs (uuids GPU-aaaa0000-…, GPU-aaaa0001-…)."""
    monkeypatch.setattr(nvml._library, "refs", 0)
    monkeypatch.setattr(nvml, "_module", None)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    make, cleanup = fake_nvml_factory()
    yield lambda n, **kw: make(
        [FakeGpu(uuid=f"GPU-aaaa{i:04d}-0000-0000-0000-000000000000") for i in range(n)], **kw
    )
    cleanup()


class FakeRunner:
    """Stands in for ``run_isolated``: records the environment and slot of each call, never lets two runs
    share a GPU unnoticed, and behaves as ``script`` says for a seed (``fail``, ``fail_once``, a callable
    run at the start of the call)."""

    def __init__(self, script: dict[int, Any] | None = None) -> None:
        self.script = script or {}
        self.lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.events: list[tuple[str, str]] = []
        """("start" or "end", the run's device), in the order they happened."""
        self.busy: set[str] = set()
        self.clashes: list[str] = []
        self.stopped = threading.Event()

    def stop(self) -> None:
        """What the sweep calls on Ctrl-C (the real runner's fork servers then kill their runs)."""
        self.stopped.set()

    def __call__(
        self, config: RunConfig, *, timeout_s: float | None, entry: str, env: dict[str, str], slot: int
    ) -> RunRecord:
        gpu = env.get("CUDA_VISIBLE_DEVICES")
        with self.lock:
            if gpu is not None and gpu in self.busy:
                self.clashes.append(gpu)
            if gpu is not None:
                self.busy.add(gpu)
            self.calls.append({"seed": config.seed, "env": dict(env), "slot": slot})
            self.events.append(("start", config.device))
            attempt = sum(c["seed"] == config.seed for c in self.calls)
        try:
            how = self.script.get(config.seed, "ok")
            if callable(how):
                how = how() or "ok"
            if how == "fail" or (how == "fail_once" and attempt == 1):
                return RunRecord(
                    config=config, status="failed", error="out of memory", provenance=Provenance()
                )
            context = json.loads(env[ENV_CONTEXT])
            return annotate(gpu_record(config, gpu), context, gpu)
        finally:
            with self.lock:
                self.busy.discard(gpu or "")
                self.events.append(("end", config.device))


def sweep(
    tmp_path: Path, runner: FakeRunner, seeds: int, device: str = "cuda", gpus: list[Gpu] = GPUS, **kw: Any
) -> Any:
    f = tmp_path / "sweep.yaml"
    f.write_text(seeds_sweep(seeds, device=device), encoding="utf-8")
    reporter = kw.pop("reporter", NullReporter())
    with Store.open(str(tmp_path / "runs.db")) as store:
        plan = plan_sweep(load_sweep(f), store)
        return run_local(plan, store, RunOptions(**kw), reporter, runner=runner, gpus=gpus)


def stored(tmp_path: Path) -> list[RunRecord]:
    with Store.open(str(tmp_path / "runs.db")) as s:
        return [s.get(r.run_id) for r in s.list_runs(RunFilter(), limit=None)]


def test_runs_overlap_one_per_gpu_and_each_meters_its_gpu(tmp_path: Path) -> None:
    meet = threading.Barrier(3, timeout=60)  # the first three runs wait for each other: they must overlap
    runner = FakeRunner({0: meet.wait, 1: meet.wait, 2: meet.wait})
    result = sweep(tmp_path, runner, 9)
    assert (result.ok, result.failed, result.not_run) == (9, 0, 0) and not result.interrupted
    assert runner.clashes == []  # never two runs on one GPU
    assert {c["env"]["CUDA_VISIBLE_DEVICES"] for c in runner.calls} == {"0", "1", "2"}
    for c in runner.calls:
        assert c["env"]["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID" and c["slot"] == int(
            c["env"]["CUDA_VISIBLE_DEVICES"]
        )
        assert json.loads(c["env"][ENV_CONTEXT])["cpu_scope"] == "process"  # runs share the host's CPU
    records = stored(tmp_path)
    assert len(records) == 9 and {r.status for r in records} == {"ok"}
    for r in records:
        (gpu,) = [c.name for c in r.repetitions[0].measurement.components if c.name.startswith("gpu")]
        note = r.provenance.sensors["sharing"]
        assert f"CUDA_VISIBLE_DEVICES='{gpu[4:]}'" in note and f"GPU {gpu[4:]} (NVIDIA H100" in note
        assert "3 runs at most at once on this host" in note and f"{gpu}: this run's GPU alone" in note
    assert "0 (NVIDIA H100 80GB HBM3, GPU-0)" in result.details["gpus"]


def test_a_failed_run_is_retried_then_recorded_once(tmp_path: Path) -> None:
    runner = FakeRunner({1: "fail_once", 2: "fail"})
    result = sweep(tmp_path, runner, 4, retries=1)
    assert (result.ok, result.failed) == (3, 1)
    by_seed = {o.config.seed: o for o in result.outcomes}
    assert by_seed[1].status == "ok" and by_seed[1].attempts == 2
    assert by_seed[2].attempts == 2 and by_seed[2].error == "out of memory (all 2 attempts failed)"
    assert sorted(c["seed"] for c in runner.calls) == [0, 1, 1, 2, 2, 3]
    assert sorted(r.status for r in stored(tmp_path)) == ["failed", "ok", "ok", "ok"]


class Finished(NullReporter):
    """Sets ``event`` once the driver has stored and reported the run of seed ``seed``."""

    def __init__(self, seed: int) -> None:
        self.seed, self.event = seed, threading.Event()

    def finished(self, outcome: Outcome) -> None:
        if outcome.config.seed == self.seed:
            self.event.set()


def test_results_come_in_the_order_runs_end(tmp_path: Path) -> None:
    reporter = Finished(seed=1)
    runner = FakeRunner({0: lambda: reporter.event.wait(60)})  # seed 0 starts first and ends after seed 1
    result = sweep(tmp_path, runner, 2, gpus=GPUS[:2], reporter=reporter)
    assert [c["seed"] for c in runner.calls] == [0, 1]
    assert [o.config.seed for o in result.outcomes] == [1, 0]
    assert reporter.event.is_set() and len(stored(tmp_path)) == 2


MIXED = """weights: random
n: 2
reps: 1
warmup: 0
seeds: [0, 1, 2]
matrix:
  - {tasks: text-classification, models: tiny/bert-classifier, datasets: imdb, device: cuda}
  - {tasks: text-classification, models: tiny/bert-classifier, datasets: imdb, device: cpu}
"""


def test_cpu_runs_follow_the_gpu_runs_one_at_a_time(tmp_path: Path) -> None:
    f = tmp_path / "sweep.yaml"
    f.write_text(MIXED, encoding="utf-8")
    runner = FakeRunner()
    with Store.open(str(tmp_path / "runs.db")) as store:
        plan = plan_sweep(load_sweep(f), store)
        result = run_local(plan, store, RunOptions(), NullReporter(), runner=runner, gpus=GPUS[:2])
    assert result.ok == 6 and result.details["cpu runs"] == CPU_RUNS
    # every GPU run has ended before the first CPU run starts, and the CPU runs go one at a time
    assert sorted(runner.events[:6]) == [("end", "cuda")] * 3 + [("start", "cuda")] * 3
    assert runner.events[6:] == [("start", "cpu"), ("end", "cpu")] * 3
    for c in runner.calls:
        context = json.loads(c["env"][ENV_CONTEXT])
        if c["env"].get("CUDA_VISIBLE_DEVICES") is None:  # alone on the host, as without --gpus
            assert context == {"executor": "local", "slots": 1, "cpu_scope": "machine"} and c["slot"] == 0
        else:
            assert context["slots"] == 2 and context["cpu_scope"] == "process"


def test_ctrl_c_stops_every_slot_and_keeps_the_finished_runs(tmp_path: Path) -> None:
    meet = threading.Barrier(2, timeout=60)
    runner = FakeRunner()

    def killed() -> str:  # stopped mid-run: comes back failed, as a killed worker does
        meet.wait()
        runner.stopped.wait(60)
        return "fail"

    def finishes() -> None:  # Ctrl-C while it runs; it ends anyway
        meet.wait()
        _thread.interrupt_main()
        runner.stopped.wait(60)

    runner.script = {0: killed, 1: finishes}
    try:
        result = sweep(tmp_path, runner, 8, gpus=GPUS[:2])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped the sweep")
    assert result.interrupted and runner.stopped.is_set()
    assert sorted(c["seed"] for c in runner.calls) == [0, 1]  # no run started after Ctrl-C, none retried
    assert [o.config.seed for o in result.outcomes] == [1]  # the stopped run is neither ok nor failed
    assert result.not_run == 7 and [r.config.seed for r in stored(tmp_path)] == [1]
    assert not [t for t in threading.enumerate() if t.name.startswith("wattsup gpu")]


def test_a_device_index_is_refused_with_gpus(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"device: 'cuda:1': .* use device: cuda"):
        sweep(tmp_path, FakeRunner(), 1, device="cuda:1")


def test_resolve_gpus_honours_cuda_visible_devices(
    fake_nvml: Callable[..., FakeNvml], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_nvml(4)
    assert [g.index for g in resolve_gpus("all")] == [0, 1, 2, 3]
    assert [g.index for g in resolve_gpus(" 3, 1 ")] == [3, 1]
    assert resolve_gpus("2")[0].uuid.startswith("GPU-aaaa0002")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    assert [g.index for g in resolve_gpus("all")] == [2, 3]
    with pytest.raises(InvalidInput, match=r"--gpus: GPU 0 is not one of this host's: .*2, 3 \(CUDA_VISIBLE"):
        resolve_gpus("0")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-aaaa0001")
    assert [g.index for g in resolve_gpus("all")] == [1]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(InvalidInput, match="--gpus: no GPU is visible"):
        resolve_gpus("all")
    for bad, says in (("0,x", "'x' is not a GPU index"), ("1,1", "GPU 1 is listed twice"), ("", "'' is not")):
        with pytest.raises(InvalidInput, match=f"--gpus: {says}"):
            resolve_gpus(bad)


def test_gpus_without_nvml_is_refused(fake_nvml: Callable[..., FakeNvml]) -> None:
    import pynvml

    fake_nvml(0, init_error=pynvml.NVMLError_LibraryNotFound)
    with pytest.raises(InvalidInput, match="--gpus: places runs on NVIDIA GPUs, but none can be read"):
        resolve_gpus("all")


def test_cli_refuses_an_unknown_gpu_naming_the_option(
    fake_nvml: Callable[..., FakeNvml], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_nvml(2)
    f = tmp_path / "sweep.yaml"
    f.write_text(seeds_sweep(1, device="cuda"), encoding="utf-8")
    db = str(tmp_path / "never.db")
    assert main(["sweep", str(f), "--db", db, "--gpus", "0,7"]) == 2
    err = capsys.readouterr().err
    assert "wattsup: error: --gpus: GPU 7 is not one of this host's: this process may use GPU 0, 1" in err
    assert main(["sweep", str(f), "--db", db, "--gpus", "all", "--executor", "ray"]) == 2
    assert "--gpus: places runs on this host's GPUs (local executor)" in capsys.readouterr().err
    assert not Path(db).exists()


@pytest.mark.slow
def test_isolated_runs_on_two_gpus_run_at_the_same_time(tmp_path: Path) -> None:
    """The real runner: each slot forks its runs from a fork server of its own, so two runs overlap (each
    waits for the other to have started) and each worker sees its GPU alone."""
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {
        "PYTHONPATH": python_path(),
        "WATTSUP_TEST_MARKERS": str(markers),
        "WATTSUP_TEST_RENDEZVOUS": "2",
    }
    f = tmp_path / "sweep.yaml"
    f.write_text(seeds_sweep(2, device="cuda"), encoding="utf-8")
    options = RunOptions(retries=0, entry="tests.fakes.slot_entries:rendezvous", env=env, timeout_s=300)
    with Store.open(str(tmp_path / "runs.db")) as store:
        plan = plan_sweep(load_sweep(f), store)
        result = run_local(plan, store, options, NullReporter(), gpus=GPUS[:2])
    assert (result.ok, result.failed) == (2, 0), [o.error for o in result.outcomes]
    seen = sorted(p.read_text(encoding="utf-8").strip() for p in markers.iterdir())
    assert seen == ["0", "1"]
    for r in stored(tmp_path):
        gpu = next(c.name for c in r.repetitions[0].measurement.components if c.name.startswith("gpu"))
        assert f"CUDA_VISIBLE_DEVICES='{gpu[4:]}'" in r.provenance.sensors["sharing"]
