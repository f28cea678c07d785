"""The sweep file: a YAML matrix of benchmark configurations, validated with pydantic.

Every problem is reported with the file, the line and the key path it concerns
(``sweep.yaml:7: matrix[0].batch_sizes[1]: must be at least 1 (got 0)``), all at once, so a long file
is fixed in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from wattsup.errors import WattsupError, closest

KeyPath = tuple[str | int, ...]
"""Where a value sits in the file: keys and list indices from the top (``("matrix", 0, "models", 1)``)."""

DTYPES = ("float32", "float16", "bfloat16")
DEFAULT_RETRIES = 2
DEFAULT_TIMEOUT_S = 6 * 3600.0
MAX_PROBLEMS_SHOWN = 30
MAX_YAML_NODES = 100_000
"""The most values (keys, items, scalars) a sweep file may hold once its YAML aliases are expanded: a
"billion laughs" file of a few hundred bytes expands to billions, so it is refused before it is walked."""


# -------------------------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a sweep file: where (line, key path) and what."""

    path: KeyPath
    message: str
    line: int | None = None

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line is not None else source
        key = format_path(self.path)
        return f"{where}: {key}: {self.message}" if key else f"{where}: {self.message}"


class SweepFileError(WattsupError):
    """The sweep file cannot be used as it is; ``problems`` lists every reason, with its line."""

    exit_code = 2

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = sorted(problems, key=lambda p: (p.line is None, p.line or 0, format_path(p.path)))
        shown = [p.render(source) for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        more = len(self.problems) - len(shown)
        if more > 0:
            shown.append(f"... and {more} more")
        head = f"{source}: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        super().__init__(head + ":\n  " + "\n  ".join(shown))


def format_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# ---------------------------------------------------------------------------------------- the schema


def _as_list(value: Any) -> Any:
    """An axis may be written as one value or as a list of values."""
    return value if value is None or isinstance(value, list) else [value]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


AXES = ("tasks", "models", "datasets", "batch_sizes", "dtypes", "reps", "weights", "seeds")
"""Keys whose values multiply: each combination of one value of each is one configuration."""

SETTINGS = ("n", "warmup", "device", "max_new_tokens", "zero_shot", "extra")
"""Keys that hold one value for every configuration of a block."""


class Block(_Strict):
    """The matrix of one block. Axes take one value or a list; every key may also sit at the top level,
    where it is the default of every block."""

    tasks: list[str] | None = Field(default=None, min_length=1, description="task names or aliases")
    models: list[str] | None = Field(
        default=None, min_length=1, description="Hub ids, local folders or catalog names"
    )
    datasets: list[str] | None = Field(
        default=None, min_length=1, description="profile names, local paths or hub:ID (default: the task's)"
    )
    batch_sizes: list[int] | None = Field(default=None, min_length=1)
    dtypes: list[Literal["float32", "float16", "bfloat16"]] | None = Field(default=None, min_length=1)
    reps: list[int] | None = Field(default=None, min_length=1, description="metered repetitions per run")
    weights: list[Literal["pretrained", "random"]] | None = Field(default=None, min_length=1)
    seeds: list[int] | None = Field(default=None, min_length=1, description="one run per seed")
    n: int | None = Field(default=None, ge=1, description="inferences per repetition")
    warmup: int | None = Field(default=None, ge=0)
    device: str | None = Field(default=None, pattern=r"^(cpu|cuda(:\d+)?)$")
    max_new_tokens: int | None = Field(default=None, ge=1)
    zero_shot: bool | None = None
    extra: dict[str, Any] | None = None

    @field_validator(*AXES, mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("batch_sizes", "reps")
    @classmethod
    def _positive(cls, values: list[int] | None) -> list[int] | None:
        for v in values or []:
            if v < 1:
                raise ValueError(f"every value must be at least 1, got {v}")
        return values


class Exclusion(_Strict):
    """Configurations to leave out: those matching every key given. Text values may be globs
    (``model: "tiny/*"``); each key takes one value or a list (any of them)."""

    task: list[str] | None = None
    model: list[str] | None = None
    dataset: list[str] | None = None
    batch_size: list[int] | None = None
    dtype: list[str] | None = None
    reps: list[int] | None = None
    weights: list[str] | None = None
    seed: list[int] | None = None
    device: list[str] | None = None
    mode: list[Literal["task-specific", "zero-shot"]] | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _as_list(value)

    @model_validator(mode="after")
    def _not_empty(self) -> Exclusion:
        if not self.keys():
            raise ValueError("an exclusion needs at least one key (task, model, dataset, batch_size, ...)")
        return self

    def keys(self) -> dict[str, list[Any]]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class RayOptions(_Strict):
    """What each Ray task asks for: a run on ``cuda`` gets ``gpus_per_run`` whole GPUs (never shared)."""

    cpus_per_run: float = Field(default=1.0, gt=0)
    gpus_per_run: int = Field(default=1, ge=1)


class SweepFile(Block):
    """A whole sweep file: defaults and axes at the top level, optional ``matrix`` blocks, exclusions."""

    name: str | None = None
    description: str | None = None
    matrix: list[Block] | None = Field(default=None, min_length=1)
    exclude: list[Exclusion] = Field(default_factory=list)
    retries: int = Field(
        default=DEFAULT_RETRIES, ge=0, le=10, description="attempts after the first for a failed run"
    )
    timeout_s: float | None = Field(default=DEFAULT_TIMEOUT_S, gt=0, description="per run")
    ray: RayOptions = Field(default_factory=RayOptions)


_MODELS: dict[str, type[BaseModel]] = {"matrix": Block, "exclude": Exclusion, "ray": RayOptions}


def _model_at(path: KeyPath) -> type[BaseModel]:
    return _MODELS.get(str(path[0]), SweepFile) if len(path) > 1 else SweepFile


# --------------------------------------------------------------------------------- YAML with lines


@dataclass
class Located:
    """The parsed YAML and the line of every key and list item in it."""

    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def known(self, path: KeyPath) -> KeyPath:
        """The longest start of ``path`` that the file has (``models[0]`` of ``models: x`` is ``models``)."""
        for i in range(len(path), -1, -1):
            if path[:i] in self.lines:
                return path[:i]
        return ()

    def line(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of the nearest enclosing key that the file has."""
        return self.lines.get(self.known(path))

    def problem(self, path: KeyPath, message: str) -> Problem:
        """A problem at ``path``, named as the file writes it, with its line."""
        where = self.known(path) if self.lines else path
        return Problem(where, message, self.lines.get(where))


def parse_yaml(text: str, source: str) -> Located:
    """Parse ``text`` (safe YAML), recording lines; duplicate keys and syntax errors are problems."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(err, "problem", None) or str(err)
        raise SweepFileError(source, [Problem((), f"not valid YAML: {problem}", line)]) from None
    except RecursionError:
        raise SweepFileError(
            source, [Problem((), "nested too deeply to read (thousands of levels); a sweep file needs a few")]
        ) from None
    if node is None:
        raise SweepFileError(source, [Problem((), "the file is empty; see docs/sweep.md for its keys")])
    expanded = _expanded_size(node, MAX_YAML_NODES)
    if expanded > MAX_YAML_NODES:
        raise SweepFileError(
            source,
            [
                Problem(
                    (),
                    f"its aliases (*name) expand to more than {MAX_YAML_NODES:,} values; a sweep file needs "
                    "far fewer: write the lists out, or use fewer nested aliases",
                    node.start_mark.line + 1,
                )
            ],
        )
    lines: dict[KeyPath, int] = {(): node.start_mark.line + 1}
    problems: list[Problem] = []

    def walk(n: yaml.Node, path: KeyPath) -> None:
        if isinstance(n, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for k, v in n.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else str(k.value)
                here = k.start_mark.line + 1
                if key in seen:
                    problems.append(
                        Problem((*path, key), f"duplicate key (first given on line {seen[key]})", here)
                    )
                seen[key] = here
                lines[(*path, key)] = here
                walk(v, (*path, key))
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                lines[(*path, i)] = item.start_mark.line + 1
                walk(item, (*path, i))

    walk(node, ())
    if problems:
        raise SweepFileError(source, problems)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:  # a tag or anchor the composer accepted but the constructor does not
        raise SweepFileError(source, [Problem((), f"not valid YAML: {err}")]) from None
    return Located(data, lines)


def _expanded_size(root: Any, limit: int) -> int:
    """How many nodes the YAML graph under ``root`` holds with every alias expanded, counted without
    expanding them (an aliased node is counted once per use from a memo); past ``limit`` (or for an
    alias inside its own anchor, which expands forever) the answer is ``limit + 1``."""
    import yaml

    memo: dict[int, int] = {}
    open_: set[int] = set()
    # Iterative post-order walk: a deeply nested file must not hit Python's recursion limit here.
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        n, done = stack.pop()
        if isinstance(n, yaml.MappingNode):
            children = [c for pair in n.value for c in pair]
        elif isinstance(n, yaml.SequenceNode):
            children = list(n.value)
        else:
            memo[id(n)] = 1
            continue
        if done:
            open_.discard(id(n))
            memo[id(n)] = min(limit + 1, 1 + sum(memo[id(c)] for c in children))
            continue
        if id(n) in memo:
            continue
        if id(n) in open_:  # an alias of a node inside itself
            return limit + 1
        open_.add(id(n))
        stack.append((n, True))
        for c in children:
            if id(c) in open_:
                return limit + 1
            if id(c) not in memo:
                stack.append((c, False))
    return memo[id(root)]


def _describe(err: dict[str, Any]) -> tuple[KeyPath, str]:
    loc: KeyPath = tuple(p for p in err["loc"] if isinstance(p, (str, int)))
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        allowed = list(_model_at(loc).model_fields)
        near = closest(key, allowed, n=3)
        hint = f"; did you mean {', '.join(repr(s) for s in near)}?" if near else ""
        return loc, f"unknown key {key!r}{hint} (keys here: {', '.join(allowed)})"
    if kind == "missing":
        return loc, "this key is required"
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    value = err.get("input")
    if kind not in ("value_error",) and isinstance(value, (str, int, float, bool)) and value is not None:
        msg += f" (got {value!r})"
    return loc, msg


def load_text(text: str, source: str = "<sweep>") -> tuple[SweepFile, Located]:
    """Validate the text of a sweep file; :class:`SweepFileError` lists every problem with its line."""
    located = parse_yaml(text, source)
    if not isinstance(located.data, dict):
        raise SweepFileError(
            source,
            [
                Problem(
                    (),
                    "a sweep file is a mapping of keys (tasks:, models:, datasets:, ...), "
                    f"not a {type(located.data).__name__}",
                    located.line(()),
                )
            ],
        )
    try:
        spec = SweepFile.model_validate(located.data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc, msg = _describe(dict(err))
            if err["type"] in ("extra_forbidden", "missing"):
                problems.append(Problem(loc, msg, located.line(loc)))
            else:
                problems.append(located.problem(loc, msg))
        raise SweepFileError(source, problems) from None
    return spec, located


def load_file(path: str | Path) -> tuple[SweepFile, Located]:
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SweepFileError(str(path), [Problem((), "no such file")]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise SweepFileError(str(path), [Problem((), f"cannot read it ({err})")]) from None
    return load_text(text, str(path))
