"""``wattsup measure`` with paths that cannot be used (issue 15, items 5 and 8): the check comes before the
command runs, and a measurement is never lost to a file that cannot be written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

WATTSUP = [sys.executable, "-m", "wattsup"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "CUDA_VISIBLE_DEVICES": ""}
# absolute, so a run from another directory imports the same wattsup
ENV["PYTHONPATH"] = os.pathsep.join(
    str(Path(p).resolve()) for p in ENV.get("PYTHONPATH", "").split(os.pathsep) if p
)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WATTSUP, *args], check=False, capture_output=True, text=True, timeout=60, env=ENV, cwd=cwd
    )


def _touch(marker: Path) -> list[str]:
    return [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"]


def test_an_unwritable_timeline_is_refused_before_the_command_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    for bad in (str(not_a_dir / "t.csv"), "/proc/wattsup-timeline.csv", str(tmp_path)):
        p = run("measure", "--timeline", bad, "--", *_touch(marker))
        assert p.returncode == 2, p.stderr
        assert "--timeline" in p.stderr and "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1
        assert not marker.exists()  # the command never ran
    assert sorted(x.name for x in tmp_path.iterdir()) == ["file.txt"]  # the check left nothing behind


def test_a_timeline_that_fails_to_write_after_the_run_keeps_the_measurement(tmp_path: Path) -> None:
    full = tmp_path / "t.csv"
    full.symlink_to("/dev/full")  # opens fine, every write fails: a disk that filled during the run
    p = run("measure", "--json", "--timeline", str(full), "--", sys.executable, "-c", "pass")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["total_energy_j"] > 0 and {c["name"] for c in out["components"]} >= {"cpu", "ram"}
    assert any("could not write it" in w and "No space left" in w for w in out["warnings"])
    p = run("measure", "--timeline", str(full), "--", sys.executable, "-c", "pass")
    err = " ".join(p.stderr.split())  # the table wraps long lines
    assert p.returncode == 0 and "total" in err and "could not write it" in err


def test_a_file_that_is_not_executable_exits_126(tmp_path: Path) -> None:
    script = tmp_path / "job.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    p = run("measure", "--", str(script))
    assert p.returncode == 126
    assert "permission denied: the file is not executable" in p.stderr and "chmod +x" in p.stderr
    p = run("measure", "--", "job.sh", cwd=tmp_path)  # by bare name in the current directory
    assert p.returncode == 126
    p = run("measure", "--", str(tmp_path))
    assert p.returncode == 126 and "is a directory" in p.stderr
    script.chmod(0o755)
    p = run("measure", "--", str(script))
    assert p.returncode == 0 and p.stdout.strip() == "hi"


def test_an_executable_the_kernel_cannot_run_exits_126(tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(b"\x00\x01\x02 not a program")
    blob.chmod(0o755)
    p = run("measure", "--", str(blob))
    assert p.returncode == 126 and "cannot run it" in p.stderr and "Traceback" not in p.stderr
