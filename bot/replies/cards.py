"""Procedure answer cards: the text a citizen reads, for every facet of a procedure.

Output is Telegram HTML (only <b>, <i>, <a>); every piece of data is escaped. The terminal
chat and `kb show` print the same text through `to_plain()`.
"""

from __future__ import annotations

import html
import re

from bot.replies.dates import vn_date
from knowledge.schema import Document, Fee, Procedure

FACETS = ("documents", "time", "fee", "where", "how", "forms", "conditions", "result")

FACET_TITLES = {
    "documents": "Hồ sơ cần chuẩn bị",
    "time": "Thời hạn giải quyết",
    "fee": "Phí, lệ phí",
    "where": "Nơi nộp hồ sơ",
    "how": "Cách thức thực hiện",
    "forms": "Mẫu đơn, tờ khai",
    "conditions": "Điều kiện, đối tượng",
    "result": "Kết quả nhận được",
}

COPY_KIND = {
    "original": "bản chính",
    "certified_copy": "bản sao có chứng thực",
    "original_or_copy": "bản chính hoặc bản sao có chứng thực/bản sao điện tử",
    "copy": "bản sao",
    "present": "xuất trình bản chính để đối chiếu",
    "none": "",
}

LEVELS = {"xa": "cấp xã", "tinh": "cấp tỉnh", "trung-uong": "trung ương"}

e = html.escape


def money(amount: int) -> str:
    """50000 -> '50.000 đồng'."""
    return f"{amount:,}".replace(",", ".") + " đồng"


def _document_line(i: int, doc: Document) -> str:
    detail = [COPY_KIND[doc.kind]] if COPY_KIND[doc.kind] else []
    if doc.count > 1:
        detail.append(f"{doc.count} bản")
    if doc.form:
        detail.append(f"mẫu: {doc.form}")
    line = f"{i}. {e(doc.name)}" + (f" — {e(', '.join(detail))}" if detail else "")
    if doc.when:
        line += f"\n   <i>Khi: {e(doc.when)}</i>"
    if doc.notes:
        line += f"\n   <i>{e(doc.notes)}</i>"
    return line


def _fee_line(fee: Fee) -> str:
    if fee.amount is None:
        amount = "mức do địa phương quy định"
    elif fee.amount == 0:
        amount = "miễn phí"
    else:
        amount = money(fee.amount)
        if fee.max_amount:
            amount += f" đến {money(fee.max_amount)}"
        if fee.unit:
            amount += f"/{fee.unit}"
    line = f"• {e(fee.case)}: <b>{e(amount)}</b>"
    if fee.notes:
        line += f" ({e(fee.notes)})"
    return line


def section(proc: Procedure, facet: str) -> str:
    """One facet of a procedure as a titled block of HTML."""
    title = f"<b>{FACET_TITLES[facet]}</b>"
    if facet == "documents":
        body = "\n".join(_document_line(i, d) for i, d in enumerate(proc.documents, 1))
    elif facet == "time":
        body = e(proc.processing_time.text)
    elif facet == "fee":
        lines = [_fee_line(f) for f in proc.fees.items]
        lines += [f"• Miễn, giảm: {e(x)}" for x in proc.fees.exemptions]
        if proc.fees.notes:
            lines.append(f"<i>{e(proc.fees.notes)}</i>")
        body = "\n".join(lines)
    elif facet == "where":
        body = f"{e(proc.agency.name)} ({LEVELS[proc.level]})\n{e(proc.agency.where)}"
        if proc.agency.notes:
            body += f"\n<i>{e(proc.agency.notes)}</i>"
    elif facet == "how":
        body = _how(proc)
    elif facet == "forms":
        forms = [d for d in proc.documents if d.form]
        body = (
            "\n".join(f"• {e(d.form or '')}: {e(d.name)}" for d in forms)
            if forms
            else "Thủ tục này không có mẫu đơn, tờ khai riêng (hoặc chưa xác nhận được mã mẫu); "
            "Anh/Chị hỏi Bộ phận Một cửa để nhận mẫu."
        )
        if proc.channels.online.url:
            body += f'\nMẫu điện tử có trên <a href="{e(str(proc.channels.online.url))}">Cổng Dịch vụ công</a>.'
    elif facet == "conditions":
        body = "\n".join(f"• {e(c)}" for c in proc.conditions) or "Không có điều kiện riêng ngoài hồ sơ đầy đủ, hợp lệ."
    elif facet == "result":
        body = e(proc.result)
    else:
        raise ValueError(f"unknown facet {facet!r}")
    return f"{title}\n{body}"


def _how(proc: Procedure) -> str:
    ch = proc.channels
    ways = []
    if ch.in_person:
        ways.append("• Nộp trực tiếp tại " + e(proc.agency.where))
    if ch.online.available:
        kind = "toàn trình" if ch.online.full else "một phần"
        link = f'<a href="{e(str(ch.online.url))}">Cổng Dịch vụ công</a>' if ch.online.url else "Cổng Dịch vụ công"
        ways.append(f"• Nộp trực tuyến ({kind}) trên {link}" + (" hoặc ứng dụng VNeID" if ch.online.vneid else ""))
        if ch.online.notes:
            ways.append(f"  <i>{e(ch.online.notes)}</i>")
    if ch.post:
        ways.append("• Gửi qua dịch vụ bưu chính công ích")
    if ch.notes:
        ways.append(f"<i>{e(ch.notes)}</i>")
    steps = "\n".join(f"{i}. {e(s)}" for i, s in enumerate(proc.steps, 1))
    return "\n".join(ways) + f"\n<b>Các bước</b>\n{steps}"


def footer(proc: Procedure) -> str:
    basis = "; ".join(b.doc for b in proc.legal_basis[:3])
    more = "; …" if len(proc.legal_basis) > 3 else "."
    return f"<i>Căn cứ: {e(basis.rstrip('.'))}{more} Thông tin cập nhật ngày {vn_date(proc.last_reviewed)}.</i>"


def heading(proc: Procedure) -> str:
    code = f" (mã {e(proc.code)})" if proc.code else ""
    return f"📄 <b>{e(proc.name)}</b>{code}"


def answer(proc: Procedure, facet: str | None) -> str:
    """The reply to a question: the asked facet first (documents when none was asked)."""
    parts = [heading(proc), section(proc, facet or "documents")]
    if facet in (None, "documents"):
        parts.append(section(proc, "time"))
    if proc.notes and facet in (None, "documents", "fee", "time", "where"):
        parts.append("<i>Lưu ý: " + e(proc.notes[0]) + "</i>")
    parts.append(footer(proc))
    return "\n\n".join(parts)


def full_card(proc: Procedure) -> str:
    """Everything about a procedure, as `kb show` prints it."""
    parts = [heading(proc), f"Lĩnh vực: {e(proc.field)} · Cấp thực hiện: {LEVELS[proc.level]}"]
    parts += [section(proc, f) for f in FACETS if f != "forms" or any(d.form for d in proc.documents)]
    if proc.notes:
        parts.append("<b>Lưu ý</b>\n" + "\n".join(f"• {e(n)}" for n in proc.notes))
    parts.append(footer(proc))
    return "\n\n".join(parts)


_TAG = re.compile(r"<a href=\"([^\"]*)\">([^<]*)</a>|<[^>]+>")


def to_plain(text: str) -> str:
    """Telegram HTML -> terminal text (links keep their address)."""

    def repl(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return f"{m.group(2)} ({html.unescape(m.group(1))})"
        return ""

    return html.unescape(_TAG.sub(repl, text))
