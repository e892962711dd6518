"""Column types: timezone-aware UTC timestamps on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def sqlite_timestamp(value: datetime) -> str:
    """What :class:`UTCDateTime` stores on SQLite for ``value`` (for writes that bypass
    SQLAlchemy's bind processing): naive UTC in SQLAlchemy's SQLite ``DATETIME`` text form."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given; Tocsin stores timezone-aware UTC only")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns an aware ``datetime`` (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Tocsin stores timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
