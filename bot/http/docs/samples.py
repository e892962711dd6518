"""Sample alerts of each format, for `tocsin send-test` (each source declares its own)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from escalation.sources import SOURCES


def samples(*, now: datetime, run: str) -> dict[str, dict[str, Any]]:
    """One payload per format; ``run`` makes the fingerprints unique to this invocation."""
    return {name: source.send_test(now, run) for name, source in SOURCES.items()}
