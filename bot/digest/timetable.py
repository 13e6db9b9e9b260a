"""When digests are due: a department's local digest times as UTC instants, and what to catch up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import DepartmentConfig

# A digest for a period with no earlier digest covers the day before it.
FIRST_PERIOD = timedelta(hours=24)
# A digest sent this long after its time is still "on time": the job queue fires a few
# hundred milliseconds late, and a restart during the minute of the digest is routine.
ON_TIME_GRACE = timedelta(minutes=5)
# Gaps longer than this (a bot switched off for a year) are not filled with skipped
# records one day at a time; the log says so instead.
MAX_LOOKBACK = timedelta(days=366)


Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time, aware, in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Timetable:
    """A department's digest time of day, time zone and weekdays (0 = Monday)."""

    at: time
    zone: ZoneInfo
    weekdays: frozenset[int]

    @classmethod
    def of(cls, department: DepartmentConfig) -> Timetable:
        """The timetable configured for a department."""
        hour, _, minute = department.digest_time.partition(":")
        return cls(
            at=time(int(hour), int(minute)),
            zone=ZoneInfo(department.timezone),
            weekdays=frozenset(department.weekdays),
        )

    def slot_on(self, day: date) -> datetime | None:
        """The UTC instant of the digest on local date `day`, or None if it has none."""
        if day.weekday() not in self.weekdays:
            return None
        return datetime.combine(day, self.at, tzinfo=self.zone).astimezone(UTC)

    def slots_between(self, after: datetime, until: datetime) -> list[datetime]:
        """Digest instants in (after, until], oldest first."""
        first = after.astimezone(self.zone).date()
        last = until.astimezone(self.zone).date()
        slots = []
        for offset in range((last - first).days + 1):
            slot = self.slot_on(first + timedelta(days=offset))
            if slot is not None and after < slot <= until:
                slots.append(slot)
        return slots

    def latest_until(self, moment: datetime) -> datetime | None:
        """The last digest instant at or before `moment`, or None if there is no digest day."""
        slots = self.slots_between(moment - timedelta(days=8), moment)
        return slots[-1] if slots else None


@dataclass(frozen=True)
class DueDigest:
    """A digest period that has come due: to be sent (maybe late) or recorded as skipped."""

    period_start: datetime
    period_end: datetime
    send: bool
    late: bool = False
    reason: str | None = None


def due_digests(
    timetable: Timetable,
    last_period_end: datetime | None,
    now: datetime,
    catch_up: timedelta,
) -> list[DueDigest]:
    """The digests due at `now` since the last recorded one, oldest first.

    Only the newest missed digest is worth sending, and only within `catch_up`; older
    ones would tell the lead about yesterday's yesterday, so they are recorded as
    skipped. Without any earlier digest, only the `catch_up` window is looked at: a
    newly configured department has missed nothing.
    """
    lower = last_period_end if last_period_end is not None else now - catch_up
    lower = max(lower, now - MAX_LOOKBACK)
    slots = timetable.slots_between(lower, now)
    if not slots:
        return []
    start = last_period_end if last_period_end is not None else slots[0] - FIRST_PERIOD
    due = []
    for slot in slots[:-1]:
        due.append(DueDigest(start, slot, send=False, reason="missed: the bot was not running"))
        start = slot
    newest = slots[-1]
    delay = now - newest
    if delay > catch_up:
        hours = catch_up.total_seconds() / 3600
        reason = f"missed by more than the {hours:g} h catch-up window"
        due.append(DueDigest(start, newest, send=False, reason=reason))
    else:
        due.append(DueDigest(start, newest, send=True, late=delay > ON_TIME_GRACE))
    return due
