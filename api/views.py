"""What the API shows of stored rows, with personal data masked unless the key has the `pii` scope.

Without `pii`: the applicant's name is masked (`Nguyễn V*** A`), the phone's last digits and the birth year (what a
citizen gives the bot to prove a case is theirs) are left out, phone numbers and e-mail addresses in free text (the
citizen's text and staff's reply alike) are replaced, chat ids are left out. Receipt codes stay: staff need them.
Free text is masked once, when it is stored (`feedback.text_masked`, `surveyresponse.comment_masked`, see
`bot/privacy/masking.py`); only rows stored before that copy existed, and staff replies, are masked here, in linear
time.

A key without `read` gets back from a write only what it sent: the code and the status (`CaseRef`, `FeedbackRef`).
"""

from __future__ import annotations

from api.schemas import CasePublic, CaseRef, EventPublic, FeedbackPublic, FeedbackRef, SurveyPublic
from bot.cases.rules import STATUSES
from bot.feedback.tickets import CATEGORIES, STATES
from bot.privacy.hashing import mask_name
from bot.privacy.masking import mask_text
from bot.replies.case_view import due_date, procedure_name
from bot.storage.models import Case, CaseEvent, Feedback, SurveyResponse
from knowledge.loader import KnowledgeBase


def _masked(text: str | None, stored: str | None) -> str | None:
    """The stored masked copy, or the text masked now when the row has none (stored before the copy existed)."""
    if text is None:
        return None
    return stored if stored is not None else mask_text(text)


def case_public(case: Case, kb: KnowledgeBase, *, pii: bool) -> CasePublic:
    return CasePublic(
        code=case.display_code,
        procedure_id=case.procedure_id,
        procedure_name=procedure_name(case, kb),
        agency=case.agency,
        office=case.office,
        applicant_name=case.applicant_name if pii else mask_name(case.applicant_name),
        personal_data="full" if pii else "masked",
        phone_on_file=case.phone_hmac is not None,
        phone_last4=case.phone_last4 if pii else None,
        birth_year=case.birth_year if pii else None,
        received_at=case.received_at,
        appointment_date=case.appointment_date,
        new_appointment_date=case.new_appointment_date,
        due_date=due_date(case),
        channel=case.channel,
        return_method=case.return_method,
        status=case.status,
        status_label=STATUSES.get(case.status, case.status),
        status_note=case.status_note,
        missing_documents=list(case.missing_documents or []),
        fee=case.fee,
        closed_at=case.closed_at,
        created_at=case.created_at,
        updated_at=case.updated_at,
    )


def case_written(case: Case, kb: KnowledgeBase, *, read: bool, pii: bool) -> CasePublic | CaseRef:
    """What a write answers: the case for a key that may read it, else only its code and status."""
    if read:
        return case_public(case, kb, pii=pii)
    return CaseRef(code=case.display_code, status=case.status, updated_at=case.updated_at)


def event_public(event: CaseEvent) -> EventPublic:
    return EventPublic(
        status=event.status,
        status_label=STATUSES.get(event.status, event.status),
        note=event.note,
        source=event.source,
        at=event.at,
    )


def feedback_public(fb: Feedback, *, pii: bool) -> FeedbackPublic:
    return FeedbackPublic(
        tracking_no=fb.tracking_no,
        category=fb.category,
        category_label=CATEGORIES.get(fb.category, fb.category),
        text=fb.text if pii else (_masked(fb.text, fb.text_masked) or ""),
        case_code=fb.case_code,
        status=fb.status,
        status_label=STATES.get(fb.status, fb.status),
        reply=fb.reply if pii or fb.reply is None else mask_text(fb.reply),
        chat_id=fb.chat_id if pii else None,
        created_at=fb.created_at,
    )


def feedback_written(fb: Feedback, *, read: bool, pii: bool) -> FeedbackPublic | FeedbackRef:
    if read:
        return feedback_public(fb, pii=pii)
    return FeedbackRef(tracking_no=fb.tracking_no, status=fb.status)


def survey_public(resp: SurveyResponse, case_code: str | None, kb: KnowledgeBase, *, pii: bool) -> SurveyPublic:
    scores = {k: v for k, v in (resp.scores or {}).items() if isinstance(v, int)}
    proc = kb.get(resp.procedure_id) if resp.procedure_id else None
    comment = resp.comment if pii else _masked(resp.comment, resp.comment_masked)
    return SurveyPublic(
        id=resp.id or 0,
        procedure_id=resp.procedure_id,
        procedure_name=proc.name if proc else None,
        agency=resp.agency,
        case_code=case_code,
        scores=scores,
        average=round(sum(scores.values()) / len(scores), 2) if scores else None,
        comment=comment,
        created_at=resp.created_at,
    )
