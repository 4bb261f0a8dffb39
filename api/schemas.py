"""Request and response models of the staff HTTP API (SQLModel-style families: a base with the shared
fields, `...Create` and `...Update` for what a client sends, `...Public` for what it reads back).

Every string a client sends is NFC-normalized, trimmed, length-checked after normalization and
free of control characters and lone surrogates (PostgreSQL rejects NUL bytes and invalid UTF-8,
so such input must be a 422 here, not a database error later). Numbers and dates are bounded for
the same reason.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

from bot.cases.rules import STATUSES
from bot.feedback.tickets import CATEGORIES, STATES
from bot.privacy.hashing import digits
from bot.privacy.masking import clean_name
from bot.replies.dates import parse_date
from knowledge.codes import CODE_RE

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINEBREAK = re.compile(r"[\t\n\r\u2028\u2029]")
MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)


def _clean(max_length: int, *, multiline: bool = False) -> Callable[[str], str]:
    """A validator: NFC, trimmed, not empty, at most `max_length` characters, no control characters (nor line
    breaks unless `multiline`)."""

    def check(value: str) -> str:
        if _CONTROL.search(value) or (not multiline and _LINEBREAK.search(value)):
            raise ValueError("control characters are not allowed" + ("" if multiline else " (one line of text)"))
        value = unicodedata.normalize("NFC", value).strip()
        if not value:
            raise ValueError("must not be empty")
        if len(value) > max_length:
            raise ValueError(f"at most {max_length} characters")
        return value

    return check


def _in_range(value: dt.date) -> dt.date:
    day = value.date() if isinstance(value, dt.datetime) else value
    if not MIN_DATE <= day <= MAX_DATE:
        raise ValueError(f"must be between {MIN_DATE.isoformat()} and {MAX_DATE.isoformat()}")
    return value


def _vn_date(value: Any) -> Any:
    """Accept dd/mm/yyyy (as offices write dates) besides ISO yyyy-mm-dd."""
    if isinstance(value, str):
        return parse_date(value) or value
    return value


def _phone(value: str) -> str:
    if not re.fullmatch(r"[0-9 +().\-]{9,20}", value.strip()):
        raise ValueError("a phone number: digits, optionally with spaces, dots, dashes or a leading +84")
    number = digits(value)
    if not 9 <= len(number) <= 12:
        raise ValueError("a phone number has 9 to 12 digits")
    return value.strip()


def _name(value: str) -> str:
    """A person's name without direction overrides or invisible characters (`clean_name`), which could make a name
    read differently on staff's screens than it is stored."""
    return clean_name(value)


def _receipt_code(value: str) -> str:
    if not CODE_RE.fullmatch(value.strip()):
        raise ValueError("not a receipt code; expected e.g. 000.00.15.H57-261114-0001 (any separators)")
    return value.strip()


# Before the length check: StringConstraints counts the text as sent, `_clean` after normalization.
Text100: TypeAlias = Annotated[str, StringConstraints(max_length=100), AfterValidator(_clean(100))]
Text200: TypeAlias = Annotated[str, StringConstraints(max_length=200), AfterValidator(_clean(200))]
Text300: TypeAlias = Annotated[str, StringConstraints(max_length=300), AfterValidator(_clean(300))]
Name: TypeAlias = Annotated[str, StringConstraints(max_length=200), AfterValidator(_clean(200)), AfterValidator(_name)]
LongText: TypeAlias = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_clean(2000, multiline=True))]
ApiDate: TypeAlias = Annotated[
    dt.date,
    BeforeValidator(_vn_date),
    AfterValidator(_in_range),
    Field(description="ISO yyyy-mm-dd (dd/mm/yyyy accepted)"),
]
ApiDateTime: TypeAlias = Annotated[
    dt.datetime,
    AfterValidator(_in_range),
    Field(description="ISO 8601; without an offset it is read as local time (TIMEZONE)"),
]
Phone: TypeAlias = Annotated[str, StringConstraints(max_length=20), AfterValidator(_phone)]
ReceiptCode: TypeAlias = Annotated[str, StringConstraints(max_length=64), AfterValidator(_receipt_code)]
Slug: TypeAlias = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,19}$")]
Fee: TypeAlias = Annotated[int, Field(ge=0, le=1_000_000_000, description="Fee in VND")]
BirthYear: TypeAlias = Annotated[int, Field(ge=1900, le=2100)]
if TYPE_CHECKING:  # mypy cannot read a Literal built from the tables at run time; to it these are strings
    StatusName: TypeAlias = str
    FeedbackState: TypeAlias = str
    FeedbackCategory: TypeAlias = str
else:  # the allowed values, from the rules table and the feedback module, in the schema and in validation
    StatusName = Literal[tuple(STATUSES)]
    FeedbackState = Literal[tuple(STATES)]
    FeedbackCategory = Literal[tuple(CATEGORIES)]


# --- cases ------------------------------------------------------------------------------------


class CaseBase(BaseModel):
    procedure_id: Text100 = Field(description="Knowledge-base procedure id, e.g. cu-tru.dang-ky-tam-tru")
    agency: Text200 = Field(description="Agency that decides the case")
    office: Text300 | None = Field(default=None, description="Where the result is returned (Bộ phận Một cửa)")
    appointment_date: ApiDate = Field(description="Appointment date printed on the slip")
    channel: Slug = Field(default="truc-tiep", description="How it was submitted: truc-tiep, truc-tuyen, buu-chinh")
    return_method: Slug = Field(default="truc-tiep", description="How the result is returned")
    fee: Fee | None = None


class CaseCreate(CaseBase):
    """A new case, as entered at the one-stop shop."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "code": "000.00.15.H57-261114-0001",
                    "procedure_id": "cu-tru.dang-ky-tam-tru",
                    "agency": "Công an xã Phú Thượng",
                    "office": "Bộ phận Một cửa xã Phú Thượng",
                    "applicant_name": "Nguyễn Văn An",
                    "phone": "0912345678",
                    "received_at": "2026-11-14T08:30:00+07:00",
                    "appointment_date": "2026-11-19",
                }
            ]
        },
    )

    code: ReceiptCode = Field(description="Receipt code on the appointment slip, any separators")
    applicant_name: Name = Field(description="Direction overrides and zero-width characters are removed")
    phone: Phone | None = Field(default=None, description="Stored only as an HMAC plus the last four digits")
    birth_year: BirthYear | None = None
    received_at: ApiDateTime | None = Field(default=None, description="Default: now")


_NOT_NULL = ("procedure_id", "agency", "applicant_name", "appointment_date", "channel", "return_method")


class CaseUpdate(BaseModel):
    """Fields to change; omitted fields stay as they are, `null` clears an optional one.
    The status is changed with POST /cases/{code}/status, the code never."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"appointment_date": "2026-11-21", "office": "Bộ phận Một cửa xã Phú Thượng"}]},
    )

    procedure_id: Text100 | None = None
    agency: Text200 | None = None
    office: Text300 | None = None
    applicant_name: Name | None = None
    phone: Phone | None = Field(default=None, description="Changing it needs the pii scope")
    birth_year: BirthYear | None = Field(default=None, description="Changing it needs the pii scope")
    appointment_date: ApiDate | None = None
    channel: Slug | None = None
    return_method: Slug | None = None
    fee: Fee | None = None

    @field_validator(*_NOT_NULL, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("this field cannot be cleared")
        return value


class CasePublic(BaseModel):
    """A case as the API shows it. Without the `pii` scope the applicant's name is masked
    (`Nguyễn V*** A`) and the phone's last digits and the birth year, which citizens use to prove a
    case is theirs in the bot, are left out."""

    code: str = Field(description="Printed form, e.g. 000.00.15.H57-261114-0001")
    procedure_id: str
    procedure_name: str
    agency: str
    office: str | None
    applicant_name: str
    personal_data: Literal["full", "masked"]
    phone_on_file: bool
    phone_last4: str | None = Field(description="Only with the pii scope")
    birth_year: int | None = Field(description="Only with the pii scope")
    received_at: dt.datetime
    appointment_date: dt.date
    new_appointment_date: dt.date | None
    due_date: dt.date = Field(description="The new appointment date if one was set, else the original")
    channel: str
    return_method: str
    status: str
    status_label: str
    status_note: str | None
    missing_documents: list[str]
    fee: int | None
    closed_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class CaseRef(BaseModel):
    """What a write returns to a key without the `read` scope: the case's code and status, nothing it did not
    send (a key gets exactly what its scopes say; reading a case needs `read`)."""

    code: str = Field(description="Printed form, e.g. 000.00.15.H57-261114-0001")
    status: str
    updated_at: dt.datetime


class SlipLink(BaseModel):
    """The deep link printed as a QR code on the appointment slip. It carries a token signed with the server's
    SECRET_KEY that opens the case in the bot without the phone digits: print it only on the citizen's slip."""

    code: str
    link: str = Field(description="https://t.me/<bot>?start=<payload>")
    payload: str = Field(description="The /start payload alone (at most 64 characters of [A-Za-z0-9_-])")


class UnlockResult(BaseModel):
    """A case's verification lock lifted by staff: the failures counted against its code are cleared and its open
    alerts resolved."""

    code: str
    was_locked: bool = Field(description="Whether the code was locked until staff unlock it")
    failures_cleared: int = Field(description="Failed attempts forgotten (since the last unlock or success)")
    alerts_resolved: int


class StatusChange(BaseModel):
    """A status change by staff. `overdue` needs `new_date`, `rejected` a `note` (the reason),
    `need_supplement` the `missing_documents` (or a `note`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"status": "in_progress"},
                {"status": "overdue", "new_date": "2026-12-14", "note": "Cần xác minh thêm"},
                {"status": "need_supplement", "missing_documents": ["Giấy xác nhận chỗ ở hợp pháp"]},
            ]
        },
    )

    status: StatusName
    note: LongText | None = None
    new_date: ApiDate | None = Field(default=None, description="New appointment date (needed for overdue)")
    missing_documents: list[Text300] | None = Field(default=None, max_length=30)


class EventPublic(BaseModel):
    status: str
    status_label: str
    note: str | None
    source: str
    at: dt.datetime


class StatusChangeResult(BaseModel):
    case: CasePublic | CaseRef = Field(description="The case; only its code and status for a key without `read`")
    event: EventPublic


# --- feedback and surveys ---------------------------------------------------------------------


class FeedbackPublic(BaseModel):
    tracking_no: str
    category: str
    category_label: str
    text: str = Field(description="Without the pii scope, phone numbers and e-mail addresses are masked")
    case_code: str | None
    status: str
    status_label: str
    reply: str | None = Field(description="Staff's answer; masked as the text is without the pii scope")
    chat_id: int | None = Field(description="Only with the pii scope")
    created_at: dt.datetime


class FeedbackRef(BaseModel):
    """What answering feedback returns to a key without the `read` scope."""

    tracking_no: str
    status: str


class FeedbackUpdate(BaseModel):
    """Staff's answer. A reply without a status sets the status to `answered`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"status": "answered", "reply": "Bộ phận Một cửa đã tiếp thu và sẽ bố trí thêm quầy vào sáng thứ Hai."}
            ]
        },
    )

    status: FeedbackState | None = None
    reply: LongText | None = None


class SurveyPublic(BaseModel):
    id: int
    procedure_id: str | None
    procedure_name: str | None
    agency: str | None
    case_code: str | None
    scores: dict[str, int]
    average: float | None
    comment: str | None = Field(description="Without the pii scope, phone numbers and e-mail addresses are masked")
    created_at: dt.datetime


class Page(BaseModel):
    total: int
    limit: int
    offset: int


class FeedbackPage(Page):
    items: list[FeedbackPublic]


class SurveyPage(Page):
    items: list[SurveyPublic]


# the field names of every request body: an error may name these, never a name only the client wrote (api/errors.py)
REQUEST_FIELDS = frozenset(
    name for model in (CaseCreate, CaseUpdate, StatusChange, FeedbackUpdate) for name in model.model_fields
)


# --- statistics -------------------------------------------------------------------------------


class CaseCounts(BaseModel):
    total: int
    open: int
    closed: int
    by_status: dict[str, int] = Field(description="Every status, zero included")


class OnTime(BaseModel):
    finished: int = Field(description="Cases closed with a result (returned or rejected) in the period")
    on_time: int = Field(description="Result ready on or before the due date (the new appointment date if set)")
    late: int
    rate: float | None = Field(description="on_time / finished, 0–1; null without finished cases")
    on_time_original: int = Field(description="Result ready on or before the original appointment date")
    rate_original: float | None


class OnTimeByProcedure(OnTime):
    procedure_id: str
    procedure_name: str


class OnTimeByAgency(OnTime):
    agency: str


class OnTimeStats(BaseModel):
    overall: OnTime
    by_procedure: list[OnTimeByProcedure]
    by_agency: list[OnTimeByAgency]


class CriterionScore(BaseModel):
    key: str
    label: str
    responses: int
    average: float | None = Field(description="1–5, two decimals")


class Satisfaction(BaseModel):
    responses: int
    overall_average: float | None = Field(description="Mean of every criterion score given")
    criteria: list[CriterionScore]


class FeedbackCounts(BaseModel):
    total: int
    by_status: dict[str, int]


class Stats(BaseModel):
    generated_at: dt.datetime
    since: dt.date | None
    until: dt.date | None
    cases: CaseCounts
    on_time: OnTimeStats
    satisfaction: Satisfaction
    feedback: FeedbackCounts


# --- misc -------------------------------------------------------------------------------------


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(BaseModel):
    error: str = Field(description="Machine-readable code, e.g. case_not_found, invalid_transition")
    message: str = Field(description="What went wrong, in English")
    message_vi: str | None = Field(default=None, description="The same in Vietnamese, when available")
    detail: list[ErrorItem] | None = Field(default=None, description="Validation errors with field locations")
    error_id: str | None = Field(default=None, description="For unexpected errors: quote it when reporting")


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "error"]
