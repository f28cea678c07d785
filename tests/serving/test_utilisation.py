"""GPU utilisation during the steady window, against nvidia-ml-py patched with autospec (a fake NVML with the
real signatures: API drift breaks the test)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest

pynvml = pytest.importorskip("pynvml")

from wattsup.serving.utilisation import UtilisationSampler  # noqa: E402


class FakeUtilNvml:
    """GPUs with fixed utilisation percentages; ``fail_init`` makes nvmlInit raise as without a driver."""

    def __init__(self, gpu_pct: list[int], fail_init: bool = False) -> None:
        self.gpu_pct = gpu_pct
        self.fail_init = fail_init

    def nvmlInit(self) -> None:
        if self.fail_init:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_DRIVER_NOT_LOADED)

    def nvmlShutdown(self) -> None:
        return None

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpu_pct)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> Any:
        return SimpleNamespace(index=index)

    def nvmlDeviceGetUtilizationRates(self, handle: Any) -> Any:
        return SimpleNamespace(gpu=self.gpu_pct[handle.index], memory=0)


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeUtilNvml]:
    f = FakeUtilNvml(*request.param)
    with ExitStack() as stack:
        for name in (
            "nvmlInit",
            "nvmlShutdown",
            "nvmlDeviceGetCount",
            "nvmlDeviceGetHandleByIndex",
            "nvmlDeviceGetUtilizationRates",
        ):
            stack.enter_context(mock.patch.object(pynvml, name, autospec=True, side_effect=getattr(f, name)))
        yield f


def _sample(monkeypatch: pytest.MonkeyPatch, visible: str | None) -> UtilisationSampler:
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    s = UtilisationSampler(period_s=0.01)
    s.start()
    time.sleep(0.1)
    s.stop()
    return s


@pytest.mark.parametrize("fake", [([30, 70],)], indirect=True)
def test_the_mean_over_the_visible_gpus_inside_the_window(
    fake: FakeUtilNvml, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = _sample(monkeypatch, None)
    assert s.samples
    a, b = s.samples[0][0], s.samples[-1][0]
    fig = s.figure(a, b)
    assert fig.value == pytest.approx(50.0) and fig.method.startswith("nvml") and "2 GPU(s)" in fig.note
    assert s.figure(b + 1, b + 2).value is None  # no sample in that span: unknown, never zero
    assert s.figure(None, None).note == "no steady-state window"
    only = _sample(monkeypatch, "1")
    assert only.figure(only.samples[0][0], only.samples[-1][0]).value == pytest.approx(70.0)


@pytest.mark.parametrize("fake", [([50], True)], indirect=True)
def test_no_driver_is_unknown_with_the_reason(fake: FakeUtilNvml, monkeypatch: pytest.MonkeyPatch) -> None:
    s = _sample(monkeypatch, None)
    fig = s.figure(0.0, 1.0)
    assert fig.value is None and fig.method == "unavailable" and "NVML could not start" in fig.note
