"""Where a program's time goes: cProfile output written for people (a ``.prof`` for ``python -m pstats`` or
snakeviz, and a ``.txt`` of the 40 most expensive calls). Used by the bench worker (``WATTSUP_PROFILE_DIR``)
and the sampler process (``WATTSUP_SAMPLER_PROFILE``). A profiler slows Python-bound code: profiled
figures are for finding costs, not for comparing."""

from __future__ import annotations

import cProfile
import io
import pstats
from pathlib import Path


def write_profile(prof: cProfile.Profile, folder: str | Path, stem: str, sort: str = "cumulative") -> Path:
    """Writes ``stem.prof`` and ``stem.txt`` (top 40 by ``sort``) into ``folder`` (made if missing)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    prof.dump_stats(out / f"{stem}.prof")
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats(sort).print_stats(40)
    (out / f"{stem}.txt").write_text(text.getvalue(), encoding="utf-8")
    return out / f"{stem}.prof"
