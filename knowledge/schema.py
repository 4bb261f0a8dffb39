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

from pydantic import Field, HttpUrl, NonNegativeInt, field_validator, model_validator

from knowledge.schema_shared import BASE_ID_RE as BASE_ID_RE
from knowledge.schema_shared import CODE_RE as CODE_RE
from knowledge.schema_shared import OFFICIAL_DOMAINS as OFFICIAL_DOMAINS
from knowledge.schema_shared import PROVINCE_SLUG_RE as PROVINCE_SLUG_RE
from knowledge.schema_shared import SLUG_RE as SLUG_RE
from knowledge.schema_shared import Base as Base
from knowledge.schema_shared import BaseAmount as BaseAmount
from knowledge.schema_shared import BaseTable as BaseTable
from knowledge.schema_shared import BaseValue as BaseValue
from knowledge.schema_shared import CopyKind as CopyKind
from knowledge.schema_shared import LegalChange as LegalChange
from knowledge.schema_shared import LegalRegister as LegalRegister
from knowledge.schema_shared import Level as Level
from knowledge.schema_shared import LocalFacet as LocalFacet
from knowledge.schema_shared import Province as Province
from knowledge.schema_shared import ProvinceList as ProvinceList
from knowledge.schema_shared import Source as Source
from knowledge.schema_shared import Sources as Sources
from knowledge.schema_shared import Strict as Strict
from knowledge.schema_shared import TimeUnit as TimeUnit
from knowledge.schema_shared import _not_future as _not_future
from knowledge.schema_shared import is_official as is_official


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
