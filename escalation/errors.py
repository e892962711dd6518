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
