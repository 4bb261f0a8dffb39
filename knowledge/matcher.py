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

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from knowledge.codes import find_code
from knowledge.corpus import BM25_B as BM25_B  # re-exported: public names of the module before the split
from knowledge.corpus import BM25_K1 as BM25_K1
from knowledge.corpus import _Entry, build_corpus
from knowledge.corpus import audience_of as audience_of
from knowledge.corpus import core_name as core_name
from knowledge.corpus import national_id as national_id
from knowledge.national import NationalIndex
from knowledge.schema import Procedure
from knowledge.text import clean, fold
from knowledge.tokens import (
    _CASE,
    _CUE_WORDS,
    _FILLERS,
    _INTENT_PHRASES,
    _INTENT_WORDS,
    _OOS,
    _SYLLABLE,
    _TELEX,
    COUNTRY_WORDS,
    confusions,
    foreign_hint,
    official_words,
    untelex,
    without_documents_question,
)
from knowledge.tokens import actions_in as actions_in  # re-exported: callers import these from here
from knowledge.tokens import detect_facet as detect_facet
from knowledge.tokens import expand as expand
from knowledge.tokens import grams as grams
from knowledge.tokens import padded as padded
from knowledge.tokens import syllables as syllables

INTENTS = ("procedure", "case_status", "greeting", "help", "feedback", "thanks", "out_of_scope")
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
_ABROAD = tuple(
    f" {w} "
    for w in ("nuoc ngoai", "dai su quan", "lanh su", "dinh cu", "viet kieu", "o my", "o nhat", "o han", "o uc")
)


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


def _weighed(score: float, entry: _Entry, q_text: str, asked: frozenset[str], cover: int, abroad: bool) -> float:
    """A candidate's score with the tier's prior and the penalties (audience, abroad, qualifiers, actions)."""
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
    return score


class Matcher:
    """Built once from the knowledge base (and optionally the national index); `understand()` is pure and
    thread-safe. `Matcher(procedures)` ranks our own procedures only; `Matcher(procedures, national=index)`
    ranks them together with every national procedure they do not already cover (same code, or listed in the
    index's `curated` mapping)."""

    def __init__(
        self, procedures: Sequence[Procedure], *, national: NationalIndex | None = None, top_k: int = 40
    ) -> None:
        self.top_k = top_k
        self.national = national
        c = build_corpus(procedures, national)
        self.entries, self.index_of, self.curated_count = c.entries, c.index_of, c.curated_count
        self.bm25, self.vocab, self.idf, self.oov_idf = c.bm25, c.vocab, c.idf, c.oov_idf
        self.unigrams, self._unigram_set = c.unigrams, c.unigram_set
        self.repair_vocab, self.repair_unigrams, self._repair_set = c.repair_vocab, c.repair_unigrams, c.repair_set

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
            score = _weighed(score, entry, q_text, asked, cover, abroad)
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
