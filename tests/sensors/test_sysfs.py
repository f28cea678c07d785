"""The sysfs devices on fake trees laid out as the kernels lay them out: Intel i915/xe hwmon, AMD's
amd_energy, Jetson INA3221 rails and AWS Neuron; each driven by a synthetic power trace, and each one's
fault cases (stuck, reset, device lost, permission denied, driver missing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.device_harness import install_clock, measure
from tests.fakes.nvml import FakeClock, Power
from tests.fakes.powercap import deny_reads
from tests.fakes.sysfs_devices import (
    JETSON_AGX_ORIN,
    JETSON_ORIN_NX,
    FakeAmdEnergy,
    FakeIntelHwmon,
    FakeJetson,
    FakeNeuron,
)
from wattsup.errors import (
    DeviceLost,
    DeviceNotFound,
    DevicePermissionDenied,
    DriverNotLoaded,
    SensorStuck,
    SensorUnavailable,
)
from wattsup.sensors import cpu, intel, jetson, neuron

TRACE = Power.steps([(0.0, 90.0), (1002.0, 420.0), (1006.0, 150.0)])


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    monkeypatch.delenv("WATTSUP_NEURON_TDP_W", raising=False)
    return install_clock(monkeypatch, FakeClock())


# --------------------------------------------------------------------------- Intel


@pytest.mark.parametrize("driver", ["i915", "xe"])
def test_intel_counter_gives_the_trace_energy(tmp_path: Path, clock: FakeClock, driver: str) -> None:
    hw = FakeIntelHwmon(tmp_path, clock, TRACE, driver=driver)
    (gpu,) = intel.discover(tmp_path).devices
    assert gpu.component == "gpu:0" and gpu.method == "counter" and gpu.identity.source == driver
    assert gpu.identity.uuid == "0000:29:00.0" and gpu.max_power_w == pytest.approx(900.0)
    assert "card energy" in gpu.detail
    got, a, b = measure(gpu, clock, 10.0, update=hw.update)
    true = hw.true_joules(a, b)
    assert abs(got - true) <= gpu.error_bound_j(true)


def test_intel_faults(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    hw = FakeIntelHwmon(tmp_path, clock, 200.0)
    (gpu,) = intel.discover(tmp_path).devices
    got, a, _ = measure(gpu, clock, 2.0, update=hw.update)
    hw.reset()  # driver reload: the counter restarts near zero
    more, _, c = measure(gpu, clock, 2.0, update=hw.update)
    assert gpu.resets == 1
    assert got + more == pytest.approx(hw.true_joules(a, c), abs=200.0 * 0.05 + 1e-3)
    hw.frozen = hw.value_uj()  # stuck register
    with pytest.raises(SensorStuck):
        measure(gpu, clock, 6.0, update=hw.update)
    deny_reads(monkeypatch, hw.energy_file)
    with pytest.raises(DevicePermissionDenied, match="sudo chmod a\\+r"):
        gpu.read_energy_j()
    with pytest.raises(DevicePermissionDenied):
        intel.discover(tmp_path)
    monkeypatch.undo()
    hw.remove()  # the GPU fell off the bus: its hwmon directory is gone
    with pytest.raises(DeviceLost):
        gpu.read_energy_j()


def test_intel_integrated_gpu_and_no_driver(tmp_path: Path, clock: FakeClock) -> None:
    with pytest.raises(DriverNotLoaded):
        intel.discover(tmp_path)
    hw = FakeIntelHwmon(tmp_path, clock)
    (hw.dir / "energy1_input").unlink()
    with pytest.raises(DeviceNotFound, match="integrated GPU"):
        intel.discover(tmp_path)


# --------------------------------------------------------------------------- amd_energy


def test_amd_energy_sockets_sum_to_the_trace(tmp_path: Path, clock: FakeClock) -> None:
    fake = FakeAmdEnergy(tmp_path, clock, TRACE, sockets=2)
    (dev,) = cpu.discover_amd_energy(tmp_path).devices
    assert (
        dev.component == "cpu" and dev.identity.source == "amd_energy" and "memory is modelled" in dev.detail
    )
    got, a, b = measure(dev, clock, 10.0, update=fake.update)
    assert abs(got - fake.true_joules(a, b)) <= dev.error_bound_j(got)


def test_amd_energy_permission_and_absence(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "class" / "hwmon").mkdir(parents=True)
    with pytest.raises(DriverNotLoaded, match="amd_energy driver is not loaded"):
        cpu.discover_amd_energy(tmp_path)
    fake = FakeAmdEnergy(tmp_path, clock)
    deny_reads(monkeypatch, *fake.socket_files)
    with pytest.raises(DevicePermissionDenied, match="chmod a\\+r"):
        cpu.discover_amd_energy(tmp_path)


# --------------------------------------------------------------------------- Jetson


@pytest.mark.parametrize("layout", ["hwmon", "iio"])
def test_jetson_rails_are_sampled_per_rail(tmp_path: Path, clock: FakeClock, layout: str) -> None:
    rails = {"VDD_IN": TRACE, "VDD_CPU_GPU_CV": Power.steps([(0.0, 4.0), (1004.0, 11.0)]), "VDD_SOC": 3.0}
    fake = FakeJetson(tmp_path, clock, rails, layout=layout, sensor_labels=(JETSON_ORIN_NX,))
    devs = {d.component: d for d in jetson.discover(tmp_path).devices}
    assert set(devs) == {"jetson:vdd_in", "jetson:vdd_cpu_gpu_cv", "jetson:vdd_soc"}
    total = devs["jetson:vdd_in"]
    assert total.includes == ("jetson:vdd_cpu_gpu_cv", "jetson:vdd_soc") and total.included_in is None
    assert devs["jetson:vdd_soc"].included_in == "jetson:vdd_in"
    for label in rails:
        dev = devs[f"jetson:{label.lower()}"]
        assert dev.method == "sampled" and dev.signal.kind == "power"
    # one rail at a time (each measure() advances the shared clock)
    for label in rails:
        dev = devs[f"jetson:{label.lower()}"]
        got, a, b = measure(dev, clock, 5.0, interval_s=0.1, update=fake.update)
        true = fake.true_joules(label, a, b)
        assert abs(got - true) <= dev.error_bound_j(true)


def test_jetson_agx_orin_skips_unconnected_channels(tmp_path: Path, clock: FakeClock) -> None:
    rails = {"VDD_GPU_SOC": 20.0, "VDD_CPU_CV": 6.0, "VIN_SYS_5V0": 5.0, "VDDQ_VDD2_1V8AO": 1.5}
    FakeJetson(tmp_path, clock, rails, sensor_labels=JETSON_AGX_ORIN)
    devs = {d.component: d for d in jetson.discover(tmp_path).devices}
    assert set(devs) == {
        "jetson:vdd_gpu_soc",
        "jetson:vdd_cpu_cv",
        "jetson:vin_sys_5v0",
        "jetson:vddq_vdd2_1v8ao",
    }
    assert devs["jetson:vin_sys_5v0"].includes  # the 5 V system input is the total on AGX Orin
    assert devs["jetson:vdd_gpu_soc"].read_power_w() == pytest.approx(20.0, rel=1e-3)


def test_jetson_faults(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DriverNotLoaded, match="not a Jetson"):
        jetson.discover(tmp_path)
    fake = FakeJetson(tmp_path, clock, {"VDD_IN": 7.0})
    (dev,) = jetson.discover(tmp_path).devices
    volt, curr = fake.files["VDD_IN"]
    deny_reads(monkeypatch, curr)
    with pytest.raises(DevicePermissionDenied, match="chmod a\\+r"):
        dev.read_power_w()
    with pytest.raises(DevicePermissionDenied):
        jetson.discover(tmp_path)
    monkeypatch.undo()
    curr.write_text("garbage\n")
    with pytest.raises(SensorUnavailable, match="not a number"):
        dev.read_power_w()
    volt.unlink()
    with pytest.raises(DeviceLost):
        dev.read_power_w()


# --------------------------------------------------------------------------- Neuron


def test_neuron_is_a_modelled_estimate_within_its_bound(tmp_path: Path, clock: FakeClock) -> None:
    trace = Power.steps([(0.0, 40.0), (1200.0, 85.0), (1500.0, 30.0)])
    fake = FakeNeuron(tmp_path, clock, trace, tdp_w=100.0, count=2)
    devs = neuron.discover(tmp_path).devices
    assert [d.component for d in devs] == ["neuron:0", "neuron:1"]
    dev = devs[0]
    assert dev.method == "modeled" and dev.identity.vendor == "AWS"
    assert "estimate, not a measurement" in dev.detail and "100 W" in dev.detail
    assert dev.signal.averaging_window_s == 60.0 and dev.signal.refresh_s == 60.0
    got, a, b = measure(dev, clock, 900.0, interval_s=1.0, update=fake.update)
    true = trace.joules(a, b)
    assert abs(got - true) <= dev.error_bound_j(true)
    assert dev.error_bound_j(true) >= 0.5 * true  # a wide bound: never passed off as a measurement


def test_neuron_steady_power_is_percent_times_tdp(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATTSUP_NEURON_TDP_W", "120")
    FakeNeuron(tmp_path, clock, 54.0, tdp_w=120.0, chip="trainium")
    (dev,) = neuron.discover(tmp_path).devices
    assert dev.read_power_w() == pytest.approx(54.0, abs=0.01)
    assert "WATTSUP_NEURON_TDP_W" in dev.detail


def test_neuron_unknown_tdp_is_listed_without_a_signal(tmp_path: Path, clock: FakeClock) -> None:
    FakeNeuron(tmp_path, clock, 50.0, chip="trainium")
    probe = neuron.discover(tmp_path)
    assert probe.devices == []
    (dev,) = probe.unmeasured
    assert dev.signal.kind == "none" and "WATTSUP_NEURON_TDP_W" in dev.detail


def test_neuron_faults(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DriverNotLoaded, match="not an Inferentia"):
        neuron.discover(tmp_path)
    fake = FakeNeuron(tmp_path, clock, 50.0)
    (dev,) = neuron.discover(tmp_path).devices
    dev.read_power_w()
    fake.frozen = True  # the driver stops refreshing the figure
    clock.advance(200.0)
    with pytest.raises(SensorStuck, match="not been refreshed"):
        dev.read_power_w()
    fake.frozen = False
    fake.status = "POWER_STATUS_INVALID"
    clock.advance(60.0)
    fake.update()
    with pytest.raises(SensorUnavailable, match="POWER_STATUS_INVALID"):
        dev.read_power_w()  # unknown, never 0 W
    util = fake.devs[0] / "stats" / "power" / "utilization"
    deny_reads(monkeypatch, util)
    with pytest.raises(DevicePermissionDenied):
        dev.read_power_w()
    monkeypatch.undo()
    util.unlink()
    with pytest.raises(DeviceLost):
        dev.read_power_w()


def test_one_unreadable_rail_is_a_problem_not_the_whole_board(tmp_path: Path, clock: FakeClock) -> None:
    fake = FakeJetson(tmp_path, clock, {"VDD_IN": 9.0, "VDD_CPU_GPU_CV": 3.0, "VDD_SOC": 2.0})
    fake.files["VDD_SOC"][1].write_text("not-a-current\n")
    probe = jetson.discover(tmp_path)
    assert [d.component for d in probe.devices] == ["jetson:vdd_in", "jetson:vdd_cpu_gpu_cv"]
    ((comp, err),) = probe.problems
    assert comp == "jetson:vdd_soc" and "not a number" in str(err)


def test_amd_energy_stuck_and_lost(tmp_path: Path, clock: FakeClock) -> None:
    fake = FakeAmdEnergy(tmp_path, clock, 150.0)
    (dev,) = cpu.discover_amd_energy(tmp_path).devices
    dev.read_energy_j()
    clock.advance(6.0)  # the files are not updated: the driver's counters stopped
    with pytest.raises(SensorStuck):
        dev.read_energy_j()
    fake.socket_files[0].unlink()
    with pytest.raises(DeviceLost):
        dev.read_energy_j()
