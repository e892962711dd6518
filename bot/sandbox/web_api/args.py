"""A Web API call's arguments, however they came (JSON, form, query string)."""

from __future__ import annotations

import json
from typing import Any

from bot.sandbox.workspace.models import ApiError


class Args:
    """A call's arguments, however they came (JSON, form, query string)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def opt(self, name: str) -> str | None:
        value = self.data.get(name)
        return None if value is None or value == "" else str(value)

    def req(self, name: str, *, error: str = "invalid_arguments") -> str:
        value = self.opt(name)
        if value is None:
            raise ApiError(error, messages=[f"missing required field: {name}"])
        return value

    def json(self, name: str) -> Any:
        """A structured argument (blocks, view, …): form posts carry it as a JSON string."""
        value = self.data.get(name)
        if isinstance(value, str):
            if not value:
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(f"invalid_{name}", messages=[f"{name} is not JSON"]) from None
        return value

    def integer(self, name: str, default: int) -> int:
        try:
            return int(self.data.get(name, default))
        except (TypeError, ValueError):
            raise ApiError("invalid_arguments", messages=[f"{name} must be an integer"]) from None
