"""Procedure answer cards: the text a citizen reads, for every facet of a procedure.

Output is Telegram HTML (only <b>, <i>, <a>); every piece of data is escaped. The terminal
chat and `kb show` print the same text through `to_plain()`.

What a card shows comes with its own grounds: the "Căn cứ" line names the sources of the claims shown (the
documents, the time, the fees...), not the whole legal basis. Amounts derived from a base (lương cơ sở, mức chuẩn
trợ giúp xã hội) are computed for the day the card is read, with the base's value and date. When the knowledge base
is loaded for a province, a facet that province sets for itself says whose rule it states; a facet that varies by
province without such a rule says so and where to look. Maintainer notes are never shown.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable

from bot.replies.dates import vn_date
from knowledge.schema import Base, BaseAmount, BaseValue, Benefit, Document, Fee, Procedure, Source

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

# What varies by province in a facet, as the start of a sentence.
LOCAL_SUBJECT = {
    "documents": "Thành phần hồ sơ theo thủ tục do từng tỉnh, thành phố công bố có thể khác nhau",
    "forms": "Mẫu đơn, tờ khai do từng tỉnh, thành phố công bố",
    "time": "Thời hạn giải quyết do từng tỉnh, thành phố công bố nên có thể khác nhau",
    "fee": "Các khoản do HĐND tỉnh quy định khác nhau giữa các tỉnh, thành phố",
    "where": "Nơi tiếp nhận hồ sơ do từng tỉnh, thành phố bố trí",
    "how": "Cách thức nộp hồ sơ do từng tỉnh, thành phố bố trí",
    "conditions": "Điều kiện cụ thể do từng tỉnh, thành phố quy định",
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
FOOTER_SOURCES = 5

e = html.escape


def money(amount: int) -> str:
    """50000 -> '50.000 đồng'."""
    return f"{amount:,}".replace(",", ".") + " đồng"


def _today() -> dt.date:
    return dt.date.today()


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# --- amounts -------------------------------------------------------------------------------------------------


def _per(unit: str | None) -> str:
    return f"/{unit}" if unit else ""


def _base_line(ref: BaseAmount, unit: str | None, day: dt.date) -> tuple[str, str]:
    """(the amount in bold, the explanation) for an amount derived from a base."""
    base = ref.base_model
    amount, value = ref.amount_on(day)
    once = ref.multiplier == 1
    if amount is not None and value is not None and value.amount is not None:
        since = f"áp dụng từ {vn_date(value.since)}"
        why = f"{_cap(base.name)} {since}" if once else f"bằng {ref.multiplier_text()} {base.name} "
        if not once:
            why += f"{money(value.amount)}/{_base_unit(base)}, {since}"
        before = base.previous(value)
        if before is not None and before.amount is not None:
            why += f"; trước ngày {vn_date(value.since)}: {money(round(before.amount * ref.multiplier))}"
        return money(amount) + _per(unit), why
    bold = base.name if once else f"{ref.multiplier_text()} {base.name}"
    return bold, _unknown_base(ref, base, value)


def _base_unit(base: Base) -> str:
    return base.unit.removeprefix("đồng/")


def _unknown_base(ref: BaseAmount, base: Base, value: BaseValue | None) -> str:
    """The base's current value could not be read in an official text: say so plainly, and what it was before."""
    if value is None:
        return f"Anh/Chị hỏi cơ quan giải quyết về {base.name} đang áp dụng"
    grounds = value.sources[0].title if value.sources else ""
    text = (
        f"{_cap(base.name)} được điều chỉnh từ {vn_date(value.since)}"
        + (f" theo {grounds}" if grounds else "")
        + "; Anh/Chị hỏi cơ quan giải quyết về số tiền cụ thể đang áp dụng"
    )
    before = base.previous(value)
    if before is not None and before.amount is not None:
        text += f". Trước ngày {vn_date(value.since)}, {base.name} là {money(before.amount)}/{_base_unit(base)}"
        if ref.multiplier != 1:
            text += f", tương ứng {money(round(before.amount * ref.multiplier))}"
    return text


def _amount(amount: int | BaseAmount | None, unit: str | None, *, local: bool, day: dt.date) -> tuple[str, str]:
    """(bold part, explanation) of an amount."""
    if isinstance(amount, BaseAmount):
        return _base_line(amount, unit, day)
    if amount is None:
        return ("mức do HĐND tỉnh quy định" if local else "theo quy định hiện hành"), ""
    if amount == 0:
        return "miễn phí", ""
    return money(amount) + _per(unit), ""


def _fee_line(fee: Fee, day: dt.date | None = None) -> str:
    bold, why = _amount(fee.amount, fee.unit, local=fee.set_by_province, day=day or _today())
    if fee.max_amount and isinstance(fee.amount, int) and fee.amount:
        bold = money(fee.amount) + f" đến {money(fee.max_amount)}" + _per(fee.unit)
    detail = ". ".join(x.rstrip(".") for x in (why, fee.notes or "") if x)
    return f"• {e(fee.case)}: <b>{e(bold)}</b>" + (f" ({e(detail)})" if detail else "")


def _benefit_line(benefit: Benefit, day: dt.date) -> str:
    bold, why = _amount(benefit.amount, benefit.unit, local=False, day=day)
    detail = ". ".join(x.rstrip(".") for x in (why, benefit.notes or "") if x)
    return f"• {e(benefit.case)}: <b>{e(bold)}</b>" + (f" ({e(detail)})" if detail else "")


def _benefits(proc: Procedure, day: dt.date) -> str:
    if not proc.benefits:
        return ""
    return "<b>Mức hưởng, mức hỗ trợ</b>\n" + "\n".join(_benefit_line(b, day) for b in proc.benefits)


# --- facets --------------------------------------------------------------------------------------------------


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


def varying(proc: Procedure) -> set[str]:
    """The facets this procedure leaves to each province (fees set by the provincial People's Council included)."""
    out: set[str] = set(proc.varies_by_province)
    if any(f.set_by_province for f in proc.fees.items):
        out.add("fee")
    return out


def _local_rule(proc: Procedure, facet: str) -> tuple[str, str]:
    """(line before the body, line after it) about whose rule a facet states."""
    ctx = proc.province
    if ctx is not None and facet in ctx.overlaid:
        return f"<i>Theo quy định của {e(ctx.authority)}:</i>\n", ""
    subject = LOCAL_SUBJECT.get(facet)
    if subject is None or facet not in varying(proc):
        return "", ""
    if ctx is None:
        return "", (
            f"\n<i>{subject}; Anh/Chị xem tại Bộ phận Một cửa hoặc trên Cổng Dịch vụ công của tỉnh, thành phố "
            "nơi nộp hồ sơ.</i>"
        )
    portal = f"Cổng Dịch vụ công của {e(ctx.name)}"
    if ctx.portal:
        portal = f'<a href="{e(str(ctx.portal))}">{portal}</a>'
    return "", (
        f"\n<i>{subject}; hệ thống chưa cập nhật quy định riêng của {e(ctx.name)} cho mục này. Anh/Chị xem tại "
        f"Bộ phận Một cửa hoặc trên {portal}.</i>"
    )


def section(proc: Procedure, facet: str, *, day: dt.date | None = None) -> str:
    """One facet of a procedure as a titled block of HTML."""
    day = day or _today()
    title = f"<b>{FACET_TITLES[facet]}</b>"
    if facet == "documents":
        body = "\n".join(_document_line(i, d) for i, d in enumerate(proc.documents, 1))
    elif facet == "time":
        body = e(proc.processing_time.text)
    elif facet == "fee":
        lines = [_fee_line(f, day) for f in proc.fees.items]
        lines += [f"• Miễn, giảm: {e(x)}" for x in proc.fees.exemptions]
        if proc.fees.notes:
            lines.append(f"<i>{e(proc.fees.notes)}</i>")
        body = "\n".join(lines)
        if proc.benefits:
            body += "\n" + _benefits(proc, day)
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
            else "Thủ tục này không có mẫu đơn, tờ khai riêng theo quy định chung; "
            "Anh/Chị hỏi Bộ phận Một cửa để nhận mẫu (nếu có)."
        )
        if proc.channels.online.url:
            body += f'\nMẫu điện tử có trên <a href="{e(str(proc.channels.online.url))}">Cổng Dịch vụ công</a>.'
    elif facet == "conditions":
        body = "\n".join(f"• {e(c)}" for c in proc.conditions) or "Không có điều kiện riêng ngoài hồ sơ đầy đủ, hợp lệ."
    elif facet == "result":
        body = e(proc.result)
        if proc.benefits:
            body += "\n" + _benefits(proc, day)
    else:
        raise ValueError(f"unknown facet {facet!r}")
    before, after = _local_rule(proc, facet)
    return f"{title}\n{before}{body}{after}"


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


# --- grounds -------------------------------------------------------------------------------------------------


def _amount_sources(amounts: Iterable[int | BaseAmount | None], day: dt.date) -> list[Source]:
    out: list[Source] = []
    for amount in amounts:
        if isinstance(amount, BaseAmount):
            out += amount.base_model.follows_sources
            _, value = amount.amount_on(day)
            if value is not None:
                out += value.sources
    return out


def facet_sources(proc: Procedure, facet: str, *, day: dt.date | None = None) -> list[Source]:
    """The sources of the claims a facet shows (empty for facets that show no sourced claim)."""
    day = day or _today()
    if facet == "documents":
        return [s for d in proc.documents for s in (*d.sources, *d.form_sources)]
    if facet == "forms":
        return [s for d in proc.documents for s in d.form_sources]
    if facet == "time":
        return list(proc.processing_time.sources)
    if facet == "fee":
        items = [s for f in proc.fees.items for s in f.sources] + [s for b in proc.benefits for s in b.sources]
        amounts = [f.amount for f in proc.fees.items] + [b.amount for b in proc.benefits]
        return items + _amount_sources(amounts, day)
    if facet == "where":
        return list(proc.agency.sources)
    if facet == "result" and proc.benefits:
        return [s for b in proc.benefits for s in b.sources] + _amount_sources([b.amount for b in proc.benefits], day)
    return []


def _source_label(source: Source) -> str:
    title = e(source.title.rstrip("."))
    return f'<a href="{e(str(source.url))}">{title}</a>' if source.url else title


def footer(proc: Procedure, facets: Iterable[str] = ("documents", "time"), *, limit: int = FOOTER_SOURCES) -> str:
    """'Căn cứ:' the sources of what the card shows (the legal basis for facets without sourced claims)."""
    # each facet shown gets its first grounds in before any facet gets its second; within a facet, the texts found
    # to state a claim come before the legal basis attached as a whole (generic)
    per_facet = [sorted(facet_sources(proc, f), key=lambda s: s.generic) for f in facets]
    seen: dict[str, Source] = {}
    for rank in range(max((len(x) for x in per_facet), default=0)):
        for sources in per_facet:
            if rank < len(sources):
                seen.setdefault(sources[rank].title.rstrip("."), sources[rank])
    if seen:
        labels = [_source_label(s) for s in seen.values()]
    else:
        labels = [e(b.doc.rstrip(".")) + (f", {e(b.articles)}" if b.articles else "") for b in proc.legal_basis]
    more = "; …" if len(labels) > limit else "."
    return f"<i>Căn cứ: {'; '.join(labels[:limit])}{more} Thông tin cập nhật ngày {vn_date(proc.last_reviewed)}.</i>"


def heading(proc: Procedure) -> str:
    code = f" (mã {e(proc.code)})" if proc.code else ""
    return f"📄 <b>{e(proc.name)}</b>{code}"


def answer(proc: Procedure, facet: str | None) -> str:
    """The reply to a question: the asked facet first (documents when none was asked)."""
    shown = [facet or "documents"]
    if facet in (None, "documents"):
        shown.append("time")
    parts = [heading(proc), *(section(proc, f) for f in shown)]
    if proc.notes and facet in (None, "documents", "fee", "time", "where"):
        parts.append("<i>Lưu ý: " + e(proc.notes[0]) + "</i>")
    parts.append(footer(proc, shown))
    return "\n\n".join(parts)


def full_card(proc: Procedure) -> str:
    """Everything about a procedure, as `kb show` prints it."""
    shown = [f for f in FACETS if f != "forms" or any(d.form for d in proc.documents)]
    parts = [heading(proc), f"Lĩnh vực: {e(proc.field)} · Cấp thực hiện: {LEVELS[proc.level]}"]
    if proc.province is not None:
        parts.append(f"Áp dụng tại: {e(proc.province.name)}")
    parts += [section(proc, f) for f in shown]
    if proc.notes:
        parts.append("<b>Lưu ý</b>\n" + "\n".join(f"• {e(n)}" for n in proc.notes))
    parts.append(footer(proc, shown, limit=8))
    return "\n\n".join(parts)


_TAG = re.compile(r"<a href=\"([^\"]*)\">([^<]*)</a>|<[^>]+>")


def to_plain(text: str) -> str:
    """Telegram HTML -> terminal text (links keep their address)."""

    def repl(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return f"{m.group(2)} ({html.unescape(m.group(1))})"
        return ""

    return html.unescape(_TAG.sub(repl, text))
