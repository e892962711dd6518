"""Every path of the state machine writes a timeline line of a known kind, and the thread
shows the lines people need (not repeats, not what the warning already says)."""

from __future__ import annotations

import pytest

from escalation.state import Transition, open_alert
from escalation.timeline import KIND_BY_RULE, NOT_IN_THREAD, refires_since, shown_in_thread
from tests.unit.escalation.test_state_machine import LEGAL, POLICY, T0, Cell, _apply


@pytest.mark.parametrize("cell", LEGAL, ids=lambda c: c.id)
def test_every_legal_transition_has_a_rule_with_a_timeline_kind(cell: Cell) -> None:
    result: Transition = _apply(cell)

    assert result.rule in KIND_BY_RULE, f"{result.rule} writes no known kind of line"
    assert result.summary.strip()
    assert "\n" not in result.summary


def test_opening_an_alert_writes_a_fired_line_the_thread_does_not_repeat() -> None:
    opened = open_alert(fired_at=T0, policy=POLICY, now=T0)
    assert KIND_BY_RULE[opened.rule] == "fired"
    assert not shown_in_thread("fired")


def test_people_actions_and_pages_are_shown_in_the_thread() -> None:
    for kind in (
        "acknowledged",
        "claimed",
        "assigned",
        "unacknowledged",
        "snoozed",
        "paged",
        "approval_asked",
        "approved",
        "denied",
        "escalated",
        "resolved",
        "note",
        "follow_up",
        "follow_up_done",
    ):
        assert shown_in_thread(kind), kind


def test_repeats_refusals_and_reminders_stay_out_of_the_thread() -> None:
    assert {"refired", "refused", "reminded", "follow_up_reminded"} <= NOT_IN_THREAD


def test_every_kind_not_in_the_thread_is_a_kind_some_rule_writes() -> None:
    assert set(NOT_IN_THREAD) <= set(KIND_BY_RULE.values())


@pytest.mark.parametrize(
    ("shown", "count", "expected"),
    [
        (1, 1, None),
        (4, 4, None),
        (1, 2, "fired again once (2 in all)"),
        (1, 5, "fired again 4 times (5 in all)"),
        (5, 3, None),
    ],
)
def test_refires_since_sums_up_repeats_once(shown: int, count: int, expected: str | None) -> None:
    assert refires_since(shown, count) == expected
