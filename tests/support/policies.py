"""Policy files for tests: the shipped example with extra integrations or sections."""

from __future__ import annotations

import json
import re
from pathlib import Path

from config.settings import EXAMPLE_POLICY
from escalation.sources.template import EXAMPLE_MAPPING

FUZZ_INTEGRATION = (
    '  - {name: fuzz, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}",'
    " rate_limit: {per_minute: 1000000, burst: 100000}}\n"
)


def integration_item(name: str, fmt: str, *, extra: str = "") -> str:
    """A YAML list item declaring an integration of ``fmt`` with the webhook token; a
    template integration gets the worked example's mapping (its examples' and fixtures')."""
    if fmt == "template":
        extra += f", template: {json.dumps(EXAMPLE_MAPPING)}"
    return f'  - {{name: {name}, format: {fmt}, token: "${{TOCSIN_WEBHOOK_TOKEN}}"{extra}}}\n'


def example_policy(tmp_path: Path, *, integrations: str = "", tail: str = "") -> Path:
    """The shipped example plus ``integrations`` (YAML list items) and ``tail`` (sections)."""
    marker = "integrations:\n"
    text = EXAMPLE_POLICY.read_text().replace(marker, marker + integrations, 1) + tail
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path


_LINE = re.compile(r"^line \d+: ")


def without_lines(problems: list[str]) -> list[str]:
    """Policy problems with their ``line N:`` taken off, for tests about the place and the
    message (tests/unit/config/test_policy_lines.py checks the lines)."""
    return [_LINE.sub("", problem) for problem in problems]
