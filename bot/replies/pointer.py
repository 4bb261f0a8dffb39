"""The pointer card: what the bot says about a procedure of the national catalogue that it does not explain yet.

Honest about what it is: the official name and code, who handles it and at which level, whether the portal takes
it online, the portal page, a plain line that we have no detailed guide yet, and the hotline. When the crawl holds
the procedure's full record, its documents, processing times and fees follow, labelled as the portal's words on
the record's own date, not yet checked by us.

Telegram HTML (only <b>, <i>, <a>), every piece of data escaped; dates dd/mm/yyyy, amounts "50.000 đồng". Pure: the
caller passes the hotline and, when it has one, the record (`NationalIndex.detail(code)`).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable

from bot.replies.dates import vn_date
from knowledge.national import Detail, DetailGroup, DetailTime, NationalProcedure

e = html.escape

TELEGRAM_LIMIT = 4096
MAX_DOCUMENTS = 12
MAX_ITEM_CHARS = 220
MAX_NOTE_CHARS = 240

TITLE = "📄 <b>{name}</b>\nMã thủ tục: {code}"
TITLE_LOCAL = "📄 <b>{name}</b>\nMã thủ tục: {code} (mã của {province}: {local})"
NO_GUIDE = (
    "Dạ, đây là thủ tục trong Danh mục thủ tục hành chính quốc gia. Hiện em chưa có hướng dẫn chi tiết "
    "cho thủ tục này; dưới đây là những thông tin chính và trang thủ tục trên Cổng Dịch vụ công quốc gia ạ."
)
AGENCY = "<b>Cơ quan giải quyết:</b> {agencies}"
AGENCY_LEVEL = "<b>Cơ quan giải quyết:</b> {agencies} ({levels})"
AGENCY_UNKNOWN = "<b>Cơ quan giải quyết:</b> Cổng Dịch vụ công chưa ghi rõ; Anh/Chị xem tại trang thủ tục bên dưới."
ONLINE_FULL = "<b>Nộp trực tuyến:</b> có, làm được toàn bộ trên Cổng Dịch vụ công."
ONLINE_PART = "<b>Nộp trực tuyến:</b> có, qua Cổng Dịch vụ công (có thể vẫn phải đến nhận kết quả)."
ONLINE_NO = "<b>Nộp trực tuyến:</b> theo Cổng, thủ tục này chưa nhận hồ sơ trực tuyến."
ONLINE_UNKNOWN = "<b>Nộp trực tuyến:</b> Anh/Chị xem trên trang thủ tục (mục Cách thức thực hiện)."
LINK = '🔗 <a href="{url}">Xem thủ tục trên Cổng Dịch vụ công quốc gia</a>'
FROM_PORTAL = (
    "<b>Theo Cổng Dịch vụ công quốc gia</b> <i>(bản ghi cập nhật ngày {date}; chúng tôi chưa kiểm tra lại)</i>"
)
DOCUMENTS = "<b>Hồ sơ:</b>"
MORE_DOCUMENTS = "… và {n} mục khác, xem đầy đủ trên Cổng."
TIMES = "<b>Thời hạn giải quyết:</b>"
FEES = "<b>Phí, lệ phí:</b>"
NO_FEE = "không thu"
HOTLINE = "Cần hỗ trợ thêm, Anh/Chị gọi đường dây nóng {hotline} ạ."
SOURCE = "<i>Thông tin lấy từ Danh mục thủ tục hành chính quốc gia, thu thập ngày {date}.</i>"

LEVELS = {"xa": "cấp xã", "tinh": "cấp tỉnh", "trung-uong": "trung ương"}
METHODS = {"DIRECT": "Trực tiếp", "ONLINE": "Trực tuyến", "POSTAL": "Qua bưu chính"}
UNITS = {"WORKING_DAY": "ngày làm việc", "DAY": "ngày", "HOUR": "giờ", "MONTH": "tháng"}


def money(amount: int) -> str:
    """50000 -> '50.000 đồng'."""
    return f"{amount:,}".replace(",", ".") + " đồng"


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip(" ,;.") + "…"


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}".replace(".", ",")


def _agency_line(proc: NationalProcedure, detail: Detail | None) -> str:
    agencies = list((proc.local.agencies if proc.local and proc.local.agencies else ()) or proc.agencies)
    levels = proc.levels or (detail.levels if detail else ())
    if not agencies:
        return AGENCY_UNKNOWN
    names = e("; ".join(_short(a, 120) for a in agencies[:4]))
    if levels:
        return AGENCY_LEVEL.format(agencies=names, levels=e(", ".join(LEVELS[lv] for lv in levels)))
    return AGENCY.format(agencies=names)


def _online_line(detail: Detail | None) -> str:
    if detail is None:
        return ONLINE_UNKNOWN
    if detail.full_online:
        return ONLINE_FULL
    return ONLINE_PART if detail.online else ONLINE_NO


def _document_lines(groups: Iterable[DetailGroup]) -> list[str]:
    """Items the portal marks as papers to bring (an original or a copy), numbered; its notes are left out."""
    items = [item for group in groups for item in group.items if item.original or item.copy_count]
    lines = []
    for i, item in enumerate(items[:MAX_DOCUMENTS], 1):
        kinds = []
        if item.original:
            kinds.append(f"{item.original} bản chính")
        if item.copy_count:
            kinds.append(f"{item.copy_count} bản sao")
        name = _short(item.name.lstrip("-+•* "), MAX_ITEM_CHARS)
        lines.append(f"{i}. {e(name)} — {e(', '.join(kinds))}")
    if len(items) > MAX_DOCUMENTS:
        lines.append(MORE_DOCUMENTS.format(n=len(items) - MAX_DOCUMENTS))
    return lines


def _time_text(t: DetailTime) -> str:
    unit = UNITS.get(t.unit)
    if t.value is not None and t.value > 0 and unit:
        return f"{_number(t.value)} {unit}"
    if t.text:
        return _short(t.text, MAX_NOTE_CHARS)
    if t.value is not None and t.value > 0:
        return f"{_number(t.value)} (Cổng không ghi rõ đơn vị)"
    return ""


def _grouped(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """'• Trực tiếp, Trực tuyến: 5 ngày làm việc' — methods with the same text on one line, in the portal's order."""
    order: dict[str, list[str]] = {}
    for method, text in pairs:
        if text and method not in order.setdefault(text, []):
            order[text].append(method)
    return [f"• {e(', '.join(METHODS.get(m, m) for m in methods))}: {e(text)}" for text, methods in order.items()]


def _fee_text(amount: int | None, text: str) -> str:
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    if text.lower().startswith("đồng"):  # the portal's unit field leaks into its text: "Đồng (Mức lệ phí …)"
        text = text[4:].strip(" :(),")
    if amount:
        return money(amount) + (f" ({_short(text, MAX_NOTE_CHARS)})" if text else "")
    if text:
        return _short(text, MAX_NOTE_CHARS)
    return NO_FEE if amount == 0 else ""


def _portal_section(detail: Detail) -> list[str]:
    out = [FROM_PORTAL.format(date=vn_date(detail.updated))]
    documents = _document_lines(detail.documents)
    if documents:
        out += [DOCUMENTS, *documents]
    times = _grouped((t.method, _time_text(t)) for t in detail.times)
    if times:
        out += [TIMES, *times]
    fees = _grouped((f.method, _fee_text(f.amount, f.text)) for f in detail.fees)
    if fees:
        out += [FEES, *fees]
    return out


def pointer_card(
    proc: NationalProcedure,
    *,
    hotline: str,
    detail: Detail | None = None,
    crawled: dt.date | None = None,
) -> str:
    """The pointer card for one national procedure, in Telegram HTML, never longer than Telegram allows."""
    if proc.local is not None:
        title = TITLE_LOCAL.format(
            name=e(proc.name), code=e(proc.code), province=e(proc.local.province), local=e(proc.local.code)
        )
    else:
        title = TITLE.format(name=e(proc.name), code=e(proc.code))
    head = [title, "", NO_GUIDE, "", _agency_line(proc, detail), _online_line(detail)]
    link = LINK.format(url=e(proc.url, quote=True))
    tail = ["", link, HOTLINE.format(hotline=e(hotline))]
    if crawled is not None:
        tail.append(SOURCE.format(date=vn_date(crawled)))
    middle = ["", *_portal_section(detail)] if detail is not None else []
    text = "\n".join([*head, *middle, *tail])
    while len(text) > TELEGRAM_LIMIT and len(middle) > 2:  # drop the record's last lines, never the link
        middle = middle[:-1]
        text = "\n".join([*head, *middle, "…", *tail])
    return text
