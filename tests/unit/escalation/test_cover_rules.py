"""escalation.cover_rules and overrides made from Slack layered on a rotation: members only,
not in the past, not backwards, not too long; the later override wins where they overlap."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from escalation.cover_rules import MAX_COVER, CoverRequest, ExistingOverride, check_cover
from escalation.oncall import Override, Rotation, on_call, shifts_between

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
MEMBERS = ("U0ALICE", "U0BOB", "U0CAROL")


def request(
    *,
    maker: str = "U0BOB",
    user: str | None = None,
    start: datetime,
    end: datetime,
    boss: bool = False,
) -> CoverRequest:
    return CoverRequest("primary", MEMBERS, maker, user or maker, start, end, boss)


def test_a_member_may_cover_a_coming_period() -> None:
    checked = check_cover(
        request(start=NOW + timedelta(hours=1), end=NOW + timedelta(days=1)), now=NOW, existing=[]
    )
    assert checked.problems == ()


def test_someone_outside_the_rotation_may_not_cover_it() -> None:
    checked = check_cover(
        request(maker="U0ERIN", start=NOW, end=NOW + timedelta(hours=1)), now=NOW, existing=[]
    )
    assert checked.problems == ("You are not a member of rotation *primary*, so cannot cover it.",)


def test_naming_someone_else_is_for_members_approvers_and_admins() -> None:
    start, end = NOW, NOW + timedelta(hours=2)
    assert (
        check_cover(
            request(maker="U0ALICE", user="U0BOB", start=start, end=end), now=NOW, existing=[]
        ).problems
        == ()
    )
    assert (
        check_cover(
            request(maker="U0DAVE", user="U0BOB", boss=True, start=start, end=end),
            now=NOW,
            existing=[],
        ).problems
        == ()
    )
    refused = check_cover(
        request(maker="U0ERIN", user="U0BOB", start=start, end=end), now=NOW, existing=[]
    )
    assert "Only members of *primary*, approvers and admins" in refused.problems[0]
    outsider = check_cover(
        request(maker="U0DAVE", user="U0ERIN", boss=True, start=start, end=end),
        now=NOW,
        existing=[],
    )
    assert outsider.problems == (
        "<@U0ERIN> is not a member of rotation *primary*, so cannot cover it.",
    )


def test_a_period_that_is_over_backwards_or_too_long_is_refused() -> None:
    past = check_cover(
        request(start=NOW - timedelta(days=2), end=NOW - timedelta(days=1)), now=NOW, existing=[]
    )
    assert "already over" in past.problems[0]
    backwards = check_cover(
        request(start=NOW + timedelta(days=2), end=NOW + timedelta(days=1)), now=NOW, existing=[]
    )
    assert "not after its start" in backwards.problems[0]
    long = check_cover(
        request(start=NOW, end=NOW + MAX_COVER + timedelta(minutes=1)), now=NOW, existing=[]
    )
    assert "longer than 31 days" in long.problems[0]
    just = check_cover(request(start=NOW, end=NOW + MAX_COVER), now=NOW, existing=[])
    assert just.problems == ()


def test_a_period_already_begun_starts_now() -> None:
    checked = check_cover(
        request(start=NOW - timedelta(hours=3), end=NOW + timedelta(hours=3)), now=NOW, existing=[]
    )
    assert checked.problems == ()
    assert checked.start == NOW


def test_overlapping_overrides_are_named_and_touching_ones_are_not() -> None:
    existing = [
        ExistingOverride(1, "U0ALICE", NOW + timedelta(hours=1), NOW + timedelta(hours=5)),
        ExistingOverride(2, "U0CAROL", NOW + timedelta(hours=5), NOW + timedelta(hours=8)),
        ExistingOverride(3, "U0CAROL", NOW + timedelta(hours=10), NOW + timedelta(hours=12)),
    ]
    checked = check_cover(
        request(start=NOW + timedelta(hours=4), end=NOW + timedelta(hours=10)),
        now=NOW,
        existing=existing,
    )
    assert [o.id for o in checked.overlaps] == [1, 2]


def daily(*overrides: Override, tz: str = "UTC") -> Rotation:
    return Rotation(
        "primary", MEMBERS, tz, time(9), "daily", date(2026, 11, 30), overrides=overrides
    )


def test_the_later_override_wins_where_two_overlap() -> None:
    first = Override("U0ALICE", NOW, NOW + timedelta(hours=6))
    later = Override("U0CAROL", NOW + timedelta(hours=2), NOW + timedelta(hours=4))
    rotation = daily(first, later)
    assert on_call(rotation, at=NOW + timedelta(hours=1)).user == "U0ALICE"
    assert on_call(rotation, at=NOW + timedelta(hours=3)).user == "U0CAROL"
    assert on_call(rotation, at=NOW + timedelta(hours=5)).user == "U0ALICE"
    swapped = daily(later, first)  # made the other way round: the long one wins throughout
    assert on_call(swapped, at=NOW + timedelta(hours=3)).user == "U0ALICE"


def test_an_override_splits_a_shift_in_three() -> None:
    # 2026-12-02 09:00 UTC starts shift 2: U0CAROL's
    cover = Override(
        "U0BOB", datetime(2026, 12, 2, 18, tzinfo=UTC), datetime(2026, 12, 2, 22, tzinfo=UTC)
    )
    day = shifts_between(
        daily(cover),
        start=datetime(2026, 12, 2, 9, tzinfo=UTC),
        end=datetime(2026, 12, 3, 8, tzinfo=UTC),
    )
    assert [(s.user, s.start.hour, s.end.hour) for s in day] == [
        ("U0CAROL", 9, 18),
        ("U0BOB", 18, 22),
        ("U0CAROL", 22, 9),
    ]
    assert all(s.scheduled == "U0CAROL" for s in day)


def test_an_override_across_the_autumn_change_covers_the_extra_hour() -> None:
    # 25 October 2026: Berlin's clocks go back; the daily shift from the 24th is 25 h long
    start = datetime(2026, 10, 24, 7, tzinfo=UTC)  # 09:00 CEST
    end = datetime(2026, 10, 25, 8, tzinfo=UTC)  # 09:00 CET
    rotation = daily(Override("U0BOB", start, end), tz="Europe/Berlin")
    [shift] = shifts_between(rotation, start=start, end=end)
    assert shift.user == "U0BOB"
    assert shift.end - shift.start == timedelta(hours=25)
    assert on_call(rotation, at=end).user != "U0BOB"
