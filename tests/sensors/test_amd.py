"""AMD GPUs through a fake amdsmi: both result layouts, the socket-power fallback, MI250X's odd die,
and the fault cases (stuck counter, reset, device lost, permission denied, no driver)."""

from __future__ import annotations

import pytest

from tests.fakes.amdsmi import FakeAmdGpu, FakeAmdSmi
from tests.fakes.device_harness import install_clock, measure
from tests.fakes.nvml import FakeClock, Power
from wattsup.errors import (
    DeviceLost,
    DeviceNotSupported,
    DevicePermissionDenied,
    DriverNotLoaded,
    SensorStuck,
    SensorUnavailable,
)
from wattsup.sensors import amd

TRACE = Power.steps([(0.0, 120.0), (1003.0, 650.0), (1007.5, 300.0)])


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    monkeypatch.setattr(amd._library, "refs", 0)
    for var in ("HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"):
        monkeypatch.delenv(var, raising=False)
    return install_clock(monkeypatch, FakeClock())


def fake(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock, gpus: list[FakeAmdGpu], **kw: object
) -> FakeAmdSmi:
    return FakeAmdSmi(gpus, clock, **kw).install(monkeypatch)  # type: ignore[arg-type]


@pytest.mark.parametrize("api", ["6.0", "6.2.1", "7.x"])
def test_counter_gives_the_trace_energy_with_every_result_layout(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock, api: str
) -> None:
    smi = fake(monkeypatch, clock, [FakeAmdGpu(power=TRACE)], api=api)
    probe = amd.discover()
    (gpu,) = probe.devices
    assert gpu.component == "gpu:0" and gpu.method == "counter" and gpu.identity.vendor == "AMD"
    assert gpu.signal.unit_j == pytest.approx(15.3e-6)
    assert ("'power'" if api == "6.0" else "'energy_accumulator'") in gpu.detail
    got, a, b = measure(gpu, clock, 10.0)
    true = smi.gpus[0].power.joules(a, b)  # type: ignore[union-attr]
    assert abs(got - true) <= gpu.error_bound_j(true)
    assert got == pytest.approx(true, abs=2 * 15.3e-6)
    gpu.close()
    assert smi.inits == 0


@pytest.mark.parametrize("counter_value", ["N/A", 0])
def test_missing_counter_falls_back_to_current_socket_power(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock, counter_value: object
) -> None:
    smi = fake(monkeypatch, clock, [FakeAmdGpu(power=TRACE, counter_value=counter_value)])
    (gpu,) = amd.discover().devices
    assert gpu.method == "sampled" and gpu.signal.kind == "power"
    assert "current_socket_power" in gpu.detail and repr(counter_value) in gpu.detail
    got, a, b = measure(gpu, clock, 10.0, interval_s=0.05)
    true = smi.gpus[0].power.joules(a, b)  # type: ignore[union-attr]
    assert abs(got - true) <= gpu.error_bound_j(true)


def test_unsupported_counter_and_no_instant_power_use_average_socket_power(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    fake(
        monkeypatch,
        clock,
        [FakeAmdGpu(name="AMD Instinct MI210", power=250.0, counter=False, current_power=False)],
    )
    (gpu,) = amd.discover().devices
    assert "average_socket_power" in gpu.detail and "not supported" in gpu.detail
    assert gpu.signal.averaging_window_s is None  # amdsmi does not state the window: said, not invented
    clock.advance(2.0)
    assert gpu.read_power_w() == 250.0


def test_no_signal_at_all_is_a_typed_problem_not_zero_watts(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    fake(monkeypatch, clock, [FakeAmdGpu(counter=False, current_power=False, average_power=False)])
    probe = amd.discover()
    assert probe.devices == []
    ((comp, err),) = probe.problems
    assert comp == "gpu:0" and isinstance(err, DeviceNotSupported)
    assert "no energy or power signal" in str(err)


def test_mi250x_odd_die_reports_no_power_of_its_own(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    name = "AMD Instinct MI250X"
    smi = fake(
        monkeypatch,
        clock,
        [
            FakeAmdGpu(name=name, power=480.0),
            FakeAmdGpu(name=name, power=0.0, counter_value=0, current_power=False, average_power=False),
        ],
    )
    probe = amd.discover()
    (even,) = probe.devices
    (odd,) = probe.unmeasured
    assert even.includes == ("gpu:1",) and "both dies" in even.detail
    assert odd.included_in == "gpu:0" and odd.signal.kind == "none" and odd.method is None
    assert "gpu:0" in odd.detail and "no power of its own" in odd.detail
    with pytest.raises(DeviceNotSupported, match="no power of its own"):
        odd.read_power_w()
    with pytest.raises(DeviceNotSupported):
        odd.read_energy_j()
    status = odd.status()
    assert status.available is False and status.extra["included_in"] == "gpu:0"
    for d in (*probe.devices, *probe.unmeasured):
        d.close()
    assert smi.inits == 0


def test_stuck_counter_raises_and_keeps_the_energy_so_far(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    smi = fake(monkeypatch, clock, [FakeAmdGpu(power=400.0)])
    (gpu,) = amd.discover().devices
    gpu.read_energy_j()
    clock.advance(1.0)
    before = gpu.read_energy_j()
    assert before == pytest.approx(400.0, abs=0.01)
    smi.gpus[0].frozen_count = smi.count(0)
    clock.advance(3.0)
    assert gpu.read_energy_j() == before  # not moving yet within the limit: nothing invented
    clock.advance(3.0)
    with pytest.raises(SensorStuck, match=r"has not moved for 6\.0 s"):
        gpu.read_energy_j()


def test_counter_reset_is_counted_from_zero(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    smi = fake(monkeypatch, clock, [FakeAmdGpu(power=300.0, reset_at=clock.monotonic() + 2.0)])
    (gpu,) = amd.discover().devices
    got, a, b = measure(gpu, clock, 5.0)
    assert gpu.resets == 1
    # the energy between the last read before the reset and the reset itself is lost (at most one poll)
    assert got == pytest.approx(smi.gpus[0].power.joules(a, b), abs=300.0 * 0.05 + 1e-3)  # type: ignore[union-attr]


def test_device_lost_mid_run_is_a_typed_error(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    smi = fake(monkeypatch, clock, [FakeAmdGpu()])
    (gpu,) = amd.discover().devices
    gpu.read_energy_j()
    smi.gpus[0].read_error = 31  # AMDSMI_STATUS_NOT_FOUND once it is being read: gone
    with pytest.raises(DeviceLost, match="went away"):
        gpu.read_energy_j()


def test_permission_denied_says_what_to_do(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    fake(monkeypatch, clock, [FakeAmdGpu()], init_error=10)
    with pytest.raises(DevicePermissionDenied, match="'render' and 'video' groups"):
        amd.discover()
    assert amd._library.refs == 0


def test_driver_not_loaded_and_library_missing(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    fake(monkeypatch, clock, [], init_error=34)
    with pytest.raises(DriverNotLoaded, match="modprobe amdgpu"):
        amd.discover()
    monkeypatch.setitem(__import__("sys").modules, "amdsmi", None)  # import amdsmi -> ImportError
    with pytest.raises(SensorUnavailable, match=r"wattsup\[amd\]"):
        amd.discover()


def test_hip_visible_devices_is_honoured(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    fake(monkeypatch, clock, [FakeAmdGpu(), FakeAmdGpu(), FakeAmdGpu()])
    monkeypatch.setenv("HIP_VISIBLE_DEVICES", "2,0")
    probe = amd.discover()
    assert [d.component for d in probe.devices] == ["gpu:0", "gpu:2"]
    assert amd.visible_indices(3, {"CUDA_VISIBLE_DEVICES": "1,x,2"}) == [1]
