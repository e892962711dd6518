"""Re-grading an open alert when its source reports it again.

An alert that gets worse (its new grade is a more severe level) is **re-graded up**: its level
changes, the escalation policy of the new level applies from now on, the warning is redrawn
and the thread says so. How the new policy applies depends on where the alert stands:

* firing (nobody has it), or an owner missed the deadline: the chain keeps the tiers already
  paged, and the next step is due no later than the new policy says (a level 1 policy whose
  next tier pages at once pages at once);
* acknowledged: nobody is paged (someone is on it), but the owner is told in the thread and
  the new level's resolve deadline applies if it is sooner;
* snoozed: the snooze ends now (a snooze chosen for a minor problem must not hide a major
  one) and the escalation resumes as after any snooze;
* awaiting approval: the request stands; the new policy applies once it is decided.

An alert never goes down a level by itself: when the metric improves into a less severe band
(or into its noise band) the level is kept and the thread shows the change ("value back to
7% from 23%; level kept at 1").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from escalation.events import AlertState, PostThreadNote, Transition, UpdateWarning
from escalation.model import Metric, Status
from escalation.policy import EscalationPolicy
from escalation.steps import due_after_page, first_due
from escalation.triage.grading import Grade, Noise, percent


def describe_metric(metric: Metric) -> str:
    """``value 77 vs baseline 100 (23% below)``; units as given."""
    unit = f" {metric.unit}" if metric.unit else ""
    reference, what = (
        (metric.baseline, "baseline") if metric.baseline is not None else (metric.threshold, "")
    )
    text = f"value {metric.value:g}{unit}"
    deviation = metric.deviation()
    if reference is None or deviation is None:
        return text
    side = "above" if metric.value > reference else "below"
    return f"{text} vs {what or 'threshold'} {reference:g}{unit} ({percent(deviation)} {side})"


def would_be(grade: Grade | Noise) -> int | None:
    """The level a grade gives (``None``: noise)."""
    return grade.level if isinstance(grade, Grade) else None


def _level_name(level: int, names: Mapping[int, str]) -> str:
    name = names.get(level)
    return f"level {level} ({name})" if name else f"level {level}"


def regrade_up(
    state: AlertState,
    *,
    level: int,
    new: Grade,
    policy: EscalationPolicy,
    names: Mapping[int, str],
    metric: Metric | None,
    now: datetime,
) -> Transition:
    """REGRADE-1: ``new.level`` is more severe than ``level``; ``policy`` is the new level's."""
    upgraded, consequence = _apply_policy(state, policy, now)
    owner = state.owner or state.acknowledged_by
    lines = [
        f":arrow_double_up: Re-graded from {_level_name(level, names)} to "
        f"*{_level_name(new.level, names)}*"
        + (f": {describe_metric(metric)}" if metric is not None else f" ({new.reason})")
        + ".",
        consequence,
    ]
    if owner and state.status is not Status.SNOOZED:
        lines.append(f"<@{owner}>, this is now {_level_name(new.level, names)}.")
    summary = f"re-graded up from level {level} to level {new.level} ({new.reason})"
    return Transition(
        upgraded, (UpdateWarning(), PostThreadNote(" ".join(lines))), "REGRADE-1", summary
    )


def _apply_policy(
    state: AlertState, policy: EscalationPolicy, now: datetime
) -> tuple[AlertState, str]:
    """The state under the new level's policy, and a sentence saying what that means."""
    if state.status is Status.SNOOZED:
        return replace(state, next_action_at=now), "The snooze ends now."
    if state.status is Status.AWAITING_APPROVAL:
        return state, f"The approval request stands; policy *{policy.name}* applies after it."
    if state.status is Status.ACKNOWLEDGED and not state.escalating:
        deadline = state.owner_deadline_at
        if policy.resolve_within_seconds is not None:
            sooner = _after(now, policy.resolve_within_seconds)
            deadline = sooner if deadline is None else min(deadline, sooner)
        due = _earliest(state.next_action_at, deadline)
        moved = replace(state, owner_deadline_at=deadline, next_action_at=due)
        return moved, f"Policy *{policy.name}* applies; nobody is paged while someone owns it."
    # firing, or escalation resumed after a missed deadline: keep the tiers already paged
    tier = min(state.tier, len(policy.tiers) - 1)
    if tier < 0:
        due = first_due(policy, now)
    else:
        due = due_after_page(policy, tier=tier, cycle=state.cycle, now=now)
    due = _earliest(state.next_action_at, due) if state.escalating else state.next_action_at
    return replace(state, tier=tier, next_action_at=due), (
        f"Escalation follows policy *{policy.name}* from here."
    )


def regrade_kept(
    state: AlertState,
    *,
    level: int,
    previous: Grade | Noise,
    new: Grade | Noise,
    previous_metric: Metric,
    metric: Metric,
    names: Mapping[int, str],
) -> Transition | None:
    """REGRADE-2: the metric moved into another band that is not more severe than ``level``.
    ``None`` when it stays in the same band (a plain repeat)."""
    if would_be(previous) == would_be(new):
        return None
    before, after = previous_metric.deviation(), metric.deviation()
    if before is None or after is None:
        return None
    kept = _level_name(level, names)
    verb = "back to" if after < before else "up to"
    text = (
        f":information_source: Value {verb} {percent(after)} from {percent(before)} "
        f"({describe_metric(metric)}); level kept at {kept}."
    )
    if would_be(new) is None:
        text += " It is within the noise band now; resolve it when it is over."
    summary = f"value {verb} {percent(after)} from {percent(before)}; level kept at {level}"
    return Transition(state, (PostThreadNote(text),), "REGRADE-2", summary)


def _after(now: datetime, seconds: int) -> datetime:
    return now + timedelta(seconds=seconds)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
