"""The review's fast path (storage.review.scan: night/weekend classified by the database, rows
through a tight loop) gives the very report of the straightforward path (storage.review.facts: one
object per alert and per page), on real SQLite and PostgreSQL, over data chosen to sit on the
edges: teams in zones with a daylight-saving change in the period and a half-hour offset,
pages on the minute the night starts and ends, around local midnight of Friday and Sunday."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from config.settings import async_url
from escalation.model import AlertEvent, SourceStatus
from escalation.policy import NO_POLICY
from escalation.review.figures import Review
from escalation.review.offhours import OffHours
from escalation.state import open_alert
from storage.alerts import new_row
from storage.db import Database
from storage.review import facts as plain
from storage.review import scan as fast
from storage.review.facts import ReviewFilter
from storage.tables import AlertEventRow, AlertRow, OutboxRow, table_of
from tests.support.databases import database

SINCE = datetime(2026, 10, 19, 0, 0, tzinfo=UTC)  # Monday; Europe ends summer time on the 25th
UNTIL = SINCE + timedelta(days=14)
ZONES = {
    "berlin": ZoneInfo("Europe/Berlin"),
    "kolkata": ZoneInfo("Asia/Kolkata"),
    "york": ZoneInfo("America/New_York"),  # ends summer time on 1 November
}
TEAMS = (*ZONES, "elsewhere")  # "elsewhere" is not in the policy file: UTC
USERS = ("U0ALICE", "U0BOB", "U0CAROL", None)


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with database(request.param, tmp_path) as url:
        db = Database(async_url(url))
        await db.upgrade()
        try:
            yield db
        finally:
            await db.dispose()


def _edges() -> list[datetime]:
    """Instants on the boundaries the classification and the days turn on, per zone."""
    found: list[datetime] = []
    for zone in (*ZONES.values(), UTC):
        for day in range(-1, 15):
            local = datetime.combine(SINCE.date() + timedelta(days=day), time(), zone)
            for clock in (time(0), time(6, 59), time(7), time(21, 59), time(22), time(23, 59)):
                at = local.replace(hour=clock.hour, minute=clock.minute).astimezone(UTC)
                found += [at, at + timedelta(seconds=59, microseconds=999_999)]
    # the transitions themselves
    found += [datetime(2026, 10, 25, 1, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)]
    return [at for at in found if SINCE - timedelta(hours=2) <= at < UNTIL + timedelta(hours=2)]


def _template() -> dict[str, Any]:
    event = AlertEvent(fingerprint="t", status=SourceStatus.FIRING, title="t", source="s")
    tr = open_alert(fired_at=SINCE, policy=NO_POLICY, now=SINCE)
    row = new_row(event, tr.state, integration="generic", level=2, grade_reason="test",
                  team="x", channel="#x", policy=NO_POLICY)  # fmt: skip
    columns = [c.key for c in table_of(AlertRow).columns]
    return {name: getattr(row, name) for name in columns if name != "id"}


async def _seed(db: Database, *, alerts: int = 600, seed: int = 11) -> None:
    rng = random.Random(seed)
    edges = _edges()
    base = _template()

    def instant() -> datetime:
        if rng.random() < 0.5:
            return rng.choice(edges)
        span = (UNTIL - SINCE).total_seconds() + 4 * 3600
        return SINCE - timedelta(hours=2) + timedelta(seconds=rng.uniform(0, span))

    rows, events, pages = [], [], []
    for alert_id in range(1, alerts + 1):
        fired = instant()
        team = rng.choice(TEAMS)
        acked = fired + timedelta(seconds=rng.choice((300, 299.9996, 300.0004, 61.5, 4000)))
        resolved = fired + timedelta(seconds=rng.uniform(1, 9000))
        is_acked, is_resolved = rng.random() < 0.7, rng.random() < 0.8
        by_source = is_resolved and rng.random() < 0.4
        user = rng.choice(USERS[:3])
        service = rng.randrange(30)
        row = dict(base)
        row.update(
            id=alert_id,
            fingerprint=f"svc-{service}" if is_resolved else f"open-{alert_id}",
            title=f"Alert {service % 7}",
            level=rng.choice((1, 2, 3)),
            team=team,
            channel=f"#{team}-{rng.randrange(2)}",
            source=rng.choice(("prometheus", "grafana")),
            category=rng.choice(("latency", "data", None)),
            fired_at=fired,
            last_seen_at=fired,
            count=rng.choice((1, 1, 2, 5)),
            status="resolved" if is_resolved else ("acknowledged" if is_acked else "firing"),
            acknowledged_by=user if is_acked else None,
            first_acknowledged_at=acked if is_acked else None,
            resolved_at=resolved if is_resolved else None,
            resolved_by_source=by_source,
            root_cause=rng.choice(("capacity", "third party", None)) if is_resolved else None,
            policy_snapshot={"ack_within": rng.choice((300, 1800, None))},
            flap_fires=5 if rng.random() < 0.03 else None,
        )
        rows.append(row)
        for n in range(rng.choice((0, 1, 1, 2, 3))):
            at = instant()
            kind = rng.choice(("page_dm", "page_dm", "page_channel", "page_webhook", "post"))
            payload = {"user": rng.choice(USERS[:3])} if kind == "page_dm" else {"c": "#x"}
            pages.append({"idempotency_key": f"p{alert_id}-{n}", "alert_id": alert_id,
                          "kind": kind, "payload": payload, "status": "done", "created_at": at,
                          "next_attempt_at": at, "attempts": 1})  # fmt: skip
        for _ in range(rng.choice((0, 1, 2))):
            rule, summary, actor = rng.choice(
                [
                    ("STEP-1", "paged tier 1: user U0ALICE", None),
                    ("STEP-1", "paged tier 2: user U0BOB", None),
                    ("REPEAT-1", "paged tier 1 (round 2): user U0ALICE", None),
                    ("APPROVAL-1", "approval asked by the policy to page tier 3: x", None),
                    ("ESC-1", "approval asked by <@U0BOB> to page tier 2: help", "U0BOB"),
                    ("APPROVE-1", "approved by <@U0DAVE>; paged tier 3: user U0DAVE", "U0DAVE"),
                    ("DENY-1", "denied by <@U0EVE>: no; tier 1 keeps the alert", "U0EVE"),
                    ("APPROVAL-TIMEOUT-APPROVE", "approved by timeout; paged tier 2: x", None),
                    ("APPROVAL-TIMEOUT-DENY", "denied by timeout", None),
                    ("ACK-1", "acknowledged by <@U0ALICE>", "U0ALICE"),
                ]
            )
            events.append({"alert_id": alert_id, "at": instant(), "kind": "step", "rule": rule,
                           "actor": actor, "summary": summary})  # fmt: skip
    async with db.write() as session:
        conn = await session.connection()
        await conn.execute(table_of(AlertRow).insert(), rows)
        await conn.execute(table_of(AlertEventRow).insert(), events)
        await conn.execute(table_of(OutboxRow).insert(), pages)


def _review(spec: ReviewFilter, *, hours: OffHours, zone: Any = UTC) -> Review:
    return Review(since=spec.since, until=spec.until, zone=zone, team_zones=ZONES,
                  off_hours=hours, flapping_cycles=3)  # fmt: skip


async def _both(db: Database, spec: ReviewFilter, **kwargs: Any) -> tuple[str, str]:
    slow = await plain.build_review(db, spec, _review(spec, **kwargs))
    quick = await fast.build_review(db, spec, _review(spec, **kwargs))
    return json.dumps(quick.as_dict()), json.dumps(slow.as_dict())


WRAPPING = OffHours()  # 22:00-07:00, Saturday and Sunday
DAYTIME = OffHours(night_start=time(1, 30), night_end=time(5), weekend=frozenset({4, 5}))


@pytest.mark.parametrize("hours", [WRAPPING, DAYTIME], ids=["22-07 sat-sun", "0130-05 fri-sat"])
async def test_the_fast_report_is_the_straightforward_one_to_the_last_figure(
    db: Database, hours: OffHours
) -> None:
    await _seed(db)
    spec = ReviewFilter(since=SINCE, until=UNTIL)
    quick, slow = await _both(db, spec, hours=hours)
    figures = json.loads(quick)
    assert figures["overall"]["alerts"] > 400
    assert figures["overall"]["night_pages"] > 0
    assert figures["overall"]["weekend_pages"] > 0
    assert figures["overall"]["escalations"] > 0
    assert figures["flapping"]
    assert quick == slow


@pytest.mark.parametrize(
    ("team", "level", "category"),
    [("berlin", None, None), (None, 1, None), (None, None, "none"), ("kolkata", 2, "data")],
)
async def test_the_fast_report_matches_under_every_filter(
    db: Database, team: str | None, level: int | None, category: str | None
) -> None:
    await _seed(db, alerts=300, seed=5)
    spec = ReviewFilter(since=SINCE, until=UNTIL, team=team, level=level, category=category)
    zone = ZONES.get(team or "", UTC)  # a one-team report has that team's days
    quick, slow = await _both(db, spec, hours=WRAPPING, zone=zone)
    assert json.loads(quick)["overall"]["alerts"] > 0
    assert quick == slow


async def test_an_empty_period_gives_an_empty_report_on_both_paths(db: Database) -> None:
    spec = ReviewFilter(since=SINCE, until=UNTIL)
    quick, slow = await _both(db, spec, hours=WRAPPING)
    assert json.loads(quick)["overall"]["alerts"] == 0
    assert quick == slow
