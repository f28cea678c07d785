"""Apple Silicon: IOReport counters through a fake zeus_apple_silicon, and the powermetrics fallback
through a fake ``powermetrics`` executable that prints the real text format."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from tests.fakes.apple import FakeAppleSilicon
from tests.fakes.device_harness import install_clock, measure
from tests.fakes.nvml import FakeClock, Power
from wattsup.errors import DeviceLost, DeviceNotFound, DeviceNotSupported, DevicePermissionDenied, SensorStuck
from wattsup.sensors import apple

FIELDS = {
    "cpu_total_mj": Power.steps([(0.0, 4.0), (1002.0, 18.0)]),
    "gpu_mj": Power.steps([(0.0, 0.5), (1003.0, 22.0)]),
    "gpu_sram_mj": 0.3,
    "ane_mj": 0.0,
    "dram_mj": 1.2,
}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    monkeypatch.setattr(apple, "_on_apple_silicon", lambda: True)
    return install_clock(monkeypatch, FakeClock())


def test_ioreport_counters_give_each_components_energy(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    fake = FakeAppleSilicon(clock, FIELDS).install(monkeypatch)
    devs = {d.component: d for d in apple.discover().devices}
    assert set(devs) == {"cpu", "gpu:0", "ane", "dram"}
    assert all(d.method == "counter" and d.identity.vendor == "Apple" for d in devs.values())
    for comp, fields in (
        ("cpu", ["cpu_total_mj"]),
        ("gpu:0", ["gpu_mj", "gpu_sram_mj"]),
        ("dram", ["dram_mj"]),
    ):
        got, a, b = measure(devs[comp], clock, 5.0)
        true = sum(fake.true_joules(f, a, b) for f in fields)
        assert abs(got - true) <= devs[comp].error_bound_j(true)
    assert measure(devs["ane"], clock, 10.0)[0] == 0.0  # an idle Neural Engine: zero, and not "stuck"


def test_chip_without_a_counter_lists_only_what_it_has(
    monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    FakeAppleSilicon(clock, {"cpu_total_mj": 5.0, "gpu_mj": 1.0}).install(monkeypatch)
    assert [d.component for d in apple.discover().devices] == ["cpu", "gpu:0"]


def test_ioreport_faults(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    fake = FakeAppleSilicon(clock, FIELDS).install(monkeypatch)
    devs = {d.component: d for d in apple.discover().devices}
    cpu = devs["cpu"]
    cpu.read_energy_j()
    clock.advance(2.0)
    cpu.read_energy_j()
    fake.frozen["cpu_total_mj"] = fake.metrics().cpu_total_mj or 0
    clock.advance(6.0)
    with pytest.raises(SensorStuck):
        cpu.read_energy_j()
    del fake.frozen["cpu_total_mj"]
    fake.t0 = clock.monotonic()  # the counters restart (a new IOReport subscription)
    fake.power["cpu_total_mj"] = Power.steady(10.0)
    clock.advance(0.5)
    cpu.read_energy_j()
    assert cpu.resets == 1
    fake.read_error = "IOReport channel vanished"
    clock.advance(1.0)
    with pytest.raises(DeviceLost, match="IOReport stopped answering"):
        cpu.read_energy_j()


def test_no_ioreport_and_not_root_says_what_to_do(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> None:
    FakeAppleSilicon(clock, FIELDS, init_error="IOReport unavailable").install(monkeypatch)
    monkeypatch.setattr(apple.shutil, "which", lambda name: "/usr/bin/powermetrics")
    monkeypatch.setattr(apple.os, "geteuid", lambda: 501)
    with pytest.raises(DeviceNotSupported, match="powermetrics needs root"):
        apple.discover()
    monkeypatch.setattr(apple, "_on_apple_silicon", lambda: False)
    with pytest.raises(DeviceNotFound, match="not macOS"):
        apple.discover()


POWERMETRICS_OUTPUT = """Machine model: Mac14,6
*** Sampled system activity (Fri Dec  5 10:00:00 2026 +0000) (100.12ms elapsed) ***

**** Processor usage ****

E-Cluster HW active frequency: 1020 MHz
CPU Power: {cpu} mW
GPU Power: {gpu} mW
ANE Power: 0 mW
Combined Power (CPU + GPU + ANE): {total} mW
"""


def test_parse_powermetrics_text() -> None:
    text = POWERMETRICS_OUTPUT.format(cpu=2345, gpu=12000, total=14345)
    assert apple.parse_powermetrics(text.splitlines()) == {"CPU": 2.345, "GPU": 12.0, "ANE": 0.0}


def test_powermetrics_fallback_as_root_streams_power(tmp_path: Path) -> None:
    script = tmp_path / "powermetrics"
    samples = "".join(POWERMETRICS_OUTPUT.format(cpu=1000 + k, gpu=8000, total=9000 + k) for k in range(3))
    script.write_text(
        f"#!{sys.executable}\nimport sys, time\n"
        f"assert sys.argv[1:3] == ['--samplers', 'cpu_power,gpu_power,ane_power'], sys.argv\n"
        f"sys.stdout.write({samples!r})\nsys.stdout.flush()\ntime.sleep(30)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    probe = apple.discover_powermetrics(str(script), is_root=True)
    devs = {d.component: d for d in probe.devices}
    try:
        assert set(devs) == {"cpu", "gpu:0", "ane"}
        assert devs["gpu:0"].read_power_w() == 8.0 and devs["gpu:0"].method == "sampled"
        assert devs["cpu"].read_power_w() in (1.0, 1.001, 1.002)
    finally:
        for d in devs.values():
            d.close()
    rail = devs["cpu"]
    assert isinstance(rail, apple.PowermetricsRail)
    rail.stream.proc.wait(timeout=5)
    rail.stream._thread.join(timeout=5)  # the reader has seen the end of the stream
    with pytest.raises(DeviceLost, match="powermetrics stopped"):
        rail.read_power_w()


def test_powermetrics_refuses_without_root() -> None:
    with pytest.raises(DevicePermissionDenied, match="needs root"):
        apple.discover_powermetrics("/usr/bin/powermetrics", is_root=False)
