"""The registry: every vendor's source gets a status (available or not, and why), devices from several
vendors coexist with unique components, and importing wattsup and running ``wattsup doctor`` need no
vendor library at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.amdsmi import FakeAmdGpu, FakeAmdSmi
from tests.fakes.device_harness import install_clock
from tests.fakes.nvml import FakeClock
from tests.fakes.sysfs_devices import JETSON_ORIN_NX, FakeAmdEnergy, FakeIntelHwmon, FakeJetson, FakeNeuron
from tests.support.processes import SRC
from wattsup.sensors import amd, apple
from wattsup.sensors.devices import SOURCES, discover_devices

NO_VENDOR_LIBS = (
    "import sys\nfor m in ('pynvml', 'amdsmi', 'zeus_apple_silicon'):\n    sys.modules[m] = None\n"
)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    monkeypatch.setattr(amd._library, "refs", 0)
    monkeypatch.delenv("WATTSUP_NEURON_TDP_W", raising=False)
    monkeypatch.setattr(apple, "_on_apple_silicon", lambda: False)
    return install_clock(monkeypatch, FakeClock())


def test_every_source_has_a_status_and_devices_coexist(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_nvml: object
) -> None:
    FakeAmdSmi([FakeAmdGpu()], clock).install(monkeypatch)
    FakeIntelHwmon(tmp_path, clock)
    FakeJetson(
        tmp_path,
        clock,
        {"VDD_IN": 9.0, "VDD_CPU_GPU_CV": 3.0, "VDD_SOC": 2.0},
        sensor_labels=(JETSON_ORIN_NX,),
    )
    FakeNeuron(tmp_path, clock, 40.0)
    FakeAmdEnergy(tmp_path, clock)
    found = discover_devices(sysfs_root=tmp_path)
    try:
        status = {s.source: s for s in found.sources}
        assert list(status) == [s.name for s in SOURCES]
        assert status["nvml"].available is False and status["nvml"].error == "DriverNotLoaded"
        assert status["ioreport"].available is False and "not macOS" in status["ioreport"].reason
        assert status["rapl"].available is False and "powercap" in status["rapl"].reason
        for name in ("amdsmi", "intel-hwmon", "ina3221", "neuron-sysfs", "amd_energy"):
            assert status[name].available, status[name]
        comps = [d.component for d in found.devices]
        assert len(comps) == len(set(comps))
        # AMD took gpu:0 first; the Intel GPU keeps its index, renamed so the two never merge
        assert "gpu:0" in comps and "gpu:0:i915" in comps
        assert {"jetson:vdd_in", "neuron:0", "cpu"} <= set(comps)
        for dev in found.devices:
            st = dev.status()
            assert st.available and st.method in ("counter", "sampled", "modeled") and st.detail
    finally:
        found.close()


def test_unknown_source_name_is_refused() -> None:
    with pytest.raises(ValueError, match="known: nvml"):
        discover_devices(sources=["cuda"])


def test_a_misbehaving_vendor_library_does_not_break_discovery(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    smi = FakeAmdSmi([FakeAmdGpu()], clock).install(monkeypatch)

    def broken() -> list[object]:
        raise KeyError("boom")

    monkeypatch.setattr(smi.module, "amdsmi_get_processor_handles", broken)
    found = discover_devices(sources=["amdsmi"])
    (st,) = found.sources
    assert not st.available and "unexpected KeyError" in st.reason
    assert amd._library.refs == 0


def test_import_and_doctor_work_without_any_vendor_library(tmp_path: Path) -> None:
    FakeIntelHwmon(tmp_path, FakeClock(), driver="xe")
    code = NO_VENDOR_LIBS + (
        "import wattsup, wattsup.sensors.devices\n"
        "from wattsup.cli import main\n"
        "sys.argv = ['wattsup', 'doctor', '--json']\n"
        "main()\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "WATTSUP_SYSFS_ROOT": str(tmp_path),
        "CUDA_VISIBLE_DEVICES": "",
    }
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    vendor_rows = {r["source"]: r for r in rows if "vendor" in r}
    assert set(vendor_rows) == {s.name for s in SOURCES}
    assert vendor_rows["amdsmi"]["available"] is False and "wattsup[amd]" in vendor_rows["amdsmi"]["detail"]
    assert vendor_rows["nvml"]["available"] is False and "wattsup[gpu]" in vendor_rows["nvml"]["detail"]
    assert (
        vendor_rows["intel-hwmon"]["available"] is True and vendor_rows["intel-hwmon"]["component"] == "gpu:0"
    )
