"""Ports: what the domain needs from the outer layers, as Protocols."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Directory(Protocol):
    """Who is on call for a rotation at a moment (the shell builds it from the policy file)."""

    def on_call(self, rotation: str, *, at: datetime) -> str | None: ...
