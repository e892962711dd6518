"""A time zone's UTC offsets over a period, as data: what lets the review classify instants by
arithmetic (local seconds = UTC seconds + offset) instead of one ``astimezone`` per row — in
the database for pages (night/weekend per team), in a tight loop for the days of the series.

A zone's offset changes only at its transitions (daylight saving), a few a year; they are
found by sampling the offset once a day over the period and bisecting each change to the
second, then sampling on from the change: O(days + transitions), a few hundred offsets for
the longest report (``escalation.review.period.LONGEST_DAYS``).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

SAMPLE_S = 86400
"""Offsets are sampled daily: since 1970 no zone of the tz database changes its offset twice
within a week (the closest are 6.9 days apart; a test checks the installed tzdata), so a
change and its undoing never fall between two samples."""
MARGIN_S = 86400
"""Spans cover a day either side of the period (a page's minute may start before it)."""
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
DAY_S = 86400
NEAR_S = 1e-3
"""An instant this close to a day's start or a transition is placed the slow, exact way."""


@dataclass(frozen=True, slots=True)
class ZoneSpans:
    """``offsets[i]`` (seconds east of UTC) holds from ``starts[i]`` (whole UTC seconds since
    1970) until the next start; ``starts[0]`` is the start of the covered range."""

    zone: tzinfo
    starts: tuple[int, ...]
    offsets: tuple[int, ...]
    end: int
    """The end of the covered range (excluded)."""

    def offset_at(self, epoch: float) -> int:
        return self.offsets[max(bisect_right(self.starts, epoch) - 1, 0)]

    def transitions(self) -> list[tuple[int, int]]:
        """``(at, offset)`` for each change after the first span."""
        return list(zip(self.starts[1:], self.offsets[1:], strict=True))


def _offset(zone: tzinfo, epoch: int) -> int:
    delta = datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset() or timedelta()
    seconds, rest = divmod(delta, timedelta(seconds=1))
    if rest:
        raise ValueError(f"time zone {zone}: offset {delta} is not whole seconds")
    return int(seconds)


def zone_spans(zone: tzinfo, since: datetime, until: datetime) -> ZoneSpans:
    """The offsets of ``zone`` from a day before ``since`` to a day after ``until``."""
    first = int(since.timestamp()) - MARGIN_S
    last = int(until.timestamp()) + MARGIN_S
    starts, offsets = [first], [_offset(zone, first)]
    at = first
    while at < last:
        step = min(at + SAMPLE_S, last)
        if _offset(zone, step) != offsets[-1]:
            low, high = at, step  # offset(low) is the old one, offset(high) the new one
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, middle) == offsets[-1]:
                    low = middle
                else:
                    high = middle
            starts.append(high)
            offsets.append(_offset(zone, high))
            step = high  # sample on from the change: the next one is a sample away
        at = step
    return ZoneSpans(zone=zone, starts=tuple(starts), offsets=tuple(offsets), end=last)


class LocalDays:
    """The local date of UTC instants (float seconds since 1970, as the database computes
    them) in one zone — the same date as ``datetime.fromtimestamp(s, UTC).astimezone(zone)
    .date()``, which is used for the rare instant within a millisecond of a boundary."""

    __slots__ = ("_bounds", "_offset", "_spans")

    def __init__(self, spans: ZoneSpans) -> None:
        self._spans = spans
        self._bounds = (*spans.starts, spans.end)
        self._offset = spans.offsets[0] if len(spans.offsets) == 1 else None

    def ordinal(self, epoch: float) -> int:
        bounds, offset = self._bounds, self._offset
        if offset is None:
            index = bisect_right(bounds, epoch) - 1
            if (
                index < 0
                or index >= len(bounds) - 1
                or epoch - bounds[index] < NEAR_S
                or bounds[index + 1] - epoch < NEAR_S
            ):
                return self._exact(epoch)
            offset = self._spans.offsets[index]
        elif not bounds[0] <= epoch < bounds[-1]:
            return self._exact(epoch)
        days, rest = divmod(epoch + offset, DAY_S)
        if rest < NEAR_S or rest > DAY_S - NEAR_S:
            return self._exact(epoch)
        return int(days) + EPOCH_ORDINAL

    def _exact(self, epoch: float) -> int:
        return datetime.fromtimestamp(epoch, UTC).astimezone(self._spans.zone).toordinal()
