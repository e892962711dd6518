"""Override messages: what a Confirm / Accept button carries survives the round trip, a forged
or garbled value is refused, and times are shown in full in the rotation's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.slack import ids
from bot.slack.blocks.override_blocks import Proposal, cover_preview, span, when

START = datetime(2026, 12, 4, 17, tzinfo=UTC)
END = datetime(2026, 12, 7, 8, tzinfo=UTC)


def test_a_proposal_survives_its_button_value() -> None:
    proposal = Proposal("ops/primary", "U0BOB", START, END, "U0ALICE", "U0ALICE:123.456", "U0ALICE")
    assert Proposal.decode(proposal.encode()) == proposal


@pytest.mark.parametrize(
    "value", ["", "dismiss", "{}", '{"r":"x","u":"U","s":"soon","e":1,"m":"U","n":"1"}', "[1]"]
)
def test_a_garbled_value_is_no_proposal(value: str) -> None:
    assert Proposal.decode(value) is None


def test_times_are_shown_in_full_in_the_rotations_zone_with_its_summer_or_winter_name() -> None:
    assert when(START, "Europe/Berlin") == "Fri 2026-12-04 18:00 CET"
    assert when(datetime(2026, 7, 1, 7, tzinfo=UTC), "Europe/Berlin") == "Wed 2026-07-01 09:00 CEST"
    assert span(START, END, "Europe/Berlin") == (
        "from Fri 2026-12-04 18:00 CET until Mon 2026-12-07 09:00 CET (2d 15h)"
    )


def test_the_preview_offers_confirm_and_cancel() -> None:
    proposal = Proposal("primary", "U0BOB", START, END, "U0ALICE", "n")
    text, blocks = cover_preview(proposal, "Europe/Berlin", "")
    assert text.startswith("<@U0BOB> will be on call for *primary* from Fri 2026-12-04 18:00 CET")
    buttons = blocks[-1]["elements"]
    assert [b["action_id"] for b in buttons] == [ids.COVER_CONFIRM, ids.COVER_DISMISS]
    assert Proposal.decode(buttons[0]["value"]) == proposal
