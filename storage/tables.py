"""SQLModel tables. Rows are built from validated domain objects, never from raw input."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Index,
    LargeBinary,
    Table,
    Text,
    event,
    false,
    inspect,
    text,
)
from sqlalchemy.orm import Mapper, object_session
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

FINGERPRINT_CHARS = 255
"""The longest fingerprint kept (``VARCHAR(255)``: PostgreSQL refuses a longer one). The
webhook parsers accept no longer one (``escalation.sources._validate.MAX_FINGERPRINT_CHARS``;
a test holds the two equal)."""


def _ts(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def table_of(row: type[SQLModel]) -> Table:
    """The Core table of a table model, typed (SQLModel does not declare ``__table__``), for
    statements built with SQLAlchemy Core: ``table_of(AlertRow).c.status``."""
    table = inspect(row).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{row.__name__} is not mapped to one table")
    return table


class InboxRow(SQLModel, table=True):
    """A webhook body as received, stored before the sender gets its 2xx."""

    __tablename__ = "inbox"
    id: int | None = Field(default=None, primary_key=True)
    integration: str = Field(max_length=64)
    source_format: str = Field(max_length=32)
    received_at: datetime = _ts()
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    processed_at: datetime | None = _ts(nullable=True)
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class InboxDoneRow(SQLModel, table=True):
    """An inbox body whose alerts are written, recorded in their transaction. Kept only where
    the inbox is a file of its own (``storage.inbox_file``): the body is marked done there
    by a second commit, and a body listed here is never processed twice."""

    __tablename__ = "inbox_done"
    inbox_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})


class AlertRow(SQLModel, table=True):
    __tablename__ = "alert"
    __table_args__ = (
        # At most one open alert per integration and fingerprint: dedup is enforced by the
        # database, and two tools sending the same fingerprint are two alerts.
        Index(
            "ux_alert_open_integration_fingerprint",
            "integration",
            "fingerprint",
            unique=True,
            sqlite_where=text("status != 'resolved'"),
            postgresql_where=text("status != 'resolved'"),
        ),
        # "last time" and "fired N times in 30 days": by integration and fingerprint, or by
        # recurrence key
        Index(
            "ix_alert_integration_fingerprint_fired_at", "integration", "fingerprint", "fired_at"
        ),
        Index("ix_alert_recurrence_key_fired_at", "recurrence_key", "fired_at"),
        Index("ix_alert_fired_at", "fired_at"),  # the review scans a period
        Index("ix_alert_team_fired_at", "team", "fired_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=FINGERPRINT_CHARS, index=True)
    integration: str = Field(max_length=64)
    source: str = Field(max_length=255)
    status: str = Field(max_length=24, index=True)
    level: int
    grade_reason: str = Field(default="", max_length=255)
    title: str = Field(sa_column=Column(Text, nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    impact: str = Field(default="", sa_column=Column(Text, nullable=False))
    suggested_actions: str = Field(default="", sa_column=Column(Text, nullable=False))
    severity: str | None = Field(default=None, max_length=255)
    category: str | None = Field(default=None, max_length=255)
    labels: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    annotations: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    links: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    group_key: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    team: str = Field(max_length=255)
    channel: str = Field(max_length=255)
    policy: str = Field(max_length=255)
    fired_at: datetime = _ts()
    last_seen_at: datetime = _ts()
    count: int = 1
    acknowledged_by: str | None = Field(default=None, max_length=64)
    acknowledged_at: datetime | None = _ts(nullable=True)
    first_acknowledged_at: datetime | None = _ts(nullable=True)
    owner: str | None = Field(default=None, max_length=64)
    owner_since: datetime | None = _ts(nullable=True)
    assigned_by: str | None = Field(default=None, max_length=64)
    resolved_by: str | None = Field(default=None, max_length=64)
    resolved_at: datetime | None = _ts(nullable=True)
    resolved_by_source: bool = False
    resolution_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    root_cause: str | None = Field(default=None, max_length=255)
    version: int = 1
    # escalation (see escalation.events.AlertState)
    policy_snapshot: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    tier: int = Field(default=-1, sa_column_kwargs={"server_default": "-1"})
    cycle: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    escalating: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})
    next_action_at: datetime | None = _ts(nullable=True, index=True)
    owner_deadline_at: datetime | None = _ts(nullable=True)
    snoozed_until: datetime | None = _ts(nullable=True)
    resume_status: str | None = Field(default=None, max_length=24)
    approval_seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    approval_tier: int | None = None
    approval_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    approval_requested_by: str | None = Field(default=None, max_length=64)
    approver_index: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    recurrence_key: str | None = Field(default=None, max_length=64)
    """The alert's name and key labels, hashed (escalation.record.recurrence)."""
    # noise control: silences, grouping, flapping
    silence_id: int | None = None
    silenced_until: datetime | None = _ts(nullable=True)
    group_id: int | None = Field(default=None, index=True)
    flap_fires: int | None = None
    flap_window_s: int | None = None


@event.listens_for(AlertRow, "before_update")
def _version_every_change(_mapper: Mapper[AlertRow], _conn: Connection, row: AlertRow) -> None:
    """An ORM flush that changes a stored alert row and leaves its version as it was bumps
    the version, so that every transaction that writes the row changes it (the bulk writers
    set it themselves): a copy of the row read at a version is the row while the version is
    the same — what the inbox worker's kept open alerts rely on
    (``storage.intake.open_alerts``). A row inserted in this session (one session is one
    transaction) was never seen at a version by anyone else: it is left alone, so it is
    written as the bulk path writes the same alert."""
    state = inspect(row)
    if state.insert_order is not None:
        return
    session = object_session(row)
    if session is None or not session.is_modified(row, include_collections=False):
        return
    if not state.attrs.version.history.has_changes():
        row.version += 1


class AlertEventRow(SQLModel, table=True):
    """The append-only timeline of an alert."""

    __tablename__ = "alert_event"
    __table_args__ = (Index("ix_alert_event_at", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    at: datetime = _ts()
    kind: str = Field(max_length=32)
    rule: str = Field(max_length=32)
    actor: str | None = Field(default=None, max_length=64)
    summary: str = Field(sa_column=Column(Text, nullable=False))


class OutboxRow(SQLModel, table=True):
    """Something to deliver outside the database, written with the state that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "next_attempt_at"),
        Index("ix_outbox_kind_created_at", "kind", "created_at"),  # pages in a period
        # "an earlier pending row of its alert" (every claim asks it of every row it looks
        # at): the pending rows only, by alert
        Index(
            "ix_outbox_pending_alert",
            "alert_id",
            "id",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=255, unique=True)
    alert_id: int | None = Field(default=None, foreign_key="alert.id", index=True)
    kind: str = Field(max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)
    created_at: datetime = _ts()
    next_attempt_at: datetime = _ts()
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    done_at: datetime | None = _ts(nullable=True)
    in_doubt: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    """The last attempt may have taken effect (crash, timeout, 5xx): look before repeating."""


class SlackMessageRow(SQLModel, table=True):
    """Where an alert's warning lives in Slack, so it can be updated in place."""

    __tablename__ = "slack_message"
    alert_id: int = Field(foreign_key="alert.id", primary_key=True)
    channel_id: str = Field(max_length=64)
    ts: str = Field(max_length=64)
    posted_at: datetime = _ts()
    thread_count: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    """The alert's fire count as its thread last reported it (repeats are summed up)."""
    permalink: str | None = Field(default=None, max_length=500)
    """The warning's link, asked of Slack (``chat.getPermalink``) the first time a page needs
    it, and kept."""


class ApprovalMessageRow(SQLModel, table=True):
    """An approval request shown to an approver, so it can be updated once decided."""

    __tablename__ = "approval_message"
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    seq: int
    approver: str = Field(max_length=64)
    channel_id: str = Field(max_length=64)
    ts: str = Field(max_length=64)


class ProcessedRequestRow(SQLModel, table=True):
    """Slack requests already acted on (retries and replays act once)."""

    __tablename__ = "processed_request"
    key: str = Field(primary_key=True, max_length=255)
    received_at: datetime = _ts()


class ResolutionRow(SQLModel, table=True):
    """The kept record of how an alert was resolved."""

    __tablename__ = "resolution"
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", unique=True)
    fingerprint: str = Field(max_length=FINGERPRINT_CHARS, index=True)
    level: int
    team: str = Field(max_length=255)
    resolved_at: datetime = _ts()
    resolved_by: str | None = Field(default=None, max_length=64)
    by_source: bool = False
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    root_cause: str | None = Field(default=None, max_length=255)
    acknowledged_by: str | None = Field(default=None, max_length=64)
    owner: str | None = Field(default=None, max_length=64)
    time_to_acknowledge_s: float | None = None
    time_to_resolve_s: float | None = None


class FollowUpRow(SQLModel, table=True):
    """Work still owed after an alert was resolved: an owner, a due time, reminders."""

    __tablename__ = "follow_up"
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    owner: str = Field(max_length=64, index=True)
    due_at: datetime = _ts()
    created_by: str = Field(max_length=64)
    created_at: datetime = _ts()
    done_at: datetime | None = _ts(nullable=True)
    done_by: str | None = Field(default=None, max_length=64)
    next_remind_at: datetime | None = _ts(nullable=True, index=True)
    """When the owner is reminded next; ``None`` once done."""
    reminders: int = 0


class StormRow(SQLModel, table=True):
    """A flood of alerts in one channel, rolled up into one summary message."""

    __tablename__ = "storm"
    __table_args__ = (
        Index(
            "ux_storm_open_channel",
            "channel",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=255)
    status: str = Field(default="open", max_length=16, index=True)
    started_at: datetime = _ts()
    ended_at: datetime | None = _ts(nullable=True)
    version: int = 1
    drawn_version: int = 0
    drawn_at: datetime | None = _ts(nullable=True)
    summary_channel_id: str | None = Field(default=None, max_length=64)
    summary_ts: str | None = Field(default=None, max_length=64)
    posting_at: datetime | None = _ts(nullable=True)
    """When posting the summary was first attempted: set, with no ``summary_ts``, an attempt
    may have posted it (the process died, the answer was lost), so look before posting."""
    finished: bool = False


class StormMemberRow(SQLModel, table=True):
    """An alert rolled into a storm: listed in the summary's thread instead of posted."""

    __tablename__ = "storm_member"
    __table_args__ = (Index("ix_storm_member_listing", "storm_id", "listed_ts"),)
    alert_id: int = Field(foreign_key="alert.id", primary_key=True)
    storm_id: int = Field(foreign_key="storm.id")
    level: int
    name: str = Field(max_length=255)
    joined_at: datetime = _ts()
    listed_ts: str | None = Field(default=None, max_length=64)


class StormPageRow(SQLModel, table=True):
    """One page per person (or channel) per storm, standing for its alerts' pages."""

    __tablename__ = "storm_page"
    __table_args__ = (Index("ux_storm_page_target", "storm_id", "target", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    storm_id: int = Field(foreign_key="storm.id")
    target: str = Field(max_length=255)
    """A Slack user id (a DM) or ``#channel`` / channel id (a post in that channel)."""
    pages: int = 0
    top_level: int = 3
    tier: int = 0
    rule: str = Field(default="", max_length=32)
    version: int = 1
    drawn_version: int = 0
    drawn_at: datetime | None = _ts(nullable=True)
    channel_id: str | None = Field(default=None, max_length=64)
    ts: str | None = Field(default=None, max_length=64)
    posting_at: datetime | None = _ts(nullable=True)
    """When posting this page's message was first attempted (as ``StormRow.posting_at``)."""
    fresh: list[list[int]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    """The alerts whose pages came since this page's last new message, ``[alert id, level]``
    (newest last; see ``storage.noise.storms.fresh_names``): the next message names them."""
    drawing_until: datetime | None = _ts(nullable=True)
    """A replica is drawing this page's message until then (``storm_display.claim_page``):
    two replicas drawing one page would post it twice or edit the message a ring replaced."""


class SilenceRow(SQLModel, table=True):
    """A silence or maintenance window: alerts its matchers select are kept, not shown."""

    __tablename__ = "silence"
    id: int | None = Field(default=None, primary_key=True)
    matchers: list[dict[str, str]] = Field(sa_column=Column(JSON, nullable=False))
    team: str | None = Field(default=None, max_length=255)
    starts_at: datetime = _ts(index=True)
    ends_at: datetime = _ts(index=True)
    created_by: str = Field(max_length=64)
    created_at: datetime = _ts()
    comment: str = Field(sa_column=Column(Text, nullable=False))
    ended_at: datetime | None = _ts(nullable=True)
    ended_by: str | None = Field(default=None, max_length=64)
    started: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    """Open alerts it covers have been silenced (done when it starts)."""


class AlertGroupRow(SQLModel, table=True):
    """Alerts sharing one warning: the anchor's message; the lead carries the escalation."""

    __tablename__ = "alert_group"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(Text, nullable=False, index=True))
    anchor_id: int = Field(foreign_key="alert.id")
    lead_id: int = Field(foreign_key="alert.id")
    opened_at: datetime = _ts()
    closes_at: datetime = _ts()
    resolved_at: datetime | None = _ts(nullable=True)
    list_channel_id: str | None = Field(default=None, max_length=64)
    list_ts: str | None = Field(default=None, max_length=64)
    list_more: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    """The member list's later thread messages, in order: ``{"ts", "digest"}`` (the digest of
    the text last drawn, so an unchanged message is not redrawn)."""


class AlertMirrorRow(SQLModel, table=True):
    """A copy of an alert's warning in another channel (a route with ``continue``), kept up
    to date with it. ``ts`` is empty until the copy is posted."""

    __tablename__ = "alert_mirror"
    alert_id: int = Field(foreign_key="alert.id", primary_key=True)
    channel: str = Field(max_length=255, primary_key=True)
    route_index: int | None = None
    channel_id: str | None = Field(default=None, max_length=64)
    ts: str | None = Field(default=None, max_length=64)
    posted_at: datetime | None = _ts(nullable=True)


class NoiseDropRow(SQLModel, table=True):
    """Metric alerts dropped as noise (inside a grading rule's noise band), counted per
    fingerprint of each integration: nothing reaches people, but nothing is lost either."""

    __tablename__ = "noise_drop"
    fingerprint: str = Field(max_length=FINGERPRINT_CHARS, primary_key=True)
    integration: str = Field(max_length=64, primary_key=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    metric: str = Field(max_length=255)
    category: str | None = Field(default=None, max_length=255)
    count: int = 1
    first_at: datetime = _ts()
    last_at: datetime = _ts(index=True)
    last_value: float
    last_baseline: float | None = None
    last_deviation: float
    reason: str = Field(default="", max_length=255)


class ReviewDigestRow(SQLModel, table=True):
    """One weekly digest of one team: the key makes it posted once, whatever the replicas."""

    __tablename__ = "review_digest"
    key: str = Field(primary_key=True, max_length=255)
    team: str = Field(max_length=255)
    slot: datetime = _ts()
    claimed_at: datetime = _ts()
    claimed_by: str = Field(max_length=64)
    sent_at: datetime | None = _ts(nullable=True)
    attempts: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class CalendarKeyRow(SQLModel, table=True):
    """The key calendar feed tokens are derived from (one row, made on first use): every
    replica and the CLI derive the same tokens; it never leaves the database."""

    __tablename__ = "calendar_key"
    id: int = Field(primary_key=True)
    key: str = Field(max_length=64)
    """256 random bits, hex."""
    created_at: datetime = _ts()


class CalendarFeedRow(SQLModel, table=True):
    """A calendar feed whose token was rotated: its token is derived from ``generation``, so
    bumping it turns the old URL off. A feed without a row is at generation 0."""

    __tablename__ = "calendar_feed"
    feed: str = Field(primary_key=True, max_length=255)
    """``rotation:<name>`` or ``person:<slack id>``."""
    generation: int
    rotated_at: datetime = _ts()


class LanePaceRow(SQLModel, table=True):
    """Slack's pace per conversation, shared by every replica on one PostgreSQL database: a
    token bucket (``tokens`` as of ``at``) and the hold Slack asked for with ``Retry-After``.
    Three replicas each pacing on their own would write up to three times Slack's rate into
    one conversation and be answered 429 (see ``storage.lane_pace``)."""

    __tablename__ = "lane_pace"
    lane: str = Field(primary_key=True, max_length=300)
    """The conversation: ``#channel``, ``dm:<user>`` (``bot.delivery.lanes``)."""
    tokens: float
    at: datetime = _ts()
    held_until: datetime | None = _ts(nullable=True)


class PageLinkRow(SQLModel, table=True):
    """An alert named by a page message (a DM, or a post in a paged channel) sent before the
    alert's warning was in its channel: when the warning is posted, the message is redrawn
    with a link to it (``bot.delivery.page_links``). Rows go once the message links every
    alert it names, or after a day."""

    __tablename__ = "page_link"
    __table_args__ = (Index("ix_page_link_message", "channel_id", "ts"),)
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(index=True)
    lane: str = Field(max_length=300)
    """The conversation as the sender paces it (``dm:<user>``, a channel): the edit's lane."""
    channel_id: str = Field(max_length=64)
    ts: str = Field(max_length=64)
    position: int
    """The alert's place in the message (the most urgent first)."""
    tier: int
    rule: str = Field(max_length=64)
    rotation: str | None = Field(default=None, max_length=255)
    linked: bool = False
    created_at: datetime = _ts()


class OnCallOverrideRow(SQLModel, table=True):
    """An override made from Slack (``/tocsin cover``, an accepted swap): ``user`` is on call
    for ``rotation`` over ``[start, end)``. Rows are never deleted: a cancelled one keeps who
    cancelled it and when, so the table is the record of every change."""

    __tablename__ = "oncall_override"
    id: int | None = Field(default=None, primary_key=True)
    rotation: str = Field(max_length=255, index=True)
    user: str = Field(max_length=64)
    start: datetime = _ts()
    end: datetime = _ts(index=True)
    kind: str = Field(max_length=16)
    """``cover`` or ``swap``."""
    replaces: str | None = Field(default=None, max_length=64)
    """A swap: whose shift it was."""
    made_by: str = Field(max_length=64)
    made_at: datetime = _ts()
    cancelled_by: str | None = Field(default=None, max_length=64)
    cancelled_at: datetime | None = _ts(nullable=True)


class HeartbeatRow(SQLModel, table=True):
    """A heartbeat's pings and whether its missing-heartbeat alert was opened. The row is made
    when Tocsin first runs with the heartbeat in its policy file (``first_seen_at``: its clock
    before the first ping)."""

    __tablename__ = "heartbeat"
    name: str = Field(primary_key=True, max_length=64)
    first_seen_at: datetime = _ts()
    last_ping_at: datetime | None = _ts(nullable=True)
    due_at: datetime = _ts(index=True)
    """When it is missing if no ping comes first: last ping (else first seen) + interval + grace."""
    pings: int = 0
    missing_since: datetime | None = _ts(nullable=True)
    """Set by the one check that claimed the missing spell (and opened its alert); cleared by
    the next ping."""
    alert_id: int | None = None
    """The alert that claim opened."""


class RotationCalendarRow(SQLModel, table=True):
    """The last good copy of a calendar-fed rotation's calendar, so that a restart while the
    feed is down still pages whoever the calendar names."""

    __tablename__ = "rotation_calendar"
    rotation: str = Field(primary_key=True, max_length=255)
    source: str = Field(sa_column=Column(Text, nullable=False))
    """The feed's URL or file, as the policy names it: a copy of another source is not used."""
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    fetched_at: datetime = _ts()
