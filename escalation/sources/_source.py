"""What a source module declares: one :class:`Source` holding everything about its format.

The registry (``escalation.sources``) collects them; the policy file's allowed formats, the
OpenAPI document, ``tocsin send-test``'s samples, the README's list of formats and the
registry tests are all derived from these objects, so a source is added in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from escalation.model import AlertEvent

Parser = Callable[[object], list[AlertEvent]]
"""Takes the decoded JSON body (what ``json.loads`` returned), gives its events or raises
:class:`escalation.errors.PayloadError`."""

Schema = Mapping[str, Any]
"""A JSON Schema (draft 2020-12, as OpenAPI 3.1 uses it) of a request body."""

# Fragments the sources' schemas share. A JSON null counts as an absent optional field in
# every format (escalation.sources._validate); the OpenAPI document adds that to every
# optional property, so a source writes its schema without it.
STR: Schema = {"type": "string"}
STR_MAP: Schema = {"type": "object", "additionalProperties": {"type": "string"}}
TIME: Schema = {"type": "string", "format": "date-time"}
NON_BLANK = r"[^\s\u001c-\u001f\u0085]"
r"""A ``pattern``: not blank as the parsers see it (``str.strip()`` also strips the
separators U+001C-U+001F and U+0085, which a JSON Schema regex's ``\s`` leaves)."""
ANY: Schema = {}
"""Any JSON value: the field is kept as is (as a detail), never read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    """A body the parser accepts, shown in the OpenAPI document (a test posts each one)."""

    name: str
    """Unique across all sources, e.g. ``pagerduty-trigger``."""
    summary: str
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """One webhook format: the integration's ``format`` in the policy file names it."""

    name: str
    """The ``format`` value; equal to the module's name."""
    title: str
    """One line: what sends it (README list, OpenAPI schema title)."""
    parse: Parser
    schema: Schema
    """The body's JSON Schema, as strict as the parser: what it refuses, the schema refuses."""
    examples: tuple[Example, ...]
    """At least one; the first is the smallest useful body."""
    send_test: Callable[[datetime, str], dict[str, Any]]
    """A sample alert for ``tocsin send-test``: ``(now, run)``, where ``run`` makes its
    fingerprint unique to one invocation."""
    docs_url: str = ""
    """The sending tool's documentation of the format."""
    auth: str = ""
    """How senders of this format may authenticate beyond ``Authorization: Bearer`` and
    ``?token=`` (README list, OpenAPI description)."""
    maps: str = ""
    """One line, what becomes what: firing/resolved, fingerprint, severity, labels, links
    (the README's table of sources)."""
