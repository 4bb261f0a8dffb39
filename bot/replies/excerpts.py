"""The sentences of an entry that answer a specific question, taken from the entry's own text, never composed.

Every procedure is cut into passages: each condition and note, each document with the situation it is needed in,
the processing time, each fee and exemption, where to submit, each way of submitting and each step, the result.
A question's words (folded, once the procedure's name, the facet cues and the small words are gone) are looked up
in them, weighted by how rare each word is across the knowledge base; a passage of the facet asked counts a little
more, and for a yes/no question a rule (a condition, a note, an exemption) does, since the rule decides the answer.
When no passage covers enough of the question, there is no direct answer and the facet card is shown as before.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from knowledge.matcher import expand, syllables
from knowledge.schema import Fee, Procedure
from knowledge.text import fold

e = html.escape
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZĐÀ-Ỹ])")
RULES = frozenset({"condition", "note", "exemption", "document"})  # what decides a yes/no question
ANY_FACET = frozenset({"condition", "note", "exemption"})  # rules that may answer a question of another facet
# a figure with its unit ("15 ngày", "06 tháng", "14 tuổi", "8.000 đồng", "60%"), folded
_FIGURE = re.compile(r"(\d+(?:[.,]\d+)*)\s*(tuoi|ngay|thang|nam|gio|tang|m2|m²|%|dong|lan|ban)(?!\w)")
# what kind of answer a figure gives: how long, how old, how much, at what hour, how many
KINDS = {
    "ngay": "duration",
    "thang": "duration",
    "nam": "duration",
    "tuoi": "age",
    "dong": "money",
    "%": "money",
    "gio": "hour",
    "lan": "count",
    "ban": "count",
    "tang": "count",
    "m2": "area",
    "m²": "area",
}
OTHER_FACET = 0.1  # how much better a rule of another facet must cover the question than one of the facet asked
WANT = 2.0  # the weight of the kind of answer asked ("bao lâu": a duration), beside the words
FIGURE = 3.0  # the weight of a figure asked about ("15 tuổi"), credited by how close the entry's figures are


def figures(folded: str) -> tuple[tuple[float, str], ...]:
    """The figures of a folded text with their units: "tu du 14 tuoi" -> ((14.0, "tuoi"),)."""
    out = []
    for m in _FIGURE.finditer(folded):
        try:
            out.append((float(m.group(1).replace(".", "").replace(",", ".")), m.group(2)))
        except ValueError:
            continue
    return tuple(out)


def tokens(text: str) -> list[str]:
    return expand(syllables(fold(text)))


def pairs(toks: Sequence[str]) -> set[str]:
    return {f"{a}_{b}" for a, b in zip(toks, toks[1:], strict=False)}


@dataclass(frozen=True)
class Passage:
    """One claim of an entry as the citizen reads it (`html`), the facet it belongs to, and its sources' titles."""

    facet: str
    kind: str  # condition | note | document | time | fee | exemption | where | how | step | result
    html: str
    words: frozenset[str] = field(repr=False)
    pairs: frozenset[str] = field(repr=False)
    sources: tuple[str, ...] = ()
    figures: tuple[tuple[float, str], ...] = field(default=(), repr=False)

    @property
    def kinds(self) -> frozenset[str]:
        free = {"mien_phi", "mien_le", "khong_thu"} & self.pairs  # "miễn lệ phí", "không thu": an amount too
        return frozenset(KINDS[u] for _, u in self.figures) | ({"money"} if free else frozenset())


def _passage(facet: str, kind: str, shown: str, plain: str, sources: Iterable[object] = ()) -> Passage:
    toks = tokens(plain)
    titles = tuple(dict.fromkeys(str(getattr(s, "title", "")).rstrip(".") for s in sources if getattr(s, "title", "")))
    shown_plain = fold(html.unescape(re.sub(r"<[^>]+>", "", shown)))  # the fee line shows its amount
    return Passage(facet, kind, shown, frozenset(toks), frozenset(pairs(toks)), titles, figures(shown_plain))


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


FeeLine = Callable[[Fee], str]


def passages(proc: Procedure, fee_line: FeeLine | None = None) -> list[Passage]:
    """Every passage of a procedure, in the order of its card. `fee_line(fee)` renders one fee (the card's)."""
    out: list[Passage] = []
    for c in proc.conditions:
        out += [_passage("conditions", "condition", e(s), s) for s in _sentences(c)]
    for n in proc.notes:
        out += [_passage(_note_facet(n), "note", e(s), s) for s in _sentences(n)]
    for d in proc.documents:
        shown = f"<b>{e(d.name)}</b>"
        if d.when:
            shown += f" — <i>cần khi: {e(d.when)}</i>"
        if d.notes:
            shown += f". {e(d.notes)}"
        out.append(_passage("documents", "document", shown, f"{d.name} {d.when or ''} {d.notes or ''}", _src(d)))
    pt = proc.processing_time
    out += [_passage("time", "time", e(s), s, _src(pt)) for s in _sentences(pt.text)]
    for f in proc.fees.items:
        shown = fee_line(f) if fee_line else f"• {e(f.case)}"
        out.append(_passage("fee", "fee", shown.removeprefix("• "), f"{f.case} {f.notes or ''} phí", _src(f)))
    out += [_passage("fee", "exemption", e(x), f"{x} miễn phí") for x in proc.fees.exemptions]
    if proc.fees.notes:
        out += [_passage("fee", "note", e(s), s) for s in _sentences(proc.fees.notes)]
    ag = proc.agency
    out.append(_passage("where", "where", e(ag.where), ag.where, _src(ag)))
    if ag.notes:
        out += [_passage("where", "note", e(s), s, _src(ag)) for s in _sentences(ag.notes)]
    ch = proc.channels
    for text in (ch.online.notes, ch.notes):
        if text:
            out += [_passage("how", "how", e(s), f"{s} trực tuyến nộp", ()) for s in _sentences(text)]
    out += [_passage("how", "step", e(s), s) for s in proc.steps]
    out += [_passage("result", "result", e(s), s) for s in _sentences(proc.result)]
    return out


def _src(claim: object) -> list[object]:
    """A claim's own sources, where the knowledge base records them."""
    return list(getattr(claim, "sources", None) or [])


_NOTE_FACETS = (
    ("fee", ("lệ phí", "phí", "miễn")),
    ("time", ("thời hạn", "ngày làm việc", "ngày hẹn")),
    ("forms", ("mẫu", "biểu mẫu")),
    ("how", ("trực tuyến", "vneid", "nộp qua")),
)


def _note_facet(note: str) -> str:
    low = note.lower()
    return next((f for f, words in _NOTE_FACETS if any(w in low for w in words)), "conditions")


@dataclass(frozen=True)
class Question:
    """What a question asks, as the conversation read it: its content words (folded, expanded, with the everyday
    words' official equivalents added), the facet asked and whether it wants a yes or a no."""

    words: tuple[str, ...]
    facet: str | None = None
    yes_no: bool = False
    groups: tuple[tuple[tuple[str, ...], ...], ...] = ()  # an everyday phrase and its official equivalents: one of
    # them found in a passage counts for the phrase ("tối đa" | "không quá"; "trọ" | "thuê" | "ở nhờ")
    wants: frozenset[str] = frozenset()  # the kind of answer asked: duration, age, money, hour, count
    figures: tuple[tuple[float, str], ...] = ()  # figures the question gives ("con tôi 15 tuổi")


class Excerpts:
    """The passages of every procedure, and how rare each word is among them."""

    def __init__(self, procedures: Sequence[Procedure], fee_line: FeeLine | None = None) -> None:
        self.by_id = {p.id: passages(p, fee_line) for p in procedures}
        docs = [p.words for ps in self.by_id.values() for p in ps]
        df = Counter(w for words in docs for w in words)
        self.idf = {w: math.log(1 + len(docs) / n) for w, n in df.items()}
        self.unknown = math.log(1 + len(docs))

    def weight(self, word: str) -> float:
        return self.idf.get(word, self.unknown)

    def group_weight(self, group: Sequence[Sequence[str]]) -> float:
        """A phrase's weight: its rarest rendering's, within 1.5 to 6 (a phrase counts as one word or two)."""
        return min(6.0, max(1.5, max(sum(self.weight(w) for w in alt) for alt in group)))

    def best(self, proc: Procedure, q: Question, *, floor: float = 0.5, most: int = 3) -> list[Passage]:
        """The one to `most` passages that answer `q`, best first; none when no passage covers enough of it."""
        asked = [w for w in dict.fromkeys(q.words) if w in self.idf]
        groups = [(g, self.group_weight(g)) for g in q.groups]
        total = sum(self.weight(w) for w in asked) + sum(w for _, w in groups)
        total += WANT * len(q.wants) + FIGURE * len(q.figures)
        if total < 2.0 or not (asked or groups or q.figures):  # a word found everywhere ("giấy"): nothing asked
            return []
        q_pairs = pairs(list(q.words))
        scored = []
        for p in self.by_id.get(proc.id, []):
            if q.wants and not q.wants & p.kinds:
                continue  # "bao lâu", "bao nhiêu tiền": a sentence without such a figure does not answer it
            off_facet = q.facet is not None and p.facet != q.facet and p.kind not in ANY_FACET
            if off_facet:
                continue  # a fee question is not answered by where to submit; a rule may answer any facet
            hit = sum(self.weight(w) for w in asked if w in p.words)
            hit += sum(w for g, w in groups if any(set(alt) <= p.words for alt in g))
            hit += 0.5 * sum(min(self.weight(a), self.weight(b)) for a, b in _split(q_pairs & p.pairs))
            hit += WANT * len(q.wants & p.kinds) + FIGURE * sum(_closeness(f, p.figures) for f in q.figures)
            score = hit / total
            if q.facet and p.facet == q.facet:
                score += 0.1
            elif q.facet:
                score -= OTHER_FACET  # a rule of another facet answers only when it covers the question well
            if q.yes_no and p.kind in RULES:
                score += 0.1
            scored.append((score, p))
        scored.sort(key=lambda sp: -sp[0])
        if not scored or scored[0][0] < floor:
            return []
        top = scored[0][0]
        return [p for s, p in scored[:most] if s >= max(floor, 0.8 * top)]


def _closeness(asked: tuple[float, str], found: Sequence[tuple[float, str]]) -> float:
    """How near the entry's figures of the same unit come to the one asked (1.0: the same; 15 against 14: 0.93)."""
    n, unit = asked
    near = [1 - min(1.0, abs(n - m) / max(n, m, 1)) for m, u in found if u == unit]
    return max(near, default=0.0)


def _split(found: set[str]) -> list[tuple[str, str]]:
    return [(a, b) for a, _, b in (x.partition("_") for x in found)]
