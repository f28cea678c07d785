"""Every documented example runs as written: each ``python`` block of README.md and docs/**/*.md, in a
fresh interpreter in an empty directory (with the repository's ``examples/`` beside it), offline; and each
``$ wattsup ...`` line of a ``console`` block. A block that cannot run here says why in an HTML comment
right above it: ``<!-- not run: REASON -->``."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"(?:<!-- not run: (?P<why>[^>]+?) -->\s*\n)?```(?P<lang>\w*)\n(?P<body>.*?)\n```", re.S)


def blocks(lang: str) -> list[tuple[str, str, str | None]]:
    """(where, body, why not run) of every ``lang`` block."""
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in FENCE.finditer(text):
            if m.group("lang") == lang:
                line = text.count("\n", 0, m.start("body"))
                out.append((f"{doc.relative_to(ROOT)}:{line}", m.group("body"), m.group("why")))
    return out


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "WATTSUP_DB": str(tmp_path / "default.db"),
        "MPLBACKEND": "Agg",
    }


@pytest.mark.parametrize(("where", "body", "why"), blocks("python"), ids=[b[0] for b in blocks("python")])
def test_python_examples_run_as_written(where: str, body: str, why: str | None, tmp_path: Path) -> None:
    if why:
        pytest.skip(f"{where}: {why}")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "example.py").write_text(body + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "example.py"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{where} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"


def console_lines() -> list[tuple[str, str]]:
    out = []
    for where, body, why in blocks("console"):
        if why:
            continue
        joined = re.sub(r"\\\n\s*", " ", body)  # continuation lines
        for line in joined.splitlines():
            if line.startswith("$ wattsup "):
                cmd = line[2:].split("  #")[0].strip()
                out.append((where, cmd))
    return out


@pytest.mark.parametrize(("where", "cmd"), console_lines(), ids=[c for _, c in console_lines()])
def test_console_examples_run_as_written(where: str, cmd: str, tmp_path: Path) -> None:
    if "..." in cmd:
        pytest.skip(f"{where}: a pattern, not a command ({cmd})")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    done = subprocess.run(
        [sys.executable, "-m", "wattsup", *shlex.split(cmd)[1:]],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{where}: {cmd}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def test_every_document_is_read() -> None:
    assert len(blocks("python")) >= 7 and console_lines()
