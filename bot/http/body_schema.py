"""A source's body schema as the webhook endpoint really takes it.

A source writes the shape its parser reads (escalation.sources). Two rules hold for every
format and are added here, so the OpenAPI document says what the service does:
- a JSON ``null`` counts as an absent optional field (escalation.sources._validate);
- no string and no key may hold a NUL character or a lone UTF-16 surrogate, and anything a
  parser keeps without reading ("any JSON") is, as documented, a shallow value: the body
  checks of bot.http.body_checks refuse the former with a 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NO_NUL = r"^[^\u0000]*$"
"""No NUL character in a string (as regex text: the document holds no NUL itself). A lone
surrogate (an unpaired ``\ud800``-``\udfff`` escape) is refused too, but no JSON Schema regex
dialect can name one (it is no character of the JSON data model), so the body's description
says it."""

_TEXT: dict[str, Any] = {"type": "string", "pattern": NO_NUL}
_SCALAR: dict[str, Any] = {"anyOf": [{"type": ["null", "boolean", "number"]}, _TEXT]}
ANY_VALUE: dict[str, Any] = {
    "description": "Any JSON value (kept as a detail); strings without NUL characters.",
    "anyOf": [
        _SCALAR,
        {"type": "array", "items": _SCALAR},
        {"type": "object", "propertyNames": {"pattern": NO_NUL}, "additionalProperties": _SCALAR},
    ],
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
        out["propertyNames"] = {**out.get("propertyNames", {}), "pattern": NO_NUL}
        extra = out.get("additionalProperties", {})
        if extra is not False:
            out["additionalProperties"] = documented(extra)
    if _is(out, "string"):
        if "pattern" in out:
            return {"allOf": [out, {"pattern": NO_NUL}]}
        out["pattern"] = NO_NUL
    return out


def _is(schema: Mapping[str, Any], kind: str) -> bool:
    declared = schema.get("type")
    return declared == kind or (isinstance(declared, list) and kind in declared)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}
