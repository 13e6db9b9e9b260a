"""Digest jobs end to end: real PTB JobQueue, real HTTP to the sandbox, real database, moved clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine
from telegram.ext import Application

from bot.config import Config, parse_config
from bot.digest.delivery import RetryPolicy
from bot.digest.jobs import DigestScheduler, ptb_weekdays, schedule_digests
from bot.sandbox import SandboxClient, SentMessage
from storage.db import make_engine, upgrade
from storage.digest_queries import DigestQueries
from storage.repository import Repository
from tests.sandbox_fixtures import TEST_TOKEN, build_test_application
from tests.test_digest_content import Clock, Feedback

# Tuesday 14 May 2024. 01:00 UTC is 09:00 in Shanghai and 03:00 in Berlin (summer time).
DIGEST_AT = datetime(2024, 5, 14, 1, 0, tzinfo=UTC)
SALES_LEADS = (101, 102)
PRODUCT_LEAD = 201
SERVICE_LEAD = 301
SALES_STAFF_CHAT = -1001
TRIAGE_CHAT = -1009
# Retries in milliseconds, so a test exercising them stays fast.
FAST_RETRIES = RetryPolicy(attempts=3, first_delay=0.05, max_delay=0.2, max_retry_after=5)
WAIT = 15.0

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def make_config(db_url: str, *, sales_leads: tuple[int, ...] = SALES_LEADS) -> Config:
    """Three departments: sales at 09:00 Shanghai (zh), product at 03:00 Berlin (en),
    and service only at weekends (so not on the Tuesday of these tests)."""
    raw = {
        "database": {"url": db_url},
        "digest": {"catch_up_hours": 12, "alert_interval_minutes": 60},
        "staff": {"triage_chat_id": TRIAGE_CHAT},
        "departments": {
            "sales": {
                "lead_chat_ids": list(sales_leads),
                "staff_chat_id": SALES_STAFF_CHAT,
                "digest_time": "09:00",
                "timezone": "Asia/Shanghai",
                "language": "zh",
                "response_hours": 24,
            },
            "product": {
                "lead_chat_ids": [PRODUCT_LEAD],
                "digest_time": "03:00",
                "timezone": "Europe/Berlin",
                "language": "en",
                "response_hours": 8,
            },
            "service": {
                "lead_chat_ids": [SERVICE_LEAD],
                "digest_time": "09:00",
                "timezone": "Asia/Shanghai",
                "weekdays": [5, 6],
            },
        },
    }
    return parse_config(raw, "test", env={"TELEGRAM_BOT_TOKEN": TEST_TOKEN})


@dataclass
class World:
    """One database with feedback in it, the sandbox with the leads, and the config."""

    db_url: str
    config: Config
    sandbox: SandboxClient
    engines: list[Engine]

    def repository(self) -> tuple[Repository, DigestQueries]:
        """A new engine on the shared database, as a separate bot process would have."""
        engine = make_engine(self.db_url)
        self.engines.append(engine)
        return Repository(engine), DigestQueries(engine)

    def application(self) -> tuple[AnyApplication, DigestScheduler]:
        """A bot process: its own Application, engine and digest jobs."""
        app = build_test_application(self.sandbox).build()
        repository, queries = self.repository()
        scheduler = schedule_digests(app, repository, self.config, queries=queries, policy=FAST_RETRIES)
        return app, scheduler

    def digests(self, chat_id: int) -> list[SentMessage]:
        """The first message of every digest the chat received."""
        return [m for m in self.sandbox.messages(chat_id) if (m.text or "")[:1] in ("📊", "📭")]

    def photos(self, chat_id: int) -> list[SentMessage]:
        """The chart photos the chat received."""
        return [m for m in self.sandbox.messages(chat_id) if m.method == "sendPhoto"]


def add_feedback(db_url: str) -> None:
    """A little feedback for sales and product in the day before DIGEST_AT."""
    engine = make_engine(db_url)
    clock = Clock(DIGEST_AT)
    feedback = Feedback(Repository(engine, clock=clock), clock)
    for hours, text in [(20, "退款三天了还没到账"), (10, "退款申请没人处理"), (5, "快递太慢")]:
        feedback.add("sales", "complaint", text, DIGEST_AT - timedelta(hours=hours))
    for hours, text in [(9, "The app crashes on login"), (3, "Please add dark mode")]:
        feedback.add("product", "suggestion", text, DIGEST_AT - timedelta(hours=hours), language="en")
    engine.dispose()


def make_world(db_url: str, sandbox: SandboxClient, **config: Any) -> Iterator[World]:
    upgrade(db_url)
    add_feedback(db_url)
    for lead in (*SALES_LEADS, 103, PRODUCT_LEAD, SERVICE_LEAD):
        sandbox.create_user(lead, first_name=f"Lead {lead}")
    sandbox.create_group("Sales staff", chat_id=SALES_STAFF_CHAT)
    sandbox.create_group("Triage", chat_id=TRIAGE_CHAT)
    world = World(db_url, make_config(db_url, **config), sandbox, [])
    yield world
    for engine in world.engines:
        engine.dispose()


@pytest.fixture
def world(tmp_path: Path, sandbox: SandboxClient) -> Iterator[World]:
    """SQLite file database, sandbox and config (most scenarios need only one backend)."""
    yield from make_world(f"sqlite:///{tmp_path / 'feedbot.db'}", sandbox)


@pytest.fixture
def shared_world(db_url: str, sandbox: SandboxClient) -> Iterator[World]:
    """The same, once on SQLite and once on PostgreSQL."""
    yield from make_world(db_url, sandbox)


@asynccontextmanager
async def running(app: AnyApplication) -> AsyncIterator[None]:
    """The application started (job queue running), without polling for updates."""
    async with app:
        await app.start()
        try:
            yield
        finally:
            await app.stop()


async def wait_for_photos(sandbox: SandboxClient, count: int) -> None:
    """Wait until `count` charts went out, then a little longer to catch any extra send."""
    await sandbox.wait_for_calls_async("sendPhoto", count, timeout=WAIT)
    await asyncio.sleep(0.5)


def sent_at(message: SentMessage) -> datetime:
    return datetime.fromtimestamp(message.date, UTC)


# --- scheduling ------------------------------------------------------------------------


async def test_each_lead_gets_one_digest_at_their_local_time(world: World) -> None:
    with time_machine.travel(DIGEST_AT - timedelta(seconds=1), tick=True):
        app, _ = world.application()
        async with running(app):
            await wait_for_photos(world.sandbox, 3)

    for lead in SALES_LEADS:
        [digest] = world.digests(lead)
        assert digest.text is not None and digest.text.startswith("📊 销售部日报 · 5月14日（周二）09:00")
        assert len(world.photos(lead)) == 1
        assert DIGEST_AT <= sent_at(digest) < DIGEST_AT + timedelta(seconds=5)
    [product] = world.digests(PRODUCT_LEAD)
    assert product.text is not None and product.text.startswith("📊 Product digest · Tue 14 May 03:00")
    assert world.digests(SERVICE_LEAD) == []
    repository, _ = world.repository()
    run = repository.last_digest("sales")
    assert run is not None
    assert (run.status, run.late, run.period_end) == ("sent", False, DIGEST_AT)
    assert run.period_start == DIGEST_AT - timedelta(hours=24)
    assert len(run.sent_message_ids) == 4  # text and chart, to each of two leads


async def test_restart_just_after_the_digest_sends_nothing_again(world: World) -> None:
    with time_machine.travel(DIGEST_AT - timedelta(seconds=1), tick=True):
        first, _ = world.application()
        async with running(first):
            await wait_for_photos(world.sandbox, 3)
        # The restarted process catches up at once: the database says it is done.
        second, _ = world.application()
        async with running(second):
            await asyncio.sleep(1.0)

    for lead in (*SALES_LEADS, PRODUCT_LEAD):
        assert len(world.digests(lead)) == 1
        assert len(world.photos(lead)) == 1


async def test_restart_during_the_digest_minute_sends_it_on_time(world: World) -> None:
    with time_machine.travel(DIGEST_AT - timedelta(seconds=3), tick=True) as traveller:
        first, _ = world.application()
        async with running(first):
            await asyncio.sleep(0.5)
        # Down across 09:00:00, back a few seconds later: the catch-up sends it, not late.
        traveller.move_to(DIGEST_AT + timedelta(seconds=20))
        second, _ = world.application()
        async with running(second):
            await wait_for_photos(world.sandbox, 3)

    for lead in (*SALES_LEADS, PRODUCT_LEAD):
        [digest] = world.digests(lead)
        assert digest.text is not None and "⏰" not in digest.text
    repository, _ = world.repository()
    run = repository.last_digest("sales")
    assert run is not None and (run.status, run.late) == ("sent", False)


@pytest.mark.postgres
async def test_two_schedulers_sharing_one_database_send_once(shared_world: World) -> None:
    world = shared_world
    with time_machine.travel(DIGEST_AT - timedelta(seconds=1), tick=True):
        first, _ = world.application()
        second, _ = world.application()
        async with running(first), running(second):
            await wait_for_photos(world.sandbox, 3)

    for lead in (*SALES_LEADS, PRODUCT_LEAD):
        assert len(world.digests(lead)) == 1
        assert len(world.photos(lead)) == 1


async def test_downtime_over_digest_time_gives_one_late_digest_after_restart(
    world: World,
) -> None:
    repository, _ = world.repository()
    yesterday = DIGEST_AT - timedelta(days=1)
    for department in ("sales", "product"):
        run = repository.claim_digest(department, yesterday - timedelta(days=1), yesterday)
        assert run is not None
        repository.finish_digest(run.id, "sent", [1])

    # Down from before 09:00 until 11:30 Shanghai time.
    with time_machine.travel(DIGEST_AT + timedelta(hours=2, minutes=30), tick=True):
        app, _ = world.application()
        async with running(app):
            await wait_for_photos(world.sandbox, 3)

    for lead in SALES_LEADS:
        [digest] = world.digests(lead)
        assert digest.text is not None
        assert "⏰ 补发：09:00 时机器人未运行，这份日报晚到了。" in digest.text
    [product] = world.digests(PRODUCT_LEAD)
    assert product.text is not None and "Sent late: the bot was not running at 03:00." in product.text
    run = repository.last_digest("sales")
    assert run is not None
    assert (run.status, run.late, run.period_start, run.period_end) == (
        "sent",
        True,
        yesterday,
        DIGEST_AT,
    )


async def test_digests_missed_for_days_are_recorded_as_skipped_and_the_newest_sent_late(
    world: World,
) -> None:
    repository, queries = world.repository()
    three_days_ago = DIGEST_AT - timedelta(days=3)
    run = repository.claim_digest("sales", three_days_ago - timedelta(days=1), three_days_ago)
    assert run is not None
    repository.finish_digest(run.id, "sent", [1])
    scheduler = DigestScheduler(
        repository,
        queries,
        world.config,
        clock=lambda: DIGEST_AT + timedelta(hours=1),
        policy=FAST_RETRIES,
    )
    app = build_test_application(world.sandbox).build()

    async with app:
        [report] = await scheduler.run_due("sales", app.bot)

    assert (report.run.status, report.run.late) == ("sent", True)
    assert report.run.period_start == DIGEST_AT - timedelta(days=1)
    [digest] = world.digests(SALES_LEADS[0])
    assert digest.text is not None and "此前有 2 份日报因机器人未运行而未发送。" in digest.text
    # Both missed periods are recorded (as skipped), so nobody can claim them any more.
    for days in (1, 2):
        end = DIGEST_AT - timedelta(days=days)
        assert repository.claim_digest("sales", end - timedelta(days=1), end) is None


async def test_a_digest_missed_by_more_than_the_catch_up_window_is_skipped(
    world: World,
) -> None:
    repository, queries = world.repository()
    yesterday = DIGEST_AT - timedelta(days=1)
    run = repository.claim_digest("sales", yesterday - timedelta(days=1), yesterday)
    assert run is not None
    repository.finish_digest(run.id, "sent", [1])
    scheduler = DigestScheduler(
        repository, queries, world.config, clock=lambda: DIGEST_AT + timedelta(hours=13)
    )
    app = build_test_application(world.sandbox).build()

    async with app:
        reports = await scheduler.run_due("sales", app.bot)

    assert reports == []
    assert world.digests(SALES_LEADS[0]) == []
    last = repository.last_digest("sales")
    assert last is not None
    assert (last.status, last.period_end) == ("skipped", DIGEST_AT)
    assert last.error == "missed by more than the 12 h catch-up window"


# --- delivery failures -----------------------------------------------------------------


def scheduler_at(world: World, moment: datetime) -> DigestScheduler:
    repository, queries = world.repository()
    return DigestScheduler(repository, queries, world.config, clock=lambda: moment, policy=FAST_RETRIES)


async def test_a_lead_who_blocked_the_bot_does_not_stop_the_others(
    tmp_path: Path, sandbox: SandboxClient
) -> None:
    [world] = make_world(f"sqlite:///{tmp_path / 'feedbot.db'}", sandbox, sales_leads=(101, 102, 103))
    sandbox.block_bot(102)
    scheduler = scheduler_at(world, DIGEST_AT + timedelta(seconds=5))
    app = build_test_application(sandbox).build()

    async with app:
        [report] = await scheduler.run_due("sales", app.bot)
        # Running again (a retry, a restart) must not send it twice to 101 and 103.
        assert await scheduler.run_due("sales", app.bot) == []

    assert [len(world.digests(lead)) for lead in (101, 102, 103)] == [1, 0, 1]
    assert [len(world.photos(lead)) for lead in (101, 102, 103)] == [1, 0, 1]
    assert report.run.status == "failed"
    assert report.run.error == (
        "chat 102: Forbidden: Forbidden: bot was blocked by the user (delivered to 2 of 3 leads; not retried)"
    )
    assert len(report.run.sent_message_ids) == 4


async def test_flood_control_and_server_errors_are_retried(world: World) -> None:
    world.sandbox.fail_with_429("sendMessage", retry_after=1)
    world.sandbox.fail_with_500("sendPhoto", count=2)
    scheduler = scheduler_at(world, DIGEST_AT + timedelta(seconds=5))
    app = build_test_application(world.sandbox).build()

    async with app:
        [report] = await scheduler.run_due("sales", app.bot)

    assert report.run.status == "sent" and report.run.error is None
    assert [len(world.digests(lead)) for lead in SALES_LEADS] == [1, 1]
    assert [len(world.photos(lead)) for lead in SALES_LEADS] == [1, 1]
    statuses = [entry["status"] for entry in world.sandbox.requests()]
    assert statuses.count(429) == 1 and statuses.count(500) == 2


async def test_a_digest_nobody_received_is_retried_later(world: World) -> None:
    scheduler = scheduler_at(world, DIGEST_AT + timedelta(seconds=5))
    app = build_test_application(world.sandbox).build()

    async with app:
        # Telegram is down for longer than one delivery's retries.
        world.sandbox.add_fault("500", method="*", count=2 * FAST_RETRIES.attempts)
        [failed] = await scheduler.run_due("sales", app.bot, app.job_queue)
        assert app.job_queue is not None
        [retry] = app.job_queue.get_jobs_by_name("digest-retry:sales")
        world.sandbox.clear_faults()
        scheduler.clock = lambda: DIGEST_AT + timedelta(minutes=10)
        [retried] = await scheduler.run_due("sales", app.bot)

    assert failed.run.status == "failed" and failed.run.sent_message_ids == ()
    assert "NetworkError" in (failed.run.error or "")
    assert retry.data == "sales"
    assert (retried.run.status, retried.run.attempts, retried.run.late) == ("sent", 2, True)
    assert [len(world.digests(lead)) for lead in SALES_LEADS] == [1, 1]


# --- overdue alerts --------------------------------------------------------------------


async def test_overdue_items_are_flagged_once_in_the_staff_chat(world: World) -> None:
    engine = make_engine(world.db_url)
    world.engines.append(engine)
    clock = Clock(DIGEST_AT)
    feedback = Feedback(Repository(engine, clock=clock), clock)
    old = feedback.add("sales", "complaint", "电话13812345678，三天没人理", DIGEST_AT - timedelta(hours=30))
    scheduler = scheduler_at(world, DIGEST_AT)
    app = build_test_application(world.sandbox).build()

    async with app:
        first = await scheduler.flag_overdue(app.bot)
        second = await scheduler.flag_overdue(app.bot)

    # Sales: the 30-hour-old item (its 20-hour-old items are within 24 h). Product has an
    # 8 h target and no staff chat, so its 9-hour-old item goes to the triage chat.
    assert (first, second) == (2, 0)
    [sales_alert] = world.sandbox.messages(SALES_STAFF_CHAT)
    assert sales_alert.text == (
        "⏰ 1 条销售部反馈超过 24 小时响应目标\n"
        f"• {old.ticket} · 已等待 1天6小时 · 投诉 · 「电话〔电话〕，三天没人理」"
    )
    [triage_alert] = world.sandbox.messages(TRIAGE_CHAT)
    assert triage_alert.text is not None
    assert triage_alert.text.startswith("⏰ 1 Product item(s) past the 8 h response target\n")


# --- wiring ----------------------------------------------------------------------------


def test_config_weekdays_become_job_queue_days() -> None:
    # Config counts from Monday = 0; the JobQueue from Sunday = 0.
    assert ptb_weekdays((0, 1, 2, 3, 4)) == (1, 2, 3, 4, 5)
    assert ptb_weekdays((5, 6)) == (0, 6)


async def test_jobs_are_registered_per_department_with_leads(world: World) -> None:
    app, _ = world.application()
    assert app.job_queue is not None

    names = sorted(job.name or "" for job in app.job_queue.jobs())

    assert names == [
        "digest-catch-up:product",
        "digest-catch-up:sales",
        "digest-catch-up:service",
        "digest:product",
        "digest:sales",
        "digest:service",
        "overdue-alerts",
    ]
