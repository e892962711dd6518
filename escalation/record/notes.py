"""Notes added to an alert after the fact, and what they change in its resolution record."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Annotated:
    note: str | None
    root_cause: str | None
    changed: bool


def annotate(
    *,
    resolved: bool,
    by_source: bool,
    note: str | None,
    root_cause: str | None,
    text: str,
    cause: str | None,
) -> Annotated:
    """What a note does to the record of a resolution.

    A resolution by the source has no person's word on what was done: the first note added
    afterwards becomes it. A root cause given with a note fills an empty one (it never
    overwrites a person's choice). Every note is kept in the timeline either way."""
    if not resolved:
        return Annotated(note, root_cause, False)
    new_note = text if by_source and not note else note
    new_cause = cause if cause and not root_cause else root_cause
    return Annotated(new_note, new_cause, (new_note, new_cause) != (note, root_cause))
