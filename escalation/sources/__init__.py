"""The webhook sources, one module per format, each declaring one :class:`Source` as ``SOURCE``.

The registry finds them itself: every module of this package whose name does not start with
``_`` is a source (``_validate`` and ``_source`` are helpers). Discovery rather than a list
typed here, so that adding a source is its module, its fixtures and its test — nothing else
to edit, and no list to forget; a module without a proper ``SOURCE`` stops the import with
an error naming it. Everything else (``SOURCES``, ``PARSERS``, ``FORMATS``) is derived.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType

from escalation.sources._source import Example, Parser, Schema, Source


def _discover() -> dict[str, Source]:
    found: dict[str, Source] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        source = getattr(module, "SOURCE", None)
        if not isinstance(source, Source):
            raise TypeError(f"{module.__name__} must declare SOURCE = Source(...)")
        if source.name != module_info.name:
            raise ValueError(
                f"{module.__name__}: SOURCE.name is {source.name!r}; it must be the module's "
                f"name, {module_info.name!r}"
            )
        found[source.name] = source
    return found


SOURCES: Mapping[str, Source] = MappingProxyType(_discover())
"""Every source by name, in name order."""

PARSERS: Mapping[str, Parser] = MappingProxyType(
    {name: source.parse for name, source in SOURCES.items()}
)

FORMATS: tuple[str, ...] = tuple(SOURCES)

__all__ = ["FORMATS", "PARSERS", "SOURCES", "Example", "Parser", "Schema", "Source"]
