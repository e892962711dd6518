"""``one_of``: an id set as one array parameter on PostgreSQL, ``IN`` on SQLite."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from storage.id_sets import one_of
from storage.tables import OutboxRow, table_of

OUTBOX = table_of(OutboxRow)
POSTGRES = create_async_engine("postgresql+asyncpg://tocsin@localhost/tocsin").dialect
SQLITE = create_async_engine("sqlite+aiosqlite://").dialect


def _sql(ids: list[int], *, postgres: bool) -> tuple[str, dict[str, object]]:
    query = select(OUTBOX.c.id).where(one_of(OUTBOX.c.id, ids, postgres=postgres))
    compiled = query.compile(dialect=POSTGRES if postgres else SQLITE)
    return str(compiled), dict(compiled.params)


def test_postgresql_gets_one_statement_text_and_one_parameter_for_any_number_of_ids() -> None:
    few, few_params = _sql([3, 1, 2], postgres=True)
    many, many_params = _sql(list(range(2_000)), postgres=True)
    assert few == many
    assert "= ANY" in few
    assert list(few_params.values()) == [[3, 1, 2]]
    assert list(many_params.values()) == [list(range(2_000))]


def test_sqlite_keeps_in_with_the_values_given() -> None:
    text, params = _sql([3, 1, 2], postgres=False)
    assert " IN " in text
    assert "ANY" not in text
    assert list(params.values()) == [[3, 1, 2]]
