"""The parts of the schema that are not about one procedure's content.

The strict model base every schema model shares; sources and what counts as official (`OFFICIAL_DOMAINS`);
base amounts (knowledge/bases.yaml) that fees and benefits are multiples of; the provinces
(knowledge/provinces/provinces.yaml); the register of legal changes
(knowledge/legal-changes.yaml). `knowledge/schema.py` builds procedures and overlays on these and re-exports them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, PrivateAttr, field_validator, model_validator

SLUG_RE = re.compile(r"^[a-z0-9-]+\.[a-z0-9-]+$")
CODE_RE = re.compile(r"^\d\.\d{6}$")
BASE_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
PROVINCE_SLUG_RE = re.compile(r"^[a-z]+(?:-[a-z]+)*$")

# Official texts and portals only: the national public service portal (dichvucong.gov.vn) and every ministry's and
# province's portal (*.gov.vn), the government portal, official gazette and legal databases (chinhphu.vn,
# congbao.chinhphu.vn, vanban.chinhphu.vn), the national legal database (vbpl.vn), the National Assembly (quochoi.vn).
OFFICIAL_DOMAINS = ("gov.vn", "chinhphu.vn", "vbpl.vn", "quochoi.vn")

Level = Literal["xa", "tinh", "trung-uong"]
CopyKind = Literal["original", "certified_copy", "original_or_copy", "copy", "present", "none"]
TimeUnit = Literal["working_hours", "working_days", "days", "months", "immediate"]
# The facets of an answer card that a province can set for itself (see bot/replies/cards.py).
LocalFacet = Literal["documents", "forms", "time", "fee", "where", "how", "conditions"]


def is_official(url: str) -> bool:
    """True for a URL on an official domain (or a subdomain of one)."""
    host = (HttpUrl(url).host or "").lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in OFFICIAL_DOMAINS)


def _not_future(v: dt.date, what: str) -> dt.date:
    if v < dt.date(2015, 1, 1) or v > dt.date.today():
        raise ValueError(f"{what} must be a real date between 2015-01-01 and today")
    return v


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Source(Strict):
    """Where a claim comes from: an official text (with its article) or an official page."""

    title: str = Field(min_length=5, description="The legal document and article, or the official page's name")
    url: HttpUrl | None = Field(default=None, description="Official address when there is one; none for a bare text")
    checked: dt.date = Field(description="The day the text or page was read for this claim")
    generic: bool = Field(
        default=False,
        description="True when the source was attached because it is the procedure's legal basis, not because it "
        "was found to state the claim: the second review must find the text (article, page) that does",
    )

    @field_validator("url")
    @classmethod
    def _official(cls, v: HttpUrl | None) -> HttpUrl | None:
        if v is not None and not is_official(str(v)):
            raise ValueError(
                f"{v.host} is not an official source; sources are official texts and portals "
                f"({', '.join('*.' + d for d in OFFICIAL_DOMAINS)}); keep other addresses under `pointers`"
            )
        return v

    @field_validator("checked")
    @classmethod
    def _checked(cls, v: dt.date) -> dt.date:
        return _not_future(v, "checked")


Sources = list[Source]


class BaseValue(Strict):
    """One value of a base amount, in force from `since` until the next value's date."""

    amount: int | None = Field(ge=0, description="Đồng; None when the figure could not be read in an official text")
    since: dt.date
    sources: Sources = Field(min_length=1)
    maintainer_notes: str | None = None


class Base(Strict):
    """A base amount that other amounts are multiples of (lương cơ sở, mức chuẩn trợ giúp xã hội, ...)."""

    name: str = Field(min_length=3, description="As it reads in a sentence: 'mức chuẩn trợ giúp xã hội'")
    unit: str = Field(default="đồng/tháng")
    follows: str | None = Field(default=None, description="Equal to another base (its values are that base's)")
    follows_sources: Sources = Field(default=[], description="The text that ties this base to `follows`")
    values: list[BaseValue] = []
    maintainer_notes: str | None = None

    @model_validator(mode="after")
    def _shape(self) -> Base:
        if self.follows is not None:
            if not self.follows_sources:
                raise ValueError("`follows` needs `follows_sources`")
            return self
        if not self.values:
            raise ValueError("a base needs `values` (or `follows`)")
        days = [v.since for v in self.values]
        if days != sorted(days) or len(set(days)) != len(days):
            raise ValueError("values must be in increasing order of `since`, one per date")
        return self

    def value_on(self, day: dt.date) -> BaseValue | None:
        """The value in force on `day` (None before the first)."""
        current = None
        for v in self.values:
            if v.since <= day:
                current = v
        return current

    def previous(self, value: BaseValue) -> BaseValue | None:
        earlier = [v for v in self.values if v.since < value.since]
        return earlier[-1] if earlier else None


class BaseTable(Strict):
    """knowledge/bases.yaml"""

    bases: dict[str, Base]

    @field_validator("bases")
    @classmethod
    def _ids(cls, v: dict[str, Base]) -> dict[str, Base]:
        for key, base in v.items():
            if not BASE_ID_RE.match(key):
                raise ValueError(f"base id {key!r} must be lowercase ascii with underscores")
            if base.follows is not None and base.follows not in v:
                raise ValueError(f"{key}: follows unknown base {base.follows!r}")
            if base.follows is not None and v[base.follows].follows is not None:
                raise ValueError(f"{key}: follows {base.follows!r}, which follows another base")
        return v


class BaseAmount(Strict):
    """An amount written as a multiple of a base: `{base: chuan_tro_giup_xa_hoi, multiplier: 20}`.

    The loader links it to the base (`resolve`); the card computes the figure for the day it is read, so a new
    base value in bases.yaml updates every amount derived from it."""

    base: str
    multiplier: float = Field(gt=0)
    _base: Base | None = PrivateAttr(default=None)

    def link(self, base: Base) -> None:
        self._base = base

    @property
    def base_model(self) -> Base:
        if self._base is None:
            raise LookupError(f"base {self.base!r} is not linked; load the knowledge base with the loader")
        return self._base

    def amount_on(self, day: dt.date) -> tuple[int | None, BaseValue | None]:
        """(the amount in đồng, the base value it comes from); the amount is None when the base value is unknown."""
        value = self.base_model.value_on(day)
        if value is None or value.amount is None:
            return None, value
        return round(value.amount * self.multiplier), value

    def multiplier_text(self) -> str:
        """20 -> '20 lần', 1.5 -> '1,5 lần'."""
        return f"{self.multiplier:g}".replace(".", ",") + " lần"


# --- provinces (provinces.yaml) ------------------------------------------------------------------------------


class Province(Strict):
    slug: str
    name: str = Field(description="Official name: 'Thành phố Hà Nội', 'Tỉnh Bắc Ninh'")
    authority: str = Field(description="The provincial People's Committee: 'UBND Thành phố Hà Nội'")
    merged_from: list[str] = Field(default=[], description="Former provinces merged into it on 12/6/2025")
    portal: HttpUrl | None = Field(default=None, description="The province's public service portal, when confirmed")

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not PROVINCE_SLUG_RE.match(v):
            raise ValueError("province slug must be lowercase ascii words joined by dashes")
        return v

    @field_validator("portal")
    @classmethod
    def _portal(cls, v: HttpUrl | None) -> HttpUrl | None:
        if v is not None and not is_official(str(v)):
            raise ValueError(f"{v.host} is not an official portal")
        return v


class ProvinceList(Strict):
    """knowledge/provinces/provinces.yaml"""

    sources: Sources = Field(min_length=1)
    provinces: list[Province] = Field(min_length=1)

    @field_validator("provinces")
    @classmethod
    def _unique(cls, v: list[Province]) -> list[Province]:
        slugs = [p.slug for p in v]
        if len(set(slugs)) != len(slugs):
            raise ValueError("duplicate province slug")
        return v


# --- the register of legal changes ---------------------------------------------------------------------------


class LegalChange(Strict):
    """An amending text: what it changed, from when, which entries it touches and which were updated for it."""

    number: str = Field(min_length=4, description="e.g. '161/2026/NĐ-CP'")
    title: str = Field(min_length=5)
    in_force: dt.date = Field(description="The day the change applies (for a temporary measure: its end, see `what`)")
    what: str = Field(min_length=5, description="What changed, in a sentence")
    affects: list[str] = Field(min_length=1, description="Procedure ids whose content the change touches")
    bases: list[str] = Field(default=[], description="Base amounts (bases.yaml) the change sets")
    updated: dict[str, dt.date] = Field(
        default={}, description="Procedure id -> the day the entry was updated (checked) for this change"
    )
    sources: Sources = Field(min_length=1)
    maintainer_notes: str | None = None

    @model_validator(mode="after")
    def _updated_affected(self) -> LegalChange:
        extra = sorted(set(self.updated) - set(self.affects))
        if extra:
            raise ValueError(f"updated lists procedures not in affects: {', '.join(extra)}")
        return self


class LegalRegister(Strict):
    """knowledge/legal-changes.yaml"""

    changes: list[LegalChange]
