"""`feedbot digest`: build a department's digest now, print it, save its chart, maybe send it."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from telegram import Bot

from bot.config import Config
from bot.digest.builder import Digest, build_digest
from bot.digest.content import DigestRequest
from bot.digest.delivery import DeliveryReport, RetryPolicy, deliver_digest
from bot.digest.render import plain_text
from bot.digest.timetable import FIRST_PERIOD, Clock, utcnow
from storage.db import DatabaseUnavailable, SchemaError, check_schema, make_engine
from storage.digest_queries import DigestQueries
from storage.records import DigestRunRecord
from storage.repository import Repository

EXIT_OK = 0
EXIT_NOT_SENT = 1
EXIT_USAGE = 2


def run_digest_command(
    config: Config,
    department: str,
    since: datetime | None = None,
    until: datetime | None = None,
    send: bool = False,
    out_dir: Path | None = None,
    *,
    clock: Clock = utcnow,
    out: TextIO | None = None,
) -> int:
    """Print the digest for [since, until), write its chart to out_dir, and send it if asked.

    until defaults to now and since to the end of the department's last digest (or 24 h
    before until); naive times are in the department's time zone. Sending claims the
    period like the scheduler does, so a period is never sent twice. Returns the exit
    status: 0 done, 1 not (fully) sent, 2 bad arguments or setup.
    """
    out = out or sys.stdout
    if department not in config.departments:
        known = ", ".join(config.departments)
        print(f"unknown department {department!r}; known: {known}", file=sys.stderr)
        return EXIT_USAGE
    settings = config.departments[department]
    zone = ZoneInfo(settings.timezone)
    if send and not config.token:
        print("--send needs the bot token in TELEGRAM_BOT_TOKEN", file=sys.stderr)
        return EXIT_USAGE
    if send and not settings.lead_chat_ids:
        print(f"--send: no lead_chat_ids configured for {department}", file=sys.stderr)
        return EXIT_USAGE
    try:
        engine = make_engine(config.database_url)
        check_schema(engine)
    except (DatabaseUnavailable, SchemaError) as error:
        print(str(error), file=sys.stderr)
        return EXIT_USAGE
    try:
        repository = Repository(engine, clock=clock)
        now = clock()
        end = _aware(until, zone) if until is not None else now
        if end > now:
            print(f"--until {end.astimezone(zone):%Y-%m-%d %H:%M} is in the future", file=sys.stderr)
            return EXIT_USAGE
        start = _aware(since, zone) if since is not None else _default_start(repository, department, end)
        if start >= end:
            print("--since must be before --until", file=sys.stderr)
            return EXIT_USAGE
        request = DigestRequest.for_department(settings, start, end)
        digest = build_digest(DigestQueries(engine), request)
        print("\n\n".join(plain_text(message) for message in digest.messages), file=out)
        if digest.chart_error:
            print(f"chart left out: {digest.chart_error}", file=sys.stderr)
        if out_dir is not None and digest.chart is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / f"digest-{department}-{end.astimezone(zone):%Y%m%d-%H%M}.png"
            path.write_bytes(digest.chart)
            print(f"chart: {path}", file=out)
        if not send:
            return EXIT_OK
        return _send(config, repository, digest, out)
    finally:
        engine.dispose()


def _send(config: Config, repository: Repository, digest: Digest, out: TextIO) -> int:
    request = digest.content.request
    run = repository.claim_digest(request.department, request.period_start, request.period_end)
    if run is None:
        print("not sent: a digest for this period was already sent or is being sent", file=out)
        return EXIT_NOT_SENT
    leads = config.departments[request.department].lead_chat_ids
    report = asyncio.run(_deliver(config, repository, run, digest, leads))
    for lead in report.leads:
        status = lead.error or f"sent ({len(lead.message_ids)} messages)"
        print(f"chat {lead.chat_id}: {status}", file=out)
    return EXIT_OK if report.run.status == "sent" else EXIT_NOT_SENT


async def _deliver(
    config: Config,
    repository: Repository,
    run: DigestRunRecord,
    digest: Digest,
    leads: tuple[int, ...],
) -> DeliveryReport:
    assert config.token is not None
    bot = Bot(
        config.token,
        base_url=str(config.get("telegram", "base_url")),
        base_file_url=str(config.get("telegram", "base_file_url")),
    )
    async with bot:
        return await deliver_digest(bot, repository, run, digest, leads, RetryPolicy())


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=zone) if moment.utcoffset() is None else moment


def _default_start(repository: Repository, department: str, end: datetime) -> datetime:
    last = repository.last_digest(department)
    if last is not None and last.period_end < end:
        return last.period_end
    return end - FIRST_PERIOD

