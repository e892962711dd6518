"""Deliveries scheduled per Slack conversation ("lane"): paced like Slack's limit of about one
message per second per channel, and held on their own after a 429.

A lane is the conversation a delivery writes to: the alert's channel for its warning, its
updates and thread notes; ``dm:<user>`` for a page, reminder or approval request; the
paged channel for a channel page. Outbound webhooks and approval closings are not paced.
A 429 holds only its lane; other lanes go on. On SQLite (one replica) the pacing is kept in
memory (:class:`LaneGate`); on PostgreSQL it is shared by every replica through the database
(:mod:`storage.lane_pace`), so several replicas together keep within Slack's rate and a 429
one of them receives holds the lane for all. Slack's 429 with ``Retry-After`` stays the
authority, and holds are honoured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import assert_never

from escalation.outbox_kinds import (
    OutboxKind,
    OutboxPayloadError,
    read_approval_request,
    read_page_channel,
    read_page_dm,
    read_page_link,
    read_page_webhook,
    read_reminder,
)
from storage import lane_pace
from storage.db import Database
from storage.outbox import Claimed


@dataclass(frozen=True, slots=True)
class Lane:
    key: str
    paced: bool
    channel: str | None = None
    """For the alert's own channel: its name as routed (a hold also holds its stored rows)."""


LATE_WRITE = timedelta(milliseconds=50)
"""Slack counts a write when it arrives; a lane counts it when its slot is taken. The time
between the two varies (rendering, the database, the connection): a slow write followed by a
quick one would reach Slack less than a second apart and be answered 429, which costs a
second or more. So a lane keeps this much in hand (:func:`margin`), and a write done later
than this after its slot was taken counts from its end less this (``wrote``). A lane writing
without pause keeps exactly Slack's rate while its writes are quicker than this."""


def margin(rate: float) -> float:
    """The tokens a lane keeps in hand besides the write's own (:data:`LATE_WRITE`)."""
    return LATE_WRITE.total_seconds() * rate


SPARE = {OutboxKind.PAGE_LINK.value: 2}
"""Writes that take a conversation's slot only while this many more are left: a page's link
to its warning (an edit; the page rang already) waits until the person's DM is quiet, so it
never costs the pages that follow it their slots (two a second come close together)."""


def lane_of(item: Claimed) -> Lane:
    """The row's lane. A row of its own, not paced, for a row this version cannot read (a kind
    it does not know, a payload its kind cannot read): its delivery fails and is retried."""
    kind = OutboxKind.of(item.kind)
    if kind is None:
        return Lane(f"row:{item.id}", paced=False)
    try:
        return _lane(item, kind)
    except OutboxPayloadError:
        return Lane(f"row:{item.id}", paced=False)


def _lane(item: Claimed, kind: OutboxKind) -> Lane:
    # Exhaustive: mypy fails on a kind that has no case here (assert_never).
    match kind:
        case (
            OutboxKind.POST_WARNING
            | OutboxKind.UPDATE_WARNING
            | OutboxKind.THREAD_NOTE
            | OutboxKind.THREAD_LINES
            | OutboxKind.GROUP_LIST
        ):
            channel = item.channel or f"alert:{item.alert_id}"
            return Lane(channel, paced=True, channel=item.channel)
        case OutboxKind.PAGE_DM:
            return Lane(f"dm:{read_page_dm(item.payload)['user']}", paced=True)
        case OutboxKind.REMINDER:
            return Lane(f"dm:{read_reminder(item.payload)['user']}", paced=True)
        case OutboxKind.APPROVAL_REQUEST:
            return Lane(f"dm:{read_approval_request(item.payload)['approver']}", paced=True)
        case OutboxKind.PAGE_CHANNEL:
            return Lane(read_page_channel(item.payload)["channel"], paced=True)
        case OutboxKind.PAGE_WEBHOOK:
            return Lane(f"webhook:{read_page_webhook(item.payload)['webhook']}", paced=False)
        case OutboxKind.PAGE_LINK:
            return Lane(read_page_link(item.payload)["lane"], paced=True)
        case OutboxKind.APPROVAL_CLOSE | OutboxKind.FOLLOW_UP_REMINDER:
            return Lane(f"row:{item.id}", paced=False)
        case _:
            assert_never(kind)


@dataclass
class _Bucket:
    tokens: float
    at: datetime
    held_until: datetime | None = None


class LaneGate:
    """A token bucket per lane (``rate`` writes a second, up to ``burst`` at once) and the
    holds Slack asked for with ``Retry-After``."""

    def __init__(self, *, rate: float = 1.0, burst: int = 3) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._lanes: dict[str, _Bucket] = {}

    def _bucket(self, lane: str, now: datetime) -> _Bucket:
        bucket = self._lanes.get(lane)
        if bucket is None:
            bucket = self._lanes[lane] = _Bucket(tokens=float(self.burst), at=now)
        elapsed = max((now - bucket.at).total_seconds(), 0.0)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
        bucket.at = now
        return bucket

    def free_at(self, lane: str, now: datetime, *, spare: int = 0) -> datetime:
        """When the lane may take its next write (``now`` if it may now); with ``spare``,
        when it may while keeping that many slots for others (see :data:`SPARE`)."""
        bucket = self._bucket(lane, now)
        need = lane_pace.tokens_needed(spare=spare, burst=self.burst, margin=margin(self.rate))
        at = now
        if bucket.tokens < need:
            at = now + timedelta(seconds=(need - bucket.tokens) / self.rate)
        if bucket.held_until is not None and bucket.held_until > at:
            at = bucket.held_until
        return at

    def take(self, lane: str, now: datetime, *, spare: int = 0) -> bool:
        """Use a write slot of ``lane`` if one is free now (and ``spare`` more)."""
        if self.free_at(lane, now, spare=spare) > now:
            return False
        self._lanes[lane].tokens -= 1.0
        return True

    def wrote(self, lane: str, now: datetime) -> None:
        """A write taken from ``lane`` was done by ``now`` (see :data:`LATE_WRITE`)."""
        bucket = self._lanes.get(lane)
        counted = now - LATE_WRITE
        if bucket is not None and counted > bucket.at:
            bucket.at = counted

    def hold(self, lane: str, *, until: datetime, now: datetime) -> None:
        """Slack answered 429: no write to ``lane`` before ``until``."""
        bucket = self._bucket(lane, now)
        bucket.tokens = min(bucket.tokens, 0.0)
        if bucket.held_until is None or until > bucket.held_until:
            bucket.held_until = until

    def forget_idle(self, now: datetime) -> None:
        """Drop lanes whose bucket is full and not held (keeps memory bounded)."""
        for lane in [k for k, b in self._lanes.items() if self._idle(b, now)]:
            del self._lanes[lane]

    def _idle(self, bucket: _Bucket, now: datetime) -> bool:
        elapsed = max((now - bucket.at).total_seconds(), 0.0)
        full = bucket.tokens + elapsed * self.rate >= self.burst
        return full and (bucket.held_until is None or bucket.held_until <= now)


class Pacing:
    """The lane gate the senders use: ``await take(lane, now)`` is ``None`` when a write slot
    was taken, else when the lane frees. With ``shared`` (a PostgreSQL database) the buckets
    and holds live in the database, shared by every replica; otherwise in ``gate``."""

    def __init__(self, gate: LaneGate, *, shared: Database | None = None) -> None:
        self.gate = gate
        self._shared = shared
        self._swept_at: datetime | None = None

    @property
    def shared(self) -> bool:
        return self._shared is not None

    async def take(self, lane: str, now: datetime, *, spare: int = 0) -> datetime | None:
        """``spare``: take a slot only while that many more are left for others (a write
        that must never cost a page its slot: :data:`SPARE`)."""
        if self._shared is not None:
            return await lane_pace.take(
                self._shared,
                lane,
                now=now,
                rate=self.gate.rate,
                burst=self.gate.burst,
                spare=spare,
                margin=margin(self.gate.rate),
            )
        if self.gate.take(lane, now, spare=spare):
            return None
        return self.gate.free_at(lane, now, spare=spare)

    async def wrote(self, lane: str, now: datetime) -> None:
        """A write taken from ``lane`` was done by ``now`` (see :meth:`LaneGate.wrote`)."""
        if self._shared is not None:
            await lane_pace.wrote(self._shared, lane, counted=now - LATE_WRITE)
        else:
            self.gate.wrote(lane, now)

    async def hold(self, lane: str, *, until: datetime, now: datetime) -> None:
        if self._shared is not None:
            await lane_pace.hold(self._shared, lane, until=until, now=now)
        else:
            self.gate.hold(lane, until=until, now=now)

    async def forget_idle(self, now: datetime) -> None:
        """Drop idle lanes (in memory at once; in the database once a minute)."""
        self.gate.forget_idle(now)
        if self._shared is None:
            return
        if self._swept_at is not None and now - self._swept_at < SWEEP_EVERY:
            return
        self._swept_at = now
        await lane_pace.forget_idle(self._shared, before=now - SWEEP_EVERY)


SWEEP_EVERY = timedelta(minutes=1)
"""A shared lane idle this long has a full bucket again (at any rate ≥ burst/60 a second)."""
