"""Errors raised by the domain."""

from __future__ import annotations


class PayloadError(ValueError):
    """A webhook body that does not have the shape its format requires.

    ``field`` is a dotted path into the payload (``alerts[2].labels``), ``problem`` says what
    is wrong with it.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


class MissingFieldsError(PayloadError):
    """Required fields are absent: ``fields`` names every one of them, in payload order.

    ``field`` is the first of them, so callers that show one place still show a right one.
    """

    def __init__(self, fields: tuple[str, ...]) -> None:
        if len(fields) == 1:
            super().__init__(fields[0], "is required")
        else:
            super().__init__(fields[0], "is required")
            self.problem = "missing required fields: " + ", ".join(fields)
            self.args = (self.problem,)
        self.fields = fields
