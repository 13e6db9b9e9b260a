"""The fixed words stored in the database: queues, statuses, roles and actors."""

from __future__ import annotations

import re
from typing import Final

# Departments that own a queue; "triage" is staffed too, it just has no product area.
DEPARTMENTS: Final = ("sales", "product", "service", "triage")
# "none" is a valid routing target meaning no department acts on the item.
NO_QUEUE: Final = "none"
QUEUES: Final = (*DEPARTMENTS, NO_QUEUE)

STATUSES: Final = ("new", "in_progress", "resolved", "triage", "awaiting_customer")
OPEN_STATUSES: Final = ("new", "in_progress", "triage", "awaiting_customer")
# Customer edits are applied only before staff start working, so staff never see text shift.
EDITABLE_STATUSES: Final = ("new", "awaiting_customer", "triage")

LANGUAGES: Final = ("zh", "en")
STAFF_ROLES: Final = ("agent", "lead", "admin")
CHANGE_SOURCES: Final = ("staff_relabel", "customer_choice", "import", "timeout")
DIGEST_STATUSES: Final = ("claimed", "sent", "failed", "skipped")

_ACTOR = re.compile(r"staff:\d+|customer|import|model")


def staff_actor(telegram_user_id: int) -> str:
    """Return the actor string recorded for a staff member."""
    return f"staff:{telegram_user_id}"


def check_actor(actor: str) -> str:
    """Return `actor` unchanged, or raise ValueError if it is not a known actor form."""
    if not _ACTOR.fullmatch(actor):
        raise ValueError(
            f"unknown actor {actor!r}: expected 'staff:<user id>', 'customer', 'import' or 'model'"
        )
    return actor


def check_choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    """Return `value` unchanged, or raise ValueError naming the allowed values."""
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}: expected one of {', '.join(allowed)}")
    return value
