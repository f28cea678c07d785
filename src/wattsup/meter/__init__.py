"""Windows over sensors: start/stop, nested named phases, device sync, the background counter timeline."""

from wattsup.meter.measurement import JOULES_PER_KWH, ComponentEnergy, Measurement, Method

__all__ = ["JOULES_PER_KWH", "ComponentEnergy", "Measurement", "Method"]
