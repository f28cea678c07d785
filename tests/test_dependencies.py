"""Every third-party module that src/ imports is declared in pyproject.toml (core or an extra), and every
distribution a runtime extra declares is used by src/: a core or extra install never fails with
``ModuleNotFoundError`` and carries nothing it does not need (issue 16)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "wattsup"

IMPORT_TO_DIST = {
    "yaml": "pyyaml",
    "pynvml": "nvidia-ml-py",
    "PIL": "pillow",
}
"""Import names whose distribution is named otherwise (beyond case, ``_`` and ``-``)."""

NOT_IMPORTED = {
    "psycopg": "SQLAlchemy loads it for postgresql+psycopg:// store URLs",
}
"""Distributions of the runtime extras that src/ rightly never imports by name, each with why."""

TOOL_EXTRAS = {"dev"}
"""Extras of tools and tests (pytest, ruff, mypy, stubs): not imported by src/."""


def _dist(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> dict[str, set[str]]:
    """Extra (``core`` for the dependencies) -> the normalised distribution names it declares."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    out = {"core": {_dist(Requirement(r).name) for r in project["dependencies"]}}
    for extra, reqs in project["optional-dependencies"].items():
        out[extra] = {_dist(Requirement(r).name) for r in reqs}
    return out


def _imported_names(tree: ast.AST) -> set[str]:
    """Absolute imports, and the literal names given to ``importlib.import_module``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def _third_party() -> dict[str, set[str]]:
    """Top-level third-party module -> the src/ files that import it."""
    found: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        for name in _imported_names(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            top = name.split(".")[0]
            if top == "wattsup" or top in sys.stdlib_module_names:
                continue
            found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _to_dist(module: str) -> str:
    return _dist(IMPORT_TO_DIST.get(module, module))


def test_the_walk_sees_the_imports_it_must() -> None:
    imports = _third_party()
    # one plain import, one from-import inside a function, one import_module by name
    assert {"pydantic", "yaml", "amdsmi"} <= set(imports)
    assert "src/wattsup/sweep/spec.py" in imports["yaml"]


def test_every_third_party_import_is_declared() -> None:
    declared = _declared()
    every = set().union(*declared.values())
    missing = {
        f"{module} (distribution {_to_dist(module)}), imported by {', '.join(sorted(files))}"
        for module, files in _third_party().items()
        if _to_dist(module) not in every
    }
    assert not missing, (
        "declare these in pyproject.toml's dependencies or the extra that uses them (or map the import "
        f"name in IMPORT_TO_DIST): {sorted(missing)}"
    )


def test_every_runtime_extra_is_used_by_src() -> None:
    declared = _declared()
    used = {_to_dist(m) for m in _third_party()}
    unused = {
        f"{dist} (in {extra})"
        for extra, dists in declared.items()
        if extra not in TOOL_EXTRAS
        for dist in dists
        if dist not in used and dist not in NOT_IMPORTED
    }
    assert not unused, (
        f"declared but never imported by src/: {sorted(unused)}; move what only tests use to the dev "
        "extra, drop what nothing uses, or say in NOT_IMPORTED why src/ loads it without importing it"
    )


def test_the_import_map_names_the_installed_distributions() -> None:
    """Where the module is installed here, the distribution that provides it is the one the map names."""
    provided = importlib.metadata.packages_distributions()
    checked = 0
    for module in _third_party():
        if module in provided:
            assert _to_dist(module) in {_dist(d) for d in provided[module]}, module
            checked += 1
    assert checked >= 1  # the core's pydantic at least is installed wherever the tests run


def test_the_constraints_pin_every_declared_distribution_of_their_extras() -> None:
    """constraints/ci.txt is refreshed with pyproject.toml: a new dependency without scripts/lock.sh fails."""
    lines = (ROOT / "constraints" / "ci.txt").read_text(encoding="utf-8").splitlines()
    extras = next(ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("# Extras:")).split(",")
    pinned = {}
    for ln in lines:
        if ln and not ln.startswith("#"):
            name, _, version = ln.partition("==")
            assert version and "+" not in version, f"{ln!r}: pin each distribution with == and a release"
            pinned[_dist(name)] = version
    declared = _declared()
    wanted = set().union(*(declared[e] for e in ["core", *extras])) - {"torch"}  # pinned by the scripts
    missing = sorted(wanted - set(pinned))
    assert not missing, f"declared but not pinned in constraints/ci.txt: {missing}; run scripts/lock.sh"
