"""Apple Silicon (M-series) SoCs: CPU, GPU, Neural Engine and DRAM energy.

Best: IOReport energy counters through the ``zeus-apple-silicon`` package (macOS extra ``apple``; no
sudo). ``AppleEnergyMonitor().get_cumulative_energy()`` returns an ``AppleEnergyMetrics`` whose fields are
cumulative millijoules (``None`` where the chip has no such counter): ``cpu_total_mj``, ``gpu_mj``,
``gpu_sram_mj``, ``ane_mj``, ``dram_mj`` (and per-core/cluster breakdowns that the CPU total contains).
Components: ``cpu``, ``gpu:0`` (GPU + GPU SRAM), ``ane``, ``dram``; method ``counter``.

Fallback, only where the user runs as root: ``powermetrics --samplers cpu_power,gpu_power,ane_power``,
whose text output gives ``CPU Power: N mW``, ``GPU Power: N mW``, ``ANE Power: N mW`` per interval
(averages over the interval): method ``sampled``. DRAM is not in it.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import IO, Any

from wattsup import errors
from wattsup.sensors.device import EnergyDevice, Identity, Probe, Signal

INSTALL_HINT = "install the macOS extra: pip install 'wattsup[apple]' (zeus-apple-silicon)"
SOC_MAX_W = 400.0
"""Plausibility limit for one SoC counter (an M-series Ultra draws well under this)."""
COUNTERS: tuple[tuple[str, tuple[str, ...], str, bool], ...] = (
    # component, metric fields summed, label, stall check (never idle at zero)
    ("cpu", ("cpu_total_mj",), "CPU (all clusters)", True),
    ("gpu:0", ("gpu_mj", "gpu_sram_mj"), "GPU (+ GPU SRAM)", False),
    ("ane", ("ane_mj",), "Neural Engine", False),
    ("dram", ("dram_mj",), "DRAM", True),
)
POWERMETRICS_INTERVAL_MS = 100
_LINE = re.compile(r"^(CPU|GPU|ANE) Power:\s*([0-9.]+)\s*mW\s*$")


def _zeus_apple() -> ModuleType:
    try:
        return importlib.import_module("zeus_apple_silicon")
    except ImportError as e:
        raise errors.SensorUnavailable(f"zeus-apple-silicon is not installed; {INSTALL_HINT}") from e


def _on_apple_silicon() -> bool:
    import platform

    return sys.platform == "darwin" and platform.machine() == "arm64"


class _SharedMetrics:
    """One ``AppleEnergyMonitor`` read by every Apple device; a read within 2 ms is reused."""

    def __init__(self, monitor: Any) -> None:
        self.monitor = monitor
        self._lock = threading.Lock()
        self._last: tuple[float, Any] | None = None

    def get(self) -> Any:
        with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last[0] < 0.002:
                return self._last[1]
            try:
                metrics = self.monitor.get_cumulative_energy()
            except RuntimeError as e:
                raise errors.DeviceLost(f"IOReport stopped answering ({e}); restart the measurement") from e
            self._last = (now, metrics)
            return metrics


class AppleCounter(EnergyDevice):
    def __init__(
        self, shared: _SharedMetrics, component: str, fields: tuple[str, ...], label: str, stall: bool
    ):
        self.shared, self.fields = shared, fields
        super().__init__(
            Identity(component, "Apple", f"Apple Silicon {label}", "ioreport"),
            Signal("energy_counter", unit_j=1e-3, width_bits=64),
            "counter",
            f"Apple Silicon {label}: IOReport energy counters via zeus-apple-silicon (mJ)",
            SOC_MAX_W,
            stall_limit_s=5.0 if stall else None,
        )

    def _read_counter_raw(self) -> float:
        metrics = self.shared.get()
        values = [getattr(metrics, f, None) for f in self.fields]
        if values[0] is None:
            raise errors.DeviceLost(f"{self.component}: IOReport no longer reports {self.fields[0]}")
        return float(sum(v for v in values if v is not None))


def discover_ioreport() -> Probe:
    if not _on_apple_silicon():
        raise errors.DeviceNotFound("not macOS on Apple Silicon")
    zas = _zeus_apple()
    try:
        monitor = zas.AppleEnergyMonitor()
    except RuntimeError as e:
        raise errors.DeviceNotSupported(f"IOReport energy counters are not available here ({e})") from e
    shared = _SharedMetrics(monitor)
    first = shared.get()
    out = Probe()
    for comp, fields, label, stall in COUNTERS:
        if getattr(first, fields[0], None) is not None:
            out.devices.append(AppleCounter(shared, comp, fields, label, stall))
    if not out.devices:
        raise errors.DeviceNotSupported("IOReport answered but reports no CPU, GPU, ANE or DRAM energy")
    return out


def parse_powermetrics(lines: list[str]) -> dict[str, float]:
    """Watts per rail (``CPU``, ``GPU``, ``ANE``) found in lines of powermetrics' text output."""
    out: dict[str, float] = {}
    for line in lines:
        m = _LINE.match(line.strip())
        if m:
            out[m.group(1)] = float(m.group(2)) / 1e3
    return out


class PowermetricsStream:
    """A running ``powermetrics`` whose latest CPU/GPU/ANE figures are kept as they arrive."""

    def __init__(self, command: list[str], popen: Callable[..., Any] = subprocess.Popen) -> None:
        self.proc = popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.latest: dict[str, float] = {}
        self.error: str | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True, name="wattsup-powermetrics")
        self._thread.start()

    def _pump(self) -> None:
        out: IO[str] = self.proc.stdout
        for line in out:
            found = parse_powermetrics([line])
            if found:
                self.latest.update(found)
                if {"CPU", "GPU"} <= self.latest.keys():
                    self._ready.set()
        err = self.proc.stderr.read() if self.proc.stderr is not None else ""
        self.error = err.strip() or f"powermetrics exited ({self.proc.wait()})"
        self._ready.set()

    def wait_ready(self, timeout_s: float) -> None:
        if not self._ready.wait(timeout_s) or not self.latest:
            self.close()
            raise errors.DeviceNotSupported(
                f"powermetrics gave no power figure within {timeout_s:g} s: {self.error}"
            )

    def read_w(self, rail: str, component: str) -> float:
        if self.error is not None and self.proc.poll() is not None:
            raise errors.DeviceLost(f"{component}: powermetrics stopped ({self.error})")
        if rail not in self.latest:
            raise errors.DeviceNotSupported(f"{component}: powermetrics reports no {rail} power here")
        return self.latest[rail]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=2)


class PowermetricsRail(EnergyDevice):
    def __init__(self, stream: PowermetricsStream, component: str, rail: str, owner: bool) -> None:
        self.stream, self.rail, self.owner = stream, rail, owner
        window = POWERMETRICS_INTERVAL_MS / 1000
        super().__init__(
            Identity(component, "Apple", f"Apple Silicon {rail}", "powermetrics"),
            Signal("power", averaging_window_s=window, refresh_s=window),
            "sampled",
            f"Apple Silicon {rail}: powermetrics {rail} Power "
            f"(mean over each {window:g} s interval; root only)",
            SOC_MAX_W,
            relative_bound=0.05,
        )

    def _read_power_w(self) -> float:
        return self.stream.read_w(self.rail, self.component)

    def close(self) -> None:
        if self.owner:
            self.stream.close()


def discover_powermetrics(
    executable: str | None = None, is_root: bool | None = None, ready_timeout_s: float = 5.0
) -> Probe:
    """powermetrics as a fallback: only as root, where ``powermetrics`` is on the PATH."""
    exe = executable or shutil.which("powermetrics")
    if exe is None:
        raise errors.DeviceNotFound("no powermetrics on the PATH: not macOS")
    root = (os.geteuid() == 0) if is_root is None else is_root
    if not root:
        raise errors.DevicePermissionDenied(
            f"powermetrics needs root; {INSTALL_HINT} to measure without sudo, or run under sudo"
        )
    try:
        stream = PowermetricsStream(
            [exe, "--samplers", "cpu_power,gpu_power,ane_power", "-i", str(POWERMETRICS_INTERVAL_MS)]
        )
    except OSError as e:
        raise errors.DriverNotLoaded(f"powermetrics could not start ({e})") from e
    stream.wait_ready(ready_timeout_s)
    out = Probe()
    for k, (comp, rail) in enumerate((("cpu", "CPU"), ("gpu:0", "GPU"), ("ane", "ANE"))):
        if rail in stream.latest:
            out.devices.append(PowermetricsRail(stream, comp, rail, owner=k == 0))
    return out


def discover() -> Probe:
    """IOReport through zeus-apple-silicon; powermetrics only where that is missing and we are root."""
    try:
        return discover_ioreport()
    except errors.DeviceNotFound:
        raise
    except errors.SensorUnavailable as first:
        try:
            return discover_powermetrics()
        except errors.SensorUnavailable as second:
            raise type(first)(f"{first}; fallback: {second}") from first
