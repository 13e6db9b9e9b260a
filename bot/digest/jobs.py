"""The digest and overdue-alert jobs in the bot's JobQueue, and the catch-up after downtime."""

from __future__ import annotations

import asyncio
import html
import logging
from datetime import datetime, time, timedelta
from functools import partial
from typing import Any

from telegram import Bot
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackContext, JobQueue

from bot.config import Config, DepartmentConfig
from bot.digest import texts
from bot.digest.builder import build_digest
from bot.digest.content import DigestRequest
from bot.digest.delivery import (
    DeliveryFailed,
    DeliveryReport,
    RetryPolicy,
    call_with_retry,
    deliver_digest,
)
from bot.digest.render import item_line, split_message
from bot.digest.timetable import ON_TIME_GRACE, Clock, Timetable, due_digests, utcnow
from storage.db import make_engine
from storage.digest_queries import OTHER_KIND, DigestQueries, ItemText
from storage.records import DigestRunRecord, FeedbackRecord
from storage.repository import DIGEST_MAX_ATTEMPTS, Repository

_LOGGER = logging.getLogger(__name__)

# After a digest reached nobody for a reason that may pass (network, Telegram 5xx),
# it is tried again this much later, up to the repository's attempt limit.
RETRY_DELAY = timedelta(minutes=10)
# A claim older than this without an outcome belongs to a process that died mid-send.
STALE_CLAIM = timedelta(minutes=30)
# An alert listing hundreds of items is not read; the rest are in /queue.
OVERDUE_LIST_LIMIT = 30


def ptb_weekdays(weekdays: tuple[int, ...]) -> tuple[int, ...]:
    """Config weekdays (0 = Monday) as JobQueue.run_daily wants them (0 = Sunday)."""
    return tuple(sorted((day + 1) % 7 for day in weekdays))


class DigestScheduler:
    """Sends each department's digest exactly once per period and flags overdue items.

    Several bot processes may run one: every period is claimed in the database before
    anything is sent, and the claim's unique key lets only one of them win it.
    """

    def __init__(
        self,
        repository: Repository,
        queries: DigestQueries,
        config: Config,
        *,
        clock: Clock = utcnow,
        policy: RetryPolicy | None = None,
        retry_delay: timedelta = RETRY_DELAY,
    ) -> None:
        self.repository = repository
        self.queries = queries
        self.config = config
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.retry_delay = retry_delay
        self._running: dict[str, asyncio.Lock] = {}

    @property
    def catch_up(self) -> timedelta:
        """How late a missed digest may still be sent."""
        return timedelta(hours=float(self.config.get("digest", "catch_up_hours")))

    # --- digests ---------------------------------------------------------------------

    async def run_due(
        self, department: str, bot: Bot, job_queue: JobQueue[Any] | None = None
    ) -> list[DeliveryReport]:
        """Send the department's digest if one is due now; record missed ones as skipped.

        Called at the digest time, once at start-up (the catch-up) and for retries; the
        database decides what is still to do, so calling it twice is harmless.
        """
        settings = self.config.departments[department]
        if not settings.lead_chat_ids:
            return []
        # One pass per department at a time in this process; other processes are kept
        # out by the claims.
        lock = self._running.setdefault(department, asyncio.Lock())
        async with lock:
            reports = await self._run_due(settings, bot)
        if job_queue is not None and any(report.retryable for report in reports):
            job_queue.run_once(
                self.digest_job,
                when=self.retry_delay,
                data=department,
                name=f"digest-retry:{department}",
                job_kwargs={"misfire_grace_time": None},
            )
        return reports

    async def _run_due(self, settings: DepartmentConfig, bot: Bot) -> list[DeliveryReport]:
        department = settings.name
        now = self.clock()
        last = await asyncio.to_thread(self.repository.last_digest, department)
        if last is not None and last.status == "claimed" and now - last.claimed_at > STALE_CLAIM:
            # Whoever claimed it stopped while sending; some leads may have it, so it is
            # not sent again. The next digest carries on from its period end.
            _LOGGER.warning(
                "%s digest for %s was claimed at %s and never finished; not resent",
                department,
                last.period_end,
                last.claimed_at,
            )
        reports = []
        if last is not None and self._worth_retrying(last, now):
            run = await asyncio.to_thread(
                self.repository.claim_digest,
                department,
                last.period_start,
                last.period_end,
                late=now - last.period_end > ON_TIME_GRACE,
            )
            if run is not None:
                reports.append(await self._send(settings, run, bot, previous_error=last.error))
        due = due_digests(
            Timetable.of(settings), last.period_end if last else None, now, self.catch_up
        )
        skipped = 0
        for period in due:
            if not period.send:
                recorded = await asyncio.to_thread(
                    self.repository.record_skipped_digest,
                    department,
                    period.period_start,
                    period.period_end,
                    reason=period.reason or "missed",
                )
                if recorded is not None:
                    skipped += 1
                    _LOGGER.warning(
                        "%s digest for %s skipped: %s", department, period.period_end, period.reason
                    )
                continue
            run = await asyncio.to_thread(
                self.repository.claim_digest,
                department,
                period.period_start,
                period.period_end,
                late=period.late,
            )
            if run is None:
                continue  # another process has it
            reports.append(await self._send(settings, run, bot, skipped_before=skipped))
        return reports

    def _worth_retrying(self, last: DigestRunRecord, now: datetime) -> bool:
        # A digest that reached some leads is never sent again: they would get it twice.
        return (
            last.status == "failed"
            and not last.sent_message_ids
            and last.attempts < DIGEST_MAX_ATTEMPTS
            and now - last.period_end <= self.catch_up
        )

    async def _send(
        self,
        settings: DepartmentConfig,
        run: DigestRunRecord,
        bot: Bot,
        *,
        skipped_before: int = 0,
        previous_error: str | None = None,
    ) -> DeliveryReport:
        if run.sent_message_ids:
            # Reclaimed a run that another process had meanwhile half-delivered.
            finished = await asyncio.to_thread(
                self.repository.finish_digest,
                run.id,
                "failed",
                run.sent_message_ids,
                previous_error,
            )
            return DeliveryReport(finished, [])
        request = DigestRequest.for_department(
            settings, run.period_start, run.period_end, late=run.late, skipped_before=skipped_before
        )
        try:
            digest = await asyncio.to_thread(build_digest, self.queries, request)
        except Exception as error:
            # The claim must not stay "claimed" forever; failed lets a retry take it.
            _LOGGER.exception("building the %s digest failed", settings.name)
            finished = await asyncio.to_thread(
                self.repository.finish_digest, run.id, "failed", (), f"build failed: {error!r}"
            )
            return DeliveryReport(finished, [])
        report = await deliver_digest(
            bot, self.repository, run, digest, settings.lead_chat_ids, self.policy
        )
        _LOGGER.info(
            "%s digest for %s: %s%s",
            settings.name,
            run.period_end,
            report.run.status,
            f" ({report.run.error})" if report.run.error else "",
        )
        return report

    async def digest_job(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        """JobQueue callback: the department in job.data has a digest due."""
        assert context.job is not None
        department = str(context.job.data)
        try:
            await self.run_due(department, context.bot, context.job_queue)
        except Exception:
            # Logged here so one department's failure never stops the others' jobs.
            _LOGGER.exception("the %s digest job failed", department)

    # --- overdue alerts --------------------------------------------------------------

    async def flag_overdue(self, bot: Bot) -> int:
        """Post newly overdue items of every department to its staff chat; returns how many."""
        now = self.clock()
        flagged = 0
        for settings in self.config.departments.values():
            chat_id = settings.staff_chat_id or int(self.config.get("staff", "triage_chat_id"))
            if not chat_id:
                continue
            items = await asyncio.to_thread(
                self.repository.open_items_older_than,
                settings.name,
                timedelta(hours=settings.response_hours),
                now,
            )
            # Flagging first makes each item alerted once even with several processes;
            # a lost alert is better than the same alert from every process.
            mine = [
                item
                for item in items
                if await asyncio.to_thread(self.repository.mark_overdue_flagged, item.id)
            ]
            if not mine:
                continue
            flagged += len(mine)
            for part in split_message(overdue_message(settings, mine, now)):
                try:
                    await call_with_retry(
                        partial(bot.send_message, chat_id, part, parse_mode=ParseMode.HTML),
                        self.policy,
                        f"overdue alert to chat {chat_id}",
                    )
                except DeliveryFailed as failure:
                    _LOGGER.error("overdue alert for %s not delivered: %s", settings.name, failure)
                    break
        return flagged

    async def overdue_job(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        """JobQueue callback: look for items past their response target."""
        try:
            await self.flag_overdue(context.bot)
        except Exception:
            _LOGGER.exception("the overdue alert job failed")


def overdue_message(
    settings: DepartmentConfig, items: list[FeedbackRecord], now: datetime
) -> str:
    """The staff-chat alert listing newly overdue items, oldest first."""
    language = settings.language
    lines = [
        texts.text(language, "overdue_title").format(
            count=len(items),
            department=html.escape(texts.department_name(language, settings.name)),
            hours=f"{settings.response_hours:g}",
        )
    ]
    for item in items[:OVERDUE_LIST_LIMIT]:
        snippet = ItemText(
            id=item.id,
            kind=item.kind or OTHER_KIND,
            status=item.status,
            created_at=item.created_at,
            text=item.text or "",
        )
        lines.append(item_line(snippet, now, language, key="overdue_item"))
    if len(items) > OVERDUE_LIST_LIMIT:
        more = len(items) - OVERDUE_LIST_LIMIT
        lines.append(texts.text(language, "overdue_more").format(count=more))
    return "\n".join(lines)


def schedule_digests(
    application: Application[Any, Any, Any, Any, Any, Any],
    repository: Repository,
    config: Config,
    *,
    clock: Clock = utcnow,
    queries: DigestQueries | None = None,
    policy: RetryPolicy | None = None,
) -> DigestScheduler:
    """Add the digest, catch-up and overdue-alert jobs to the application's JobQueue.

    `queries` should use the engine the repository uses; without it an engine is made
    from config.database_url. Nothing is read from or stored in application.bot_data.
    """
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError(
            "digests need the JobQueue: install python-telegram-bot[job-queue]"
        )
    if queries is None:
        queries = DigestQueries(make_engine(config.database_url))
    scheduler = DigestScheduler(repository, queries, config, clock=clock, policy=policy)
    # The scheduler's default grace is one second: a busy event loop at the digest time
    # would silently skip the day. Within the catch-up window late is better than never.
    grace = max(int(scheduler.catch_up.total_seconds()), 60)
    for name, settings in config.departments.items():
        if not settings.lead_chat_ids or not settings.weekdays:
            _LOGGER.info("no digest for %s: no lead chats or no weekdays configured", name)
            continue
        timetable = Timetable.of(settings)
        job_queue.run_daily(
            scheduler.digest_job,
            time=time(timetable.at.hour, timetable.at.minute, tzinfo=timetable.zone),
            days=ptb_weekdays(settings.weekdays),
            data=name,
            name=f"digest:{name}",
            job_kwargs={"misfire_grace_time": grace, "coalesce": True},
        )
        # Runs as soon as the application starts, however long start-up took.
        job_queue.run_once(
            scheduler.digest_job,
            when=0,
            data=name,
            name=f"digest-catch-up:{name}",
            job_kwargs={"misfire_grace_time": None},
        )
    interval = timedelta(minutes=float(config.get("digest", "alert_interval_minutes")))
    job_queue.run_repeating(
        scheduler.overdue_job,
        interval=interval,
        first=0,
        name="overdue-alerts",
        job_kwargs={"misfire_grace_time": None, "coalesce": True},
    )
    return scheduler
