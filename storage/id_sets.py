"""``column IN (…)`` for a set of values that may run to thousands (the outbox rows a claim
leased, the alerts a storm folds).

SQLAlchemy renders ``IN`` with one bound parameter per value: on PostgreSQL each count of
values is a statement of its own text, compiled by SQLAlchemy, prepared by the driver (a
round trip, the server's parse and plan) and planned again with thousands of parameters
(py-spy during ``bench.ingest_bench --phase single`` on PostgreSQL: ~7 % of a replica's
time in the expansion and the prepares). There the values go as one array parameter,
``column = ANY(:values)``: one statement text for every count. SQLite has no arrays and
keeps ``IN``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ARRAY, any_, bindparam
from sqlalchemy.sql.elements import ColumnElement


def one_of(column: Any, values: Collection[Any], *, postgres: bool) -> ColumnElement[bool]:
    """``column IN values``: on PostgreSQL (``postgres``) as ``column = ANY(:array)``."""
    condition: ColumnElement[bool] = (
        column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        if postgres
        else column.in_(list(values))
    )
    return condition
