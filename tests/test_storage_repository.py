"""Repository behaviour on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from storage.errors import NotFound
from storage.records import Attachment, FeedbackRecord, LabelScore, format_ticket, parse_ticket
from storage.repository import Repository
from storage.vocabulary import staff_actor

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ALICE = 1001
BOB = 1002
AGENT = 9001


def record(
    repo: Repository,
    message_id: int,
    text: str | None = "the app crashes on login",
    *,
    user: int = ALICE,
    received_at: datetime = T0,
    attachments: tuple[Attachment, ...] = (),
) -> FeedbackRecord:
    """Store one customer message as the intake handler would."""
    item, _ = repo.record_feedback(
        telegram_user_id=user,
        chat_id=user,
        message_id=message_id,
        update_id=user * 100_000 + message_id,
        text=text,
        attachments=attachments,
        language="en",
        received_at=received_at,
    )
    return item


def routed(repo: Repository, item: FeedbackRecord, queue: str, confidence: float = 0.9) -> None:
    """Classify and route an item the way the intake service would."""
    repo.set_classification(
        item.id,
        predicted_label=queue,
        confidence=confidence,
        kind="complaint",
        secondary=[],
        model_version="m1",
        routed_queue=queue,
        status="triage" if queue == "triage" else "new",
    )


# --- customers ---------------------------------------------------------------------------


def test_customer_round_trip_keeps_chosen_language_when_name_changes(repo: Repository) -> None:
    created = repo.upsert_customer(ALICE, 555, "Alice", "zh")
    repo.set_language(ALICE, "en")
    updated = repo.upsert_customer(ALICE, 556, "Alice W.", "zh")

    assert updated.id == created.id
    assert (updated.chat_id, updated.display_name, updated.language) == (556, "Alice W.", "en")
    assert repo.get_customer(ALICE) == updated
    assert updated.forgotten_at is None


def test_unknown_customer_is_none_and_cannot_set_language(repo: Repository) -> None:
    assert repo.get_customer(404) is None
    with pytest.raises(NotFound, match="404"):
        repo.set_language(404, "en")


def test_unsupported_language_is_refused(repo: Repository) -> None:
    with pytest.raises(ValueError, match="language 'fr'"):
        repo.upsert_customer(ALICE, ALICE, "Alice", "fr")


# --- intake ------------------------------------------------------------------------------


def test_feedback_round_trip_returns_what_was_stored(repo: Repository) -> None:
    beijing = timezone(timedelta(hours=8))
    item, created = repo.record_feedback(
        telegram_user_id=ALICE,
        chat_id=ALICE,
        message_id=7,
        update_id=70,
        text="付款页面打不开",
        attachments=[Attachment("photo", "AgAD-photo"), Attachment("document", "BQAD-doc")],
        language="zh",
        received_at=datetime(2026, 3, 2, 17, 0, tzinfo=beijing),
        display_name="Alice",
    )

    assert created
    assert item.created_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert item.created_at.tzinfo == UTC
    assert item.attachments == (
        Attachment("photo", "AgAD-photo"),
        Attachment("document", "BQAD-doc"),
    )
    assert (item.status, item.final_queue, item.reply_sent_at) == ("new", None, None)
    assert repo.get_item(item.id) == item
    customer = repo.get_customer(ALICE)
    assert customer is not None
    assert (customer.id, customer.display_name, customer.language) == (
        item.customer_id,
        "Alice",
        "zh",
    )


def test_naive_timestamps_are_refused(repo: Repository) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        record(repo, 1, received_at=datetime(2026, 3, 2, 9, 0))


def test_same_update_delivered_twice_is_stored_once(repo: Repository) -> None:
    first = record(repo, 1)
    again, created = repo.record_feedback(
        telegram_user_id=ALICE,
        chat_id=ALICE,
        message_id=1,
        update_id=first.update_id,
        text="the app crashes on login",
        language="en",
    )

    assert not created
    assert again == first
    assert repo.customer_tickets(ALICE) == [first]


def test_same_message_under_a_new_update_id_is_stored_once(repo: Repository) -> None:
    first = record(repo, 1)
    again, created = repo.record_feedback(
        telegram_user_id=ALICE,
        chat_id=ALICE,
        message_id=1,
        update_id=999_999,
        text="the app crashes on login",
        language="en",
    )

    assert not created
    assert again.id == first.id
    assert len(repo.customer_tickets(ALICE)) == 1


def test_different_messages_get_different_tickets(repo: Repository) -> None:
    first, second = record(repo, 1), record(repo, 2)
    other_chat_same_message_id = record(repo, 1, user=BOB)

    assert len({first.ticket, second.ticket, other_chat_same_message_id.ticket}) == 3


def test_classification_round_trip(repo: Repository) -> None:
    item = record(repo, 1)
    classified = repo.set_classification(
        item.id,
        predicted_label="product",
        confidence=0.62,
        kind="bug",
        secondary=[LabelScore("service", 0.3), LabelScore("sales", 0.08)],
        model_version="2026-03-01",
        routed_queue="product",
        status="new",
    )

    assert classified.secondary == (LabelScore("service", 0.3), LabelScore("sales", 0.08))
    assert (classified.routed_queue, classified.final_queue) == ("product", "product")
    assert (classified.kind, classified.model_version) == ("bug", "2026-03-01")
    assert repo.get_item(item.id) == classified


def test_routing_to_none_resolves_at_once(repo: Repository) -> None:
    item = record(repo, 1, "thanks, all good!")
    classified = repo.set_classification(
        item.id,
        predicted_label="none",
        confidence=0.93,
        kind="praise",
        secondary=[],
        model_version="m1",
        routed_queue="none",
        status="resolved",
    )

    assert (classified.final_queue, classified.status) == ("none", "resolved")
    assert classified.resolved_at is not None
    assert classified.status_changed_by == "model"
    assert repo.open_items() == []


def test_awaiting_customer_needs_a_choice_deadline(repo: Repository) -> None:
    item = record(repo, 1)
    with pytest.raises(ValueError, match="choice_deadline"):
        repo.set_classification(
            item.id,
            predicted_label="sales",
            confidence=0.4,
            kind=None,
            secondary=[],
            model_version="m1",
            routed_queue="triage",
            status="awaiting_customer",
        )


def test_reclassifying_does_not_undo_a_staff_move(repo: Repository) -> None:
    item = record(repo, 1)
    routed(repo, item, "sales")
    repo.move_item(item.id, to_queue="product", actor=staff_actor(AGENT), source="staff_relabel")
    again = repo.set_classification(
        item.id,
        predicted_label="sales",
        confidence=0.95,
        kind=None,
        secondary=[],
        model_version="m2",
        routed_queue="sales",
        status="new",
    )

    assert (again.final_queue, again.model_version) == ("product", "m2")


def test_items_awaiting_reply_lists_unconfirmed_items_until_marked(repo: Repository) -> None:
    first, second = record(repo, 1), record(repo, 2)
    marked = repo.mark_reply_sent(first.id)

    assert marked.reply_sent_at is not None
    assert [i.id for i in repo.items_awaiting_reply(limit=10)] == [second.id]
    assert repo.items_awaiting_reply(limit=10, received_before=T0) == []
    assert repo.mark_reply_sent(first.id).reply_sent_at == marked.reply_sent_at


def test_staff_message_finds_its_item(repo: Repository) -> None:
    item = record(repo, 1)
    repo.set_staff_message(item.id, -100500, 42)

    found = repo.get_by_staff_message(-100500, 42)
    assert found is not None
    assert (found.id, found.staff_chat_id, found.staff_message_id) == (item.id, -100500, 42)
    assert repo.get_by_staff_message(-100500, 43) is None


def test_customer_edit_applies_only_before_staff_start(repo: Repository) -> None:
    item = record(repo, 1, "crash on login")
    edited = repo.update_text_if_new(ALICE, 1, "crash on login with Google")
    assert edited is not None
    assert edited.text == "crash on login with Google"

    repo.set_status(item.id, "in_progress", staff_actor(AGENT))
    assert repo.update_text_if_new(ALICE, 1, "never mind") is None
    assert repo.update_text_if_new(ALICE, 999, "unknown message") is None
    stored = repo.get_item(item.id)
    assert stored is not None
    assert stored.text == "crash on login with Google"


# --- queues and statuses -----------------------------------------------------------------


def test_move_item_records_who_moved_it_from_where_to_where(repo: Repository) -> None:
    item = record(repo, 1)
    routed(repo, item, "sales")
    moved = repo.move_item(
        item.id,
        to_queue="service",
        actor=staff_actor(AGENT),
        source="staff_relabel",
        reason="refund request",
    )

    assert (moved.final_queue, moved.routed_queue, moved.status) == ("service", "sales", "new")
    [change] = repo.label_changes(item.id)
    assert (change.from_queue, change.to_queue) == ("sales", "service")
    assert (change.actor, change.source, change.reason) == (
        "staff:9001",
        "staff_relabel",
        "refund request",
    )


def test_customer_choice_ends_the_wait(repo: Repository) -> None:
    item = record(repo, 1)
    repo.set_classification(
        item.id,
        predicted_label="sales",
        confidence=0.4,
        kind=None,
        secondary=[],
        model_version="m1",
        routed_queue="triage",
        status="awaiting_customer",
        choice_deadline=T0 + timedelta(hours=1),
    )
    chosen = repo.move_item(item.id, to_queue="product", actor="customer", source="customer_choice")

    assert (chosen.status, chosen.choice_deadline) == ("new", None)
    assert repo.items_awaiting_choice_past(T0 + timedelta(days=1)) == []


def test_moving_to_none_resolves_the_item(repo: Repository) -> None:
    item = record(repo, 1, "hi there")
    routed(repo, item, "triage")
    moved = repo.move_item(item.id, to_queue="none", actor=staff_actor(AGENT), source="staff_relabel")

    assert (moved.final_queue, moved.status) == ("none", "resolved")
    assert moved.resolved_at is not None
    assert repo.open_items() == []


def test_relabelling_a_resolved_item_does_not_reopen_it(repo: Repository) -> None:
    item = record(repo, 1)
    routed(repo, item, "sales")
    repo.set_status(item.id, "resolved", staff_actor(AGENT))
    moved = repo.move_item(item.id, to_queue="product", actor="import", source="import")

    assert (moved.final_queue, moved.status) == ("product", "resolved")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"to_queue": "billing", "actor": "customer", "source": "customer_choice"}, "queue"),
        ({"to_queue": "sales", "actor": "admin", "source": "staff_relabel"}, "actor"),
        ({"to_queue": "sales", "actor": "customer", "source": "whim"}, "source"),
    ],
)
def test_move_item_refuses_unknown_words(repo: Repository, kwargs: dict[str, str], message: str) -> None:
    item = record(repo, 1)
    with pytest.raises(ValueError, match=message):
        repo.move_item(item.id, **kwargs)
    assert repo.label_changes(item.id) == []


def test_moving_a_missing_item_names_its_ticket(repo: Repository) -> None:
    with pytest.raises(NotFound, match="FB-000404"):
        repo.move_item(404, to_queue="sales", actor="customer", source="customer_choice")


def test_resolving_stamps_resolved_at_and_reopening_clears_it(repo: Repository) -> None:
    item = record(repo, 1)
    resolved = repo.set_status(item.id, "resolved", staff_actor(AGENT))
    assert resolved.resolved_at is not None
    assert resolved.status_changed_by == "staff:9001"

    reopened = repo.set_status(item.id, "in_progress", staff_actor(AGENT))
    assert (reopened.status, reopened.resolved_at) == ("in_progress", None)


@pytest.mark.parametrize(
    ("typed", "item_id"),
    [("FB-000123", 123), ("fb-123", 123), ("#FB000123", 123), (" 123 ", 123), ("FB-1", 1)],
)
def test_ticket_numbers_people_type_are_understood(typed: str, item_id: int) -> None:
    assert parse_ticket(typed) == item_id


@pytest.mark.parametrize("typed", ["", "FB-", "FB-0", "FB-12a", "ticket 5", "FB--5"])
def test_malformed_ticket_numbers_are_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="not a ticket number"):
        parse_ticket(typed)


def test_ticket_lookup(repo: Repository) -> None:
    item = record(repo, 1)

    assert item.ticket == f"FB-{item.id:06d}" == format_ticket(item.id)
    assert format_ticket(7) == "FB-000007"
    assert repo.get_by_ticket(item.ticket) == item
    assert repo.get_by_ticket("FB-999999") is None


def test_customer_tickets_show_open_ones_newest_first(repo: Repository) -> None:
    old, new, closed = record(repo, 1), record(repo, 2), record(repo, 3)
    record(repo, 4, user=BOB)
    repo.set_status(closed.id, "resolved", staff_actor(AGENT))

    assert [t.id for t in repo.customer_tickets(ALICE)] == [new.id, old.id]
    assert [t.id for t in repo.customer_tickets(ALICE, open_only=False)] == [
        closed.id,
        new.id,
        old.id,
    ]


def test_open_items_per_queue_oldest_first(repo: Repository) -> None:
    sales_1, product, sales_2 = record(repo, 1), record(repo, 2), record(repo, 3)
    routed(repo, sales_1, "sales")
    routed(repo, product, "product")
    routed(repo, sales_2, "sales")

    assert [i.id for i in repo.open_items("sales")] == [sales_1.id, sales_2.id]
    assert len(repo.open_items()) == 3
    assert [i.id for i in repo.open_items(limit=1)] == [sales_1.id]


def test_search_ignores_case_and_treats_wildcards_literally(repo: Repository) -> None:
    crash = record(repo, 1, "App CRASHES on login")
    discount = record(repo, 2, "is there a 50% discount?")
    chinese = record(repo, 3, "退款太慢了")
    record(repo, 4, None, attachments=(Attachment("photo", "p"),))

    assert [i.id for i in repo.search_feedback("crashes")] == [crash.id]
    assert [i.id for i in repo.search_feedback("50%")] == [discount.id]
    assert repo.search_feedback("5_%") == []
    assert [i.id for i in repo.search_feedback("退款")] == [chinese.id]
    assert repo.search_feedback("   ") == []


def test_overdue_items_are_listed_until_flagged(repo: Repository) -> None:
    old = record(repo, 1, received_at=T0)
    fresh = record(repo, 2, received_at=T0 + timedelta(hours=20))
    routed(repo, old, "service")
    routed(repo, fresh, "service")
    now = T0 + timedelta(hours=25)

    assert [i.id for i in repo.open_items_older_than("service", timedelta(hours=24), now)] == [old.id]
    assert repo.mark_overdue_flagged(old.id) is True
    assert repo.mark_overdue_flagged(old.id) is False
    assert repo.open_items_older_than("service", timedelta(hours=24), now) == []


def test_review_list_is_least_confident_first_and_skips_relabelled(repo: Repository) -> None:
    sure, unsure, middling, relabelled = (record(repo, n) for n in range(1, 5))
    routed(repo, sure, "sales", confidence=0.97)
    routed(repo, unsure, "sales", confidence=0.31)
    routed(repo, middling, "sales", confidence=0.55)
    routed(repo, relabelled, "sales", confidence=0.2)
    repo.move_item(relabelled.id, to_queue="product", actor="staff:1", source="staff_relabel")
    record(repo, 5)  # not classified yet

    assert [i.id for i in repo.items_to_review(limit=10)] == [unsure.id, middling.id, sure.id]


def test_expired_customer_choices_are_listed(repo: Repository) -> None:
    item = record(repo, 1)
    deadline = T0 + timedelta(minutes=30)
    repo.set_classification(
        item.id,
        predicted_label="sales",
        confidence=0.4,
        kind=None,
        secondary=[],
        model_version="m1",
        routed_queue="triage",
        status="awaiting_customer",
        choice_deadline=deadline,
    )

    assert repo.items_awaiting_choice_past(deadline - timedelta(seconds=1)) == []
    [expired] = repo.items_awaiting_choice_past(deadline)
    assert (expired.id, expired.choice_deadline) == (item.id, deadline)


def test_queue_counts_per_final_queue_in_a_half_open_window(repo: Repository) -> None:
    arrivals = [("sales", 0), ("sales", 5), ("product", 23), ("service", 24), ("none", 1)]
    items = []
    for n, (queue, hour) in enumerate(arrivals, start=1):
        items.append(record(repo, n, received_at=T0 + timedelta(hours=hour)))
        routed(repo, items[-1], queue)
    record(repo, 99, received_at=T0)  # never classified: in no queue yet
    repo.move_item(items[0].id, to_queue="service", actor=staff_actor(AGENT), source="import")

    counts = repo.queue_counts(T0, T0 + timedelta(hours=24))

    assert counts == {"sales": 1, "product": 1, "service": 1, "triage": 0, "none": 1}


def test_forget_removes_text_but_keeps_counts(repo: Repository) -> None:
    repo.upsert_customer(ALICE, ALICE, "Alice", "en")
    first = record(repo, 1, "my phone is 555-0100", attachments=(Attachment("photo", "p1"),))
    second = record(repo, 2, "please call me")
    bobs = record(repo, 3, "call me too", user=BOB)
    for item in (first, second, bobs):
        routed(repo, item, "sales")
    window = (T0, T0 + timedelta(days=1))
    before = repo.queue_counts(*window)

    assert repo.forget_customer(ALICE) == 2

    assert repo.queue_counts(*window) == before
    for item_id in (first.id, second.id):
        erased = repo.get_item(item_id)
        assert erased is not None
        assert (erased.text, erased.attachments, erased.final_queue) == (None, (), "sales")
    customer = repo.get_customer(ALICE)
    assert customer is not None
    assert customer.display_name is None
    assert customer.forgotten_at is not None
    assert [i.id for i in repo.search_feedback("call me")] == [bobs.id]
    assert repo.update_text_if_new(ALICE, 1, "my phone is 555-0100") is None
    assert repo.forget_customer(404) == 0


# --- staff and departments ---------------------------------------------------------------


def test_staff_round_trip(repo: Repository) -> None:
    repo.upsert_staff(AGENT, display_name="Wang", role="agent", department="sales")
    updated = repo.upsert_staff(AGENT, display_name="Wang Li", role="lead", department="sales")
    repo.upsert_staff(AGENT + 1, display_name="Gone", role="agent", active=False)

    assert repo.get_staff(AGENT) == updated
    assert (updated.display_name, updated.role, updated.active) == ("Wang Li", "lead", True)
    assert repo.list_staff(department="sales") == [updated]
    assert [s.display_name for s in repo.list_staff(active_only=False)] == ["Gone", "Wang Li"]
    assert repo.get_staff(404) is None


def test_department_round_trip_replaces_all_settings(repo: Repository) -> None:
    repo.upsert_department(
        "sales",
        lead_chat_ids=[1, 2],
        staff_chat_id=-100,
        digest_time="08:30",
        timezone="UTC",
        digest_weekdays=[0],
        response_hours=8,
    )
    sales = repo.upsert_department(
        "sales",
        lead_chat_ids=[3],
        staff_chat_id=None,
        digest_time="09:00",
        timezone="Asia/Shanghai",
        digest_weekdays=[4, 0, 2],
        response_hours=24,
    )

    assert sales.lead_chat_ids == (3,)
    assert sales.digest_weekdays == (0, 2, 4)
    assert (sales.staff_chat_id, sales.timezone) == (None, "Asia/Shanghai")
    assert repo.get_department("sales") == sales
    assert repo.list_departments() == [sales]
    assert repo.get_department("product") is None


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"digest_time": "9:00"}, "HH:MM"),
        ({"digest_time": "24:00"}, "HH:MM"),
        ({"timezone": "Beijing"}, "timezone"),
        ({"digest_weekdays": [7]}, "weekdays"),
        ({"response_hours": 0}, "response_hours"),
    ],
)
def test_department_settings_are_checked(repo: Repository, override: dict[str, object], message: str) -> None:
    settings: dict[str, object] = {
        "lead_chat_ids": [1],
        "staff_chat_id": None,
        "digest_time": "09:00",
        "timezone": "UTC",
        "digest_weekdays": [0],
        "response_hours": 24,
    }
    with pytest.raises(ValueError, match=message):
        repo.upsert_department("sales", **(settings | override))  # type: ignore[arg-type]
    assert repo.get_department("sales") is None


# --- digests -----------------------------------------------------------------------------


def test_a_digest_period_is_claimed_only_once(repo: Repository) -> None:
    period = (T0 - timedelta(days=1), T0)
    run = repo.claim_digest("sales", *period)

    assert run is not None
    assert (run.status, run.attempts, run.late) == ("claimed", 1, False)
    assert repo.claim_digest("sales", *period) is None
    assert repo.claim_digest("product", *period) is not None

    sent = repo.finish_digest(run.id, "sent", [11, 12])
    assert (sent.status, sent.sent_message_ids) == ("sent", (11, 12))
    assert sent.finished_at is not None
    assert repo.claim_digest("sales", *period) is None
    assert repo.last_digest("sales") == sent


def test_a_failed_digest_can_be_claimed_again_a_few_times(repo: Repository) -> None:
    period = (T0 - timedelta(days=1), T0)
    run = repo.claim_digest("sales", *period)
    assert run is not None
    repo.finish_digest(run.id, "failed", error="Forbidden: bot was blocked")

    retry = repo.claim_digest("sales", *period, late=True, max_attempts=2)
    assert retry is not None
    assert (retry.id, retry.status, retry.attempts, retry.late) == (run.id, "claimed", 2, True)
    assert retry.error is None
    repo.finish_digest(retry.id, "failed", error="again")
    assert repo.claim_digest("sales", *period, max_attempts=2) is None


def test_skipped_digests_occupy_their_period(repo: Repository) -> None:
    period = (T0 - timedelta(days=1), T0)
    skipped = repo.record_skipped_digest("service", *period, reason="weekend")

    assert skipped is not None
    assert (skipped.status, skipped.error) == ("skipped", "weekend")
    assert repo.claim_digest("service", *period) is None
    assert repo.record_skipped_digest("service", *period, reason="weekend") is None
    assert repo.last_digest("service", sent_only=True) is None


def test_last_digest_is_the_latest_period(repo: Repository) -> None:
    earlier = repo.claim_digest("sales", T0 - timedelta(days=2), T0 - timedelta(days=1))
    later = repo.claim_digest("sales", T0 - timedelta(days=1), T0)
    assert earlier is not None
    assert later is not None

    assert repo.last_digest("sales") == later
    assert repo.last_digest("product") is None


# --- model versions ----------------------------------------------------------------------


def test_promoting_a_model_makes_it_current(repo: Repository) -> None:
    assert repo.current_model() is None
    first = repo.record_model_version("2026-03-01", "models/2026-03-01", {"macro_f1": 0.81})
    repo.record_model_version("2026-03-08", "models/2026-03-08", {"macro_f1": 0.84})

    assert first.metrics == {"macro_f1": 0.81}
    assert repo.current_model() is None
    promoted = repo.promote_model("2026-03-08")
    assert promoted.promoted_at is not None
    assert repo.current_model() == promoted

    with pytest.raises(ValueError, match="already recorded"):
        repo.record_model_version("2026-03-08", "elsewhere", {})
    with pytest.raises(NotFound, match="2099"):
        repo.promote_model("2099-01-01")
