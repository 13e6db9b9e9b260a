"""Masking of phone numbers and e-mail addresses in customer text quoted by a digest."""

from __future__ import annotations

import re

# Digests travel to leads' phones and get forwarded; contact details of customers must
# not travel with them. Patterns err on the side of masking: a masked order number is
# a small loss, a leaked phone number is not.
# The local part may be missing when it is not ASCII ("张三＠qq.com"): the domain goes anyway.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]*[@＠][A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_SEP = r"[-\s.－—]?"
_PHONE = re.compile(
    r"(?<![0-9+])(?:"
    # +86 / 0086 / (+86) before a mobile or an area-coded landline.
    rf"(?:[+]|00)\s?86{_SEP}(?:\(0?\d{{2,3}}\)|0?\d{{2,3}}){_SEP}\d{{3,4}}{_SEP}\d{{4}}"
    rf"|\(\s?[+]?86\s?\){_SEP}\d{{2,4}}{_SEP}\d{{3,4}}{_SEP}\d{{4}}"
    # Chinese mobile: 11 digits starting 13-19, optionally grouped 3-4-4.
    rf"|1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}"
    # Landline with area code: 010-12345678, (0755) 1234567, 021 1234 5678.
    rf"|(?:\(0\d{{2,3}}\)|0\d{{2,3}}){_SEP}\d{{3,4}}{_SEP}\d{{4}}"
    # Hotlines: 400-123-4567, 800 123 4567.
    rf"|[48]00{_SEP}\d{{3}}{_SEP}\d{{4}}"
    # Any other international number written with a leading plus.
    r"|[+]\d{1,3}(?:[-\s.]?\d){7,14}"
    r")(?!\d)"
)

PLACEHOLDERS = {
    "zh": {"phone": "〔电话〕", "email": "〔邮箱〕"},
    "en": {"phone": "[phone]", "email": "[email]"},
}


# Full-width digits are typed on Chinese keyboards; matching on ASCII digits is simpler.
_HALF_WIDTH = str.maketrans("０１２３４５６７８９＋", "0123456789+")


def mask_contacts(text: str, language: str = "zh") -> str:
    """Replace phone numbers and e-mail addresses with placeholders in `language`."""
    words = PLACEHOLDERS.get(language, PLACEHOLDERS["en"])
    # E-mails first: their local part may hold digits that look like a phone number.
    masked = _EMAIL.sub(words["email"], text.translate(_HALF_WIDTH))
    return _PHONE.sub(words["phone"], masked)


def remove_contacts(text: str) -> str:
    """Blank out phone numbers and e-mail addresses, e.g. before looking for topics."""
    blanked = _EMAIL.sub(" ", text.translate(_HALF_WIDTH))
    return _PHONE.sub(" ", blanked)
