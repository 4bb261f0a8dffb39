"""The thread of a conversation: whether a message goes on from the last answer, switches procedure, or is
something else.

The matcher reads a message alone. In a thread, "còn lệ phí?" names no procedure (the matcher calls it off topic),
"nộp ở đâu" matches nothing well (it offers a pick-list of unrelated procedures), "cần giấy tờ gì" ranks the
procedures with "giấy tờ" in their names, and "thủ tục này có cần công chứng không" leans towards certification.
`decide()` reads the message's own signals (a facet cue, a pointing word, an opener such as "còn"/"vậy nếu", small
talk) beside the matcher's understanding and the chat's topic:

- a message that names another procedure switches to it: one of its names or aliases in full, or words of its names
  that the topic's names do not have and the topic's own text does not explain ("thuế thu nhập cá nhân bao nhiêu"
  after a land transfer asks about the transfer's tax, not about registering a tax code);
- a message with the signals of a follow-up and nothing else of substance is answered for the topic;
- small talk and off-topic lines are refused as before, and the topic stays for the next message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.conversation import cues
from bot.replies.excerpts import passages
from knowledge.lexicon import FACET_CUES, FILLERS, INTENT_CUES, OUT_OF_SCOPE_TOPICS, WEAK_CUES
from knowledge.matcher import Matcher, Understanding, detect_facet, expand, grams, padded, syllables
from knowledge.schema import Procedure
from knowledge.text import clean, fold


def folded_tokens(text: str) -> list[str]:
    """Folded syllables with abbreviations and teencode expanded ('dc ko' -> 'duoc khong')."""
    return expand(syllables(fold(clean(text))))


def phrases(words: Iterable[str]) -> list[str]:
    """Space-padded folded phrases, longest first, for whole-syllable substring tests."""
    return sorted({f" {' '.join(folded_tokens(w))} " for w in words if folded_tokens(w)}, key=len, reverse=True)


def marked(words: Iterable[str]) -> list[str]:
    """Space-padded lowercase phrases with their diacritics: folding merges "cổ phiếu" with "có phiếu" and
    "vậy còn" with "vậy con", so a message typed with diacritics is compared with these."""
    return sorted({f" {' '.join(syllables(clean(w).lower()))} " for w in words}, key=len, reverse=True)


def has_marks(text: str) -> bool:
    return fold(text) != text.lower()


_PRONOUNS = phrases(cues.PRONOUNS)
_OPENERS = phrases(cues.OPENERS)
_CONTRAST = phrases(cues.CONTRAST)
_CONTRAST_MARKED = marked(cues.CONTRAST)
_HYPOTHETICAL = phrases(cues.HYPOTHETICAL)
_CLOSERS = phrases(cues.CLOSERS)
_YES_NO = phrases(cues.YES_NO)
_EVERYTHING = phrases(cues.EVERYTHING)
_CHITCHAT = phrases([*cues.CHITCHAT, *OUT_OF_SCOPE_TOPICS])
_CHITCHAT_MARKED = marked([*cues.CHITCHAT, *OUT_OF_SCOPE_TOPICS])
_STRONG = {f: phrases(ws) for f, ws in cues.STRONG_FACET_CUES.items()}
_EXTRA = {f: phrases(ws) for f, ws in cues.FACET_CUES.items()}
_STATES = ("chua", "da", "khong", "dang", "vua", "moi", "duoc")  # "chưa đăng ký kết hôn": a state, not a request
_FACET_ORDER = ("forms", "result", "time", "fee", "where", "how", "conditions", "documents")
# what a message asks with, not about: removed (as whole phrases) before looking at what is left; openers only where
# a message starts and closers only where it ends ("còn" opens a follow-up, and is also "con", a child)
_ASKING = phrases(
    [
        *(w for ws in (*FACET_CUES.values(), *WEAK_CUES.values()) for w in ws),
        *(w for ws in (*cues.FACET_CUES.values(), *cues.STRONG_FACET_CUES.values()) for w in ws),
        *cues.YES_NO,
        *cues.PRONOUNS,
        *cues.EVERYTHING,
    ]
)
_LEADING = sorted(
    {
        (padded(folded_tokens(w)), padded(syllables(clean(w).lower())))
        for w in (*cues.OPENERS, *cues.CONTRAST, *cues.HYPOTHETICAL)
    },
    key=lambda fm: -len(fm[0]),
)
_TRAILING = phrases(cues.CLOSERS)
FUNCTION = {w for f in cues.FUNCTION_WORDS for w in folded_tokens(f)}  # never what is asked about
_SMALL_WORDS = (  # nor, for telling a follow-up from a new subject, the matcher's fillers
    FUNCTION
    | {w for f in FILLERS for w in folded_tokens(f)}
    | {w for i in ("greeting", "thanks") for p in INTENT_CUES[i] for w in folded_tokens(p)}
)


def _first(pad: str, table: dict[str, list[str]]) -> str | None:
    return next((f for f in _FACET_ORDER for p in table.get(f, []) if p in pad), None)


def _strip(toks: Sequence[str]) -> list[str]:
    """The syllables of a message once the phrases it asks with are gone."""
    return covered_out(strip_ends(toks), _ASKING)


def strip_ends(toks: Sequence[str], raw: str | None = None) -> list[str]:
    """Without the opener ("còn", "vậy nếu") where it starts and the closer ("thì sao") where it ends; `raw` (the
    message lowercased with its diacritics, when it has them) tells "thế còn" from "thế con"."""
    pad = padded(toks)
    lead = next(
        (f for f, m in _LEADING if pad.startswith(f) and len(pad) > len(f) and (raw is None or raw.startswith(m))), None
    )
    if lead:
        pad = " " + pad[len(lead) :]
    trail = next((p for p in _TRAILING if pad.endswith(p) and len(pad) > len(p)), None)
    if trail:
        pad = pad[: -len(trail)] + " "
    return pad.split()


def covered_out(toks: Sequence[str], table: Iterable[str]) -> list[str]:
    """`toks` without every syllable that some phrase of `table` covers (phrases may overlap)."""
    pad = padded(toks)
    starts = [0]
    for t in toks:
        starts.append(starts[-1] + len(t) + 1)
    gone: set[int] = set()
    for p in table:
        at = pad.find(p)
        while at != -1:
            first = starts.index(at)
            gone.update(range(first, first + len(p.split())))
            at = pad.find(p, at + 1)
    return [t for i, t in enumerate(toks) if i not in gone]


def content_words(toks: Sequence[str]) -> list[str]:
    """What a message is about, for telling a follow-up from a new subject: no cues, no fillers."""
    return [t for t in _strip(toks) if t not in _SMALL_WORDS]


@dataclass(frozen=True)
class Signals:
    """What a message says about itself, read on its folded, expanded syllables."""

    facet: str | None  # the facet a cue asks for (the thread's strong cues, the lexicon's, the thread's others)
    strong: bool  # the facet came from a cue the lexicon reads otherwise ("online có rẻ hơn không" asks the fee)
    pronoun: bool  # "cái đó", "thủ tục này": it points back at the last answer
    ellipsis: bool  # opens or closes as a follow-up does: "còn …", "vậy nếu …", "… thì sao"
    contrast: bool  # "còn …", "thế còn …": sets something against the last answer
    hypothetical: bool  # "nếu …", "trường hợp …": a situation of the last answer's procedure
    yes_no: bool
    everything: bool  # asks for the whole card
    asked_facet: str | None  # the facet its words ask for, once a yes/no frame ("có phải … không") is set aside
    chitchat: bool  # small talk, or one of the public matters the bot does not cover
    content: tuple[str, ...]  # what is left once cues and small words are gone

    @property
    def follow_up(self) -> bool:
        return self.facet is not None or self.pronoun or self.ellipsis or self.yes_no


def read(text: str) -> Signals:
    toks = folded_tokens(text)
    pad = padded(toks)
    raw = padded(syllables(clean(text).lower())) if has_marks(text) else None
    strong = _first(pad, _STRONG)
    facet = strong or detect_facet(pad) or _first(pad, _EXTRA) or ("fee" if " bao nhieu " in pad else None)
    what_if = any(pad.startswith(p) for p in _HYPOTHETICAL)
    contrast = not what_if and (
        any(raw.startswith(p) for p in _CONTRAST_MARKED) if raw else any(pad.startswith(p) for p in _CONTRAST)
    )
    opener = what_if or contrast or any(pad.startswith(p) for p in _OPENERS)
    closer = any(pad.endswith(p) or f"{p.rstrip()} a " in pad for p in _CLOSERS)
    return Signals(
        facet=facet,
        strong=strong is not None,
        pronoun=any(p in pad for p in _PRONOUNS),
        ellipsis=opener or closer,
        contrast=contrast,
        hypothetical=what_if,
        yes_no=any(p in pad for p in _YES_NO),
        everything=any(p in pad for p in _EVERYTHING),
        asked_facet=strong or detect_facet(padded(covered_out(toks, _YES_NO))) or _first(pad, _EXTRA),
        chitchat=any(p in raw for p in _CHITCHAT_MARKED) if raw else any(p in pad for p in _CHITCHAT),
        content=tuple(content_words(toks)),
    )


@dataclass(frozen=True)
class Naming:
    """How a message names a candidate procedure, against the topic."""

    full: bool  # one of its names or aliases, whole
    distinct: int  # word pairs of its names the topic's names do not have
    unexplained: int  # of those, the ones the topic's own text does not have either
    official: int  # of the distinct ones, those of its official name

    def switches(self, sig: Signals, *, likeliest: bool) -> bool:
        """Enough to leave the topic: a whole name; after "còn", a word pair of its official name or one the topic's
        text does not explain; after "nếu" or a pointing word, two the topic's text does not explain (or two of its
        own when the matcher ranks it first); else one the topic's text does not explain."""
        if self.full:
            return True
        if sig.contrast:
            return self.official >= 1 or self.unexplained >= 1
        if sig.pronoun or sig.hypothetical:
            return self.unexplained >= 2 or (likeliest and self.distinct >= 2)
        return self.unexplained >= 1


class Names:
    """The names and aliases of every procedure (as syllable tuples and word pairs) and the words of each entry's
    text, to tell a message that names another procedure from one that only shares words with it. A pair found in
    the names of many procedures ("đăng ký", "cấp lại") says little on its own."""

    def __init__(self, procedures: Sequence[Procedure], matcher: Matcher) -> None:
        self.matcher = matcher
        self.grams: dict[str, frozenset[str]] = {}
        self.words: dict[str, frozenset[str]] = {}  # every syllable of the names: not what a question asks
        self.aliases: dict[str, list[str]] = {}
        self.official: dict[str, frozenset[str]] = {}  # the word pairs of the official name alone
        self.papers: dict[str, str] = {}  # the names of its documents, folded, one string
        self.text: dict[str, frozenset[str]] = {}
        for p in procedures:
            toks = [folded_tokens(n) for n in (p.name, *p.aliases)]
            self.grams[p.id] = frozenset(g for t in toks for g in grams(t) if "_" in g)
            self.words[p.id] = frozenset(w for t in toks for w in t)
            self.aliases[p.id] = [padded(t) for t in toks if len(t) >= 2]
            self.official[p.id] = frozenset(g for g in grams(toks[0]) if "_" in g)
            self.papers[p.id] = " | ".join(padded(folded_tokens(d.name)) for d in p.documents)
            self.text[p.id] = frozenset(x for ps in passages(p) for x in (*ps.pairs, *ps.words))
        df = Counter(g for gs in self.grams.values() for g in gs)
        self.common = frozenset(g for g, n in df.items() if n > 8)

    def naming(self, text: str, candidate: str, topic: str) -> Naming:
        toks = self.matcher.tokens(text)
        pad = padded(toks)
        # a name after a word of state is a situation, not a request: "bố mẹ chưa đăng ký kết hôn"
        toks = [t for i, t in enumerate(toks) if not any(x in _STATES for x in toks[max(0, i - 4) : i])]
        theirs = set(self.aliases.get(topic, []))
        papers = self.papers.get(topic, "")
        full = any(
            a in pad and not any(a in t for t in theirs) and a not in papers and not _state(pad, a)
            for a in self.aliases.get(candidate, [])
        )
        said = set(grams(toks))
        distinct = (self.grams.get(candidate, frozenset()) - self.grams.get(topic, frozenset()) - self.common) & said
        unexplained = distinct - self.text.get(topic, frozenset())
        return Naming(full, len(distinct), len(unexplained), len(distinct & self.official.get(candidate, frozenset())))


def _state(pad: str, alias: str) -> bool:
    """The name follows a word of state ("bố mẹ chưa đăng ký kết hôn"): a situation, not a request."""
    before = pad[: pad.index(alias)].split()
    return bool(before) and before[-1] in _STATES


@dataclass(frozen=True)
class Decision:
    """What to do with a message: answer a procedure (`proc`, `facet`), offer the pick-list, refuse it, or leave it
    to the intent table (greeting, case lookup...). `follow_up` is true when the procedure came from the topic."""

    kind: str  # "answer" | "pick" | "refuse" | "other"
    proc: Procedure | None = None
    facet: str | None = None
    follow_up: bool = False


def decide(
    u: Understanding,
    sig: Signals,
    text: str,
    topic: Procedure | None,
    topic_facet: str | None,
    names: Names,
    kb_get: Callable[[str], Procedure | None],
) -> Decision:
    """The thread's reading of a message the matcher understood as `u`."""
    top = kb_get(u.matches[0].id) if u.intent == "procedure" and u.matches else None
    facet = sig.facet if sig.strong else u.facet
    if sig.chitchat and u.intent in ("procedure", "out_of_scope"):
        return Decision("refuse")
    if topic is None:
        if top is not None and u.confident:
            return Decision("answer", top, facet)
        return Decision("pick" if u.intent == "procedure" else "other")
    if u.intent not in ("procedure", "out_of_scope"):
        return Decision("other")
    follow = Decision("answer", topic, _facet(sig, topic_facet), follow_up=True)
    if sig.follow_up and not sig.content:  # "còn lệ phí?", "cái đó nộp ở đâu": nothing but the question
        return follow
    if top is not None and top.id == topic.id:
        return Decision("answer", topic, facet) if u.confident else follow
    if top is not None and u.confident:
        n = names.naming(text, top.id, topic.id)
        if n.switches(sig, likeliest=True):
            return Decision("answer", top, facet)
        return follow if sig.follow_up or n.distinct else Decision("answer", top, facet)
    if u.intent == "procedure":
        return _unsure(u, sig, text, topic, names, kb_get, follow)
    known = names.text.get(topic.id, frozenset())
    if sig.facet is None and not (sig.pronoun or sig.ellipsis) and not any(w in known for w in sig.content):
        return Decision("other")  # a bare "không …": a yes/no about nothing the topic's entry speaks of
    return follow if sig.follow_up and not _foreign(sig, known) else Decision("other")


def _unsure(
    u: Understanding,
    sig: Signals,
    text: str,
    topic: Procedure,
    names: Names,
    kb_get: Callable[[str], Procedure | None],
    follow: Decision,
) -> Decision:
    """The matcher is not sure which procedure: one that the message names switches (the pick-list when it is not
    the likeliest); else the topic, unless the message is about something else altogether."""
    ids = [m.id for m in u.matches[:3]]
    named = []
    for rank, pid in enumerate(ids):
        if pid == topic.id:
            continue
        n = names.naming(text, pid, topic.id)
        if n.switches(sig, likeliest=rank == 0):
            named.append((not n.full, -n.distinct, rank, pid))
    if named and not sig.pronoun:
        partial, _, rank, pid = min(named)
        proc = kb_get(pid)
        if proc is not None and (rank == 0 or not partial):
            return Decision("answer", proc, sig.facet if sig.strong else u.facet)
        return Decision("pick")
    if _foreign(sig, names.text.get(topic.id, frozenset())) and not (sig.pronoun or sig.ellipsis):
        return Decision("refuse")
    return follow


def _facet(sig: Signals, topic_facet: str | None) -> str | None:
    """The facet of a follow-up: the one it asks for; none when it asks about a situation (the entry's sentences
    decide); else the topic's."""
    if sig.facet is not None:
        return sig.facet
    if sig.content:
        return None
    return topic_facet


def _foreign(sig: Signals, topic_words: frozenset[str]) -> bool:
    """About something else: several words are left once the cues are gone, most of them foreign to the topic's
    entry, and nothing points back at it."""
    if len(sig.content) < 2 or sig.pronoun:
        return False
    known = sum(1 for w in sig.content if w in topic_words or w.isdigit())
    if sig.facet is not None:  # it asks a facet: off topic only when none of its words is the topic's
        return known == 0
    return known * 2 < len(sig.content)
