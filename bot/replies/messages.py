"""Every sentence the bot says to a citizen, in one place (polite register, correct diacritics)."""

from __future__ import annotations

GREETING = (
    "Dạ, xin chào Anh/Chị! Em là trợ lý thủ tục hành chính của {office}.\n"
    "Anh/Chị có thể hỏi em về giấy tờ cần chuẩn bị, thời gian, lệ phí, nơi nộp của các thủ tục, "
    "hoặc tra cứu tình trạng hồ sơ đã nộp. Anh/Chị cứ gõ câu hỏi, có dấu hay không dấu đều được ạ."
)
MENU_PROCEDURE = "🔎 Tra cứu thủ tục"
MENU_BROWSE = "📚 Thủ tục theo lĩnh vực"
MENU_CASE = "📄 Tra cứu hồ sơ"
MENU_FOLLOW = "🔔 Theo dõi hồ sơ"
MENU_FEEDBACK = "✉️ Góp ý, phản ánh"
MENU_HELP = "❓ Hướng dẫn"

HELP = (
    "<b>Em có thể giúp Anh/Chị:</b>\n"
    "• Hỏi về thủ tục: gõ tự nhiên, ví dụ <i>làm căn cước cần gì</i>, <i>lệ phí đổi bằng lái</i>, "
    "<i>đăng ký kết hôn nộp ở đâu</i>.\n"
    "• /linhvuc: xem thủ tục theo lĩnh vực.\n"
    "• /tracuu: tra cứu tình trạng hồ sơ bằng mã trên giấy biên nhận.\n"
    "• /theodoi: nhận thông báo khi hồ sơ có kết quả; /hosocuatoi, /huytheodoi.\n"
    "• /gopy: gửi góp ý, phản ánh; /danhgia: đánh giá mức độ hài lòng.\n"
    "• /xoadulieu: xóa dữ liệu của Anh/Chị trong cuộc trò chuyện này.\n"
    "• /huy: dừng thao tác đang làm.\n"
    "Đường dây nóng: {hotline}."
)
ASK_PROCEDURE = "Dạ, Anh/Chị gõ tên thủ tục hoặc điều cần hỏi, ví dụ: <i>đăng ký khai sinh cần giấy tờ gì</i>."
OUT_OF_SCOPE = (
    "Dạ, em xin lỗi, câu hỏi này em chưa hỗ trợ được ạ. Em chỉ trả lời về thủ tục hành chính "
    "(giấy tờ, thời gian, lệ phí, nơi nộp) và tra cứu hồ sơ. Anh/Chị có thể xem /linhvuc, "
    "hoặc gọi đường dây nóng {hotline} để được hướng dẫn thêm."
)
NOT_SURE = "Dạ, có phải Anh/Chị hỏi về một trong các thủ tục sau không ạ?"
NONE_OF_THESE = "Không phải"
NONE_REPLY = (
    "Dạ, em xin lỗi vì chưa hiểu đúng ý Anh/Chị. Anh/Chị thử gõ lại tên thủ tục cụ thể hơn, "
    "xem danh sách theo /linhvuc, hoặc gọi {hotline} ạ."
)
THANKS = "Dạ, không có gì ạ. Anh/Chị cần hỏi thêm thủ tục nào cứ nhắn em nhé!"
UNSUPPORTED = (
    "Dạ, em chỉ đọc được tin nhắn chữ thôi ạ. Anh/Chị vui lòng gõ câu hỏi, ví dụ "
    "<i>làm căn cước cần gì</i>, hoặc bấm /help để xem hướng dẫn."
)
CANCELLED = "Dạ, em đã dừng thao tác. Anh/Chị cần gì cứ nhắn em ạ."
STALE_BUTTON = "Nút này đã cũ, Anh/Chị vui lòng hỏi lại ạ."
ERROR = "Dạ, em xin lỗi, hệ thống đang gặp sự cố nhỏ (mã lỗi {ref}). Anh/Chị vui lòng thử lại sau ít phút ạ."
UNKNOWN_COMMAND = "Dạ, em chưa hiểu lệnh này. Anh/Chị bấm /help để xem các lệnh em hỗ trợ ạ."
FEEDBACK_HINT = "Dạ, để gửi góp ý hoặc phản ánh, Anh/Chị dùng lệnh /gopy ạ."

FACET_BUTTONS = {
    "documents": "📋 Hồ sơ",
    "time": "⏱ Thời gian",
    "fee": "💰 Lệ phí",
    "where": "📍 Nơi nộp",
    "how": "🖥 Cách nộp",
    "forms": "📝 Mẫu đơn",
    "conditions": "✅ Điều kiện",
    "result": "🎁 Kết quả",
}
CHECKLIST_BUTTON = "☑️ Chuẩn bị hồ sơ"
CHECKLIST_TITLE = "<b>Danh sách chuẩn bị hồ sơ: {name}</b>\nAnh/Chị bấm vào từng giấy tờ khi đã chuẩn bị xong."
CHECKLIST_DONE = "✅ Anh/Chị đã chuẩn bị đủ {total} giấy tờ. Nhớ mang theo giấy tờ tùy thân khi đi nộp ạ."
CHECKLIST_MISSING = "Còn thiếu {missing}/{total}: {names}"

FIELDS_TITLE = "<b>Chọn lĩnh vực</b>"
FIELD_TITLE = "<b>{field}</b> (trang {page}/{pages})"
PREV = "◀ Trước"
NEXT = "Sau ▶"
BACK_TO_FIELDS = "↩ Lĩnh vực"

ASK_CODE = "Dạ, Anh/Chị vui lòng gõ mã hồ sơ in trên giấy biên nhận (ví dụ 000.00.15.H57-251120-0001)."
BAD_CODE = "Dạ, em chưa đọc được mã hồ sơ. Mã có dạng 000.00.15.H57-251120-0001, Anh/Chị kiểm tra lại giúp em ạ."
ASK_VERIFY = {
    "phone_last4": "Để bảo vệ thông tin, Anh/Chị vui lòng nhập <b>4 số cuối</b> số điện thoại đã khai khi nộp hồ sơ.",
    "birth_year": "Để bảo vệ thông tin, Anh/Chị vui lòng nhập <b>năm sinh</b> của người nộp hồ sơ.",
}
VERIFY_FAILED = (
    "Dạ, mã hồ sơ hoặc thông tin xác minh chưa khớp. Anh/Chị kiểm tra lại giấy biên nhận, hoặc liên hệ {hotline} ạ."
)
TOO_MANY_ATTEMPTS = "Dạ, Anh/Chị đã nhập sai quá nhiều lần. Vui lòng thử lại sau {time} ạ."
CODE_LOCKED = (
    "Dạ, hồ sơ này đã tạm khóa tra cứu bằng thông tin xác minh vì có nhiều lần nhập sai. Anh/Chị quét mã QR trên "
    "giấy biên nhận để xem hồ sơ, hoặc liên hệ {hotline} để được mở khóa ạ."
)

FOLLOW_BUTTON = "🔔 Theo dõi hồ sơ này"
FOLLOWED_TOAST = "Đã bật thông báo cho hồ sơ này."
ALREADY_FOLLOWED = "Anh/Chị đã theo dõi hồ sơ này rồi ạ."
NOT_VERIFIED = "Anh/Chị vui lòng tra cứu và xác minh hồ sơ trước khi theo dõi ạ."
NO_FOLLOWS = "Dạ, Anh/Chị chưa theo dõi hồ sơ nào. Dùng /theodoi kèm mã hồ sơ để nhận thông báo ạ."
MY_CASES = "<b>Hồ sơ Anh/Chị đang theo dõi</b>"
UNFOLLOW_PICK = "Anh/Chị chọn hồ sơ muốn dừng nhận thông báo:"
UNFOLLOW_ALL = "Dừng tất cả"
UNFOLLOWED = "Dạ, em đã dừng thông báo cho {n} hồ sơ."

FEEDBACK_PICK = "Dạ, Anh/Chị muốn gửi nội dung gì ạ? Vui lòng chọn loại:"
FEEDBACK_ASK_TEXT = "Anh/Chị vui lòng nhập nội dung <b>{category}</b> (tối đa 2.000 ký tự)."
FEEDBACK_ASK_CODE = "Nội dung này có liên quan đến hồ sơ nào không ạ? Anh/Chị gõ mã hồ sơ, hoặc bấm Bỏ qua."
SKIP = "Bỏ qua"
FEEDBACK_DONE = (
    "Dạ, em đã chuyển nội dung đến bộ phận tiếp nhận. Mã theo dõi của Anh/Chị là <b>{no}</b>; "
    "gõ /gopy {no} để xem tình trạng xử lý."
)
FEEDBACK_STATE = "Góp ý <b>{no}</b> ({category}) gửi ngày {date}: <b>{state}</b>."
FEEDBACK_REPLY = "\nTrả lời của cơ quan: {reply}"
FEEDBACK_NOT_FOUND = "Dạ, em không tìm thấy mã góp ý này. Anh/Chị kiểm tra lại giúp em ạ."

SURVEY_INTRO = (
    "<b>Đánh giá mức độ hài lòng</b>{about}\nTiêu chí {i}/6: {criterion}\n(1 = rất không hài lòng, 5 = rất hài lòng)"
)
SURVEY_ASK_COMMENT = "Cảm ơn Anh/Chị! Anh/Chị có ý kiến gì thêm không ạ? Gõ ý kiến, hoặc bấm Bỏ qua."
SURVEY_DONE = "Dạ, em cảm ơn Anh/Chị đã đánh giá. Ý kiến của Anh/Chị giúp cơ quan phục vụ tốt hơn ạ."

FLOOD = "Dạ, Anh/Chị gửi nhanh quá, em xin phép tạm dừng trả lời trong ít phút rồi Anh/Chị hỏi tiếp nhé."
DB_DOWN = (
    "Dạ, hệ thống tra cứu hồ sơ đang tạm gián đoạn. Anh/Chị vui lòng thử lại sau ít phút; "
    "các câu hỏi về thủ tục em vẫn trả lời được ạ."
)
ERASE_CONFIRM = (
    "Anh/Chị có chắc muốn xóa dữ liệu của cuộc trò chuyện này không? Em sẽ xóa: các hồ sơ đang theo dõi, "
    "danh sách chuẩn bị hồ sơ, trạng thái trò chuyện và liên kết giữa Anh/Chị với các góp ý đã gửi."
)
ERASE_YES = "🗑 Xóa dữ liệu"
ERASE_NO = "Không xóa"
ERASE_DONE = (
    "Dạ, em đã xóa: {follows} hồ sơ theo dõi, {checklists} danh sách chuẩn bị hồ sơ, {feedback} liên kết góp ý, "
    "{pending} thông báo chưa gửi, và trạng thái trò chuyện."
)
ERASE_KEPT = "Dạ, em giữ nguyên dữ liệu ạ."
STAFF_STATS = "<b>Thống kê</b>\nHồ sơ theo trạng thái:\n{cases}\nThông báo: {outbox}"
STAFF_GAPS = "<b>Câu hỏi chưa trả lời được (nhiều nhất)</b>\n{rows}"
STAFF_NO_GAPS = "Chưa có câu hỏi nào chưa trả lời được."
