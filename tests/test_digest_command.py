"""`feedbot digest`: prints the digest, saves the chart and sends it through real HTTP."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.config import Config, parse_config
from bot.digest.command import EXIT_NOT_SENT, EXIT_OK, EXIT_USAGE, run_digest_command
from bot.sandbox import SandboxClient
from storage.db import make_engine, upgrade
from storage.repository import Repository
from tests.sandbox_fixtures import TEST_TOKEN
from tests.test_digest_jobs import DIGEST_AT, add_feedback

LEAD = 101


@pytest.fixture
def db_file(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'feedbot.db'}"
    upgrade(url)
    add_feedback(url)
    return url


def command_config(db_url: str, sandbox: SandboxClient | None = None) -> Config:
    telegram = (
        {"base_url": f"{sandbox.base_url}/bot", "base_file_url": f"{sandbox.base_url}/file/bot"}
        if sandbox
        else {}
    )
    raw = {
        "database": {"url": db_url},
        "telegram": telegram,
        "departments": {"sales": {"lead_chat_ids": [LEAD], "timezone": "Asia/Shanghai"}},
    }
    return parse_config(raw, "test", env={"TELEGRAM_BOT_TOKEN": TEST_TOKEN})


def now() -> datetime:
    return DIGEST_AT + timedelta(hours=1)


def test_prints_the_digest_and_writes_the_chart(db_file: str, tmp_path: Path) -> None:
    out = io.StringIO()

    status = run_digest_command(
        command_config(db_file),
        "sales",
        datetime(2024, 5, 13, 9, 0),  # naive: Shanghai time, like the department
        datetime(2024, 5, 14, 9, 0),
        False,
        tmp_path / "charts",
        clock=now,
        out=out,
    )

    assert status == EXIT_OK
    printed = out.getvalue()
    assert printed.startswith("📊 销售部日报 · 5月14日（周二）09:00\n")
    assert "• 新增：3（较上期 +3；近7日日均 0.4）" in printed
    chart = tmp_path / "charts" / "digest-sales-20240514-0900.png"
    assert f"chart: {chart}" in printed
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_send_delivers_once_and_refuses_the_same_period_again(
    db_file: str, tmp_path: Path, sandbox: SandboxClient
) -> None:
    sandbox.create_user(LEAD, first_name="Lead")
    config = command_config(db_file, sandbox)
    out = io.StringIO()

    first = run_digest_command(config, "sales", None, DIGEST_AT, True, None, clock=now, out=out)
    second = run_digest_command(config, "sales", None, DIGEST_AT, True, None, clock=now, out=out)

    assert (first, second) == (EXIT_OK, EXIT_NOT_SENT)
    assert f"chat {LEAD}: sent (2 messages)" in out.getvalue()
    assert "not sent: a digest for this period was already sent" in out.getvalue()
    assert [m.method for m in sandbox.messages(LEAD)] == ["sendMessage", "sendPhoto"]


def test_default_period_starts_where_the_last_digest_ended(db_file: str) -> None:
    engine = make_engine(db_file)
    repository = Repository(engine)
    run = repository.claim_digest("sales", DIGEST_AT - timedelta(hours=30), DIGEST_AT - timedelta(hours=12))
    assert run is not None
    repository.finish_digest(run.id, "sent", [1])
    engine.dispose()
    out = io.StringIO()

    status = run_digest_command(
        command_config(db_file), "sales", None, DIGEST_AT, False, None, out=out, clock=now
    )

    assert status == EXIT_OK

    # Only the two items of the last 12 hours.
    assert "统计时段：5月13日（周一）21:00 – 5月14日（周二）09:00" in out.getvalue()
    assert "• 新增：2" in out.getvalue()


@pytest.mark.parametrize(
    ("department", "since", "until", "message"),
    [
        ("billing", None, None, "unknown department 'billing'"),
        ("sales", None, DIGEST_AT + timedelta(days=1), "is in the future"),
        ("sales", DIGEST_AT, DIGEST_AT - timedelta(hours=1), "--since must be before --until"),
    ],
)
def test_bad_arguments_exit_with_2(
    db_file: str,
    department: str,
    since: datetime | None,
    until: datetime | None,
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = run_digest_command(command_config(db_file), department, since, until, False, None, clock=now)

    assert status == EXIT_USAGE
    assert message in capsys.readouterr().err
