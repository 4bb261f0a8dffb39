"""SQLModel tables for what changes at run time.

The knowledge base lives in YAML files; the database holds cases, their history, the
chats that follow them, chat state, feedback, surveys, unanswered questions and the
notification outbox. Times are stored as timezone-aware UTC.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import JSON, Column, Field, SQLModel


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on every backend (SQLite drops the offset, so add it back)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Case(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64, description="Normalized receipt code")
    display_code: str = Field(max_length=64, description="As printed on the appointment slip")
    procedure_id: str = Field(index=True, max_length=100)
    agency: str = Field(max_length=200)
    office: str | None = Field(default=None, max_length=300)
    applicant_name: str = Field(max_length=200)
    phone_hmac: str | None = Field(default=None, max_length=64)
    phone_last4: str | None = Field(default=None, max_length=4)
    birth_year: int | None = None
    received_at: dt.datetime = ts()
    appointment_date: dt.date
    new_appointment_date: dt.date | None = None
    channel: str = Field(default="truc-tiep", max_length=20)
    return_method: str = Field(default="truc-tiep", max_length=20)
    status: str = Field(default="received", index=True, max_length=20)
    status_note: str | None = None
    missing_documents: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    fee: int | None = None
    closed_at: dt.datetime | None = ts(default=None)
    created_at: dt.datetime = ts(default_factory=utcnow)
    updated_at: dt.datetime = ts(default_factory=utcnow)


class CaseEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    status: str = Field(max_length=20)
    note: str | None = None
    source: str = Field(default="system", max_length=40)
    at: dt.datetime = ts(default_factory=utcnow)


class Subscription(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("chat_id", "case_id"),)
    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=sa.BigInteger, index=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    active: bool = True
    created_at: dt.datetime = ts(default_factory=utcnow)


class ChatState(SQLModel, table=True):
    chat_id: int = Field(sa_type=sa.BigInteger, primary_key=True)
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    updated_at: dt.datetime = ts(default_factory=utcnow)


class Checklist(SQLModel, table=True):
    chat_id: int = Field(sa_type=sa.BigInteger, primary_key=True)
    procedure_id: str = Field(primary_key=True, max_length=100)
    checked: list[int] = Field(default_factory=list, sa_column=Column(JSON))
    updated_at: dt.datetime = ts(default_factory=utcnow)


class Feedback(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    tracking_no: str = Field(index=True, unique=True, max_length=20)
    chat_id: int | None = Field(default=None, sa_type=sa.BigInteger, index=True)
    category: str = Field(max_length=40)
    text: str
    text_masked: str | None = Field(
        default=None, description="The text as staff without the pii scope read it (bot.privacy.masking.mask_text)"
    )
    case_code: str | None = Field(default=None, max_length=64)
    status: str = Field(default="received", max_length=20)
    reply: str | None = None
    created_at: dt.datetime = ts(default_factory=utcnow)


class SurveyResponse(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    procedure_id: str | None = Field(default=None, max_length=100, index=True)
    agency: str | None = Field(default=None, max_length=200)
    case_id: int | None = Field(default=None, foreign_key="case.id")
    scores: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON))
    comment: str | None = None
    comment_masked: str | None = Field(
        default=None, description="The comment as staff without the pii scope read it (bot.privacy.masking.mask_text)"
    )
    created_at: dt.datetime = ts(default_factory=utcnow)


class UnansweredQuestion(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(max_length=500, description="Normalized question, personal data removed")
    intent: str = Field(max_length=20)
    matched_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    source: str = Field(default="bot", max_length=20)
    created_at: dt.datetime = ts(default_factory=utcnow, index=True)


class Outbox(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True, max_length=200)
    chat_id: int = Field(sa_type=sa.BigInteger, index=True)
    case_id: int | None = Field(default=None, foreign_key="case.id")
    kind: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    due_at: dt.datetime = ts(default_factory=utcnow, index=True)
    urgent: bool = False
    status: str = Field(default="pending", max_length=20, index=True)
    lease_until: dt.datetime | None = ts(default=None)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=300)
    sent_at: dt.datetime | None = ts(default=None)
    created_at: dt.datetime = ts(default_factory=utcnow)


class VerificationAttempt(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=10, description="'chat' or 'code'")
    key: str = Field(max_length=100, index=True)
    success: bool = False
    at: dt.datetime = ts(default_factory=utcnow, index=True)


class CodeGuard(SQLModel, table=True):
    """What the attempt limits remember of one receipt code beyond a day (bot/cases/verification.py): failures since
    the last success or staff unlock, failures per day over the last week, which chats failed, and the lock."""

    code_key: str = Field(primary_key=True, max_length=32, description="Hash of the normalized code")
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True, description="None: no such case")
    failures: int = Field(default=0, description="Since the last success or staff unlock; at the limit: locked")
    days: dict[str, int] = Field(
        default_factory=dict, sa_column=Column(JSON), description="Failures per UTC day, the last 7 days"
    )
    chats: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON), description="Hashed chat id -> last UTC day it failed, 7 days"
    )
    alerted: list[str] = Field(
        default_factory=list, sa_column=Column(JSON), description="Alert reasons raised since the last unlock"
    )
    locked_at: dt.datetime | None = ts(default=None)
    updated_at: dt.datetime = ts(default_factory=utcnow)


class VerificationAlert(SQLModel, table=True):
    """For staff (the console, `tthc-bot cases …`): a code collected failed attempts from several chats or on
    several days, or was locked. No chat id, no digits: the case, why, and the counts when it was raised."""

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    code_key: str = Field(max_length=32, index=True)
    reason: str = Field(max_length=20, description="several_chats, several_days or locked")
    failures: int = Field(description="Failures since the last success or unlock, when raised")
    chats: int = Field(description="Distinct chats that failed in the last 7 days")
    days: int = Field(description="Distinct days with failures in the last 7 days")
    created_at: dt.datetime = ts(default_factory=utcnow, index=True)
    resolved_at: dt.datetime | None = ts(default=None)
    resolved_by: str | None = Field(default=None, max_length=40, description="Who unlocked it (api:<key>, cli)")


class ApiKey(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    key_hash: str = Field(max_length=128, unique=True)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    created_at: dt.datetime = ts(default_factory=utcnow)
    revoked_at: dt.datetime | None = ts(default=None)
    expires_at: dt.datetime = ts(
        default_factory=lambda: utcnow() + dt.timedelta(days=365), description="Refused from then on (401 expired)"
    )


# --- the staff console (bot/accounts, bot/staff/feedback_desk.py, api/console) --------------------------------


class StaffAccount(SQLModel, table=True):
    """A console user: officer, lead or admin. Disabled, never deleted, so the audit log keeps its names."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=50, unique=True)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=200, description="Argon2id (bot/accounts/passwords.py)")
    active: bool = True
    created_at: dt.datetime = ts(default_factory=utcnow)
    updated_at: dt.datetime = ts(default_factory=utcnow)
    last_login_at: dt.datetime | None = ts(default=None)


class StaffSession(SQLModel, table=True):
    """A signed-in console session: the cookie holds a random token, this row only its SHA-256."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    staff_id: int = Field(foreign_key="staffaccount.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: dt.datetime = ts(default_factory=utcnow)
    last_seen_at: dt.datetime = ts(default_factory=utcnow)
    expires_at: dt.datetime = ts()


class LoginAttempt(SQLModel, table=True):
    """One console login attempt, counted per username and per address for the lockout; kept one day."""

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, index=True, description="As typed, folded to lowercase")
    address: str = Field(max_length=64, index=True)
    success: bool = False
    at: dt.datetime = ts(default_factory=utcnow, index=True)


class AuditEntry(SQLModel, table=True):
    """A change made in the console or by `tthc-bot staff`: who, when, what, and the values before and after."""

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = ts(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="staffaccount.id", index=True)
    actor: str = Field(max_length=60, description="The username, or 'cli' for the command line")
    action: str = Field(max_length=40, index=True)
    target: str = Field(max_length=200)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    address: str | None = Field(default=None, max_length=64)


class FeedbackAssignment(SQLModel, table=True):
    """Which staff member answers a feedback ticket (at most one at a time)."""

    feedback_id: int = Field(foreign_key="feedback.id", primary_key=True, ondelete="CASCADE")
    staff_id: int = Field(foreign_key="staffaccount.id", index=True)
    assigned_at: dt.datetime = ts(default_factory=utcnow)


class InboxUpdate(SQLModel, table=True):
    """Cluster mode (bot/cluster/inbox.py): one Telegram update as the webhook received it, kept until it is answered
    (and a day longer, so that Telegram's retries of it are recognised). `update_id` is the key: a retry is a no-op."""

    __table_args__ = (  # what the consumers scan: the updates not answered yet, per chat in update_id order
        sa.Index(
            "ix_inboxupdate_open",
            "chat_id",
            "update_id",
            postgresql_where=sa.text("replied_at IS NULL"),
            sqlite_where=sa.text("replied_at IS NULL"),
        ),
    )

    update_id: int = Field(sa_column=Column(sa.BigInteger, primary_key=True, autoincrement=False))
    chat_id: int = Field(sa_type=sa.BigInteger, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    received_at: dt.datetime = ts(default_factory=utcnow)
    handled_at: dt.datetime | None = ts(default=None)
    replies: list[Any] | None = Field(default=None, sa_column=Column(JSON))
    replied_at: dt.datetime | None = ts(default=None, index=True)
    handled_by: str | None = Field(default=None, max_length=100)


class ChatClaim(SQLModel, table=True):
    """Cluster mode: the instance answering a chat now, until `lease_until` unless it renews the claim."""

    chat_id: int = Field(sa_column=Column(sa.BigInteger, primary_key=True, autoincrement=False))
    holder: str = Field(max_length=100)
    lease_until: dt.datetime = ts()


class ClusterLease(SQLModel, table=True):
    """Cluster mode: a named lease (the scheduler's leadership), held by one instance until `lease_until`."""

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=100)
    lease_until: dt.datetime = ts()


class JobRun(SQLModel, table=True):
    """A scheduled job's run for one due time, written in the job's own transaction: never twice."""

    job: str = Field(primary_key=True, max_length=40)
    due_at: dt.datetime = ts(primary_key=True)
    holder: str = Field(max_length=100)
    ran_at: dt.datetime = ts(default_factory=utcnow)
