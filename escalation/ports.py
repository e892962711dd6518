"""Ports: what the domain needs from the outer layers, as Protocols."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable


class Directory(Protocol):
    """Who is on call for a rotation at a moment (the shell builds it from the policy file)."""

    def on_call(self, rotation: str, *, at: datetime) -> str | None: ...


@runtime_checkable
class NamedDirectory(Directory, Protocol):
    """A directory that also knows people's names (the policy file's ``people``)."""

    def name(self, user: str) -> str: ...
