"""Answers that fit a phone: the short card of a facet, the documents everyone needs apart from those of special
situations, and the direct answer to a specific question.

The full cards stay in cards.py (`kb show`, "📜 Xem đầy đủ"); these render the same data in less room. A card stays
under LIMIT characters as the citizen reads it: what does not fit is behind a button, never dropped silently.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from bot.replies import cards
from bot.replies.dates import vn_date
from bot.replies.excerpts import Passage
from knowledge.schema import Document, Procedure

e = html.escape
LIMIT = 1200  # characters of a card as read, before its buttons
SOURCES = 2  # sources named in a short card's "Căn cứ" line

_FALLBACK = re.compile(r"^chỉ khi\b", re.IGNORECASE)  # papers asked only when the office cannot look it up

# A `when` that says only how the file is handed in: everyone who submits that way needs the paper, so it is not a
# special situation ("Nộp trực tiếp", "Nộp hồ sơ bằng bản giấy", "Nếu có").
_CHANNEL_WHEN = re.compile(
    r"^(?:(?:khi |nếu )?(?:nộp|làm|đăng ký)(?: hồ sơ| thủ tục)? (?:trực tiếp|bằng bản giấy|hồ sơ giấy|bản giấy)"
    r"|nếu có\b)",
    re.IGNORECASE,
)


def plain_len(text: str) -> int:
    return len(cards.to_plain(text))


def is_special(doc: Document) -> bool:
    """A document only some applicants need: it has a `when` that is more than how the file is handed in."""
    applies = getattr(doc, "applies_when", None)
    if applies:
        return True
    return bool(doc.when) and not _CHANNEL_WHEN.match((doc.when or "").strip())


def common_documents(proc: Procedure) -> list[tuple[int, Document]]:
    return [(i, d) for i, d in enumerate(proc.documents) if not is_special(d)]


def special_documents(proc: Procedure) -> list[tuple[int, Document]]:
    return [(i, d) for i, d in enumerate(proc.documents) if is_special(d)]


def _doc_line(n: int, doc: Document, *, when: bool) -> str:
    detail = [cards.COPY_KIND[doc.kind]] if cards.COPY_KIND.get(doc.kind) else []
    if doc.count > 1:
        detail.append(f"{doc.count} bản")
    if doc.form:
        detail.append(f"mẫu: {doc.form}")
    line = f"{n}. {e(doc.name)}" + (f" — {e(', '.join(detail))}" if detail else "")
    if doc.when and (when or not is_special(doc)):
        line += f"\n   <i>Khi: {e(doc.when)}</i>"
    return line


def _situation(doc: Document, proc: Procedure | None = None) -> str:
    """The situation a special document is for, shortened to its first clause (or the answers it is needed for)."""
    text = (doc.when or "").split(";")[0].strip().rstrip(".") or _answers(doc, proc)
    text = text[:1].lower() + text[1:]
    return text if len(text) <= 70 else text[:69].rsplit(" ", 1)[0] + "…"


def _special_line(n: int, doc: Document, proc: Procedure) -> str:
    detail = cards.COPY_KIND.get(doc.kind, "")
    situation = doc.when or _answers(doc, proc)
    when = f"<i>{e(situation)}</i>: " if situation else ""
    return f"{n}. {when}{e(doc.name)}" + (f" ({e(detail)})" if detail else "")


def _answers(doc: Document, proc: Procedure | None) -> str:
    """The labels of the situation answers a document is needed for ("Trẻ dưới 14 tuổi")."""
    need = getattr(doc, "applies_when", None) or {}
    labels = {
        str(getattr(o, "value", "")): str(getattr(o, "label", ""))
        for s in (getattr(proc, "situations", None) or [])
        for o in getattr(s, "options", [])
        if getattr(s, "id", None) in need
    }
    return " hoặc ".join(labels.get(v, v) for vs in need.values() for v in vs)


def sources_line(proc: Procedure, claims: Iterable[object] = (), *, limit: int = SOURCES) -> str:
    """'Căn cứ:' the sources of the claims shown (the legal basis when they record none), and the review date."""
    seen: dict[str, str] = {}
    for c in claims:
        for s in getattr(c, "sources", None) or ():
            seen.setdefault(str(s.title).rstrip("."), "")
    labels = list(seen) or [b.doc.rstrip(".") + (f", {b.articles}" if b.articles else "") for b in proc.legal_basis]
    more = "; …" if len(labels) > limit else "."
    body = "; ".join(e(x) for x in labels[:limit])
    return f"<i>Căn cứ: {body}{more} Thông tin cập nhật ngày {vn_date(proc.last_reviewed)}.</i>"


def _facet_claims(proc: Procedure, facet: str) -> list[object]:
    if facet == "documents":
        return list(proc.documents)
    if facet == "time":
        return [proc.processing_time]
    if facet == "fee":
        return list(proc.fees.items)
    if facet == "where":
        return [proc.agency]
    return []


def documents_card(proc: Procedure, *, with_time: bool = True) -> tuple[str, bool]:
    """(HTML, cut): the papers every applicant needs, then the situations that need more (their papers are behind
    "📎 Trường hợp đặc biệt"), then the time; cut is true when some of the common papers did not fit."""
    common, special = common_documents(proc), special_documents(proc)
    head = [cards.heading(proc)]
    foot = [sources_line(proc, _facet_claims(proc, "documents"))]
    hint = [_special_hint(proc, special)] if special else []
    title = f"<b>{cards.FACET_TITLES['documents']}</b>"
    if not common:
        title += "\nTùy trường hợp của Anh/Chị."
    lines = [_doc_line(n, d, when=False) for n, (_, d) in enumerate(common, 1)]
    body, cut = _fit(head, title, lines, [*hint, *foot])
    parts = [*head, body, *hint]
    time = cards.section(proc, "time")
    if with_time and not cut and plain_len("\n\n".join([*parts, time, *foot])) <= LIMIT:
        parts.append(time)
    return "\n\n".join([*parts, *foot]), cut


def _special_hint(proc: Procedure, special: Sequence[tuple[int, Document]]) -> str:
    """One line naming the special situations (fallback papers last), shortened to fit."""
    ordered = sorted(special, key=lambda idoc: bool(_FALLBACK.match(idoc[1].when or "")))
    cases = "; ".join(dict.fromkeys(_situation(d, proc) for _, d in ordered))
    if len(cases) > 240:
        cases = cases[:239].rsplit("; ", 1)[0] + "; …"
    stop = "" if cases.endswith("…") else "."
    return f"<i>Cần thêm giấy tờ khi: {e(cases)}{stop} Anh/Chị bấm «📎 Trường hợp đặc biệt» để xem.</i>"


def special_card(proc: Procedure) -> str:
    """The documents of special situations, each after the situation it is for; those asked only when the office
    cannot look the information up itself ("Chỉ khi … không khai thác được") come last."""
    special = sorted(special_documents(proc), key=lambda idoc: bool(_FALLBACK.match(idoc[1].when or "")))
    lines = [_special_line(n, d, proc) for n, (_, d) in enumerate(special, 1)]
    title = "<b>Giấy tờ trong trường hợp đặc biệt</b>"
    foot = [sources_line(proc, [d for _, d in special])]
    body, _ = _fit([cards.heading(proc)], title, lines, foot, limit=3800)
    return "\n\n".join([cards.heading(proc), body, *foot])


def facet_card(proc: Procedure, facet: str) -> tuple[str, bool]:
    """(HTML, cut): a facet's card within LIMIT; cut is true when lines of it are behind "Xem đầy đủ"."""
    if facet == "documents":
        return documents_card(proc)
    head = [cards.heading(proc)]
    foot = [sources_line(proc, _facet_claims(proc, facet))]
    title, *lines = cards.section(proc, facet).split("\n")
    if not _balanced(lines):  # a tag spans lines: keep the card whole rather than break its markup
        return "\n\n".join([*head, cards.section(proc, facet), *foot]), False
    body, cut = _fit(head, title, lines, foot)
    parts = [*head, body]
    note = "<i>Lưu ý: " + e(proc.notes[0]) + "</i>" if proc.notes else ""
    if note and facet in ("fee", "time", "where") and plain_len("\n\n".join([*parts, note, *foot])) <= LIMIT:
        parts.append(note)
    return "\n\n".join([*parts, *foot]), cut


def _fit(
    head: Sequence[str], title: str, lines: Sequence[str], foot: Sequence[str], limit: int = LIMIT
) -> tuple[str, bool]:
    """The title and as many whole lines as fit with the head and foot; a last line says how many are left."""
    fixed = plain_len("\n\n".join([*head, title, *foot])) + 2
    kept: list[str] = []
    used = fixed
    for i, line in enumerate(lines):
        size = plain_len(line) + 1
        rest = len(lines) - i
        if used + size > limit - (0 if rest == 1 else 70):
            more = f"<i>… và {rest} mục nữa: Anh/Chị bấm «📜 Xem đầy đủ».</i>"
            return "\n".join([title, *kept, more]), True
        kept.append(line)
        used += size
    return "\n".join([title, *kept]), False


_TAGS = re.compile(r"<(/?)(b|i|a)\b[^>]*>")


def _balanced(lines: Sequence[str]) -> bool:
    for line in lines:
        depth: dict[str, int] = {}
        for m in _TAGS.finditer(line):
            depth[m.group(2)] = depth.get(m.group(2), 0) + (-1 if m.group(1) else 1)
        if any(depth.values()):
            return False
    return True


def direct_answer(proc: Procedure, found: Sequence[Passage]) -> str:
    """The passages that answer the question, as the entry states them, with their sources."""
    bullets = "\n".join(f"• {p.html}" for p in found)
    titles = list(dict.fromkeys(t for p in found for t in p.sources))
    if titles:
        more = "; …" if len(titles) > SOURCES else "."
        src = "; ".join(e(t) for t in titles[:SOURCES])
        foot = f"<i>Căn cứ: {src}{more} Thông tin cập nhật ngày {vn_date(proc.last_reviewed)}.</i>"
    else:
        foot = sources_line(proc)
    return "\n\n".join([cards.heading(proc), "💬 <b>Theo quy định của thủ tục này:</b>\n" + bullets, foot])
