"""Noise control on the warning: silenced, grouped, flapping; the silences list."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.slack import ids
from bot.slack.blocks.render import warning_blocks
from bot.slack.blocks.render_noise import (
    GROUP_TEXT_LIMIT,
    LISTED_PER_MESSAGE,
    group_list_pages,
    silence_refusal,
    silences_blocks,
)
from escalation.model import Flapping, GroupMember, GroupSummary, Status
from escalation.noise.label_matchers import parse_matchers
from escalation.noise.silence_command import SilenceCommandError, parse_silence_command
from escalation.noise.silences import Silence
from tests.unit.bot.slack.blocks.test_render import FIRING, RESOLVED_AT_SOURCE

UNTIL = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def action_ids(blocks: list[dict[str, object]]) -> list[str]:
    found: list[str] = []
    for block in blocks:
        elements = block.get("elements", []) if block.get("type") == "actions" else []
        assert isinstance(elements, list)
        for element in elements:
            found.append(element["action_id"])
    return found


def test_a_silenced_warning_says_until_when_and_offers_to_end_the_silence() -> None:
    view = replace(FIRING, status=Status.SILENCED, silence_id=4, silenced_until=UNTIL)
    blocks = warning_blocks(view)
    assert "*Silenced* until" in dump(blocks)
    assert "(silence #4)" in dump(blocks)
    assert action_ids(blocks) == [ids.END_SILENCE, ids.RESOLVE]


def test_a_group_warning_counts_its_members_and_the_thread_strikes_through_resolved_ones() -> None:
    group = GroupSummary(
        id=1,
        key="source:{}",
        members=(
            GroupMember(1, "Disk full on db-1", Status.RESOLVED),
            GroupMember(2, "Disk full on <!channel> db-2", Status.ACKNOWLEDGED),
        ),
    )
    text = dump(warning_blocks(replace(FIRING, group=group)))
    assert "*Group of 2 alerts* · 1 open · 1 resolved" in text
    [listed] = group_list_pages(group)
    assert "• ~#1 Disk full on db-1~ resolved" in listed
    assert "• #2 Disk full on" in listed
    assert "— acknowledged" in listed
    assert "<!channel>" not in listed


def test_flapping_shows_on_an_open_warning_only() -> None:
    flapping = Flapping(6, 1800)
    assert "flapping: fired 6 times in 30 min" in dump(
        warning_blocks(replace(FIRING, flapping=flapping))
    )
    resolved = replace(RESOLVED_AT_SOURCE, flapping=flapping)
    assert "flapping" not in dump(warning_blocks(resolved))


def test_the_silences_list_has_an_end_button_per_silence_and_says_what_is_scheduled() -> None:
    now = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    found = [
        Silence(1, parse_matchers("service=db"), now, UNTIL, "U0ALICE", "upgrade", "ops"),
        Silence(
            2, parse_matchers("env=~prod.*"), UNTIL, UNTIL.replace(hour=13), "U0DAVE", "window"
        ),
    ]
    text, blocks = silences_blocks(found, now=now, muted={1: 3})
    dumped = dump(blocks)
    assert text == "2 silence(s)"
    assert "in force · 3 alert(s) held muted" in dumped
    assert "scheduled · 0 alert(s)" in dumped
    assert "*every team*" in dumped
    assert "team *ops*" in dumped
    assert dumped.count(ids.END_SILENCE) == 2
    assert silences_blocks([], now=now, muted={})[0].startswith(":bell: No silences")


NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
BAD_SILENCES = [
    "env~prod 2h upgrade",
    "service",
    "9_lives=db 2h x",
    "env=~prod( 2h x",
    "service=db ~2h~ x",
    "service=db 0m x",
    "service=db 40d x",
    "service=db 2h starting",
    "service=db 2h starting *soon* x",
    "service=db 2h starting 2026-11-22T02:00 x",
    "service=db 2h starting 2020-01-01T00:00Z x",
    "service=db 2h starting 2027-11-22T02:00Z x",
    "env=~x,",
]


@pytest.mark.parametrize("command", BAD_SILENCES)
def test_a_silence_refusal_keeps_mrkdwn_syntax_inside_code_spans(command: str) -> None:
    with pytest.raises(SilenceCommandError) as refused:
        parse_silence_command(command, now=NOW)
    text = silence_refusal(field=refused.value.field, problem=refused.value.problem)
    outside = re.sub(r"`[^`\n]*`", "", text)
    outside = outside.replace(f"*{refused.value.field}*", "")  # the field is bold on purpose
    for char in "~*_<>":
        assert char not in outside, (char, text)


def test_a_big_group_is_listed_whole_in_several_messages_within_the_limit() -> None:
    hostile = "<!channel> & " * 20  # escapes to far more than the 150 characters kept
    members = tuple(
        GroupMember(id=10**9 + n, title=hostile, status=Status.AWAITING_APPROVAL)
        for n in range(2 * LISTED_PER_MESSAGE + 1)
    )
    pages = group_list_pages(GroupSummary(id=1, key="k", members=members))
    assert len(pages) == 3
    assert all(len(page) < GROUP_TEXT_LIMIT for page in pages)  # never cut
    text = "\n".join(pages)
    assert all(f"#{member.id} " in text for member in members)
    assert "more" not in text
    assert pages[0].startswith("*Alerts in this group* (41 of 41 open)")
    assert pages[2].startswith("*Alerts in this group* (continued)")
