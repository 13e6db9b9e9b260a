"""Concurrent writers (threads and processes) store each update once and claim each digest once."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pytest
from sqlalchemy import func, select

from storage.db import make_engine, upgrade
from storage.models import Customer, FeedbackItem
from storage.repository import Repository

UPDATES = 200
CUSTOMERS = 10
TIMEOUT_S = 60


class Update(NamedTuple):
    """The parts of a Telegram update the intake handler stores."""

    update_id: int
    user_id: int
    message_id: int


def updates(update_id_offset: int = 0) -> list[Update]:
    """The same 200 messages from 10 customers; an offset redelivers them under new update ids."""
    return [Update(10_000 + n + update_id_offset, 500 + n % CUSTOMERS, n) for n in range(UPDATES)]


def record_all(repo: Repository, batch: list[Update]) -> list[int]:
    """Record every update; return the ids of the items this caller created."""
    created_ids = []
    for update in batch:
        item, created = repo.record_feedback(
            telegram_user_id=update.user_id,
            chat_id=update.user_id,
            message_id=update.message_id,
            update_id=update.update_id,
            text=f"message {update.message_id}",
            language="zh",
        )
        if created:
            created_ids.append(item.id)
    return created_ids


def record_in_process(url: str, update_id_offset: int, start: Any, results: Any) -> None:
    """Process entry point: wait for the other process, then record all updates."""
    engine = make_engine(url)
    try:
        start.wait(TIMEOUT_S)
        results.put(record_all(Repository(engine), updates(update_id_offset)))
    finally:
        engine.dispose()


def assert_each_message_stored_once(url: str, created_per_writer: list[list[int]]) -> None:
    """Check the writers together created each message exactly once, and nothing else."""
    created = [item_id for ids in created_per_writer for item_id in ids]
    assert len(created) == UPDATES
    assert len(set(created)) == UPDATES
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                select(FeedbackItem.message_id, func.count()).group_by(FeedbackItem.message_id)
            ).all()
            customers = connection.execute(select(func.count()).select_from(Customer)).scalar()
    finally:
        engine.dispose()
    assert sorted(stored) == [(n, 1) for n in range(UPDATES)]
    assert customers == CUSTOMERS


@pytest.mark.parametrize("second_offset", [0, 1_000_000], ids=["same-update", "new-update-id"])
def test_two_threads_store_each_update_once(db_url: str, repo: Repository, second_offset: int) -> None:
    # Both threads share one Repository, as the bot's worker threads do.
    start = threading.Barrier(2)

    def writer(offset: int) -> list[int]:
        start.wait(TIMEOUT_S)
        return record_all(repo, updates(offset))

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(writer, 0), pool.submit(writer, second_offset)]
        results = [future.result(timeout=TIMEOUT_S) for future in futures]

    assert_each_message_stored_once(db_url, results)


@pytest.mark.slow
def test_two_processes_store_each_update_once(db_url: str) -> None:
    upgrade(db_url)
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    results = context.Queue()
    processes = [
        context.Process(target=record_in_process, args=(db_url, 0, start, results)) for _ in range(2)
    ]
    for process in processes:
        process.start()
    try:
        created_per_process = [results.get(timeout=TIMEOUT_S) for _ in processes]
    finally:
        for process in processes:
            process.join(TIMEOUT_S)
            if process.is_alive():
                process.kill()
    assert [process.exitcode for process in processes] == [0, 0]

    assert_each_message_stored_once(db_url, created_per_process)


def test_concurrent_digest_claims_yield_one_run(repo: Repository) -> None:
    period_end = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    start = threading.Barrier(4)

    def claim(_: int) -> bool:
        start.wait(TIMEOUT_S)
        return repo.claim_digest("sales", period_end - timedelta(days=1), period_end) is not None

    with ThreadPoolExecutor(max_workers=4) as pool:
        claimed = list(pool.map(claim, range(4), timeout=TIMEOUT_S))

    assert claimed.count(True) == 1
