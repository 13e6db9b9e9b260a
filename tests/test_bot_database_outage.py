"""PostgreSQL goes away while customers write: they are told, and nothing they sent is lost."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.sandbox import SandboxClient
from tests.bot_harness import running_feedbot
from tests.storage_fixtures import REQUIRE_POSTGRES_VARIABLE, PostgresServer
from tests.tcp_proxy import TcpProxy
from tests.test_bot_intake import ticket_in

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxied_postgres(postgres_server: PostgresServer | str) -> Iterator[tuple[str, TcpProxy]]:
    """A fresh PostgreSQL schema reached through a proxy the test can take down."""
    if isinstance(postgres_server, str):
        if os.environ.get(REQUIRE_POSTGRES_VARIABLE) == "1":
            pytest.fail(postgres_server)
        pytest.skip(postgres_server)
    url = postgres_server.create_schema()
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    proxy.up()
    try:
        yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
    finally:
        proxy.down()
        postgres_server.drop_schema(url)


def test_database_outage_keeps_the_message_and_answers_after_recovery(
    sandbox: SandboxClient, models_dir: Path, proxied_postgres: tuple[str, TcpProxy]
) -> None:
    database_url, proxy = proxied_postgres
    assert make_url(database_url).port == proxy.port
    with running_feedbot(sandbox, models_dir, database_url) as harness:
        customer = harness.customer()
        ticket_in(harness.say(customer, "送餐太慢了，等了两个小时"))
        sandbox.wait_for_messages(harness.staff_chats["service"], 1)  # first item fully handled

        proxy.down()
        sandbox.send_message(customer.id, "骑手把汤洒了，太过分了")
        apology = sandbox.wait_for_messages(customer.chat_id, 2, timeout=30)[-1]
        assert "没有丢" in (apology.text or "")

        proxy.up()
        confirmation = sandbox.wait_for_messages(customer.chat_id, 3, timeout=60)[-1]
        ticket = ticket_in(confirmation.text or "")
        item = harness.repository.get_by_ticket(ticket)
        assert item is not None and item.text == "骑手把汤洒了，太过分了"
        assert len(harness.repository.customer_tickets(customer.id)) == 2
