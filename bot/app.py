"""Builds the Telegram Application: the one place that wires handlers, jobs and services."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta

from sqlalchemy.exc import OperationalError
from telegram import BotCommand, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot import texts
from bot.config import TOKEN_ENV, Config, ConfigError
from bot.context import DEPS_KEY, BotDeps, deps_of
from bot.delivery import RetryingRateLimiter
from bot.digest.jobs import schedule_digests
from bot.handlers import customer, staff
from bot.jobs import answer_unanswered, expire_choices
from bot.polling import poll_until_stopped
from bot.service import FeedbackService, RateLimiter
from classifier.persist import load_model
from storage.db import check_schema, make_engine
from storage.digest_queries import DigestQueries
from storage.errors import DatabaseUnavailable
from storage.repository import Repository

log = logging.getLogger(__name__)
# Expired customer choices are looked for at least this often (more often when
# the configured timeout is shorter, so none waits much past its deadline).
CHOICE_EXPIRY_INTERVAL_SECONDS = 30.0
CUSTOMER_COMMANDS = [
    BotCommand("start", "What this bot does / 这个机器人能做什么"),
    BotCommand("status", "Your open tickets / 查看工单"),
    BotCommand("language", "中文 / English"),
    BotCommand("forget", "Delete your data / 删除我的数据"),
]


def make_deps(config: Config) -> BotDeps:
    """Open the database and the model, refusing to start on an old schema or no model."""
    engine = make_engine(config.database_url)
    check_schema(engine)
    repository = Repository(engine)
    model = load_model(config.models_dir, config.threshold)
    # The first prediction loads jieba's dictionary (about a second); pay it now,
    # not on the first customer's message.
    model.classifier.route(["预热 warm-up"])
    service = FeedbackService(
        repository,
        model,
        choice_timeout=timedelta(minutes=float(config.get("intake", "choice_timeout_minutes"))),
        default_language=str(config.get("intake", "default_language")),
        configured_staff=config.staff_ids,
    )
    rate_limiter = RateLimiter(int(config.get("intake", "rate_limit_per_minute")))
    return BotDeps(config=config, engine=engine, service=service, rate_limiter=rate_limiter)


def build_application(deps: BotDeps, token: str) -> Application:
    """The PTB Application with every handler, job and error handler attached."""
    config = deps.config
    timeout = float(config.get("telegram", "request_timeout_seconds"))
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(str(config.get("telegram", "base_url")))
        .base_file_url(str(config.get("telegram", "base_file_url")))
        .rate_limiter(RetryingRateLimiter())
        .read_timeout(timeout)
        .write_timeout(timeout)
        .connect_timeout(timeout)
        .get_updates_read_timeout(timeout + 15)
        .post_init(_post_init)
        .build()
    )
    application.bot_data[DEPS_KEY] = deps
    private = filters.ChatType.PRIVATE
    new_message = filters.UpdateType.MESSAGE
    staff_chats = filters.Chat(chat_id=sorted(deps.staff_chat_ids())) if deps.staff_chat_ids() else None
    staff_place = private | staff_chats if staff_chats is not None else private

    application.add_handlers(
        [
            CommandHandler(["start", "help"], customer.start_command, filters=private),
            CommandHandler("status", customer.status_command, filters=private),
            CommandHandler("language", customer.language_command, filters=private),
            CommandHandler("forget", customer.forget_command, filters=private),
            CommandHandler("queue", staff.queue_command, filters=staff_place),
            CommandHandler("find", staff.find_command, filters=staff_place),
            MessageHandler(
                private
                & new_message
                & ((filters.TEXT & ~filters.COMMAND) | filters.PHOTO | filters.Document.ALL),
                customer.on_feedback,
            ),
            MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, customer.on_edited),
            MessageHandler(private & new_message & filters.COMMAND, customer.start_command),
            MessageHandler(private & new_message, customer.on_unsupported),
            CallbackQueryHandler(customer.on_choice_button, pattern=rf"^{customer.CHOICE_PREFIX}:"),
            CallbackQueryHandler(customer.on_forget_button, pattern=rf"^{customer.FORGET_PREFIX}:"),
            CallbackQueryHandler(staff.on_staff_button, pattern=rf"^{staff.STAFF_PREFIX}:"),
        ]
    )
    application.add_error_handler(on_error)
    job_queue = application.job_queue
    assert job_queue is not None, "python-telegram-bot[job-queue] is required"
    retry_seconds = float(config.get("intake", "retry_unanswered_seconds"))
    job_queue.run_repeating(answer_unanswered, interval=retry_seconds, first=1.0)
    choice_seconds = float(config.get("intake", "choice_timeout_minutes")) * 60
    expiry_interval = max(0.5, min(CHOICE_EXPIRY_INTERVAL_SECONDS, choice_seconds / 2))
    job_queue.run_repeating(expire_choices, interval=expiry_interval, first=expiry_interval)
    schedule_digests(application, deps.service.repository, config, queries=DigestQueries(deps.engine))
    return application


async def _post_init(application: Application) -> None:
    with contextlib.suppress(Exception):  # a missing command menu is cosmetic
        await application.bot.set_my_commands(CUSTOMER_COMMANDS)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every error; if storage is down, keep the update for a retry and tell the customer."""
    error = context.error
    if isinstance(update, Update) and isinstance(error, DatabaseUnavailable | OperationalError):
        deps = deps_of(context.bot_data)
        deps.failed_updates.add(update.update_id)
        log.error("storage unavailable while handling update %s: %s", update.update_id, error)
        message, user = update.effective_message, update.effective_user
        if message is not None and user is not None and update.update_id not in deps.apologised:
            deps.apologised.add(update.update_id)
            language = "en" if (user.language_code or "").startswith("en") else "zh"
            with contextlib.suppress(Exception):
                await message.reply_text(texts.text("trouble", language))
        return
    log.error("error while handling an update", exc_info=error)


def run(config: Config) -> None:
    """Start the bot in polling or webhook mode and run until stopped."""
    if not config.token:
        raise ConfigError(f"the bot token is missing: set the {TOKEN_ENV} environment variable")
    deps = make_deps(config)
    application = build_application(deps, config.token)
    if config.get("telegram", "mode") == "webhook":
        url = str(config.get("telegram", "webhook_url"))
        if not url:
            raise ConfigError("[telegram].webhook_url must be set in webhook mode")
        application.run_webhook(
            listen=str(config.get("telegram", "webhook_listen")),
            port=int(config.get("telegram", "webhook_port")),
            url_path=str(config.get("telegram", "webhook_path")),
            webhook_url=url,
            secret_token=config.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
        return
    asyncio.run(run_polling(application))


async def run_polling(application: Application, stop: asyncio.Event | None = None) -> None:
    """Poll durably until SIGINT/SIGTERM (or `stop`), then finish in-flight work and exit."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with application:
        await application.bot.delete_webhook()
        await application.start()
        me = application.bot.username
        log.info("feedbot running as @%s (polling)", me)
        try:
            await poll_until_stopped(application, stop)
        finally:
            await application.stop()
    log.info("feedbot stopped")
