"""Command-line options generated from a parameter model (:mod:`wattsup.params`).

``@bind("inp", FootprintInput)`` replaces a command's parameter ``inp`` by one typer option per field of
the model: the flag from the field (``param(flag=...)``, else ``--field-name``), the help from its
description, unit and choices, the default from the model; a list field is a repeatable option, a bool a
switch. The command receives the model, built and checked by the model itself, so a bad value is one
line naming the flag (``--pue: must be at least 1, got 0.5``). Adding a field to the model adds the option.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

import typer
from pydantic.fields import FieldInfo

from wattsup.params import (
    build,
    choices,
    field_infos,
    flags_of,
    is_many,
    members,
    metavar_of,
    offered,
    plain,
    unit_of,
)

F = TypeVar("F", bound=Callable[..., Any])

_SCALARS = (bool, int, float, str, Path)


def cli_type(annotation: Any) -> Any:
    """The type typer parses the option as: the scalar of the field; a whole number for choices of whole
    numbers; text for other choices and timestamps (the model reads and checks them); a list of text for
    a field of several values."""
    if is_many(annotation):
        return list[str] | None
    optional = type(None) in members(plain(annotation))
    kinds = [plain(m) for m in members(plain(annotation)) if m is not type(None)]
    base: Any = str
    if len(kinds) == 1 and kinds[0] in _SCALARS:
        base = kinds[0]
    elif len(kinds) == 1 and get_origin(kinds[0]) is Literal and all(_is_int(v) for v in get_args(kinds[0])):
        base = int
    elif len(kinds) == 1 and kinds[0] is not datetime and get_origin(kinds[0]) is not Literal:
        raise TypeError(f"no command-line option for a field of type {annotation!r}")
    return base | None if optional else base


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def help_text(model: type[Any], name: str, info: FieldInfo) -> str:
    text = (info.description or "").rstrip()
    unit = unit_of(model, name)
    if unit:
        text += f" Unit: {unit}."
    found = choices(info.annotation)
    if found:
        text += f" One of: {', '.join(found)}."
    if is_many(info.annotation):
        text += " Repeatable."
    return text.strip()


def _default(info: FieldInfo) -> Any:
    if info.default_factory is not None:
        return None
    default = info.default
    if isinstance(default, tuple | list) and not default:
        return None
    return default


def bound_fields(
    model: type[Any], include: Iterable[str] | None = None, exclude: Iterable[str] = ()
) -> list[str]:
    """The fields a command offers: those named in ``include`` (default: every offered field) less
    ``exclude``."""
    infos = field_infos(model)
    names = list(include) if include is not None else [n for n in infos if offered(model, n)]
    unknown = [n for n in names if n not in infos]
    if unknown:
        raise TypeError(f"{model.__name__} has no field {', '.join(unknown)}")
    return [n for n in names if n not in set(exclude)]


def options(
    model: type[Any], names: Sequence[str], prefix: str, unset: Mapping[str, str] | None = None
) -> list[inspect.Parameter]:
    """One keyword-only typer option per field, named ``{prefix}__{field}`` (no clash with the
    command's own parameters); a field in ``unset`` has no default (the command supplies its own) and
    its help ends with ``unset``'s sentence saying what that default is."""
    infos = field_infos(model)
    out = []
    for name in names:
        info = infos[name]
        own = (unset or {}).get(name)
        opt = typer.Option(
            _default(info) if own is None else None,
            *flags_of(model, name),
            help=help_text(model, name, info) + ("" if own is None else f" {own}"),
            metavar=metavar_of(model, name),
        )
        kind = cli_type(info.annotation)
        out.append(
            inspect.Parameter(
                f"{prefix}__{name}",
                inspect.Parameter.KEYWORD_ONLY,
                default=opt,
                annotation=kind if own is None else kind | None,
            )
        )
    return out


def _evaluated(func: Callable[..., Any], skip: str) -> list[inspect.Parameter]:
    """The command's own parameters with their annotations evaluated (typer reads them from the
    signature), the bound one left out."""
    hints = typing.get_type_hints(func, include_extras=True)
    return [
        p.replace(annotation=hints.get(p.name, p.annotation))
        for p in inspect.signature(func).parameters.values()
        if p.name != skip
    ]


def collect(model: type[Any], names: Sequence[str], prefix: str, given: dict[str, Any]) -> dict[str, Any]:
    """The values of the bound options, taken out of ``given`` (a blank repeatable option is no value)."""
    values: dict[str, Any] = {}
    for name in names:
        value = given.pop(f"{prefix}__{name}")
        if isinstance(value, list):
            value = tuple(value) or None
        if value is not None:
            values[name] = value
    return values


def bind(
    name: str,
    model: type[Any],
    *,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    values: bool = False,
    unset: Mapping[str, str] | None = None,
) -> Callable[[F], F]:
    """Replace the command's parameter ``name`` by the options of ``model``'s fields; the command gets
    the model (``values=True``: the dict of the values given, for a command that adds its own before
    building the model with :func:`wattsup.params.build`). ``unset``: fields whose default the command
    decides (``values=True`` leaves them out when not given), each with the sentence its help adds."""
    names = bound_fields(model, include, exclude)

    def decorate(func: F) -> F:
        own = _evaluated(func, name)
        at = [p.name for p in inspect.signature(func).parameters.values()].index(name)
        params = [*own[:at], *options(model, names, name, unset), *own[at:]]

        @functools.wraps(func)
        def command(*args: Any, **kwargs: Any) -> Any:
            given = collect(model, names, name, kwargs)
            kwargs[name] = given if values else build(model, given)
            return func(*args, **kwargs)

        sig = inspect.Signature([p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params])
        command.__signature__ = sig  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        del command.__wrapped__  # typer reads the signature above, not the function's own
        return typing.cast(F, command)

    return decorate
