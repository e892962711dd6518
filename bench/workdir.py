"""Where a benchmark puts the policy file of the ``tocsin serve`` it starts."""

from __future__ import annotations

from pathlib import Path


def policy_file(workdir: Path, text: str) -> Path:
    """``text`` written as ``workdir/config/policy.yaml``; its path.

    The service watches the policy's folder for edits, so the folder holds the policy alone,
    as in a deployment (the database in ``./data``, the policy in ``config/``): a bench's
    logs and SQLite database stay in ``workdir``, and their writes never wake the watcher
    (a log line per webhook did, ~1.4 % of the service's CPU)."""
    path = workdir / "config" / "policy.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
