"""Read-only aggregation queries behind the daily digests, portable across SQLite and PostgreSQL.

Everything is counted in SQL (GROUP BY over queue, kind and time buckets); only the
texts needed for themes are loaded, newest first and capped, never every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import Engine, and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from storage.models import FeedbackItem, LabelChange
from storage.vocabulary import OPEN_STATUSES

# The kinds a digest shows one by one; anything else (or not yet classified) is "other".
KINDS = ("complaint", "suggestion", "praise", "question", "other")
OTHER_KIND = "other"
# A queue move recorded without a previous queue (the item was never routed).
UNROUTED = "unrouted"
STAFF_MOVE = "staff_relabel"
# Theme extraction reads at most this many characters of a message: the gist of a
# complaint is in its first lines, and it bounds memory when someone pastes an essay.
TEXT_PREFIX_CHARS = 500


@dataclass(frozen=True, slots=True)
class PeriodCounts:
    """What happened in one department's queue during [start, end)."""

    new: int
    resolved: int
    new_with_text: int
    by_kind: dict[str, int]
    moved_in: dict[str, int] = field(default_factory=dict)
    moved_out: dict[str, int] = field(default_factory=dict)

    @property
    def moved_in_total(self) -> int:
        """Items staff moved into the queue from elsewhere."""
        return sum(self.moved_in.values())

    @property
    def moved_out_total(self) -> int:
        """Items staff moved out of the queue."""
        return sum(self.moved_out.values())


@dataclass(frozen=True, slots=True)
class Backlog:
    """Items of the queue that were open at a point in time."""

    open: int
    overdue: int


@dataclass(frozen=True, slots=True)
class ItemText:
    """An item's id, classification, age and (a prefix of) its text."""

    id: int
    kind: str
    status: str
    created_at: datetime
    text: str


class DigestQueries:
    """Aggregations for one engine; every method is one short read transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def period_counts(self, queue: str, start: datetime, end: datetime) -> PeriodCounts:
        """Count new (by kind), resolved and staff-moved items of `queue` in [start, end)."""
        _check_period(start, end)
        kind = _kind_column()
        new_query = (
            select(kind, func.count(), func.count(FeedbackItem.text))
            .where(
                FeedbackItem.final_queue == queue,
                FeedbackItem.created_at >= start,
                FeedbackItem.created_at < end,
            )
            .group_by(kind)
        )
        resolved_query = select(func.count()).where(
            FeedbackItem.final_queue == queue,
            FeedbackItem.resolved_at >= start,
            FeedbackItem.resolved_at < end,
        )
        from_queue = func.coalesce(LabelChange.from_queue, UNROUTED)
        moved_in_query = (
            select(from_queue, func.count())
            .where(
                *_staff_moves(start, end),
                LabelChange.to_queue == queue,
                or_(LabelChange.from_queue.is_(None), LabelChange.from_queue != queue),
            )
            .group_by(from_queue)
        )
        moved_out_query = (
            select(LabelChange.to_queue, func.count())
            .where(
                *_staff_moves(start, end),
                LabelChange.from_queue == queue,
                LabelChange.to_queue != queue,
            )
            .group_by(LabelChange.to_queue)
        )
        by_kind = dict.fromkeys(KINDS, 0)
        new = with_text = 0
        with self._engine.connect() as connection:
            for kind_name, count, texts in connection.execute(new_query):
                by_kind[str(kind_name)] += count
                new += count
                with_text += texts
            resolved = connection.execute(resolved_query).scalar_one()
            moved_in = {str(q): n for q, n in connection.execute(moved_in_query)}
            moved_out = {str(q): n for q, n in connection.execute(moved_out_query)}
        return PeriodCounts(
            new=new,
            resolved=resolved,
            new_with_text=with_text,
            by_kind=by_kind,
            moved_in=moved_in,
            moved_out=moved_out,
        )

    def backlog(self, queue: str, at: datetime, overdue_after: timedelta) -> Backlog:
        """Count items of `queue` open at `at`, and those of them older than `overdue_after`.

        An item counts as open at `at` if it arrived before and was not resolved by then,
        so a digest rebuilt later for a past period gives (nearly) the same numbers.
        """
        _require_aware(at, "at")
        still_open = and_(
            FeedbackItem.final_queue == queue,
            FeedbackItem.created_at < at,
            or_(
                and_(FeedbackItem.resolved_at.is_(None), FeedbackItem.status.in_(OPEN_STATUSES)),
                FeedbackItem.resolved_at >= at,
            ),
        )
        overdue = case((FeedbackItem.created_at <= at - overdue_after, 1), else_=0)
        query = select(func.count(), func.coalesce(func.sum(overdue), 0)).where(still_open)
        with self._engine.connect() as connection:
            total, late = connection.execute(query).one()
        return Backlog(open=int(total), overdue=int(late))

    def daily_counts(self, queue: str, boundaries: Sequence[datetime]) -> list[dict[str, int]]:
        """Count new items of `queue` by kind in each window [boundaries[i], boundaries[i+1])."""
        if len(boundaries) < 2:
            raise ValueError("need at least two boundaries for one window")
        for earlier, later in pairwise(boundaries):
            _check_period(earlier, later)
        # The windows are computed in Python (local days, daylight saving included) and
        # bucketed with a CASE, which both SQLite and PostgreSQL run without date functions.
        bucket = case(
            *(
                (FeedbackItem.created_at < upper, literal(index))
                for index, upper in enumerate(boundaries[1:])
            ),
        ).label("bucket")
        rows = (
            select(bucket, _kind_column().label("kind"))
            .where(
                FeedbackItem.final_queue == queue,
                FeedbackItem.created_at >= boundaries[0],
                FeedbackItem.created_at < boundaries[-1],
            )
            .subquery()
        )
        # Grouping the subquery's columns, not the CASE itself: PostgreSQL does not see
        # two renderings of an expression with bound parameters as the same expression.
        query = select(rows.c.bucket, rows.c.kind, func.count()).group_by(
            rows.c.bucket, rows.c.kind
        )
        days = [dict.fromkeys(KINDS, 0) for _ in boundaries[1:]]
        with self._engine.connect() as connection:
            for index, kind_name, count in connection.execute(query):
                days[int(index)][str(kind_name)] += count
        return days

    def recent_texts(self, queue: str, start: datetime, end: datetime, limit: int) -> list[ItemText]:
        """Return up to `limit` texts of items received in [start, end), newest first."""
        _check_period(start, end)
        return self._item_texts(
            (
                FeedbackItem.final_queue == queue,
                FeedbackItem.created_at >= start,
                FeedbackItem.created_at < end,
                FeedbackItem.text.is_not(None),
            ),
            (FeedbackItem.created_at.desc(), FeedbackItem.id.desc()),
            limit,
        )

    def oldest_open(self, queue: str, at: datetime, limit: int) -> list[ItemText]:
        """Return the items of `queue` open longest at `at`, oldest first."""
        _require_aware(at, "at")
        return self._item_texts(
            (
                FeedbackItem.final_queue == queue,
                FeedbackItem.status.in_(OPEN_STATUSES),
                FeedbackItem.created_at < at,
            ),
            (FeedbackItem.created_at, FeedbackItem.id),
            limit,
        )

    def _item_texts(
        self,
        conditions: tuple[ColumnElement[bool], ...],
        order: tuple[Any, ...],
        limit: int,
    ) -> list[ItemText]:
        query = (
            select(
                FeedbackItem.id,
                _kind_column().label("kind"),
                FeedbackItem.status,
                FeedbackItem.created_at,
                func.substr(FeedbackItem.text, 1, TEXT_PREFIX_CHARS).label("text"),
            )
            .where(*conditions)
            .order_by(*order)
            .limit(limit)
        )
        with self._engine.connect() as connection:
            return [
                ItemText(id=id_, kind=str(kind), status=status, created_at=created, text=text or "")
                for id_, kind, status, created, text in connection.execute(query)
            ]


def _kind_column() -> ColumnElement[str]:
    known = [k for k in KINDS if k != OTHER_KIND]
    return case((FeedbackItem.kind.in_(known), FeedbackItem.kind), else_=literal(OTHER_KIND))


def _staff_moves(start: datetime, end: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        LabelChange.source == STAFF_MOVE,
        LabelChange.created_at >= start,
        LabelChange.created_at < end,
    )


def _require_aware(value: datetime, name: str) -> None:
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


def _check_period(start: datetime, end: datetime) -> None:
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        raise ValueError(f"period end {end} must be after its start {start}")
