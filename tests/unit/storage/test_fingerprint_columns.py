"""Every fingerprint column keeps the longest fingerprint a webhook parser accepts (a longer
one would pass the parser and then be refused by PostgreSQL's ``VARCHAR`` at ingest)."""

from __future__ import annotations

from sqlmodel import SQLModel

from escalation.sources._fingerprint import STORED_FINGERPRINT_CHARS
from escalation.sources._validate import MAX_FINGERPRINT_CHARS
from storage import tables


def test_every_fingerprint_column_is_as_long_as_the_parsers_longest_fingerprint() -> None:
    columns = [
        table.c.fingerprint
        for table in SQLModel.metadata.tables.values()
        if "fingerprint" in table.c
    ]
    assert len(columns) >= 3  # alert, resolution, noise_drop
    for column in columns:
        assert getattr(column.type, "length", None) == MAX_FINGERPRINT_CHARS, column.table.name
    assert MAX_FINGERPRINT_CHARS == STORED_FINGERPRINT_CHARS == tables.FINGERPRINT_CHARS
