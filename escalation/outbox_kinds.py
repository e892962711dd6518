"""The outbox's vocabulary: every kind of delivery an outbox row asks for, and what its payload
carries.

Rows already stored carry these strings (the ``kind`` column holds the member's value), so a
kind's value never changes once released; add new kinds instead. A payload is written with
its ``TypedDict`` (a mypy-checked constructor) and read back with its ``read_*`` function,
which checks every field it returns: no code indexes a raw payload and casts.

A row of a kind this version does not know (written by a newer one) reads as ``None`` from
:meth:`OutboxKind.of`; the sender leaves such a row in the outbox, tried again later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Final, NotRequired, TypedDict


class OutboxKind(StrEnum):
    POST_WARNING = "post_warning"
    """Post the alert's warning message."""
    UPDATE_WARNING = "update_warning"
    """Redraw the warning in place from the alert's current state."""
    THREAD_NOTE = "thread_note"
    """A line in the warning's thread."""
    THREAD_LINES = "thread_lines"
    """Timeline lines for the warning's thread (pending ones are posted together)."""
    GROUP_LIST = "group_list"
    """Post or update the thread message listing a group's members."""
    PAGE_DM = "page_dm"
    PAGE_CHANNEL = "page_channel"
    PAGE_WEBHOOK = "page_webhook"
    APPROVAL_REQUEST = "approval_request"
    """Ask one approver (a DM with Approve / Deny)."""
    APPROVAL_CLOSE = "approval_close"
    """Update an approval request's messages: decided or withdrawn."""
    REMINDER = "reminder"
    """Remind the alert's owner (a DM)."""
    FOLLOW_UP_REMINDER = "follow_up_reminder"
    """Remind a follow-up's owner (a DM)."""
    PAGE_LINK = "page_link"
    """Redraw a page message sent before its alert's warning existed, linking the warning."""

    @classmethod
    def of(cls, stored: str) -> OutboxKind | None:
        """The kind a stored row names; ``None`` for one this version does not know."""
        return _BY_VALUE.get(stored)


_BY_VALUE: Final[Mapping[str, OutboxKind]] = {kind.value: kind for kind in OutboxKind}
"""Looked up once per row claimed (a dict lookup; ``OutboxKind(value)`` takes ten times longer)."""


CHANNEL_KINDS: Final = (
    OutboxKind.POST_WARNING,
    OutboxKind.UPDATE_WARNING,
    OutboxKind.THREAD_NOTE,
    OutboxKind.THREAD_LINES,
    OutboxKind.GROUP_LIST,
)
"""Kinds delivered to the alert's own channel (the rows a hold on that channel holds)."""
PAGE_KINDS: Final = (OutboxKind.PAGE_DM, OutboxKind.PAGE_CHANNEL, OutboxKind.PAGE_WEBHOOK)


# --- payloads: what each kind's row carries (as stored, JSON) ------------------------------


class NoPayload(TypedDict):
    """``post_warning``, ``update_warning``: drawn from the alert's current state."""


class ThreadNotePayload(TypedDict):
    text: str


class ThreadLinesPayload(TypedDict):
    at: str
    """ISO 8601, when the line was decided."""
    rule: str
    text: str
    notes: list[str]
    """Lines the state machine asked for, shown under the line."""


class GroupListPayload(TypedDict):
    group: int
    page: NotRequired[int]
    """Which message of the member list: 0 (absent) the first, 1, 2, … the later ones."""


class _PagePayload(TypedDict):
    tier: int
    """0-based."""
    cycle: int
    rule: str


class PageDmPayload(_PagePayload):
    user: str
    rotation: NotRequired[str]
    """The rotation the user is on call for, when paged as such."""


class PageChannelPayload(_PagePayload):
    channel: str


class PageWebhookPayload(_PagePayload):
    webhook: str
    """The outbound webhook's name in the policy file."""


class ApprovalRequestPayload(TypedDict):
    seq: int
    tier: int
    reason: str
    by: str | None
    approver: str


class ApprovalClosePayload(TypedDict):
    seq: int
    outcome: str


class ReminderPayload(TypedDict):
    user: str
    deadline: str | None
    """ISO 8601 (the DM shows the alert's deadline as it is when it is sent)."""


class FollowUpReminderPayload(TypedDict):
    follow_up_id: int
    user: str


class PageLinkPayload(TypedDict):
    lane: str
    """The conversation the page went to, as the sender paces it (``dm:<user>``, a channel)."""
    channel_id: str
    ts: str
    """The page message."""


OutboxPayload = (
    NoPayload
    | ThreadNotePayload
    | ThreadLinesPayload
    | GroupListPayload
    | PageDmPayload
    | PageChannelPayload
    | PageWebhookPayload
    | ApprovalRequestPayload
    | ApprovalClosePayload
    | ReminderPayload
    | FollowUpReminderPayload
    | PageLinkPayload
)


# --- constructors where a field is converted ----------------------------------------------


def thread_lines(
    *, rule: str, text: str, now: datetime, notes: Sequence[str] = ()
) -> ThreadLinesPayload:
    """One timeline line and its notes (lines the state machine asked for, such as
    "<@U…>, you now own this alert")."""
    return {"at": now.isoformat(), "rule": rule, "text": text, "notes": list(notes)}


def page_dm(
    *, tier: int, cycle: int, rule: str, user: str, rotation: str | None = None
) -> PageDmPayload:
    payload: PageDmPayload = {"tier": tier, "cycle": cycle, "rule": rule, "user": user}
    if rotation is not None:
        payload["rotation"] = rotation
    return payload


def reminder(*, user: str, deadline: datetime | None) -> ReminderPayload:
    return {"user": user, "deadline": deadline.isoformat() if deadline else None}


# --- readers: a stored payload, checked ----------------------------------------------------


class OutboxPayloadError(ValueError):
    """A stored payload lacks a field its kind needs, or holds a value of the wrong type."""

    def __init__(self, kind: OutboxKind, field: str, problem: str) -> None:
        super().__init__(f"{kind.value} payload: {field!r} {problem}")
        self.kind = kind
        self.field = field
        self.problem = problem


_Raw = Mapping[str, object]
_MISSING: Final = object()


def _int(raw: _Raw, kind: OutboxKind, field: str) -> int:
    value = raw.get(field, _MISSING)
    if value is _MISSING:
        raise OutboxPayloadError(kind, field, "is missing")
    if isinstance(value, bool) or not isinstance(value, int):
        raise OutboxPayloadError(kind, field, f"must be an integer, not {value!r}")
    return value


def _str(raw: _Raw, kind: OutboxKind, field: str, *, default: str | None = None) -> str:
    value = raw.get(field, _MISSING)
    if value is _MISSING and default is not None:
        return default
    if value is _MISSING:
        raise OutboxPayloadError(kind, field, "is missing")
    if not isinstance(value, str):
        raise OutboxPayloadError(kind, field, f"must be a string, not {value!r}")
    return value


def _optional_str(raw: _Raw, kind: OutboxKind, field: str) -> str | None:
    """Absent, ``null`` or a string."""
    value = raw.get(field)
    if value is None or isinstance(value, str):
        return value
    raise OutboxPayloadError(kind, field, f"must be a string or null, not {value!r}")


def _page(raw: _Raw, kind: OutboxKind) -> _PagePayload:
    return {
        "tier": _int(raw, kind, "tier"),
        "cycle": _int(raw, kind, "cycle"),
        "rule": _str(raw, kind, "rule"),
    }


def read_thread_note(raw: _Raw) -> ThreadNotePayload:
    return {"text": _str(raw, OutboxKind.THREAD_NOTE, "text", default="")}


def read_thread_lines(raw: _Raw) -> ThreadLinesPayload:
    kind = OutboxKind.THREAD_LINES
    notes = raw.get("notes") or []
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise OutboxPayloadError(kind, "notes", f"must be a list of strings, not {notes!r}")
    return {
        "at": _str(raw, kind, "at"),
        "rule": _str(raw, kind, "rule", default=""),
        "text": _str(raw, kind, "text", default=""),
        "notes": list(notes),
    }


def read_group_list(raw: _Raw) -> GroupListPayload:
    payload: GroupListPayload = {"group": _int(raw, OutboxKind.GROUP_LIST, "group")}
    if "page" in raw:
        payload["page"] = _int(raw, OutboxKind.GROUP_LIST, "page")
    return payload


def read_page_dm(raw: _Raw) -> PageDmPayload:
    kind = OutboxKind.PAGE_DM
    payload: PageDmPayload = {
        "tier": _int(raw, kind, "tier"),
        "cycle": _int(raw, kind, "cycle"),
        "rule": _str(raw, kind, "rule"),
        "user": _str(raw, kind, "user"),
    }
    rotation = _optional_str(raw, kind, "rotation")
    if rotation is not None:
        payload["rotation"] = rotation
    return payload


def read_page_channel(raw: _Raw) -> PageChannelPayload:
    kind = OutboxKind.PAGE_CHANNEL
    return {**_page(raw, kind), "channel": _str(raw, kind, "channel")}


def read_page_webhook(raw: _Raw) -> PageWebhookPayload:
    kind = OutboxKind.PAGE_WEBHOOK
    return {**_page(raw, kind), "webhook": _str(raw, kind, "webhook")}


def read_approval_request(raw: _Raw) -> ApprovalRequestPayload:
    kind = OutboxKind.APPROVAL_REQUEST
    return {
        "seq": _int(raw, kind, "seq"),
        "tier": _int(raw, kind, "tier"),
        "reason": _optional_str(raw, kind, "reason") or "",
        "by": _optional_str(raw, kind, "by"),
        "approver": _str(raw, kind, "approver"),
    }


def read_approval_close(raw: _Raw) -> ApprovalClosePayload:
    kind = OutboxKind.APPROVAL_CLOSE
    return {"seq": _int(raw, kind, "seq"), "outcome": _str(raw, kind, "outcome")}


def read_reminder(raw: _Raw) -> ReminderPayload:
    kind = OutboxKind.REMINDER
    return {"user": _str(raw, kind, "user"), "deadline": _optional_str(raw, kind, "deadline")}


def read_page_link(raw: _Raw) -> PageLinkPayload:
    kind = OutboxKind.PAGE_LINK
    return {
        "lane": _str(raw, kind, "lane"),
        "channel_id": _str(raw, kind, "channel_id"),
        "ts": _str(raw, kind, "ts"),
    }


def read_follow_up_reminder(raw: _Raw) -> FollowUpReminderPayload:
    kind = OutboxKind.FOLLOW_UP_REMINDER
    return {"follow_up_id": _int(raw, kind, "follow_up_id"), "user": _str(raw, kind, "user")}
