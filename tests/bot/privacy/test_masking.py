"""Masking personal data in free text: linear on hostile input, the same output as before on ordinary text, stored
once with the feedback and survey rows; names cleaned of direction overrides and invisible characters."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bot.privacy.masking import clean_name, mask_digit_runs, mask_email_addresses, mask_emails, mask_text
from knowledge.codes import CODE_RE

# What the staff API did before (api/app.py, then api/views.py): the reference for ordinary texts. Quadratic:
# only ever run here on short texts.
_OLD_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
_OLD_DIGITS = re.compile(r"\+?\d[\d .\-]{5,}\d")


def old_mask_text(value: str) -> str:
    out, last = [], 0
    for m in CODE_RE.finditer(value):
        out.append(_OLD_DIGITS.sub("<số>", _OLD_EMAIL.sub("<email>", value[last : m.start()])))
        out.append(m.group(0))
        last = m.end()
    out.append(_OLD_DIGITS.sub("<số>", _OLD_EMAIL.sub("<email>", value[last:])))
    return "".join(out)


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fail (rather than hang) when the block runs longer than `seconds`: a bound far above what linear work takes
    (milliseconds here) and far below what the quadratic regular expressions took (hours on these inputs)."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"took more than {seconds} s: not linear")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def adversarial(n: int) -> dict[str, str]:
    """Texts that made the former patterns backtrack over the whole text from every position."""
    return {
        "at then letters": "@" + "a" * (n - 1),
        "letters only": "a" * n,
        "letters and ats": "a@" * (n // 2),
        "ats and letters": "@a" * (n // 2),
        "double ats": ("aa@@" * n)[:n],
        "one digit then separators": "1" + "-" * (n - 1),
        "digits then separators": "1" * (n // 2) + " ." * (n // 4),
        "plus and digits": "+1 " * (n // 3),
        "code prefixes": "000 " * (n // 4),
        "code fields and separators": ("000.00.12.H01" + " " * 50) * (n // 63),
        "almost codes": "000.00.12.H01-261107-" * (n // 21),
        "almost e-mails for logs": ("a." * 50 + "@" + "b." * 50 + " ") * (n // 202),
    }


@pytest.mark.parametrize("name", list(adversarial(10)))
def test_masking_is_linear_on_hostile_texts(name: str) -> None:
    text = adversarial(200_000)[name]
    with within(5):
        for mask in (mask_text, mask_emails, mask_digit_runs, mask_email_addresses):
            assert len(mask(text)) <= 3 * len(text)  # a placeholder for at least three characters
        for _ in range(100):  # a page of 200 feedback rows of 2,000 characters, masked as the API did
            mask_text(text[:2000])


@pytest.mark.parametrize("name", list(adversarial(10)))
def test_hostile_texts_are_masked_as_before(name: str) -> None:
    text = adversarial(2000)[name]
    assert mask_text(text) == old_mask_text(text)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Gọi em 0912 345 678 nhé", "Gọi em <số> nhé"),
        ("sđt +84912345678.", "sđt <số>."),
        ("số 0903.111.222 hoặc 0903-111-222", "số <số> hoặc <số>"),
        ("mail a.b@x.vn hoặc nguyen.van.an@gmail.com", "mail <email> hoặc <email>"),
        ("CCCD 001087012345 của tôi", "CCCD <số> của tôi"),
        ("hồ sơ 000.00.12.H01-261107-0003 chậm", "hồ sơ 000.00.12.H01-261107-0003 chậm"),  # kept: staff need it
        ("năm 1987, 4 số cuối 2395, lệ phí 50.000 đồng", "năm 1987, 4 số cuối 2395, lệ phí 50.000 đồng"),
        ("Cán bộ hướng dẫn rất nhiệt tình.", "Cán bộ hướng dẫn rất nhiệt tình."),
    ],
)
def test_ordinary_texts_are_masked_as_before(text: str, masked: str) -> None:
    assert mask_text(text) == masked == old_mask_text(text)


@hsettings(max_examples=1500, deadline=None)
@given(st.text(alphabet="ab @+1234567890.-\n\tH٣_", max_size=40))
def test_mask_text_gives_what_the_former_patterns_gave(text: str) -> None:
    assert mask_text(text) == old_mask_text(text)


@hsettings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["000.00.12.H01-261107-0003", "0912345678", "a@b.vn", " ", "x", "+", "-", "@"]), max_size=8
    )
)
def test_mask_text_with_codes_gives_what_the_former_patterns_gave(parts: list[str]) -> None:
    text = "".join(parts)
    assert mask_text(text) == old_mask_text(text)


def test_addresses_in_log_lines_are_masked_and_nothing_else() -> None:
    assert mask_email_addresses("from anh.pham@example.vn, to <b_c@mail.gov.vn>") == "from <email>, to <<email>>"
    assert mask_email_addresses("a@b.vn,c@d.com.vn") == "<email>,<email>"
    for line in (
        "connect postgresql+psycopg://postgres@127.0.0.1:5432/tthc",
        "@property on user@localhost",
        "decorated with @lru_cache",
        "a@b@c and x@y.z1",
        "retention purge: Purged(chat_states=0, checklists=2, gaps=3, follows=1, attempts=12, messages=4)",
    ):
        assert mask_email_addresses(line) == line


# --- names ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("Nguye\u0302\u0303n Va\u0306n An", "Nguyễn Văn An"),  # decomposed: NFC
        ("\u202eNguyễn Văn An", "Nguyễn Văn An"),  # right-to-left override
        ("Nguyễn\u2066 Văn\u2069 An\u200f", "Nguyễn Văn An"),  # isolates, right-to-left mark
        ("Ng\u200buyễn V\u200că\u200dn\u2060 A\ufeffn", "Nguyễn Văn An"),  # zero-width
        ("Nguyễn\u00ad Văn\x00 An\x1b", "Nguyễn Văn An"),  # soft hyphen (Cf), controls (Cc)
        ("  Nguyễn\t\tVăn\nAn\u3000", "Nguyễn Văn An"),  # any whitespace, collapsed
        ("Lê Thị B", "Lê Thị B"),
        ("e\u200b\u0301", "é"),  # a removed character no longer keeps a mark from its letter
    ],
)
def test_clean_name_removes_overrides_and_invisible_characters(raw: str, clean: str) -> None:
    assert clean_name(raw) == clean


@pytest.mark.parametrize(
    ("raw", "problem"),
    [("", "empty"), ("  \n", "empty"), ("\u202e\u200b\ufeff", "invisible"), ("\x00\x07", "invisible")],
)
def test_clean_name_refuses_what_leaves_nothing(raw: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        clean_name(raw)
