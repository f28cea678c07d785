"""Energy sources: NVIDIA GPUs through NVML, CPU package and DRAM through Linux powercap (RAPL), and
documented power models for CPU and RAM where no counter exists. Each yields cumulative joules with a
method (``counter``, ``sampled``, ``modeled``); :mod:`wattsup.meter` turns them into windows."""

from wattsup.sensors.base import CounterAccumulator, SensorStatus

__all__ = ["CounterAccumulator", "SensorStatus"]
