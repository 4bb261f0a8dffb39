"""Vietnamese text clean-up and folding.

Everything that enters the system goes through `clean()` (NFC, no control or zero-width
characters, plain quotes); matching works on `fold()` (lowercase, no diacritics, đ -> d),
because many citizens type without diacritics.
"""

from __future__ import annotations

import re
import unicodedata

MAX_INPUT_CHARS = 1000

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})
_SPACES = re.compile(r"\s+")


def clean(text: str, *, limit: int = MAX_INPUT_CHARS) -> str:
    """NFC, drop control and zero-width characters, collapse spaces, cut to `limit` characters."""
    text = unicodedata.normalize("NFC", text[: limit * 4])
    text = text.translate(_ZERO_WIDTH).translate(_QUOTES)
    if not text.isprintable():  # printable text has no category-C characters: skip the slow path
        text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return _SPACES.sub(" ", text).strip()[:limit]


def _strip_slow(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    base = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return base.replace("đ", "d").replace("Đ", "D")


# Latin letters with marks (all of Vietnamese) -> base letters, combining marks dropped: one C-level pass.
_FOLD_TABLE: dict[int, str | None] = {cp: _strip_slow(chr(cp)) for cp in [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]}
_FOLD_TABLE.update(dict.fromkeys((cp for cp in range(0x300, 0x370) if unicodedata.combining(chr(cp))), None))


def strip_diacritics(text: str) -> str:
    out = text.translate(_FOLD_TABLE)
    return out if out.isascii() else _strip_slow(out)


def fold(text: str) -> str:
    """Lowercase ASCII-ish form used for matching: 'Đăng ký' -> 'dang ky'."""
    return strip_diacritics(text.lower())


_SLUG_BAD = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    return _SLUG_BAD.sub("-", fold(text)).strip("-")
