"""The procedure schema: every YAML file under knowledge/procedures is validated against it.

Field names are English (they are code); values shown to citizens are Vietnamese.
Unknown keys are refused so that a typo in a YAML file is reported, not silently dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

SLUG_RE = re.compile(r"^[a-z0-9-]+\.[a-z0-9-]+$")
CODE_RE = re.compile(r"^\d\.\d{6}$")

Level = Literal["xa", "tinh", "trung-uong"]
CopyKind = Literal["original", "certified_copy", "original_or_copy", "copy", "present", "none"]
TimeUnit = Literal["working_hours", "working_days", "days", "months", "immediate"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Agency(Strict):
    name: str = Field(min_length=2, description="Receiving body, e.g. 'UBND cấp xã'")
    where: str = Field(min_length=2, description="Where a citizen submits, in plain words")
    notes: str | None = None


class Online(Strict):
    available: bool
    full: bool = Field(description="True when the whole procedure can be done online (toàn trình)")
    url: HttpUrl | None = None
    vneid: bool = Field(default=False, description="Can be done in the VNeID app")
    notes: str | None = None

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


class Document(Strict):
    name: str = Field(min_length=3)
    kind: CopyKind = Field(description="original, certified_copy, original_or_copy, copy, present (xuất trình), none")
    count: int = Field(ge=0, le=20, default=1)
    form: str | None = Field(default=None, description="Form code, e.g. 'TK1-TS', only when confirmed")
    when: str | None = Field(default=None, description="Only needed in this case")
    notes: str | None = None


class ProcessingTime(Strict):
    value: float | None = Field(default=None, ge=0, description="None when it varies; say why in text/notes")
    max_value: float | None = Field(default=None, ge=0)
    unit: TimeUnit
    text: str = Field(min_length=3, description="The human text, e.g. 'Ngay trong ngày tiếp nhận'")

    @model_validator(mode="after")
    def _range(self) -> ProcessingTime:
        if self.max_value is not None and self.value is not None and self.max_value < self.value:
            raise ValueError("max_value must be >= value")
        return self


class Fee(Strict):
    case: str = Field(min_length=2, description="What the amount is for")
    amount: int | None = Field(default=None, ge=0, description="Đồng; None when it varies by province")
    max_amount: int | None = Field(default=None, ge=0)
    unit: str | None = Field(default=None, description="e.g. 'trang', 'bản', 'hồ sơ'")
    notes: str | None = None


class Fees(Strict):
    items: list[Fee] = Field(min_length=1)
    exemptions: list[str] = []
    notes: str | None = None


class LegalBasis(Strict):
    doc: str = Field(min_length=5, description="Document number and name")
    articles: str | None = None


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
    steps: list[str] = Field(min_length=1)
    conditions: list[str] = []
    result: str = Field(min_length=3)
    legal_basis: list[LegalBasis] = Field(min_length=1)
    last_reviewed: dt.date
    notes: list[str] = []
    sources: list[HttpUrl] = []

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
