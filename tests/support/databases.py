"""Database URLs for tests: a temporary SQLite file, or a fresh PostgreSQL database."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from config.settings import async_url
from storage.db import Database

POSTGRES_ENV = "TOCSIN_TEST_POSTGRES_URL"
SKIP_REASON = f"PostgreSQL tests need {POSTGRES_ENV} (.ci/run sets it to the local server)"


def postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@contextlib.asynccontextmanager
async def database(kind: str, tmp_path: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'tocsin.db'}"
        return
    base = postgres_url()
    if base is None:
        pytest.skip(SKIP_REASON)
    name = f"tocsin_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(base)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    prefix, _, _ = base.rpartition("/")
    try:
        yield f"{prefix}/{name}"
    finally:
        admin = await asyncpg.connect(base)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@contextlib.asynccontextmanager
async def migrated(kind: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh database of ``kind`` (``sqlite`` or ``postgres``) at the schema's head."""
    async with database(kind, tmp_path) as url:
        db = Database(async_url(url))
        await db.upgrade()
        try:
            yield db
        finally:
            await db.dispose()
