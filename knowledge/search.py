"""Ranking cases for a question, and saying plainly when none fits.

BM25 (bm25s) over Sudachi terms, with three helps for how staff write:
- synonyms from ``synonyms.yaml`` (field vocabulary that staff can edit) widen a question at half
  weight, so 「GH」 finds グループホーム and 「住まい」 finds 居住支援 without drowning the words used;
- a typo is corrected to the nearest term of the case base (rapidfuzz) when the word itself is unknown;
- conditions (place, level, population) are read out of the question and filter the cases.
A question is in scope only when it names something of the field (a term of a title, section or
keyword, of the synonym file, or a phrase quoted from a case); otherwise the answer is "no matching
case", never the least bad cases.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from rapidfuzz import fuzz, process

from .cases import Case
from .filters import Filters, area_names, read_filters
from .tokens import STOPWORDS, normalize, terms

SYNONYMS_PATH = Path(__file__).parent / "synonyms.yaml"

# Two views of a case, scored apart and added (a simple BM25F): what the case is *about* (short
# fields that name its topic) and its whole *body*.  A term in the title or keywords of a short case
# then weighs as much as it should, instead of being drowned by the length of a long case.
ABOUT_FIELDS = ("title", "keywords", "section", "appeal_points", "key_points", "challenge_recognition")
BODY_FIELDS = (
    "title", "keywords", "section", "appeal_points", "forum", "regional_challenges", "system_challenges",
    "actions", "innovations", "outcomes", "system_effects", "case_summary", "key_points", "results",
    "stages", "points", "provider_comments", "point_notes", "introduction", "challenge_recognition", "driving_forces",
    "resources", "continuity", "effects", "transfer_points", "commentary",
)
ABOUT_WEIGHT = 1.0
ANCHOR_FIELDS = ("title", "section", "keywords")
BM25_K1, BM25_B = 1.5, 0.75  # the usual BM25 values; the results held across 1.2–2.0 and 0.5–0.9
EXPANSION_WEIGHT = 0.5
TYPO_WEIGHT = 1.0    # an unknown word counts for nothing, so its correction stands in fully
TYPO_CUTOFF = 80
KEEP_RELATIVE = 0.15   # a hit under this share of the best one is noise, not an answer
MAX_HITS = 30          # ten pages of 「次」 is more than anyone reads on a phone
PHRASE_MIN = 5


def field_text(value) -> str:
    """All the text of a field value, whatever its shape."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(field_text(v) for v in value)
    if isinstance(value, dict):
        return "\n".join(field_text(v) for v in value.values())
    return ""


@dataclass(frozen=True)
class Synonyms:
    groups: tuple[tuple[str, ...], ...]
    field_terms: tuple[str, ...]

    @classmethod
    def load(cls, path: Path = SYNONYMS_PATH) -> "Synonyms":
        return cls.parse(path.read_text(encoding="utf-8"))

    @classmethod
    def parse(cls, text: str) -> "Synonyms":
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        groups = tuple(tuple(str(w) for w in g) for g in data.get("groups", []))
        return cls(groups, tuple(str(w) for w in data.get("field_terms", [])))


@dataclass(frozen=True)
class Hit:
    case: Case
    score: float


@dataclass(frozen=True)
class SearchResult:
    question: str
    hits: tuple[Hit, ...]
    filters: Filters
    terms: tuple[str, ...]
    reason: str | None = None   # why nothing was found: 'out_of_scope', 'no_match', 'filtered_out'


def _columns(cases: list[Case]) -> dict[str, list]:
    """What the index needs of every case (to find it and to filter), apart from its record."""
    return {"id": [c.id for c in cases], "area": [c.area for c in cases],
            "level": [c.get("level", "") for c in cases], "prefecture": [c.get("prefecture", "") for c in cases],
            "population": [c.get("population") for c in cases]}


class CaseIndex:
    """The cases of one deployment, indexed once; searching does no per-case work in Python.

    Building tokenises every case (minutes at 10,000 cases), so ``knowledge.index_store`` saves
    what building made (:meth:`saved_parts`) and gives it back through :meth:`from_parts`; the
    cheap columns derived from the cases are computed the same way on both paths.
    """

    def __init__(self, cases: list[Case], synonyms: Synonyms | None = None):
        cases = list(cases)
        self._begin(cases, synonyms, _columns(cases))
        about, body, anchors, texts = [], [], set(), []
        cache: dict[str, list[str]] = {}  # field text → its terms: the same text is tokenised once

        def cached_terms(text: str) -> list[str]:
            ts = cache.get(text)
            if ts is None:
                ts = cache[text] = terms(text)
            return ts

        for c in self.cases:
            field_terms = {n: cached_terms(field_text(c.data[n])) for n in BODY_FIELDS if n in c.data}
            about.append([t for n in ABOUT_FIELDS for t in field_terms.get(n, [])] or [""])
            body.append([t for ts in field_terms.values() for t in ts] or [""])
            for n in ANCHOR_FIELDS:
                anchors.update(field_terms.get(n, []))
            texts.append(normalize("".join(field_text(c.data.get(n)) for n in BODY_FIELDS)).replace("\n", ""))
        del cache
        self.texts = list(dict.fromkeys(texts))  # distinct texts: the phrase check reads each once
        # bm25s keeps each term's scores as a column (CSC); we read them directly to combine the
        # two views and to weigh synonyms per concept rather than per word (see _scores).
        import bm25s  # only building needs it (and scipy with it); a loaded index does not
        self._views = []
        for docs, weight in ((body, 1.0), (about, ABOUT_WEIGHT)):
            bm = bm25s.BM25(k1=BM25_K1, b=BM25_B)
            bm.index(docs, show_progress=False)
            csc = {k: bm.scores[k] for k in ("data", "indices", "indptr")}
            self._views.append((bm.vocab_dict, csc, weight))
        # Synonym groups: each member as (its normalised spelling, its terms).
        self._groups = [tuple((normalize(w), tuple(terms(w))) for w in g) for g in self.synonyms.groups]
        for g in self._groups:  # a member's own term, not the parts of a phrase (連携会議 ≠ 会議)
            anchors.update(ts[0] for _, ts in g if len(ts) == 1)
        anchors |= {t for w in self.synonyms.field_terms for t in terms(w)}
        self.anchors = frozenset(a for a in anchors if a not in STOPWORDS)
        self._finish()

    def _begin(self, cases: Sequence[Case], synonyms: Synonyms | None, columns: dict[str, list]) -> None:
        self.cases = cases
        self.synonyms = synonyms or Synonyms.load()
        self._columns = columns
        self.by_id = {case_id: i for i, case_id in enumerate(columns["id"])}

    def _finish(self) -> None:
        """What follows cheaply from the cases and the built parts, on both paths alike."""
        # bm25s's vocabulary is every term of the body view, plus "" for a case without text.
        self.vocab = set(self._views[0][0]) - {""}
        self._vocab_list = sorted(t for t in self.vocab if len(t) >= 3)
        # From the columns, not the cases: a loaded index reads a case's record only to show it.
        col = self._columns
        self.area_names = area_names(list(dict.fromkeys(col["area"])))  # each area once
        # Columns for filtering without a Python loop over the cases.
        self._level = np.array(col["level"])
        self._pop = np.array([p if p is not None else np.nan for p in col["population"]], dtype=float)
        places: dict[str, list[int]] = {}
        for i, (prefecture, area) in enumerate(zip(col["prefecture"], col["area"])):
            places.setdefault(prefecture + "|" + area, []).append(i)
        self._places = {k: np.array(v) for k, v in places.items()}

    # -- saving and loading (see knowledge.index_store) ------------------------------------------
    def saved_parts(self) -> dict:
        """Everything building made, as plain data: lists of strings and numpy arrays."""
        views = []
        for ids, csc, weight in self._views:
            vocab = [""] * len(ids)
            for t, i in ids.items():
                vocab[i] = t
            views.append({"vocab": vocab, "weight": weight, **csc})
        return {"views": views, "columns": self._columns, "anchors": sorted(self.anchors), "texts": self.texts,
                "groups": [[[w, list(ts)] for w, ts in g] for g in self._groups]}

    @classmethod
    def from_parts(cls, cases: Sequence[Case], synonyms: Synonyms, parts: dict) -> "CaseIndex":
        """An index from :meth:`saved_parts` of one built from the same cases and synonyms.
        ``cases`` may be any sequence (a saved index reads each case when it is first shown)."""
        self = cls.__new__(cls)
        self._begin(cases, synonyms, parts["columns"])
        self._views = [({t: i for i, t in enumerate(v["vocab"])},
                        {k: v[k] for k in ("data", "indices", "indptr")}, v["weight"])
                       for v in parts["views"]]
        self.texts = list(parts["texts"])
        self.anchors = frozenset(parts["anchors"])
        self._groups = [tuple((w, tuple(ts)) for w, ts in g) for g in parts["groups"]]
        self._finish()
        return self

    # -- question analysis -------------------------------------------------------------------
    def _expand(self, qnorm: str, qterms: set[str]) -> list[tuple[tuple[str, ...], ...]]:
        """The synonym groups the question names, as the members it did not use itself.

        A group is named when one of its members is written in the question, or is a single term
        the question has (so 引きこもり names ひきこもり's group through Sudachi's normal form).
        """
        named = []
        for g in self._groups:
            if any((len(w) >= 2 and w in qnorm) or (len(ts) == 1 and ts[0] in qterms) for w, ts in g):
                rest = tuple(ts for _, ts in g if ts and not set(ts) <= qterms)
                if rest:
                    named.append(rest)
        return named

    def _correct(self, qterms: list[str]) -> set[str]:
        fixed: set[str] = set()
        for t in qterms:
            if t in self.vocab or len(t) < 3 or not self._vocab_list:
                continue
            m = process.extractOne(t, self._vocab_list, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
            if m:
                fixed.add(m[0])
        return fixed

    # -- searching -----------------------------------------------------------------------------
    def search(self, question: str, *, limit: int | None = None) -> SearchResult:
        filters, rest = read_filters(question, self.area_names)
        qterms = list(dict.fromkeys(terms(rest)))
        qset = set(qterms)
        rest_norm = normalize(rest).replace(" ", "")
        fixed = self._correct(qterms)
        expanded = self._expand(rest_norm, qset | fixed)
        mask = self._mask(filters) if filters else None

        if not qterms:  # only conditions: list the cases that meet them
            if not filters:
                return SearchResult(question, (), filters, (), "out_of_scope")
            hits = tuple(Hit(self.cases[i], 1.0) for i in np.flatnonzero(mask)[:limit or MAX_HITS])
            return SearchResult(question, hits, filters, (), None if hits else "filtered_out")

        named = {t for g in expanded for ts in g for t in ts}
        if not ((qset | fixed | named) & self.anchors) and not self._quoted(rest_norm, qset):
            return SearchResult(question, (), filters, tuple(qterms), "out_of_scope")

        scores = self._scores(qterms, fixed, expanded)
        if mask is not None:
            if not mask.any():
                return SearchResult(question, (), filters, tuple(qterms), "filtered_out")
            scores = np.where(mask, scores, 0.0)
        hits = self._rank(scores, limit)
        return SearchResult(question, hits, filters, tuple(qterms), None if hits else "no_match")

    def _quoted(self, phrase: str, qset: set[str]) -> bool:
        """Is the question a phrase copied from a case (「生活サポートシート」)?  Only asked when no
        anchor term matched, and only scanned when every word of it is in the case base."""
        return (len(phrase) >= PHRASE_MIN and qset <= self.vocab
                and any(phrase in t for t in self.texts))

    def _mask(self, f: Filters) -> np.ndarray:
        mask = np.ones(len(self.cases), dtype=bool)
        if f.places:
            by_place = np.zeros(len(self.cases), dtype=bool)
            for key, idx in self._places.items():
                if any(p in key for p in f.places):
                    by_place[idx] = True
            mask &= by_place
        if f.levels:
            mask &= np.isin(self._level, list(f.levels))
        with np.errstate(invalid="ignore"):
            if f.population_max is not None:
                mask &= self._pop <= f.population_max
            if f.population_min is not None:
                mask &= self._pop >= f.population_min
        return mask

    def _add(self, out: np.ndarray, term: str) -> None:
        """Add one term's score in every case to ``out``, straight from the sparse columns."""
        for ids, csc, weight in self._views:
            tid = ids.get(term)
            if tid is not None:
                a, b = csc["indptr"][tid], csc["indptr"][tid + 1]
                out[csc["indices"][a:b]] += weight * csc["data"][a:b]

    def _vec(self, term: str) -> np.ndarray | None:
        """One term's score in every case (zeros where absent); None for a term no case has."""
        if term not in self.vocab:
            return None
        v = np.zeros(len(self.cases))
        self._add(v, term)
        return v

    def _sum(self, ts) -> np.ndarray:
        out = np.zeros(len(self.cases))
        for t in ts:
            if t in self.vocab:
                self._add(out, t)
        return out

    def _scores(self, qterms, fixed, expanded) -> np.ndarray:
        """The question's own terms count fully, a typo's correction nearly so, and each synonym
        group it names as one concept: the best of its members, a multi-word member counting only
        where all its words are (as if the user had typed it).  Summing every synonym instead would let a
        long case full of generic words outscore the case about the question."""
        scores = self._sum(qterms) + TYPO_WEIGHT * self._sum(fixed)
        for group in expanded:
            best = None
            for ts in group:
                vs = [self._vec(t) for t in ts]
                if any(v is None for v in vs):
                    continue
                member = sum(vs) * np.logical_and.reduce([v > 0 for v in vs]) if len(vs) > 1 else vs[0]
                best = member if best is None else np.maximum(best, member)
            if best is not None:
                scores += EXPANSION_WEIGHT * best
        return scores

    def _rank(self, scores: np.ndarray, limit: int | None, exclude: set[int] = frozenset()) -> tuple[Hit, ...]:
        top = float(scores.max()) if len(scores) else 0.0
        if top <= 0:
            return ()
        keep = np.flatnonzero(scores >= top * KEEP_RELATIVE)
        k = (limit or MAX_HITS) + len(exclude)
        if len(keep) > k:  # only the best k need sorting
            keep = keep[np.argpartition(-scores[keep], k - 1)[:k]]
        order = keep[np.lexsort((keep, -scores[keep]))]  # by score, ties in case order
        out = [Hit(self.cases[i], round(float(scores[i]), 4)) for i in order if i not in exclude]
        return tuple(out[:limit or MAX_HITS])

    def similar(self, case_id: str, *, limit: int = 3) -> tuple[Hit, ...]:
        """Cases close to one case: its title, keywords and section as the question."""
        i = self.by_id[case_id]
        c = self.cases[i]
        q = [t for n in ("title", "keywords", "section", "appeal_points", "key_points", "challenge_recognition")
             for t in terms(field_text(c.data.get(n)))]
        scores = self._sum(dict.fromkeys(q))
        scores[i] = 0.0
        return self._rank(scores, limit, exclude={i})
