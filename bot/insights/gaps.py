"""Knowledge-base gaps: questions the bot could not answer confidently.

Only the normalized question text is kept, and no chat id, so staff can see what citizens ask without seeing who
asked. `redact` removes from the text what could say who it is: likely personal names (after cues such as "tên",
"tôi là", "con tôi là", "họ tên", two or more capitalised words, a surname followed by a middle name) become
`<tên>`, receipt codes `<mã hồ sơ>`, e-mail addresses `<email>`, and every run of digits `<số>` — phone numbers,
but also the four phone digits or the birth year a citizen types to prove a case is theirs ("2395", "1987"). The
words of the question stay, so staff still see which procedure was asked about. Every step is linear in the
length of the text (see bot/privacy/masking.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.privacy.masking import NUMBER, mask_emails
from bot.storage.db import DB_ERRORS, session_scope
from bot.storage.models import UnansweredQuestion, utcnow
from knowledge.codes import CODE_RE
from knowledge.matcher import Understanding
from knowledge.text import clean, fold

log = logging.getLogger(__name__)

NAME = "<tên>"
MAX_CHARS = 300
# digits with the separators numbers are written with, as one placeholder: "0912 345 678", "01/02/1987", "1.000"
# (linear: every repetition starts with a separator, which no digit is, so a failed one gives back one character)
_DIGITS = re.compile(r"\d+(?:[ .,\-/:]\d+)*")
MAX_NAME_WORDS = 4


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(text: str) -> frozenset[tuple[str, ...]]:
    """Comma-separated phrases, folded (lowercase, no diacritics), as word tuples."""
    return frozenset(tuple(fold(p).split()) for p in text.split(","))


# Cues, folded (so typed with or without diacritics), and what follows them:
# - after these, a name typed in any case: "tên là an", "họ tên là Lê Thị B";
_NAME_IS = _phrases("tên là, họ tên là, họ và tên là, tên tôi là, tên em là, tên mình là, tên con là, tên cháu là")
# - after these, a name when it is capitalised or starts with a surname: "tôi là Nguyễn Văn An", "con tên lê thị b",
#   "họ tên: TRẦN VĂN C" (but not "tôi là sinh viên" or "đổi tên công ty");
_NAME_MAY_FOLLOW = _phrases(
    "tên, họ tên, họ và tên, tôi là, tui là, em là, mình là, cháu là, con là, bé là, con tôi là, con em là, "
    "con mình là, bố tôi là, mẹ tôi là, vợ tôi là, chồng tôi là, ông tôi là, bà tôi là, anh tôi là, chị tôi là, "
    "em tôi là"
)
_CUE_WORDS = max(len(cue) for cue in _NAME_IS | _NAME_MAY_FOLLOW)
# - after a kinship word, a capitalised word (not in title-cased text): "chị Lan", "bé An", "anh Nguyễn Văn Hùng".
_KIN = _words("anh chị em ông bà cô chú bác cháu bé con cậu dì mợ thím")

# Common Vietnamese surnames (those that are also everyday words — từ, lại, ông, tô, lã (typed "la") — left out).
_SURNAMES = _words(
    "nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý đinh trịnh trương mai lâm lương hà cao "
    "tạ đoàn vương thái châu quách tăng kiều lưu triệu hứa mạc tiêu đào đàm chu khổng giang doãn phùng nghiêm tôn "
    "lò hầu lục thân kim nông tống âu diệp cù ninh bạch lữ đậu khúc khương mẫn phó"
)
# Middle names: a surname followed by one of these is a name even in lowercase ("lê thị b", "trần văn c"); those
# that start everyday phrases after a surname-like word (công ty, quốc tịch, gia đình, quan trọng) left out.
_MIDDLE = _words(
    "văn thị hữu đức quang minh ngọc thanh thu xuân kim hoàng huy tuấn anh bảo đình mạnh duy khánh mỹ phương "
    "hồng diệu thùy thuỳ tiến hoài ánh bích cẩm hương lan"
)
# Words no name has: they end a name ("con tên lê thị b muốn làm khai sinh") and are never one, capitalised or
# not ("Cấp Giấy chứng nhận", "Sở Tư pháp", "Ủy ban Nhân Dân"). Given names (An, Nam, Trung, Tâm, Thành, Hải,
# Chi, Nhân, Công) are not here, even where they are also everyday words.
_NOT_NAME = _words(
    "là và với cho của ở tại thì mà nhưng muốn cần làm đi đang đã sẽ có không ko được bị sinh năm tuổi ngày tháng "
    "hỏi xin nay giờ hiện đến về từ sang nên phải chưa rồi ạ nhé nha ơi hả à gì sao nào bao nhiêu mất hết lấy "
    "nộp đăng ký cấp đổi học số sđt điện thoại mail email cccd cmnd căn cước hộ chiếu giấy tờ thủ tục hồ sơ khai "
    "này kia đó ấy nhà tôi người sở phòng bộ cục tòa toà án ủy uỷ ban dân tư pháp viện bệnh trường xã phường "
    "huyện quận tỉnh phố thị trấn ngân kho bạc thuế"
)
# Typed without diacritics, except where that is also a surname or a name ("nam": năm or Nam, "lam": làm or Lâm).
_NOT_NAME_FOLDED = {fold(w) for w in _NOT_NAME} - {fold(w) for w in _SURNAMES | _MIDDLE} - {"nam", "an"}
_SURNAMES_FOLDED = {fold(s) for s in _SURNAMES} - {fold(w) for w in _NOT_NAME}
# Places and countries: never a name, so that "ở Hà Nội", "người Hàn Quốc", "tại Việt Nam" stay for staff.
_PLACES = _phrases(
    "việt nam, hà nội, sài gòn, hồ chí minh, đà nẵng, hải phòng, cần thơ, huế, thừa thiên huế, nha trang, đà lạt, "
    "vũng tàu, bà rịa, phú quốc, hạ long, biên hòa, thủ đức, lai châu, điện biên, sơn la, lạng sơn, quảng ninh, "
    "thanh hóa, thanh hoá, nghệ an, hà tĩnh, cao bằng, tuyên quang, lào cai, thái nguyên, phú thọ, bắc ninh, "
    "hưng yên, ninh bình, quảng trị, quảng ngãi, gia lai, khánh hòa, khánh hoà, lâm đồng, đắk lắk, đồng nai, "
    "tây ninh, vĩnh long, đồng tháp, cà mau, an giang, hà giang, yên bái, bắc kạn, hòa bình, hoà bình, vĩnh phúc, "
    "bắc giang, hải dương, thái bình, nam định, hà nam, quảng bình, quảng nam, kon tum, bình định, phú yên, "
    "ninh thuận, bình thuận, đắk nông, bình phước, bình dương, long an, tiền giang, bến tre, trà vinh, sóc trăng, "
    "hậu giang, bạc liêu, kiên giang, hàn quốc, trung quốc, nhật bản, đài loan, thái lan, ấn độ, hoa kỳ, "
    "hồng kông, ma cao, lào, campuchia, úc, pháp, singapore, malaysia, indonesia, philippines, canada, việt kiều"
)
_PLACE_WORDS = max(len(p) for p in _PLACES)


def _core(token: str) -> tuple[int, int]:
    """Where the word of a token starts and ends, without the punctuation around it."""
    start, end = 0, len(token)
    while start < end and not token[start].isalnum():
        start += 1
    while end > start and not token[end - 1].isalnum():
        end -= 1
    return start, end


def _capitalised(word: str) -> bool:
    """'An', 'Nguyễn', 'B' — not 'CCCD' or 'UBND' (abbreviations) nor 'an'."""
    return word[:1].isupper() and (len(word) == 1 or word[1:].islower())


def _name_words(words: list[str]) -> list[bool]:
    """Which words are part of a likely personal name. `words` holds each token's word ("" or a non-word such as a
    number, an e-mail address or a receipt code for the others). Linear: at each word, the cues and places starting
    or ending there are at most `_CUE_WORDS` and `_PLACE_WORDS` words long, and a name is at most MAX_NAME_WORDS."""
    n = len(words)
    alpha = [w.isalpha() for w in words]
    lower = [w.lower() for w in words]
    folded = [fold(w) for w in lower]
    place = [False] * n
    for i in range(n):
        for size in range(1, _PLACE_WORDS + 1):
            if i + size <= n and tuple(folded[i : i + size]) in _PLACES:
                place[i : i + size] = [True] * size
    ascii_word = [w.isascii() for w in words]
    surname = [
        lo in _SURNAMES or (a and f in _SURNAMES_FOLDED) for lo, a, f in zip(lower, ascii_word, folded, strict=True)
    ]
    nameable = [
        al and not pl and (sn or not (lo in _NOT_NAME or (a and f in _NOT_NAME_FOLDED)))
        for al, pl, sn, lo, a, f in zip(alpha, place, surname, lower, ascii_word, folded, strict=True)
    ]
    caps = [ok and _capitalised(w) for ok, w in zip(nameable, words, strict=True)]
    capital = [c or (ok and len(w) > 1 and w.isupper()) for c, ok, w in zip(caps, nameable, words, strict=True)]
    n_alpha = sum(alpha)
    title_cased = (
        n_alpha >= 4 and sum(a and _capitalised(w) for a, w in zip(alpha, words, strict=True)) >= 0.8 * n_alpha
    )
    hide = [False] * n

    def mark(i: int, among: list[bool], least: int = 1) -> None:
        """The name that starts at word i: the words of `among` that follow (at least `least` of them)."""
        end = i
        while end < n and end - i < MAX_NAME_WORDS and (among[end] or end - i < least):
            hide[end] = True
            end += 1

    for i in range(n):
        if not nameable[i]:
            continue
        cues = {tuple(folded[i - size : i]) for size in range(1, min(i, _CUE_WORDS) + 1)}
        # "tên là An", "tên là an"; "tôi là Nguyễn Văn An", "tên lê thị b" (not "tôi là sinh viên")
        if cues & _NAME_IS or (cues & _NAME_MAY_FOLLOW and (capital[i] or surname[i])):
            mark(i, capital if capital[i] else nameable)
        if i and lower[i - 1] in _KIN and caps[i] and not title_cased:  # "chị Lan"
            mark(i, capital)
        if caps[i] and i + 1 < n and caps[i + 1] and (surname[i] or not title_cased):  # "Phạm Thị Nguyệt Ánh"
            mark(i, capital)
        if i + 1 < n and lower[i] in _SURNAMES and lower[i + 1] in _MIDDLE:  # "trần văn c", "NGUYỄN VĂN AN"
            mark(i, nameable, least=2)
    return hide


def hide_names(text: str) -> str:
    """Likely personal names in a cleaned text (single spaces) replaced by `<tên>`, one for each name."""
    tokens = text.split(" ")
    bounds = [_core(t) for t in tokens]
    hide = _name_words([t[a:b] for t, (a, b) in zip(tokens, bounds, strict=True)])
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if not hide[i]:
            out.append(tokens[i])
            i += 1
            continue
        j = i
        while j + 1 < len(tokens) and hide[j + 1]:
            j += 1
        out.append(tokens[i][: bounds[i][0]] + NAME + tokens[j][bounds[j][1] :])
        i = j + 1
    return " ".join(out)


def redact(text: str) -> str:
    """The question as it may be kept for staff: names, receipt codes, e-mail addresses and every digit replaced,
    lowercase, at most MAX_CHARS characters."""
    text = hide_names(clean(text, limit=2 * MAX_CHARS))
    text = CODE_RE.sub("<mã hồ sơ>", text)
    text = mask_emails(text)
    text = _DIGITS.sub(NUMBER, text)
    if any(ch.isdigit() for ch in text):  # digits that \\d does not match: superscripts, circled numbers
        text = "".join(NUMBER if ch.isdigit() else ch for ch in text)
    return clean(text, limit=MAX_CHARS).lower()


def is_gap(u: Understanding) -> bool:
    return u.intent == "out_of_scope" or (u.intent == "procedure" and not u.confident)


def _row(u: Understanding, source: str, matched: list[str] | None = None) -> dict[str, Any] | None:
    if not is_gap(u) or not u.query.strip():
        return None
    ids = matched if matched is not None else [m.id for m in u.matches[:3]]
    return {"text": redact(u.query), "intent": u.intent, "matched_ids": ids, "source": source, "created_at": utcnow()}


async def record(session: AsyncSession, u: Understanding, *, source: str, matched: list[str] | None = None) -> bool:
    row = _row(u, source, matched)
    if row:
        session.add(UnansweredQuestion(**row))
    return row is not None


class GapLog:
    """The bot's gaps, written in the background, a batch every few seconds.

    A reply never waits for this write: it was one database write for every fifth question, and with several
    bot processes on SQLite, concurrent small writes wait for each other's locks (docs/benchmarks.md, Bot
    throughput). Rows are kept in memory until written (at most `limit`; a database outage of hours drops
    the oldest), and `flush()` writes them now (at shutdown, before staff read them).
    """

    def __init__(self, engine: AsyncEngine, *, interval: float = 2.0, limit: int = 10_000) -> None:
        self.engine, self.interval, self.limit = engine, interval, limit
        self._rows: list[dict[str, Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None

    def add(self, u: Understanding, *, source: str) -> None:
        row = _row(u, source)
        if row is None:
            return
        self._rows.append(row)
        if len(self._rows) > self.limit:
            del self._rows[0]
        self._schedule()

    def _schedule(self) -> None:
        if self._timer is None and self._rows:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self._flush_later)

    def _flush_later(self) -> None:
        self._flushing = asyncio.get_running_loop().create_task(self.flush())  # kept: a task nobody holds may vanish

    async def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        rows, self._rows = self._rows, []
        if not rows:
            return
        try:
            async with session_scope(self.engine) as session:
                session.add_all([UnansweredQuestion(**r) for r in rows])
        except DB_ERRORS as exc:
            log.warning(
                "%d unanswered question(s) not written yet: database unavailable (%s)", len(rows), type(exc).__name__
            )
            self._rows = (rows + self._rows)[-self.limit :]
            self._schedule()


@dataclass(frozen=True)
class Gap:
    text: str
    count: int
    intent: str
    last_seen: dt.datetime


async def top_gaps(session: AsyncSession, *, since: dt.datetime | None = None, limit: int = 20) -> list[Gap]:
    q = UnansweredQuestion
    stmt = select(q.text, func.count(), func.max(q.intent), func.max(q.created_at)).group_by(q.text)
    if since:
        stmt = stmt.where(q.created_at >= since)
    stmt = stmt.order_by(func.count().desc(), func.max(q.created_at).desc()).limit(limit)
    rows = (await session.exec(stmt)).all()
    return [Gap(text, n, intent, last) for text, n, intent, last in rows]
