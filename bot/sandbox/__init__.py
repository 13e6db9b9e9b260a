"""A local stand-in for the Telegram Bot API that real python-telegram-bot talks to over HTTP."""

from bot.sandbox.client import (
    ChatInfo,
    CustomerInfo,
    Edit,
    Injected,
    SandboxClient,
    SandboxError,
    SandboxTimeout,
    SentMessage,
)
from bot.sandbox.runner import SandboxServer, serve_forever
from bot.sandbox.server import Sandbox, create_app

__all__ = [
    "ChatInfo",
    "CustomerInfo",
    "Edit",
    "Injected",
    "Sandbox",
    "SandboxClient",
    "SandboxError",
    "SandboxServer",
    "SandboxTimeout",
    "SentMessage",
    "create_app",
    "serve_forever",
]
