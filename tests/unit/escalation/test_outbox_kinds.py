"""The outbox's vocabulary (escalation.outbox_kinds): stored strings that never change, and
payloads that read back as they were written — including rows written before the vocabulary
existed."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from escalation.outbox_kinds import (
    CHANNEL_KINDS,
    PAGE_KINDS,
    ApprovalClosePayload,
    ApprovalRequestPayload,
    FollowUpReminderPayload,
    GroupListPayload,
    NoPayload,
    OutboxKind,
    OutboxPayload,
    OutboxPayloadError,
    PageChannelPayload,
    PageLinkPayload,
    PageWebhookPayload,
    ThreadNotePayload,
    page_dm,
    read_approval_close,
    read_approval_request,
    read_follow_up_reminder,
    read_group_list,
    read_page_channel,
    read_page_dm,
    read_page_link,
    read_page_webhook,
    read_reminder,
    read_thread_lines,
    read_thread_note,
    reminder,
    thread_lines,
)

NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)

STORED = {
    "POST_WARNING": "post_warning",
    "UPDATE_WARNING": "update_warning",
    "THREAD_NOTE": "thread_note",
    "THREAD_LINES": "thread_lines",
    "GROUP_LIST": "group_list",
    "PAGE_DM": "page_dm",
    "PAGE_CHANNEL": "page_channel",
    "PAGE_WEBHOOK": "page_webhook",
    "APPROVAL_REQUEST": "approval_request",
    "APPROVAL_CLOSE": "approval_close",
    "REMINDER": "reminder",
    "FOLLOW_UP_REMINDER": "follow_up_reminder",
    "PAGE_LINK": "page_link",
}
"""The strings the outbox's ``kind`` column held before the enum: rows in databases carry them."""

SAMPLES: dict[OutboxKind, OutboxPayload] = {
    OutboxKind.POST_WARNING: NoPayload(),
    OutboxKind.UPDATE_WARNING: NoPayload(),
    OutboxKind.THREAD_NOTE: ThreadNotePayload(text="a note"),
    OutboxKind.THREAD_LINES: thread_lines(rule="ACK-1", text="acknowledged", now=NOW, notes=["n"]),
    OutboxKind.GROUP_LIST: GroupListPayload(group=3),
    OutboxKind.PAGE_DM: page_dm(tier=1, cycle=0, rule="STEP-1", user="U0A", rotation="db"),
    OutboxKind.PAGE_CHANNEL: PageChannelPayload(tier=0, cycle=1, rule="STEP-1", channel="#ops"),
    OutboxKind.PAGE_WEBHOOK: PageWebhookPayload(tier=2, cycle=0, rule="STEP-1", webhook="sms"),
    OutboxKind.APPROVAL_REQUEST: ApprovalRequestPayload(
        seq=2, tier=1, reason="db down", by="U0B", approver="U0C"
    ),
    OutboxKind.APPROVAL_CLOSE: ApprovalClosePayload(seq=2, outcome="approved by U0C"),
    OutboxKind.REMINDER: reminder(user="U0A", deadline=NOW),
    OutboxKind.FOLLOW_UP_REMINDER: FollowUpReminderPayload(follow_up_id=9, user="U0A"),
    OutboxKind.PAGE_LINK: PageLinkPayload(lane="dm:U0A", channel_id="D0A", ts="1.2"),
}
"""A payload of every kind, as its producer writes it."""

Reader = Callable[[Mapping[str, object]], Mapping[str, object]]
READERS: dict[OutboxKind, Reader] = {
    OutboxKind.THREAD_NOTE: read_thread_note,
    OutboxKind.THREAD_LINES: read_thread_lines,
    OutboxKind.GROUP_LIST: read_group_list,
    OutboxKind.PAGE_DM: read_page_dm,
    OutboxKind.PAGE_CHANNEL: read_page_channel,
    OutboxKind.PAGE_WEBHOOK: read_page_webhook,
    OutboxKind.APPROVAL_REQUEST: read_approval_request,
    OutboxKind.APPROVAL_CLOSE: read_approval_close,
    OutboxKind.REMINDER: read_reminder,
    OutboxKind.FOLLOW_UP_REMINDER: read_follow_up_reminder,
    OutboxKind.PAGE_LINK: read_page_link,
}
"""Every kind whose delivery reads its payload (a warning is drawn from the alert's state)."""


def stored(payload: Mapping[str, object]) -> dict[str, Any]:
    """What a JSON column gives back."""
    loaded: dict[str, Any] = json.loads(json.dumps(payload))
    return loaded


def test_every_kind_keeps_the_string_rows_were_stored_with() -> None:
    assert {kind.name: kind.value for kind in OutboxKind} == STORED
    assert all(OutboxKind.of(value) is OutboxKind[name] for name, value in STORED.items())


def test_a_kind_this_version_does_not_know_reads_as_none() -> None:
    assert OutboxKind.of("page_carrier_pigeon") is None
    assert OutboxKind.of("") is None
    assert OutboxKind.of("PAGE_DM") is None  # the value is stored, never the name


def test_the_channel_and_page_kinds_are_the_ones_stored_before() -> None:
    assert set(CHANNEL_KINDS) == {
        "post_warning",
        "update_warning",
        "thread_note",
        "thread_lines",
        "group_list",
    }
    assert set(PAGE_KINDS) == {"page_dm", "page_channel", "page_webhook"}


@pytest.mark.parametrize("kind", list(READERS), ids=str)
def test_what_a_producer_writes_reads_back_the_same(kind: OutboxKind) -> None:
    payload = SAMPLES[kind]

    assert READERS[kind](stored(payload)) == payload


def test_every_kind_has_a_sample() -> None:
    assert set(SAMPLES) == set(OutboxKind)


@pytest.mark.parametrize(
    ("reader", "row", "expected"),
    [
        (
            read_page_dm,
            '{"tier": 0, "cycle": 1, "rule": "STEP-1", "user": "U0A"}',
            {"tier": 0, "cycle": 1, "rule": "STEP-1", "user": "U0A"},
        ),
        (
            read_page_dm,
            '{"tier": 1, "cycle": 0, "rule": "STEP-1", "user": "U0A", "rotation": "db"}',
            {"tier": 1, "cycle": 0, "rule": "STEP-1", "user": "U0A", "rotation": "db"},
        ),
        (
            read_approval_request,
            '{"seq": 1, "tier": 1, "reason": null, "by": null, "approver": "U0C"}',
            {"seq": 1, "tier": 1, "reason": "", "by": None, "approver": "U0C"},
        ),
        (read_thread_note, "{}", {"text": ""}),
        (
            read_thread_lines,
            '{"at": "2026-05-01T10:00:00+00:00", "rule": "ACK-1", "text": "ok", "notes": []}',
            {"at": "2026-05-01T10:00:00+00:00", "rule": "ACK-1", "text": "ok", "notes": []},
        ),
        (read_reminder, '{"user": "U0A", "deadline": null}', {"user": "U0A", "deadline": None}),
        (
            read_follow_up_reminder,
            '{"follow_up_id": 4, "user": "U0A"}',
            {"follow_up_id": 4, "user": "U0A"},
        ),
    ],
)
def test_rows_stored_before_the_vocabulary_read_as_they_did(
    reader: Reader, row: str, expected: Mapping[str, object]
) -> None:
    assert reader(json.loads(row)) == expected


@pytest.mark.parametrize(
    ("reader", "row", "message"),
    [
        (
            read_page_dm,
            {"cycle": 0, "rule": "R", "user": "U"},
            "page_dm payload: 'tier' is missing",
        ),
        (
            read_page_channel,
            {"tier": "1", "cycle": 0, "rule": "R", "channel": "#c"},
            "page_channel payload: 'tier' must be an integer, not '1'",
        ),
        (
            read_group_list,
            {"group": True},
            "group_list payload: 'group' must be an integer, not True",
        ),
        (
            read_approval_close,
            {"seq": 1, "outcome": 3},
            "approval_close payload: 'outcome' must be a string, not 3",
        ),
        (
            read_reminder,
            {"user": "U", "deadline": 5},
            "reminder payload: 'deadline' must be a string or null, not 5",
        ),
        (
            read_thread_lines,
            {"at": "x", "notes": "one"},
            "thread_lines payload: 'notes' must be a list of strings, not 'one'",
        ),
    ],
)
def test_a_payload_that_does_not_read_names_its_kind_field_and_problem(
    reader: Reader, row: Mapping[str, object], message: str
) -> None:
    with pytest.raises(OutboxPayloadError) as caught:
        reader(row)

    assert str(caught.value) == message
