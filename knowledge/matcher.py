"""Understanding a citizen's question: intent, procedure and facet.

Pipeline (all on folded text, so missing diacritics do not matter):
1. clean (NFC, control characters) and expand abbreviations/teencode ('cccd', 'j', 'dc');
2. split into syllables, fix typos against the knowledge base vocabulary (rapidfuzz) and
   strip Telex leftovers ('kys' -> 'ky');
3. BM25 (bm25s) over each procedure's profile (name, aliases, keywords, field) using
   syllables and syllable bigrams, since Vietnamese words span syllables;
4. rerank the best candidates with fuzzy alias similarity (rapidfuzz) and an IDF-weighted
   coverage of the question, plus a small bonus when the diacritics also match;
5. decide confidence from the top score and the margin to the runner-up; a question whose
   content the knowledge base does not explain is out of scope, never the nearest procedure.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import accumulate

import bm25s
import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from knowledge.codes import find_code
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
from knowledge.national import NationalIndex
from knowledge.schema import Procedure
from knowledge.text import clean, fold

INTENTS = ("procedure", "case_status", "greeting", "help", "feedback", "thanks", "out_of_scope")
_WORD = re.compile(r"[0-9a-zđ]+|[^\W\d_]+", re.UNICODE)
_TELEX = set("sfrxj")
# BM25's parameters (bm25s defaults: k1 1.5, b 0.75)
BM25_K1, BM25_B = 1.5, 0.75
# phrase evidence, BM25 relative to the best candidate, IDF coverage, fuzzy alias similarity, diacritics bonus
WEIGHTS = (0.3, 0.3, 0.2, 0.15, 0.05)
# an action the question asks for that the candidate lacks (when another candidate has it); an action in a
# national procedure's name nobody asked for
ACTION_PENALTY = (0.2, 0.05)
# phrase evidence from a keyword (a situation: "đóng cửa quán") counts this much of a name's or alias's
KEYWORD_EVIDENCE = 0.9
# our own procedures are what citizens ask about most (they were chosen for that): a near tie goes to them
CURATED_PRIOR = 0.0
# national procedures for businesses only, and for neither citizens nor businesses (agencies, officials): a
# citizen asks about those less often
AUDIENCE_PENALTY = (0.05, 0.1)
# national procedures done only at Vietnam's embassies and consulates, for a question that says nothing of abroad
ABROAD_PENALTY = 0.1
# a national procedure named with a qualifier (QUALIFIERS: "có yếu tố nước ngoài", "lưu động") the question lacks
QUALIFIER_PENALTY = 0.05
_MISSION = ("Cơ quan đại diện",)
_ABROAD = tuple(
    f" {w} "
    for w in ("nuoc ngoai", "dai su quan", "lanh su", "dinh cu", "viet kieu", "o my", "o nhat", "o han", "o uc")
)


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


TIERS = ("curated", "national")


@dataclass(frozen=True)
class Match:
    """One ranked procedure. `tier` is "curated" (explained in our knowledge base: `id` is its id) or "national"
    (a pointer into the national index: `id` is "national:<code>"). `code` is the national code when known."""

    id: str
    name: str
    score: float
    tier: str = "curated"
    code: str | None = None


@dataclass(frozen=True)
class Understanding:
    query: str
    intent: str
    facet: str | None
    confident: bool
    matches: list[Match] = field(default_factory=list)
    case_code: str | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        if d["case_code"] is None:
            del d["case_code"]
        return d


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


@dataclass
class _Entry:
    """Per procedure, as tuples of interned strings: at 10,000 procedures sets would cost several times more."""

    id: str
    name: str
    code: str | None
    tier: str
    aliases_folded: list[str]  # the name first, then the aliases (and a national name's core)
    plain_words: tuple[str, ...]
    phrases: list[tuple[str, ...]]  # of its name, aliases (and core)
    kw_phrases: list[tuple[str, ...]]  # of its keywords: situations, weaker evidence (KEYWORD_EVIDENCE)
    vocab: tuple[str, ...]
    kw_vocab: tuple[str, ...]  # grams only its keywords (or field) have
    actions: frozenset[str]  # said anywhere in its name or aliases (keywords describe situations, not actions)
    name_actions: frozenset[str]  # said in its name or aliases
    audience: int = 0  # 0 citizens (or unknown), 1 businesses only, 2 neither (AUDIENCE_PENALTY)
    same_as: str = ""  # the name without level or punctuation: entries sharing it are one procedure to a citizen
    abroad: bool = False  # done only at Vietnam's missions abroad (ABROAD_PENALTY unless the question goes abroad)
    qualifiers: tuple[str, ...] = ()  # QUALIFIERS its name says


# Wording of official names that says where or how a procedure is done, not which one it is.
_NAME_NOISE = re.compile(
    r"\((?:thực hiện |)(?:tại |ở )?cấp [^)]{2,30}\)|^\s*thủ tục:?\s+"
    r"|(?:thực hiện )?bằng dịch vụ công(?: trực tuyến)?(?: toàn trình| một phần)?"
    r"|dịch vụ công trực tuyến|trực tuyến toàn trình",
    re.IGNORECASE,
)


# Where an official name stops saying what the procedure is and starts saying for whom, by whom or in which case:
# "Cấp giấy phép xây dựng mới | đối với công trình cấp III …", "Giải thể doanh nghiệp | , giải thể trong trường hợp
# …". The part before is the name's core, the words a citizen would use.
_CORE_CUT = re.compile(
    r"\s+(?:đối với|trong trường hợp|trường hợp|thuộc thẩm quyền|theo quy định|theo đề nghị|theo yêu cầu|do|tại"
    r"|cho|để|của|khi|từ|trên địa bàn|thực hiện)\s|[(;:/]|,\s|\s-\s",
    re.IGNORECASE,
)


# Syllables of names that say what is done, not to what: a core needs two others ("cấp đổi giấy phép" says too
# little, "cấp giấy phép xây dựng" enough).
_GENERIC_WORDS = (
    "cap lai doi gia han bo sung sua dieu chinh de nghi giay phep chung nhan dang ky thu tuc thay mo xoa huy"
    " hoi cong thong bao xac va hoac cac moi"
)
_GENERIC = frozenset(_GENERIC_WORDS.split())


def core_name(name: str) -> str | None:
    """The core of a long official name ("Đăng ký thành lập hợp tác xã, liên hiệp hợp tác xã; …" -> "Đăng ký thành
    lập hợp tác xã"), or None when the name is already short or the core would say too little."""
    text = _NAME_NOISE.sub(" ", name).strip()
    for m in _CORE_CUT.finditer(text):
        core = text[: m.start()].strip(" ,.")
        if len(core.split()) >= 3 and sum(w not in _GENERIC for w in fold(core).split()) >= 2:
            return core if len(core.split()) < len(text.split()) else None
    return None


def audience_of(targets: Sequence[str]) -> int:
    """0 when citizens may use it (or nobody is named), 1 for businesses and cooperatives only, 2 for neither."""
    if not targets or any(t.startswith(("Công dân", "Người Việt Nam", "Người nước ngoài")) for t in targets):
        return 0
    return 1 if any(t.startswith(("Doanh nghiệp", "Hợp tác xã")) for t in targets) else 2


def national_id(code: str) -> str:
    return f"national:{code}"


class Matcher:
    """Built once from the knowledge base (and optionally the national index); `understand()` is pure and
    thread-safe. `Matcher(procedures)` ranks our own procedures only; `Matcher(procedures, national=index)`
    ranks them together with every national procedure they do not already cover (same code, or listed in the
    index's `curated` mapping)."""

    def __init__(
        self, procedures: Sequence[Procedure], *, national: NationalIndex | None = None, top_k: int = 40
    ) -> None:
        self.top_k = top_k
        self.entries: list[_Entry] = []
        self.index_of: dict[str, int] = {}
        corpus: list[list[str]] = []
        interned: dict[str, str] = {}
        interned_acts: dict[frozenset[str], frozenset[str]] = {}
        repair: set[str] = set()
        intern = lambda xs: list(map(interned.setdefault, xs, xs))  # noqa: E731

        def add(
            id_: str,
            name: str,
            code: str | None,
            tier: str,
            aliases: Sequence[str],
            keywords: Sequence[str],
            fields: Sequence[str],
            match_name: str,
            shorts: Sequence[str] = (),
        ) -> None:
            """Index one procedure. Our procedures' words, and the aliases of national ones, also teach typo repair
            (official names do not: their thousands of bigrams would "repair" everyday words into official ones,
            "đêm ca nhạc" into "đến cá nhân")."""
            # the national index is cleaned on import (and its aliases on load); ours are cleaned here
            texts = [clean(t) for t in (name, *aliases, *keywords)] if tier == "curated" else [name, *aliases]
            folded = [" ".join(expand(syllables(fold(t)))) for t in (clean(match_name), *texts[1:])]
            short_folded = [" ".join(expand(syllables(fold(clean(t))))) for t in shorts]
            toks: list[str] = []
            for f in folded[: 1 + len(aliases)]:
                toks += grams(f.split()) * 2
            for f in folded[1 + len(aliases) :]:
                toks += grams(f.split())
            for fld in fields:
                toks += grams(expand(syllables(fold(fld))))
            toks = intern(toks)
            corpus.append(toks)
            if tier == "curated":
                repair.update(toks)
            else:
                for f in folded[1 : 1 + len(aliases)]:
                    repair.update(grams(f.split()))
            plain = tuple(intern(sorted({w for t in texts for w in syllables(t)})))
            named_texts = [*folded[: 1 + len(aliases)], *short_folded]
            phrases = [tuple(intern(sorted(g))) for g in (set(grams(f.split())) for f in named_texts) if g]
            kw_phrases = [
                tuple(intern(sorted(g))) for g in (set(grams(f.split())) for f in folded[1 + len(aliases) :]) if g
            ]
            self.index_of[id_] = len(self.entries)
            vocab = tuple(sorted(set(toks)))
            named_vocab: set[str] = set()
            for f in [*folded[: 1 + len(aliases)], *short_folded]:
                named_vocab.update(grams(f.split()))
            kw_only = tuple(intern(sorted(set(vocab) - named_vocab)))
            # the action of a name is in its first words ("Cấp lại …", "Đổi, cấp lại …"); later ones describe a
            # case ("… khi thay đổi nơi cư trú"). Aliases are short: all of theirs count.
            lead = folded[0].split()[:_LEAD]
            named = actions_in(" | ".join(["", " ".join(lead), *folded[1 : 1 + len(aliases)], ""]))
            acts = named | actions_in(" | ".join(["", *folded[: 1 + len(aliases)], ""]))
            acts, named = (interned_acts.setdefault(a, a) for a in (acts, named))
            names = [*folded[: 1 + len(aliases)], *short_folded]
            same_as = interned.setdefault(key := " ".join(syllables(fold(_NAME_NOISE.sub(" ", name)))), key)
            self.entries.append(
                _Entry(
                    id_,
                    name,
                    code,
                    tier,
                    names,
                    plain,
                    phrases,
                    kw_phrases,
                    vocab,
                    kw_only,
                    acts,
                    named,
                    same_as=same_as,
                )
            )

        for p in procedures:
            add(p.id, p.name, p.code, "curated", p.aliases, p.keywords, [p.field], p.name)
        self.curated_count = len(self.entries)
        self.national = national
        if national is not None:
            have = {p.id for p in procedures}
            covered = {p.code for p in procedures if p.code} | {
                code for code, pid in national.curated.items() if pid in have
            }
            for n in national.procedures:
                if n.code in covered or (n.local is not None and n.local.code in covered):
                    continue
                add(
                    national_id(n.code),
                    n.name,
                    n.code,
                    "national",
                    n.aliases,
                    (),
                    n.fields,
                    _NAME_NOISE.sub(" ", n.name),
                    [c for c in (core_name(n.name),) if c],
                )
                self.entries[-1].audience = audience_of(n.targets)
                self.entries[-1].abroad = bool(n.agencies) and all(a.startswith(_MISSION) for a in n.agencies)
                named_text = padded(syllables(fold(n.name)))
                self.entries[-1].qualifiers = tuple(q for q in _QUALIFIERS if q in named_text)
        self.bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
        self.bm25.index(corpus, show_progress=False)
        self.vocab = self.bm25.vocab_dict
        n_docs = len(corpus)
        df = Counter(t for doc in corpus for t in set(doc))
        self.idf = {t: math.log(1 + n_docs / c) for t, c in df.items()}
        self.oov_idf = float(np.median(list(self.idf.values()))) if self.idf else 1.0
        self.unigrams = sorted(t for t in self.vocab if t and "_" not in t and len(t) >= 2)
        self._unigram_set = set(self.unigrams) | _FILLERS | _CUE_WORDS
        self.repair_vocab = frozenset(repair)
        self.repair_unigrams = sorted(t for t in repair if t and "_" not in t and len(t) >= 2)
        self._repair_set = set(self.repair_unigrams) | _FILLERS | _CUE_WORDS

    # --- normalisation -----------------------------------------------------------------

    def _near(self, tok: str, max_dist: int, pool: Sequence[str] | None = None) -> list[str]:
        pool = self.unigrams if pool is None else pool
        hits = process.extract(tok, pool, scorer=OSA.distance, score_cutoff=max_dist, limit=8)
        return [h[0] for h in sorted(hits, key=lambda h: h[1])]

    def _fix_typo(self, toks: list[str], i: int) -> str:
        """Fix one syllable: Telex leftovers, non-syllables, and valid syllables that break a known bigram."""
        tok = toks[i]
        if len(tok) < 2 or tok.isdigit():
            return tok
        if tok in self._unigram_set:  # filler words are what they are ("trong ngày")
            return tok if tok in _FILLERS else self._fix_in_context(toks, i, known=True)
        if tok[-1] in _TELEX and tok[:-1] in self._unigram_set:
            return tok[:-1]
        plain = untelex(tok)
        if plain != tok and plain in self._unigram_set:
            return plain
        if not _SYLLABLE.match(tok):
            return self._closest(toks, i, 2 if len(tok) > 4 else 1)
        return self._fix_in_context(toks, i)

    def _closest(self, toks: list[str], i: int, max_dist: int) -> str:
        """The known syllable closest to a non-syllable ('sih' -> 'sinh'); among equally close ones, one that forms
        a bigram with a neighbour, then one our procedures or the citizens' aliases use."""
        tok = toks[i]
        hits = process.extract(tok, self.unigrams, scorer=OSA.distance, score_cutoff=max_dist, limit=12)
        if not hits:
            return tok
        prev, nxt = (toks[i - 1] if i else None), (toks[i + 1] if i + 1 < len(toks) else None)

        def rank(hit: tuple[str, float, int]) -> tuple[float, bool, bool]:
            cand = hit[0]
            paired = bool(prev and f"{prev}_{cand}" in self.vocab) or bool(nxt and f"{cand}_{nxt}" in self.vocab)
            return hit[1], not paired, cand not in self._repair_set

        return min(hits, key=rank)[0]

    def _fix_in_context(self, toks: list[str], i: int, *, known: bool = False) -> str:
        """A real syllable in the wrong place ('kết hôm', 'thường chú'): when it forms no known bigram with
        its neighbours but a close syllable does, take that one. For syllables the knowledge base knows,
        only the usual spelling confusions (ch/tr, s/x, d/gi/r, l/n, final m/n, n/ng, c/t) are tried."""
        tok = toks[i]
        prev, nxt = (toks[i - 1] if i else None), (toks[i + 1] if i + 1 < len(toks) else None)
        if (prev and f"{prev}_{tok}" in self.vocab) or (nxt and f"{tok}_{nxt}" in self.vocab):
            return tok
        if known or self.national is not None:
            # a real syllable the knowledge base does not know is still a word ("nhạc" in "đêm ca nhạc"): with the
            # national index beside ours, only the usual spelling confusions are tried for it too
            cands = [c for c in confusions(tok) if c in self._repair_set]
        else:
            cands = self._near(tok, 1, self.repair_unigrams)
        bigrams = self.repair_vocab
        for cand in cands:
            if (prev and prev not in _FILLERS and f"{prev}_{cand}" in bigrams) or (
                nxt and nxt not in _FILLERS and f"{cand}_{nxt}" in bigrams
            ):
                return cand
        return tok

    def _repair(self, toks: list[str]) -> list[str]:
        fixed = [self._fix_typo(toks, i) for i in range(len(toks))]
        return fixed + foreign_hint(fixed) + official_words(fixed)

    def tokens(self, text: str) -> list[str]:
        """Folded, expanded, typo-fixed syllables: what the ranking sees."""
        return self._repair(expand(syllables(fold(text))))

    # --- scoring -----------------------------------------------------------------------

    def rank(self, text: str, tokens: list[str] | None = None) -> list[Match]:
        """Candidates, best first."""
        return self._rank(text, tokens)[0]

    def _rank(self, text: str, tokens: list[str] | None = None) -> tuple[list[Match], float]:
        """Candidates best first, and how well the best of them matches before actions are weighed (what decides
        whether the question is about a procedure at all: an action word in it, "bản chính bị tẩy xóa", must not
        push the right procedure under the floor because other candidates say "xóa")."""
        toks = tokens if tokens is not None else self.tokens(text)
        content = [t for t in toks if t not in _FILLERS and t not in _CUE_WORDS]
        if not content:
            return [], 0.0
        q = grams(toks)
        q_in = [t for t in q if t in self.vocab]
        if not q_in:
            return [], 0.0
        scores = self.bm25.get_scores(q_in)
        k = min(self.top_k, len(scores))
        idx = [int(i) for i in np.argpartition(-scores, k - 1)[:k] if scores[i] > 0]
        if not idx:
            return [], 0.0
        top = float(max(scores[i] for i in idx))
        q_folded = " ".join(content)
        q_set = set(q)
        # coverage: the share of the question's content (by idf) that the procedure's vocabulary has
        q_weights = [(t, self.idf.get(t, self.oov_idf)) for t in grams(content)]
        total = sum(w for _, w in q_weights)
        plain_q = set(syllables(clean(text)))
        accented = plain_q != set(content)  # typed with diacritics: reward procedures that use the same words
        w = WEIGHTS
        q_text = padded(toks)
        asked = actions_in(q_text)
        abroad = any(w in padded(toks) for w in _ABROAD) or any(t in COUNTRY_WORDS for t in toks)
        # actions asked for that a candidate answers, and the most of them one candidate answers
        cover = max((len(asked & self.entries[i].actions) for i in idx), default=0) if asked else 0
        out = []
        relevance = 0.0
        for i in idx:  # per candidate, only C-level loops: this is the hottest code of a question
            entry = self.entries[i]
            fz = process.extractOne(q_folded, entry.aliases_folded, scorer=fuzz.ratio)[1] / 100
            cov = (
                sum(wt * (KEYWORD_EVIDENCE if t in entry.kw_vocab else 1.0) for t, wt in q_weights if t in entry.vocab)
                / total
                if total
                else 0.0
            )
            accent = len(plain_q.intersection(entry.plain_words)) / max(1, len(plain_q)) if accented else 0.0
            phrase = max((len(q_set.intersection(ph)) / len(ph) for ph in entry.phrases), default=0.0)
            if entry.kw_phrases:
                kw = max(len(q_set.intersection(ph)) / len(ph) for ph in entry.kw_phrases)
                phrase = max(phrase, KEYWORD_EVIDENCE * kw)
            score = w[0] * phrase + w[1] * (scores[i] / top) + w[2] * cov + w[3] * fz + w[4] * accent
            relevance = max(relevance, score)
            if entry.tier == "curated":
                score += CURATED_PRIOR
            else:
                if entry.audience:
                    score -= AUDIENCE_PENALTY[entry.audience - 1]
                if entry.abroad and not abroad:
                    score -= ABROAD_PENALTY
                if entry.qualifiers and not any(q in q_text for q in entry.qualifiers):
                    score -= QUALIFIER_PENALTY
            if cover and len(asked & entry.actions) < cover:
                score -= ACTION_PENALTY[0]
            if entry.tier == "national" and entry.name_actions and not entry.name_actions & asked:
                score -= ACTION_PENALTY[1]
            out.append(Match(entry.id, entry.name, round(float(min(1.0, max(0.0, score))), 4), entry.tier, entry.code))
        out.sort(key=lambda m: -m.score)
        return self._distinct(out), min(1.0, relevance)

    def _distinct(self, ranked: list[Match]) -> list[Match]:
        """One match per procedure as a citizen sees it: the catalogue lists some under several codes, one per
        level ("Trình báo mất hộ chiếu (thực hiện tại cấp xã / tỉnh / trung ương)"); the best scored stays, and a
        national entry named like one of ours is ours."""
        seen = {e.same_as for e in self.entries[: self.curated_count]} if self.national is not None else set()
        out = []
        for m in ranked:
            entry = self.entries[self.index_of[m.id]]
            if entry.tier == "national" and entry.same_as in seen:
                continue
            seen.add(entry.same_as)
            out.append(m)
        return out

    # --- the public entry point ---------------------------------------------------------

    def understand(
        self,
        text: str,
        *,
        confident_score: float = 0.7,
        margin: float = 0.1,
        floor: float = 0.6,
        strong: float = 0.85,
        cross_margin: float = 0.12,
        pointer_score: float = 0.7,
    ) -> Understanding:
        """Intent, facet and ranked procedures for one question."""
        query = clean(text)
        raw = expand(syllables(fold(query)))
        fixed = self._repair(raw)
        raw_text, fixed_text = padded(raw), padded(fixed)
        code = find_code(query)
        hits = {i for i, phrases in _INTENT_PHRASES.items() if any(p in raw_text or p in fixed_text for p in phrases)}
        if code or "case_status" in hits or all(any(p in raw_text for p in group) for group in _CASE):
            return Understanding(query, "case_status", None, True, [], code)
        if "feedback" in hits:
            return Understanding(query, "feedback", None, True, [])
        small_talk = next((i for i in ("help", "thanks", "greeting") if i in hits), None)
        leftover = [t for t in raw if t not in _FILLERS and t not in _INTENT_WORDS and t not in _CUE_WORDS]
        if small_talk and len(leftover) <= 1:
            return Understanding(query, small_talk, None, True, [])
        ranked, relevance = self._rank(query, without_documents_question(raw, fixed))
        matches = ranked[:5]
        best = matches[0].score if matches else 0.0
        own_names = self._own_names(matches[0].id) if matches else ""
        off_topic = any(p in raw_text and p not in own_names for p in _OOS)
        if relevance < floor or (off_topic and relevance < strong):
            return Understanding(query, small_talk or "out_of_scope", None, True, [])
        second = matches[1].score if len(matches) > 1 else 0.0
        needed = cross_margin if len(matches) > 1 and matches[1].tier != matches[0].tier else margin
        least = pointer_score if matches[0].tier == "national" else confident_score
        confident = best >= least and (best - second >= needed or self._general_asked(matches, raw))
        own = self._own_text(matches[0].id)
        facet = detect_facet(raw_text, own) or detect_facet(fixed_text, own) or "documents"
        return Understanding(query, "procedure", facet, confident, matches)

    def _general_asked(self, matches: list[Match], asked: list[str]) -> bool:
        """The best match is the general procedure and the runner-up the same name with qualifiers the citizen
        did not type ("Đăng ký kết hôn" / "… có yếu tố nước ngoài", "Cấp thẻ căn cước" / "Cấp đổi, cấp lại …"):
        the close score is no doubt about which one was asked."""
        best, runner = (set(self.entries[self.index_of[m.id]].aliases_folded[0].split()) for m in matches[:2])
        extra = runner - best
        return bool(extra) and best < runner and not extra & set(asked)

    def _own_names(self, procedure_id: str) -> str:
        """Its name and aliases, padded: an off-topic cue that is part of them ("vay ngân hàng" in "thế chấp sổ
        đỏ vay ngân hàng") names the procedure, it does not make the question off topic."""
        return " | ".join(["", *self.entries[self.index_of[procedure_id]].aliases_folded, ""])

    def _own_text(self, procedure_id: str) -> str:
        return f" {self.entries[self.index_of[procedure_id]].aliases_folded[0]} "
