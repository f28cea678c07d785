"""AMD GPUs (Instinct, Radeon) through ``amdsmi`` (ROCm's Python binding; the optional extra ``amd``).

Signal, best first:

* the energy accumulator: ``amdsmi_get_energy_count(handle)`` returns the raw count and
  ``counter_resolution`` (µJ per count; 15.3 µJ on MI200/MI300). The count's key changed: amdsmi 6.0-6.2.0
  returns it as ``power``, 6.2.1 added ``energy_accumulator`` (both present until 6.4 deprecated
  ``power``), 7.x returns ``energy_accumulator`` only. The count is a 64-bit accumulator.
* where the counter is missing (``AMDSMI_STATUS_NOT_SUPPORTED``) or reads ``N/A``/0: socket power from
  ``amdsmi_get_power_info(handle)``, ``current_socket_power`` (instantaneous, W; MI300 and newer) else
  ``average_socket_power`` (averaged by the firmware over a window amdsmi does not state; MI200), each
  ``"N/A"`` where unsupported.

MI250 and MI250X are two dies (GCDs) in one package, seen as two GPUs; only the even one reports power,
and its figure is the package's, both dies together. The odd die is listed with no signal of its own
(``included_in`` its partner), never as 0 W.

amdsmi is initialised lazily, never at import, and reference-counted like NVML.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
import os
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

from wattsup import errors
from wattsup.sensors.base import SharedLibrary
from wattsup.sensors.device import EnergyDevice, Identity, Probe, Signal

DEFAULT_MAX_W = 1500.0
INSTALL_HINT = "install the AMD extra: pip install 'wattsup[amd]' (it needs ROCm's libamd_smi.so)"
PERMISSION_HINT = "add the user to the 'render' and 'video' groups, or run as root"
DRIVER_HINT = "load the amdgpu driver ('sudo modprobe amdgpu'); 'amd-smi list' must show the GPU"


# amdsmi_status_t codes (amdsmi_wrapper.py) -> (typed error, what to do). NOT_FOUND and FILE_NOT_FOUND
# mean "no such GPU" at discovery but "the GPU went away" once it is being read.
_CODES: dict[int, tuple[type[errors.SensorUnavailable], str]] = {
    2: (errors.DeviceNotSupported, "this GPU or driver does not offer it"),
    3: (errors.DeviceNotSupported, "not implemented for this GPU by this amdsmi"),
    10: (errors.DevicePermissionDenied, PERMISSION_HINT),
    18: (errors.DriverNotLoaded, "amdsmi could not initialise: " + DRIVER_HINT),
    31: (errors.DeviceNotFound, "no such GPU"),
    32: (errors.DriverNotLoaded, "amdsmi is not initialised"),
    34: (errors.DriverNotLoaded, DRIVER_HINT),
    45: (errors.DriverNotLoaded, "the energy driver is not loaded"),
    48: (errors.DeviceNotSupported, "not supported by this part"),
    49: (errors.DeviceNotSupported, "not supported by this part"),
    51: (errors.DriverNotLoaded, DRIVER_HINT),
    52: (errors.DriverNotLoaded, "a file amdsmi reads is missing: " + DRIVER_HINT),
}
_LOST_CODES = {6, 12, 14, 31, 52, 54}  # DRM error, I/O, file error, not found, file not found, restart


def _amdsmi() -> ModuleType:
    try:
        # amdsmi prints to stdout on import when libamd_smi.so is missing
        with contextlib.redirect_stdout(io.StringIO()):
            return importlib.import_module("amdsmi")
    except ImportError as e:
        raise errors.SensorUnavailable(f"amdsmi is not installed; {INSTALL_HINT}") from e
    except (OSError, AttributeError, KeyError) as e:
        raise errors.DriverNotLoaded(
            f"amdsmi is installed but ROCm's library could not be loaded ({e}); install a ROCm whose "
            "version matches the amdsmi package, or set ROCM_PATH"
        ) from e


def _code(err: BaseException) -> int | None:
    get = getattr(err, "get_error_code", None)
    try:
        return int(get()) if callable(get) else None
    except (TypeError, ValueError):
        return None


def typed_error(err: BaseException, what: str, reading: bool = False) -> errors.SensorUnavailable:
    """The typed error for an amdsmi exception raised while doing ``what``."""
    code = _code(err)
    info = getattr(err, "get_error_info", None)
    said = info() if callable(info) else str(err)
    if reading and code in _LOST_CODES:
        return errors.DeviceLost(
            f"{what}: amdsmi says {said}; the GPU went away (reset or off the bus): check dmesg"
        )
    if code in _CODES:
        cls, hint = _CODES[code]
        return cls(f"{what}: amdsmi says {said}; {hint}")
    return errors.SensorUnavailable(f"{what}: amdsmi error {said}")


@contextlib.contextmanager
def _mapped(smi: ModuleType, what: str, reading: bool = False) -> Iterator[None]:
    try:
        yield
    except smi.AmdSmiException as e:
        raise typed_error(e, what, reading) from e


def _start(smi: ModuleType) -> None:
    with _mapped(smi, "amdsmi could not start"):
        smi.amdsmi_init(smi.AmdSmiInitFlags.INIT_AMD_GPUS)


_library = SharedLibrary(_amdsmi, _start, lambda smi: smi.amdsmi_shut_down(), lambda smi: smi.AmdSmiException)


def acquire() -> ModuleType:
    """Initialise amdsmi for GPUs (once per process, reference-counted) and return the module."""
    return _library.acquire()


def release() -> None:
    """Drop one reference taken by :func:`acquire`; amdsmi shuts down with the last one."""
    _library.release()


def _number(v: Any) -> float | None:
    """A reading from amdsmi: a number, or ``None`` for ``"N/A"`` (and anything else that is not one)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def counter_key(energy: dict[str, Any]) -> str | None:
    """Which key of ``amdsmi_get_energy_count``'s result holds the count (6.2.1+/7.x, else 6.0-6.2.0)."""
    for key in ("energy_accumulator", "power"):
        if key in energy:
            return key
    return None


def visible_indices(count: int, env: dict[str, str] | None = None) -> list[int]:
    """amdsmi indices this process may use: ``HIP_VISIBLE_DEVICES``, else ``ROCR_VISIBLE_DEVICES``, else
    ``CUDA_VISIBLE_DEVICES`` (integer entries; parsing stops at the first that names no GPU)."""
    environ = os.environ if env is None else env
    for var in ("HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"):
        spec = environ.get(var)
        if spec is None:
            continue
        out: list[int] = []
        for entry in spec.split(","):
            e = entry.strip()
            if not e.isdigit() or int(e) >= count:
                break
            if int(e) not in out:
                out.append(int(e))
        return out
    return list(range(count))


class AmdGpu(EnergyDevice):
    """One AMD GPU (one die of an MI250/MI250X). Holds one amdsmi reference until :meth:`close`."""

    def __init__(
        self,
        smi: ModuleType,
        handle: Any,
        index: int,
        name: str,
        uuid: str | None,
        power_cap_w: float | None,
        signal: Signal,
        detail: str,
        *,
        power_key: str | None = None,
        energy_key: str | None = None,
        included_in: str | None = None,
        includes: tuple[str, ...] = (),
    ) -> None:
        self.smi = smi
        self.handle = handle
        self.power_key = power_key
        self.energy_key = energy_key
        method = {"energy_counter": "counter", "power": "sampled", "none": None}[signal.kind]
        super().__init__(
            Identity(f"gpu:{index}", "AMD", name, "amdsmi", index, uuid),
            signal,
            method,  # type: ignore[arg-type]
            detail,
            (power_cap_w or DEFAULT_MAX_W) * 1.5,
            relative_bound=0.05 if signal.kind == "power" else 0.0,
            included_in=included_in,
            includes=includes,
        )
        self._held = True

    def _read_counter_raw(self) -> float:
        return self._reading(
            "energy counter",
            "amdsmi_get_energy_count",
            lambda got: self.energy_key or counter_key(got) or "energy_accumulator",
            "the counter stopped answering: measure without this GPU or reload amdgpu",
        )

    def _read_power_w(self) -> float:
        return self._reading(
            "power reading",
            "amdsmi_get_power_info",
            lambda got: self.power_key or "current_socket_power",
            "the GPU stopped reporting power: measure without it or reload amdgpu",
        )

    def _reading(self, what: str, call: str, key_of: Callable[[dict[str, Any]], str], fix: str) -> float:
        """The number under ``key_of(answer)`` in the answer of amdsmi's ``call`` for this GPU; a typed
        error saying ``fix`` where it is not one."""
        with _mapped(self.smi, f"{self.component} {what}", reading=True):
            got = getattr(self.smi, call)(self.handle)
        key = key_of(got)
        value = _number(got.get(key))
        if value is None:
            raise errors.DeviceNotSupported(
                f"{self.component}: {call} returned {got.get(key)!r} for {key!r}; {fix}"
            )
        return value

    def read_energy_j(self) -> float:
        self._ensure_measured()
        return super().read_energy_j()

    def read_power_w(self) -> float:
        self._ensure_measured()
        return super().read_power_w()

    def _ensure_measured(self) -> None:
        if self.signal.kind == "none":
            raise errors.DeviceNotSupported(self.detail)

    def close(self) -> None:
        if self._held:
            self._held = False
            release()


def _readings(smi: ModuleType, handle: Any, index: int) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """amdsmi's energy counter (None where not supported) and power info (empty where unreadable)."""
    energy: dict[str, Any] | None = None
    try:
        energy = smi.amdsmi_get_energy_count(handle)
    except smi.AmdSmiException as e:
        if _code(e) not in (2, 3):  # anything but "not supported" is a real failure
            raise typed_error(e, f"gpu:{index} energy counter") from e
    power: dict[str, Any] = {}
    with contextlib.suppress(smi.AmdSmiException):
        power = smi.amdsmi_get_power_info(handle)
    return energy, power


def _probe_one(smi: ModuleType, handle: Any, index: int, partner_has_power: bool | None) -> AmdGpu:
    with _mapped(smi, f"gpu:{index}"):
        name = str(smi.amdsmi_get_gpu_asic_info(handle).get("market_name") or "AMD GPU")
    uuid: str | None = None
    with contextlib.suppress(smi.AmdSmiException):
        uuid = str(smi.amdsmi_get_gpu_device_uuid(handle))
    cap_w: float | None = None
    with contextlib.suppress(smi.AmdSmiException):
        cap = _number(smi.amdsmi_get_power_cap_info(handle).get("power_cap"))
        cap_w = cap / 1e6 if cap else None  # µW
    gpu = functools.partial(AmdGpu, smi, handle, index, name, uuid, cap_w)

    energy, power = _readings(smi, handle, index)
    key = counter_key(energy) if energy else None
    count = _number(energy.get(key)) if energy and key else None
    resolution = _number(energy.get("counter_resolution")) if energy else None
    current = _number(power.get("current_socket_power"))
    average = _number(power.get("average_socket_power"))

    is_mi250 = "MI250" in name.upper()
    silent = not count and not current and not average
    if is_mi250 and index % 2 == 1 and silent and partner_has_power:
        partner = f"gpu:{index - 1}"
        return gpu(
            Signal("none"),
            f"{name}: second die of an MI250/MI250X package, which reports no power of its own; its energy "
            f"is in {partner}'s figure (both dies together). Measure {partner}; the two cannot be separated",
            included_in=partner,
        )
    includes = (f"gpu:{index + 1}",) if is_mi250 and index % 2 == 0 else ()
    both = "; the figure is the whole MI250/MI250X package (both dies)" if includes else ""
    if count is not None and count > 0 and resolution is not None and resolution > 0:
        version = "6.2.1+/7.x" if key == "energy_accumulator" else "6.0-6.2.0"
        return gpu(
            Signal("energy_counter", unit_j=resolution * 1e-6, width_bits=64),
            f"{name}: amdsmi energy accumulator × {resolution:g} µJ (key {key!r}, amdsmi {version}){both}",
            energy_key=key,
            includes=includes,
        )
    why = (
        "no energy counter (amdsmi: not supported)"
        if energy is None
        else f"energy counter reads {energy.get(key or 'energy_accumulator')!r}"
    )
    if current is not None:
        return gpu(
            Signal("power", averaging_window_s=0.0),
            f"{name}: current_socket_power (instantaneous W) integrated; {why}{both}",
            power_key="current_socket_power",
            includes=includes,
        )
    if average is not None:
        return gpu(
            Signal("power", averaging_window_s=None, refresh_s=None),
            f"{name}: average_socket_power (W, firmware average over an unstated window) integrated; "
            f"{why}{both}",
            power_key="average_socket_power",
            includes=includes,
        )
    raise errors.DeviceNotSupported(
        f"gpu:{index} ({name}): {why}, and socket power reads "
        f"{power.get('current_socket_power', 'N/A')!r}/{power.get('average_socket_power', 'N/A')!r}: "
        "no energy or power signal; update amdgpu/ROCm"
    )


def discover() -> Probe:
    """Every visible AMD GPU, or a typed error saying why none."""
    smi = acquire()
    out = Probe()
    try:
        with _mapped(smi, "amdsmi_get_processor_handles"):
            handles = list(smi.amdsmi_get_processor_handles())
        if not handles:
            raise errors.DeviceNotFound("amdsmi started but sees no AMD GPU: " + DRIVER_HINT)
        visible = visible_indices(len(handles))
        if not visible:
            raise errors.DeviceNotFound("AMD GPUs exist but none is visible (HIP_VISIBLE_DEVICES)")
        found: dict[int, AmdGpu] = {}
        for idx in sorted(visible):
            prev = found.get(idx - 1)
            partner_ok: bool | None = prev.signal.kind != "none" if prev is not None else None
            if partner_ok is None and idx % 2 == 1:
                # the even die is not visible to us; it still reports the package if it answers
                try:
                    partner_ok = _probe_one(smi, handles[idx - 1], idx - 1, None).signal.kind != "none"
                except errors.SensorUnavailable:
                    partner_ok = False
            try:
                gpu = _probe_one(smi, handles[idx], idx, partner_ok)
            except errors.SensorUnavailable as e:
                out.problems.append((f"gpu:{idx}", e))
                continue
            acquire()  # each device holds a reference, released by its close()
            found[idx] = gpu
            (out.unmeasured if gpu.signal.kind == "none" else out.devices).append(gpu)
    finally:
        release()
    return out
