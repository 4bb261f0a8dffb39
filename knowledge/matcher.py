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
    WEAK_CUES,
)
from knowledge.schema import Procedure
from knowledge.text import clean, fold

INTENTS = ("procedure", "case_status", "greeting", "help", "feedback", "thanks", "out_of_scope")
_WORD = re.compile(r"[0-9a-zđ]+|[^\W\d_]+", re.UNICODE)
_TELEX = set("sfrxj")
# phrase evidence, BM25 relative to the best candidate, IDF coverage, fuzzy alias similarity, diacritics bonus
WEIGHTS = (0.3, 0.3, 0.2, 0.15, 0.05)


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
# A folded Vietnamese syllable: onset, vowel nucleus, coda. Tokens that are not one are typos.
_SYLLABLE = re.compile(r"^(ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(ch|ng|nh|[cmnpt])?$")


@dataclass(frozen=True)
class Match:
    id: str
    name: str
    score: float


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
# điều kiện an toàn thực phẩm"), so they are left out of ranking.
_DOCUMENTS_QUESTION = re.compile(
    r" (?:(?:can|phai|mang|chuan bi|nop|xin) )?(?:(?:nhung|cac) )?giay to (?:gi|nao|the nao)(?= )"
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

    proc: Procedure
    aliases_folded: list[str]
    plain_words: tuple[str, ...]
    phrases: list[tuple[str, ...]]
    vocab: tuple[str, ...]


class Matcher:
    """Built once from the knowledge base; `understand()` is pure and thread-safe."""

    def __init__(self, procedures: Sequence[Procedure], *, top_k: int = 12) -> None:
        self.top_k = top_k
        self.entries: list[_Entry] = []
        self.index_of: dict[str, int] = {}
        corpus: list[list[str]] = []
        interned: dict[str, str] = {}
        intern = lambda xs: [interned.setdefault(x, x) for x in xs]  # noqa: E731
        for p in procedures:
            texts = [clean(t) for t in (p.name, *p.aliases, *p.keywords)]
            folded = [" ".join(expand(syllables(fold(t)))) for t in texts]
            toks: list[str] = []
            for f in folded[: 1 + len(p.aliases)]:
                toks += grams(f.split()) * 2
            for f in folded[1 + len(p.aliases) :]:
                toks += grams(f.split())
            toks += grams(expand(syllables(fold(p.field))))
            toks = intern(toks)
            corpus.append(toks)
            plain = tuple(intern(sorted({w for t in texts for w in syllables(t)})))
            phrases = [tuple(intern(sorted(g))) for g in (set(grams(f.split())) for f in folded) if g]
            self.index_of[p.id] = len(self.entries)
            self.entries.append(_Entry(p, folded[: 1 + len(p.aliases)], plain, phrases, tuple(sorted(set(toks)))))
        self.bm25 = bm25s.BM25()
        self.bm25.index(corpus, show_progress=False)
        self.vocab = self.bm25.vocab_dict
        n_docs = len(corpus)
        df = Counter(t for doc in corpus for t in set(doc))
        self.idf = {t: math.log(1 + n_docs / c) for t, c in df.items()}
        self.oov_idf = float(np.median(list(self.idf.values()))) if self.idf else 1.0
        self.unigrams = sorted(t for t in self.vocab if t and "_" not in t and len(t) >= 2)
        self._unigram_set = set(self.unigrams) | _FILLERS | _CUE_WORDS

    # --- normalisation -----------------------------------------------------------------

    def _near(self, tok: str, max_dist: int) -> list[str]:
        hits = process.extract(tok, self.unigrams, scorer=OSA.distance, score_cutoff=max_dist, limit=8)
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
            near = self._near(tok, 2 if len(tok) > 4 else 1)
            return near[0] if near else tok
        return self._fix_in_context(toks, i)

    def _fix_in_context(self, toks: list[str], i: int, *, known: bool = False) -> str:
        """A real syllable in the wrong place ('kết hôm', 'thường chú'): when it forms no known bigram with
        its neighbours but a close syllable does, take that one. For syllables the knowledge base knows,
        only the usual spelling confusions (ch/tr, s/x, d/gi/r, l/n, final m/n, n/ng, c/t) are tried."""
        tok = toks[i]
        prev, nxt = (toks[i - 1] if i else None), (toks[i + 1] if i + 1 < len(toks) else None)
        if (prev and f"{prev}_{tok}" in self.vocab) or (nxt and f"{tok}_{nxt}" in self.vocab):
            return tok
        cands = [c for c in confusions(tok) if c in self._unigram_set] if known else self._near(tok, 1)
        for cand in cands:
            if (prev and prev not in _FILLERS and f"{prev}_{cand}" in self.vocab) or (
                nxt and nxt not in _FILLERS and f"{cand}_{nxt}" in self.vocab
            ):
                return cand
        return tok

    def _repair(self, toks: list[str]) -> list[str]:
        fixed = [self._fix_typo(toks, i) for i in range(len(toks))]
        return fixed + foreign_hint(fixed)

    def tokens(self, text: str) -> list[str]:
        """Folded, expanded, typo-fixed syllables: what the ranking sees."""
        return self._repair(expand(syllables(fold(text))))

    # --- scoring -----------------------------------------------------------------------

    def rank(self, text: str, tokens: list[str] | None = None) -> list[Match]:
        toks = tokens if tokens is not None else self.tokens(text)
        content = [t for t in toks if t not in _FILLERS and t not in _CUE_WORDS]
        if not content:
            return []
        q = grams(toks)
        q_in = [t for t in q if t in self.vocab]
        if not q_in:
            return []
        scores = self.bm25.get_scores(q_in)
        k = min(self.top_k, len(scores))
        idx = [int(i) for i in np.argpartition(-scores, k - 1)[:k] if scores[i] > 0]
        if not idx:
            return []
        top = float(max(scores[i] for i in idx))
        q_folded = " ".join(content)
        q_set = set(q)
        # coverage: the share of the question's content (by idf) that the procedure's vocabulary has
        q_weights = [(t, self.idf.get(t, self.oov_idf)) for t in grams(content)]
        total = sum(w for _, w in q_weights)
        plain_q = set(syllables(clean(text)))
        accented = plain_q != set(content)  # typed with diacritics: reward procedures that use the same words
        w = WEIGHTS
        out = []
        for i in idx:  # per candidate, only C-level loops: this is the hottest code of a question
            entry = self.entries[i]
            fz = process.extractOne(q_folded, entry.aliases_folded, scorer=fuzz.ratio)[1] / 100
            cov = sum(wt for t, wt in q_weights if t in entry.vocab) / total if total else 0.0
            accent = len(plain_q.intersection(entry.plain_words)) / max(1, len(plain_q)) if accented else 0.0
            phrase = max((len(q_set.intersection(ph)) / len(ph) for ph in entry.phrases), default=0.0)
            score = w[0] * phrase + w[1] * (scores[i] / top) + w[2] * cov + w[3] * fz + w[4] * accent
            out.append(Match(entry.proc.id, entry.proc.name, round(float(min(1.0, score)), 4)))
        out.sort(key=lambda m: -m.score)
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
        matches = self.rank(query, without_documents_question(raw, fixed))[:5]
        best = matches[0].score if matches else 0.0
        off_topic = any(p in raw_text for p in _OOS)
        if best < floor or (off_topic and best < strong):
            return Understanding(query, small_talk or "out_of_scope", None, True, [])
        second = matches[1].score if len(matches) > 1 else 0.0
        confident = best >= confident_score and (best - second >= margin or self._general_asked(matches, raw))
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

    def _own_text(self, procedure_id: str) -> str:
        return f" {self.entries[self.index_of[procedure_id]].aliases_folded[0]} "
