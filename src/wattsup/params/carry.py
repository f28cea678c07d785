"""Building one record from another that declares some of the same fields, without restating each."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

from pydantic import BaseModel

__all__ = ["shared_fields"]


def shared_fields(source: object, target: type[BaseModel], *, but: Collection[str] = ()) -> dict[str, Any]:
    """``source``'s values of the fields that ``target`` declares and ``source``'s class declares too (a
    pydantic model or a dataclass), leaving out ``but``: keyword arguments for ``target``, which validates
    them. A field added to both classes is carried with no edit here or at the call."""
    if isinstance(source, BaseModel):
        declared = set(type(source).model_fields)
    elif dataclasses.is_dataclass(source) and not isinstance(source, type):
        declared = {f.name for f in dataclasses.fields(source)}
    else:
        raise TypeError(f"shared_fields reads a pydantic model or a dataclass, not {type(source).__name__}")
    return {n: getattr(source, n) for n in target.model_fields if n in declared and n not in but}
