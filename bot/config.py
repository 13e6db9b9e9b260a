"""Settings: every key declared once with its default and help; unknown keys stop start-up."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from classifier.labels import DEPARTMENTS

DEFAULT_CONFIG = Path("config.toml")
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
DATABASE_URL_ENV = "DATABASE_URL"
WEBHOOK_SECRET_ENV = "FEEDBOT_WEBHOOK_SECRET"


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key and the problem."""


@dataclass(frozen=True)
class Setting:
    """One documented configuration key."""

    default: Any
    help: str
    kind: type | tuple[type, ...] | None = None

    @property
    def expected(self) -> type | tuple[type, ...]:
        return self.kind or type(self.default)


# Section -> key -> Setting. The README's configuration reference is checked
# against this table by tests/test_config.py, so a new key cannot go undocumented.
SETTINGS: dict[str, dict[str, Setting]] = {
    "database": {
        "url": Setting(
            "sqlite:///var/feedbot.db",
            "SQLAlchemy URL; the DATABASE_URL environment variable overrides it.",
        ),
    },
    "classifier": {
        "models_dir": Setting("models", "Directory of versioned models (CURRENT names the one in use)."),
        "training_data_dir": Setting("training_data", "Labeled data `feedbot train` learns from."),
        "threshold": Setting(
            0.77,
            "Confidence below which a message goes to triage instead of a department.",
            (float, int),
        ),
    },
    "telegram": {
        "base_url": Setting(
            "https://api.telegram.org/bot",
            "Bot API base URL; point it at `feedbot sandbox` (http://127.0.0.1:8081/bot) to try the bot offline.",
        ),
        "base_file_url": Setting("https://api.telegram.org/file/bot", "Bot API file download base URL."),
        "mode": Setting("polling", "How updates arrive: polling or webhook."),
        "webhook_url": Setting("", "Public HTTPS URL Telegram posts updates to (webhook mode)."),
        "webhook_listen": Setting("127.0.0.1", "Address the webhook server listens on."),
        "webhook_port": Setting(8443, "Port the webhook server listens on."),
        "webhook_path": Setting("telegram", "URL path of the webhook endpoint."),
        "request_timeout_seconds": Setting(10.0, "Timeout of each Bot API call.", (float, int)),
    },
    "intake": {
        "choice_timeout_minutes": Setting(
            10.0, "How long a customer may take to pick a department before triage.", (float, int)
        ),
        "rate_limit_per_minute": Setting(10, "Messages a customer may send a minute before a polite pause."),
        "default_language": Setting("zh", "Reply language when the Telegram client gives none: zh or en."),
        "retry_unanswered_seconds": Setting(
            15.0, "How often messages stored without a reply (crash, outage) are answered again.", (float, int)
        ),
    },
    "staff": {
        "triage_chat_id": Setting(0, "Chat that receives items nobody is sure about (0: none)."),
        "admins": Setting([], "Telegram user ids of staff admins (may act on every department).", list),
        "agents": Setting([], "Telegram user ids of support agents (may relabel and resolve).", list),
    },
    "digest": {
        "catch_up_hours": Setting(
            12.0,
            "A digest missed while the bot was down is sent late within this many hours.",
            (float, int),
        ),
        "alert_interval_minutes": Setting(15.0, "How often overdue items are looked for.", (float, int)),
    },
}

DEPARTMENT_SETTINGS: dict[str, Setting] = {
    "staff_chat_id": Setting(0, "Staff chat that receives this department's items (0: triage chat)."),
    "lead_chat_ids": Setting([], "Chats of the department leads who receive the daily digest.", list),
    "digest_time": Setting("09:00", "Local time (HH:MM) of the daily digest."),
    "timezone": Setting("Asia/Shanghai", "IANA time zone of digest_time."),
    "weekdays": Setting([0, 1, 2, 3, 4, 5, 6], "Days the digest is sent (0 = Monday).", list),
    "response_hours": Setting(24.0, "Open items older than this are flagged as overdue.", (float, int)),
    "language": Setting("zh", "Digest language: zh or en."),
}


@dataclass(frozen=True)
class DepartmentConfig:
    """Per-department routing and digest settings."""

    name: str
    staff_chat_id: int
    lead_chat_ids: tuple[int, ...]
    digest_time: str
    timezone: str
    weekdays: tuple[int, ...]
    response_hours: float
    language: str


@dataclass(frozen=True)
class Config:
    """The whole, validated configuration."""

    values: dict[str, dict[str, Any]]
    departments: dict[str, DepartmentConfig]
    source: Path | None = None
    token: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)

    def get(self, section: str, key: str) -> Any:
        return self.values[section][key]

    @property
    def database_url(self) -> str:
        return str(self.values["database"]["url"])

    @property
    def models_dir(self) -> Path:
        return Path(self.values["classifier"]["models_dir"])

    @property
    def threshold(self) -> float:
        return float(self.values["classifier"]["threshold"])

    @property
    def staff_ids(self) -> dict[int, str]:
        """Telegram user id -> role, from the config file."""
        roles = {int(uid): "agent" for uid in self.values["staff"]["agents"]}
        roles.update({int(uid): "admin" for uid in self.values["staff"]["admins"]})
        return roles


def _check(where: str, value: Any, setting: Setting) -> Any:
    expected = setting.expected
    if isinstance(value, bool) and expected is not bool:
        raise ConfigError(f"{where}: expected {_type_name(expected)}, got a boolean")
    if not isinstance(value, expected):
        raise ConfigError(f"{where}: expected {_type_name(expected)}, got {type(value).__name__} {value!r}")
    return value


def _type_name(expected: type | tuple[type, ...]) -> str:
    if isinstance(expected, tuple):
        return " or ".join(t.__name__ for t in expected)
    return expected.__name__


def _section(raw: dict[str, Any], name: str, settings: dict[str, Setting], where: str) -> dict[str, Any]:
    unknown = sorted(set(raw) - set(settings))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(settings)}")
    return {
        key: _check(f"{where}.{key}", raw[key], setting) if key in raw else setting.default
        for key, setting in settings.items()
    }


def _department(name: str, raw: dict[str, Any], source: str) -> DepartmentConfig:
    values = _section(raw, name, DEPARTMENT_SETTINGS, f"{source}: [departments.{name}]")
    where = f"{source}: [departments.{name}]"
    try:
        ZoneInfo(values["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}.timezone: unknown time zone {values['timezone']!r}") from None
    hour, _, minute = values["digest_time"].partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ConfigError(f"{where}.digest_time: expected HH:MM, got {values['digest_time']!r}")
    if any(not isinstance(d, int) or not 0 <= d <= 6 for d in values["weekdays"]):
        raise ConfigError(f"{where}.weekdays: expected numbers 0 (Monday) to 6 (Sunday)")
    if values["language"] not in ("zh", "en"):
        raise ConfigError(f"{where}.language: expected zh or en, got {values['language']!r}")
    return DepartmentConfig(
        name=name,
        staff_chat_id=int(values["staff_chat_id"]),
        lead_chat_ids=tuple(int(c) for c in values["lead_chat_ids"]),
        digest_time=values["digest_time"],
        timezone=values["timezone"],
        weekdays=tuple(values["weekdays"]),
        response_hours=float(values["response_hours"]),
        language=values["language"],
    )


def parse_config(raw: dict[str, Any], source: str = "config", env: dict[str, str] | None = None) -> Config:
    """Validate a parsed TOML document against SETTINGS."""
    env = dict(os.environ) if env is None else env
    known = {*SETTINGS, "departments"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown section [{unknown[0]}]; known: {', '.join(sorted(known))}")
    values = {}
    for name, settings in SETTINGS.items():
        section = raw.get(name, {})
        if not isinstance(section, dict):
            raise ConfigError(f"{source}: [{name}] must be a table")
        values[name] = _section(section, name, settings, f"{source}: [{name}]")
    if env.get(DATABASE_URL_ENV):
        values["database"]["url"] = env[DATABASE_URL_ENV]
    if values["telegram"]["mode"] not in ("polling", "webhook"):
        raise ConfigError(f"{source}: [telegram].mode: expected polling or webhook")
    if not 0.0 <= float(values["classifier"]["threshold"]) <= 1.0:
        raise ConfigError(f"{source}: [classifier].threshold: expected a number from 0 to 1")
    raw_departments = raw.get("departments", {})
    unknown = sorted(set(raw_departments) - set(DEPARTMENTS))
    if unknown:
        raise ConfigError(
            f"{source}: unknown department [departments.{unknown[0]}]; known: {', '.join(DEPARTMENTS)}"
        )
    departments = {name: _department(name, raw_departments.get(name, {}), source) for name in DEPARTMENTS}
    return Config(
        values=values,
        departments=departments,
        token=env.get(TOKEN_ENV) or None,
        webhook_secret=env.get(WEBHOOK_SECRET_ENV) or None,
    )


def load_config(path: Path = DEFAULT_CONFIG, env: dict[str, str] | None = None) -> Config:
    """Read and validate a config file; a missing file means all defaults."""
    if not path.exists():
        if path != DEFAULT_CONFIG:
            raise ConfigError(f"config file {path} does not exist")
        return parse_config({}, str(path), env)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    config = parse_config(raw, str(path), env)
    return Config(config.values, config.departments, path, config.token, config.webhook_secret)
