"""wattsup's packages import one way, as DESIGN.md draws them: sensors → meter → records → bench → results
→ analysis → figures → report / web → cli; carbon is pure functions over measurements; serving stands
beside bench; sweep sits above bench and results. Every import statement of every module counts (top
level, inside functions, under TYPE_CHECKING)."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

import wattsup

PACKAGE = Path(wattsup.__file__).parent

RANK: dict[str, float] = {
    "errors": 0,
    "format": 0,
    "lazy": 0,
    "params": 0.5,
    "sensors": 1,
    "meter": 2,
    "carbon": 3,
    "records": 3,
    "bench": 4,
    "serving": 4.5,
    "results": 5,
    "sweep": 6,
    "analysis": 6,
    "figures": 7,
    "report": 8,
    "web": 8,
    "cli": 9,
    "__main__": 10,
    "": 10,
}
"""A module may import its own package, and any package of a lower rank. ``errors``, ``format`` and ``lazy``
are the root modules every layer may use; ``params`` (parameter declarations, on pydantic alone) sits just
above them; ``""`` is the ``wattsup`` package itself, a facade over the meter,
whose ``__version__`` any layer reads. serving stands beside bench: it uses bench's model catalog and
nothing below it uses serving."""


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imported(path: Path, name: str) -> set[str]:
    """The wattsup modules or packages that ``path`` imports (relative imports resolved against ``name``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("wattsup.")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            if base == "wattsup":
                found |= {f"wattsup.{a.name}" for a in node.names}
            elif base.startswith("wattsup."):
                found.add(base)
    return found


def package_graph() -> dict[str, set[str]]:
    """Package → the packages its modules import."""
    graph: dict[str, set[str]] = {}
    for name, path in modules().items():
        own = package_of(name)
        deps = {package_of(m) for m in imported(path, name)} - {own, "", "__version__"}
        graph.setdefault(own, set()).update(deps)
    return graph


def test_every_package_has_a_rank() -> None:
    unranked = sorted(p for p in package_graph() if p and p not in RANK)
    assert unranked == [], f"add {unranked} to RANK where DESIGN.md puts them"


def test_the_graph_reads_real_imports() -> None:
    graph = package_graph()
    assert "records" in graph["bench"] and "records" in graph["results"]
    assert "meter" in graph["records"]


def test_no_import_runs_up_a_layer() -> None:
    upward = []
    for name, path in modules().items():
        own = package_of(name)
        for dep in sorted({package_of(m) for m in imported(path, name)}):
            if dep in ("", own, "__version__"):
                continue
            if RANK.get(dep, 99) > RANK.get(own, -1) or (RANK.get(dep) == RANK.get(own) and dep != own):
                upward.append(f"{name} ({own}, rank {RANK.get(own)}) imports {dep} (rank {RANK.get(dep)})")
    assert upward == []


def test_no_two_packages_import_each_other_through_any_path() -> None:
    graph = {p: d - {""} for p, d in package_graph().items() if p}
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as e:
        pytest.fail(f"import circle between packages: {' → '.join(e.args[1])}")


def test_bench_and_results_do_not_import_each_other() -> None:
    graph = package_graph()
    assert "results" not in graph["bench"]
    assert "bench" not in graph["results"]
