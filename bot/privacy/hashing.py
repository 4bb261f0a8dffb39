"""Personal data handling: keyed hashes instead of phone numbers, masking in replies.

A phone number is stored only as an HMAC with the server secret plus its last four digits,
so a leaked database does not leak phone numbers, and verification still works.
"""

from __future__ import annotations

import hashlib
import hmac
import re


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def phone_hmac(phone: str, secret: str) -> str:
    number = digits(phone)
    if number.startswith("84"):
        number = "0" + number[2:]
    return hmac.new(secret.encode(), number.encode(), hashlib.sha256).hexdigest()


def phone_last4(phone: str) -> str:
    return digits(phone)[-4:]


def same_secret(given: str, expected: str | None) -> bool:
    """Constant-time comparison, so timing does not tell how many digits were right."""
    return expected is not None and hmac.compare_digest(given.encode(), expected.encode())


def mask_name(name: str) -> str:
    """'Nguyễn Văn An' -> 'Nguyễn V*** A'."""
    parts = name.split()
    if len(parts) <= 1:
        return (parts[0][0] + "***") if parts else ""
    middle = [p[0] + "***" for p in parts[1:-1]]
    return " ".join([parts[0], *middle, parts[-1][0]])


def chat_ref(chat_id: int, secret: str) -> str:
    """A short stable pseudonym of a chat for logs."""
    return hmac.new(secret.encode(), str(chat_id).encode(), hashlib.sha256).hexdigest()[:12]
