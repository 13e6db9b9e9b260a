"""Benchmark: one department's digest (content + chart) over 100,000 feedback items in 30 days.

Fills a throwaway SQLite file and/or PostgreSQL database with bulk inserts, then builds
the digest in a fresh child process and reports wall time and peak memory:

    .venv/bin/python bench/digest.py                      # SQLite and PostgreSQL
    .venv/bin/python bench/digest.py --backend sqlite --items 20000

"cold" includes the child's imports and jieba's dictionary load (a CLI run); "warm" is a
second build in the same process (the running bot, where both are already loaded).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, make_url, text
from sqlalchemy.pool import NullPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.db import make_engine, upgrade
from storage.models import Customer, FeedbackItem, LabelChange

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ROOT / "training_data" / "labeled.jsonl"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_DATABASE = "feedbot_bench"
TARGET_SECONDS = 5.0
TARGET_MB = 300.0
# Roughly the mix the classifier produces: most feedback lands in a department.
QUEUE_WEIGHTS = {"sales": 35, "product": 30, "service": 25, "triage": 5, "none": 5}
OPEN_STATUSES = ("new", "in_progress", "awaiting_customer")
BATCH = 10_000


def load_texts() -> list[tuple[str, str]]:
    """(text, kind) pairs from the labeled training data, as realistic feedback."""
    pairs = []
    with TEXTS.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            pairs.append((row["text"], row.get("kind") or "other"))
    return pairs


def fill(url: str, items: int, days: int, end: datetime, seed: int = 7) -> float:
    """Migrate and bulk-insert `items` feedback items spread over `days` before `end`."""
    started = time.perf_counter()
    upgrade(url)
    engine = make_engine(url)
    rng = random.Random(seed)
    # Texts are drawn from their own generator, so edits to the training data do not
    # change which queues, kinds and times the items get.
    text_rng = random.Random(seed)
    texts = load_texts()
    queues, weights = zip(*QUEUE_WEIGHTS.items(), strict=True)
    customers = max(items // 5, 1)
    span = days * 86_400
    with engine.begin() as connection:
        connection.execute(
            insert(Customer),
            [
                {
                    "id": n,
                    "telegram_user_id": 10_000 + n,
                    "chat_id": 10_000 + n,
                    "display_name": None,
                    "language": "zh",
                    "created_at": end - timedelta(days=days + 1),
                }
                for n in range(1, customers + 1)
            ],
        )
        moves = []
        for first in range(1, items + 1, BATCH):
            rows = []
            for n in range(first, min(first + BATCH, items + 1)):
                created = end - timedelta(seconds=rng.uniform(0, span))
                queue = rng.choices(queues, weights)[0]
                body, kind = texts[text_rng.randrange(len(texts))]
                if n % 50 == 0:
                    body += f" 电话1{rng.randint(3, 9)}{rng.randint(10**8, 10**9 - 1)}"
                resolved = rng.random() < 0.6
                resolved_at = created + timedelta(hours=rng.uniform(1, 72)) if resolved else None
                if resolved_at is not None and resolved_at > end:
                    resolved, resolved_at = False, None
                rows.append(
                    {
                        "id": n,
                        "customer_id": rng.randint(1, customers),
                        "chat_id": 10_000 + n,
                        "message_id": n,
                        "update_id": n,
                        "text": None if n % 200 == 0 else body,  # a few /forget-ten texts
                        "attachments": [],
                        "kind": kind,
                        "predicted_label": queue,
                        "confidence": 0.9,
                        "secondary": [],
                        "model_version": "bench",
                        "routed_queue": queue,
                        "final_queue": queue,
                        "status": "resolved" if resolved else rng.choice(OPEN_STATUSES),
                        "language": "zh",
                        "created_at": created,
                        "updated_at": resolved_at or created,
                        "resolved_at": resolved_at,
                    }
                )
                if n % 100 == 0 and queue in ("sales", "product", "service"):
                    moves.append(
                        {
                            "item_id": n,
                            "actor": "staff:1",
                            "source": "staff_relabel",
                            "from_queue": rng.choice(["sales", "product", "service", "triage"]),
                            "to_queue": queue,
                            "created_at": created + timedelta(minutes=30),
                        }
                    )
            connection.execute(insert(FeedbackItem), rows)
        connection.execute(insert(LabelChange), moves)
    engine.dispose()
    return time.perf_counter() - started


def measure(url: str, department: str, end_iso: str, queue: Any) -> None:
    """In a fresh child process: build the digest twice and report times and memory."""
    started = time.perf_counter()
    cpu_started = time.process_time()
    from bot.digest.builder import build_digest
    from bot.digest.content import DigestRequest
    from storage.digest_queries import DigestQueries

    engine = make_engine(url)
    end = datetime.fromisoformat(end_iso)
    request = DigestRequest(
        department=department,
        language="zh",
        timezone="Asia/Shanghai",
        response_hours=24,
        period_start=end - timedelta(hours=24),
        period_end=end,
    )
    queries = DigestQueries(engine)
    digest = build_digest(queries, request)
    cold = time.perf_counter() - started
    cold_cpu = time.process_time() - cpu_started
    started = time.perf_counter()
    cpu_started = time.process_time()
    build_digest(queries, request)
    warm = time.perf_counter() - started
    warm_cpu = time.process_time() - cpu_started
    # A third build under tracemalloc, which slows Python down too much to time it.
    tracemalloc.start()
    build_digest(queries, request)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    engine.dispose()
    queue.put(
        {
            "cold_s": cold,
            "warm_s": warm,
            # CPU time of this process: on a busy machine wall time also counts waiting
            # for a core (database server time is in neither).
            "cold_cpu_s": cold_cpu,
            "warm_cpu_s": warm_cpu,
            # ru_maxrss is in KiB on Linux: the whole child, interpreter and libraries included.
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "warm_python_peak_mb": traced_peak / 2**20,
            "new": digest.content.current.new,
            "texts_read": digest.content.texts_read,
            "themes": [t.keyword for t in digest.content.themes],
            "chart_kb": len(digest.chart or b"") / 1024,
            "messages": len(digest.messages),
        }
    )


def run_child(url: str, department: str, end: datetime) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=measure, args=(url, department, end.isoformat(), queue))
    child.start()
    result: dict[str, Any] = queue.get(timeout=300)
    child.join()
    return result


def bench(label: str, url: str, args: argparse.Namespace, end: datetime) -> bool:
    filled = fill(url, args.items, args.days, end)
    print(f"[{label}] filled {args.items:,} items over {args.days} days in {filled:.1f} s")
    result = run_child(url, args.department, end)
    ok = result["cold_s"] < TARGET_SECONDS and result["peak_rss_mb"] < TARGET_MB
    print(
        f"[{label}] {args.department} digest: {result['new']:,} new items, "
        f"{result['texts_read']:,} texts read, {result['messages']} message(s), "
        f"chart {result['chart_kb']:.0f} KiB, themes {', '.join(result['themes'])}"
    )
    print(
        f"[{label}] wall time cold {result['cold_s']:.2f} s, warm {result['warm_s']:.2f} s "
        f"(CPU {result['cold_cpu_s']:.2f} s, {result['warm_cpu_s']:.2f} s); "
        f"peak RSS {result['peak_rss_mb']:.0f} MB, warm Python peak "
        f"{result['warm_python_peak_mb']:.1f} MB -> "
        f"{'OK' if ok else 'OVER'} (targets {TARGET_SECONDS:g} s, {TARGET_MB:g} MB)"
    )
    return ok


def bench_postgres(args: argparse.Namespace, end: datetime) -> bool:
    admin_url = make_url(args.postgres_url)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    url = admin_url.set(database=BENCH_DATABASE).render_as_string(hide_password=False)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
        return bench("postgresql", url, args, end)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--department", default="sales")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    end = datetime(2024, 5, 14, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    ok = True
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as directory:
            ok &= bench("sqlite", f"sqlite:///{Path(directory) / 'bench.db'}", args, end)
    if args.backend in ("postgres", "both"):
        ok &= bench_postgres(args, end)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
