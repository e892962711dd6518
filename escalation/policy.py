"""Escalation policies in domain terms, and their snapshot (what an alert in flight keeps).

A policy is an ordered list of tiers. Tier 0 is paged ``after`` seconds from firing; every
later tier ``after`` seconds from the previous page. ``repeat`` runs the whole chain again
(from tier 0) that many more times. A tier may need a manager's approval before it is paged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class TargetKind(StrEnum):
    USER = "user"
    ONCALL = "oncall"
    GROUP = "group"
    CHANNEL = "channel"
    WEBHOOK = "webhook"


class OnTimeout(StrEnum):
    APPROVE = "approve"
    DENY = "deny"
    NEXT_APPROVER = "next_approver"


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    ref: str

    def describe(self) -> str:
        return f"{self.kind.value}:{self.ref}"


@dataclass(frozen=True, slots=True)
class Tier:
    targets: tuple[Target, ...]
    after_seconds: int
    requires_approval: bool = False


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    name: str
    tiers: tuple[Tier, ...]
    repeat: int = 0
    repeat_after_seconds: int = 600
    """Pause before the chain starts again (at least tier 0's ``after``)."""
    approvers: tuple[str, ...] = ()
    """Slack user ids asked, in order, to approve a tier that needs it."""
    approval_timeout_seconds: int = 900
    on_timeout: OnTimeout = OnTimeout.DENY
    ack_within_seconds: int | None = None
    resolve_within_seconds: int | None = None
    remind_every_seconds: int | None = None
    stand_down_needs_approval: bool = False

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tiers": [
                {
                    "targets": [[t.kind.value, t.ref] for t in tier.targets],
                    "after": tier.after_seconds,
                    "requires_approval": tier.requires_approval,
                }
                for tier in self.tiers
            ],
            "repeat": self.repeat,
            "repeat_after": self.repeat_after_seconds,
            "approvers": list(self.approvers),
            "approval_timeout": self.approval_timeout_seconds,
            "on_timeout": self.on_timeout.value,
            "ack_within": self.ack_within_seconds,
            "resolve_within": self.resolve_within_seconds,
            "remind_every": self.remind_every_seconds,
            "stand_down_needs_approval": self.stand_down_needs_approval,
        }

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> EscalationPolicy:
        return cls(
            name=str(data["name"]),
            tiers=tuple(
                Tier(
                    targets=tuple(Target(TargetKind(k), str(r)) for k, r in tier["targets"]),
                    after_seconds=int(tier["after"]),
                    requires_approval=bool(tier.get("requires_approval", False)),
                )
                for tier in data["tiers"]
            ),
            repeat=int(data.get("repeat", 0)),
            repeat_after_seconds=int(data.get("repeat_after", 600)),
            approvers=tuple(str(a) for a in data.get("approvers", ())),
            approval_timeout_seconds=int(data.get("approval_timeout", 900)),
            on_timeout=OnTimeout(data.get("on_timeout", "deny")),
            ack_within_seconds=_opt_int(data.get("ack_within")),
            resolve_within_seconds=_opt_int(data.get("resolve_within")),
            remind_every_seconds=_opt_int(data.get("remind_every")),
            stand_down_needs_approval=bool(data.get("stand_down_needs_approval", False)),
        )


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))


NO_POLICY = EscalationPolicy(name="none", tiers=())
