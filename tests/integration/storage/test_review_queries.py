"""The review's SQL on real SQLite and PostgreSQL: alerts with known times, pages and timeline
events are stored, and the figures must be the hand-computed ones."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.settings import async_url
from escalation.events import AlertState
from escalation.model import AlertEvent, SourceStatus
from escalation.policy import NO_POLICY, EscalationPolicy, Target, TargetKind, Tier
from escalation.review.figures import Review
from escalation.state import open_alert
from escalation.steps import page
from storage.alerts import new_row
from storage.db import Database
from storage.review import scan as review_scan
from storage.review.facts import FIRST_TIER, PAGED, ReviewFilter, build_review
from storage.tables import AlertEventRow, AlertRow, FollowUpRow, OutboxRow
from tests.support.databases import database

SINCE = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # Monday
UNTIL = SINCE + timedelta(days=7)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with database(request.param, tmp_path) as url:
        db = Database(async_url(url))
        await db.upgrade()
        try:
            yield db
        finally:
            await db.dispose()


BuildReview = Callable[[Database, ReviewFilter, Review], Awaitable[Review]]


@pytest.fixture(params=["straightforward", "fast"])
def build(request: pytest.FixtureRequest) -> BuildReview:
    """Both paths must give the hand-computed figures:
    storage.review.facts and storage.review.scan."""
    chosen: BuildReview = (
        build_review if request.param == "straightforward" else review_scan.build_review
    )
    return chosen


def alert(
    fingerprint: str,
    *,
    fired: datetime,
    acked: datetime | None = None,
    acked_by: str | None = None,
    resolved: datetime | None = None,
    by_source: bool = False,
    cause: str | None = None,
    level: int = 2,
    team: str = "ops",
    count: int = 1,
    ack_within: int | None = 300,
    flapping: bool = False,
) -> AlertRow:
    event = AlertEvent(
        fingerprint=fingerprint, status=SourceStatus.FIRING, title=f"T {fingerprint}", source="s"
    )
    tr = open_alert(fired_at=fired, policy=NO_POLICY, now=fired)
    row = new_row(
        event,
        tr.state,
        integration="generic",
        level=level,
        grade_reason="test",
        team=team,
        channel=f"#{team}-alerts",
        policy=NO_POLICY,
    )
    row.policy_snapshot = {**row.policy_snapshot, "ack_within": ack_within}
    row.count = count
    if flapping:  # marked by noise control when it fired
        row.flap_fires, row.flap_window_s = 5, 1800
    row.first_acknowledged_at = acked
    row.acknowledged_by = acked_by
    if resolved is not None:
        row.status = "resolved"
        row.resolved_at = resolved
        row.resolved_by_source = by_source
        row.root_cause = cause
    return row


def minutes(base: datetime, m: float) -> datetime:
    return base + timedelta(minutes=m)


async def store(db: Database, rows: list[AlertRow]) -> list[int]:
    async with db.write() as session:
        session.add_all(rows)
        await session.flush()
        return [r.id for r in rows if r.id is not None]


async def test_figures_from_the_database_match_the_hand_computed_ones(
    db: Database, build: BuildReview
) -> None:
    t = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    ids = await store(
        db,
        [
            # ack after 2 min (in time), resolved by Alice after 30 min; marked flapping
            alert(
                "a",
                fired=t,
                acked=minutes(t, 2),
                acked_by="U0ALICE",
                resolved=minutes(t, 30),
                cause="capacity",
                flapping=True,
            ),
            # ack after 10 min (late), resolved by the source after 60 min
            alert(
                "b",
                fired=t,
                acked=minutes(t, 10),
                acked_by="U0BOB",
                resolved=minutes(t, 60),
                by_source=True,
                team="db",
            ),
            # never acknowledged, resolved by the source after 5 min, fired 4 times
            alert("c", fired=t, resolved=minutes(t, 5), by_source=True, level=3, count=4),
            # open, never acknowledged
            alert("d", fired=t, level=1),
            # "c" again: a second fire → resolve cycle, and a third still open
            alert("c", fired=minutes(t, 60), resolved=minutes(t, 65), by_source=True, level=3),
            alert("c", fired=minutes(t, 120), level=3),
            # outside the period: ignored
            alert("e", fired=SINCE - timedelta(seconds=1)),
            alert("f", fired=UNTIL),
        ],
    )
    a, b, _, d = ids[:4]
    night_berlin = datetime(2026, 11, 3, 23, 30, tzinfo=UTC)  # 00:30 Wednesday in Berlin
    saturday = datetime(2026, 11, 7, 12, 0, tzinfo=UTC)
    async with db.write() as session:
        for n, (alert_id, user, at) in enumerate(
            [(a, "U0ALICE", t), (a, "U0ALICE", night_berlin), (d, "U0BOB", saturday)]
        ):
            session.add(
                OutboxRow(
                    idempotency_key=f"p{n}",
                    alert_id=alert_id,
                    kind="page_dm",
                    payload={"user": user, "tier": 0},
                    status="done",
                    created_at=at,
                    next_attempt_at=at,
                )
            )
        session.add(
            OutboxRow(
                idempotency_key="c1",
                alert_id=d,
                kind="page_channel",
                payload={"channel": "#ops"},
                created_at=t,
                next_attempt_at=t,
            )
        )
        session.add(
            OutboxRow(
                idempotency_key="x",
                alert_id=d,
                kind="thread_note",
                payload={},
                created_at=t,
                next_attempt_at=t,
            )
        )
        # a page after the period, for an alert of the period: it counts with its alert
        session.add(
            OutboxRow(
                idempotency_key="late",
                alert_id=d,
                kind="page_dm",
                payload={"user": "U0BOB"},
                created_at=UNTIL,
                next_attempt_at=UNTIL,
            )
        )
        # a page rolled into a storm's one page: not a page anybody received on its own
        session.add(
            OutboxRow(
                idempotency_key="folded",
                alert_id=a,
                kind="page_dm",
                payload={"user": "U0ALICE", "tier": 0},
                status="folded",
                created_at=t,
                next_attempt_at=t,
            )
        )
        # follow-ups: Alice still owes hers (alert a), Bob did his (alert b, team db)
        session.add(
            FollowUpRow(
                alert_id=a, text="more disk", owner="U0ALICE", due_at=t, created_by="U0ALICE",
                created_at=t,
            )
        )  # fmt: skip
        session.add(
            FollowUpRow(
                alert_id=b, text="tune vacuum", owner="U0BOB", due_at=t, created_by="U0BOB",
                created_at=t, done_at=t, done_by="U0BOB",
            )
        )  # fmt: skip
        for rule, summary, actor, alert_id in [
            ("STEP-1", "paged tier 1: user U0ALICE", None, a),
            ("STEP-1", "paged tier 2: user U0BOB", None, d),
            ("REPEAT-1", "paged tier 1 (round 2): user U0ALICE", None, d),
            ("APPROVAL-1", "approval asked by the policy to page tier 3: x", None, d),
            ("ESC-1", "approval asked by <@U0BOB> to page tier 2: help", "U0BOB", b),
            ("APPROVE-1", "approved by <@U0DAVE>; paged tier 3: user U0DAVE", "U0DAVE", d),
            ("DENY-1", "denied by <@U0DAVE>: no; tier 1 keeps the alert", "U0DAVE", b),
            ("APPROVAL-TIMEOUT-DENY", "denied by timeout: …", None, b),
            ("ACK-1", "acknowledged by <@U0ALICE>", "U0ALICE", a),
        ]:
            session.add(
                AlertEventRow(
                    alert_id=alert_id, at=t, kind="step", rule=rule, actor=actor, summary=summary
                )
            )

    spec = ReviewFilter(since=SINCE, until=UNTIL)
    review = await build(db, spec, Review(since=SINCE, until=UNTIL, team_zones={"ops": BERLIN}))
    o = review.overall.summary()
    assert o["alerts"] == 6
    assert o["firings"] == 9
    assert (o["acknowledged"], o["resolved"], o["open"]) == (2, 4, 2)
    assert o["resolved_by_source"] == 3
    assert o["mtta_median_s"] == pytest.approx(360)  # of 120 and 600
    assert o["mtta_p90_s"] == pytest.approx(600)
    assert o["mttr_median_s"] == pytest.approx(1050)  # of 300, 300, 1800, 3600
    assert o["mttr_p90_s"] == pytest.approx(3600)
    assert o["acked_within_deadline_share"] == pytest.approx(1 / 6)
    # Tuesday 10:00, 00:30 Wednesday in Berlin (night), Saturday noon (weekend), a channel,
    # and 01:00 in Berlin on the Monday after the period (night)
    assert (o["pages"], o["night_pages"], o["weekend_pages"]) == (5, 2, 1)
    # escalations: tier 2, the repeat round and the approved tier 3 — not the first tier 1
    assert o["escalations"] == 3
    assert (o["approvals_asked"], o["approvals_approved"], o["approvals_denied"]) == (2, 1, 1)
    assert o["approvals_timed_out"] == 1
    assert (o["follow_ups"], o["follow_ups_open"]) == (2, 1)
    alice = review.groups["person"]["U0ALICE"].summary()
    assert (alice["alerts"], alice["pages"], alice["night_pages"]) == (1, 2, 1)
    assert (alice["follow_ups"], alice["follow_ups_open"]) == (1, 1)
    dave = review.groups["person"]["U0DAVE"].summary()
    assert (dave["approvals_approved"], dave["approvals_denied"]) == (1, 1)
    assert review.groups["route"]["#db-alerts"].alerts == 1
    assert review.root_causes == {"capacity": 1, "by the source": 3}
    assert review.noisiest[0].title == "T c"
    assert (review.noisiest[0].firings, review.noisiest[0].cycles) == (6, 3)
    # "c" opened three times; "a" once, but noise control marked it flapping
    assert [(f.fingerprint, f.marked) for f in review.flapping] == [("c", False), ("a", True)]

    only_db = await build(
        db, ReviewFilter(since=SINCE, until=UNTIL, team="db"), Review(since=SINCE, until=UNTIL)
    )
    assert only_db.overall.alerts == 1
    assert only_db.overall.summary()["approvals_denied"] == 1
    assert (only_db.overall.follow_ups, only_db.overall.follow_ups_open) == (1, 0)
    level_3 = await build(
        db, ReviewFilter(since=SINCE, until=UNTIL, level=3), Review(since=SINCE, until=UNTIL)
    )
    assert level_3.overall.alerts == 3


def test_the_page_summary_marker_matches_what_the_state_machine_writes() -> None:
    """Escalations are counted from the timeline summary of page steps: keep them in step."""
    policy = EscalationPolicy(
        name="p",
        tiers=(
            Tier((Target(TargetKind.USER, "U0ALICE"),), 0),
            Tier((Target(TargetKind.USER, "U0BOB"),), 60),
        ),
    )
    state: AlertState = open_alert(fired_at=SINCE, policy=policy, now=SINCE).state
    first = page(state, policy, SINCE, tier=0, cycle=0, rule="STEP-1")[3]
    second = page(state, policy, SINCE, tier=1, cycle=0, rule="STEP-1")[3]
    like = (PAGED.strip("%"), FIRST_TIER.strip("%"))
    assert like[0] in first
    assert like[1] in first
    assert like[0] in second
    assert like[1] not in second


async def test_by_person_counts_who_owned_and_resolved_an_alert(
    db: Database, build: BuildReview
) -> None:
    handed = alert("h", fired=minutes(SINCE, 60), acked=minutes(SINCE, 62), acked_by="U0ALICE")
    handed.owner = "U0BOB"  # Alice acknowledged; Bob took it over and resolved it
    handed.status, handed.resolved_at, handed.resolved_by = "resolved", minutes(SINCE, 90), "U0BOB"
    await store(db, [handed])
    spec = ReviewFilter(since=SINCE, until=UNTIL)
    review = await build(db, spec, Review(since=SINCE, until=UNTIL))
    people = review.groups["person"]
    assert people["U0ALICE"].alerts == 1
    assert (people["U0BOB"].alerts, people["U0BOB"].resolved) == (1, 1)
    assert review.overall.alerts == 1


async def test_an_alert_and_all_that_happened_to_it_count_in_the_period_it_fired_in(
    db: Database, build: BuildReview
) -> None:
    # the source says "old" started long before the period, though Tocsin paged for it (and
    # escalated it) during the period; "new" fired in the period and was paged months later,
    # at 22:30 in Berlin on summer time (the period itself is on winter time)
    old_fired = SINCE - timedelta(days=400)
    old_id, new_id = await store(
        db, [alert("old", fired=old_fired), alert("new", fired=minutes(SINCE, 60))]
    )
    in_period = minutes(SINCE, 120)
    late_night = datetime(2027, 4, 5, 20, 30, tzinfo=UTC)
    async with db.write() as session:
        for n, (alert_id, at) in enumerate([(old_id, in_period), (new_id, late_night)]):
            session.add(
                OutboxRow(
                    idempotency_key=f"p{n}",
                    alert_id=alert_id,
                    kind="page_dm",
                    payload={"user": "U0ALICE", "tier": 1},
                    status="done",
                    created_at=at,
                    next_attempt_at=at,
                )
            )
        session.add(
            AlertEventRow(
                alert_id=old_id, at=in_period, kind="step", rule="STEP-1",
                summary="paged tier 2: user:U0ALICE → reached <@U0ALICE>",
            )
        )  # fmt: skip
    zones = {"ops": BERLIN}
    period = await build(
        db,
        ReviewFilter(since=SINCE, until=UNTIL),
        Review(since=SINCE, until=UNTIL, team_zones=zones),
    )
    o = period.overall.summary()
    assert (o["alerts"], o["pages"], o["escalations"]) == (1, 1, 0)
    assert o["night_pages"] == 1
    then = ReviewFilter(since=old_fired, until=old_fired + timedelta(days=1))
    earlier = await build(db, then, Review(since=then.since, until=then.until, team_zones=zones))
    e = earlier.overall.summary()
    assert (e["alerts"], e["pages"], e["escalations"]) == (1, 1, 1)
