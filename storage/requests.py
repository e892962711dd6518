"""Requests from people, acted on once: the processed-request keys, and what acting on one
answers. Below ``storage.actions`` and the noise rooms, which both use them."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.tables import ProcessedRequestRow

Also = Callable[[AsyncSession, int], Awaitable[None]]
"""More to write with an action, given the session and the alert id."""


@dataclass(frozen=True, slots=True)
class ActionResult:
    ok: bool
    message: str
    rule: str | None = None
    duplicate: bool = False


async def first_time(db: Database, *, key: str, now: datetime) -> bool:
    """Record a Slack request key; ``False`` if it was seen before (a retry or a replay)."""
    try:
        async with db.write() as session:
            session.add(ProcessedRequestRow(key=fit_key(key), received_at=now))
    except IntegrityError:
        return False
    return True


def fit_key(key: str) -> str:
    """Keys fit the column: a long one (Slack ids are short; a forged one may not be) is
    replaced by its digest, which is as unique."""
    if len(key) <= 200:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
