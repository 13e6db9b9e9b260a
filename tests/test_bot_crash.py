"""Kill the bot with SIGKILL while messages flow: after a restart every message is stored once
and every customer has a reply to each of their messages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.sandbox import SandboxClient
from tests.bot_harness import Feedbot, make_feedbot
from tests.sandbox_fixtures import TEST_TOKEN

ROOT = Path(__file__).resolve().parents[1]
MESSAGES_PER_CUSTOMER = 10
CUSTOMERS = 4


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def write_config(harness: Feedbot, path: Path) -> None:
    """The harness's config as a config.toml the `feedbot run` process reads."""
    lines = []
    for section, values in harness.config.values.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in values.items()]
    for name, department in harness.config.departments.items():
        lines.append(f"[departments.{name}]")
        lines.append(f"staff_chat_id = {department.staff_chat_id}")
        lines.append(f"lead_chat_ids = {toml_value(list(department.lead_chat_ids))}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def start_bot(config_path: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TEST_TOKEN}
    with log.open("ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--verbose", "--config", str(config_path), "run"],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )


def test_sigkill_while_messages_flow_loses_nothing(
    sandbox: SandboxClient, models_dir: Path, tmp_path: Path
) -> None:
    harness = make_feedbot(
        sandbox,
        models_dir,
        f"sqlite:///{tmp_path / 'feedbot.db'}",
        intake={"retry_unanswered_seconds": 1, "rate_limit_per_minute": 1000},
    )
    config_path, log = tmp_path / "config.toml", tmp_path / "bot.log"
    write_config(harness, config_path)
    customers = [harness.customer(f"客户{n}") for n in range(CUSTOMERS)]
    texts = ["送餐太慢了", "价格太贵", "质量很差", "客服不理人", "包装破了"]
    sent: list[tuple[int, int]] = []  # (chat id, message id)

    def customers_write() -> None:
        for number in range(MESSAGES_PER_CUSTOMER):
            for person in customers:
                injected = sandbox.send_message(person.id, f"{texts[number % len(texts)]}（第{number}次）")
                sent.append((injected.chat_id, injected.message_id or 0))
                time.sleep(0.02)

    bot = start_bot(config_path, log)
    try:
        sandbox.wait_for_calls("getMe", 1, timeout=60)
        writer = threading.Thread(target=customers_write)
        writer.start()
        # Kill once the bot is visibly mid-stream: some replies out, more coming.
        deadline = time.monotonic() + 60
        while sandbox.call_count("sendMessage") < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        bot.send_signal(signal.SIGKILL)
        bot.wait(10)
        replies_at_kill = sandbox.call_count("sendMessage")
        writer.join()
        assert replies_at_kill < len(sent), "the bot was killed too late to test anything"

        bot = start_bot(config_path, log)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            answered = {
                (m.chat_id, m.reply_to_message_id)
                for person in customers
                for m in sandbox.messages(person.chat_id)
            }
            if all(message in answered for message in sent):
                break
            time.sleep(0.2)
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(20)

    with harness.engine.connect() as connection:
        rows = connection.execute(text("SELECT chat_id, message_id, reply_sent_at FROM feedback_items")).all()
    stored = Counter((row.chat_id, row.message_id) for row in rows)
    assert sorted(stored) == sorted(sent), "a delivered message is missing from the database"
    assert max(stored.values()) == 1, "a message was stored twice"
    assert all(row.reply_sent_at is not None for row in rows)
    replies = Counter(
        (m.chat_id, m.reply_to_message_id) for person in customers for m in sandbox.messages(person.chat_id)
    )
    missing = [message for message in sent if replies[message] == 0]
    assert not missing, f"customers got no reply to {missing}; log:\n{log.read_text()[-3000:]}"
    # A second reply is possible only for a message whose reply was sent but not yet
    # recorded when the process died: at most the few in flight at that moment.
    doubled = [message for message in sent if replies[message] > 1]
    assert len(doubled) <= CUSTOMERS, doubled
    assert bot.returncode == 0, "the restarted bot did not shut down cleanly on SIGTERM"
    logged = log.read_text()
    assert "getUpdates" in logged  # debug logging of HTTP calls was on...
    assert TEST_TOKEN not in logged  # ...and the token never appeared in it
