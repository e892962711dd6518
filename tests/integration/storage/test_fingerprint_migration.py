"""Migration 0013 (fingerprints are each integration's own) on a database holding alerts and
noise drops from before it — SQLite and PostgreSQL: nothing is lost, open alerts stay
found by their integration and fingerprint, and the new keys hold."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from config.settings import async_url
from storage.alerts import find_open
from storage.db import Database, alembic_config
from tests.support.databases import database

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _to(revision: str) -> object:
    def run(connection: Connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    return run


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with database(request.param, tmp_path) as url:
        db = Database(async_url(url))
        try:
            yield db
        finally:
            await db.dispose()


async def test_rows_from_before_keep_their_integration_and_the_new_keys_hold(
    db: Database,
) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(_to("0012"))  # type: ignore[arg-type]
        await conn.execute(
            text(
                "INSERT INTO alert (fingerprint, integration, source, status, level, "
                "grade_reason, title, description, impact, suggested_actions, labels, "
                "annotations, links, details, team, channel, policy, fired_at, last_seen_at, "
                "count, resolved_by_source, version) VALUES ('fp', 'grafana', 'grafana', "
                "'firing', 2, '', 't', '', '', '', '{}', '{}', '[]', '{}', 'ops', '#a', 'p', "
                ":now, :now, 1, false, 1)"
            ),
            {"now": NOW},
        )
        await conn.execute(
            text(
                "INSERT INTO noise_drop (fingerprint, integration, title, metric, count, "
                "first_at, last_at, last_value, last_deviation, reason) VALUES "
                "('fp', 'grafana', 't', 'm', 3, :now, :now, 1.0, 0.1, 'r')"
            ),
            {"now": NOW},
        )
    await db.upgrade()

    async with db.read() as session:
        found = await find_open(session, "grafana", "fp")
        assert found is not None
        assert await find_open(session, "datadog", "fp") is None
    async with db.engine.begin() as conn:
        keys = await conn.run_sync(
            lambda sync: inspect(sync).get_pk_constraint("noise_drop")["constrained_columns"]
        )
        indexes = await conn.run_sync(lambda sync: inspect(sync).get_indexes("noise_drop"))
        assert sorted(keys) == ["fingerprint", "integration"]
        assert "ix_noise_drop_last_at" in {index["name"] for index in indexes}
        [count] = (await conn.execute(text("SELECT count FROM noise_drop"))).one()
        assert count == 3
        await conn.execute(
            text(
                "INSERT INTO noise_drop (fingerprint, integration, title, metric, count, "
                "first_at, last_at, last_value, last_deviation, reason) VALUES "
                "('fp', 'datadog', 't', 'm', 1, :now, :now, 1.0, 0.1, 'r')"
            ),
            {"now": NOW},
        )
    with pytest.raises(IntegrityError):
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO noise_drop (fingerprint, integration, title, metric, count, "
                    "first_at, last_at, last_value, last_deviation, reason) VALUES "
                    "('fp', 'datadog', 't', 'm', 1, :now, :now, 1.0, 0.1, 'r')"
                ),
                {"now": NOW},
            )
