"""Windows over sensors: start/stop, nested named phases, device sync, the background counter timeline."""

from wattsup.meter.measurement import JOULES_PER_KWH, ComponentEnergy, Measurement, Method
from wattsup.meter.meter import Meter, PendingMeasurement, scope_cpu_to_process, shared_sampler
from wattsup.meter.sampler import Sampler
from wattsup.meter.sources import Sources, discover

__all__ = [
    "JOULES_PER_KWH",
    "ComponentEnergy",
    "Measurement",
    "Meter",
    "Method",
    "PendingMeasurement",
    "Sampler",
    "Sources",
    "discover",
    "scope_cpu_to_process",
    "shared_sampler",
]
