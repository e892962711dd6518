"""Policy-file models for escalation: policies with tiers, on-call rotations, webhooks."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from config.durations import parse_duration
from config.person_names import person

Duration = Annotated[int, BeforeValidator(parse_duration)]
_HANDOFF = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)\Z")
TARGET_KINDS = ("user", "oncall", "group", "channel", "webhook")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _slack_user(value: str) -> str:
    return person(value)


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'"{value}" is not a known time zone (like Europe/Berlin)') from None
    return value


class TargetConfig(_Strict):
    """Exactly one of: ``user``, ``oncall`` (a rotation), ``group`` (a Slack user group id),
    ``channel`` or ``webhook`` (a name under ``webhooks``)."""

    user: str | None = None
    """A person: Slack user id or email address."""
    oncall: str | None = None
    """A rotation: whoever is on call when the page is sent."""
    group: str | None = None
    """A Slack user group id (mentioned in the alert's thread)."""
    channel: str | None = None
    """A channel: the page is posted there."""
    webhook: str | None = None
    """A name under webhooks."""

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [k for k in TARGET_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(TARGET_KINDS)}")
        if self.user is not None:
            _slack_user(self.user)
        return self

    @property
    def kind(self) -> str:
        return next(k for k in TARGET_KINDS if getattr(self, k) is not None)

    @property
    def ref(self) -> str:
        return str(getattr(self, self.kind))


class TierConfig(_Strict):
    notify: list[TargetConfig] = Field(min_length=1)
    """Who is paged."""
    after: Duration = 0
    """Delay: from firing (tier 1) or from the previous page."""
    requires_approval: bool = False
    """Ask the policy's approvers before paging this tier."""


class EscalationPolicyConfig(_Strict):
    description: str = ""
    """Free text."""
    tiers: list[TierConfig] = Field(default_factory=list)
    """Tiers in order."""
    repeat: Annotated[int, Field(ge=0, le=5)] = 0
    """Run the whole chain again this many times (0 to 5)."""
    repeat_after: Duration = 600
    """Pause after the last tier before starting again."""
    approvers: list[str] = Field(default_factory=list)
    """People (Slack user ids or email addresses) who approve escalations."""
    approval_timeout: Duration = 900
    """How long approvers have to answer."""
    on_timeout: Literal["approve", "deny", "next_approver"] = "deny"
    """approve, deny or next_approver (ask them one at a time)."""
    remind_every: Duration | None = 3600
    """Reminder interval for the owner of an acknowledged alert."""
    stand_down_needs_approval: bool = False
    """Level 1 only: only approvers (and admins) may resolve by hand."""

    @field_validator("approvers")
    @classmethod
    def _approver_ids(cls, approvers: list[str]) -> list[str]:
        return [_slack_user(a) for a in approvers]

    @model_validator(mode="after")
    def _approval_needs_approvers(self) -> Self:
        if any(t.requires_approval for t in self.tiers) and not self.approvers:
            raise ValueError("a tier requires_approval but the policy has no approvers")
        return self


class OverrideConfig(_Strict):
    user: str
    """Who covers (Slack user id or email address)."""
    start: datetime
    """From (with a UTC offset)."""
    end: datetime
    """Until (with a UTC offset)."""
    covers: str | None = None
    """Only replace this member's shifts (default: whoever is on call)."""

    @field_validator("user", "covers")
    @classmethod
    def _ids(cls, value: str | None) -> str | None:
        return None if value is None else _slack_user(value)

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end need a time zone offset (like 2026-11-20T09:00+01:00)")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class IcalConfig(_Strict):
    """Where a rotation's shifts come from: exactly one of ``url`` and ``file``."""

    url: str | None = Field(default=None, pattern=r"^https?://")
    """An iCalendar feed (http or https), fetched every refresh."""
    file: str | None = None
    """An iCalendar file, relative to the policy file's folder; read every refresh."""
    refresh: Duration = 900
    """How often the feed is fetched again (at least 1m)."""

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.url is None) == (self.file is None):
            raise ValueError("give exactly one of url and file")
        if self.refresh < 60:
            raise ValueError("refresh must be at least 1m")
        return self

    @property
    def source(self) -> str:
        return self.url or f"file {self.file}"


class RotationConfig(_Strict):
    members: list[str] = Field(default_factory=list)
    """People (Slack user ids or email addresses) in order; members[0] starts on start (not
    with ical)."""
    ical: IcalConfig | None = None
    """Shifts from an iCalendar feed or file instead of members (see docs/calendar.md)."""
    fallback: str | None = None
    """ical only, required: on call when the calendar has no shift, or no copy of it."""
    people: dict[str, str] = Field(default_factory=dict)
    """ical only: email address or name (as in events) → Slack user id."""
    timezone: str = "UTC"
    """IANA time zone of the hand-off time."""
    handoff: str = "09:00"
    """Local time of day the shift changes (HH:MM)."""
    shift: Literal["daily", "weekly"] | Duration = "weekly"
    """daily, weekly, or a duration of at least 1h."""
    start: date | None = None
    """Date the first member's first shift starts (required with members)."""
    handoff_weekday: Annotated[int, Field(ge=0, le=6)] | None = None
    """Weekly only: 0 = Monday … 6 = Sunday (default: start's weekday)."""
    overrides: list[OverrideConfig] = Field(default_factory=list)
    """Someone covering for a period."""
    channel: str | None = None
    """Where hand-off notices go."""

    @field_validator("members")
    @classmethod
    def _member_ids(cls, members: list[str]) -> list[str]:
        return [_slack_user(m) for m in members]

    @field_validator("fallback")
    @classmethod
    def _fallback_id(cls, value: str | None) -> str | None:
        return None if value is None else _slack_user(value)

    @field_validator("people")
    @classmethod
    def _people_ids(cls, people: dict[str, str]) -> dict[str, str]:
        return {key.strip().lower(): _slack_user(user) for key, user in people.items()}

    @model_validator(mode="after")
    def _source(self) -> Self:
        if self.ical is None:
            if not self.members:
                raise ValueError("give members (Slack user ids) or ical (a calendar)")
            if self.start is None:
                raise ValueError("start is required with members (the first shift's date)")
            if self.fallback is not None or self.people:
                raise ValueError("fallback and people only apply to a rotation with ical")
        else:
            if self.members:
                raise ValueError("give members or ical, not both")
            if self.fallback is None:
                raise ValueError(
                    "a rotation with ical needs fallback: the Slack user id paged when the "
                    "calendar has no shift or cannot be read"
                )
        return self

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _timezone(value)

    @field_validator("handoff")
    @classmethod
    def _handoff(cls, value: str) -> str:
        if not _HANDOFF.match(value):
            raise ValueError(f'"{value}" is not a time of day like 09:00')
        return value

    @field_validator("shift", mode="before")
    @classmethod
    def _shift(cls, value: object) -> object:
        if value in ("daily", "weekly"):
            return value
        try:
            seconds = parse_duration(value)
        except ValueError:
            shown = f'"{value}"' if isinstance(value, str) else repr(value)
            raise ValueError(
                f"{shown} is not a shift: write daily, weekly, or a duration of at least 1h "
                "(like 12h, or 2w for every other week)"
            ) from None
        if seconds < 3600:
            raise ValueError("a custom shift must be at least 1h")
        return seconds

    @property
    def paged_people(self) -> list[str]:
        """Everyone the file itself names for this rotation (members, fallback, people)."""
        named = [*self.members, *([self.fallback] if self.fallback else [])]
        return [*named, *self.people.values()]

    def handoff_time(self) -> time:
        hours, minutes = self.handoff.split(":")
        return time(int(hours), int(minutes))


class WebhookConfig(_Strict):
    url: str = Field(pattern=r"^https?://")
    """http(s) URL to POST pages to."""
    token: str | None = None
    """Sent as Authorization: Bearer."""
    hmac_secret: str | None = None
    """Signs each request (X-Tocsin-Signature)."""
    timeout: Duration = 10
    """Per-request timeout."""
