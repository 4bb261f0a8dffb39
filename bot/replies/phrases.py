"""The sentences of the conversation's thread: short cards, direct answers, result dates, the fitted checklist
(polite register, correct diacritics; the rest of what the bot says is in messages.py)."""

from __future__ import annotations

FULL_BUTTON = "📜 Xem đầy đủ"
SPECIAL_BUTTON = "📎 Trường hợp đặc biệt"
CARD_BUTTON = "📖 Xem đầy đủ: {facet}"
UNCONFIRMED = (
    "<i>Em trả lời cho thủ tục dưới đây; nếu Anh/Chị hỏi thủ tục khác, "
    "Anh/Chị chọn lại trong danh sách phía trên ạ.</i>"
)
DIRECT_HEAD = "💬 <b>Theo quy định của thủ tục này:</b>"
DATE_WHICH = (
    "Dạ, Anh/Chị cho em biết tên thủ tục để em tính ngày trả kết quả, ví dụ: "
    "<i>đăng ký tạm trú nộp thứ Sáu thì khi nào có kết quả</i>."
)
DATE_PAST_HINT = "Nếu đã nộp, Anh/Chị có thể tra cứu tình trạng hồ sơ bằng /tracuu và mã trên giấy biên nhận."

GUIDE_TITLE = "<b>Chuẩn bị hồ sơ: {name}</b>"
GUIDE_ASK = "Câu {i}/{n}: {question}"
GUIDE_SKIP = "Bỏ qua, xem đủ danh sách"
GUIDE_MAYBE = "(nếu cần)"
GUIDE_FITTED = "Danh sách theo trường hợp của Anh/Chị ({answers}). Anh/Chị bấm vào từng giấy tờ khi đã chuẩn bị xong."
