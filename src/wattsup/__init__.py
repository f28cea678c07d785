"""wattsup: what it costs, in energy and carbon, to deploy AI.

The public entry points are :class:`wattsup.meter.Meter` (measure a window of work) and the ``wattsup``
command line. Heavy dependencies (nvidia-ml-py, torch, SQLAlchemy drivers, plotly, FastAPI, Ray) are
optional extras and are imported only where they are used.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("wattsup")  # pyproject.toml is the one place the number is written
except PackageNotFoundError:  # run from a source tree that was never installed (PYTHONPATH=src)
    __version__ = "0+unknown"

__all__ = ["Measurement", "Meter", "__version__"]

if TYPE_CHECKING:
    from wattsup.meter import Measurement, Meter


def __getattr__(name: str) -> Any:
    if name in ("Meter", "Measurement"):
        from wattsup import meter

        return getattr(meter, name)
    raise AttributeError(f"module 'wattsup' has no attribute {name!r}")
