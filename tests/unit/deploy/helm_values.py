"""The Helm chart's values reference, generated: the `env` and `secrets` keys of
values.schema.json from the settings, and the docs' values table from the schema.

After a setting or a schema description changes, run
`.venv/bin/python -m tests.unit.deploy.helm_values` (test_helm_chart.py holds both equal).
"""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path
from typing import Any

import annotated_types
import yaml
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from config.settings import EXAMPLE_POLICY, Settings

ROOT = Path(__file__).parents[3]
CHART = ROOT / "deploy" / "helm" / "tocsin"
SCHEMA = CHART / "values.schema.json"
DOCS = ROOT / "docs" / "production.md"
START, END = "<!-- helm-values:start -->\n", "<!-- helm-values:end -->"

# Settings the chart sets itself, each from its own values: not in `env`.
MANAGED = {
    "TOCSIN_HOST": "the image's `0.0.0.0`",
    "TOCSIN_PORT": "`containerPort`",
    "TOCSIN_DATABASE_URL": "`database`",
    "TOCSIN_CONFIG": "`policy`",
    "TOCSIN_MIGRATE_ON_START": "`migrations.initContainer`",
    "TOCSIN_FAULT_POINT": "tests only",
}


def _is_secret(info: FieldInfo) -> bool:
    return SecretStr in typing.get_args(info.annotation) or info.annotation is SecretStr


def _json_type(annotation: Any) -> dict[str, Any]:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return _json_type(args[0])
    if origin is typing.Literal:
        return {"type": "string", "enum": list(args)}
    names = {bool: "boolean", int: "integer", float: "number"}
    return {"type": names.get(annotation, "string")}


def _bounds(info: FieldInfo) -> dict[str, Any]:
    bounds: dict[str, Any] = {}
    for meta in info.metadata:
        if isinstance(meta, annotated_types.Gt):
            bounds["exclusiveMinimum"] = meta.gt
        elif isinstance(meta, annotated_types.Ge):
            bounds["minimum"] = meta.ge
        elif isinstance(meta, annotated_types.Le):
            bounds["maximum"] = meta.le
    return bounds


def _tocsin_default(info: FieldInfo) -> str:
    default = info.default
    if default is None:
        return "unset"
    if default == EXAMPLE_POLICY:
        return "`config/example.yaml`"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, float):
        return f"`{default:g}`"
    return f"`{default}`"


def _description(info: FieldInfo) -> str:
    text = " ".join((info.description or "").split())
    return f"{text} Tocsin's default: {_tocsin_default(info)}."


def settings_properties() -> tuple[dict[str, Any], dict[str, Any]]:
    """The schema's `env` and `secrets` properties, one per setting the chart passes."""
    env: dict[str, Any] = {}
    secrets: dict[str, Any] = {}
    for info in Settings.model_fields.values():
        name = str(info.alias)
        if name in MANAGED:
            continue
        if _is_secret(info):
            secrets[name] = {"type": "string", "description": _description(info)}
        else:
            env[name] = {**_json_type(info.annotation), **_bounds(info)}
            env[name]["description"] = _description(info)
    return env, secrets


def schema_with_settings(schema: dict[str, Any]) -> dict[str, Any]:
    env, secrets = settings_properties()
    updated: dict[str, Any] = json.loads(json.dumps(schema))
    for key, properties in (("env", env), ("secrets", secrets)):
        updated["properties"][key]["properties"] = properties
        updated["properties"][key]["additionalProperties"] = False  # a misspelt name is an error
    return updated


def _default(value: Any) -> str:
    if value in ("", {}, []):
        return "`" + json.dumps(value) + "`"
    shown = json.dumps(value, ensure_ascii=False)
    return "`" + (shown if len(shown) <= 40 else shown[:37] + "…") + "`"


def values_table(schema: dict[str, Any], defaults: dict[str, Any]) -> str:
    """A Markdown table of every value the schema names, with its default from values.yaml."""
    rows = ["| value | default | meaning |", "|---|---|---|"]

    def walk(properties: dict[str, Any], given: dict[str, Any], prefix: str) -> None:
        for key, spec in properties.items():
            path = f"{prefix}{key}"
            nested = spec.get("properties")
            if nested and key not in ("env", "secrets"):
                walk(nested, given.get(key, {}), f"{path}.")
                continue
            default = _default(given[key]) if key in given else "—"
            if key in ("env", "secrets"):
                default = "see below"
            meaning = spec["description"].replace("|", "\\|")
            rows.append(f"| `{path}` | {default} | {meaning} |")
            if key in ("env", "secrets"):
                for name, setting in nested.items():
                    shown = _default(given[key][name]) if name in given.get(key, {}) else "—"
                    text = setting["description"].replace("|", "\\|")
                    rows.append(f"| `{path}.{name}` | {shown} | {text} |")

    walk(schema["properties"], defaults, "")
    managed = ", ".join(f"`{name}` ({how})" for name, how in MANAGED.items())
    return "\n".join(rows) + f"\n\nSet by the chart, not in `env`: {managed}.\n"


def load() -> tuple[dict[str, Any], dict[str, Any]]:
    schema: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    defaults: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    return schema, defaults


def main() -> None:
    schema, defaults = load()
    schema = schema_with_settings(schema)
    SCHEMA.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    text = DOCS.read_text(encoding="utf-8")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    DOCS.write_text(head + START + values_table(schema, defaults) + END + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
