"""A source's body schema as the webhook endpoint really takes it.

A source writes the shape its parser reads (escalation.sources). Two rules hold for every
format and are added here, so the OpenAPI document says what the service does:
- a JSON ``null`` counts as an absent optional field (escalation.sources._validate);
- no string and no key may hold a NUL character (nor a lone UTF-16 surrogate, which no
  schema can name): bot.http.intake.body_checks refuses them with a 400.
A value a parser keeps without reading ("any JSON") is documented up to :data:`ANY_DEPTH`
levels deep, and an object's undeclared fields are such values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NO_NUL: dict[str, Any] = {"not": {"pattern": r"\u0000"}}
"""No NUL character in a string (as regex text: the document holds no NUL itself). Said with
``not`` rather than a ``^[^…]*$`` pattern: the same strings, but fuzzers generate them several
times faster. A lone surrogate (an unpaired ``\ud800``-``\udfff`` escape) is refused too, but
no JSON Schema regex dialect can name one (it is no character of the JSON data model): the
400 answer's description says it."""

_TEXT: dict[str, Any] = {"type": "string", **NO_NUL}
_SCALAR: dict[str, Any] = {"anyOf": [{"type": ["null", "boolean", "number"]}, _TEXT]}
ANY_DEPTH = 3
"""How deep the document describes a value a parser keeps without reading: any JSON up to
this depth is documented (deeper ones, up to bot.http.intake.body_checks.MAX_DEPTH, are taken
too)."""


def _any_value(depth: int) -> dict[str, Any]:
    if depth == 0:
        return _SCALAR
    inner = _any_value(depth - 1)
    return {
        "anyOf": [
            _SCALAR,
            {"type": "array", "items": inner},
            {"type": "object", "propertyNames": NO_NUL, "additionalProperties": inner},
        ]
    }


ANY_VALUE: dict[str, Any] = {
    "description": "Any JSON value (kept as a detail); no NUL character in strings or keys.",
    **_any_value(ANY_DEPTH),
}


def documented(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with the rules above added everywhere they apply."""
    if not schema:
        return dict(ANY_VALUE)
    out = dict(schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in out:
            out[key] = [documented(branch) for branch in out[key]]
    if "items" in out:
        out["items"] = documented(out["items"])
    if "properties" in out:
        required = set(out.get("required", ()))
        out["properties"] = {
            name: documented(sub) if name in required else _nullable(documented(sub))
            for name, sub in out["properties"].items()
        }
    if _is(out, "object"):
        out["propertyNames"] = {**out.get("propertyNames", {}), **NO_NUL}
        extra = out.get("additionalProperties", {})
        if extra is not False:
            out["additionalProperties"] = documented(extra)
    if _is(out, "string"):
        if "not" in out:
            return {"allOf": [out, NO_NUL]}
        out.update(NO_NUL)
    return out


def _is(schema: Mapping[str, Any], kind: str) -> bool:
    declared = schema.get("type")
    return declared == kind or (isinstance(declared, list) and kind in declared)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}
