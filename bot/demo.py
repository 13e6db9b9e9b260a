"""`feedbot demo`: the whole product on this machine, no Telegram account or network needed.

Starts the local Bot API sandbox, runs the real bot against it with an SQLite
database, plays a short conversation (customers writing in, staff moving an
item) and prints what everyone saw. It then keeps running so an operator can
talk to the bot through the sandbox's control API until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

from bot.app import build_application, make_deps
from bot.config import Config, parse_config
from bot.sandbox import SandboxClient, SandboxServer
from storage.db import upgrade

DEMO_TOKEN = "7000000001:DEMO-local-sandbox-token-0123456789"
DEMO_MESSAGES = (
    ("王女士", "zh-hans", "等了一个半小时才送到，饭都凉了，骑手还不接电话"),
    ("李先生", "zh-hans", "昨天买的今天就降价五十，能补差价吗"),
    ("Alex", "en", "The screen has dead pixels after one week, really poor quality"),
    ("张同学", "zh-hans", "很好吃，会再来"),
)


def demo_config(
    base: Config, sandbox_url: str, database_url: str, staff: dict[str, int], admin: int
) -> Config:
    """The operator's config, pointed at the sandbox and the demo's chats."""
    raw: dict[str, Any] = {section: dict(values) for section, values in base.values.items()}
    raw["database"]["url"] = database_url
    raw["telegram"].update(
        base_url=f"{sandbox_url}/bot", base_file_url=f"{sandbox_url}/file/bot", mode="polling"
    )
    raw["staff"].update(triage_chat_id=staff["triage"], admins=[admin])
    raw["departments"] = {
        name: {**_department_values(base, name), "staff_chat_id": staff[name], "lead_chat_ids": [admin]}
        for name in ("sales", "product", "service")
    }
    return parse_config(raw, "demo", env={})


def _department_values(base: Config, name: str) -> dict[str, Any]:
    values = dataclasses.asdict(base.departments[name])
    values.pop("name")
    values["lead_chat_ids"] = list(values["lead_chat_ids"])
    values["weekdays"] = list(values["weekdays"])
    return values


def run_demo(base: Config, *, port: int, database: Path, once: bool) -> int:
    """Run the demo; with `once`, exit after the scripted conversation."""
    # The conversation below is the demo's output; the sandbox's request log would drown it.
    logging.getLogger("bot.sandbox").setLevel(logging.WARNING)
    server = SandboxServer()
    url = server.start(port=port)
    client = SandboxClient(url)
    try:
        admin = client.create_user(first_name="Sam (staff)", language_code="en")
        staff = {
            name: client.create_group(f"{name} staff", [admin.id]).id
            for name in ("sales", "product", "service", "triage")
        }
        database.parent.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{database}"
        upgrade(database_url)
        config = demo_config(base, url, database_url, staff, admin.id)
        asyncio.run(_run(config, client, staff, admin.id, once))
    finally:
        client.close()
        server.stop()
    return 0


async def _run(config: Config, client: SandboxClient, staff: dict[str, int], admin: int, once: bool) -> None:
    from bot.app import run_polling

    application = build_application(make_deps(config), DEMO_TOKEN)
    stop = asyncio.Event()
    bot_task = asyncio.create_task(run_polling(application, stop))
    try:
        await asyncio.to_thread(_script, client, staff, admin)
        if not once:
            print(
                f"\nThe bot keeps running against the sandbox at {client.base_url}.\n"
                f"Write to it as a customer, e.g.:\n"
                f"  curl -s {client.base_url}/control/messages -H 'content-type: application/json' "
                f'-d \'{{"user_id": {admin}, "text": "快递太慢了"}}\'\n'
                f"and read what it sent: curl -s {client.base_url}/control/chats/{admin}/messages\n"
                "Press Ctrl-C to stop.",
                flush=True,
            )
            await bot_task
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await bot_task


def _script(client: SandboxClient, staff: dict[str, int], admin: int) -> None:
    """The scripted conversation, printed as it happens."""
    print("Customers write to the bot:\n", flush=True)
    for name, language, text in DEMO_MESSAGES:
        customer = client.create_user(first_name=name, language_code=language)
        started = time.monotonic()
        client.send_message(customer.id, text)
        reply = client.wait_for_messages(customer.chat_id, 1, timeout=15)[-1]
        elapsed = time.monotonic() - started
        print(f"  {name}: {text}\n  bot ({elapsed * 1000:.0f} ms): {reply.text}", flush=True)
        if reply.callback_data:
            choice = reply.callback_data[0]
            client.press_button(customer.id, customer.chat_id, reply.message_id, choice)
            edited = client.wait_for_edits(customer.chat_id, 1, timeout=15)[-1]
            print(f"  {name} picks {choice.split(':')[-1]} -> bot: {edited.after.get('text')}", flush=True)
        print(flush=True)
    time.sleep(0.5)
    print("What the staff chats show:\n")
    for name, chat_id in staff.items():
        for message in client.messages(chat_id):
            print(f"  [{name} staff chat]\n    " + (message.text or "").replace("\n", "\n    "))
            print(f"    buttons: {', '.join(b['text'] for b in message.buttons)}\n", flush=True)
