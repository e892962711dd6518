"""storage.tables.table_of: the typed way to a table model's Core table."""

from __future__ import annotations

import pytest
from sqlalchemy import Table
from sqlalchemy.exc import NoInspectionAvailable
from sqlmodel import SQLModel

from storage import tables
from storage.tables import table_of


def _table_models() -> list[type[SQLModel]]:
    return [
        model
        for model in vars(tables).values()
        if isinstance(model, type) and issubclass(model, SQLModel) and "__table__" in vars(model)
    ]


def test_every_table_model_gives_its_own_table() -> None:
    models = _table_models()
    assert len(models) >= 10
    for model in models:
        table = table_of(model)
        assert isinstance(table, Table)
        assert table is vars(model)["__table__"]
        assert table.name == model.__tablename__


def test_a_model_without_a_table_is_refused() -> None:
    class Plain(SQLModel):
        name: str

    with pytest.raises(NoInspectionAvailable):
        table_of(Plain)
