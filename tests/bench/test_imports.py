"""wattsup.bench's modules import each other in one direction: no circle, no import back up a layer, and
any module can be imported first in a fresh interpreter without torch being imported."""

from __future__ import annotations

import ast
import graphlib
import subprocess
import sys
from pathlib import Path

import pytest

import wattsup.bench

PACKAGE = Path(wattsup.bench.__file__).parent
SRC = PACKAGE.parents[1]

LAYERS: tuple[tuple[str, ...], ...] = (
    ("tokenizer", "synthetic", "catalog", "stats", "worker"),
    ("inputs",),
    ("models",),
    ("backends",),
    ("tasks",),
    ("protocol", "suites", "runner", "forkserver"),
    ("api",),
    ("",),
)
"""From the bottom up: a module may import modules of its own layer (without a circle) or of those below.
``backends`` and ``tasks`` stand for their packages and every module in them; ``""`` is wattsup.bench."""

ONCE_CIRCULAR = (
    "wattsup.bench.catalog",
    "wattsup.bench.tasks.image_generation",
    "wattsup.bench.models",
    "wattsup.bench.tasks.base",
)
"""The circle catalog → tasks/image_generation → models → tasks/base (→ catalog) that the backend split
ended: each of them, imported first."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def bench_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The wattsup.bench modules that ``path`` imports anywhere (top level, in functions, under
    TYPE_CHECKING), as the module each statement loads: ``from a import b`` is ``a.b`` where that is a
    module, else ``a``; relative imports resolved against ``name``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for a in node.names:
                if f"{base}.{a.name}" in modules:
                    found.add(f"{base}.{a.name}")
                elif base in modules:
                    found.add(base)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = bench_modules()
    return {name: imports_of(path, name, modules) for name, path in modules.items()}


def layer_of(module: str) -> int:
    rel = module.removeprefix("wattsup.bench").lstrip(".")
    for i, names in enumerate(LAYERS):
        if rel in names or (rel != "" and rel.split(".")[0] in names):
            return i
    raise AssertionError(f"{module} is in no layer of LAYERS: add it where it belongs")


def test_the_graph_reads_real_imports() -> None:
    graph = import_graph()
    # from wattsup.bench import catalog as cat: the submodule, not the package
    assert "wattsup.bench.catalog" in graph["wattsup.bench.models"]
    assert "wattsup.bench.backends.transformers" in graph["wattsup.bench.tasks.base"]
    assert "wattsup.bench.tasks.zero_shot" in graph["wattsup.bench.protocol"]  # an import inside a function


def test_no_module_of_wattsup_bench_imports_one_that_imports_it_back() -> None:
    graph = import_graph()
    try:
        order = list(graph_order(graph))
    except graphlib.CycleError as e:
        pytest.fail(f"import circle: {' → '.join(e.args[1])}")
    assert set(order) == set(graph)


def graph_order(graph: dict[str, set[str]]) -> tuple[str, ...]:
    return tuple(graphlib.TopologicalSorter(graph).static_order())


def test_no_import_runs_back_up_a_layer() -> None:
    upward = [
        f"{m} (layer {layer_of(m)}) imports {d} (layer {layer_of(d)})"
        for m, deps in sorted(import_graph().items())
        for d in sorted(deps)
        if layer_of(d) > layer_of(m)
    ]
    assert upward == []


def test_the_catalog_and_the_backends_import_no_scenario() -> None:
    graph = import_graph()
    low = [m for m in graph if layer_of(m) <= layer_of("wattsup.bench.backends")]
    assert not [(m, d) for m in low for d in graph[m] if d.startswith("wattsup.bench.tasks")]
    assert graph["wattsup.bench.catalog"] == set()


@pytest.mark.parametrize("first", ONCE_CIRCULAR)
def test_each_module_of_the_old_circle_imports_first_in_a_fresh_interpreter(first: str) -> None:
    """``first``, then every other bench module, in a new interpreter; none of them imports torch."""
    rest = [m for m in bench_modules() if m != first and not m.endswith("__main__")]
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({first!r})\n"
        f"for m in {rest!r}: importlib.import_module(m)\n"
        "assert 'torch' not in sys.modules, 'a bench module imported torch at import time'\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
