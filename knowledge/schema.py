"""The knowledge-base schema: every YAML file under knowledge/ is validated against these models.

Field names are English (they are code); values shown to citizens are Vietnamese.
Unknown keys are refused so that a typo in a YAML file is reported, not silently dropped.

Every claim a citizen acts on carries `sources`: each item of `documents` (and its `form` code, in `form_sources`),
each item of `fees.items` and `benefits`, `processing_time` and `agency`. A source is an official text or page
(`OFFICIAL_DOMAINS`); news sites and legal-information sites are leads for maintainers, kept under `pointers`.
`notes` are citizen text (rendered in the cards); `maintainer_notes` never are.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    NonNegativeInt,
    PrivateAttr,
    field_validator,
    model_validator,
)

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


class Agency(Strict):
    name: str = Field(min_length=2, description="Receiving body, e.g. 'UBND cấp xã'")
    where: str = Field(min_length=2, description="Where a citizen submits, in plain words")
    notes: str | None = None
    maintainer_notes: str | None = None
    sources: Sources = Field(min_length=1)


class Online(Strict):
    available: bool
    full: bool = Field(description="True when the whole procedure can be done online (toàn trình)")
    url: HttpUrl | None = None
    vneid: bool = Field(default=False, description="Can be done in the VNeID app")
    notes: str | None = None
    maintainer_notes: str | None = None

    @model_validator(mode="after")
    def _full_needs_available(self) -> Online:
        if self.full and not self.available:
            raise ValueError("full=true requires available=true")
        return self


class Channels(Strict):
    in_person: bool
    online: Online
    post: bool
    notes: str | None = None
    maintainer_notes: str | None = None


class Document(Strict):
    name: str = Field(min_length=3)
    kind: CopyKind = Field(description="original, certified_copy, original_or_copy, copy, present (xuất trình), none")
    count: int = Field(ge=0, le=20, default=1)
    form: str | None = Field(default=None, description="Form code, e.g. 'TK1-TS', only when confirmed")
    form_sources: Sources = Field(default=[], description="The text that sets the form code; required with `form`")
    when: str | None = Field(default=None, description="Only needed in this case")
    applies_when: dict[str, list[str]] = Field(
        default={},
        description="The procedure's situation answers this document is needed for: situation id -> option values "
        "(the fitted checklist); a situation not listed does not rule it out; empty: whatever the answers",
    )
    notes: str | None = None
    maintainer_notes: str | None = None
    sources: Sources = Field(min_length=1)

    @model_validator(mode="after")
    def _form_sourced(self) -> Document:
        if self.form and not self.form_sources:
            raise ValueError("a form code needs `form_sources` (the text that sets it)")
        if self.form_sources and not self.form:
            raise ValueError("`form_sources` without a `form`")
        return self


class ProcessingTime(Strict):
    value: float | None = Field(default=None, ge=0, description="None when it varies; say why in text")
    max_value: float | None = Field(default=None, ge=0)
    unit: TimeUnit
    text: str = Field(min_length=3, description="The human text, e.g. 'Ngay trong ngày tiếp nhận'")
    cutoff_hour: int | None = Field(
        default=None, ge=1, le=23, description="A file received at or after this hour counts from the next working day"
    )
    maintainer_notes: str | None = None
    sources: Sources = Field(min_length=1)

    @model_validator(mode="after")
    def _range(self) -> ProcessingTime:
        if self.max_value is not None and self.value is not None and self.max_value < self.value:
            raise ValueError("max_value must be >= value")
        return self


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


class Fee(Strict):
    case: str = Field(min_length=2, description="What the amount is for")
    amount: NonNegativeInt | BaseAmount | None = Field(
        default=None, description="Đồng, or a multiple of a base; None when it varies by province"
    )
    max_amount: int | None = Field(default=None, ge=0)
    unit: str | None = Field(default=None, description="e.g. 'trang', 'bản', 'hồ sơ'")
    set_by_province: bool = Field(
        default=False, description="The amount is set by each provincial People's Council (HĐND tỉnh)"
    )
    notes: str | None = None
    maintainer_notes: str | None = None
    sources: Sources = Field(min_length=1)

    @model_validator(mode="after")
    def _amounts(self) -> Fee:
        if isinstance(self.amount, BaseAmount) and self.max_amount is not None:
            raise ValueError("max_amount cannot go with an amount derived from a base")
        return self


class Fees(Strict):
    items: list[Fee] = Field(min_length=1)
    exemptions: list[str] = []
    notes: str | None = None
    maintainer_notes: str | None = None


class Benefit(Strict):
    """An amount the citizen receives (allowance, support), e.g. 20 times the social-assistance standard."""

    case: str = Field(min_length=2, description="Who receives it, for what")
    amount: NonNegativeInt | BaseAmount | None = Field(default=None, description="Đồng, or a multiple of a base")
    unit: str | None = Field(default=None, description="e.g. 'tháng', 'lần', 'con'")
    notes: str | None = None
    maintainer_notes: str | None = None
    sources: Sources = Field(min_length=1)


class LegalBasis(Strict):
    doc: str = Field(min_length=5, description="Document number and name")
    articles: str | None = None


class Review(Strict):
    """The second review: every claim re-derived from its source."""

    date: dt.date
    by: str = Field(min_length=2)
    changes: str = Field(min_length=2, description="What the review changed, or 'không thay đổi'")

    @field_validator("date")
    @classmethod
    def _date(cls, v: dt.date) -> dt.date:
        return _not_future(v, "date")


class ProvinceContext(Strict):
    """Set by the loader on every procedure of a knowledge base loaded for a province; never in a YAML file."""

    slug: str
    name: str = Field(description="Official name, e.g. 'Thành phố Hà Nội'")
    authority: str = Field(description="Whose rules an overlay states, e.g. 'UBND Thành phố Hà Nội'")
    portal: HttpUrl | None = None
    overlaid: list[LocalFacet] = Field(default=[], description="The facets this province's overlay sets")
    last_reviewed: dt.date | None = Field(default=None, description="The overlay's review date")


class SituationOption(Strict):
    value: str = Field(pattern=r"^[a-z0-9-]+$", description="Stable key, used in documents' `applies_when`")
    label: str = Field(min_length=2, max_length=40, description="The button's label")


class Situation(Strict):
    """A short question that decides which conditional documents a citizen needs (the fitted checklist)."""

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    question: str = Field(min_length=5)
    options: list[SituationOption] = Field(min_length=2, max_length=4)


class Procedure(Strict):
    id: str
    code: str | None = Field(default=None, description="National procedure code, e.g. 1.001193")
    name: str = Field(min_length=5)
    aliases: list[str] = Field(min_length=5)
    keywords: list[str] = Field(
        default=[], description="Words and short phrases citizens use to describe their situation; matcher only"
    )
    field: str
    level: Level
    agency: Agency
    channels: Channels
    documents: list[Document] = Field(min_length=1)
    processing_time: ProcessingTime
    fees: Fees
    benefits: list[Benefit] = Field(default=[], description="Amounts the citizen receives")
    steps: list[str] = Field(min_length=1)
    conditions: list[str] = []
    result: str = Field(min_length=3)
    varies_by_province: list[LocalFacet] = Field(
        default=[], description="Facets each province sets for itself: the card says so when no overlay applies"
    )
    legal_basis: list[LegalBasis] = Field(min_length=1)
    last_reviewed: dt.date
    reviewed: Review | None = Field(default=None, description="The second review; `kb validate` warns when absent")
    notes: list[str] = Field(default=[], description="Citizen text")
    situations: list[Situation] = Field(
        default=[], max_length=3, description="Questions asked before the checklist; documents say `applies_when`"
    )
    maintainer_notes: list[str] = Field(default=[], description="Never shown to citizens")
    pointers: list[HttpUrl] = Field(
        default=[], description="Leads for maintainers (news, legal-information sites, crawls): never sources"
    )
    province: ProvinceContext | None = Field(default=None, description="Set by the loader only")

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG_RE.match(v):
            raise ValueError("must look like 'field.name' in lowercase ascii with dashes")
        return v

    @field_validator("code")
    @classmethod
    def _code(cls, v: str | None) -> str | None:
        if v is not None and not CODE_RE.match(v):
            raise ValueError("national code must look like 1.001193")
        return v

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, v: list[str]) -> list[str]:
        seen = set()
        for a in v:
            key = a.strip().lower()
            if not key:
                raise ValueError("empty alias")
            if key in seen:
                raise ValueError(f"duplicate alias {a!r}")
            seen.add(key)
        return v

    @field_validator("last_reviewed")
    @classmethod
    def _reviewed(cls, v: dt.date) -> dt.date:
        if v < dt.date(2024, 1, 1) or v > dt.date.today():
            raise ValueError("must be a real review date between 2024-01-01 and today")
        return v

    @model_validator(mode="after")
    def _situations_known(self) -> Procedure:
        options = {s.id: {o.value for o in s.options} for s in self.situations}
        if len(options) != len(self.situations):
            raise ValueError("duplicate situation id")
        for i, d in enumerate(self.documents):
            for sid, values in d.applies_when.items():
                if sid not in options:
                    raise ValueError(f"documents.{i}.applies_when: unknown situation {sid!r}")
                if not values or set(values) - options[sid]:
                    raise ValueError(f"documents.{i}.applies_when.{sid}: values must be options of the situation")
        return self

    @model_validator(mode="after")
    def _review_is_complete(self) -> Procedure:
        if self.reviewed is not None and (left := len(generic_claims(self))):
            raise ValueError(
                f"`reviewed` is recorded but {left} claim(s) still carry generic sources; "
                "the second review replaces them with the text that states each claim"
            )
        return self

    def review_date(self) -> dt.date:
        """The latest review: the second review's date when there is one."""
        return max(self.last_reviewed, self.reviewed.date) if self.reviewed else self.last_reviewed


def claims(proc: Procedure) -> list[tuple[str, Sources]]:
    """Every claim of a procedure with its sources, as (path, sources): the paths `kb validate` names."""
    out: list[tuple[str, Sources]] = [
        ("agency", proc.agency.sources),
        ("processing_time", proc.processing_time.sources),
    ]
    for i, d in enumerate(proc.documents):
        out.append((f"documents.{i}", d.sources))
        if d.form:
            out.append((f"documents.{i}.form", d.form_sources))
    out += [(f"fees.items.{i}", f.sources) for i, f in enumerate(proc.fees.items)]
    out += [(f"benefits.{i}", b.sources) for i, b in enumerate(proc.benefits)]
    return out


def generic_claims(proc: Procedure) -> list[str]:
    """The claims whose sources are all generic (attached as the procedure's legal basis): the second review's list."""
    return [path for path, sources in claims(proc) if sources and all(s.generic for s in sources)]


def base_amounts(proc: Procedure) -> list[tuple[str, BaseAmount]]:
    """Every amount of a procedure derived from a base, as (path, amount)."""
    out = [(f"fees.items.{i}.amount", f.amount) for i, f in enumerate(proc.fees.items)]
    out += [(f"benefits.{i}.amount", b.amount) for i, b in enumerate(proc.benefits)]
    return [(path, a) for path, a in out if isinstance(a, BaseAmount)]


# --- province overlays ---------------------------------------------------------------------------------------


class Overlay(Strict):
    """knowledge/provinces/<province>/<procedure-id>.yaml: what a province sets for itself in a procedure.

    Each facet given replaces the national one whole (a `documents` list is the province's full list); `notes` and
    `legal_basis` are put before the national ones. Every claim carries sources, as in a procedure file."""

    procedure: str
    province: str
    authority: str | None = Field(
        default=None,
        description="Whose rules the overlay states when not the provincial People's Committee, e.g. "
        "'HĐND Thành phố Hà Nội' for fees set by the provincial council",
    )
    code: str | None = Field(default=None, description="The province's own code for the procedure, when it has one")
    last_reviewed: dt.date
    agency: Agency | None = None
    channels: Channels | None = None
    documents: list[Document] | None = None
    processing_time: ProcessingTime | None = None
    fees: Fees | None = None
    steps: list[str] | None = None
    conditions: list[str] | None = None
    notes: list[str] = Field(default=[], description="Citizen text, shown before the national notes")
    notes_sources: Sources = Field(default=[], description="Where the notes come from; required with notes")
    legal_basis: list[LegalBasis] = []
    maintainer_notes: list[str] = []
    pointers: list[HttpUrl] = []

    @field_validator("code")
    @classmethod
    def _code(cls, v: str | None) -> str | None:
        if v is not None and not CODE_RE.match(v):
            raise ValueError("procedure code must look like 1.001193")
        return v

    @field_validator("last_reviewed")
    @classmethod
    def _reviewed(cls, v: dt.date) -> dt.date:
        return _not_future(v, "last_reviewed")

    @model_validator(mode="after")
    def _notes_sourced(self) -> Overlay:
        if self.notes and not self.notes_sources:
            raise ValueError("an overlay's notes need `notes_sources`")
        return self

    def facets(self) -> list[LocalFacet]:
        """The card facets this overlay sets."""
        out: list[LocalFacet] = []
        if self.documents is not None:
            out.append("documents")
            if any(d.form for d in self.documents):
                out.append("forms")
        if self.processing_time is not None:
            out.append("time")
        if self.fees is not None:
            out.append("fee")
        if self.agency is not None:
            out.append("where")
        if self.channels is not None or self.steps is not None:
            out.append("how")
        if self.conditions is not None:
            out.append("conditions")
        return out


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
