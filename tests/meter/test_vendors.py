"""Other vendors' devices go through the same meter as NVIDIA's (issue 20 on issue 13's sampler): an AMD
GPU behind a fake amdsmi, discovered by ``sources.discover``, metered by ``Meter`` on the fake clock, its
energy within its bound, and a device lost mid-window a labelled partial figure, never 0 J."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.amdsmi import FakeAmdGpu, FakeAmdSmi
from tests.fakes.device_harness import install_clock
from tests.fakes.manual_sampler import ManualSampler
from tests.fakes.nvml import FakeClock, FakeNvml
from tests.fakes.powercap import PowercapTree
from wattsup.meter import Meter, sources
from wattsup.meter.guard import GuardedTrack
from wattsup.sensors import amd

AMDSMI_STATUS_NOT_FOUND = 31  # what amdsmi raises for a GPU gone from the bus


@pytest.fixture
def amd_rig(
    monkeypatch: pytest.MonkeyPatch, fake_clock: FakeClock, no_nvml: FakeNvml, tmp_path: Path
) -> tuple[FakeAmdSmi, ManualSampler]:
    PowercapTree(tmp_path / "powercap")  # no RAPL here
    monkeypatch.setenv("WATTSUP_POWERCAP_ROOT", str(tmp_path / "powercap"))
    monkeypatch.setattr(amd._library, "refs", 0)
    for var in ("HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"):
        monkeypatch.delenv(var, raising=False)
    install_clock(monkeypatch, fake_clock)
    smi = FakeAmdSmi([FakeAmdGpu(power=450.0)], fake_clock).install(monkeypatch)  # type: ignore[arg-type]
    found = sources.discover(cpu=False, ram=False)
    assert [t.name for t in found.tracks] == ["gpu:0"]
    assert isinstance(found.tracks[0], GuardedTrack) and found.tracks[0].method == "counter"
    assert any(s.source == "amdsmi" and s.available for s in found.statuses)
    return smi, ManualSampler(found.tracks, fake_clock)


def test_an_amd_gpu_is_metered_like_an_nvidia_one(
    amd_rig: tuple[FakeAmdSmi, ManualSampler], fake_clock: FakeClock
) -> None:
    _, s = amd_rig
    with Meter(sources=s, sync=None) as m:
        s.advance(3.0)
    meas = m.measurement
    assert meas is not None
    gpu = meas.component("gpu:0")
    truth = 450.0 * meas.duration_s
    assert abs(gpu.energy_j - truth) <= gpu.error_bound_j + 0.01 * truth
    assert "amdsmi" in gpu.detail and not gpu.partial


def test_an_amd_gpu_lost_mid_window_is_partial_not_zero(
    amd_rig: tuple[FakeAmdSmi, ManualSampler], fake_clock: FakeClock
) -> None:
    smi, s = amd_rig
    m = Meter(sources=s, sync=None)
    with pytest.warns(RuntimeWarning, match="partial"):
        m.start()
        s.advance(2.0)
        smi.gpus[0].read_error = AMDSMI_STATUS_NOT_FOUND
        s.advance(2.0)
        meas = m.stop()
    gpu = meas.component("gpu:0")
    assert gpu.partial and 1.8 <= gpu.filled_s <= 2.2
    assert gpu.energy_j == pytest.approx(450.0 * meas.duration_s, rel=0.05)
