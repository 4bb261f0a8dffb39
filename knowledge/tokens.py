"""From text to the folded syllables the matcher compares, and the cues found in them.

Folding, abbreviation and synonym expansion, Telex leftovers, spelling confusions, foreign-country hints, the
actions a text names, n-grams and facet cues: pure functions over the word tables of `knowledge/lexicon.py`, used
both to index procedures (`knowledge/corpus.py`) and to read a question (`knowledge/matcher.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import accumulate

from knowledge.lexicon import (
    ABBREVIATIONS,
    ACTIONS,
    CASE_PAST,
    CASE_SUBMITTED,
    CASE_WAITING,
    COUNTRIES,
    FACET_CUES,
    FACET_ORDER,
    FILLERS,
    FOREIGN_PERSON,
    FOREIGN_PLACE,
    INTENT_CUES,
    OUT_OF_SCOPE_TOPICS,
    QUALIFIERS,
    SYNONYMS,
    WEAK_CUES,
)
from knowledge.text import fold

_WORD = re.compile(r"[0-9a-zđ]+|[^\W\d_]+", re.UNICODE)
_TELEX = set("sfrxj")


def _phrases(words: Iterable[str]) -> list[str]:
    """Cue phrases as folded, space-padded strings, longest first, for substring tests on `padded()` text."""
    return sorted({f" {' '.join(fold(w).split())} " for w in words}, key=len, reverse=True)


_ABBR = {tuple(k.split()): tuple(fold(v).split()) for k, v in ((fold(k), v) for k, v in ABBREVIATIONS.items())}
_ABBR_MAX = max(len(k) for k in _ABBR)
_ABBR_FIRST = {k[0] for k in _ABBR}
_FILLERS = {fold(w) for w in FILLERS}
_FACET_PHRASES = {f: _phrases([*ws, *WEAK_CUES.get(f, [])]) for f, ws in FACET_CUES.items()}
_WEAK = {f: set(_phrases(WEAK_CUES.get(f, []))) for f in FACET_CUES}
_INTENT_PHRASES = {i: _phrases(ws) for i, ws in INTENT_CUES.items()}
# Single-syllable cues ("phí", "mẫu", "cách") say what is asked, never which procedure.
_CUE_WORDS = {p.strip() for ps in _FACET_PHRASES.values() for p in ps if len(p.split()) == 1}
_INTENT_WORDS = {w for i, ps in _INTENT_PHRASES.items() if i != "case_status" for p in ps for w in p.split()}
_CASE = tuple(_phrases(ws) for ws in (CASE_SUBMITTED, CASE_PAST, CASE_WAITING))
_OOS = _phrases(OUT_OF_SCOPE_TOPICS)
_SYNONYMS = sorted(((_phrases([k])[0], fold(v).split()) for k, v in SYNONYMS.items()), key=lambda x: -len(x[0]))
_ACTIONS = sorted(((p, p.split()[0], a) for a, ps in ACTIONS.items() for p in _phrases(ps)), key=lambda x: -len(x[0]))
_NO_ACTIONS: frozenset[str] = frozenset()
_QUALIFIERS = _phrases(QUALIFIERS)
_LEAD = 5  # syllables of an official name that say its action
# A folded Vietnamese syllable: onset, vowel nucleus, coda. Tokens that are not one are typos.
_SYLLABLE = re.compile(r"^(ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(ch|ng|nh|[cmnpt])?$")


def syllables(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def expand(tokens: Sequence[str]) -> list[str]:
    """Replace abbreviations and teencode (longest phrase first) with their full folded words."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i] not in _ABBR_FIRST:
            out.append(tokens[i])
            i += 1
            continue
        for n in range(min(_ABBR_MAX, len(tokens) - i), 0, -1):
            rep = _ABBR.get(tuple(tokens[i : i + n]))
            if rep is not None:
                out.extend(rep)
                i += n
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


_ONSETS = [
    ("ch", "tr"),
    ("tr", "ch"),
    ("s", "x"),
    ("x", "s"),
    ("d", "gi"),
    ("gi", "d"),
    ("r", "d"),
    ("d", "r"),
    ("gi", "r"),
    ("l", "n"),
    ("n", "l"),
]
_CODAS = [("m", "n"), ("n", "m"), ("ng", "n"), ("n", "ng"), ("c", "t"), ("t", "c"), ("nh", "n"), ("ch", "t")]


def confusions(syllable: str) -> list[str]:
    """Common Vietnamese spelling confusions of one folded syllable ('chu' -> 'tru', 'hom' -> 'hon')."""
    out = []
    for a, b in _ONSETS:
        if (
            syllable.startswith(a)
            and not (a == "n" and syllable.startswith(("ng", "nh")))
            and not (a == "d" and syllable.startswith("di"))
        ):
            out.append(b + syllable[len(a) :])
    for a, b in _CODAS:
        if syllable.endswith(a) and not (a == "n" and syllable.endswith(("ng", "nh"))):
            out.append(syllable[: -len(a)] + b)
    return out


_COUNTRY = [tuple(fold(c).split()) for c in COUNTRIES]
COUNTRY_WORDS = frozenset(w for c in _COUNTRY for w in c if len(w) > 2)
_PERSON = {tuple(fold(p).split()) for p in FOREIGN_PERSON}
_PLACE = {fold(p) for p in FOREIGN_PLACE}


def foreign_hint(tokens: Sequence[str]) -> list[str]:
    """Extra words when a foreign country follows a person ('chồng Hàn') or a place word ('cưới ở Nhật')."""
    for i in range(1, len(tokens)):
        for country in _COUNTRY:
            if tuple(tokens[i : i + len(country)]) != country:
                continue
            before = [tuple(tokens[max(0, i - n) : i]) for n in (1, 2)]
            if any(b in _PERSON for b in before):
                return ["nguoi", "nuoc", "ngoai"]
            if tokens[i - 1] in _PLACE:
                return ["o", "nuoc", "ngoai"]
    return []


def official_words(tokens: Sequence[str]) -> list[str]:
    """The official words for everyday ones in the question (SYNONYMS), to add to it: "sổ đỏ" -> "giấy chứng nhận
    quyền sử dụng đất"."""
    text = padded(tokens)
    out: list[str] = []
    for phrase, words in _SYNONYMS:
        if phrase in text:
            out += words
            text = text.replace(phrase, " ")
    return out


_TELEX_MARKS = [("dd", "d"), ("aa", "a"), ("aw", "a"), ("ee", "e"), ("oo", "o"), ("ow", "o"), ("uw", "u"), ("w", "u")]


def untelex(tok: str) -> str:
    """Undo unconverted Telex typing ('ddaauf' -> 'dau', 'sor' -> 'so'): drop the tone key, fold the marks."""
    if len(tok) > 2 and tok[-1] in _TELEX:
        tok = tok[:-1]
    for a, b in _TELEX_MARKS:
        tok = tok.replace(a, b)
    return tok


# "cần (những) giấy tờ gì", "hồ sơ gồm những gì", "cần điều kiện gì": what is asked, not words of a procedure's
# name (yet "giấy tờ" is in "chứng thực bản sao giấy tờ", "giấy" in "giấy khai sinh", "điều kiện" in "cơ sở đủ
# điều kiện an toàn thực phẩm"), so they are left out of ranking. Likewise "(như) thế nào", "có thể": "thế"
# folds to "the" like "thẻ" (thẻ BHYT) and "thể" (giải thể), which are words of procedures.
_DOCUMENTS_QUESTION = re.compile(
    r" (?:nhu |lam )?the nao(?= )| nhu the(?= )| co the(?= )"
    r"| (?:(?:can|phai|mang|chuan bi|nop|xin) )?(?:(?:nhung|cac) )?giay to (?:gi|nao|the nao)(?= )"
    r"| ho so (?:gom|can|co) (?:(?:nhung|cac) )?(?:gi|giay to gi|nhung gi)(?= )"
    r"| (?:(?:can|phai|co) )?(?:(?:nhung|cac) )?(?:du )?dieu kien(?: (?:gi|nao|the nao|ra sao|la gi|de|duoc))?(?= )"
)


def without_documents_question(raw: list[str], fixed: list[str]) -> list[str]:
    """`fixed` without the syllables of a documents question found in `raw` or `fixed` (typo repair may have
    turned "hồ sơ gồm" into "hồ sơ gốc"); the two align syllable by syllable."""
    drop: set[int] = set()
    for tokens in (raw, fixed[: len(raw)]):  # `fixed` may end with words added for a foreign country
        spans = [m.span() for m in _DOCUMENTS_QUESTION.finditer(padded(tokens))]
        if not spans:
            continue
        starts = accumulate((len(t) + 1 for t in tokens[:-1]), initial=1)  # where each syllable begins
        drop.update(i for i, at in enumerate(starts) for a, b in spans if a < at < b)
    kept = [t for i, t in enumerate(fixed) if i not in drop]
    return kept if kept else fixed


def actions_in(text: str) -> frozenset[str]:
    """The actions (ACTIONS keys) said in a `padded()` text, longest phrase first, each phrase used once."""
    found = set()
    words = set(text.split())
    for phrase, first, action in _ACTIONS:
        if first in words and phrase in text:
            if action:  # "" marks look-alikes that are not actions ("đối với")
                found.add(action)
            text = text.replace(phrase, " ")
    return frozenset(found) if found else _NO_ACTIONS


def padded(tokens: Sequence[str]) -> str:
    """' a b c ': a phrase ' b c ' occurs as whole syllables exactly when it is a substring."""
    return f" {' '.join(tokens)} "


def grams(tokens: Sequence[str]) -> list[str]:
    """Syllables that carry meaning, plus every syllable bigram."""
    uni = [t for t in tokens if t not in _FILLERS]
    bi = [f"{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False) if not (a in _FILLERS and b in _FILLERS)]
    return uni + bi


def detect_facet(text: str, ignore: str = "") -> str | None:
    """The first facet in FACET_ORDER with a cue in the question; weak (context) cues count only when no other
    cue is there. Cues that belong to the procedure's own name ("chi phí" in "hỗ trợ chi phí mai táng") are
    not questions and are skipped."""
    for weak in (False, True):
        for facet in FACET_ORDER:
            for p in _FACET_PHRASES[facet]:
                if (p in _WEAK[facet]) == weak and p in text and p not in ignore:
                    return facet
    return None
