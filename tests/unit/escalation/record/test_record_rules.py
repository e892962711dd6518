"""Pure rules of the record: the recurrence key, follow-up due times and reminders, notes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from escalation.record.follow_ups import (
    FollowUpError,
    due_at,
    next_reminder,
    overdue_days,
    parse_due_date,
)
from escalation.record.notes import annotate
from escalation.record.recurrence import recurrence_key, window_start

KEYS = ("service", "instance")
DAY = 86400


def test_same_name_and_key_labels_are_the_same_problem_whatever_else_differs() -> None:
    a = recurrence_key("Disk full", {"alertname": "DiskFull", "instance": "db-1", "pod": "x"}, KEYS)
    b = recurrence_key("Other title", {"alertname": "DiskFull", "instance": "db-1"}, KEYS)
    assert a == b
    assert len(a) == 32


def test_a_different_key_label_value_is_a_different_problem() -> None:
    a = recurrence_key("t", {"alertname": "DiskFull", "instance": "db-1"}, KEYS)
    b = recurrence_key("t", {"alertname": "DiskFull", "instance": "db-2"}, KEYS)
    c = recurrence_key("t", {"alertname": "DiskFull"}, KEYS)
    assert len({a, b, c}) == 3


def test_without_alertname_the_title_names_the_alert_case_insensitively() -> None:
    assert recurrence_key("Backup failed", {}, KEYS) == recurrence_key(" backup FAILED ", {}, KEYS)
    assert recurrence_key("Backup failed", {}, KEYS) != recurrence_key("Backup late", {}, KEYS)


def test_key_label_order_in_the_config_does_not_matter() -> None:
    labels = {"service": "api", "instance": "i-1"}
    assert recurrence_key("x", labels, ("service", "instance")) == recurrence_key(
        "x", labels, ("instance", "service")
    )


def test_the_count_window_ends_when_the_alert_fired() -> None:
    fired = datetime(2024, 5, 31, 12, tzinfo=UTC)
    assert window_start(fired, days=30) == datetime(2024, 5, 1, 12, tzinfo=UTC)


def test_a_due_date_means_the_due_time_in_the_teams_zone() -> None:
    when = due_at(date(2024, 7, 1), at=time(9, 0), timezone="Europe/Berlin")
    assert when == datetime(2024, 7, 1, 7, 0, tzinfo=UTC)  # CEST is UTC+2


def test_a_due_date_in_the_past_is_refused_and_a_bad_one_named() -> None:
    today = date(2024, 7, 1)
    assert parse_due_date("2024-07-01", today=today) == today
    with pytest.raises(FollowUpError, match="today or a later day"):
        parse_due_date("2024-06-30", today=today)
    with pytest.raises(FollowUpError, match='"next week" is not a date'):
        parse_due_date("next week", today=today)


DUE = datetime(2024, 7, 1, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DUE - timedelta(hours=5), DUE),
        (DUE, DUE + timedelta(days=1)),
        (DUE + timedelta(minutes=1), DUE + timedelta(days=1)),
        (DUE + timedelta(days=2, hours=3), DUE + timedelta(days=3)),
    ],
)
def test_reminders_keep_their_time_of_day_even_when_one_was_late(
    now: datetime, expected: datetime
) -> None:
    assert next_reminder(DUE, now=now, every_seconds=DAY) == expected


def test_overdue_days_count_whole_days_past_due() -> None:
    assert overdue_days(DUE, now=DUE - timedelta(days=1)) == 0
    assert overdue_days(DUE, now=DUE + timedelta(hours=23)) == 0
    assert overdue_days(DUE, now=DUE + timedelta(days=2, hours=1)) == 2


def test_the_first_note_on_a_resolution_by_the_source_becomes_what_was_done() -> None:
    done = annotate(
        resolved=True, by_source=True, note=None, root_cause=None, text="moved VM", cause="capacity"
    )
    assert (done.note, done.root_cause, done.changed) == ("moved VM", "capacity", True)
    again = annotate(
        resolved=True,
        by_source=True,
        note="moved VM",
        root_cause="capacity",
        text="more",
        cause="unknown",
    )
    assert (again.note, again.root_cause, again.changed) == ("moved VM", "capacity", False)


def test_a_note_never_overwrites_what_a_person_said_at_resolution() -> None:
    kept = annotate(
        resolved=True,
        by_source=False,
        note="restarted",
        root_cause="capacity",
        text="x",
        cause="unknown",
    )
    assert (kept.note, kept.root_cause, kept.changed) == ("restarted", "capacity", False)


def test_a_note_on_an_open_alert_changes_no_resolution() -> None:
    open_ = annotate(
        resolved=False, by_source=False, note=None, root_cause=None, text="x", cause="y"
    )
    assert not open_.changed
