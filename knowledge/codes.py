"""Receipt codes as printed on the appointment slip, e.g. `000.00.15.H57-251120-0001`.

Citizens type them in any case, with spaces, dots, dashes or nothing between the parts;
every form folds to the same key (`normalize_code`) used for lookups.
"""

from __future__ import annotations

import re

_SEP = r"[\s.\-_/]*"
# agency code (e.g. 000.00.15.H57), date yymmdd, sequence
CODE_RE = re.compile(
    rf"(?<![0-9A-Za-z])(\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}[A-Za-z]\d{{2}}){_SEP}(\d{{6}}){_SEP}(\d{{4,5}})(?![0-9A-Za-z])"
)


def normalize_code(text: str) -> str | None:
    """The lookup key of a code, or None when `text` holds no code."""
    m = CODE_RE.search(text)
    if not m:
        return None
    agency = re.sub(r"[^0-9A-Za-z]", "", m.group(1)).upper()
    return f"{agency}{m.group(2)}{m.group(3)}"


def display_code(key: str) -> str:
    """'0000015H572511200001' -> '000.00.15.H57-251120-0001'."""
    a = key[:10]
    return f"{a[:3]}.{a[3:5]}.{a[5:7]}.{a[7:]}-{key[10:16]}-{key[16:]}"


def find_code(text: str) -> str | None:
    """The printed form of the first code in free text, or None."""
    key = normalize_code(text)
    return display_code(key) if key else None


def encode_payload(code: str) -> str | None:
    """A receipt code as a /start deep-link payload (Telegram allows 64 chars of [A-Za-z0-9_-])."""
    key = normalize_code(code)
    return f"hs-{key}" if key else None


def decode_payload(payload: str) -> str | None:
    if not payload.startswith("hs-"):
        return None
    return find_code(payload[3:])
