"""The events the intake parsed, kept for the inbox worker: taken once, only by the rules
that parsed them; past the bound, the bodies the worker has passed are let go, and else a new
body is not kept (the worker takes the oldest next)."""

from __future__ import annotations

from escalation.model import AlertEvent, SourceStatus
from storage.intake.inbox import ParsedBodies

RULES, RELOADED = object(), object()


def events(count: int, name: str = "a") -> list[AlertEvent]:
    return [
        AlertEvent(fingerprint=f"{name}-{i}", status=SourceStatus.FIRING, title=name, source="t")
        for i in range(count)
    ]


def test_kept_events_are_taken_once() -> None:
    parsed = ParsedBodies()
    kept = events(2)
    parsed.keep(7, RULES, kept)
    assert parsed.take(7, RULES) == kept
    assert parsed.take(7, RULES) is None
    assert len(parsed) == 0


def test_events_parsed_by_rules_since_reloaded_are_not_used() -> None:
    parsed = ParsedBodies()
    parsed.keep(7, RULES, events(1))
    assert parsed.take(7, RELOADED) is None
    assert len(parsed) == 0  # let go all the same


def test_past_the_bound_a_new_body_is_not_kept_while_the_worker_has_the_older_ones_to_come() -> (
    None
):
    parsed = ParsedBodies(max_events=5)
    parsed.keep(1, RULES, events(2, "one"))
    parsed.keep(2, RULES, events(2, "two"))
    parsed.keep(3, RULES, events(2, "three"))  # 6 > 5: the worker takes 1 and 2 first
    assert parsed.take(3, RULES) is None
    assert [e.fingerprint for e in parsed.take(1, RULES) or []] == ["one-0", "one-1"]
    assert parsed.take(2, RULES) is not None


def test_past_the_bound_bodies_the_worker_passed_are_let_go() -> None:
    """Bodies another replica's worker processed are never taken here: once this worker has
    asked for a later one, they make room."""
    parsed = ParsedBodies(max_events=5)
    parsed.keep(1, RULES, events(2, "elsewhere"))
    parsed.keep(2, RULES, events(2, "elsewhere"))
    parsed.keep(3, RULES, events(1, "mine"))
    assert parsed.take(3, RULES) is not None  # the worker is past 1 and 2
    parsed.keep(4, RULES, events(3, "new"))  # 7 > 5: 1 goes, which leaves room enough
    assert parsed.take(1, RULES) is None
    assert parsed.take(4, RULES) is not None
    assert parsed.take(2, RULES) is not None


def test_a_body_with_more_events_than_the_bound_is_not_kept() -> None:
    parsed = ParsedBodies(max_events=3)
    parsed.keep(1, RULES, events(1))
    parsed.keep(2, RULES, events(4))
    assert parsed.take(2, RULES) is None
    assert parsed.take(1, RULES) is not None  # nothing let go for it
