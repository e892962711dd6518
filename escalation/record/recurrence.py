"""“Last time”: which earlier alerts count as the same problem.

Two alerts are the same problem when they have the same fingerprint, or the same
*recurrence key*: the alert's name (its ``alertname`` label, else its title) together with
the values of the operator's *key labels* (by default ``service`` and ``instance``). The
key survives what a fingerprint does not: a generic source that puts a changing value in
its title's labels, a re-created Alertmanager rule, a tool that sends no fingerprint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

DEFAULT_KEY_LABELS: tuple[str, ...] = ("service", "instance")


def alert_name(title: str, labels: Mapping[str, str]) -> str:
    return labels.get("alertname") or title


def recurrence_key(title: str, labels: Mapping[str, str], key_labels: Sequence[str]) -> str:
    """32 hex digits of a SHA-256 over the alert's name and its key labels' values.

    A key label the alert does not carry is left out, so ``DiskFull`` with ``instance=db-1``
    and ``DiskFull`` with ``instance=db-2`` differ, but both differ from a ``DiskFull``
    without ``instance``."""
    parts = [alert_name(title, labels).strip().casefold()]
    for name in sorted(set(key_labels)):
        if name in labels and name != "alertname":
            parts.append(f"{name}={labels[name]}")
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()
    return digest[:32]


def window_start(fired_at: datetime, *, days: int) -> datetime:
    """Where the "fired N times in the last ``days`` days" window of an alert begins: the
    window ends when this alert fired, so the figure never changes once shown."""
    return fired_at - timedelta(days=days)
