"""NVIDIA (over the fake NVML) and CPU RAPL behind the device protocol: energy of a trace, typed errors
mapped from NVML, counter wrap and reset, vendor labels."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pynvml
import pytest

from tests.fakes.device_harness import install_clock, measure
from tests.fakes.nvml import FakeClock, FakeGpu, FakeNvml, Power
from tests.fakes.powercap import deny_reads, server_tree
from wattsup.errors import (
    DeviceLost,
    DeviceNotFound,
    DevicePermissionDenied,
    DriverNotLoaded,
    SensorStuck,
)
from wattsup.sensors import cpu, nvidia, nvml

MakeNvml = Callable[..., FakeNvml]
TRACE = Power.steps([(0.0, 100.0), (1002.0, 640.0), (1006.5, 210.0)])


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    c = install_clock(monkeypatch, FakeClock())
    monkeypatch.setattr(nvml, "time", c)
    return c


def test_nvidia_counter_gives_the_trace_energy(fake_nvml: MakeNvml, clock: FakeClock) -> None:
    fake = fake_nvml([FakeGpu(power=TRACE)], clock=clock)
    (gpu,) = nvidia.discover().devices
    assert gpu.component == "gpu:0" and gpu.method == "counter" and gpu.identity.uuid == fake.gpus[0].uuid
    assert gpu.max_power_w == pytest.approx(1050.0)
    got, a, b = measure(gpu, clock, 10.0)
    # the counter steps every 100 ms: the ends of the run are known to one step at the peak power
    assert got == pytest.approx(fake.true_joules(0, a, b), abs=2 * 0.1 * 640.0)
    gpu.close()
    assert fake.initialised == 0


def test_nvidia_without_counter_reads_power(fake_nvml: MakeNvml, clock: FakeClock) -> None:
    fake_nvml([FakeGpu(power=250.0, counter=False)], clock=clock)
    (gpu,) = nvidia.discover().devices
    assert gpu.method == "sampled" and gpu.signal.averaging_window_s == 1.0
    clock.advance(2.0)
    assert gpu.read_power_w() == pytest.approx(250.0)
    gpu.close()


def test_nvidia_faults_are_typed(fake_nvml: MakeNvml, clock: FakeClock) -> None:
    fake = fake_nvml(
        [
            FakeGpu(power=Power.steps([(0.0, 300.0), (1001.0, 0.0)])),
            FakeGpu(handle_error=pynvml.NVMLError_NoPermission),
        ],
        clock=clock,
    )
    probe = nvidia.discover()
    (gpu,) = probe.devices
    ((comp, err),) = probe.problems
    assert comp == "gpu:1" and isinstance(err, DevicePermissionDenied)
    # a powered GPU whose counter stops moving: stuck, never silently zero
    with pytest.raises(SensorStuck):
        measure(gpu, clock, 8.0)
    fake.gpus[0].read_error = pynvml.NVMLError_GpuIsLost
    with pytest.raises(DeviceLost, match="fell off the bus"):
        gpu.read_energy_j()
    gpu.close()


def test_nvidia_driver_missing_is_driver_not_loaded(no_nvml: FakeNvml) -> None:
    with pytest.raises(DriverNotLoaded):
        nvidia.discover()


def test_nvidia_no_visible_gpu(fake_nvml: MakeNvml, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = fake_nvml([FakeGpu()])
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(DeviceNotFound, match="CUDA_VISIBLE_DEVICES"):
        nvidia.discover()
    assert fake.initialised == 0


def _cpuinfo(tmp_path: Path, vendor: str) -> Path:
    p = tmp_path / "cpuinfo"
    p.write_text(f"processor\t: 0\nvendor_id\t: {vendor}\nmodel name\t: some CPU\n")
    return p


def test_rapl_devices_label_the_vendor_and_sum_sockets(tmp_path: Path, clock: FakeClock) -> None:
    tree = server_tree(tmp_path / "class" / "powercap", sockets=2, dram=True)
    devs = {d.component: d for d in cpu.discover_rapl(tmp_path, _cpuinfo(tmp_path, "GenuineIntel")).devices}
    assert set(devs) == {"cpu", "dram"}
    assert devs["cpu"].identity.vendor == "Intel" and "2 zone(s)" in devs["cpu"].detail
    devs["cpu"].read_energy_j()
    tree.set("intel-rapl:0", 1_000_000 + 30_000_000)
    tree.set("intel-rapl:1", 2_000_000 + 20_000_000)
    clock.advance(1.0)
    assert devs["cpu"].read_energy_j() == pytest.approx(50.0)


def test_rapl_on_amd_says_dram_is_modelled(tmp_path: Path, clock: FakeClock) -> None:
    server_tree(tmp_path / "class" / "powercap", sockets=1, dram=False)
    (dev,) = cpu.discover_rapl(tmp_path, _cpuinfo(tmp_path, "AuthenticAMD")).devices
    assert dev.identity.vendor == "AMD" and "memory is modelled" in dev.detail


def test_rapl_wrap_reset_and_permission(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = 10_000_000  # 10 J range
    tree = server_tree(tmp_path / "class" / "powercap", sockets=1, dram=False, package_range_uj=rng)
    (dev,) = cpu.discover_rapl(tmp_path, _cpuinfo(tmp_path, "GenuineIntel")).devices
    tree.set("intel-rapl:0", rng - 1_000_000)
    dev.read_energy_j()
    clock.advance(0.05)
    tree.set("intel-rapl:0", 2_000_000)  # wrapped: 3 J in 50 ms is plausible
    assert dev.read_energy_j() == pytest.approx(3.0)
    assert dev.wraps == 1
    clock.advance(0.05)
    tree.set("intel-rapl:0", 500_000)  # a second wrap: 8.5 J in 50 ms is still plausible
    assert dev.read_energy_j() == pytest.approx(3.0 + 8.5)
    assert dev.wraps == 2


def test_rapl_reset_counts_from_zero(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = server_tree(tmp_path / "class" / "powercap", sockets=1, dram=False)  # 262 kJ range
    (dev,) = cpu.discover_rapl(tmp_path, _cpuinfo(tmp_path, "GenuineIntel")).devices
    tree.set("intel-rapl:0", 100_000_000)
    dev.read_energy_j()
    clock.advance(0.05)
    tree.set("intel-rapl:0", 1_000_000)  # a wrap would mean 262 kJ in 50 ms: a reset, counted from zero
    assert dev.read_energy_j() == pytest.approx(1.0)
    assert dev.resets == 1 and dev.wraps == 0
    deny_reads(monkeypatch, tree.energy_file("intel-rapl:0"))
    with pytest.raises(DevicePermissionDenied, match="chmod a\\+r"):
        dev.read_energy_j()
    with pytest.raises(DevicePermissionDenied):
        cpu.discover_rapl(tmp_path)


def test_nvidia_driver_reload_is_a_reset_counted_from_zero(fake_nvml: MakeNvml, clock: FakeClock) -> None:
    fake = fake_nvml([FakeGpu(power=300.0, reset_at=clock.monotonic() + 1.0)], clock=clock)
    (gpu,) = nvidia.discover().devices
    got, a, b = measure(gpu, clock, 3.0)
    assert gpu.resets == 1
    # what was drawn between the last read before the reload and the reload is lost: one poll at most
    assert got == pytest.approx(fake.true_joules(0, a, b), abs=300.0 * (0.05 + 0.1) + 1e-3)
    gpu.close()


def test_rapl_zone_gone_is_device_lost(tmp_path: Path, clock: FakeClock) -> None:
    tree = server_tree(tmp_path / "class" / "powercap", sockets=1, dram=False)
    (dev,) = cpu.discover_rapl(tmp_path, _cpuinfo(tmp_path, "GenuineIntel")).devices
    dev.read_energy_j()
    shutil.rmtree(tree.root / "intel-rapl:0")
    with pytest.raises(DeviceLost):
        dev.read_energy_j()
