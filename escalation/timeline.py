"""The alert's timeline: what kind of line each rule writes, and which lines the alert's
Slack thread shows.

Every transition of the state machine writes one timeline line labelled with its rule; the
shell adds lines the machine does not decide (graded, routed, posted, notes, follow-ups,
refusals). Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

KIND_BY_RULE: Final[Mapping[str, str]] = {
    # the state machine
    "FIRE-1": "fired",
    "REFIRE-1": "refired",
    "ACK-1": "acknowledged",
    "ACK-SRC-1": "acknowledged",  # by the monitoring tool
    "CLAIM-1": "claimed",
    "CLAIM-2": "claimed",
    "ASSIGN-1": "assigned",
    "ASSIGN-2": "assigned",
    "UNACK-1": "unacknowledged",
    "SNOOZE-1": "snoozed",
    "SNOOZE-END": "snooze_ended",
    "ESC-1": "escalation_requested",
    "ESC-2": "escalated",
    "APPROVAL-1": "approval_asked",
    "APPROVAL-TIMEOUT-NEXT": "approval_asked",
    "APPROVE-1": "approved",
    "APPROVAL-TIMEOUT-APPROVE": "approved",
    "DENY-1": "denied",
    "APPROVAL-TIMEOUT-DENY": "denied",
    "STEP-1": "paged",
    "REPEAT-1": "paged",
    "STEP-END": "escalation_done",
    "OWNER-LATE-1": "deadline_missed",
    "REMIND-1": "reminded",
    "RESOLVE-1": "resolved",
    "RESOLVE-2": "resolved",
    # noise control and re-grading
    "SILENCE-1": "fired",  # fired while a silence is in force: never posted
    "SILENCE-2": "silenced",
    "SILENCE-3": "silenced",
    "SILENCE-END": "silence_ended",
    "GROUP-1": "grouped",
    "GROUP-LEAD-1": "group_lead",
    "REGRADE-1": "regraded",
    "REGRADE-2": "regraded",
    # lines the shell writes
    "GRADE-1": "graded",
    "ROUTE-1": "routed",
    "POST-1": "posted",
    "AUTH-1": "refused",
    "AUTH-2": "refused",
    "FLAP-1": "flapping",
    "ROUTE-2": "mirrored",
    "NOTE-1": "note",
    "FOLLOWUP-1": "follow_up",
    "FOLLOWUP-DONE": "follow_up_done",
    "FOLLOWUP-REMIND": "follow_up_reminded",
    "HEARTBEAT-1": "heartbeat_resumed",
}
"""The kind of timeline line each rule label writes (the review groups lines by kind)."""

STEP_RULES: Final = frozenset(
    {
        "STEP-1",
        "REPEAT-1",
        "STEP-END",
        "APPROVAL-1",
        "APPROVAL-TIMEOUT-NEXT",
        "APPROVAL-TIMEOUT-APPROVE",
        "APPROVAL-TIMEOUT-DENY",
        "SNOOZE-END",
        "OWNER-LATE-1",
        "REMIND-1",
    }
)
"""The rules a due timer step (``StepDue``) can write: count lines with these to count steps
(their kinds say what the step did: paged, reminded…)."""

NOT_IN_THREAD: Final = frozenset(
    {
        "fired",  # the warning itself says so
        "graded",
        "routed",
        "posted",
        "refired",  # counted on the warning; summed up in the next thread line
        "grouped",  # the group's member list in the thread says so
        "flapping",
        "mirrored",
        "refused",  # told privately to the person; kept for the review
        "reminded",  # the reminder is a DM of its own
        "follow_up_reminded",
    }
)
"""Kinds of line kept in the timeline but not repeated in the alert's Slack thread."""


def timeline_kind(rule: str, *, default: str) -> str:
    """The kind of line ``rule`` writes; ``default`` for a rule this table does not know
    (a newer rule written by another part of the shell)."""
    return KIND_BY_RULE.get(rule, default)


def shown_in_thread(kind: str) -> bool:
    return kind not in NOT_IN_THREAD


def refires_since(shown_count: int, count: int) -> str | None:
    """The thread's summary of repeats since its last line, ``None`` when there were none.

    ``shown_count`` is the alert's fire count the thread last reported (1 at first)."""
    more = count - shown_count
    if more <= 0:
        return None
    times = "once" if more == 1 else f"{more} times"
    return f"fired again {times} ({count} in all)"
