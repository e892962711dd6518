"""Renderers of the record: thread replies, /tocsin show, the resolve form's checks."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.slack import ids
from bot.slack.blocks.render_record import MAX_SHOW_BLOCKS, safe_line, show_blocks, thread_message
from bot.slack.resolve_form import ResolveForm, read_resolve_form
from escalation.outbox_kinds import ThreadLinesPayload
from storage.timeline import TimelineEntry
from tests.unit.bot.slack.blocks.test_render import FIRING

NOW = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
CAUSES = ("capacity", "unknown")


def test_safe_line_keeps_our_mentions_and_escapes_broadcasts_and_links() -> None:
    line = safe_line("by <@U0ALICE> to <!subteam^S0LEADS> <!channel> <http://evil|ok> a&b @here")
    assert "<@U0ALICE>" in line
    assert "<!subteam^S0LEADS>" in line
    assert "<!channel>" not in line
    assert "&lt;!channel&gt;" in line
    assert "<http://evil|ok>" not in line
    assert "a&amp;b" in line
    assert "@here" not in line  # a word joiner breaks the bare broadcast


def test_a_thread_reply_sums_up_repeats_first_then_each_line_with_its_notes() -> None:
    payloads: list[ThreadLinesPayload] = [
        {
            "at": NOW.isoformat(),
            "rule": "ASSIGN-1",
            "text": "assigned to <@U0B>",
            "notes": ["<@U0B>, you own it"],
        },
        {"at": NOW.isoformat(), "rule": "RESOLVE-1", "text": "resolved by <@U0B>", "notes": []},
    ]
    text = thread_message(payloads, shown=1, count=6)
    lines = text.split("\n")
    assert lines[0] == ":repeat: fired again 5 times (6 in all)"
    assert "`ASSIGN-1` assigned to <@U0B>" in lines[1]
    assert lines[2].endswith("↳ <@U0B>, you own it")
    assert "`RESOLVE-1`" in lines[3]
    assert "fired again" not in thread_message(payloads, shown=6, count=6)


def test_show_keeps_a_long_timeline_within_slacks_block_limit_and_says_what_it_left_out() -> None:
    entries = [
        TimelineEntry(i, NOW + timedelta(minutes=i), "refired", "REFIRE-1", None, "x" * 120)
        for i in range(3000)
    ]
    text, blocks = show_blocks(FIRING, entries)
    assert len(blocks) <= MAX_SHOW_BLOCKS
    rendered = json.dumps(blocks)
    assert "lines left out" in rendered
    assert "(3000 lines)" in rendered
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert "#42" in text


def test_show_of_a_short_timeline_lists_every_line() -> None:
    entries = [
        TimelineEntry(1, NOW, "fired", "FIRE-1", None, "fired"),
        TimelineEntry(2, NOW, "claimed", "CLAIM-1", "U0ALICE", "claimed by <@U0ALICE>"),
    ]
    rendered = json.dumps(show_blocks(replace(FIRING, count=3), entries)[1])
    assert "FIRE-1" in rendered
    assert "claimed by <@U0ALICE>" in rendered
    assert "left out" not in rendered


def _values(**fields: object) -> dict[str, object]:
    values: dict[str, object] = {
        ids.RESOLVE_NOTE_BLOCK: {ids.RESOLVE_NOTE_ACTION: {"value": fields.get("note", "done")}},
        ids.RESOLVE_CAUSE_BLOCK: {
            ids.RESOLVE_CAUSE_ACTION: {
                "selected_option": {"value": fields.get("cause", "capacity")}
            }
        },
    }
    if "what" in fields:
        values[ids.RESOLVE_FOLLOW_UP_BLOCK] = {
            ids.RESOLVE_FOLLOW_UP_ACTION: {"value": fields["what"]}
        }
    if "owner" in fields:
        values[ids.RESOLVE_FOLLOW_UP_OWNER_BLOCK] = {
            ids.RESOLVE_FOLLOW_UP_OWNER_ACTION: {"selected_user": fields["owner"]}
        }
    if "due" in fields:
        values[ids.RESOLVE_FOLLOW_UP_DUE_BLOCK] = {
            ids.RESOLVE_FOLLOW_UP_DUE_ACTION: {"selected_date": fields["due"]}
        }
    return values


def _read(**fields: object) -> ResolveForm | dict[str, str]:
    return read_resolve_form(
        _values(**fields), root_causes=CAUSES, timezone="Europe/Berlin", due_time="09:00", now=NOW
    )


def test_a_resolve_form_without_a_follow_up_needs_only_note_and_cause() -> None:
    form = _read()
    assert isinstance(form, ResolveForm)
    assert form.follow_up is None
    assert form.notes == ""


def test_a_follow_up_needs_what_owner_and_date_and_each_missing_one_is_named() -> None:
    assert _read(owner="U0BOB") == {
        ids.RESOLVE_FOLLOW_UP_BLOCK: "Say what the follow-up is, or clear its owner and date.",
        ids.RESOLVE_FOLLOW_UP_DUE_BLOCK: "A follow-up needs a due date.",
    }
    errors = _read(what="fix it", due="2024-07-02")
    assert isinstance(errors, dict)
    assert set(errors) == {ids.RESOLVE_FOLLOW_UP_OWNER_BLOCK}


def test_a_complete_follow_up_is_due_at_the_due_time_in_the_teams_zone() -> None:
    form = _read(what="add an alert at 80%", owner="U0BOB", due="2024-07-02")
    assert isinstance(form, ResolveForm)
    assert form.follow_up is not None
    assert form.follow_up.due_at == datetime(2024, 7, 2, 7, 0, tzinfo=UTC)
    assert form.follow_up.owner == "U0BOB"


def test_an_unknown_root_cause_and_an_empty_note_are_refused() -> None:
    errors = _read(note="  ", cause="aliens")
    assert isinstance(errors, dict)
    assert set(errors) == {
        ids.RESOLVE_NOTE_BLOCK,
        ids.RESOLVE_CAUSE_BLOCK,
    }
