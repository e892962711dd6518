"""The inbox worker's store of open alerts between transactions: bounded, the least
recently kept forgotten first, and holding only alerts as they were written."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from escalation.policy import EscalationPolicy
from escalation.state import open_alert
from storage.intake.open_alerts import NO_COUNT, KeptOpen, OpenAlert

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
POLICY = EscalationPolicy(name="default", tiers=())
STATE = open_alert(fired_at=NOW, policy=POLICY, now=NOW).state


def written(fingerprint: str, alert_id: int = 1) -> OpenAlert:
    return OpenAlert(
        alert_id=alert_id,
        integration="test",
        fingerprint=fingerprint,
        level=2,
        team="ops",
        group_id=None,
        policy=POLICY,
        stored=STATE,
        state=STATE,
        version=1,
        truncated=NO_COUNT,
    )


def test_an_alert_taken_is_no_longer_kept() -> None:
    kept = KeptOpen()
    kept.keep([written("a")])
    assert ("test", "a") in kept
    assert kept.take(("test", "a")) is not None
    assert kept.take(("test", "a")) is None
    assert len(kept) == 0


def test_the_least_recently_kept_are_forgotten_first() -> None:
    kept = KeptOpen(size=3)
    kept.keep([written(fp) for fp in "abc"])
    kept.keep([written("a")])  # kept again: the most recent
    kept.keep([written("d")])
    assert [fp for fp in "abcd" if ("test", fp) in kept] == ["a", "c", "d"]


def test_only_alerts_as_they_were_written_are_kept() -> None:
    later = dataclasses.replace(STATE, count=2)
    not_written = [
        dataclasses.replace(written("new"), alert_id=None),
        dataclasses.replace(written("row"), new={"title": "its columns, not yet written"}),
        dataclasses.replace(written("planned"), state=later),
    ]
    kept = KeptOpen()
    kept.keep(not_written)
    assert len(kept) == 0
