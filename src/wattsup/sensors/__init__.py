"""Energy sources: NVIDIA GPUs through NVML, CPU package and DRAM through Linux powercap (RAPL), and
documented power models for CPU and RAM where no counter exists. Each yields cumulative joules with a
method (``counter``, ``sampled``, ``modeled``); :mod:`wattsup.meter` turns them into windows.

Every accelerator vendor sits behind one device protocol (:mod:`wattsup.sensors.device`): NVIDIA,
AMD (amdsmi), Intel (i915/xe hwmon), Apple Silicon (IOReport, powermetrics), Jetson (INA3221), AWS Neuron,
RAPL and ``amd_energy``; :func:`wattsup.sensors.devices.discover_devices` probes them all."""

from wattsup.sensors.base import CounterAccumulator, SensorStatus

__all__ = ["CounterAccumulator", "SensorStatus"]
