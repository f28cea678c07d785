"""The NVML wrapper: lazy reference-counted init, CUDA_VISIBLE_DEVICES, the three per-GPU signals, clocks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from itertools import pairwise

import pynvml
import pytest

from tests.fakes.nvml import FakeClock, FakeGpu, FakeNvml
from wattsup.errors import SensorUnavailable
from wattsup.sensors import nvml

U0 = "GPU-3c1e2b5a-1111-4a8e-9d51-0123456789ab"
U1 = "GPU-3c1e9f00-2222-4b8e-8d51-0123456789ac"  # shares the prefix GPU-3c1e with U0
U2 = "GPU-a7d04c21-3333-4c8e-9d51-0123456789ad"
MIG = "MIG-5a7e3c1f-4444-5d2e-8f00-0123456789ae"

MakeNvml = Callable[..., FakeNvml]


@pytest.fixture
def three_gpus(fake_nvml: MakeNvml) -> FakeNvml:
    return fake_nvml([FakeGpu(uuid=U0), FakeGpu(uuid=U1), FakeGpu(uuid=U2)])


# --------------------------------------------------------------------------- init and reference counting


def test_acquire_is_reference_counted(three_gpus: FakeNvml) -> None:
    nv = nvml.acquire()
    assert nv is pynvml
    nvml.acquire()
    assert three_gpus.calls("nvmlInit") == 1
    nvml.release()
    assert three_gpus.calls("nvmlShutdown") == 0
    nvml.release()
    assert three_gpus.calls("nvmlShutdown") == 1
    assert three_gpus.initialised == 0
    nvml.release()  # one release too many: nothing happens
    assert three_gpus.calls("nvmlShutdown") == 1
    nvml.acquire()  # NVML starts again after a full shutdown
    assert three_gpus.calls("nvmlInit") == 2
    nvml.release()


def test_init_failure_says_why_and_holds_nothing(no_nvml: FakeNvml) -> None:
    with pytest.raises(SensorUnavailable) as info:
        nvml.acquire()
    msg = str(info.value)
    assert "NVML could not start" in msg
    assert "NVML Shared Library Not Found" in msg
    assert isinstance(info.value.__cause__, pynvml.NVMLError_LibraryNotFound)
    assert nvml._library.refs == 0
    with pytest.raises(SensorUnavailable):
        nvml.acquire()
    assert no_nvml.calls("nvmlInit") == 2  # tried again, not cached as a failure
    nvml.release()
    assert no_nvml.calls("nvmlShutdown") == 0


def test_missing_binding_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml now raises ImportError
    with pytest.raises(SensorUnavailable, match=r"pip install 'wattsup\[gpu\]'"):
        nvml.acquire()


def test_shutdown_errors_are_swallowed(three_gpus: FakeNvml) -> None:
    three_gpus.mocks["nvmlShutdown"].side_effect = pynvml.NVMLError_Unknown()
    nvml.acquire()
    nvml.release()
    assert nvml._library.refs == 0


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, check=False
    )


def test_no_nvml_init_at_import() -> None:
    """Importing wattsup, its meter and the NVML wrapper never starts NVML."""
    out = _run_python(
        """
        from unittest import mock
        import pynvml
        with mock.patch.object(pynvml, "nvmlInit", autospec=True) as init, \\
             mock.patch.object(pynvml, "nvmlInitWithFlags", autospec=True) as init_flags:
            import wattsup, wattsup.meter, wattsup.sensors, wattsup.sensors.nvml
            import wattsup.meter.sources, wattsup.meter.meter
            wattsup.Meter  # the lazy attribute imports the meter too
            calls = init.mock_calls + init_flags.mock_calls
        print("calls:", calls)
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "calls: []"


@pytest.mark.parametrize("module", ["wattsup.sensors", "wattsup.sensors.nvml"])
def test_sensors_import_first(module: str) -> None:
    """The sensors can be imported on their own, before anything else of wattsup."""
    out = _run_python(f"import {module}")
    assert out.returncode == 0, out.stderr.strip().splitlines()[-1]


def test_import_does_not_load_the_binding() -> None:
    out = _run_python(
        """
        import sys
        import wattsup, wattsup.meter, wattsup.sensors.nvml
        print("pynvml" in sys.modules)
        """
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- CUDA_VISIBLE_DEVICES


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", []),
        ("1", [1]),
        ("2,0", [2, 0]),
        (" 1 , 2 ", [1, 2]),
        ("0,0,1", [0, 1]),
        ("0,3,1", [0]),  # 3 names no GPU: parsing stops there, as in CUDA
        ("-1", []),
        ("1,-1,0", [1]),
        ("1,,0", [1]),
        (U2, [2]),
        (f"{U2},0", [2, 0]),
        ("GPU-a7d0", [2]),  # a unique prefix is enough
        ("a7d04c21", [2]),  # the GPU- prefix may be left out
        (U1[:13], [1]),
        ("GPU-3c1e", []),  # ambiguous prefix: names no single GPU
        ("0,GPU-3c1e,1", [0]),
        ("GPU-ffff", []),
        (f"{MIG},1", [1]),  # MIG slices are skipped: NVML measures the physical GPU
        (f"0,{MIG},2", [0, 2]),
        (f"MIG-{U0}/1/0", []),  # the older MIG-GPU-<uuid>/gi/ci form
        ("foo", []),
        ("1,foo,0", [1]),
    ],
)
def test_visible_indices(three_gpus: FakeNvml, spec: str, expected: list[int]) -> None:
    nv = nvml.acquire()
    assert nvml.visible_indices(nv, spec) == expected
    nvml.release()


def test_visible_indices_reads_the_environment(three_gpus: FakeNvml, monkeypatch: pytest.MonkeyPatch) -> None:
    nv = nvml.acquire()
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert nvml.visible_indices(nv) == [0, 1, 2]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", f"2,{U0}")
    assert nvml.visible_indices(nv) == [2, 0]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert nvml.visible_indices(nv) == []
    nvml.release()


def test_index_only_specs_do_not_read_uuids(three_gpus: FakeNvml) -> None:
    nv = nvml.acquire()
    nvml.visible_indices(nv, "1,0")
    assert three_gpus.calls("nvmlDeviceGetUUID") == 0
    nvml.release()


def test_text_accepts_bytes_from_older_bindings() -> None:
    assert nvml._text(b"NVIDIA A100-SXM4-40GB") == "NVIDIA A100-SXM4-40GB"
    assert nvml._text("GPU-x") == "GPU-x"


# --------------------------------------------------------------------------- one GPU


def test_gpu_info_probes_the_signals(fake_nvml: MakeNvml) -> None:
    fake_nvml(
        [
            FakeGpu(uuid=U0),
            FakeGpu(name="Tesla P100-PCIE-16GB", uuid=U1, counter=False, samples=False, power_limit_mw=None),
            FakeGpu(uuid=U2, buffer_s=0.0),  # supported, but nothing buffered yet (NVMLError_NotFound)
        ]
    )
    nv = nvml.acquire()
    full, old, empty = (nvml.NvmlGpu(nv, i) for i in range(3))
    assert full.info() == nvml.GpuInfo(0, "NVIDIA H100 80GB HBM3", U0, 700.0, True, True)
    assert old.info() == nvml.GpuInfo(1, "Tesla P100-PCIE-16GB", U1, None, False, False)
    assert empty.has_samples and empty.power_samples(0) == []
    with pytest.raises(pynvml.NVMLError_NotSupported):
        old.energy_mj()
    nvml.release()


def test_energy_counter_steps_every_100_ms_in_mj(fake_nvml: MakeNvml, fake_clock: FakeClock) -> None:
    fake = fake_nvml([FakeGpu(power=250.0, counter_read_s=0.0)], clock=fake_clock)
    gpu = nvml.NvmlGpu(nvml.acquire(), 0)
    values = []
    for _ in range(50):
        values.append(gpu.energy_mj())
        fake_clock.advance(0.01)
    steps = [b - a for a, b in pairwise(values) if b != a]
    assert len(steps) in (4, 5)  # 0.5 s of 10 ms reads
    assert all(abs(s - 25_000) <= 1 for s in steps)  # 250 W × 100 ms, whole mJ
    assert isinstance(values[0], int)
    assert fake.calls("nvmlDeviceGetTotalEnergyConsumption") >= 50
    nvml.release()


def test_power_samples_are_new_sorted_watts(fake_nvml: MakeNvml, fake_clock: FakeClock) -> None:
    fake = fake_nvml([FakeGpu(power=lambda t: 100.0 + (t - 1000.0) * 10)], clock=fake_clock)
    gpu = nvml.NvmlGpu(nvml.acquire(), 0)
    fake_clock.advance(0.5)
    first = gpu.power_samples(0)
    assert len(first) > 100  # the driver's buffer reaches back a few seconds
    stamps = [s for s, _ in first]
    assert stamps == sorted(stamps)
    assert all(b - a == 20_000 for a, b in pairwise(stamps))
    newest_t = fake.sample_times(0, fake_clock.now)[-1]
    assert first[-1] == (fake.stamp_us(newest_t), pytest.approx(100.0 + (newest_t - 1000.0) * 10, abs=1e-3))
    fake_clock.advance(0.1)
    new = gpu.power_samples(first[-1][0])
    assert len(new) == 5 and all(s > first[-1][0] for s, _ in new)
    assert gpu.power_samples(new[-1][0]) == []  # NVMLError_NotFound: nothing newer
    nvml.release()


def test_power_samples_sorts_and_filters_what_the_driver_returns(three_gpus: FakeNvml) -> None:
    def unsorted(device: object, sampling_type: int, timeStamp: int) -> tuple[int, list[object]]:
        def sample(ts: int, mw: int) -> object:
            v = pynvml.c_nvmlValue_t()
            v.uiVal = mw
            return pynvml.c_nvmlSample_t(ts, v)

        return pynvml.NVML_VALUE_TYPE_UNSIGNED_INT, [sample(300, 3000), sample(100, 1000), sample(200, 2000)]

    three_gpus.mocks["nvmlDeviceGetSamples"].side_effect = unsorted
    gpu = nvml.NvmlGpu(nvml.acquire(), 0)
    assert gpu.power_samples(100) == [(200, 2.0), (300, 3.0)]
    nvml.release()


def test_power_samples_other_errors_propagate(three_gpus: FakeNvml) -> None:
    gpu = nvml.NvmlGpu(nvml.acquire(), 0)
    three_gpus.mocks["nvmlDeviceGetSamples"].side_effect = pynvml.NVMLError_GpuIsLost()
    with pytest.raises(pynvml.NVMLError_GpuIsLost):
        gpu.power_samples(0)
    nvml.release()


def test_power_usage_is_milliwatts(fake_nvml: MakeNvml, fake_clock: FakeClock) -> None:
    fake_nvml([FakeGpu(power=412.5)], clock=fake_clock)
    gpu = nvml.NvmlGpu(nvml.acquire(), 0)
    assert gpu.power_mw() == 412_500
    nvml.release()


def test_device_calls_need_nvml_initialised(three_gpus: FakeNvml) -> None:
    """The fake, like NVML, refuses device calls after the last shutdown."""
    gpu = nvml.NvmlGpu(nvml.acquire(), 0)
    nvml.release()
    with pytest.raises(pynvml.NVMLError_Uninitialized):
        gpu.energy_mj()


# --------------------------------------------------------------------------- sample clock


@pytest.mark.parametrize(
    ("clock_name", "age_s"),
    [("realtime", 0.02), ("realtime", 3.0), ("monotonic", 0.02), ("boottime", 1.0), ("realtime", -0.3)],
)
def test_sample_clock_offset_finds_the_driver_clock(
    fake_clock: FakeClock, clock_name: str, age_s: float
) -> None:
    offsets = {
        "realtime": -fake_clock.realtime_offset,
        "monotonic": 0.0,
        "boottime": -fake_clock.boottime_offset,
    }
    stamp_s = fake_clock.now - age_s - offsets[clock_name]
    off = nvml.sample_clock_offset_s(round(stamp_s * 1e6))
    assert off == pytest.approx(offsets[clock_name], abs=1e-5)
    assert nvml.sample_clock_offset_s(round(stamp_s * 1e6), fake_clock.now) == off


@pytest.mark.parametrize("age_s", [3600.0, 5.5, -0.6])
def test_sample_clock_offset_none_when_no_clock_fits(fake_clock: FakeClock, age_s: float) -> None:
    stamp_s = fake_clock.time() - age_s
    assert nvml.sample_clock_offset_s(round(stamp_s * 1e6)) is None


def test_sample_clock_offset_on_the_real_clocks() -> None:
    import time

    now = time.monotonic()
    off = nvml.sample_clock_offset_s(round((time.time() - 0.02) * 1e6), now)
    assert off is not None
    assert off == pytest.approx(now - time.time(), abs=1.0)
