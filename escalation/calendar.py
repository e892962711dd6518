"""Rotations whose shifts come from a calendar: events in, non-overlapping shifts out.

Pure and clock-free: the events (already expanded from their recurrences, see
:mod:`bot.schedule.calendar_parse`) and the way to name a person come in as arguments.

**Who an event puts on call** (:func:`person_of`), the first that names someone:

1. a Slack user id in the ``SUMMARY``: a mention (``<@U012ABCDEF>``) or a bare id of nine
   or more letters and digits with at least one digit (``U012ABCDEF``; so ``UTC`` is not);
2. an email address in the ``SUMMARY``, or the whole ``SUMMARY`` (like ``Alice Smith``),
   that ``resolve`` knows;
3. the same in the ``DESCRIPTION``;
4. the event's attendees' emails, in the order the event lists them, that ``resolve`` knows.

An event that names nobody is skipped, with a problem that says which event (the caller logs
it and shows it): its time goes to the rotation's fallback, never to nobody.

**Overlapping events**: while several events cover an instant, the one that *started last*
is on call (a one-day swap placed on top of a week-long shift wins for that day, and the week
resumes after it); equal starts: the shorter one; then the one listed last. The week-long
event is cut into pieces around the swap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

_SLACK_ID = re.compile(
    r"<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>"  # a mention, as Slack writes it
    # or a bare id, like U012ABCDEF
    r"|(?<![A-Za-z0-9])([UW](?=[A-Z0-9]*\d)[A-Z0-9]{8,})(?![A-Za-z0-9])"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

Resolve = Callable[[str], str | None]
"""An email address or a name from an event, lower-cased → a Slack user id, or ``None``."""


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One occurrence of a calendar event (a recurring event gives one per occurrence)."""

    uid: str
    start: datetime
    end: datetime
    """Aware; exclusive."""
    summary: str = ""
    description: str = ""
    attendees: tuple[str, ...] = ()
    """Email addresses, in the event's order."""

    @property
    def label(self) -> str:
        """How a problem names the event: its summary and start."""
        return f"{self.summary or self.uid or 'event'!r} at {self.start.isoformat()}"


@dataclass(frozen=True, slots=True)
class CalendarSlot:
    """A stretch of time one person holds, cut from an event; slots never overlap."""

    user: str
    start: datetime
    end: datetime
    """Aware UTC; exclusive."""
    event: str = ""
    """The event's UID, for the record."""


def person_of(event: CalendarEvent, resolve: Resolve) -> str | None:
    """The Slack user id the event puts on call (the module's order), or ``None``."""
    for text in (event.summary, event.description):
        found = _SLACK_ID.search(text)
        if found:
            return found.group(1) or found.group(2)
        for email in _EMAIL.findall(text):
            user = resolve(email.lower())
            if user:
                return user
        if text.strip():
            user = resolve(text.strip().lower())
            if user:
                return user
    for attendee in event.attendees:
        user = resolve(attendee.lower())
        if user:
            return user
    return None


def emails_to_resolve(event: CalendarEvent) -> list[str]:
    """The email addresses (lower-cased) :func:`person_of` may ask ``resolve`` about, in its
    order: the summary's, the description's, the attendees'; none past a text holding a Slack
    id (that id is on call). For a caller that looks them up before laying out."""
    emails: list[str] = []
    for text in (event.summary, event.description):
        if _SLACK_ID.search(text):
            return emails
        emails += [e.lower() for e in _EMAIL.findall(text)]
    return emails + [a.lower() for a in event.attendees]


def slots_from_events(
    events: Iterable[CalendarEvent], resolve: Resolve
) -> tuple[list[CalendarSlot], list[str]]:
    """The events as non-overlapping slots, in order, and a problem for each event skipped."""
    problems: list[str] = []
    placed: list[tuple[CalendarEvent, str, int]] = []
    for index, event in enumerate(events):
        if event.start.tzinfo is None or event.end.tzinfo is None:
            problems.append(f"event {event.label} has no time zone: skipped")
            continue
        if event.end <= event.start:
            continue  # zero-length: holds no time
        user = person_of(event, resolve)
        if user is None:
            problems.append(
                f"event {event.label} names nobody Tocsin knows (no Slack id, and no email "
                "or name in the summary, description or attendees that maps to one): skipped"
            )
            continue
        placed.append((event, user, index))
    return _flatten(placed), problems


def _flatten(placed: Sequence[tuple[CalendarEvent, str, int]]) -> list[CalendarSlot]:
    """Overlaps resolved: the event that started last wins, then the shorter, then the later."""
    spans = [
        (e.start.astimezone(UTC), e.end.astimezone(UTC), user, i, e.uid) for e, user, i in placed
    ]
    cuts = sorted({t for s, e, *_ in spans for t in (s, e)})
    slots: list[CalendarSlot] = []
    last_index = -1
    for lo, hi in pairwise(cuts):
        covering = [span for span in spans if span[0] <= lo and hi <= span[1]]
        if not covering:
            continue
        _start, _end, user, index, uid = max(covering, key=lambda s: (s[0], -_seconds(s), s[3]))
        last = slots[-1] if slots else None
        if last is not None and last.end == lo and last_index == index:  # same occurrence
            slots[-1] = CalendarSlot(user, last.start, hi, uid)
        else:
            slots.append(CalendarSlot(user, lo, hi, uid))
        last_index = index
    return slots


def _seconds(span: tuple[datetime, datetime, str, int, str]) -> float:
    return (span[1] - span[0]).total_seconds()
