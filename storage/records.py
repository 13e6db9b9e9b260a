"""Immutable snapshots the repository returns, so callers never hold live ORM rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.vocabulary import OPEN_STATUSES

TICKET_PREFIX = "FB-"
# Accepts what people actually type: "FB-000123", "fb-123", "#FB000123" or just "123".
_TICKET = re.compile(r"#?(?:FB-?)?0*([1-9]\d{0,11})", re.IGNORECASE)


def format_ticket(item_id: int) -> str:
    """Return the ticket number shown to people for a feedback item id."""
    return f"{TICKET_PREFIX}{item_id:06d}"


def parse_ticket(ticket: str) -> int:
    """Return the item id in a ticket number such as "FB-000123"; ValueError if malformed."""
    match = _TICKET.fullmatch(ticket.strip())
    if match is None:
        raise ValueError(f"not a ticket number: {ticket!r} (expected e.g. {format_ticket(123)})")
    return int(match.group(1))


@dataclass(frozen=True, slots=True)
class Attachment:
    """A Telegram file attached to feedback: its media type and file id."""

    kind: str
    file_id: str


@dataclass(frozen=True, slots=True)
class LabelScore:
    """A label the classifier also considered, with its confidence."""

    label: str
    confidence: float


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A customer as stored."""

    id: int
    telegram_user_id: int
    chat_id: int
    display_name: str | None
    language: str
    created_at: datetime
    forgotten_at: datetime | None


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    """A feedback item as stored."""

    id: int
    customer_id: int
    chat_id: int
    message_id: int
    update_id: int | None
    text: str | None
    attachments: tuple[Attachment, ...]
    kind: str | None
    predicted_label: str | None
    confidence: float | None
    secondary: tuple[LabelScore, ...]
    model_version: str | None
    routed_queue: str | None
    final_queue: str | None
    status: str
    status_changed_by: str | None
    language: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    reply_sent_at: datetime | None
    staff_chat_id: int | None
    staff_message_id: int | None
    overdue_flagged_at: datetime | None
    choice_deadline: datetime | None

    @property
    def ticket(self) -> str:
        """The ticket number shown to customers and staff."""
        return format_ticket(self.id)

    @property
    def is_open(self) -> bool:
        """Whether someone still has to act on the item."""
        return self.status in OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class LabelChangeRecord:
    """One queue move of a feedback item."""

    id: int
    item_id: int
    actor: str
    source: str
    from_queue: str | None
    to_queue: str
    reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StaffRecord:
    """A staff member as stored."""

    telegram_user_id: int
    display_name: str
    role: str
    department: str | None
    active: bool


@dataclass(frozen=True, slots=True)
class DepartmentRecord:
    """A department's routing and digest settings."""

    name: str
    lead_chat_ids: tuple[int, ...]
    staff_chat_id: int | None
    digest_time: str
    timezone: str
    digest_weekdays: tuple[int, ...]
    response_hours: int


@dataclass(frozen=True, slots=True)
class DigestRunRecord:
    """One claimed, sent, failed or skipped digest."""

    id: int
    department: str
    period_start: datetime
    period_end: datetime
    status: str
    late: bool
    attempts: int
    error: str | None
    sent_message_ids: tuple[int, ...]
    claimed_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class ModelVersionRecord:
    """A trained classifier version and its evaluation metrics."""

    id: int
    version: str
    path: str
    metrics: dict[str, Any]
    created_at: datetime
    promoted_at: datetime | None
