"""Personal data in free text: masked in linear time, and names cleaned of invisible characters.

Citizens choose what they type, so nothing here may take more than linear time on any input: no regular
expression of this module can backtrack more than a bounded number of characters. The shapes used are a single
character class repeated (`\\s+`, `[\\d .-]+`, `[\\w.%+-]*`: each match is the longest run, and the engine
never gives characters back because nothing follows the run in the pattern), plus `str` methods (`split`,
`lstrip`, `rstrip`, slicing), which are linear. Each function says why its work is linear.

`mask_text` is what staff read of feedback and survey comments (stored once, in `feedback.text_masked` and
`surveyresponse.comment_masked`): phone numbers and other long digit runs, and e-mail addresses, are replaced;
receipt codes are kept (staff need them). It gives exactly what the API's former regular expressions gave
(`[^\\s@]+@[^\\s@]+` then `\\+?\\d[\\d .\\-]{5,}\\d`, receipt codes left alone), which took quadratic time on
texts such as `"@" + "a" * 1999`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import event, inspect

from bot.storage.models import Feedback, SurveyResponse
from knowledge.codes import CODE_RE

EMAIL = "<email>"
NUMBER = "<số>"

_SPACES = re.compile(r"(\s+)")  # whitespace runs, kept by split() as separators
_NUMBER_RUN = re.compile(r"[\d .\-]+")  # a maximal run of the characters a phone number is written with
_SEPARATORS = " .-"
_LOCAL_RUN = re.compile(r"[\w.%+\-]*")  # the characters of an address's local part (matched on reversed text)
_DOMAIN_RUN = re.compile(r"[\w.\-]*")  # the characters of a domain name


def mask_emails(text: str, repl: str = EMAIL) -> str:
    """Every `something@something` inside a whitespace-delimited word replaced by `repl`: what
    `re.sub(r"[^\\s@]+@[^\\s@]+", repl, text)` gives, in linear time.

    A word is split at its `@`s into parts p0 @ p1 @ … ; the regular expression matched p(j) @ p(j+1) for the
    first j where both are non-empty, then went on after p(j+1). Splitting and joining touch each character
    a constant number of times."""
    if "@" not in text:
        return text
    pieces = _SPACES.split(text)  # words at even indices, the whitespace between them at odd ones
    for i in range(0, len(pieces), 2):
        if "@" in pieces[i]:
            parts = pieces[i].split("@")
            units: list[str] = []
            j = 0
            while j < len(parts):
                if parts[j] and j + 1 < len(parts) and parts[j + 1]:
                    units.append(repl)  # p(j) @ p(j+1): one address, the '@' between them inside it
                    j += 2
                else:
                    units.append(parts[j])
                    j += 1
            pieces[i] = "@".join(units)
    return "".join(pieces)


def mask_digit_runs(text: str, repl: str = NUMBER) -> str:
    """Phone numbers and other long digit runs replaced by `repl`: what
    `re.sub(r"\\+?\\d[\\d .\\-]{5,}\\d", repl, text)` gives, in linear time.

    Such a match lies inside one maximal run of digits, spaces, dots and hyphens, and there it can only be the
    span from the run's first digit to its last (with a '+' just before it), when they are at least six
    characters apart. One pass finds the runs; stripping a run's separators finds its first and last digit."""
    out: list[str] = []
    last = 0
    for m in _NUMBER_RUN.finditer(text):
        run = m.group()
        first = len(run) - len(run.lstrip(_SEPARATORS))
        final = len(run.rstrip(_SEPARATORS)) - 1
        if final - first < 6:  # no digit, or first and last digit too close: a short number, kept
            continue
        start, end = m.start() + first, m.start() + final + 1
        if start > last and text[start - 1] == "+":
            start -= 1
        out += [text[last:start], repl]
        last = end
    out.append(text[last:])
    return "".join(out)


def mask_text(text: str) -> str:
    """Phone numbers, long digit runs and e-mail addresses masked; receipt codes kept (staff need them).

    Linear: `CODE_RE` is a fixed sequence of bounded fields whose separators (`[\\s.\\-_/]*`) are each followed
    by a digit or a letter, which no separator is, so a failed attempt gives back at most the separator runs
    of the next six fields, and each run is looked at by a bounded number of attempts."""
    out: list[str] = []
    last = 0
    for m in CODE_RE.finditer(text):
        out += [_mask_plain(text[last : m.start()]), m.group()]
        last = m.end()
    out.append(_mask_plain(text[last:]))
    return "".join(out)


def _mask_plain(text: str) -> str:
    return mask_digit_runs(mask_emails(text))


def mask_email_addresses(text: str, repl: str = EMAIL) -> str:
    """Only what is shaped like an e-mail address (`local@domain.tld`, the top-level domain of two or more
    letters) replaced, for log lines: `postgres@127.0.0.1`, `@decorator` or `user@localhost` stay as they are.

    Linear: a word is split at its `@`s; for each `@`, the local part is the longest run of address characters
    before it (matched on the reversed text, so the match is anchored) and the domain the longest run after it;
    each part of the word is looked at from its two ends at most once."""
    if "@" not in text:
        return text
    pieces = _SPACES.split(text)
    for i in range(0, len(pieces), 2):
        if "@" not in pieces[i]:
            continue
        parts = pieces[i].split("@")
        out: list[str] = []
        before = parts[0]  # what is left of the previous part, not yet written out
        for after in parts[1:]:
            local = _LOCAL_RUN.match(before[::-1])
            local_len = local.end() if local else 0
            domain_run = _DOMAIN_RUN.match(after)
            domain = (domain_run.group() if domain_run else "").rstrip(".-_")
            if local_len and _is_domain(domain) and any(ch.isalnum() for ch in before[len(before) - local_len :]):
                out.append(before[: len(before) - local_len] + repl)
                before = after[len(domain) :]
            else:
                out.append(before + "@")
                before = after
        out.append(before)
        pieces[i] = "".join(out)
    return "".join(pieces)


def _is_domain(domain: str) -> bool:
    labels = domain.split(".")
    tld = labels[-1]
    return len(labels) >= 2 and all(labels) and domain[0].isalnum() and len(tld) >= 2 and tld.isalpha()


# --- names -------------------------------------------------------------------------------------------------

_BIDI = {*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F}
_ZERO_WIDTH = {*range(0x200B, 0x200E), 0x2060, 0xFEFF}
_DROP = dict.fromkeys(_BIDI | _ZERO_WIDTH)


def clean_name(text: str) -> str:
    """A person's name as it may be stored and shown: NFC; right-to-left and other direction overrides
    (U+202A–U+202E, U+2066–U+2069, U+200E/F), zero-width characters (U+200B–U+200D, U+2060, U+FEFF) and every
    other control or format character (Unicode categories Cc, Cf) removed; whitespace of any kind collapsed to
    single spaces. Raises ValueError, naming the problem, when nothing visible is left."""
    if not text or text.isspace():
        raise ValueError("the name is empty")
    kept = text.translate(_DROP)
    kept = "".join(
        " " if ch.isspace() else ch for ch in kept if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf")
    )
    name = " ".join(unicodedata.normalize("NFC", kept).split())
    if not name:
        raise ValueError(
            "the name has only invisible characters (direction overrides, zero-width, control or format characters)"
        )
    return name


# --- the stored masked copies --------------------------------------------------------------------------------
# Set by the ORM whenever a feedback text or a survey comment is written (tickets.create, survey.save, or any
# later edit of the text), so that reading them never masks again. Listeners rather than calls in bot.feedback:
# feedback and privacy are sibling layers that may not import each other (pyproject.toml, import-linter), and
# bot/privacy/__init__.py imports this module, so every process that uses the privacy package has them.


@event.listens_for(Feedback, "before_insert")
def _feedback_inserted(mapper: Any, connection: Any, row: Feedback) -> None:
    row.text_masked = mask_text(row.text)


@event.listens_for(Feedback, "before_update")
def _feedback_updated(mapper: Any, connection: Any, row: Feedback) -> None:
    if inspect(row).attrs.text.history.has_changes():
        row.text_masked = mask_text(row.text)


@event.listens_for(SurveyResponse, "before_insert")
def _survey_inserted(mapper: Any, connection: Any, row: SurveyResponse) -> None:
    row.comment_masked = None if row.comment is None else mask_text(row.comment)


@event.listens_for(SurveyResponse, "before_update")
def _survey_updated(mapper: Any, connection: Any, row: SurveyResponse) -> None:
    if inspect(row).attrs.comment.history.has_changes():
        row.comment_masked = None if row.comment is None else mask_text(row.comment)
