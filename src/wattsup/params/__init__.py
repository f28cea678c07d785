"""Parameters declared once: a field of a pydantic model (or pydantic dataclass) carries its bounds, its unit,
its help text and the command-line flag that sets it. The CLI (:mod:`wattsup.cli.params`) and the dashboard
(:mod:`wattsup.web.params`) generate their options and query parameters from these declarations, and the
model's own constraints do the checking; :func:`invalid_input` turns pydantic's error into the project's
:class:`~wattsup.errors.InvalidInput` naming the flag, with a sentence that says what is allowed.

This module is at the bottom of the layers: it needs pydantic only.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Sequence
from typing import Any, ClassVar, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from wattsup.errors import InvalidInput

__all__ = [
    "ParamModel",
    "build",
    "checked",
    "choices",
    "describe_error",
    "field_infos",
    "flag_of",
    "flags_of",
    "invalid_input",
    "is_many",
    "members",
    "metavar_of",
    "offered",
    "param",
    "plain",
    "range_text",
    "unit_of",
]


def param(
    default: Any = None,
    description: str = "",
    *,
    flag: str | tuple[str, ...] | None = None,
    unit: str | None = None,
    cli: bool = True,
    metavar: str | None = None,
    **constraints: Any,
) -> Any:
    """A field: ``default`` (or ``default_factory=``), help text, bounds (``ge``, ``gt``, ``le``,
    ``max_length`` ...; floats are finite unless ``allow_inf_nan=True``), the unit, the flag (default
    ``--field-name``; a tuple gives aliases, the first is the name errors use), whether the CLI offers it
    (``cli=False``: set by the command) and the placeholder its help shows for the value (``metavar``,
    e.g. ``PATH``)."""
    extra: dict[str, Any] = {"cli": cli}
    if flag is not None:
        extra["flag"] = [flag] if isinstance(flag, str) else list(flag)
    if unit is not None:
        extra["unit"] = unit
    if metavar is not None:
        extra["metavar"] = metavar
    if "ge" in constraints or "gt" in constraints or "le" in constraints or "lt" in constraints:
        constraints.setdefault("allow_inf_nan", False)
    if constraints.get("default_factory") is not None:  # a default read when a model is made
        return Field(description=description, json_schema_extra=extra, **constraints)
    return Field(default, description=description, json_schema_extra=extra, **constraints)


def field_infos(model: type[Any]) -> dict[str, FieldInfo]:
    """The fields of a pydantic model or pydantic dataclass, in declaration order."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return dict(model.model_fields)
    found: dict[str, FieldInfo] = model.__pydantic_fields__
    return dict(found)


def _extra(info: FieldInfo) -> dict[str, Any]:
    extra = info.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def flags_of(model: type[Any], name: str) -> list[str]:
    """The command-line flags of a field: declared, else ``--`` and the name with dashes."""
    declared = _extra(field_infos(model)[name]).get("flag")
    if isinstance(declared, list) and declared:
        return [str(f) for f in declared]
    return ["--" + name.replace("_", "-")]


def flag_of(model: type[Any], name: str) -> str:
    return flags_of(model, name)[0]


def unit_of(model: type[Any], name: str) -> str | None:
    unit = _extra(field_infos(model)[name]).get("unit")
    return None if unit is None else str(unit)


def metavar_of(model: type[Any], name: str) -> str | None:
    """The placeholder of the field's value in help text (``None``: the CLI's default for its type)."""
    metavar = _extra(field_infos(model)[name]).get("metavar")
    return None if metavar is None else str(metavar)


def offered(model: type[Any], name: str) -> bool:
    """Whether the CLI and the API offer the field as an option (``param(cli=False)``: they do not)."""
    return bool(_extra(field_infos(model)[name]).get("cli", True))


# ---------------------------------------------------------------- the shape of a field


def members(annotation: Any) -> list[Any]:
    """The members of a union (``X | None`` gives ``[X, None]``), else the annotation alone."""
    if get_origin(annotation) in (typing.Union, types.UnionType):
        return list(get_args(annotation))
    return [annotation]


def plain(annotation: Any) -> Any:
    """The type without ``Annotated`` metadata."""
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def choices(annotation: Any) -> tuple[str, ...] | None:
    """The values of a ``Literal`` field (also inside ``X | None`` or a sequence), else ``None``."""
    for found in members(plain(annotation)):
        member = plain(found)
        if get_origin(member) is Literal:
            return tuple(str(v) for v in get_args(member))
        if get_origin(member) in (list, tuple, Sequence) and get_args(member):
            inner = choices(get_args(member)[0])
            if inner:
                return inner
    return None


def is_many(annotation: Any) -> bool:
    """Whether a field takes several values (a list, tuple or sequence; maybe also one value)."""
    return any(get_origin(plain(m)) in (list, tuple, Sequence) for m in members(plain(annotation)))


def _num(v: Any) -> str:
    return format(v, "g") if isinstance(v, float | int) and not isinstance(v, bool) else repr(v)


_BOUNDS = {
    "greater_than_equal": ("ge", "must be at least {}"),
    "greater_than": ("gt", "must be greater than {}"),
    "less_than_equal": ("le", "must be at most {}"),
    "less_than": ("lt", "must be less than {}"),
}


def describe_error(err: Any) -> str:
    """One pydantic error as a sentence that says what is allowed and what was given."""
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    given = err.get("input")
    if kind in _BOUNDS:
        key, text = _BOUNDS[kind]
        return f"{text.format(_num(ctx.get(key)))}, got {_num(given)}"
    if kind == "finite_number":
        return f"must be a finite number, got {_num(given)}"
    if kind in ("float_parsing", "int_parsing", "float_type", "int_type", "int_from_float"):
        return f"expected a number, got {_num(given)}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}, got {_num(given)}"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_long":
        return f"give at most {ctx.get('max_length')} values"
    if kind == "value_error" and isinstance(ctx.get("error"), InvalidInput):
        return str(ctx["error"]).removeprefix(f"{ctx['error'].field}: ")
    return str(err.get("msg", "invalid value")).removeprefix("Value error, ")


def range_text(info: FieldInfo) -> str | None:
    """The whole range a field's bounds allow, as one phrase (``must be between 0 and 60``, ``must be a
    finite number > 0 and ≤ 1``), or ``None`` for a field without bounds."""
    low = high = ""
    lo = hi = None
    for bound in info.metadata:
        for key, sign in (("ge", "≥"), ("gt", ">")):
            if getattr(bound, key, None) is not None:
                low, lo = f"{sign} {_num(getattr(bound, key))}", (key, getattr(bound, key))
        for key, sign in (("le", "≤"), ("lt", "<")):
            if getattr(bound, key, None) is not None:
                high, hi = f"{sign} {_num(getattr(bound, key))}", (key, getattr(bound, key))
    if lo is None and hi is None:
        return None
    if lo is not None and hi is not None and lo[0] == "ge" and hi[0] == "le":
        return f"must be between {_num(lo[1])} and {_num(hi[1])}"
    whole = int in [plain(m) for m in members(plain(info.annotation))]
    noun = "a whole number" if whole else "a finite number"
    return f"must be {noun} " + " and ".join(part for part in (low, high) if part)


_RANGE_ERRORS = {*_BOUNDS, "finite_number"}


def invalid_input(
    model: type[Any], error: ValidationError, rename: dict[str, str] | None = None
) -> InvalidInput:
    """The first error of a model's validation as :class:`InvalidInput` naming the flag (or, for a check
    across fields, the flag its validator named). A model whose class sets ``range_errors = True`` says
    the field's whole range where a bound is broken (:func:`range_text`), not only the broken bound."""
    err = error.errors()[0]
    original = (err.get("ctx") or {}).get("error")
    if isinstance(original, InvalidInput):
        return original
    loc = err.get("loc") or ()
    fields = field_infos(model)
    name = str(loc[0]) if loc else ""
    flag = flag_of(model, name) if name in fields else (name or model.__name__)
    text = describe_error(err)
    if getattr(model, "range_errors", False) and name in fields and err.get("type") in _RANGE_ERRORS:
        whole = range_text(fields[name])
        text = text if whole is None else f"{whole}, got {_num(err.get('input'))}"
    return InvalidInput((rename or {}).get(flag, flag), text)


class ParamModel(BaseModel):
    """A frozen model of parameters whose construction raises :class:`InvalidInput` naming the flag
    instead of pydantic's :class:`ValidationError`."""

    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as err:
            raise invalid_input(type(self), err) from None

    def replaced(self, **changes: Any) -> Any:
        """A copy with ``changes``, validated like a new model (``model_copy`` would skip the checks)."""
        return type(self)(**{**dict(self), **changes})


C = typing.TypeVar("C", bound=type)


def checked(cls: C) -> C:
    """Make a pydantic dataclass raise :class:`InvalidInput` naming the flag when it is made (or
    ``dataclasses.replace``-d) with a bad value, as :class:`ParamModel` does."""
    init = getattr(cls, "__init__")  # noqa: B009 (the class's own, wrapped below)

    def checked_init(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except ValidationError as err:
            raise invalid_input(cls, err) from None

    setattr(cls, "__init__", checked_init)  # noqa: B010
    return cls


def build(model: type[Any], values: dict[str, Any], rename: dict[str, str] | None = None) -> Any:
    """Construct ``model`` (a pydantic model or dataclass) from ``values``; errors name the flag
    (``rename``: the flag the user gave instead, where a command sets a field from its own option)."""
    try:
        return model(**values)
    except ValidationError as err:
        raise invalid_input(model, err, rename) from None
    except InvalidInput as err:
        if rename and err.field in rename:
            field = rename[err.field]
            raise InvalidInput(field, str(err).removeprefix(f"{err.field}: ")) from None
        raise


def is_dataclass_model(model: type[Any]) -> bool:
    return dataclasses.is_dataclass(model) and hasattr(model, "__pydantic_fields__")
