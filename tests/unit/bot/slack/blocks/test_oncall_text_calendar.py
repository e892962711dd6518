"""`/tocsin oncall` for a calendar-fed rotation: the calendar's person and the next one, and
the fallback when the calendar has nothing ahead (no "then" to name)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.policy.directory import PolicyDirectory, rotation_of
from bot.slack.blocks.command_text import oncall_text
from config.policy import parse_policy
from escalation.calendar import CalendarSlot

POLICY = """
levels: {1: {name: critical}, 2: {name: major}, 3: {name: minor}}
integrations: [{name: am, format: alertmanager, token: long-enough-token}]
default_route: {team: ops, channel: '#alerts', policy: p}
rotations:
  db: {ical: {file: db.ics}, fallback: U0DAVE}
policies:
  p: {tiers: [{notify: [{oncall: db}]}]}
"""
NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def directory(*slots: CalendarSlot) -> PolicyDirectory:
    policy = parse_policy(POLICY, env={})
    laid_out = {"db": rotation_of("db", policy.rotations["db"], calendar=slots)}
    return PolicyDirectory(policy, calendars=lambda: laid_out)


def test_the_calendars_person_is_on_call_then_the_fallback() -> None:
    slot = CalendarSlot("U0BOB", NOW.replace(hour=9), NOW.replace(hour=18), "x")
    text = oncall_text(directory(slot), now=NOW, only=[])
    assert text.startswith("*db*: <@U0BOB> until")
    assert text.endswith("then <@U0DAVE>")


def test_with_nothing_ahead_the_fallback_is_shown_without_a_next() -> None:
    text = oncall_text(directory(), now=NOW, only=[])
    assert text == "*db*: <@U0DAVE> (fallback: the calendar has no shift ahead)"
