"""Validation errors of the policy file in the operator's words: ``place: what is wrong``.

Pydantic's messages are turned into short ones (``is required``, ``is not a known setting``),
an unknown key gets the closest known one (``repeat_afer`` → did you mean ``repeat_after``?),
and a key indented into the wrong mapping is pointed at. Secrets are never quoted.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from config.places import item, join

_SECRET_PLACE = re.compile(r"(token|secret|password|url)$")  # values an error must not quote
_MAPPING_TYPES = ("model_type", "dict_type", "model_attributes_type")


class Problems(ValueError):
    """Several problems found by one validator, each ``place: what is wrong`` with its own
    place, so that each can be shown on its own line with the line of the file."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def describe(error: Mapping[str, Any], *, model: type[BaseModel]) -> list[str]:
    """One pydantic error of validating ``model`` as problems ``place: what is wrong``."""
    context = error.get("ctx") or {}
    if isinstance(context.get("error"), Problems):
        return list(context["error"].problems)
    loc = tuple(error.get("loc", ()))
    path = place(loc)
    kind = str(error.get("type", ""))
    value = error.get("input")
    msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if kind == "missing":
        msg = "is required"
    elif kind == "extra_forbidden":
        msg = "is not a known setting" + _unknown_key_hint(loc, model)
    elif kind in _MAPPING_TYPES:
        msg = f"should be a mapping (key: value), not {_kind_of(value)}" + _misplaced_hint(
            loc, model
        )
    elif (
        value is not None
        and not isinstance(value, dict | list)
        and '"' not in msg
        and not _SECRET_PLACE.search(path)  # never echo a secret
    ):
        msg = f'"{value}": {msg}'
    return [f"{path}: {msg}" if path else msg]


def place(loc: Sequence[object]) -> str:
    """``("routes", 0, "channel")`` → ``routes[0].channel``; ``("levels", 1)`` → ``levels.1``."""
    path = ""
    for part in loc:
        if isinstance(part, int) and path and not _is_mapping_key(path):
            path = item(path, part)
        else:
            path = join(path, part)
    return path


def _is_mapping_key(path: str) -> bool:
    # levels.1 is a key of a mapping, not an index into a list
    return path.endswith("levels")


def _kind_of(value: object) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def _unknown_key_hint(loc: tuple[object, ...], model: type[BaseModel]) -> str:
    key = str(loc[-1])
    here = _model_at(model, loc[:-1])
    if here is None:
        return ""
    close = difflib.get_close_matches(key, _keys(here), n=1, cutoff=0.75)
    if close:
        return f"; did you mean {close[0]}?"
    for depth in range(len(loc) - 2, -1, -1):
        outer = _model_at(model, loc[:depth])
        if outer is not None and key in _keys(outer):
            where = place(loc[:depth]) or "the top level"
            return f"; {key} is a setting of {where}: check its indentation"
    return ""


def _misplaced_hint(loc: tuple[object, ...], model: type[BaseModel]) -> str:
    # teams: {ops: {...}, members: [...]}: "members" slipped out of the team it belongs to.
    expected = _model_at(model, loc)
    key = loc[-1] if loc else None
    if expected is None or not isinstance(key, str) or key not in _keys(expected):
        return ""
    return f"; {key} is a setting of each entry of {place(loc[:-1])}: check its indentation"


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _model_at(model: type[BaseModel], loc: Sequence[object]) -> type[BaseModel] | None:
    """The model validating the mapping at ``loc``, or ``None`` where there is none."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if part in (n, f.alias)), None)
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) is list and isinstance(part, int):
            current = typing.get_args(current)[0]
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``| None``; of a union, keep the member that is a model."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            annotation = (models or members)[0]
        else:
            return annotation
