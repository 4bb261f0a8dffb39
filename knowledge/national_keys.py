"""How the national catalogue's words are keyed: provinces, levels, and names stripped of what varies by province.

Shared by the import (`knowledge/national_import.py`) and the loader (`knowledge/national.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from knowledge.text import clean, fold

Level = Literal["xa", "tinh", "trung-uong"]
LEVEL_ORDER: tuple[Level, ...] = ("xa", "tinh", "trung-uong")

# --- provinces ---------------------------------------------------------------------------------------------

_PROVINCE_PREFIX = re.compile(
    r"^(?:ubnd|uy ban nhan dan|trung tam phuc vu hanh chinh cong|so [a-z ]+ -)?\s*(?:tinh|thanh pho|tp\.?)\s+",
)


def province_key(text: str | None) -> str:
    """'UBND tỉnh Bắc Ninh', 'Bắc Ninh', 'bac-ninh', 'TP Hà Nội' -> 'bac ninh' / 'ha noi'; '' for none."""
    if not text:
        return ""
    t = " ".join(re.sub(r"[^a-z0-9]+", " ", fold(clean(text))).split())
    t = _PROVINCE_PREFIX.sub("", t)
    return re.sub(r"^(?:tinh|thanh pho|tp) ", "", t).strip()


def province_name(publisher: str) -> str:
    """The province's name as written in the publisher: 'UBND tỉnh Bắc Ninh' -> 'Bắc Ninh'."""
    m = re.search(r"(?:[Tt]ỉnh|[Tt]hành phố|TP\.?)\s+(.+)$", publisher)
    return m.group(1).strip() if m else publisher.strip()


_SPACES = re.compile(r"\s+")


def _text(value: object) -> str:
    """NFC, no control characters, single spaces; '' for anything that is not text."""
    if not isinstance(value, str):
        return ""
    return _SPACES.sub(" ", clean(value, limit=100_000)).strip()


def _display_name(name: str) -> str:
    """Official names as published, except ALL-CAPS ones, which are given sentence case."""
    name = _text(name).rstrip(" ;")
    if name.isupper():
        name = re.sub(r"\bviệt nam\b", "Việt Nam", name[0] + name[1:].lower())
    return name


# Tried in this order on an agency's folded name; the first that matches gives its level.
_LEVEL_PATTERNS: list[tuple[Level, re.Pattern[str]]] = [
    (
        "trung-uong",
        re.compile(
            r"^(?:bo|cuc|tong cuc|vu|ngan hang nha nuoc viet nam|uy ban chung khoan|bao hiem xa hoi viet nam"
            r"|thu tuong|chinh phu|van phong chinh phu|ban ton giao chinh phu)\b"
        ),
    ),
    ("xa", re.compile(r"\b(?:cap xa|(?:ubnd|uy ban nhan dan|cong an) xa(?! hoi)|xa phuong|phuong xa)\b")),
    (
        "tinh",
        re.compile(
            r"\b(?:cap tinh|ubnd tinh|uy ban nhan dan tinh|tinh thanh pho|van phong dang ky dat dai"
            r"|chi nhanh van phong|thue tinh|thue co so|ngan hang nha nuoc khu vuc"
            r"|bao hiem xa hoi (?:tinh|co so|khu vuc)"
            r"|hoi dong giam dinh y khoa)\b|^(?:so|chi cuc|cong an tinh)\b"
        ),
    ),
]


def levels_of(agencies: Iterable[str]) -> tuple[Level, ...]:
    """Levels named by the agencies' own words ('Ủy ban nhân dân cấp xã', 'Sở Y tế', 'Bộ Công an')."""
    found: set[Level] = set()
    for agency in agencies:
        a = " ".join(re.sub(r"[^a-z0-9]+", " ", fold(agency)).split())
        for level, pattern in _LEVEL_PATTERNS:
            if pattern.search(a):
                found.add(level)
                break
    return tuple(lv for lv in LEVEL_ORDER if lv in found)


def _name_key(name: str, province: str = "") -> str:
    """A name with the wording that differs between a national procedure and its province variants removed:
    'Thủ tục', numbering, '(Cấp xã)', 'trên địa bàn tỉnh X', 'của UBND tỉnh X', punctuation."""
    t = " ".join(re.sub(r"[^a-z0-9]+", " ", fold(_text(name))).split())
    t = re.sub(r"^(?:\d+ )?(?:thu tuc )?", "", t)
    t = re.sub(r"\b(?:cap xa|cap tinh)$", "", t).strip()
    prov = province_key(province)
    if prov:
        t = re.sub(
            rf"\s*(?:tren dia ban |tai |cua |thuoc tham quyen cua (?:ubnd |uy ban nhan dan )?)?"
            rf"(?:tinh |thanh pho |tp )?{re.escape(prov)}\b",
            "",
            t,
        ).strip()
    return t
