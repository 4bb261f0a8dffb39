"""The matcher's index: each procedure's words, phrases and actions, and BM25 over all of them.

Built once from our procedures and, optionally, the national index (`build_corpus`); `knowledge/matcher.py`
ranks questions against it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np

from knowledge.national import NationalIndex, NationalProcedure
from knowledge.schema import Procedure
from knowledge.text import clean, fold
from knowledge.tokens import _CUE_WORDS, _FILLERS, _LEAD, _QUALIFIERS, actions_in, expand, grams, padded, syllables

# BM25's parameters (bm25s defaults: k1 1.5, b 0.75)
BM25_K1, BM25_B = 1.5, 0.75
_MISSION = ("Cơ quan đại diện",)


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


class _Builder:
    """Collects the entries, BM25 documents and typo-repair words one procedure at a time."""

    def __init__(self) -> None:
        self.entries: list[_Entry] = []
        self.index_of: dict[str, int] = {}
        self.corpus: list[list[str]] = []
        self.interned: dict[str, str] = {}
        self.interned_acts: dict[frozenset[str], frozenset[str]] = {}
        self.repair: set[str] = set()

    def intern(self, xs: Iterable[str]) -> list[str]:
        return list(map(self.interned.setdefault, xs, xs))

    def _document(self, names: list[str], described: list[str], fields: Sequence[str]) -> list[str]:
        """The BM25 document: the grams of its name and aliases twice, of its keywords and fields once."""
        toks: list[str] = []
        for f in names:
            toks += grams(f.split()) * 2
        for f in described:
            toks += grams(f.split())
        for fld in fields:
            toks += grams(expand(syllables(fold(fld))))
        return self.intern(toks)

    def _phrases(self, texts: list[str]) -> list[tuple[str, ...]]:
        return [tuple(self.intern(sorted(g))) for g in (set(grams(f.split())) for f in texts) if g]

    def _actions(self, folded: list[str], n_names: int) -> tuple[frozenset[str], frozenset[str]]:
        """Actions said anywhere in its name or aliases, and those said where they name the action: the action of
        a name is in its first words ("Cấp lại …", "Đổi, cấp lại …"); later ones describe a case ("… khi thay đổi
        nơi cư trú"). Aliases are short: all of theirs count."""
        lead = folded[0].split()[:_LEAD]
        named = actions_in(" | ".join(["", " ".join(lead), *folded[1:n_names], ""]))
        acts = named | actions_in(" | ".join(["", *folded[:n_names], ""]))
        acts, named = (self.interned_acts.setdefault(a, a) for a in (acts, named))
        return acts, named

    def add(
        self,
        id_: str,
        name: str,
        code: str | None,
        tier: str,
        aliases: Sequence[str],
        keywords: Sequence[str],
        fields: Sequence[str],
        match_name: str,
        shorts: Sequence[str] = (),
    ) -> _Entry:
        """Index one procedure. Our procedures' words, and the aliases of national ones, also teach typo repair
        (official names do not: their thousands of bigrams would "repair" everyday words into official ones,
        "đêm ca nhạc" into "đến cá nhân")."""
        # the national index is cleaned on import (and its aliases on load); ours are cleaned here
        texts = [clean(t) for t in (name, *aliases, *keywords)] if tier == "curated" else [name, *aliases]
        folded = [" ".join(expand(syllables(fold(t)))) for t in (clean(match_name), *texts[1:])]
        short_folded = [" ".join(expand(syllables(fold(clean(t))))) for t in shorts]
        n_names = 1 + len(aliases)
        toks = self._document(folded[:n_names], folded[n_names:], fields)
        self.corpus.append(toks)
        if tier == "curated":
            self.repair.update(toks)
        else:
            for f in folded[1:n_names]:
                self.repair.update(grams(f.split()))
        plain = tuple(self.intern(sorted({w for t in texts for w in syllables(t)})))
        named_texts = [*folded[:n_names], *short_folded]
        phrases = self._phrases(named_texts)
        kw_phrases = self._phrases(folded[n_names:])
        self.index_of[id_] = len(self.entries)
        vocab = tuple(sorted(set(toks)))
        named_vocab: set[str] = set()
        for f in named_texts:
            named_vocab.update(grams(f.split()))
        kw_only = tuple(self.intern(sorted(set(vocab) - named_vocab)))
        acts, named = self._actions(folded, n_names)
        same_as = self.interned.setdefault(key := " ".join(syllables(fold(_NAME_NOISE.sub(" ", name)))), key)
        entry = _Entry(id_, name, code, tier, named_texts, plain, phrases, kw_phrases, vocab, kw_only, acts, named)
        entry.same_as = same_as
        self.entries.append(entry)
        return entry

    def add_national(self, n: NationalProcedure) -> None:
        entry = self.add(
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
        entry.audience = audience_of(n.targets)
        entry.abroad = bool(n.agencies) and all(a.startswith(_MISSION) for a in n.agencies)
        named_text = padded(syllables(fold(n.name)))
        entry.qualifiers = tuple(q for q in _QUALIFIERS if q in named_text)


@dataclass
class Corpus:
    """What `Matcher` ranks against (its attributes of the same names)."""

    entries: list[_Entry]
    index_of: dict[str, int]
    curated_count: int
    bm25: bm25s.BM25
    vocab: dict[str, int]
    idf: dict[str, float]
    oov_idf: float
    unigrams: list[str]
    unigram_set: set[str]
    repair_vocab: frozenset[str]
    repair_unigrams: list[str]
    repair_set: set[str]


def _uncovered(procedures: Sequence[Procedure], national: NationalIndex) -> list[NationalProcedure]:
    """The national procedures none of ours covers (same code, or listed in the index's `curated` mapping)."""
    have = {p.id for p in procedures}
    covered = {p.code for p in procedures if p.code} | {code for code, pid in national.curated.items() if pid in have}
    return [
        n for n in national.procedures if not (n.code in covered or (n.local is not None and n.local.code in covered))
    ]


def build_corpus(procedures: Sequence[Procedure], national: NationalIndex | None = None) -> Corpus:
    b = _Builder()
    for p in procedures:
        b.add(p.id, p.name, p.code, "curated", p.aliases, p.keywords, [p.field], p.name)
    curated_count = len(b.entries)
    for n in _uncovered(procedures, national) if national is not None else []:
        b.add_national(n)
    bm25 = bm25s.BM25(k1=BM25_K1, b=BM25_B)
    bm25.index(b.corpus, show_progress=False)
    vocab = bm25.vocab_dict
    n_docs = len(b.corpus)
    df = Counter(t for doc in b.corpus for t in set(doc))
    idf = {t: math.log(1 + n_docs / c) for t, c in df.items()}
    oov_idf = float(np.median(list(idf.values()))) if idf else 1.0
    unigrams = sorted(t for t in vocab if t and "_" not in t and len(t) >= 2)
    repair_unigrams = sorted(t for t in b.repair if t and "_" not in t and len(t) >= 2)
    return Corpus(
        entries=b.entries,
        index_of=b.index_of,
        curated_count=curated_count,
        bm25=bm25,
        vocab=vocab,
        idf=idf,
        oov_idf=oov_idf,
        unigrams=unigrams,
        unigram_set=set(unigrams) | _FILLERS | _CUE_WORDS,
        repair_vocab=frozenset(b.repair),
        repair_unigrams=repair_unigrams,
        repair_set=set(repair_unigrams) | _FILLERS | _CUE_WORDS,
    )
