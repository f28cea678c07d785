"""The entry a sweep's isolated worker runs (``--entry wattsup.sweep.worker:execute``): it wraps the real
entry (``$WATTSUP_SWEEP_ENTRY``, default the harness's protocol) and adds two things a sweep needs.
(That a run stops when the process that started it dies — a Ray worker killed, a driver killed — is the
runner's, for every run of bench, suite and sweep alike: see :mod:`wattsup.bench.forkserver`.)

1. **CPU energy by process tree** where runs may share a host (Ray): the CPU power model is charged with
   this run's process-tree share of the CPU time, not the machine's utilisation, which would count
   other runs' work too. RAPL counters, where readable, are whole-socket and cannot be split: they are
   flagged as shared instead.
2. **Provenance**: ``provenance.sensors["sharing"]`` says where the run ran, which GPUs it saw
   (``CUDA_VISIBLE_DEVICES`` as this process inherited it) and how each component relates to other runs
   on the same host; ``provenance.libraries`` gets the executor's version (``ray``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from wattsup.bench.worker import DEFAULT_ENTRY, call_entry, load_entry
from wattsup.records import RunConfig, RunRecord

ENV_ENTRY = "WATTSUP_SWEEP_ENTRY"
ENV_CONTEXT = "WATTSUP_SWEEP_CONTEXT"


def meter_cpu_by_process_tree() -> None:
    """Have this process's meter timeline charge the CPU model with this process tree's share of the CPU
    time instead of the machine's utilisation (it is the run's own subprocess). The timeline still starts
    only when a meter needs it. Nothing changes where RAPL is readable: the counter is used, and is
    whole-socket."""
    from wattsup.meter import scope_cpu_to_process

    scope_cpu_to_process()


def _component_notes(sensors: dict[str, str], slots: int, executor: str) -> list[str]:
    """How each metered component relates to other runs on the same host."""
    notes = []
    shared = slots > 1
    others = f"up to {slots - 1} other run{'s' if slots > 2 else ''} on this host"
    for name, how in sorted(sensors.items()):
        if name.startswith("gpu"):
            notes.append(f"{name}: this run's GPU alone (NVML meters only the GPUs the run may see)")
        elif name == "cpu" and "process tree" in how:
            notes.append(
                "cpu: modelled from this run's process-tree share of the CPU time"
                + (f"; the load curve's idle part is charged to each run ({others})" if shared else "")
            )
        elif name == "cpu" and "machine-wide" in how:
            notes.append(
                "cpu: modelled from machine-wide utilisation"
                + (f", which includes {others}" if shared else " (other processes included)")
            )
        elif name in ("cpu", "dram"):
            notes.append(
                f"{name}: RAPL counter, whole socket"
                + (f": shared with {others}, not split" if shared else " (other processes included)")
            )
        elif name == "ram":
            notes.append(
                "ram: modelled for all installed RAM"
                + (f": shared with {others}, not split" if shared else " (the whole host's)")
            )
    if not shared:
        notes.append(
            "one sweep run at a time on this host" + (" (local executor)" if executor == "local" else "")
        )
    return notes


def sharing_note(context: dict[str, Any], record: RunRecord, cuda_visible: str | None) -> str:
    """Where the run ran, the GPUs it could see, and how each component relates to other runs on the host."""
    slots = int(context.get("slots", 1))
    executor = str(context.get("executor", "local"))
    where = [f"executor {executor}"]
    if context.get("node"):
        where.append(f"node {context['node']}")
    where.append(f"{slots} run{'s' if slots != 1 else ''} at most at once on this host")
    if context.get("gpu"):
        where.append(f"GPU {context['gpu']} alone")
    where.append(
        "CUDA_VISIBLE_DEVICES unset (every GPU visible)"
        if cuda_visible is None
        else f"CUDA_VISIBLE_DEVICES={cuda_visible!r}" + (" (no GPU)" if not cuda_visible else "")
    )
    return "; ".join(where + _component_notes(record.provenance.sensors, slots, executor))


def annotate(record: RunRecord, context: dict[str, Any], cuda_visible: str | None) -> RunRecord:
    """``record`` with ``provenance.sensors["sharing"]`` and the executor's library versions."""
    prov = record.provenance.model_copy(deep=True)
    prov.sensors["sharing"] = sharing_note(context, record, cuda_visible)
    for lib, version in dict(context.get("libraries", {})).items():
        prov.libraries[str(lib)] = str(version)
    return record.model_copy(update={"provenance": prov})


def execute(config: RunConfig, progress: Callable[[str, int, int], None] | None = None) -> RunRecord:
    """Run ``config`` with the wrapped entry, as described in the module doc (``progress`` is passed on
    where the wrapped entry takes it)."""
    context: dict[str, Any] = json.loads(os.environ.get(ENV_CONTEXT) or "{}")
    if context.get("cpu_scope") == "process":
        meter_cpu_by_process_tree()
    record = call_entry(load_entry(os.environ.get(ENV_ENTRY) or DEFAULT_ENTRY), config, progress)
    return annotate(record, context, os.environ.get("CUDA_VISIBLE_DEVICES"))
