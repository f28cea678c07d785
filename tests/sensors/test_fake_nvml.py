"""The fake NVML keeps to the real nvidia-ml-py API, so that drift of that API breaks the tests."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from unittest import mock

import pynvml
import pytest

from tests.fakes.nvml import NVML_FUNCTIONS, FakeClock, FakeGpu, FakeHandle, FakeNvml, Power

MakeNvml = Callable[..., FakeNvml]


def test_every_faked_function_exists_with_the_real_signature(fake_nvml: MakeNvml) -> None:
    real = {name: inspect.signature(getattr(pynvml, name)) for name in NVML_FUNCTIONS}
    fake = fake_nvml([FakeGpu()])
    for name in NVML_FUNCTIONS:
        assert getattr(pynvml, name) is fake.mocks[name]
        assert inspect.signature(getattr(pynvml, name)) == real[name], name


def test_calls_the_binding_would_refuse_fail(fake_nvml: MakeNvml) -> None:
    fake_nvml([FakeGpu()])
    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    with pytest.raises(TypeError):
        pynvml.nvmlDeviceGetSamples(h, pynvml.NVML_TOTAL_POWER_SAMPLES)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        pynvml.nvmlDeviceGetTotalEnergyConsumption(h, 0)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        pynvml.nvmlDeviceGetSamples(device=h, samplingType=0, timeStamp=0)  # type: ignore[call-arg]
    pynvml.nvmlShutdown()


def test_a_function_missing_from_the_binding_cannot_be_faked() -> None:
    with (
        pytest.raises(AttributeError),
        mock.patch.object(pynvml, "nvmlDeviceGetTotalEnergyV9", autospec=True),
    ):
        pass


def test_uninstall_restores_the_binding() -> None:
    original = pynvml.nvmlDeviceGetSamples
    with FakeNvml([FakeGpu()]):
        assert pynvml.nvmlDeviceGetSamples is not original
    assert pynvml.nvmlDeviceGetSamples is original


def test_errors_are_the_bindings_classes(fake_nvml: MakeNvml) -> None:
    fake_nvml([FakeGpu(counter=False, samples=True, buffer_s=0.0)])
    with pytest.raises(pynvml.NVMLError_Uninitialized):
        pynvml.nvmlDeviceGetCount()
    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    with pytest.raises(pynvml.NVMLError_NotSupported) as e:
        pynvml.nvmlDeviceGetTotalEnergyConsumption(h)
    assert e.value.value == pynvml.NVML_ERROR_NOT_SUPPORTED and str(e.value) == "Not Supported"
    with pytest.raises(pynvml.NVMLError_NotFound):
        pynvml.nvmlDeviceGetSamples(h, pynvml.NVML_TOTAL_POWER_SAMPLES, 0)
    with pytest.raises(pynvml.NVMLError_InvalidArgument):
        pynvml.nvmlDeviceGetHandleByIndex(1)
    pynvml.nvmlShutdown()


def test_init_failure(fake_nvml: MakeNvml) -> None:
    fake_nvml([], init_error=pynvml.NVMLError_LibraryNotFound)
    with pytest.raises(pynvml.NVMLError_LibraryNotFound):
        pynvml.nvmlInit()


def test_counter_follows_the_true_energy(fake_nvml: MakeNvml) -> None:
    clock = FakeClock()
    power = Power.steps([(0.0, 120.0), (1000.33, 480.0)])
    fake = fake_nvml([FakeGpu(power=power, counter_read_s=0.0)], clock=clock)
    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    start = pynvml.nvmlDeviceGetTotalEnergyConsumption(h)
    t0 = clock.now
    clock.advance(1.0)
    gained_j = (pynvml.nvmlDeviceGetTotalEnergyConsumption(h) - start) / 1000
    # the counter lags the truth by less than one 100 ms step at either end
    assert abs(gained_j - fake.true_joules(0, t0, clock.now)) <= 0.1 * 480 + 0.002
    samples = pynvml.nvmlDeviceGetSamples(h, pynvml.NVML_TOTAL_POWER_SAMPLES, 0)[1]
    assert {s.sampleValue.uiVal for s in samples} == {120_000, 480_000}
    assert isinstance(h, FakeHandle)
    pynvml.nvmlShutdown()


def test_power_profiles_integrate_exactly() -> None:
    steps = Power.steps([(0.0, 100.0), (10.0, 300.0), (20.0, 50.0)])
    assert steps.joules(5.0, 25.0) == pytest.approx(5 * 100 + 10 * 300 + 5 * 50)
    assert steps.joules(25.0, 5.0) == pytest.approx(-(5 * 100 + 10 * 300 + 5 * 50))
    assert steps.watts(-1.0) == 100.0 and steps.watts(10.0) == 300.0
    ramp = Power(lambda t: 2.0 * t)
    assert ramp.joules(0.0, 3.0) == pytest.approx(9.0)
    assert Power.of(7.0).joules(0.0, 2.0) == pytest.approx(14.0)
