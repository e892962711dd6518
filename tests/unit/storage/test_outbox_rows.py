"""The outbox rows a transition writes (storage.effects) are, string for string and key for
key, those written before the outbox had a vocabulary: rows already stored and rows written
now are read by the same code."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from escalation.events import (
    AlertState,
    CloseApproval,
    Page,
    PostThreadNote,
    PostWarning,
    RecordResolution,
    Remind,
    RequestApproval,
    Transition,
    UpdateWarning,
)
from escalation.model import Status
from escalation.outbox_kinds import OutboxKind
from escalation.policy import Target, TargetKind
from storage.effects import _decide
from storage.outbox import outbox_values

NOW = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


class Rotations:
    def on_call(self, rotation: str, *, at: datetime) -> str | None:
        return "U0ONCALL" if rotation == "db" else None


def test_every_effect_writes_the_rows_it_wrote_before_the_vocabulary() -> None:
    targets = (
        Target(TargetKind.USER, "U0A"),
        Target(TargetKind.ONCALL, "db"),
        Target(TargetKind.ONCALL, "empty"),
        Target(TargetKind.GROUP, "S0LEADS"),
        Target(TargetKind.CHANNEL, "#managers"),
        Target(TargetKind.WEBHOOK, "sms"),
    )
    tr = Transition(
        state=AlertState(status=Status.FIRING, fired_at=NOW, last_seen_at=NOW),
        effects=(
            PostWarning(),
            UpdateWarning(),
            PostThreadNote("<@U0A>, you own it"),
            Page(tier=1, cycle=2, targets=targets, rule="STEP-1"),
            RequestApproval(
                seq=3, tier=2, approvers=("U0C", "U0D"), reason="db down", requested_by="U0B"
            ),
            CloseApproval(seq=2, outcome="approved by U0C"),
            Remind(user="U0A", deadline=NOW + timedelta(hours=1)),
            Remind(user="", deadline=None),
            RecordResolution(),
        ),
        rule="STEP-1",
        summary="paged tier 2",
    )

    decided = _decide(tr, kind="step", now=NOW, directory=Rotations())

    why = '"tier": 1, "cycle": 2, "rule": "STEP-1"'
    reached = (
        "<@U0A>, <@U0ONCALL> (on call for db), nobody (rotation empty has no one on call), "
        "<!subteam^S0LEADS>, #managers, webhook sms"
    )
    before = [
        '["post_warning", {}]',
        '["update_warning", {}]',
        f'["page_dm", {{{why}, "user": "U0A"}}]',
        f'["page_dm", {{{why}, "user": "U0ONCALL", "rotation": "db"}}]',
        f'["page_channel", {{{why}, "channel": "#managers"}}]',
        f'["page_webhook", {{{why}, "webhook": "sms"}}]',
        '["approval_request", {"seq": 3, "tier": 2, "reason": "db down", "by": "U0B", '
        '"approver": "U0C"}]',
        '["approval_request", {"seq": 3, "tier": 2, "reason": "db down", "by": "U0B", '
        '"approver": "U0D"}]',
        '["approval_close", {"seq": 2, "outcome": "approved by U0C"}]',
        '["reminder", {"user": "U0A", "deadline": "2026-05-01T11:00:00+00:00"}]',
        '["thread_lines", {"at": "2026-05-01T10:00:00+00:00", "rule": "STEP-1", '
        f'"text": "paged tier 2 \\u2192 reached {reached}", "notes": ["<@U0A>, you own it"]}}]',
    ]
    assert [json.dumps(row) for row in decided.rows] == before


def test_the_kind_column_gets_the_plain_string() -> None:
    for kind in OutboxKind:
        stored = outbox_values(key="k", kind=kind, now=NOW)["kind"]

        assert type(stored) is str
        assert stored == kind.value
