"""Rows of a SQLAlchemy query read straight from the driver's cursor, in batches of plain
tuples: for scans of many rows where SQLAlchemy's per-row result handling costs more than the
SQL (the review's alert scan). The query is compiled by SQLAlchemy for the connection's
dialect and its parameters go through their types' bind processing, exactly as
``Connection.execute`` would send them; only the result side is skipped, so the selected
columns must be plain numbers, strings, booleans and NULLs that need no conversion.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection


def driver_statement(conn: AsyncConnection, query: Select[Any]) -> tuple[str, list[Any]]:
    """The SQL text in the driver's paramstyle and its positional parameters."""
    dialect = conn.dialect
    compiled = query.compile(dialect=dialect)
    if not dialect.positional or compiled.positiontup is None:
        raise ValueError(f"{dialect.name}: the driver's parameters are not positional")
    values = compiled.construct_params()
    params: list[Any] = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.expanding:
            raise ValueError(f"{name}: IN lists of parameters are not supported here")
        value = values[name]
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        params.append(value if processor is None else processor(value))
    return str(compiled), params


async def driver_batches(
    conn: AsyncConnection, query: Select[Any], *, size: int
) -> AsyncGenerator[Sequence[Sequence[Any]], None]:
    """The query's rows, ``size`` at a time (aiosqlite or asyncpg)."""
    sql, params = driver_statement(conn, query)
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    if conn.dialect.name == "sqlite":
        cursor = await driver.execute(sql, params)
        try:
            while rows := await cursor.fetchmany(size):
                yield rows
        finally:
            await cursor.close()
        return
    if conn.dialect.driver != "asyncpg":
        raise ValueError(f"no driver cursor for {conn.dialect.name}+{conn.dialect.driver}")
    if driver.is_in_transaction():  # a cursor lives in a transaction: the caller's, or ours
        cursor = await driver.cursor(sql, *params)
        while rows := await cursor.fetch(size):
            yield rows
        return
    async with driver.transaction(readonly=True):
        cursor = await driver.cursor(sql, *params)
        while rows := await cursor.fetch(size):
            yield rows
