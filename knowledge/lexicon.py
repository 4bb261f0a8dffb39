"""Words the matcher needs to know: abbreviations and teencode, facet cues, intent cues, fillers.

All entries are written with diacritics (as shown to people) and folded when used, so
'cần j', 'can j' and 'cần gì' all read the same.
"""

from __future__ import annotations

# Token (folded) -> expansion (with diacritics). Applied to single syllables and short phrases.
ABBREVIATIONS: dict[str, str] = {
    "cccd": "căn cước công dân", "cmnd": "chứng minh nhân dân", "cmt": "chứng minh nhân dân",
    "cc": "căn cước", "ccd": "căn cước", "gplx": "giấy phép lái xe", "bl": "bằng lái", "blx": "bằng lái xe",
    "gks": "giấy khai sinh", "gkh": "giấy kết hôn", "ks": "khai sinh", "kh": "kết hôn",
    "hk": "hộ khẩu", "shk": "sổ hộ khẩu", "tt": "thường trú", "ttru": "tạm trú",
    "bhxh": "bảo hiểm xã hội", "bhyt": "bảo hiểm y tế", "bhtn": "bảo hiểm thất nghiệp", "bh": "bảo hiểm",
    "tctn": "trợ cấp thất nghiệp", "mst": "mã số thuế", "tncn": "thu nhập cá nhân",
    "hkd": "hộ kinh doanh", "gpkd": "giấy phép kinh doanh", "dkkd": "đăng ký kinh doanh",
    "gpxd": "giấy phép xây dựng", "xd": "xây dựng", "tnhh": "trách nhiệm hữu hạn", "ctcp": "công ty cổ phần",
    "dntn": "doanh nghiệp tư nhân", "dn": "doanh nghiệp", "cty": "công ty",
    "lltp": "lý lịch tư pháp", "llpt": "lý lịch tư pháp", "attp": "an toàn thực phẩm", "vsattp": "an toàn thực phẩm",
    "gcn": "giấy chứng nhận", "qsdd": "quyền sử dụng đất", "gpld": "giấy phép lao động", "gxn": "giấy xác nhận",
    "tths": "tình trạng hôn nhân", "xntthn": "xác nhận tình trạng hôn nhân", "dddt": "định danh điện tử",
    "thpt": "trung học phổ thông", "thcs": "trung học cơ sở", "cap2": "cấp hai", "ubnd": "ủy ban nhân dân",
    "ub": "ủy ban", "ca": "công an", "xnc": "xuất nhập cảnh", "hc": "hộ chiếu", "ht": "hộ tịch",
    "dk": "đăng ký", "dki": "đăng ký", "dky": "đăng ký", "đk": "đăng ký", "dang ki": "đăng ký", "đăng kí": "đăng ký",
    "j": "gì", "ji": "gì", "gi": "gì", "ko": "không", "k": "không", "kh0": "không", "hok": "không", "hong": "không",
    "khum": "không", "kg": "không", "hem": "không", "dc": "được", "đc": "được", "duoc": "được", "dk0": "được không",
    "bn": "bao nhiêu", "bnhieu": "bao nhiêu", "bao nhieu": "bao nhiêu", "mik": "mình", "mk": "mình", "mn": "mọi người",
    "ntn": "như thế nào", "sao": "sao", "ng": "người", "nguoi": "người", "vs": "với", "v": "vậy", "z": "vậy",
    "r": "rồi", "ròi": "rồi", "ad": "admin", "e": "em", "a": "anh", "c": "chị", "ạ": "ạ", "nha": "nhé",
    "t": "tôi", "mh": "mình", "trc": "trước", "sđt": "số điện thoại", "sdt": "số điện thoại",
    "vneid": "vneid", "vnid": "vneid", "onl": "online", "ol": "online", "hs": "hồ sơ", "tg": "thời gian",
    "1": "một", "2": "hai", "3": "ba", "1lan": "một lần", "lan1": "lần một", "sn": "sinh nhật",
    "passport": "hộ chiếu", "pasport": "hộ chiếu", "visa": "visa", "cong chung": "chứng thực",
    "photo": "bản sao", "foto": "bản sao", "scan": "bản sao",
}

# Words that say WHAT is asked about, not WHICH procedure: removed before procedure matching.
FACET_CUES: dict[str, list[str]] = {
    "forms": ["mẫu tờ khai", "mẫu đơn", "tờ khai", "mẫu", "biểu mẫu", "tải mẫu", "form", "ct01", "tk1-ts", "tk1"],
    "fee": ["lệ phí", "phí", "bao nhiêu tiền", "mất tiền", "tốn tiền", "hết bao nhiêu", "chi phí", "tiền",
            "miễn phí", "thuế phí", "nộp thuế", "giá", "tốn bao nhiêu", "mất bao nhiêu", "có mất", "bao nhiêu một"],
    "time": ["bao lâu", "mấy ngày", "bao nhiêu ngày", "khi nào", "bao giờ", "trong ngày", "thời gian", "thời hạn",
             "lâu không", "lâu ko", "mấy hôm", "mấy tuần", "bao nhiêu lâu", "nhanh không", "lấy ngay", "có liền",
             "lấy liền", "mất mấy", "trong bao lâu", "hạn chót", "mấy tháng", "nhanh nhất", "lâu chưa"],
    "where": ["ở đâu", "nơi nào", "cơ quan nào", "chỗ nào", "nộp đâu", "đi đâu", "địa chỉ", "chỗ nào làm",
              "ở xã", "ở phường", "lên tỉnh", "ở tỉnh", "công an xã hay", "ở đâu làm", "đâu làm", "nơi nộp", "nơi làm",
              "phường hay", "xã hay", "huyện hay"],
    "how": ["cách", "như thế nào", "thế nào", "ra sao", "online", "trực tuyến", "vneid", "qua mạng", "bưu điện",
            "bưu chính", "quy trình", "các bước", "làm sao", "trình tự", "dịch vụ công", "trên mạng", "trên app",
            "ứng dụng", "qua app", "từ xa", "ủy quyền", "nhờ người", "hướng dẫn"],
    "conditions": ["điều kiện", "ai được", "đối tượng", "được hưởng không", "có được hưởng", "đủ điều kiện",
                   "bao nhiêu tuổi", "mấy tuổi", "trường hợp nào", "có được không", "có bị", "yêu cầu gì",
                   "có được làm", "có được đăng ký", "được phép", "tiêu chuẩn", "chuẩn nghèo", "có được"],
    "result": ["nhận được gì", "nhận được giấy gì", "kết quả là gì", "được cấp gì", "cấp cho giấy gì", "nhận lại gì",
               "được giấy gì", "kết quả nhận", "trả kết quả gì", "có giá trị", "giá trị bao lâu", "thời hạn sử dụng"],
    "documents": ["giấy tờ", "hồ sơ gồm", "cần gì", "cần những gì", "mang gì", "chuẩn bị gì", "chuẩn bị", "cần giấy",
                  "gồm những", "hồ sơ", "mang theo", "cần mang", "thủ tục gồm", "giấy gì", "cần những giấy",
                  "những gì", "cần có"],
}

# Checked in this order; the first facet with a cue in the question wins.
FACET_ORDER = ["forms", "fee", "result", "time", "where", "how", "conditions", "documents"]

INTENT_CUES: dict[str, list[str]] = {
    "case_status": ["hồ sơ của tôi", "hồ sơ của em", "hồ sơ của mình", "hồ sơ của anh", "hồ sơ của chị",
                    "hồ sơ của bố", "hồ sơ của mẹ", "hồ sơ em nộp", "hồ sơ tôi nộp", "hồ sơ mình nộp",
                    "tra cứu hồ sơ", "tình trạng hồ sơ", "tiến độ hồ sơ", "kết quả hồ sơ", "hồ sơ đến đâu",
                    "hồ sơ tới đâu", "đến đâu rồi", "tới đâu rồi", "mã hồ sơ", "giấy biên nhận", "phiếu hẹn",
                    "đã nộp", "nộp rồi", "nộp từ", "nộp hôm", "nộp tuần trước", "nộp tháng trước", "xử lý chưa",
                    "có kết quả chưa", "xong chưa", "duyệt chưa", "khi nào có kết quả hồ sơ", "hồ sơ đã xong",
                    "theo dõi hồ sơ", "kiểm tra hồ sơ", "hồ sơ bị trả", "hồ sơ bị chậm", "trễ hẹn", "quá hẹn",
                    "hồ sơ của", "hồ sơ nộp", "tra cứu", "lấy kết quả chưa"],
    "greeting": ["xin chào", "chào", "hello", "hi", "alo", "chào bạn", "chào ad", "chào admin", "hey", "good morning"],
    "thanks": ["cảm ơn", "cám ơn", "thanks", "thank you", "thank", "tks", "thanks ad", "ok cảm ơn", "cảm ơn nhiều"],
    "help": ["giúp gì", "làm được gì", "hướng dẫn sử dụng", "cách dùng", "menu", "trợ giúp", "help", "bot làm gì",
             "hỏi được gì", "chức năng", "sử dụng bot", "dùng bot", "bạn là ai", "bot là gì"],
    "feedback": ["phản ánh", "kiến nghị", "góp ý", "khiếu nại cán bộ", "tố cáo cán bộ", "thái độ phục vụ",
                 "cán bộ gây khó", "nhũng nhiễu", "phàn nàn", "đánh giá cán bộ", "góp ý về"],
}

# Filler and politeness words: never evidence for a procedure.
FILLERS = [
    "cho", "hỏi", "em", "anh", "chị", "tôi", "mình", "ạ", "ơi", "admin", "bot", "với", "nhé", "nha", "vậy",
    "thì", "là", "mà", "có", "không", "được", "muốn", "cần", "làm", "của", "và", "các", "những", "này", "đó",
    "thế", "ra", "sao", "gì", "nào", "đâu", "bao", "nhiêu", "lâu", "khi", "giờ", "ở", "tại", "để", "thủ", "tục",
    "rồi", "bị", "đi", "đã", "sẽ", "đang", "vào", "lên", "xin", "nhờ", "giúp", "ai", "biết", "hướng", "dẫn", "mọi",
    "người", "ad", "ah", "à", "hả", "nhỉ", "đây", "kia", "thế", "nào", "sau", "trước", "trong", "ngoài", "một",
    "phải", "nên", "việc", "cái", "chiếc", "nó", "họ", "ông", "bà", "bác", "cô", "chú", "dạ", "vâng",
    "hay", "hoặc", "nữa", "thêm", "bây", "hiện", "nay", "năm", "tháng", "ngày",
]
