"""Sweep files of seeds, and the attempts the fake entries (tests/fakes/sweep_entries.py) mark."""

from __future__ import annotations

from pathlib import Path


def attempts(markers: Path, config_hash: str) -> int:
    f = markers / config_hash
    return len(f.read_text(encoding="utf-8").splitlines()) if f.exists() else 0


def seeds_sweep(seeds: int, device: str = "cpu", extra: str = "") -> str:
    """A sweep of ``seeds`` configurations that differ only by seed (the fakes script them by seed)."""
    return (
        "tasks: text-classification\nmodels: tiny/bert-classifier\ndatasets: imdb\nweights: random\n"
        f"n: 2\nreps: 1\nwarmup: 0\ndevice: {device}\nseeds: {list(range(seeds))}\n{extra}"
    )


def attempt_pids(markers: Path, config_hash: str) -> list[tuple[int, int]]:
    """(worker pid, its parent's pid) of each attempt of a configuration."""
    f = markers / config_hash
    lines = f.read_text(encoding="utf-8").splitlines() if f.exists() else []
    return [(int(ln.split()[0]), int(ln.split()[1])) for ln in lines]
