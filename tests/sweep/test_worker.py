"""The sweep's wrapper around the harness's worker: the provenance it writes and the CPU scope it sets."""

from __future__ import annotations

import json
import subprocess
import sys

from wattsup.records import Provenance, RunConfig, RunRecord
from wattsup.sweep.worker import annotate

CONFIG = RunConfig(task="text-classification", model="tiny/bert-classifier", dataset="imdb", n=2, reps=1)


def record(sensors: dict[str, str]) -> RunRecord:
    return RunRecord(config=CONFIG, provenance=Provenance(sensors=sensors, libraries={"torch": "2"}))


def test_a_shared_gpu_node_flags_whole_socket_counters_as_shared() -> None:
    sensors = {
        "gpu:2": "counter: NVIDIA H100: NVML total-energy counter",
        "cpu": "counter: RAPL cpu counter, 2 zone(s): intel-rapl:0, intel-rapl:1",
        "dram": "counter: RAPL dram counter, 2 zone(s)",
    }
    ctx = {"executor": "ray", "node": "10.0.0.5", "slots": 4, "libraries": {"ray": "2.60.0"}}
    out = annotate(record(sensors), ctx, "2")
    note = out.provenance.sensors["sharing"]
    assert note.startswith("executor ray; node 10.0.0.5; 4 runs at most at once on this host; ")
    assert "CUDA_VISIBLE_DEVICES='2'" in note
    assert "gpu:2: this run's GPU alone" in note
    assert "cpu: RAPL counter, whole socket: shared with up to 3 other runs on this host, not split" in note
    assert "dram: RAPL counter, whole socket: shared with up to 3 other runs on this host, not split" in note
    assert out.provenance.libraries == {"torch": "2", "ray": "2.60.0"}
    assert out.provenance.sensors["cpu"] == sensors["cpu"]  # the meter's own words are kept


def test_modelled_components_on_a_shared_host() -> None:
    sensors = {
        "cpu": "modeled: modelled: Xeon; Teads load curve, this process tree's CPU time",
        "ram": "modeled: modelled: 25.3 GB installed",
    }
    note = annotate(record(sensors), {"executor": "ray", "slots": 2}, "").provenance.sensors["sharing"]
    assert "CUDA_VISIBLE_DEVICES='' (no GPU)" in note
    assert (
        "cpu: modelled from this run's process-tree share of the CPU time; the load curve's idle part "
        in note
    )
    assert "(up to 1 other run on this host)" in note
    assert (
        "ram: modelled for all installed RAM: shared with up to 1 other run on this host, not split" in note
    )


def test_one_run_per_host_says_nothing_is_shared() -> None:
    sensors = {"cpu": "modeled: ...machine-wide utilisation", "ram": "modeled: ..."}
    note = annotate(record(sensors), {"executor": "local", "slots": 1}, None).provenance.sensors["sharing"]
    assert "CUDA_VISIBLE_DEVICES unset (every GPU visible)" in note
    assert "cpu: modelled from machine-wide utilisation (other processes included)" in note
    assert note.endswith("one sweep run at a time on this host (local executor)")


def test_the_cpu_model_can_be_scoped_to_the_run_process_tree() -> None:
    code = (
        "import json, os\n"
        "os.environ['WATTSUP_POWERCAP_ROOT'] = '/nonexistent'\n"  # no RAPL: the CPU model is used
        "from wattsup.sweep.worker import meter_cpu_by_process_tree\n"
        "from wattsup.meter import Meter\n"
        "import wattsup.meter.meter as m\n"
        "meter_cpu_by_process_tree()\n"
        "started = vars(m)['_shared'] is not None\n"  # lazy: nothing runs until a meter needs it
        "with Meter() as meter:\n"
        "    sum(range(10**6))\n"
        "cpu = [c.detail for c in meter.measurement.components if c.name == 'cpu']\n"
        "print(json.dumps({'cpu': cpu, 'started_early': started}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(data["cpu"]) == 1 and "this process tree's CPU time" in data["cpu"][0]
    assert data["started_early"] is False
