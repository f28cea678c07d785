"""Write the CodeCarbon fixtures of tests/results/importers/data/ with CodeCarbon itself.

Run it once per CodeCarbon version, each in a throwaway virtual environment (never the project's):

    python3 -m venv /tmp/cc2 && /tmp/cc2/bin/pip install codecarbon==2.3.4
    (cd tests/results/importers/data && /tmp/cc2/bin/python make_codecarbon_logs.py codecarbon-2.3.4)
    python3 -m venv /tmp/cc3 && /tmp/cc3/bin/pip install codecarbon==3.3.2
    (cd tests/results/importers/data && /tmp/cc3/bin/python make_codecarbon_logs.py codecarbon-3.3.2)

Each run writes, with CodeCarbon's offline tracker (no network; country FRA):

- ``plain/emissions.csv``: one plain tracked window (a second of CPU work);
- ``task/``: a task-mode run (``load model`` then ``query model``), as CodeCarbon writes it: the plain
  row of the whole window in ``emissions.csv`` and the task rows in ``emissions_<experiment>_<run_id>.csv``.

The host has no GPU, so these are CPU-only logs (gpu_count empty or 0, gpu_energy 0): what CodeCarbon
writes on a CPU-only machine. The files are committed; the tests import them as they are.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path


def burn(seconds: float) -> None:
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1


def main(out: Path) -> None:
    import codecarbon
    from codecarbon import OfflineEmissionsTracker

    logging.getLogger("codecarbon").setLevel(logging.ERROR)
    common = dict(country_iso_code="FRA", log_level="error", measure_power_secs=1, save_to_file=True)

    plain = out / "plain"
    plain.mkdir(parents=True, exist_ok=True)
    tracker = OfflineEmissionsTracker(project_name="tiny-model", output_dir=str(plain), **common)
    tracker.start()
    burn(1.5)
    tracker.stop()

    task = out / "task"
    task.mkdir(parents=True, exist_ok=True)
    tracker = OfflineEmissionsTracker(
        project_name="tiny-model", output_dir=str(task), experiment_name="wattsup", **common
    )
    tracker.start()
    tracker.start_task("load model")
    burn(1.2)
    tracker.stop_task()
    tracker.start_task("query model")
    burn(1.5)
    tracker.stop_task()
    tracker.stop()
    print(f"wrote CodeCarbon {codecarbon.__version__} logs under {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
