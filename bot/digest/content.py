"""What a digest says, gathered from the database: counts, trends, themes and attention items."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import DepartmentConfig
from bot.digest.signals import strongest_complaints
from bot.digest.themes import Theme, extract_themes
from storage.digest_queries import Backlog, DigestQueries, ItemText, PeriodCounts

# Themes are read from at most this many messages per period, newest first: enough for
# stable topics, and loading them stays well under a second on a busy day.
TEXT_LIMIT = 2000
CHART_DAYS = 14
AVERAGE_DAYS = 7
THEMES = 5
ATTENTION_ITEMS = 3


@dataclass(frozen=True)
class DigestRequest:
    """Which digest to build: department settings, period and how it is being sent."""

    department: str
    language: str
    timezone: str
    response_hours: float
    period_start: datetime
    period_end: datetime
    late: bool = False
    skipped_before: int = 0

    @classmethod
    def for_department(
        cls,
        department: DepartmentConfig,
        period_start: datetime,
        period_end: datetime,
        *,
        late: bool = False,
        skipped_before: int = 0,
    ) -> DigestRequest:
        """A request with the department's language, time zone and response target."""
        return cls(
            department=department.name,
            language=department.language,
            timezone=department.timezone,
            response_hours=department.response_hours,
            period_start=period_start,
            period_end=period_end,
            late=late,
            skipped_before=skipped_before,
        )

    @property
    def zone(self) -> ZoneInfo:
        """The department's time zone."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class DayVolume:
    """New items per kind in one day-long window ending at the digest's time of day."""

    start: datetime
    end: datetime
    by_kind: dict[str, int]

    @property
    def total(self) -> int:
        """All new items of the window."""
        return sum(self.by_kind.values())


@dataclass(frozen=True)
class DigestContent:
    """Everything one digest reports; rendering turns it into text and a chart."""

    request: DigestRequest
    current: PeriodCounts
    previous: PeriodCounts
    week: PeriodCounts
    backlog: Backlog
    days: list[DayVolume]
    themes: list[Theme]
    oldest_open: list[ItemText]
    strongest: list[ItemText]
    texts_read: int

    @property
    def quiet(self) -> bool:
        """Nothing arrived, was resolved or was moved: a short digest says so."""
        counts = self.current
        return not (counts.new or counts.resolved or counts.moved_in or counts.moved_out)

    @property
    def sampled(self) -> bool:
        """Themes come from the newest TEXT_LIMIT messages, not all of them."""
        return self.texts_read < self.current.new_with_text

    def week_average(self, what: str) -> float:
        """Daily average of "new" or "resolved" over the week before the period end."""
        total = self.week.new if what == "new" else self.week.resolved
        return total / AVERAGE_DAYS


def previous_period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The window of the same length just before [start, end), to compare with."""
    return start - (end - start), start


def day_boundaries(end: datetime, zone: ZoneInfo, days: int = CHART_DAYS) -> list[datetime]:
    """`days` + 1 instants a local day apart ending at `end` (daylight saving respected)."""
    local_end = end.astimezone(zone).replace(tzinfo=None)
    return [
        (local_end - timedelta(days=back)).replace(tzinfo=zone).astimezone(UTC)
        for back in range(days, -1, -1)
    ]


def collect_digest(
    queries: DigestQueries, request: DigestRequest, *, text_limit: int = TEXT_LIMIT
) -> DigestContent:
    """Run the digest's queries and extract its themes."""
    queue, start, end = request.department, request.period_start, request.period_end
    before_start, before_end = previous_period(start, end)
    current = queries.period_counts(queue, start, end)
    previous = queries.period_counts(queue, before_start, before_end)
    week = queries.period_counts(queue, end - timedelta(days=AVERAGE_DAYS), end)
    backlog = queries.backlog(queue, end, timedelta(hours=request.response_hours))
    boundaries = day_boundaries(end, request.zone)
    days = [
        DayVolume(boundaries[i], boundaries[i + 1], counts)
        for i, counts in enumerate(queries.daily_counts(queue, boundaries))
    ]
    texts = queries.recent_texts(queue, start, end, text_limit) if current.new_with_text else []
    previous_texts = (
        queries.recent_texts(queue, before_start, before_end, text_limit)
        if previous.new_with_text
        else []
    )
    themes = extract_themes(
        [item.text for item in texts],
        [item.text for item in previous_texts],
        language=request.language,
        top=THEMES,
        scale=_scale(current, texts),
        previous_scale=_scale(previous, previous_texts),
    )
    return DigestContent(
        request=request,
        current=current,
        previous=previous,
        week=week,
        backlog=backlog,
        days=days,
        themes=themes,
        oldest_open=queries.oldest_open(queue, end, ATTENTION_ITEMS),
        strongest=strongest_complaints(texts, ATTENTION_ITEMS),
        texts_read=len(texts),
    )


def _scale(counts: PeriodCounts, texts: list[ItemText]) -> float:
    # Counts in a sample of the newest messages, scaled to the whole period.
    return counts.new_with_text / len(texts) if texts else 1.0
