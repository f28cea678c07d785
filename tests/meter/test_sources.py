"""discover(): the tracks this machine offers, best method first, and why the missing ones are missing."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pynvml
import pytest

from tests.fakes.gpu_sim import T0, gpu_simulation
from tests.fakes.nvml import FakeClock, FakeGpu, FakeNvml, Power
from tests.fakes.powercap import deny_reads, server_tree
from tests.fakes.timed import inner
from wattsup.meter import sources
from wattsup.meter.timeline import CounterTrack, PolledEnergyTrack
from wattsup.sensors import models, nvml

U0 = "GPU-3c1e2b5a-1111-4a8e-9d51-0123456789ab"
U1 = "GPU-a7d04c21-3333-4c8e-9d51-0123456789ad"
MakeNvml = Callable[..., FakeNvml]


@pytest.fixture
def two_gpus(fake_nvml: MakeNvml, monkeypatch: pytest.MonkeyPatch) -> FakeNvml:
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return fake_nvml(
        [
            FakeGpu(uuid=U0),
            FakeGpu(
                name="Tesla P100-PCIE-16GB", uuid=U1, counter=False, samples=False, power_limit_mw=250_000
            ),
        ]
    )


def _close(found: sources.Sources) -> None:
    for t in found.tracks:
        t.close()


def test_gpus_cpu_and_ram(two_gpus: FakeNvml, no_rapl: str) -> None:
    found = sources.discover()
    assert [(t.name, t.method) for t in found.tracks] == [
        ("gpu:0", "counter"),
        ("gpu:1", "sampled"),
        ("cpu", "modeled"),
        ("ram", "modeled"),
    ]
    g0, g1 = (inner(t) for t in found.tracks[:2])
    assert isinstance(g0, CounterTrack) and g0.read_samples is not None
    assert "NVML total-energy counter, shaped by 20 ms power samples" in g0.detail
    assert g0.max_power_w == pytest.approx(700 * 1.5)
    assert isinstance(g1, PolledEnergyTrack) and g1.relative_bound == 0.05
    assert "no energy counter" in g1.detail
    st = {s.component: s for s in found.statuses}
    assert st["gpu:0"].available and st["gpu:0"].extra == {
        "name": "NVIDIA H100 80GB HBM3",
        "uuid": U0,
        "counter": "True",
        "power_samples": "True",
    }
    assert st["gpu:1"].extra["counter"] == "False" and st["gpu:1"].method == "sampled"
    assert not st["cpu"].available or st["cpu"].source == "model"
    # NVML: started once, one reference per GPU track, shut down with the last
    assert two_gpus.calls("nvmlInit") == 1 and nvml._library.refs == 2
    _close(found)
    assert nvml._library.refs == 0 and two_gpus.calls("nvmlShutdown") == 1


def test_counter_without_samples(fake_nvml: MakeNvml, no_rapl: str) -> None:
    fake_nvml([FakeGpu(samples=False, power_limit_mw=None)])
    found = sources.discover(cpu=False, ram=False, gpu_indices=[0])
    (g,) = (inner(t) for t in found.tracks)
    assert isinstance(g, CounterTrack) and g.read_samples is None
    assert "shaped" not in g.detail
    assert g.max_power_w == pytest.approx(sources.DEFAULT_GPU_MAX_W * 1.5)
    _close(found)


def test_visible_devices_select_the_gpus(
    two_gpus: FakeNvml, no_rapl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", U1)
    found = sources.discover(cpu=False, ram=False)
    assert [t.name for t in found.tracks] == ["gpu:1"]
    _close(found)
    found = sources.discover(cpu=False, ram=False, gpu_indices=[0])  # explicit indices win
    assert [t.name for t in found.tracks] == ["gpu:0"]
    _close(found)
    assert nvml._library.refs == 0


def test_no_visible_gpu(two_gpus: FakeNvml, no_rapl: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    found = sources.discover(cpu=False, ram=False)
    assert found.tracks == []
    (st,) = found.statuses
    assert (st.component, st.available) == ("gpu", False)
    assert "no GPU is visible (CUDA_VISIBLE_DEVICES)" in st.reason
    assert nvml._library.refs == 0 and two_gpus.calls("nvmlShutdown") == 1


def test_without_nvml_the_reason_is_reported(no_nvml: FakeNvml, no_rapl: str) -> None:
    found = sources.discover()
    assert [(t.name, t.method) for t in found.tracks] == [("cpu", "modeled"), ("ram", "modeled")]
    gpu = next(s for s in found.statuses if s.component == "gpu")
    assert not gpu.available and gpu.source == "nvml"
    assert "NVML could not start (NVML Shared Library Not Found)" in gpu.reason
    cpu = next(s for s in found.statuses if s.source == "rapl")
    assert not cpu.available and "no RAPL package zones" in cpu.reason
    assert not gpu.actionable and not cpu.actionable  # nothing to fix: no warning in measurements
    assert nvml._library.refs == 0


def test_without_the_binding(monkeypatch: pytest.MonkeyPatch, no_rapl: str) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)
    found = sources.discover(cpu=False, ram=False)
    (st,) = found.statuses
    assert "pip install 'wattsup[gpu]'" in st.reason


def test_gpu_false_does_not_touch_nvml(two_gpus: FakeNvml, no_rapl: str) -> None:
    found = sources.discover(gpu=False)
    assert [t.name for t in found.tracks] == ["cpu", "ram"]
    assert two_gpus.calls("nvmlInit") == 0
    assert sources.discover(gpu=False, cpu=False, ram=False).tracks == []


def test_one_broken_gpu_does_not_hide_the_others(fake_nvml: MakeNvml, no_rapl: str) -> None:
    fake_nvml([FakeGpu(uuid=U0), FakeGpu(uuid=U1, handle_error=pynvml.NVMLError_NoPermission)])
    found = sources.discover(cpu=False, ram=False, gpu_indices=[0, 1])
    assert [t.name for t in found.tracks] == ["gpu:0"]
    assert any(not s.available and s.component == "gpu:1" for s in found.statuses)
    _close(found)
    assert nvml._library.refs == 0


# --------------------------------------------------------------------------- CPU and memory


def test_rapl_with_dram_replaces_both_models(no_nvml: FakeNvml, tmp_path: Path) -> None:
    server_tree(tmp_path)
    found = sources.discover(powercap_root=str(tmp_path))
    assert [(t.name, t.method) for t in found.tracks] == [("cpu", "counter"), ("dram", "counter")]


def test_rapl_without_dram_keeps_the_ram_model(no_nvml: FakeNvml, tmp_path: Path) -> None:
    server_tree(tmp_path, dram=False)
    found = sources.discover(powercap_root=str(tmp_path))
    assert [(t.name, t.method) for t in found.tracks] == [("cpu", "counter"), ("ram", "modeled")]


def test_unreadable_rapl_falls_back_to_the_model_and_says_why(
    no_nvml: FakeNvml, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = server_tree(tmp_path, sockets=1)
    deny_reads(monkeypatch, tree.energy_file("intel-rapl:0"), tree.energy_file("intel-rapl:0:1"))
    found = sources.discover(powercap_root=str(tmp_path))
    assert [(t.name, t.method) for t in found.tracks] == [("cpu", "modeled"), ("ram", "modeled")]
    rapl_status = next(s for s in found.statuses if s.source == "rapl")
    assert "sudo chmod a+r" in rapl_status.reason
    assert rapl_status.actionable  # a permission the user can grant: every measurement repeats it


def test_cpu_model_track(
    no_nvml: FakeNvml, no_rapl: str, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TDP × load curve at the measured utilisation, integrated over time; the TDP may be overridden."""
    monkeypatch.setenv("WATTSUP_CPU_TDP_W", "200")
    monkeypatch.setattr(models.CpuUtilisation, "sample", lambda self: 0.5)
    found = sources.discover(gpu=False, ram=False, pid=None)
    (cpu,) = found.tracks
    assert isinstance(cpu, PolledEnergyTrack)
    assert cpu.relative_bound == models.MODELED_RELATIVE_BOUND
    assert "given by the user" in cpu.detail and "machine-wide utilisation" in cpu.detail
    for _ in range(5):
        cpu.poll(fake_clock.now)
        fake_clock.advance(0.25)
    est = cpu.energy(T0 + 0.25, T0 + 0.75)
    assert est.energy_j == pytest.approx(200 * 0.75 * 0.5)
    assert est.systematic_j == pytest.approx(0.5 * est.energy_j)


def test_ram_model_track(no_rapl: str, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "ram_installed_gb", lambda: 64.0)
    found = sources.discover(gpu=False, cpu=False)
    (ram,) = found.tracks
    assert "64.0 GB installed × 0.375 W/GB = 24.0 W" in ram.detail
    ram.poll(fake_clock.now)
    fake_clock.advance(2.0)
    ram.poll(fake_clock.now)
    assert ram.energy(T0, T0 + 2.0).energy_j == pytest.approx(48.0)


def test_process_scope(no_rapl: str) -> None:
    import os

    found = sources.discover(gpu=False, ram=False, pid=os.getpid())
    assert "this process tree's CPU time" in found.tracks[0].detail
    assert found.host is not None  # a process tree is metered: the host load is recorded beside it


# --------------------------------------------------------------------------- GPU tracks over time


def test_sampled_gpu_integrates_power_readings() -> None:
    with gpu_simulation(FakeGpu(power=250.0, counter=False, samples=False)) as sim:
        w = sim.window(T0 + 1.5, T0 + 2.5)
    assert w.estimator == "sampled"
    assert w.estimate.energy_j == pytest.approx(250.0, rel=1e-6)
    assert w.estimate.systematic_j == pytest.approx(0.05 * w.estimate.energy_j)
    assert abs(w.error_j) <= w.estimate.bound_j


def test_samples_on_an_unknown_clock_are_anchored_at_the_read() -> None:
    """Driver stamps on no known clock: the newest sample is taken to be 'now', still within the bound."""
    power = Power.steps([(T0 + 0.25 * k, 200.0 + 50.0 * (k % 5)) for k in range(60)])
    # stamps on neither the wall clock, the monotonic nor the boot-time clock
    with gpu_simulation(FakeGpu(power=power), stamp_offset=123_456.0) as sim:
        w = sim.window(T0 + 7.0, T0 + 7.7)
    assert w.estimator == "counter+samples"
    assert abs(w.error_j) <= w.estimate.bound_j, w


@pytest.mark.parametrize("step_s", [0.5, -0.5])
def test_wall_clock_step_does_not_misalign_the_samples(step_s: float) -> None:
    power = Power.steps([(T0 + 0.25 * k + 0.0037 * (k * 7 % 5), 100.0 + 100.0 * (k % 4)) for k in range(200)])
    with gpu_simulation(FakeGpu(power=power, sample_noise_w=5.0)) as sim:
        sim.run_to(T0 + 5.0)
        sim.clock.realtime_offset += step_s  # CLOCK_REALTIME steps; monotonic time does not
        sim.run_to(T0 + 8.0)
        windows = []
        for _ in range(6):
            start = sim.clock.now + 0.213
            windows.append(sim.window(start, start + 0.3))
    assert all(w.estimator == "counter+samples" for w in windows)
    assert sum(abs(w.error_j) > w.estimate.bound_j for w in windows) <= 1


def test_gpu_tracks_release_nvml_when_closed() -> None:
    with gpu_simulation(FakeGpu(), FakeGpu(counter=False)) as sim:
        assert nvml._library.refs == 2
        sim.run_to(T0 + 0.5)
    assert sim.fake.initialised == 0  # the sampler's stop closed both tracks
    assert sim.fake.calls("nvmlShutdown") == 1
