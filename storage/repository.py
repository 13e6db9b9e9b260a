"""Every query the bot and the digests make; each method is one short transaction."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import CursorResult, Engine, Select, and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.db import for_writing, session_factory
from storage.errors import NotFound
from storage.models import (
    Customer,
    Department,
    DigestRun,
    FeedbackItem,
    LabelChange,
    ModelVersion,
    StaffMember,
    utcnow,
)
from storage.records import (
    Attachment,
    CustomerRecord,
    DepartmentRecord,
    DigestRunRecord,
    FeedbackRecord,
    LabelChangeRecord,
    LabelScore,
    ModelVersionRecord,
    StaffRecord,
    format_ticket,
    parse_ticket,
)
from storage.vocabulary import (
    CHANGE_SOURCES,
    DEPARTMENTS,
    DIGEST_STATUSES,
    EDITABLE_STATUSES,
    LANGUAGES,
    NO_QUEUE,
    OPEN_STATUSES,
    QUEUES,
    STAFF_ROLES,
    STATUSES,
    check_actor,
    check_choice,
)

T = TypeVar("T")

# A unique-key race is lost at most once per key (customer, then item); a few tries
# cover that, and anything still failing afterwards is a real bug worth raising.
_UNIQUE_RACE_ATTEMPTS = 4
# How often a failed digest is retried before it stays failed for a person to look at.
DIGEST_MAX_ATTEMPTS = 3
_DIGEST_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


class Repository:
    """Storage for customers, feedback, staff, departments, digests and model versions."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._reads = session_factory(engine)
        self._writes = session_factory(for_writing(engine))
        self._clock = clock

    def _now(self) -> datetime:
        # Records are built from the objects just written; normalising here makes them
        # equal to what a later read returns, whatever zone the clock uses.
        return self._clock().astimezone(UTC)

    def _write_retrying(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a write transaction, again if a concurrent writer took a unique key."""
        for attempt in range(_UNIQUE_RACE_ATTEMPTS):
            try:
                with self._writes.begin() as session:
                    return work(session)
            except IntegrityError:
                # The other writer has committed by now, so the retry reads its row.
                if attempt == _UNIQUE_RACE_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    # --- customers -------------------------------------------------------------------

    def upsert_customer(
        self, telegram_user_id: int, chat_id: int, display_name: str | None, language: str
    ) -> CustomerRecord:
        """Create the customer or refresh their chat and name; language is set only on creation."""
        check_choice(language, LANGUAGES, "language")

        def work(session: Session) -> CustomerRecord:
            customer = _customer_by_user(session, telegram_user_id)
            if customer is None:
                customer = Customer(
                    telegram_user_id=telegram_user_id,
                    chat_id=chat_id,
                    display_name=display_name,
                    language=language,
                    created_at=self._now(),
                )
                session.add(customer)
            else:
                # The language is the customer's choice (set_language), not Telegram's guess.
                customer.chat_id = chat_id
                customer.display_name = display_name
            session.flush()
            return _customer_record(customer)

        return self._write_retrying(work)

    def set_language(self, telegram_user_id: int, language: str) -> CustomerRecord:
        """Record the language the customer chose; NotFound if they never wrote."""
        check_choice(language, LANGUAGES, "language")
        with self._writes.begin() as session:
            customer = _customer_by_user(session, telegram_user_id)
            if customer is None:
                raise NotFound(f"no customer with Telegram user id {telegram_user_id}")
            customer.language = language
            return _customer_record(customer)

    def get_customer(self, telegram_user_id: int) -> CustomerRecord | None:
        """Return the customer, or None if they never wrote."""
        with self._reads.begin() as session:
            customer = _customer_by_user(session, telegram_user_id)
            return None if customer is None else _customer_record(customer)

    def forget_customer(self, telegram_user_id: int) -> int:
        """Erase the customer's name and their feedback's text and files; return items erased."""
        # Rows are blanked, not deleted, so counts and digests of past periods stay true.
        with self._writes.begin() as session:
            customer = _customer_by_user(session, telegram_user_id)
            if customer is None:
                return 0
            result = session.execute(
                update(FeedbackItem)
                .where(FeedbackItem.customer_id == customer.id)
                .values(text=None, attachments=[], updated_at=self._now()),
                execution_options={"synchronize_session": False},
            )
            customer.display_name = None
            customer.forgotten_at = self._now()
            return _rowcount(result)

    # --- intake ----------------------------------------------------------------------

    def record_feedback(
        self,
        *,
        telegram_user_id: int,
        chat_id: int,
        message_id: int,
        update_id: int | None,
        text: str | None,
        attachments: Sequence[Attachment] = (),
        language: str,
        received_at: datetime | None = None,
        display_name: str | None = None,
    ) -> tuple[FeedbackRecord, bool]:
        """Store a message once per update id and per (chat, message); return (record, created)."""
        check_choice(language, LANGUAGES, "language")
        _require_aware(received_at, "received_at")

        def work(session: Session) -> tuple[FeedbackRecord, bool]:
            existing = _item_for_message(session, update_id, chat_id, message_id)
            if existing is not None:
                return _feedback_record(existing), False
            customer = _customer_by_user(session, telegram_user_id)
            if customer is None:
                customer = Customer(
                    telegram_user_id=telegram_user_id,
                    chat_id=chat_id,
                    display_name=display_name,
                    language=language,
                    created_at=self._now(),
                )
                session.add(customer)
                session.flush()
            now = self._now()
            item = FeedbackItem(
                customer_id=customer.id,
                chat_id=chat_id,
                message_id=message_id,
                update_id=update_id,
                text=text,
                attachments=[{"type": a.kind, "file_id": a.file_id} for a in attachments],
                secondary=[],
                status="new",
                language=language,
                created_at=_utc(received_at) if received_at else now,
                updated_at=now,
            )
            session.add(item)
            session.flush()
            return _feedback_record(item), True

        # Under concurrency both writers may miss each other's row; the unique
        # constraints make the loser fail, and its retry finds the winner's row.
        return self._write_retrying(work)

    def set_classification(
        self,
        item_id: int,
        *,
        predicted_label: str,
        confidence: float,
        kind: str | None,
        secondary: Sequence[LabelScore],
        model_version: str,
        routed_queue: str,
        status: str,
        choice_deadline: datetime | None = None,
    ) -> FeedbackRecord:
        """Store the classifier's verdict and route the item, unless a person already has."""
        check_choice(routed_queue, QUEUES, "queue")
        check_choice(status, STATUSES, "status")
        _require_aware(choice_deadline, "choice_deadline")
        if (status == "awaiting_customer") != (choice_deadline is not None):
            raise ValueError("choice_deadline is required with, and only with, awaiting_customer")
        with self._writes.begin() as session:
            item = _item(session, item_id, for_update=True)
            # Re-running classification (crash recovery, a new model) must not undo a
            # person's decision, so queue and status change only while nobody acted.
            untouched_by_people = item.final_queue in (None, item.routed_queue)
            item.predicted_label = predicted_label
            item.confidence = confidence
            item.kind = kind
            item.secondary = [{"label": s.label, "confidence": s.confidence} for s in secondary]
            item.model_version = model_version
            item.routed_queue = routed_queue
            now = self._now()
            if untouched_by_people and item.status in EDITABLE_STATUSES:
                item.final_queue = routed_queue
                item.status = status
                item.status_changed_by = "model"
                item.choice_deadline = _utc(choice_deadline)
                item.resolved_at = now if status == "resolved" else None
            item.updated_at = now
            session.flush()
            return _feedback_record(item)

    def mark_reply_sent(self, item_id: int) -> FeedbackRecord:
        """Record that the customer got their confirmation (the first time counts)."""
        with self._writes.begin() as session:
            item = _item(session, item_id, for_update=True)
            if item.reply_sent_at is None:
                item.reply_sent_at = item.updated_at = self._now()
            session.flush()
            return _feedback_record(item)

    def items_awaiting_reply(
        self, limit: int = 100, *, received_before: datetime | None = None
    ) -> list[FeedbackRecord]:
        """Return stored items whose customer never got a confirmation, oldest first."""
        _require_aware(received_before, "received_before")
        query = select(FeedbackItem).where(FeedbackItem.reply_sent_at.is_(None))
        if received_before is not None:
            query = query.where(FeedbackItem.created_at < received_before)
        return self._feedback_list(query.order_by(FeedbackItem.id).limit(limit))

    def set_staff_message(self, item_id: int, chat_id: int, message_id: int) -> FeedbackRecord:
        """Remember the message that shows the item in the staff chat."""
        with self._writes.begin() as session:
            item = _item(session, item_id, for_update=True)
            item.staff_chat_id = chat_id
            item.staff_message_id = message_id
            item.updated_at = self._now()
            session.flush()
            return _feedback_record(item)

    def get_by_staff_message(self, chat_id: int, message_id: int) -> FeedbackRecord | None:
        """Return the item shown by a staff-chat message, e.g. the one staff replied to."""
        query = select(FeedbackItem).where(
            FeedbackItem.staff_chat_id == chat_id, FeedbackItem.staff_message_id == message_id
        )
        found = self._feedback_list(query.order_by(FeedbackItem.id.desc()).limit(1))
        return found[0] if found else None

    def update_text_if_new(self, chat_id: int, message_id: int, text: str) -> FeedbackRecord | None:
        """Apply a customer's edit while nobody has started on the item; else return None."""
        with self._writes.begin() as session:
            row = session.execute(
                select(FeedbackItem, Customer.forgotten_at)
                .join(Customer, Customer.id == FeedbackItem.customer_id)
                .where(FeedbackItem.chat_id == chat_id, FeedbackItem.message_id == message_id)
                .with_for_update(of=FeedbackItem)
            ).first()
            if row is None:
                return None
            item, forgotten_at = row
            if item.status not in EDITABLE_STATUSES:
                return None
            if forgotten_at is not None and item.created_at <= forgotten_at:
                # Editing an erased message must not bring its content back.
                return None
            item.text = text
            item.updated_at = self._now()
            session.flush()
            return _feedback_record(item)

    # --- queues and statuses ---------------------------------------------------------

    def move_item(
        self, item_id: int, *, to_queue: str, actor: str, source: str, reason: str | None = None
    ) -> FeedbackRecord:
        """Move an item to another queue and record who moved it, from where, and why."""
        check_choice(to_queue, QUEUES, "queue")
        check_choice(source, CHANGE_SOURCES, "label change source")
        check_actor(actor)
        with self._writes.begin() as session:
            item = _item(session, item_id, for_update=True)
            now = self._now()
            session.add(
                LabelChange(
                    item_id=item.id,
                    actor=actor,
                    source=source,
                    from_queue=item.final_queue,
                    to_queue=to_queue,
                    reason=reason,
                    created_at=now,
                )
            )
            item.final_queue = to_queue
            # A resolved item keeps its status: moving it only corrects its label (for
            # statistics and training). An open item follows its queue: "none" means no
            # department acts, so it is resolved; a department gets it as new, with its
            # own overdue clock and no pending customer choice.
            if item.status != "resolved":
                item.choice_deadline = None
                item.overdue_flagged_at = None
                item.status_changed_by = actor
                if to_queue == NO_QUEUE:
                    item.status = "resolved"
                    item.resolved_at = now
                elif to_queue == "triage":
                    item.status = "triage"
                else:
                    item.status = "new"
            item.updated_at = now
            session.flush()
            return _feedback_record(item)

    def set_status(
        self,
        item_id: int,
        status: str,
        actor: str,
        *,
        choice_deadline: datetime | None = None,
    ) -> FeedbackRecord:
        """Change an item's status; resolving stamps resolved_at, reopening clears it."""
        check_choice(status, STATUSES, "status")
        check_actor(actor)
        _require_aware(choice_deadline, "choice_deadline")
        if (status == "awaiting_customer") != (choice_deadline is not None):
            raise ValueError("choice_deadline is required with, and only with, awaiting_customer")
        with self._writes.begin() as session:
            item = _item(session, item_id, for_update=True)
            now = self._now()
            if status == "resolved":
                if item.status != "resolved":
                    item.resolved_at = now
            else:
                item.resolved_at = None
            item.status = status
            item.status_changed_by = actor
            item.choice_deadline = _utc(choice_deadline)
            item.updated_at = now
            session.flush()
            return _feedback_record(item)

    def get_item(self, item_id: int) -> FeedbackRecord | None:
        """Return the item, or None if there is no such id."""
        with self._reads.begin() as session:
            item = session.get(FeedbackItem, item_id)
            return None if item is None else _feedback_record(item)

    def get_by_ticket(self, ticket: str) -> FeedbackRecord | None:
        """Return the item for a ticket number like "FB-000123"; ValueError if malformed."""
        return self.get_item(parse_ticket(ticket))

    def label_changes(self, item_id: int) -> list[LabelChangeRecord]:
        """Return the item's queue moves, oldest first."""
        with self._reads.begin() as session:
            rows = session.scalars(
                select(LabelChange).where(LabelChange.item_id == item_id).order_by(LabelChange.id)
            )
            return [_label_change_record(row) for row in rows]

    def customer_tickets(
        self, telegram_user_id: int, *, open_only: bool = True, limit: int = 20
    ) -> list[FeedbackRecord]:
        """Return the customer's items, newest first."""
        query = (
            select(FeedbackItem)
            .join(Customer, Customer.id == FeedbackItem.customer_id)
            .where(Customer.telegram_user_id == telegram_user_id)
        )
        if open_only:
            query = query.where(FeedbackItem.status.in_(OPEN_STATUSES))
        return self._feedback_list(query.order_by(FeedbackItem.id.desc()).limit(limit))

    def open_items(self, queue: str | None = None, limit: int = 20) -> list[FeedbackRecord]:
        """Return open items, in one queue or all, oldest (most urgent) first."""
        query = select(FeedbackItem).where(FeedbackItem.status.in_(OPEN_STATUSES))
        if queue is not None:
            check_choice(queue, QUEUES, "queue")
            query = query.where(FeedbackItem.final_queue == queue)
        return self._feedback_list(query.order_by(FeedbackItem.id).limit(limit))

    def search_feedback(self, text: str, limit: int = 10) -> list[FeedbackRecord]:
        """Return the newest items whose text contains `text`, ignoring case."""
        needle = text.strip()
        if not needle:
            return []
        query = select(FeedbackItem).where(FeedbackItem.text.icontains(needle, autoescape=True))
        return self._feedback_list(query.order_by(FeedbackItem.id.desc()).limit(limit))

    def open_items_older_than(
        self, queue: str, age: timedelta, now: datetime
    ) -> list[FeedbackRecord]:
        """Return open items in `queue` received at least `age` before `now`, not yet flagged."""
        check_choice(queue, QUEUES, "queue")
        _require_aware(now, "now")
        query = select(FeedbackItem).where(
            FeedbackItem.final_queue == queue,
            FeedbackItem.status.in_(OPEN_STATUSES),
            FeedbackItem.created_at <= now - age,
            FeedbackItem.overdue_flagged_at.is_(None),
        )
        return self._feedback_list(query.order_by(FeedbackItem.id))

    def mark_overdue_flagged(self, item_id: int) -> bool:
        """Flag the item as overdue; False if it was already flagged (someone else won)."""
        with self._writes.begin() as session:
            result = session.execute(
                update(FeedbackItem)
                .where(FeedbackItem.id == item_id, FeedbackItem.overdue_flagged_at.is_(None))
                .values(overdue_flagged_at=self._now()),
                execution_options={"synchronize_session": False},
            )
            return _rowcount(result) == 1

    def items_to_review(self, limit: int = 20) -> list[FeedbackRecord]:
        """Return classified items nobody has relabelled yet, least confident first."""
        relabelled = exists().where(LabelChange.item_id == FeedbackItem.id)
        query = select(FeedbackItem).where(
            FeedbackItem.confidence.is_not(None),
            # Erased (forgotten) items have nothing left to review.
            FeedbackItem.text.is_not(None),
            ~relabelled,
        )
        order = (FeedbackItem.confidence, FeedbackItem.id)
        return self._feedback_list(query.order_by(*order).limit(limit))

    def items_awaiting_choice_past(self, now: datetime) -> list[FeedbackRecord]:
        """Return items whose customer did not choose a department before the deadline."""
        _require_aware(now, "now")
        query = select(FeedbackItem).where(
            FeedbackItem.status == "awaiting_customer", FeedbackItem.choice_deadline <= now
        )
        return self._feedback_list(query.order_by(FeedbackItem.choice_deadline, FeedbackItem.id))

    def queue_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """Count items received in [since, until) per current queue; every queue is present."""
        _require_aware(since, "since")
        _require_aware(until, "until")
        query = (
            select(FeedbackItem.final_queue, func.count())
            .where(
                FeedbackItem.created_at >= since,
                FeedbackItem.created_at < until,
                FeedbackItem.final_queue.is_not(None),
            )
            .group_by(FeedbackItem.final_queue)
        )
        counts = dict.fromkeys(QUEUES, 0)
        with self._reads.begin() as session:
            for queue, count in session.execute(query):
                counts[str(queue)] = count
        return counts

    def _feedback_list(self, query: Select[FeedbackItem]) -> list[FeedbackRecord]:
        with self._reads.begin() as session:
            return [_feedback_record(item) for item in session.scalars(query)]

    # --- staff and departments -------------------------------------------------------

    def upsert_staff(
        self,
        telegram_user_id: int,
        *,
        display_name: str,
        role: str,
        department: str | None = None,
        active: bool = True,
    ) -> StaffRecord:
        """Create or replace a staff member."""
        check_choice(role, STAFF_ROLES, "staff role")
        if department is not None:
            check_choice(department, DEPARTMENTS, "department")

        def work(session: Session) -> StaffRecord:
            staff = session.scalars(
                select(StaffMember).where(StaffMember.telegram_user_id == telegram_user_id)
            ).first()
            if staff is None:
                staff = StaffMember(telegram_user_id=telegram_user_id)
                session.add(staff)
            staff.display_name = display_name
            staff.role = role
            staff.department = department
            staff.active = active
            session.flush()
            return _staff_record(staff)

        return self._write_retrying(work)

    def get_staff(self, telegram_user_id: int) -> StaffRecord | None:
        """Return the staff member, active or not, or None."""
        with self._reads.begin() as session:
            staff = session.scalars(
                select(StaffMember).where(StaffMember.telegram_user_id == telegram_user_id)
            ).first()
            return None if staff is None else _staff_record(staff)

    def list_staff(
        self, *, department: str | None = None, active_only: bool = True
    ) -> list[StaffRecord]:
        """Return staff members, optionally of one department, ordered by name."""
        query = select(StaffMember)
        if department is not None:
            query = query.where(StaffMember.department == department)
        if active_only:
            query = query.where(StaffMember.active.is_(True))
        with self._reads.begin() as session:
            rows = session.scalars(query.order_by(StaffMember.display_name, StaffMember.id))
            return [_staff_record(row) for row in rows]

    def upsert_department(
        self,
        name: str,
        *,
        lead_chat_ids: Iterable[int],
        staff_chat_id: int | None,
        digest_time: str,
        timezone: str,
        digest_weekdays: Iterable[int],
        response_hours: int,
    ) -> DepartmentRecord:
        """Create a department or replace all of its settings."""
        check_choice(name, DEPARTMENTS, "department")
        if not _DIGEST_TIME.fullmatch(digest_time):
            raise ValueError(f"digest_time {digest_time!r} is not HH:MM (24-hour)")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown timezone {timezone!r}: use an IANA name") from error
        weekdays = sorted(set(digest_weekdays))
        if any(day not in range(7) for day in weekdays):
            raise ValueError(f"digest weekdays {weekdays} must be 0 (Monday) to 6 (Sunday)")
        if response_hours < 1:
            raise ValueError(f"response_hours must be at least 1, not {response_hours}")
        leads = list(lead_chat_ids)

        def work(session: Session) -> DepartmentRecord:
            department = _department(session, name)
            if department is None:
                department = Department(name=name)
                session.add(department)
            department.lead_chat_ids = leads
            department.staff_chat_id = staff_chat_id
            department.digest_time = digest_time
            department.timezone = timezone
            department.digest_weekdays = weekdays
            department.response_hours = response_hours
            session.flush()
            return _department_record(department)

        return self._write_retrying(work)

    def list_departments(self) -> list[DepartmentRecord]:
        """Return every configured department, by name."""
        with self._reads.begin() as session:
            rows = session.scalars(select(Department).order_by(Department.name))
            return [_department_record(row) for row in rows]

    def get_department(self, name: str) -> DepartmentRecord | None:
        """Return the department's settings, or None if it is not configured."""
        with self._reads.begin() as session:
            department = _department(session, name)
            return None if department is None else _department_record(department)

    # --- digests ---------------------------------------------------------------------

    def claim_digest(
        self,
        department: str,
        period_start: datetime,
        period_end: datetime,
        *,
        late: bool = False,
        max_attempts: int = DIGEST_MAX_ATTEMPTS,
    ) -> DigestRunRecord | None:
        """Claim one period's digest (or retry a failed one); None if someone else has it."""
        check_choice(department, DEPARTMENTS, "department")
        _check_period(period_start, period_end)
        now = self._now()
        try:
            with self._writes.begin() as session:
                run = DigestRun(
                    department=department,
                    period_start=_utc(period_start),
                    period_end=_utc(period_end),
                    status="claimed",
                    late=late,
                    attempts=1,
                    sent_message_ids=[],
                    claimed_at=now,
                )
                session.add(run)
                session.flush()
                return _digest_record(run)
        except IntegrityError:
            pass
        # The period exists; only a failed run may be retried, and the conditional
        # UPDATE lets exactly one of several concurrent retriers win it.
        with self._writes.begin() as session:
            result = session.execute(
                update(DigestRun)
                .where(
                    DigestRun.department == department,
                    DigestRun.period_end == period_end,
                    DigestRun.status == "failed",
                    DigestRun.attempts < max_attempts,
                )
                .values(
                    status="claimed",
                    attempts=DigestRun.attempts + 1,
                    late=late,
                    claimed_at=now,
                    finished_at=None,
                    error=None,
                ),
                execution_options={"synchronize_session": False},
            )
            if _rowcount(result) != 1:
                return None
            run = session.scalars(
                select(DigestRun).where(
                    DigestRun.department == department, DigestRun.period_end == period_end
                )
            ).one()
            return _digest_record(run)

    def finish_digest(
        self,
        run_id: int,
        status: str,
        sent_message_ids: Iterable[int] = (),
        error: str | None = None,
    ) -> DigestRunRecord:
        """Record how a claimed digest ended: sent, failed or skipped."""
        check_choice(status, tuple(s for s in DIGEST_STATUSES if s != "claimed"), "digest status")
        with self._writes.begin() as session:
            run = session.get(DigestRun, run_id, with_for_update=True)
            if run is None:
                raise NotFound(f"no digest run {run_id}")
            run.status = status
            run.sent_message_ids = list(sent_message_ids)
            run.error = error
            run.finished_at = self._now()
            session.flush()
            return _digest_record(run)

    def record_skipped_digest(
        self, department: str, period_start: datetime, period_end: datetime, *, reason: str
    ) -> DigestRunRecord | None:
        """Record that a period needs no digest (reason kept in `error`); None if claimed."""
        check_choice(department, DEPARTMENTS, "department")
        _check_period(period_start, period_end)
        now = self._now()
        try:
            with self._writes.begin() as session:
                run = DigestRun(
                    department=department,
                    period_start=_utc(period_start),
                    period_end=_utc(period_end),
                    status="skipped",
                    late=False,
                    attempts=0,
                    error=reason,
                    sent_message_ids=[],
                    claimed_at=now,
                    finished_at=now,
                )
                session.add(run)
                session.flush()
                return _digest_record(run)
        except IntegrityError:
            return None

    def last_digest(self, department: str, *, sent_only: bool = False) -> DigestRunRecord | None:
        """Return the department's digest with the latest period end, or None."""
        query = select(DigestRun).where(DigestRun.department == department)
        if sent_only:
            query = query.where(DigestRun.status == "sent")
        with self._reads.begin() as session:
            run = session.scalars(query.order_by(DigestRun.period_end.desc()).limit(1)).first()
            return None if run is None else _digest_record(run)

    # --- model versions --------------------------------------------------------------

    def record_model_version(
        self, version: str, path: str, metrics: dict[str, Any]
    ) -> ModelVersionRecord:
        """Register a trained model; ValueError if the version is already registered."""
        try:
            with self._writes.begin() as session:
                model = ModelVersion(
                    version=version, path=path, metrics=metrics, created_at=self._now()
                )
                session.add(model)
                session.flush()
                return _model_record(model)
        except IntegrityError as error:
            raise ValueError(f"model version {version!r} is already recorded") from error

    def promote_model(self, version: str) -> ModelVersionRecord:
        """Make `version` the model in use; NotFound if it was never recorded."""
        with self._writes.begin() as session:
            model = session.scalars(
                select(ModelVersion).where(ModelVersion.version == version)
            ).first()
            if model is None:
                raise NotFound(f"no model version {version!r}")
            model.promoted_at = self._now()
            session.flush()
            return _model_record(model)

    def current_model(self) -> ModelVersionRecord | None:
        """Return the most recently promoted model, or None before the first promotion."""
        query = (
            select(ModelVersion)
            .where(ModelVersion.promoted_at.is_not(None))
            .order_by(ModelVersion.promoted_at.desc(), ModelVersion.id.desc())
            .limit(1)
        )
        with self._reads.begin() as session:
            model = session.scalars(query).first()
            return None if model is None else _model_record(model)


# --- helpers -----------------------------------------------------------------------------


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


@overload
def _utc(value: datetime) -> datetime: ...
@overload
def _utc(value: None) -> None: ...
def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _check_period(start: datetime, end: datetime) -> None:
    _require_aware(start, "period_start")
    _require_aware(end, "period_end")
    if end <= start:
        raise ValueError(f"period_end {end} must be after period_start {start}")


def _rowcount(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def _customer_by_user(session: Session, telegram_user_id: int) -> Customer | None:
    return session.scalars(
        select(Customer).where(Customer.telegram_user_id == telegram_user_id)
    ).first()


def _department(session: Session, name: str) -> Department | None:
    return session.scalars(select(Department).where(Department.name == name)).first()


def _item(session: Session, item_id: int, *, for_update: bool = False) -> FeedbackItem:
    item = session.get(FeedbackItem, item_id, with_for_update=for_update)
    if item is None:
        raise NotFound(f"no feedback item {format_ticket(item_id)}")
    return item


def _item_for_message(
    session: Session, update_id: int | None, chat_id: int, message_id: int
) -> FeedbackItem | None:
    same_message = and_(FeedbackItem.chat_id == chat_id, FeedbackItem.message_id == message_id)
    condition = (
        same_message
        if update_id is None
        else or_(FeedbackItem.update_id == update_id, same_message)
    )
    return session.scalars(
        select(FeedbackItem).where(condition).order_by(FeedbackItem.id).limit(1)
    ).first()


def _customer_record(row: Customer) -> CustomerRecord:
    return CustomerRecord(
        id=row.id,
        telegram_user_id=row.telegram_user_id,
        chat_id=row.chat_id,
        display_name=row.display_name,
        language=row.language,
        created_at=row.created_at,
        forgotten_at=row.forgotten_at,
    )


def _feedback_record(row: FeedbackItem) -> FeedbackRecord:
    return FeedbackRecord(
        id=row.id,
        customer_id=row.customer_id,
        chat_id=row.chat_id,
        message_id=row.message_id,
        update_id=row.update_id,
        text=row.text,
        attachments=tuple(
            Attachment(kind=a["type"], file_id=a["file_id"]) for a in row.attachments
        ),
        kind=row.kind,
        predicted_label=row.predicted_label,
        confidence=row.confidence,
        secondary=tuple(
            LabelScore(label=s["label"], confidence=s["confidence"]) for s in row.secondary
        ),
        model_version=row.model_version,
        routed_queue=row.routed_queue,
        final_queue=row.final_queue,
        status=row.status,
        status_changed_by=row.status_changed_by,
        language=row.language,
        created_at=row.created_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
        reply_sent_at=row.reply_sent_at,
        staff_chat_id=row.staff_chat_id,
        staff_message_id=row.staff_message_id,
        overdue_flagged_at=row.overdue_flagged_at,
        choice_deadline=row.choice_deadline,
    )


def _label_change_record(row: LabelChange) -> LabelChangeRecord:
    return LabelChangeRecord(
        id=row.id,
        item_id=row.item_id,
        actor=row.actor,
        source=row.source,
        from_queue=row.from_queue,
        to_queue=row.to_queue,
        reason=row.reason,
        created_at=row.created_at,
    )


def _staff_record(row: StaffMember) -> StaffRecord:
    return StaffRecord(
        telegram_user_id=row.telegram_user_id,
        display_name=row.display_name,
        role=row.role,
        department=row.department,
        active=row.active,
    )


def _department_record(row: Department) -> DepartmentRecord:
    return DepartmentRecord(
        name=row.name,
        lead_chat_ids=tuple(row.lead_chat_ids),
        staff_chat_id=row.staff_chat_id,
        digest_time=row.digest_time,
        timezone=row.timezone,
        digest_weekdays=tuple(row.digest_weekdays),
        response_hours=row.response_hours,
    )


def _digest_record(row: DigestRun) -> DigestRunRecord:
    return DigestRunRecord(
        id=row.id,
        department=row.department,
        period_start=row.period_start,
        period_end=row.period_end,
        status=row.status,
        late=row.late,
        attempts=row.attempts,
        error=row.error,
        sent_message_ids=tuple(row.sent_message_ids),
        claimed_at=row.claimed_at,
        finished_at=row.finished_at,
    )


def _model_record(row: ModelVersion) -> ModelVersionRecord:
    return ModelVersionRecord(
        id=row.id,
        version=row.version,
        path=row.path,
        metrics=dict(row.metrics),
        created_at=row.created_at,
        promoted_at=row.promoted_at,
    )
