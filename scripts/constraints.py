"""Prints the constraints file of an environment: every distribution that wattsup with the given extras
needs, as installed in the running Python's environment, pinned with ``==``.

Usage: .venv/bin/python scripts/constraints.py EXTRAS > constraints/ci.txt  (EXTRAS: gpu,bench,...)

The walk starts from pyproject.toml's dependencies and the named extras, and follows each installed
distribution's requirements whose markers hold here (with the extras asked of it, as ``psycopg[binary]``).
torch is left out: the scripts pin it (scripts/bootstrap.sh), and a CUDA build installed first stays. pip
is put in, so that the scripts' own pip is the locked one. Run by scripts/lock.sh.
"""

from __future__ import annotations

import platform
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LEFT_OUT = {"torch", "wattsup"}


def roots(extras: list[str]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    unknown = sorted(set(extras) - set(project["optional-dependencies"]))
    if unknown:
        raise SystemExit(f"constraints.py: no extra {', '.join(unknown)} in pyproject.toml")
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return [r for r in reqs if r.marker is None or r.marker.evaluate({"extra": ""})]


def closure(start: list[Requirement]) -> dict[str, str]:
    """Canonical name -> installed version of every distribution ``start`` needs here."""
    asked: dict[str, set[str]] = {}
    versions: dict[str, str] = {}
    todo = [(r.name, set(r.extras)) for r in start]
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if key in asked and extras <= asked[key]:
            continue
        asked[key] = asked.get(key, set()) | extras
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            raise SystemExit(f"constraints.py: {name} is needed but not installed in {sys.prefix}") from None
        versions[key] = dist.version
        for line in dist.requires or []:
            req = Requirement(line)
            envs = [{"extra": e} for e in asked[key] | {""}]
            if req.marker is None or any(req.marker.evaluate(env) for env in envs):
                todo.append((req.name, set(req.extras)))
    return versions


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python scripts/constraints.py EXTRAS (comma-separated, e.g. gpu,bench,dev)")
    extras = [e for e in sys.argv[1].split(",") if e]
    pins = closure(roots(extras))
    pins["pip"] = distribution("pip").version
    print("# Every distribution that `scripts/bootstrap.sh test` installs, pinned: pip install -c this file.")
    print("# Written by scripts/lock.sh (do not edit by hand; run it again to refresh). torch is pinned by")
    print("# scripts/bootstrap.sh instead (torch==2.13.0; a CUDA build installed first stays).")
    print(f"# Resolved with Python {platform.python_version()} on {sys.platform} {platform.machine()}.")
    print(f"# Extras: {','.join(extras)}")
    for key in sorted(pins):
        if key not in LEFT_OUT:
            print(f"{key}=={pins[key]}")


if __name__ == "__main__":
    main()
