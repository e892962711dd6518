"""The policy the service runs now, and whether the file on disk could be used.

One :class:`LivePolicy` holds the running :class:`Snapshot` (the validated file, its rules and
a hash of its content). A reload builds a whole new snapshot first and then switches to it in
one synchronous step (no ``await`` in between), so no coroutine ever sees half of one file
and half of another; what keeps derived state (the directory, the access rules, a worker's
rules…) subscribes with :meth:`LivePolicy.subscribe` and is updated in that same step. A file
that cannot be used leaves the snapshot as it is and is remembered as *stale* with every
problem, for ``/readyz``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.policy.rules import Rules
from config.policy import PolicyFile


def content_version(text: bytes) -> str:
    """The version ``/readyz`` and the metrics show: the first 12 hex digits of the file's
    SHA-256 (the same file on every replica has the same version)."""
    return hashlib.sha256(text).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One policy file, validated, with its rules built; never changed once made."""

    path: Path
    version: str
    policy: PolicyFile
    rules: Rules


Subscriber = Callable[[Snapshot], None]


class LivePolicy:
    def __init__(self, snapshot: Snapshot) -> None:
        self._current = snapshot
        self._subscribers: list[Subscriber] = []
        self.errors: tuple[str, ...] = ()
        """The problems of the file on disk when it was refused; empty while it runs."""
        self.refused_version: str | None = None
        """The version of the refused file (one admin DM per refused content)."""
        self.sandbox_people: tuple[str, ...] = ()
        """The sandbox's fake people the running file still names (with a real Slack)."""

    @property
    def current(self) -> Snapshot:
        return self._current

    @property
    def stale(self) -> bool:
        return bool(self.errors)

    def subscribe(self, subscriber: Subscriber) -> None:
        """``subscriber`` is called with every new snapshot, in the switch itself."""
        self._subscribers.append(subscriber)

    def switch(self, snapshot: Snapshot) -> None:
        """Run ``snapshot`` from now on; synchronous, so atomic for the event loop."""
        self._current = snapshot
        self.errors = ()
        self.refused_version = None
        for subscriber in self._subscribers:
            subscriber(snapshot)

    def refuse(self, version: str, errors: list[str]) -> None:
        """The file on disk (``version``) cannot be used: keep running the current one."""
        self.errors = tuple(errors)
        self.refused_version = version

    def report(self) -> dict[str, object]:
        """The ``config`` part of ``/readyz``."""
        found: dict[str, object] = {
            "status": "stale" if self.stale else "current",
            "version": self._current.version,
            "path": str(self._current.path),
        }
        if self.stale:
            found["errors"] = list(self.errors)
            found["refused_version"] = self.refused_version
        if self.sandbox_people:
            found["sandbox_people"] = list(self.sandbox_people)
        return found
