"""What a specific question asks, beyond the facet: the words to look up in the entry's sentences, the kind of
answer it wants ("bao lâu": a duration) and the figures it gives ("15 tuổi").

Left out of the words: the words of the procedure's name where they stand as in the name ("làm giấy khai sinh" goes,
"giấy chứng sinh" stays), the frame of the question ("có phải … không", "cái đó"), the function words and what names
only the facet ("lệ phí", "ở đâu"). The everyday phrases that are specific ("trọ", "sinh ở nhà") stand with their
renderings in the knowledge base as one ("thuê", "không có giấy chứng sinh").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.conversation import cues
from bot.conversation.thread import FUNCTION, Signals, covered_out, folded_tokens, has_marks, phrases, strip_ends
from bot.replies.excerpts import KINDS, Question, figures
from knowledge.matcher import padded, syllables
from knowledge.text import clean, fold

_KINDS = sorted(((p, k) for k, ws in cues.ANSWER_KINDS.items() for p in phrases(ws)), key=lambda pk: -len(pk[0]))
_FRAMES = phrases(
    [
        *cues.YES_NO,
        *cues.PRONOUNS,
        *cues.EVERYTHING,
        *cues.ADDRESS,
        *(w for ws in cues.ANSWER_KINDS.values() for w in ws),
    ]
)
_GENERIC = phrases(cues.GENERIC)
_SYNONYMS = sorted(
    (
        (padded(folded_tokens(k)), tuple(tuple(folded_tokens(x)) for x in dict.fromkeys([k, main, *others])))
        for k, (main, others) in cues.SYNONYMS.items()
    ),
    key=lambda kg: -len(kg[0]),
)
_FIGURES = re.compile(r"\b\d+(?:[.,]\d+)*\s*(?:tuoi|ngay|thang|nam|gio|tang|m2|%|dong|lan|ban)?\b")


def _wants(pad: str) -> frozenset[str]:
    """The kinds of answer asked, the most precise phrase first ("diện tích bao nhiêu" is an area, not a sum)."""
    found = set()
    for p, kind in _KINDS:
        if p in pad:
            found.add(kind)
            pad = pad.replace(p, " ")
    return frozenset(found)


def question(toks: Sequence[str], text: str, sig: Signals, name_grams: frozenset[str]) -> Question | None:
    """What a question asks beyond the facet, for finding the entry's sentences that answer it; None when it asks
    nothing more than the facet (its card answers it).

    Left out: the words of the procedure's name where they stand as in the name ("làm giấy khai sinh" goes, "giấy
    chứng sinh" stays), the frame of the question ("có phải … không", "cái đó"), the function words; the kind of
    answer asked ("bao lâu": a duration) and the figures given ("15 tuổi", read on the message's folded text before
    "2" becomes "hai") are matched as such. What names only the facet ("lệ phí", "ở đâu") is not specific; the
    everyday words that are ("trọ", "sinh ở nhà") stand as the knowledge base's ("thuê", "không có giấy chứng sinh").
    """
    named = {
        i + k for i, (a, b) in enumerate(zip(toks, toks[1:], strict=False)) if f"{a}_{b}" in name_grams for k in (0, 1)
    }
    rest = [t for i, t in enumerate(toks) if i not in named]
    wants = _wants(padded(rest))
    raw = padded(syllables(clean(text).lower())) if has_marks(text) else None
    pad = _FIGURES.sub(" ", padded(covered_out(strip_ends(rest, raw), _FRAMES)))
    groups = []
    for key, renderings in _SYNONYMS:
        if key in pad:
            pad = pad.replace(key, " ")
            groups.append(renderings)
    said = [t for t in pad.split() if t not in FUNCTION]
    specific = [t for t in covered_out(pad.split(), _GENERIC) if t not in FUNCTION]
    given = figures(fold(clean(text)))
    if not (specific or groups or given or sig.hypothetical):
        return None  # nothing beyond the facet ("có mất phí không", "làm online được không"): its card answers it
    words = tuple(dict.fromkeys(specific or ([] if groups else said)))
    wants |= {KINDS[u] for _, u in given}  # "12 giờ đêm thì báo lúc nào": an hour answers it
    return Question(words, sig.facet, sig.yes_no, tuple(groups), wants, given)
