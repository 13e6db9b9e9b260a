"""Typed access to Bot API parameters, whichever way the client encoded them.

PTB's HTTPXRequest sends form fields where strings are raw and everything else
(ints, bools, keyboards) is JSON-encoded; other clients send a JSON body or a
query string. Parsing lazily per parameter, with the type the method expects,
keeps a text such as "123" a string while chat_id "123" becomes an int.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.sandbox.errors import bad_request


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


class Params:
    """The parameters of one Bot API call."""

    def __init__(self, values: Mapping[str, Any], uploads: Mapping[str, Upload] | None = None) -> None:
        self._values = dict(values)
        self._uploads = dict(uploads or {})

    def as_dict(self) -> dict[str, Any]:
        """Plain values for the request log (uploads shown by name and size only)."""
        logged: dict[str, Any] = dict(self._values)
        for name, upload in self._uploads.items():
            logged[name] = f"<upload {upload.filename or name}: {len(upload.data)} bytes>"
        return logged

    def has(self, name: str) -> bool:
        """Whether the parameter was sent (an empty form value counts as not sent)."""
        value = self._values.get(name)
        return (value is not None and value != "") or name in self._uploads

    def upload(self, name: str) -> Upload | None:
        """The file uploaded under this name, also when referenced as attach://name."""
        if name in self._uploads:
            return self._uploads[name]
        value = self._values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            return self._uploads.get(value.removeprefix("attach://"))
        return None

    def get_str(self, name: str, default: str | None = None) -> str | None:
        """The value as text; numbers sent in a JSON body are converted back."""
        value = self._values.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value)

    def require_str(self, name: str, empty_reason: str | None = None) -> str:
        """The value as text, or Telegram's "... is empty" error."""
        value = self.get_str(name)
        if value is None or value == "":
            raise bad_request(empty_reason or f"{name} is empty")
        return value

    def get_int(self, name: str, default: int | None = None) -> int | None:
        """The value as an integer."""
        value = self._values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f'field "{name}" must be of type Integer') from None

    def require_int(self, name: str) -> int:
        """The value as an integer, or Telegram's "... is empty" error."""
        value = self.get_int(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def get_float(self, name: str, default: float | None = None) -> float | None:
        """The value as a number."""
        value = self._values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Float') from None

    def get_bool(self, name: str, default: bool = False) -> bool:
        """The value as a boolean; the Bot API accepts true/false and 1/0."""
        value = self._values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        return str(value).strip().lower() in ("true", "1")

    def get_json(self, name: str, what: str | None = None) -> Any:
        """A structured value: JSON-decoded when it came as a form string."""
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {what or name} JSON object") from None

    def chat_id(self, name: str = "chat_id") -> int | str:
        """A chat id: an integer, or "@username" for public chats."""
        value = self._values.get(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None
