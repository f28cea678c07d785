"""GPU utilisation during a window: NVML's ``nvmlDeviceGetUtilizationRates`` (percent of the last sample
period in which a kernel ran) sampled every 100 ms from a thread, for the GPUs this process may use."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

from wattsup.errors import SensorUnavailable
from wattsup.serving.results import Figure

__all__ = ["UtilisationSampler"]

METHOD = "nvml utilization rates (sampled)"


class UtilisationSampler:
    def __init__(self, period_s: float = 0.1) -> None:
        self.period_s = period_s
        self.samples: list[tuple[float, float]] = []
        self.reason: str | None = None
        self._handles: list[Any] = []
        self._nv: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            from wattsup.sensors import nvml

            nv = nvml.acquire()
        except SensorUnavailable as e:
            self.reason = str(e)
            return
        try:
            self._handles = [nv.nvmlDeviceGetHandleByIndex(i) for i in nvml.visible_indices(nv)]
        except nv.NVMLError as e:
            self.reason = f"NVML gave no GPU handles ({e})"
        self._nv = nv
        if not self._handles and self.reason is None:
            self.reason = "no NVIDIA GPU is visible to this process"

    def start(self) -> None:
        if self._handles:
            self._thread = threading.Thread(target=self._loop, name="wattsup-gpu-util", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        nv = self._nv
        while not self._stop.is_set():
            try:
                pct = [float(nv.nvmlDeviceGetUtilizationRates(h).gpu) for h in self._handles]
            except nv.NVMLError as e:
                self.reason = f"NVML utilisation read failed ({e})"
                return
            self.samples.append((time.monotonic(), statistics.fmean(pct)))
            self._stop.wait(self.period_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._nv is not None:
            from wattsup.sensors import nvml

            nvml.release()
            self._nv = None

    def figure(self, a: float | None, b: float | None) -> Figure:
        """Mean utilisation (%) of the visible GPUs over ``[a, b]``; None with the reason where unknown."""
        if not self._handles:
            return Figure(value=None, method="unavailable", note=self.reason or "no GPU")
        if a is None or b is None:
            return Figure(value=None, method=METHOD, note="no steady-state window")
        inside = [v for t, v in self.samples if a <= t <= b]
        if not inside:
            return Figure(value=None, method=METHOD, note=self.reason or "no sample fell inside the window")
        return Figure(
            value=statistics.fmean(inside),
            method=METHOD,
            note=f"mean of {len(inside)} samples over {len(self._handles)} GPU(s)",
        )
