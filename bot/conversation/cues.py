"""Cue phrases of a conversation's thread: what makes a message a follow-up of the last answer, and what a specific
question asks.

The matcher's lexicon (knowledge/lexicon.py) reads one question alone; these are the words people use when they go
on from an answer ("còn lệ phí?", "cái đó nộp ở đâu", "vậy nếu sinh ở nhà thì sao"), the small talk that is not a
question about the thread, and the everyday words citizens use for what the knowledge base says in official terms.
Written with diacritics, one list per line of comma-separated phrases; compared folded, on whole syllables (and with
their diacritics where folding would merge two words: "cổ phiếu"/"có phiếu", "vậy còn"/"vậy con").
"""

from __future__ import annotations


def _split(text: str) -> list[str]:
    return [p.strip() for line in text.strip().splitlines() for p in line.split(",") if p.strip()]


# Words that point back at the procedure of the last answer.
PRONOUNS = _split("""
cái đó, cái này, cái kia, cái trên, thủ tục này, thủ tục đó, thủ tục trên, thủ tục kia, việc này, việc đó, vụ này,
vụ đó, vụ kia, loại này, loại đó, giấy đó, giấy này, hồ sơ đó, hồ sơ này, như trên, như vậy, làm cái đó, làm cái này,
nó, kia
""")

# Openers that set something against the last answer: "còn X thì sao" asks about X (a facet, or another procedure
# when X is in that procedure's official name).
CONTRAST = _split("còn, thế còn, vậy còn, à còn, còn về, tiện hỏi, tiện hỏi luôn, hỏi thêm, cho hỏi thêm, ngoài ra")

# Openers of a "what if": the topic stays unless another procedure is clearly named.
HYPOTHETICAL = _split("""
nếu, nếu như, vậy nếu, thế nếu, còn nếu, mà nếu, giả sử, lỡ, lỡ như, nhỡ, trường hợp, trong trường hợp
""")

# Other ways a follow-up opens or closes.
OPENERS = _split("""
vậy, thế, thế thì, vậy thì, nhưng, ủa, ok vậy, ok thế, rồi, xong rồi, sau đó, thêm nữa, à, à mà, mà, với lại, thêm
""")
CLOSERS = _split("""
thì sao, thì sao ạ, thì thế nào, thì như nào, thì làm sao, thì làm thế nào, thì có được không, có được không,
được không, thì cần gì, thì phải làm gì, thì sao nhỉ, nữa không, nữa, không ạ, hả, nhỉ
""")

# Facet cues for the short forms of a thread, beside the lexicon's (which already has most of them).
FACET_CUES: dict[str, list[str]] = {
    "fee": _split("nhiêu tiền, mấy tiền, mất bao nhiêu, tốn, phí, free, trả tiền"),
    "where": _split("nộp đâu, làm đâu, ở đâu, đâu, chỗ nào, cơ quan nào, đến đâu"),
    "time": _split("bao lâu, mấy ngày, lâu không, bao giờ, khi nào, mất mấy, nhanh không"),
    "how": _split("online, trực tuyến, qua mạng, trên mạng, vneid, qua app, bưu điện, nộp hộ, làm hộ"),
    "forms": _split("mẫu, tờ khai, mẫu đơn"),
    "result": _split("nhận được gì, được cấp gì, cầm về, kết quả là gì"),
    "documents": _split("giấy tờ, mang gì, mang theo, chuẩn bị gì, cần gì, cần những gì, hồ sơ gồm"),
}

# Cues that decide the facet even when the lexicon reads another one in the same message ("online có rẻ hơn
# không" asks about the fee, "có làm trực tiếp được không" about how to submit, "hưởng mấy tháng" about the result).
STRONG_FACET_CUES: dict[str, list[str]] = {
    "fee": _split("rẻ hơn, đắt hơn, rẻ không, có rẻ, có đắt, thuế bao nhiêu, đóng thuế, bao nhiêu tiền"),
    "how": _split("làm trực tiếp, nộp trực tiếp, đến trực tiếp, làm online, nộp online, qua vneid, trên vneid"),
    "result": _split("hưởng mấy tháng, hưởng bao lâu, được hưởng mấy, được mấy tháng, được bao nhiêu tiền"),
    "where": _split("nộp ở đâu, làm ở đâu, ở đâu làm, nộp chỗ nào"),
    "conditions": _split("ai phải, ai là người, ai được, ai đi, ai làm, ai có quyền, đối tượng nào"),
}

# A yes/no question: it is answered with the rule that decides it.
YES_NO = _split("""
có phải, có cần, có được, có bắt buộc, có bị, có làm, có nộp, được không, không ạ, hay không, phải không,
chưa ạ, có không, không
""")

# "Everything": the citizen asks for the whole card, not the short one.
EVERYTHING = _split("tất cả, đầy đủ, toàn bộ, chi tiết, đủ hết, hết các giấy, liệt kê hết, xem hết, full")

# Small talk in the middle of a thread: refused politely, and the thread goes on after it.
CHITCHAT = _split("""
bạn tên, em tên, tên gì, bạn mấy tuổi, em mấy tuổi, bạn bao nhiêu tuổi, em bao nhiêu tuổi, admin bao nhiêu tuổi,
admin mấy tuổi, bạn ở đâu, bạn khỏe không, admin khỏe không, bạn là ai, em là ai, là người hay, người thật,
người yêu, có bồ, ăn cơm, ăn gì, ăn trưa, ăn tối, đi chơi, kể chuyện, chuyện cười, bài hát, hát đi, hát cho,
buồn quá, chán quá, mệt quá, đói quá, trời mưa, trời nắng, trời nóng, trời lạnh, trời đẹp, mưa to, nóng quá,
lạnh quá, đội tuyển, trận đấu, đá bóng, tỉ số, tỷ số, giá xăng, đổ xăng, giá vàng, vàng hôm nay, chứng khoán,
xổ số, vé số, vé máy bay, máy bay, khách sạn nào, quán ăn ngon, món gì, cách nấu, nấu món, nấu ăn, phim, game,
điện thoại nào, laptop, iphone, samsung, tiktok, facebook, youtube, thời tiết, bao nhiêu độ, mấy độ, yêu em,
yêu anh, dễ thương, đẹp trai, xinh, đi ngủ, buồn ngủ, haha, hihi, kkk, hehe, lol, test, thử thôi, vợ tôi giận,
cãi nhau, mất điện, cúp điện, mất nước, kẹt xe, tắc đường, có tắc không, con mèo, con chó
""")

# Words that only carry the question (pronouns of address, particles, auxiliaries): never what is asked about.
# Words that fold like a content word are left out ("nhà"/"nha", "thẻ"/"thế", "báo"/"bao", "con"/"còn").
FUNCTION_WORDS = _split("""
cho, hỏi, em, anh, chị, tôi, mình, ạ, ơi, admin, bot, ad, với, nhé, vậy, thì, là, mà, có, không, được, muốn, cần,
làm, của, và, các, những, này, đó, sao, gì, nào, đâu, ai, nhiêu, à, hả, nhỉ, dạ, vâng, nữa, rồi, đã, sẽ, đang, hay,
hoặc, nên, phải, cũng, lại, luôn, giúp, biết, ok, oke, ừ, thôi, vẫn, như, ở, tại, để
""")

# How a question names the facet it asks, and nothing more: a question made only of these (and of the procedure's
# name) is answered by the facet's card, not by a sentence picked from the entry.
GENERIC = _split("""
lệ phí, phí, mất phí, thu phí, chi phí, tiền, mất tiền, tốn tiền, bao nhiêu tiền, hết bao nhiêu, tốn bao nhiêu,
ở đâu, nộp ở đâu, làm ở đâu, chỗ nào, nơi nào, cơ quan nào, nộp, đâu, thời gian, thời hạn, khi nào, bao giờ,
lâu không, nhanh không, mất, giấy tờ, hồ sơ, cần gì, mang gì, chuẩn bị gì, gồm những gì, những gì, cần những gì,
mang theo, cách, cách làm, làm sao, thế nào, như thế nào, ra sao, như nào, thủ tục, quy trình, các bước,
điều kiện, đối tượng, yêu cầu gì, mẫu, mẫu đơn, tờ khai, biểu mẫu, kết quả, nhận được gì, được gì, được cấp gì,
làm, đăng ký, xin, cấp, giải quyết, được giải quyết, thời hạn giải quyết, khoản, khoản phí, những khoản, là bao nhiêu,
tại đâu, nộp hồ sơ, hồ sơ, thực hiện, làm thủ tục, trong bao lâu, bao nhiêu ngày, mất mấy ngày, phí, lệ phí
""")

# How a citizen addresses the bot or others: part of no question.
ADDRESS = _split("mọi người, các bạn, ad ơi, admin ơi, anh chị ơi, cả nhà, shop, bạn ơi, em ơi")

# The kind of answer a question asks for: an entry's sentence with a figure of that kind answers it.
ANSWER_KINDS: dict[str, list[str]] = {
    "duration": _split("""
    bao lâu, mấy ngày, bao nhiêu ngày, mấy tháng, bao nhiêu tháng, mấy năm, bao nhiêu năm, mấy hôm, mấy tuần,
    bao nhiêu lâu
    """),
    "age": _split("bao nhiêu tuổi, mấy tuổi"),
    "money": _split("bao nhiêu tiền, mấy tiền, nhiêu tiền, bao nhiêu, hết bao nhiêu, tốn bao nhiêu, giá bao nhiêu"),
    "hour": _split("mấy giờ, giờ nào, trước mấy giờ"),
    "count": _split("mấy bản, bao nhiêu bản, mấy lần, bao nhiêu lần, mấy tầng, bao nhiêu tầng"),
    "area": _split("diện tích bao nhiêu, bao nhiêu mét, bao nhiêu m2"),
}

# The citizen's everyday words and the knowledge base's: "word: its official equivalent; other related words".
# The equivalent stands for the word when the entry's sentences are looked up; the others count when found.
SYNONYMS: dict[str, tuple[str, list[str]]] = {
    line.split(":")[0].strip(): (
        line.split(":")[1].split(";")[0].strip(),
        _split(line.split(":")[1].split(";")[1]) if ";" in line else [],
    )
    for line in """
    trọ: thuê; ở nhờ, chỗ ở
    phòng trọ: thuê; chỗ ở
    nhà thuê: thuê; chỗ ở
    thuê nhà: thuê; chỗ ở
    ở nhờ: ở nhờ; mượn
    đẻ: sinh
    bệnh viện: cơ sở y tế
    trạm y tế: cơ sở y tế
    bé: trẻ
    online: trực tuyến
    qua mạng: trực tuyến
    trên mạng: trực tuyến
    app: ứng dụng; vneid
    bưu điện: bưu chính
    nhờ người: ủy quyền
    làm hộ: ủy quyền
    nộp hộ: ủy quyền
    đi thay: ủy quyền
    làm thay: ủy quyền
    ông bà: ông bà; người thân thích
    hộ khẩu: hộ khẩu; sổ hộ khẩu, thường trú
    photo: bản chụp; bản sao
    công chứng: chứng thực; công chứng
    sao y: bản sao; chứng thực
    đã mất: chết; qua đời
    bố: cha
    má: mẹ
    rách: rách; hư hỏng, hỏng
    hư: hư hỏng; hỏng
    quá hạn: quá hạn; hết hạn
    trễ: quá hạn
    muộn: quá hạn
    hết hạn: hết hạn; quá hạn
    chưa cưới: chưa đăng ký kết hôn; chưa xác định được cha
    không có bố: chưa xác định được cha
    không có cha: chưa xác định được cha
    đơn thân: đơn thân; chưa xác định được cha
    tiền: tiền; lệ phí, phí
    người nước ngoài: nước ngoài
    việt kiều: định cư ở nước ngoài
    nghỉ việc: thôi việc; chấm dứt hợp đồng
    sinh mổ: sinh mổ; phẫu thuật
    chết: chết; khai tử
    mất rồi: chết
    qua đời: chết
    đổi tên: thay đổi họ tên
    sai tên: sai; họ tên
    chip: gắn chip
    đăng báo: đăng tin; thông tin đại chúng, niêm yết
    đến: đến; có mặt, trực tiếp
    tối đa: tối đa; không quá
    chồng: chồng; lao động nam, vợ
    ảnh thẻ: ảnh thẻ; ảnh
    chính chủ: đứng tên; chính mình
    sim: thuê bao; di động
    ra viện: giấy ra viện
    sinh ở nhà: không có giấy chứng sinh; làm chứng
    đẻ ở nhà: không có giấy chứng sinh; làm chứng
    vân tay: vân tay; sinh trắc học
    sinh viên: sinh viên; học tập
    """.strip().splitlines()
}
