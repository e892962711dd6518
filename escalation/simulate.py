"""``policy simulate``: who would be paged when if nobody acts — the real state machine run
with a fake clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from escalation.events import AlertState, IllegalTransition, Page, RequestApproval, StepDue
from escalation.policy import EscalationPolicy
from escalation.ports import Directory, NamedDirectory
from escalation.state import open_alert, transition


@dataclass(frozen=True, slots=True)
class SimulatedStep:
    offset: timedelta
    at: datetime
    rule: str
    summary: str
    paged: tuple[str, ...]
    """Who is paged at this step (people resolved through the directory when given)."""


def simulate(
    policy: EscalationPolicy,
    *,
    start: datetime,
    directory: Directory | None = None,
    max_steps: int = 50,
) -> list[SimulatedStep]:
    """Every step of the chain from ``start`` until nothing more is due (or ``max_steps``)."""
    opened = open_alert(fired_at=start, policy=policy, now=start)
    state: AlertState = opened.state
    steps: list[SimulatedStep] = []
    while state.next_action_at is not None and len(steps) < max_steps:
        now = state.next_action_at
        try:
            result = transition(state, StepDue(), policy=policy, now=now)
        except IllegalTransition:  # pragma: no cover - next_action_at is due by construction
            break
        paged: list[str] = []
        for effect in result.effects:
            if isinstance(effect, Page):
                paged.extend(_who(t.kind.value, t.ref, now, directory) for t in effect.targets)
            elif isinstance(effect, RequestApproval):
                paged.extend(f"approver {_name(a, directory)}" for a in effect.approvers)
        steps.append(SimulatedStep(now - start, now, result.rule, result.summary, tuple(paged)))
        state = result.state
    return steps


def _who(kind: str, ref: str, at: datetime, directory: Directory | None) -> str:
    if kind == "oncall" and directory is not None:
        person = directory.on_call(ref, at=at)
        return (
            f"{_name(person, directory)} (on call for {ref})"
            if person
            else f"nobody on call for {ref}"
        )
    if kind == "user":
        return _name(ref, directory)
    return f"{kind} {ref}"


def _name(user: str, directory: Directory | None) -> str:
    """A person's name from the policy's ``people`` when the directory knows it; else the id."""
    return directory.name(user) if isinstance(directory, NamedDirectory) else user


def format_offset(offset: timedelta) -> str:
    """``+0m``, ``+8s``, ``+1m30s``, ``+10m``, ``+1h05m``: seconds only when there are some
    (a policy with ``after: 8s`` is not rounded to whole minutes)."""
    total = int(offset.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    tail = f"{seconds:02d}s" if seconds else ""
    if hours:
        return f"+{hours}h{minutes:02d}m{tail}"
    if minutes:
        return f"+{minutes}m{tail}"
    return f"+{seconds}s" if seconds else "+0m"
