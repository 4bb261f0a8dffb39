"""Words the matcher needs to know: abbreviations and teencode, facet cues, intent cues, fillers.

All entries are written with diacritics (as shown to people) and folded when used, so
'cần j', 'can j' and 'cần gì' all read the same.
"""

from __future__ import annotations

# Token (folded) -> expansion (with diacritics). Applied to single syllables and short phrases.
ABBREVIATIONS: dict[str, str] = {
    "cccd": "căn cước công dân", "cmnd": "chứng minh nhân dân", "cmt": "chứng minh nhân dân",
    "cc": "căn cước", "ccd": "căn cước", "gplx": "giấy phép lái xe", "bl": "bằng lái", "blx": "bằng lái xe",
    "gks": "giấy khai sinh", "gkh": "giấy kết hôn", "ks": "khai sinh",
    "hk": "hộ khẩu", "shk": "sổ hộ khẩu", "ttru": "tạm trú",
    "bhxh": "bảo hiểm xã hội", "bhyt": "bảo hiểm y tế", "bhtn": "bảo hiểm thất nghiệp", "bh": "bảo hiểm",
    "tctn": "trợ cấp thất nghiệp", "mst": "mã số thuế", "tncn": "thu nhập cá nhân",
    "hkd": "hộ kinh doanh", "gpkd": "giấy phép kinh doanh", "dkkd": "đăng ký kinh doanh",
    "gpxd": "giấy phép xây dựng", "xd": "xây dựng", "tnhh": "trách nhiệm hữu hạn", "ctcp": "công ty cổ phần",
    "dntn": "doanh nghiệp tư nhân", "dn": "doanh nghiệp", "cty": "công ty",
    "ck": "chồng", "vk": "vợ", "ny": "người yêu", "bme": "bố mẹ", "atvstp": "an toàn thực phẩm",
    "atvsthp": "an toàn thực phẩm", "attt": "an toàn thực phẩm", "lltp": "lý lịch tư pháp", "llpt": "lý lịch tư pháp", "attp": "an toàn thực phẩm", "vsattp": "an toàn thực phẩm",
    "gcn": "giấy chứng nhận", "qsdd": "quyền sử dụng đất", "gpld": "giấy phép lao động", "gxn": "giấy xác nhận",
    "tths": "tình trạng hôn nhân", "xntthn": "xác nhận tình trạng hôn nhân", "dddt": "định danh điện tử",
    "thpt": "trung học phổ thông", "thcs": "trung học cơ sở", "cap2": "cấp hai", "ubnd": "ủy ban nhân dân",
    "ub": "ủy ban", "xnc": "xuất nhập cảnh",
    "dk": "đăng ký", "dki": "đăng ký", "dky": "đăng ký", "đk": "đăng ký", "dang ki": "đăng ký", "đăng kí": "đăng ký",
    "j": "gì", "ji": "gì", "gi": "gì", "ko": "không", "k": "không", "kh0": "không", "hok": "không",
    "khum": "không", "kg": "không", "dc": "được", "đc": "được", "duoc": "được", "dk0": "được không",
    "bn": "bao nhiêu", "bao nhiu": "bao nhiêu", "nhiu": "nhiêu", "bnhieu": "bao nhiêu", "bao nhieu": "bao nhiêu", "mik": "mình", "mk": "mình", "mn": "mọi người",
    "ntn": "như thế nào", "ng": "người", "nguoi": "người", "vs": "với", "v": "vậy", "z": "vậy",
    "r": "rồi", "ròi": "rồi", "ad": "admin", "e": "em", "a": "anh", "c": "chị", "ạ": "ạ",
    "t": "tôi", "mh": "mình", "trc": "trước", "sđt": "số điện thoại", "sdt": "số điện thoại",
    "vn": "việt nam", "vneid": "vneid", "vnid": "vneid", "onl": "online", "ol": "online", "hs": "hồ sơ", "tg": "thời gian",
    "1": "một", "2": "hai", "3": "ba", "1lan": "một lần", "lan1": "lần một", "sn": "sinh nhật",
    "passport": "hộ chiếu", "pasport": "hộ chiếu", "visa": "visa", "cong chung": "chứng thực",
    "photo": "bản sao", "foto": "bản sao", "scan": "bản sao",
}

# Words that say WHAT is asked about, not WHICH procedure: removed before procedure matching.
FACET_CUES: dict[str, list[str]] = {
    "forms": ["mẫu tờ khai", "mẫu đơn", "tờ khai", "biểu mẫu", "tải mẫu", "form", "ct01", "tk1-ts", "tk1",
              "mẫu số", "mẫu nào", "theo mẫu", "mẫu phiếu", "mẫu giấy"],
    "result": ["nhận được gì", "nhận được giấy gì", "kết quả là gì", "được cấp gì", "cấp cho giấy gì", "nhận lại gì",
               "được giấy gì", "trả kết quả gì", "có giá trị", "giá trị bao lâu", "thời hạn sử dụng",
               "được bao nhiêu", "mức hưởng", "mức hỗ trợ", "mức trợ cấp", "được hưởng bao nhiêu",
               "lãnh bao nhiêu", "nhận được những", "được nhận bao nhiêu", "được những giấy", "nhận được bao nhiêu",
               "được mấy tháng", "nghỉ mấy tháng", "hưởng bao nhiêu",
               "cấp giấy gì", "được cấp giấy", "có thời hạn", "thời hạn bao lâu", "ghi những", "mấy bản",
               "được cấp mấy", "giá trị trong"],
    "time": ["bao lâu", "mấy ngày", "bao nhiêu ngày", "khi nào", "bao giờ", "trong ngày", "thời gian", "thời hạn",
             "lâu không", "mấy hôm", "mấy tuần", "bao nhiêu lâu", "nhanh không", "lấy ngay", "có liền",
             "lấy liền", "trong bao lâu", "hạn chót", "mấy tháng", "nhanh nhất", "mấy giờ", "thời điểm nào",
             "lúc nào", "trước bao nhiêu ngày", "tối đa bao lâu", "mấy năm", "bao nhiêu năm", "mất mấy", "hạn cuối",
             "lâu chưa", "chậm nhất", "bao nhiêu tháng"],
    "fee": ["lệ phí", "phí", "bao nhiêu tiền", "mất tiền", "tốn tiền", "hết bao nhiêu", "chi phí",
            "miễn phí", "tốn bao nhiêu", "mất xu", "xu nào", "đồng nào", "mất phí",
            "thu phí", "tốn kém", "giá bao nhiêu"],
    "where": ["ở đâu", "nơi nào", "cơ quan nào", "chỗ nào", "nộp đâu", "đi đâu", "tại đâu",
              "ở đâu làm", "đâu làm", "nơi nộp", "nơi làm", "phường hay", "xã hay",
              "huyện hay", "ở ủy ban",
              "văn phòng nào", "ra văn phòng", "đâu ạ", "đâu vậy",
              "đến đâu", "sở nào", "xã nào", "chi cục", "trung tâm nào", "hay phải về", "cho ai",
              "hay công an", "nào cũng", "ơ đâu"],
    "how": ["cách", "như thế nào", "thế nào", "ra sao", "online", "trực tuyến", "vneid", "qua mạng", "bưu điện",
            "bưu chính", "quy trình", "các bước", "làm sao", "trình tự", "trên mạng", "trên app",
            "qua app", "từ xa", "nhờ người", "kiểu gì", "cách nào", "vssid",
            "thủ tục sao", "làm thế nào", "sao ạ", "sao admin", "sao vậy"],
    "conditions": ["điều kiện", "ai được", "đối tượng", "được hưởng không", "có được hưởng", "đủ điều kiện",
                   "bao nhiêu tuổi", "mấy tuổi", "trường hợp nào", "có được không", "yêu cầu gì", "được không",
                   "được chưa", "được phép", "tiêu chuẩn", "chuẩn nghèo", "bắt buộc",
                   "có cần", "đủ tuổi", "có phải", "cần điều kiện", "đăng ký gì",
                   "thì được", "mới được", "thì có được"],
    "documents": ["giấy tờ", "hồ sơ gồm", "cần gì", "cần những gì", "mang gì", "chuẩn bị gì", "cần giấy",
                  "gồm những", "mang theo", "cần mang", "thủ tục gồm", "giấy gì", "cần những giấy",
                  "những gì", "cần có"],
}

# Context rather than question: "ở xã" in "chứng thực ở xã cần mang gì" tells where the citizen went, the
# question is "cần mang gì". A weak cue decides the facet only when no other cue is in the question.
WEAK_CUES = {
    "where": ["ở xã", "ở phường", "lên tỉnh", "ở tỉnh", "công an xã", "công an phường", "ủy ban nhân dân xã", "làm ở",
              "hỏi ở", "bộ phận một cửa", "ở sở", "ở đây", "hay ở", "địa chỉ", "ở trường hay"],
    "fee": ["tiền", "thuế phí", "nộp thuế", "có mất"],
    "result": ["nhận được tiền", "được nghỉ"],
    "how": ["ứng dụng", "hướng dẫn", "dịch vụ công"],
    "conditions": ["có bị", "tối đa", "tối thiểu", "mấy lần", "có được"],
    "documents": ["hồ sơ", "chuẩn bị"],
    "forms": ["mẫu"],
}

# Checked in this order; the first facet with a cue in the question wins.
FACET_ORDER = ["forms", "result", "time", "fee", "where", "how", "conditions", "documents"]

INTENT_CUES: dict[str, list[str]] = {
    "case_status": ["hồ sơ của tôi", "hồ sơ của em", "hồ sơ của mình", "hồ sơ của anh", "hồ sơ của chị",
                    "hồ sơ của bố", "hồ sơ của mẹ", "hồ sơ em nộp", "hồ sơ tôi nộp", "hồ sơ mình nộp",
                    "tra cứu hồ sơ", "tình trạng hồ sơ", "tiến độ hồ sơ", "kết quả hồ sơ", "hồ sơ đến đâu",
                    "hồ sơ tới đâu", "đến đâu rồi", "tới đâu rồi", "mã hồ sơ", "giấy biên nhận", "phiếu hẹn",
                    "đã nộp", "nộp rồi", "nộp từ", "nộp hôm", "nộp tuần trước", "nộp tháng trước", "xử lý chưa",
                    "có kết quả chưa", "xong chưa", "duyệt chưa", "khi nào có kết quả hồ sơ", "hồ sơ đã xong",
                    "theo dõi hồ sơ", "kiểm tra hồ sơ", "hồ sơ bị trả", "hồ sơ bị chậm", "trễ hẹn", "quá hẹn",
                    "hồ sơ của", "hồ sơ nộp", "lấy kết quả chưa"],
    "greeting": ["xin chào", "chào", "hello", "hi", "alo", "chào bạn", "chào ad", "chào admin", "hey", "good morning", "chào buổi sáng", "chào buổi tối",
                 "chào em", "chào anh", "chào chị", "hế lô", "xin chào ạ"],
    "thanks": ["cảm ơn", "cám ơn", "thanks", "thank you", "thank", "tks", "thanks ad", "ok cảm ơn", "cảm ơn nhiều", "cảm ơm", "cám ơm",
               "ok thanks", "tks ad", "thank ad", "cảm ơn bot", "hữu ích"],
    "help": ["giúp gì", "làm được gì", "hướng dẫn sử dụng", "cách dùng", "menu", "trợ giúp", "help", "bot làm gì",
             "hỏi được gì", "chức năng", "sử dụng bot", "dùng bot", "bạn là ai", "bot là gì",
             "giúp được gì", "giúp được những gì", "hỏi gì được", "hỏi gì", "sử dụng trợ lý", "dùng trợ lý",
             "trợ lý này", "bot này"],
    "feedback": ["phản ánh", "kiến nghị", "góp ý", "khiếu nại cán bộ", "tố cáo cán bộ", "thái độ phục vụ",
                 "cán bộ gây khó", "nhũng nhiễu", "phàn nàn", "đánh giá cán bộ", "góp ý về",
                 "tố cáo", "đòi tiền", "bồi dưỡng", "hạch sách", "thái độ", "cán bộ một cửa", "thư góp ý"],
}

# Filler and politeness words: never evidence for a procedure.
FILLERS = [
    "cho", "hỏi", "em", "anh", "chị", "tôi", "mình", "ạ", "ơi", "admin", "bot", "với", "nhé", "vậy",
    "thì", "là", "mà", "có", "không", "được", "muốn", "cần", "làm", "của", "và", "các", "những", "này", "đó",
    "thế", "ra", "sao", "gì", "nào", "đâu", "bao", "nhiêu", "lâu", "khi", "giờ", "ở", "tại", "để", "thủ", "tục",
    "rồi", "bị", "đi", "đã", "sẽ", "đang", "vào", "lên", "xin", "nhờ", "giúp", "ai", "biết", "hướng", "dẫn", "mọi",
    "người", "ad", "ah", "à", "hả", "nhỉ", "đây", "kia", "thế", "nào", "sau", "trước", "trong", "ngoài", "một",
    "phải", "nên", "việc", "cái", "chiếc", "nó", "họ", "ông", "bà", "bác", "cô", "dạ",
    "hay", "hoặc", "nữa", "thêm", "bây", "hiện", "nay", "năm", "tháng", "ngày",
]

# Past submission + waiting: "nộp ... rồi ... sao chưa" means the citizen asks about their case.
CASE_SUBMITTED = ["nộp", "gửi hồ sơ", "làm hồ sơ"]
CASE_WAITING = ["chưa thấy", "sao chưa", "đã duyệt chưa", "duyệt chưa", "có chưa", "xong chưa", "bao giờ có",
                "khi nào có", "chưa có kết quả", "chờ bổ sung", "trạng thái", "đến đâu", "tới đâu", "lâu vậy",
                "chưa nhận được", "chưa gọi", "chưa xong", "bao giờ"]
CASE_PAST = ["rồi", "hôm qua", "hôm trước", "tuần trước", "tháng trước", "từ tháng", "từ hôm", "từ tuần",
             "tuần rồi", "tháng rồi", "mấy hôm", "lâu rồi", "đã nộp", "hôm kia"]

# Other public matters that share words with ours but are not in the knowledge base.
OUT_OF_SCOPE_TOPICS = [
    "đăng kiểm", "phạt nguội", "nộp phạt", "vi phạm giao thông", "biên bản phạt", "học bổng", "thi bằng lái",
    "học lái", "học bằng lái", "thi sát hạch", "sát hạch lái xe", "thi lý thuyết", "ly hôn", "ly dị", "visa",
    "thị thực", "thuế đất hằng năm", "thuế nhà đất", "thuế sử dụng đất", "đóng thuế đất", "bồi thường",
    "giải phóng mặt bằng", "đền bù", "giải tỏa", "tranh chấp", "hòa giải", "thi công chức", "tuyển dụng",
    "thi tuyển", "vay vốn", "tiền điện", "hóa đơn điện", "tiền nước", "tiêm chủng", "tiêm phòng",
    "thời tiết", "bóng đá", "xổ số", "chứng khoán", "cổ phiếu", "bitcoin", "công thức làm",
    "bảo hiểm xe", "mua bảo hiểm", "đổi tiền", "tòa án", "khởi kiện", "thừa phát lại", "điểm thi",
    "tuyển sinh", "nghĩa vụ quân sự", "khám bệnh", "giá vàng", "tỷ giá", "giận dỗi", "chia tay", "tỏ tình",
    "thất tình", "crush", "hẹn hò", "tán gái", "bảo hiểm ô tô", "bảo hiểm xe máy",
]

# A foreign element is what separates several procedures from their siblings (khai sinh, kết hôn).
# Citizens name the country instead: "chồng Hàn", "bố là người Mỹ", "cưới ở Nhật".
COUNTRIES = [
    "hàn quốc", "hàn", "trung quốc", "tàu", "đài loan", "nhật bản", "nhật", "mỹ", "hoa kỳ", "pháp", "đức", "úc",
    "nga", "campuchia", "thái lan", "singapore", "canada", "anh quốc", "hà lan", "malaysia", "indonesia",
    "philippines", "ấn độ", "tây", "ngoại quốc", "châu âu", "new zealand", "séc", "ba lan", "việt kiều",
]
FOREIGN_PERSON = ["người", "chồng", "vợ", "bố", "mẹ", "cha", "ba", "bạn trai", "bạn gái", "người yêu", "ny",
                  "quốc tịch", "là người", "chồng người", "vợ người", "bố người", "mẹ người", "con lai"]
FOREIGN_PLACE = ["ở", "tại", "bên", "sang"]
