"""What happens to a customer's message and to staff decisions; no Telegram here."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from classifier.labels import DEPARTMENTS, NONE, TRIAGE
from classifier.model import Prediction
from classifier.persist import LoadedModel
from storage.records import Attachment, FeedbackRecord, LabelScore
from storage.repository import Repository
from storage.vocabulary import staff_actor

CUSTOMER = "customer"
STAFF_ACTIONS = (*DEPARTMENTS, NONE, "resolve")
NOT_SURE = "unsure"


def utcnow() -> datetime:
    return datetime.now(UTC)


def language_from_client(code: str | None, default: str) -> str:
    """Map a Telegram client language code to a reply language (zh or en)."""
    if not code:
        return default
    code = code.lower()
    if code.startswith("zh"):
        return "zh"
    if code.startswith("en"):
        return "en"
    return default


@dataclass(frozen=True)
class IncomingMessage:
    """A customer message as the bot received it."""

    user_id: int
    chat_id: int
    message_id: int
    update_id: int | None
    text: str
    attachments: tuple[Attachment, ...]
    display_name: str | None
    language_code: str | None


@dataclass(frozen=True)
class IntakeOutcome:
    """What to tell the customer and staff about a stored message."""

    item: FeedbackRecord
    language: str
    # routed: a department has it; thanks: nothing to act on; ask: customer picks;
    # no_text: a photo or file without caption, kept for staff in triage;
    # replied: this message was already answered before (a redelivered update).
    action: str
    choices: tuple[str, ...] = ()


class RateLimiter:
    """Sliding one-minute window of messages per customer, kept in memory."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._sent: defaultdict[int, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, user_id: int) -> bool:
        """Count one message; False once the customer is over the limit."""
        now = self._clock()
        with self._lock:
            window = self._sent[user_id]
            while window and now - window[0] >= 60:
                window.popleft()
            window.append(now)
            return len(window) <= self.per_minute


class FeedbackService:
    """Stores, classifies and routes feedback, and applies customer and staff decisions."""

    def __init__(
        self,
        repository: Repository,
        model: LoadedModel,
        *,
        choice_timeout: timedelta,
        default_language: str,
        configured_staff: dict[int, str],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.repository = repository
        self.model = model
        self.choice_timeout = choice_timeout
        self.default_language = default_language
        self.configured_staff = configured_staff
        self.clock = clock

    # --- customers -----------------------------------------------------------------

    def language_for(self, user_id: int, language_code: str | None) -> str:
        """The customer's chosen language, else their client's, else the default."""
        customer = self.repository.get_customer(user_id)
        if customer is not None:
            return customer.language
        return language_from_client(language_code, self.default_language)

    def choose_language(self, user_id: int, chat_id: int, name: str | None, wanted: str, current: str) -> str:
        """Store the customer's reply language (zh or en); an unknown choice keeps `current`."""
        language = wanted if wanted in ("zh", "en") else current
        self.repository.upsert_customer(user_id, chat_id, name, language)
        self.repository.set_language(user_id, language)
        return language

    def forget(self, user_id: int) -> int:
        """Erase the text of everything the customer sent; return how many messages."""
        return self.repository.forget_customer(user_id)

    def apply_edit(self, chat_id: int, message_id: int, text: str) -> FeedbackRecord | None:
        """A customer's edit, applied while nobody has started on the item."""
        return self.repository.update_text_if_new(chat_id, message_id, text)

    def receive(self, message: IncomingMessage) -> IntakeOutcome:
        """Store the message first, then classify and decide where it goes."""
        language = self.language_for(message.user_id, message.language_code)
        item, created = self.repository.record_feedback(
            telegram_user_id=message.user_id,
            chat_id=message.chat_id,
            message_id=message.message_id,
            update_id=message.update_id,
            text=message.text,
            attachments=message.attachments,
            language=language,
            display_name=message.display_name,
        )
        if not created and item.reply_sent_at is not None:
            return IntakeOutcome(item, language, "replied")
        if item.routed_queue is None:
            item = self._classify(item)
        return self.outcome_for(item, language)

    def reclassify(self, item_id: int) -> IntakeOutcome:
        """Classify a stored item that never was (a crash fell in between)."""
        item = self.repository.get_item(item_id)
        if item is None:
            raise LookupError(f"no feedback item {item_id}")
        if item.routed_queue is None:
            item = self._classify(item)
        return self.outcome_for(item, item.language)

    def outcome_for(self, item: FeedbackRecord, language: str) -> IntakeOutcome:
        """What the customer should be told about an already classified item."""
        if not (item.text or "").strip() and item.attachments:
            return IntakeOutcome(item, language, "no_text")
        if item.status == "awaiting_customer":
            return IntakeOutcome(item, language, "ask", self._choices(item))
        if item.final_queue == NONE:
            return IntakeOutcome(item, language, "thanks")
        return IntakeOutcome(item, language, "routed")

    def _classify(self, item: FeedbackRecord) -> FeedbackRecord:
        if not (item.text or "").strip():
            # Nothing to read (a photo without a caption): a person decides.
            return self.repository.set_classification(
                item.id,
                predicted_label=NONE,
                confidence=0.0,
                kind="other",
                secondary=[],
                model_version=self.model.version,
                routed_queue=TRIAGE,
                status="triage",
            )
        prediction = self.model.classifier.route([item.text or ""])[0]
        status, deadline = "new", None
        queue = prediction.queue
        if queue == TRIAGE:
            status, deadline = "awaiting_customer", self.clock() + self.choice_timeout
        elif queue == NONE:
            status = "resolved"
        return self.repository.set_classification(
            item.id,
            predicted_label=prediction.label,
            confidence=prediction.confidence,
            kind=prediction.kind,
            secondary=_scores(prediction),
            model_version=self.model.version,
            routed_queue=queue,
            status=status,
            choice_deadline=deadline,
        )

    def _choices(self, item: FeedbackRecord) -> tuple[str, ...]:
        """The two departments the model finds most likely for this item."""
        # Recomputed rather than stored: it costs a few milliseconds and stays right
        # after a restart or a model update.
        probabilities = self.model.classifier.route([item.text or ""])[0].probabilities
        ranked = sorted(DEPARTMENTS, key=lambda label: -probabilities.get(label, 0.0))
        return tuple(ranked[:2])

    def mark_replied(self, item_id: int) -> None:
        self.repository.mark_reply_sent(item_id)

    def apply_customer_choice(self, user_id: int, item_id: int, choice: str) -> FeedbackRecord | None:
        """Route an item the customer was asked about; None if it is not theirs or not waiting."""
        item = self.repository.get_item(item_id)
        customer = self.repository.get_customer(user_id)
        if item is None or customer is None or item.customer_id != customer.id:
            return None
        if item.status != "awaiting_customer":
            return None
        target = TRIAGE if choice == NOT_SURE else choice
        if target not in (*DEPARTMENTS, TRIAGE):
            return None
        return self.repository.move_item(item.id, to_queue=target, actor=CUSTOMER, source="customer_choice")

    def expire_choices(self) -> list[FeedbackRecord]:
        """Send items whose customer did not answer in time to triage."""
        moved = []
        for item in self.repository.items_awaiting_choice_past(self.clock()):
            moved.append(
                self.repository.move_item(
                    item.id,
                    to_queue=TRIAGE,
                    actor="model",
                    source="timeout",
                    reason="customer did not choose in time",
                )
            )
        return moved

    def customer_tickets(self, user_id: int) -> list[FeedbackRecord]:
        return self.repository.customer_tickets(user_id, open_only=True)

    def customer_ticket(self, user_id: int, ticket: str) -> FeedbackRecord | None:
        """One ticket, only if it belongs to the asking customer."""
        try:
            item = self.repository.get_by_ticket(ticket)
        except ValueError:
            return None
        customer = self.repository.get_customer(user_id)
        if item is None or customer is None or item.customer_id != customer.id:
            return None
        return item

    # --- staff -----------------------------------------------------------------------

    def staff_role(self, user_id: int) -> str | None:
        """The user's staff role from config or the database, or None for non-staff."""
        if user_id in self.configured_staff:
            return self.configured_staff[user_id]
        member = self.repository.get_staff(user_id)
        return member.role if member is not None and member.active else None

    def staff_action(self, user_id: int, item_id: int, action: str) -> FeedbackRecord | None:
        """Apply a staff button; None if the user is not staff or the action is unknown."""
        if self.staff_role(user_id) is None or action not in STAFF_ACTIONS:
            return None
        item = self.repository.get_item(item_id)
        if item is None:
            return None
        actor = staff_actor(user_id)
        if action == "resolve":
            if item.status == "resolved":
                return item
            return self.repository.set_status(item.id, "resolved", actor)
        if item.final_queue == action:
            return item
        return self.repository.move_item(item.id, to_queue=action, actor=actor, source="staff_relabel")


def _scores(prediction: Prediction) -> list[LabelScore]:
    """The secondary departments the model named, with their probability."""
    return [
        LabelScore(label=label, confidence=prediction.probabilities.get(label, 0.0))
        for label in prediction.secondary
    ]
