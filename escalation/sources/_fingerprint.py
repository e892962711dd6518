"""Stable fingerprints for alerts whose source gives no fingerprint or dedup key of its own."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

FINGERPRINT_LENGTH = 16


def derive_fingerprint(*, title: str, labels: Mapping[str, str]) -> str:
    """First 16 hex digits of the SHA-256 of ``title`` and the labels sorted by name.

    The same title and labels always give the same fingerprint, whatever the order the labels
    came in; any change to the title, a label name or a label value gives another one.
    """
    canonical = json.dumps(
        [title, sorted(labels.items())], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]


STORED_FINGERPRINT_CHARS = 255
"""The longest fingerprint the database keeps (storage.tables: ``fingerprint`` columns)."""


def keyed_fingerprint(source: str, key: str) -> str:
    """``<source>:<key>``, the fingerprint of a source whose tool names its alerts; a key too
    long to be stored is replaced by its SHA-256 (the same key, the same fingerprint)."""
    fingerprint = f"{source}:{key}"
    if len(fingerprint) <= STORED_FINGERPRINT_CHARS:
        return fingerprint
    return f"{source}:sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"
