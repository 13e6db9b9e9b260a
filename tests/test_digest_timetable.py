"""Digest times in each department's zone, and what is due after downtime."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.digest.timetable import DueDigest, Timetable, due_digests

SHANGHAI = Timetable(time(9, 0), ZoneInfo("Asia/Shanghai"), frozenset(range(7)))
WEEKDAYS_ONLY = Timetable(time(9, 0), ZoneInfo("Asia/Shanghai"), frozenset(range(5)))
# Tuesday 14 May 2024, 09:00 in Shanghai.
TUESDAY = datetime(2024, 5, 14, 1, 0, tzinfo=UTC)
CATCH_UP = timedelta(hours=12)


def test_slots_are_local_times_converted_to_utc() -> None:
    slots = SHANGHAI.slots_between(TUESDAY - timedelta(days=2), TUESDAY)

    assert slots == [TUESDAY - timedelta(days=1), TUESDAY]


@pytest.mark.parametrize(
    ("local_day", "utc_hour"),
    [("2024-03-30", 8), ("2024-03-31", 7), ("2024-10-27", 8)],
)
def test_slots_follow_daylight_saving(local_day: str, utc_hour: int) -> None:
    berlin = Timetable(time(9, 0), ZoneInfo("Europe/Berlin"), frozenset(range(7)))

    slot = berlin.slot_on(datetime.fromisoformat(local_day).date())

    assert slot is not None and (slot.hour, slot.minute) == (utc_hour, 0)


def test_weekends_have_no_slot() -> None:
    saturday = TUESDAY - timedelta(days=3)

    assert WEEKDAYS_ONLY.slot_on(saturday.date()) is None
    assert WEEKDAYS_ONLY.latest_until(TUESDAY - timedelta(days=1, hours=1)) == TUESDAY - timedelta(days=4)


def test_on_time_digest_covers_the_time_since_the_last_one() -> None:
    last = TUESDAY - timedelta(days=1)

    due = due_digests(SHANGHAI, last, TUESDAY + timedelta(seconds=1), CATCH_UP)

    assert due == [DueDigest(last, TUESDAY, send=True, late=False)]


def test_monday_digest_covers_the_weekend() -> None:
    friday = TUESDAY - timedelta(days=4)
    monday = TUESDAY - timedelta(days=1)

    due = due_digests(WEEKDAYS_ONLY, friday, monday, CATCH_UP)

    assert due == [DueDigest(friday, monday, send=True, late=False)]


def test_nothing_is_due_once_the_digest_is_recorded() -> None:
    assert due_digests(SHANGHAI, TUESDAY, TUESDAY + timedelta(hours=3), CATCH_UP) == []


def test_after_downtime_the_newest_is_sent_late_and_older_ones_skipped() -> None:
    last = TUESDAY - timedelta(days=3)

    due = due_digests(SHANGHAI, last, TUESDAY + timedelta(hours=2), CATCH_UP)

    missed = "missed: the bot was not running"
    assert due == [
        DueDigest(last, TUESDAY - timedelta(days=2), send=False, reason=missed),
        DueDigest(TUESDAY - timedelta(days=2), TUESDAY - timedelta(days=1), send=False, reason=missed),
        DueDigest(TUESDAY - timedelta(days=1), TUESDAY, send=True, late=True),
    ]


def test_a_digest_older_than_the_catch_up_window_is_skipped() -> None:
    last = TUESDAY - timedelta(days=1)

    [due] = due_digests(SHANGHAI, last, TUESDAY + timedelta(hours=13), CATCH_UP)

    assert (due.send, due.reason) == (False, "missed by more than the 12 h catch-up window")


def test_a_new_department_gets_a_24_hour_first_period_only_within_catch_up() -> None:
    assert due_digests(SHANGHAI, None, TUESDAY + timedelta(hours=13), CATCH_UP) == []
    assert due_digests(SHANGHAI, None, TUESDAY + timedelta(hours=1), CATCH_UP) == [
        DueDigest(TUESDAY - timedelta(hours=24), TUESDAY, send=True, late=True)
    ]
