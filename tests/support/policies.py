"""Policy files for tests: the shipped example with extra integrations or sections."""

from __future__ import annotations

from pathlib import Path

from config.settings import EXAMPLE_POLICY

FUZZ_INTEGRATION = (
    '  - {name: fuzz, format: generic, token: "${TOCSIN_WEBHOOK_TOKEN}",'
    " rate_limit: {per_minute: 1000000, burst: 100000}}\n"
)


def example_policy(tmp_path: Path, *, integrations: str = "", tail: str = "") -> Path:
    """The shipped example plus ``integrations`` (YAML list items) and ``tail`` (sections)."""
    marker = "integrations:\n"
    text = EXAMPLE_POLICY.read_text().replace(marker, marker + integrations, 1) + tail
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return path
