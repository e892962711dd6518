"""Many rows at once, at the driver level: written with one statement, read without
SQLAlchemy's per-row handling.

Every value is still converted by its column type's own processor (what reaches the
database, and what comes back, is what SQLAlchemy would give), but column by column, NULLs
skipped and an object that recurs (a batch's ``now``) converted once. On SQLite this
handling cost more than the database's own work; on PostgreSQL each row of an
``executemany`` is a separate execution on the server, so rows go there as one array per
column, expanded by ``unnest`` in a single ``INSERT … SELECT`` or ``UPDATE … FROM``.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, repeat
from typing import Any

from sqlalchemy import Table, bindparam, insert, type_coerce, update
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert, Update
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from storage.types import UTCDateTime

Convert = Callable[[Any], Any]


def convert_column(values: Sequence[Any], process: Convert) -> list[Any]:
    """``process`` applied to each value but ``None``, once per distinct value: an object
    given more than once (the batch's ``now``), equal ``datetime`` objects with the same
    ``tzinfo`` object and ``fold`` (the next due time of the alerts of one tier: ``now`` +
    the tier's delay), or equal strings (SQLite's text for one time, read in many rows) —
    never two values a processor could tell apart."""
    if _one_object(values):  # the batch's ``now``, a status, NULL…
        value = values[0]
        return [None if value is None else process(value)] * len(values)
    done: dict[object, Any] = {}
    out: list[Any] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        # ``values`` holds every value: no id is reused while this runs
        key: object
        if value.__class__ is datetime:
            key = (value, id(value.tzinfo), value.fold)
        elif value.__class__ is str:
            key = value
        else:
            key = id(value)
        if key not in done:
            done[key] = process(value)
        out.append(done[key])
    return out


def _one_object(values: Sequence[Any]) -> bool:
    """Every value is the same object (``values`` is not empty)."""
    return all(map(operator.is_, values, repeat(values[0])))


# --- reading -------------------------------------------------------------------------------


class Reader:
    """Select ``columns`` as the driver returns them (:attr:`columns`), and :meth:`decode`
    the rows: each value converted by its column type's result processor, as SQLAlchemy
    would, but only where there is one and the value is not NULL."""

    def __init__(self, columns: Sequence[ColumnElement[Any]]) -> None:
        self._types = [column.type for column in columns]
        self.columns = tuple(type_coerce(column, NullType()) for column in columns)
        self._processors: dict[tuple[str, str], tuple[tuple[int, Convert, bool], ...]] = {}

    def decode(self, dialect: Dialect, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        if not rows:
            return []
        key = (dialect.name, dialect.driver)
        if key not in self._processors:
            self._processors[key] = self._prepare(dialect)
        processors = self._processors[key]
        columns: list[Sequence[Any]] = list(zip(*rows, strict=True))
        for at, process, once in processors:
            values = columns[at]
            # a batch's rows share their times (when seen, when next due): each converted
            # once; other values (JSON decoded into dicts…) stay objects of their own
            columns[at] = (
                convert_column(values, process)
                if once
                else [None if v is None else process(v) for v in values]
            )
        return list(zip(*columns, strict=True))

    def _prepare(self, dialect: Dialect) -> tuple[tuple[int, Convert, bool], ...]:
        found = []
        for at, type_ in enumerate(self._types):
            process = type_.dialect_impl(dialect).result_processor(dialect, None)
            if process is not None:
                found.append((at, process, isinstance(type_, UTCDateTime)))
        return tuple(found)


# --- writing -------------------------------------------------------------------------------


async def insert_many(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """``conn.execute(table.insert(), rows)``: the rows inserted in the order given (so they
    get ids in that order). Every row has the same keys."""
    if rows:
        await _execute(conn, _Statement(table, "insert", tuple(rows[0])), rows)


async def update_many(
    conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], *, key: str = "id"
) -> None:
    """``UPDATE table SET <the other keys> WHERE <key> = …`` for each row (in the order
    given on SQLite; PostgreSQL updates them in one statement). Every row has the same keys,
    ``key`` among them."""
    if rows:
        columns = tuple(name for name in rows[0] if name != key)
        await _execute(conn, _Statement(table, "update", columns, key), rows)


@dataclass(frozen=True, slots=True)
class _Statement:
    table: Table
    verb: str
    columns: tuple[str, ...]
    """Inserted or set, in the rows' key order."""
    key: str = ""
    """The column an update matches rows by."""

    @property
    def given(self) -> tuple[str, ...]:
        """Every row's keys: the columns, then the key of an update."""
        return (*self.columns, self.key) if self.key else self.columns

    def sqlalchemy(self) -> Insert | Update:
        """The statement as SQLAlchemy would run it, with a bound parameter per key."""
        if self.verb == "insert":
            return insert(self.table)
        table = self.table
        values = {name: bindparam(f"b_{name}", type_=table.c[name].type) for name in self.columns}
        return update(table).where(table.c[self.key] == bindparam(f"b_{self.key}")).values(values)

    def params(self, row: dict[str, Any]) -> dict[str, Any]:
        """A row as parameters of :meth:`sqlalchemy`."""
        return row if self.verb == "insert" else {f"b_{k}": v for k, v in row.items()}


@dataclass(frozen=True, slots=True)
class _Prepared:
    mode: str
    """How the rows go: ``unnest`` (PostgreSQL: one array parameter per column, expanded by
    ``unnest``), ``values`` (SQLite: many rows per statement, ``VALUES (…), (…)``), or
    ``executemany`` (one execution of :attr:`sql` per row)."""
    sql: str
    """The statement as SQLAlchemy compiles it, one positional parameter per value."""
    names: tuple[str, ...]
    """The row keys whose values are the statement's parameters, in order."""
    processed: tuple[tuple[int, Convert], ...]
    """(position, bind processor) of the parameters the driver cannot take as they are."""


_PREPARED: dict[tuple[_Statement, str, str], _Prepared | None] = {}
ROWS_PER_STATEMENT = 200
"""SQLite: rows per ``INSERT … VALUES`` or ``UPDATE … FROM (VALUES …)`` (fewer where the
columns would pass the driver's limit of parameters): most statements of a batch are then
the same text, parsed once."""


async def _execute(
    conn: AsyncConnection, statement: _Statement, rows: Sequence[dict[str, Any]]
) -> None:
    dialect = conn.dialect
    cache_key = (statement, dialect.name, dialect.driver)
    if cache_key not in _PREPARED:
        _PREPARED[cache_key] = _prepare(statement, dialect)
    prepared = _PREPARED[cache_key]
    if prepared is None:
        await conn.execute(statement.sqlalchemy(), [statement.params(row) for row in rows])
        return
    names = prepared.names
    columns: list[Sequence[Any]] = [[row[name] for row in rows] for name in names]
    for at, process in prepared.processed:
        columns[at] = convert_column(columns[at], process)
    if prepared.mode == "unnest":
        # A column holding one object in every row (the batch's ``now``, a status, NULL) goes
        # as one value: the driver encodes each element of an array, at a cost per element.
        single = [_one_object(column) for column in columns]
        single[0] = False  # the rows are the elements of the arrays: at least one is needed
        params = tuple(c[0] if one else list(c) for c, one in zip(columns, single, strict=True))
        await conn.exec_driver_sql(_unnest_sql(statement, dialect, tuple(single)), params)
        return
    values = list(zip(*columns, strict=True))
    if prepared.mode == "executemany":
        await conn.exec_driver_sql(prepared.sql, values)
        return
    # SQLite binds a statement's parameters and runs its program once per statement, not
    # once per row as in an executemany (~30% of the cost of an outbox row)
    limit = getattr(dialect, "insertmanyvalues_max_parameters", 999)
    count = max(min(ROWS_PER_STATEMENT, limit // len(names)), 1)
    for start in range(0, len(values), count):
        chunk = values[start : start + count]
        sql = _values_sql(statement, dialect, len(chunk))
        await conn.exec_driver_sql(sql, tuple(chain.from_iterable(chunk)))


def _prepare(statement: _Statement, dialect: Dialect) -> _Prepared | None:
    """``None`` where the rows do not give every parameter (a column default or ``onupdate``
    SQLAlchemy would fill in) or the paramstyle is not positional: SQLAlchemy then does it."""
    table = statement.table
    sa_statement = statement.sqlalchemy()
    keys = list(statement.columns) if statement.verb == "insert" else None
    compiled = sa_statement.compile(dialect=dialect, column_keys=keys)
    params = compiled.positiontup
    given = statement.given
    is_update = statement.verb == "update"
    expected = {f"b_{name}" for name in given} if is_update else set(given)
    if not compiled.positional or not params or set(params) != expected:
        return None
    if dialect.name == "postgresql" and dialect.paramstyle == "numeric_dollar":
        mode = "unnest"
    elif (
        dialect.name == "sqlite"
        and dialect.paramstyle == "qmark"
        # UPDATE … FROM: SQLite 3.33
        and (not is_update or (dialect.server_version_info or (0,)) >= (3, 33))
    ):
        mode = "values"
    else:
        mode = "executemany"
    # an executemany binds as SQLAlchemy compiled it (b_<column> in an update)
    unprefixed = tuple(p[2:] if is_update else p for p in params)
    names = unprefixed if mode == "executemany" else given
    processed = []
    for at, name in enumerate(names):
        type_ = table.c[name].type
        process = type_.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processed.append((at, process))
    return _Prepared(mode, compiled.string, names, tuple(processed))


@functools.lru_cache(maxsize=256)
def _values_sql(statement: _Statement, dialect: Dialect, count: int) -> str:
    """The statement for ``count`` rows of :attr:`_Statement.given`, a ``?`` per value
    (SQLite): ``INSERT … VALUES`` in the rows' order (so ids are given in that order), or
    ``UPDATE … FROM (VALUES …)`` joined by the key."""
    table = statement.table
    quote = dialect.identifier_preparer.quote
    row = f"({', '.join('?' * len(statement.given))})"
    rows = ", ".join([row] * count)
    # every name comes from the table's metadata (quoted), every value is a parameter
    target = quote(table.name)
    if statement.verb == "insert":
        columns = ", ".join(quote(name) for name in statement.given)
        return f"INSERT INTO {target} ({columns}) VALUES {rows}"  # noqa: S608
    sets = ", ".join(
        f"{quote(name)} = v.column{at}" for at, name in enumerate(statement.columns, start=1)
    )
    match = f"{target}.{quote(statement.key)} = v.column{len(statement.given)}"
    return f"UPDATE {target} SET {sets} FROM (VALUES {rows}) AS v WHERE {match}"  # noqa: S608


@functools.lru_cache(maxsize=256)
def _unnest_sql(statement: _Statement, dialect: Dialect, single: tuple[bool, ...]) -> str:
    """The statement with parameter ``$i`` for the ``i``-th of :attr:`_Statement.given`: an
    array (``$i::T[]``) expanded by ``unnest``, or where ``single[i]`` one value (``$i::T``).

    ``INSERT … SELECT … ORDER BY`` the arrays' order, so ids are given in the rows' order;
    ``UPDATE … FROM`` joins by the key (the rows are already locked by the caller's claim,
    so the order the server updates them in cannot deadlock with another writer)."""
    table = statement.table
    quote = dialect.identifier_preparer.quote
    arrays: list[str] = []
    values: list[str] = []
    for at, (name, one) in enumerate(zip(statement.given, single, strict=True), start=1):
        type_ = table.c[name].type.compile(dialect=dialect)
        if one:
            values.append(f"${at}::{type_}")
        else:
            values.append(f"v.c{len(arrays)}")
            arrays.append(f"${at}::{type_}[]")
    aliases = ", ".join(f"c{at}" for at in range(len(arrays)))
    source = f"unnest({', '.join(arrays)}) WITH ORDINALITY AS v({aliases}, n)"
    # every name comes from the table's metadata (quoted), every value is a parameter
    target = quote(table.name)
    if statement.verb == "insert":
        columns = ", ".join(quote(name) for name in statement.given)
        picked = ", ".join(values)
        return f"INSERT INTO {target} ({columns}) SELECT {picked} FROM {source} ORDER BY v.n"  # noqa: S608
    sets = ", ".join(
        f"{quote(name)} = {value}" for name, value in zip(statement.columns, values, strict=False)
    )
    match = f"{target}.{quote(statement.key)} = {values[-1]}"
    return f"UPDATE {target} SET {sets} FROM {source} WHERE {match}"  # noqa: S608
