"""Ranking cases for a question, and saying plainly when none fits.

Three views of every text (see knowledge.tokens.analyze), each scored with BM25 at two levels:
- the whole case (and, for the terms view, what the case is *about*: title, keywords, section and
  the other short fields that name its topic), and
- each passage (a sentence or bullet, knowledge.passages), so that a question about one detail
  finds the paragraph that tells it instead of being drowned by the length of the rest of a case.
The views are Sudachi's normalised terms, the SudachiDict synonym groups of the words (general
Japanese synonyms: 大家 = 家主, やる気 = モチベーション) and the character n-grams (trigrams) of the content
words (robust where the two sides cut words differently).  The parts are fused by their ranks
(reciprocal-rank fusion, :func:`reciprocal_rank`): every case's rank in each view at the whole-case
level and by its best passage, each adding weight / (k + rank).  The weights, k, the BM25 constants
and the n-gram size (:class:`Build`) were chosen by cross-validation over every question file
(benchmarks/bench_quality.py prints the cross-validated figures beside the in-sample ones).

The field's own words (GH → グループホーム, 宅建 → 住まい) come from ``synonyms.yaml``: each group is
indexed as one more term wherever a member occurs, and a question naming the group asks for it at
the weight ``Params.expansion``.  A typo is corrected to the nearest term of the case base (rapidfuzz).  Conditions
(place, level, population) are read out of the question and filter the cases.  Whether the
question is in scope at all is decided from measured signals in knowledge.scope.

Searching 10,000 cases stays within a few milliseconds: the whole-case scores are sums of sparse
columns, and passages are scored only for the best candidates by their whole-case score.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from rapidfuzz import fuzz, process

from . import bm25
from casebase.cases import Case
from .filters import Filters, area_names, read_filters
from .passages import TEXT_FIELDS, passages
from .clinical import counts as clinical_counts
from .scope import (CARE_WEIGHT, CLINICAL_THRESHOLD, MIN_COVERAGE, MIN_PASSAGE, MIN_PASSAGE_OFFDOMAIN, Signals,
                    asks_what_illness_is, decline_reason, offdomain_words)
from .tokens import GRAM, Analysis, analyze, normalize

SYNONYMS_PATH = Path(__file__).parent / "synonyms.yaml"

VIEWS = ("terms", "senses", "grams")
ABOUT_FIELDS = ("title", "keywords", "section", "appeal_points", "key_points", "challenge_recognition")
# Passages by what they are: the record of what a case did (0), a person's story told as the case
# (1), and the guide's commentary around it (2).  A detail of a story or a general remark of the
# commentary matches many questions a little; the weights of the last two are chosen by
# cross-validation like the rest.
STORY_FIELDS = ("case_summary", "stages")
COMMENT_FIELDS = ("points", "point_notes", "provider_comments", "commentary")
BODY_FIELDS = TEXT_FIELDS


@dataclass(frozen=True)
class Params:
    """How the scores are combined and when a question is declined.  Every value was chosen by
    k-fold cross-validation over all question files (benchmarks/bench_quality.py)."""

    terms: float = 1.0        # weight of the Sudachi-terms view
    senses: float = 0.25      # weight of the synonym-group view
    grams: float = 0.5        # weight of the character n-gram view
    about: float = 0.5        # weight of the about-fields score within the whole-case part
    passage: float = 0.25     # share of the best passages in a case's score (the rest: the whole case)
    coord: float = 0.0        # weight of the share of the question's terms (by idf) a case has at all
    story: float = 0.0        # weight of a passage of a case's story (STORY_FIELDS)
    comment: float = 0.5      # weight of a passage of commentary (COMMENT_FIELDS)
    expansion: float = 1.0    # a synonym group the question names, against a word it wrote
    rank_k: float = 2.0       # reciprocal-rank fusion: a part adds weight / (rank_k + its rank)
    min_coverage: float = MIN_COVERAGE                      # see knowledge.scope
    min_passage: float = MIN_PASSAGE
    min_passage_offdomain: float = MIN_PASSAGE_OFFDOMAIN
    clinical_care: float = CARE_WEIGHT                     # see knowledge.clinical
    clinical_threshold: float = CLINICAL_THRESHOLD


PARAMS = Params()


@dataclass(frozen=True)
class Build:
    """What building the index fixes: the BM25 constants and the length of the character n-grams.
    Chosen by cross-validation like :class:`Params` (benchmarks/bench_quality.py builds an index
    for each and picks on the training folds); a saved index is built with these values (the
    index's key covers this file)."""

    k1: float = bm25.K1
    b: float = bm25.B
    gram: int = GRAM


BUILD = Build()
TYPO_CUTOFF = 80
KEEP_RELATIVE = 0.15   # a hit under this share of the best one is noise, not an answer
MAX_HITS = 30          # ten pages of 「次」 is more than anyone reads on a phone
CANDIDATES = 30        # cases whose passages are scored; the others keep their whole-case score
PAGE = 3               # cards a phone shows at once (bot.handlers.ask pages by it)


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
    """One case found, with its score.  ``id`` comes from the index's columns; the record itself
    (``case``) is read when first asked for: a search lists up to 30 hits, a phone shows three,
    and a saved index reads each record from disk (knowledge.index_store)."""

    id: str
    score: float
    _cases: Sequence[Case] = field(repr=False, compare=False)
    _at: int = field(repr=False, compare=False)

    @property
    def case(self) -> Case:
        return self._cases[self._at]


@dataclass(frozen=True)
class SearchResult:
    question: str
    hits: tuple[Hit, ...]
    filters: Filters
    terms: tuple[str, ...]
    reason: str | None = None   # why nothing was found: 'clinical', 'out_of_scope', 'no_match', 'filtered_out'
    signals: Signals | None = None


@dataclass(frozen=True)
class Query:
    """A question analysed once: its conditions, and the weighted term ids of each view."""

    text: str
    filters: Filters
    terms: tuple[str, ...]                 # its own search terms (shown in the lead, kept in the dialog)
    ids: dict = field(repr=False)          # view -> (term ids, weights) of the terms the case base has
    analysis: Analysis = field(repr=False)
    known: tuple[bool, ...] = ()           # per word of analysis.words: does the case base have it?
    fixed: tuple[str, ...] = ()            # typo corrections
    illness: bool = False                  # asks what an illness is (knowledge.scope)
    clinical: tuple[int, int] = (0, 0)     # clinical and care cues (knowledge.clinical)


@dataclass(frozen=True)
class Match:
    """One passage of a case and how well it answers the question."""

    field: str
    item: int
    text: str
    heading: bool
    group: str
    score: float
    order: int      # its place in the case


def _columns(cases: list[Case]) -> dict[str, list]:
    """What the index needs of every case (to find it and to filter), apart from its record."""
    return {"id": [c.id for c in cases], "area": [c.area for c in cases],
            "level": [c.get("level", "") for c in cases], "prefecture": [c.get("prefecture", "") for c in cases],
            "population": [c.get("population") for c in cases]}


def _concept(group: tuple[str, ...]) -> str:
    return "@" + normalize(group[0])


class CaseIndex:
    """The cases of one deployment, indexed once; searching does no per-case work in Python.

    Building tokenises every passage of every case (minutes at 10,000 cases), so
    ``knowledge.index_store`` saves what building made (:meth:`saved_parts`) and gives it back
    through :meth:`from_parts`; what follows cheaply from those parts is computed the same way on
    both paths (:meth:`_finish`).
    """

    def __init__(self, cases: list[Case], synonyms: Synonyms | None = None, params: Params | None = None,
                 build: Build | None = None):
        cases = list(cases)
        self._begin(cases, synonyms, _columns(cases), params, build)
        bld = self.build
        groups = [(_concept(g), tuple((normalize(w), tuple(analyze(w).terms)) for w in g))
                  for g in self.synonyms.groups]
        cache: dict[str, tuple[Analysis, str]] = {}  # the same sentence is tokenised once

        def analysed(text: str) -> tuple[Analysis, str]:
            hit = cache.get(text)
            if hit is None:
                hit = cache[text] = (analyze(text, bld.gram), normalize(text).replace(" ", ""))
            return hit

        vocab = {v: {} for v in VIEWS}

        def ids(view: str, tokens: list[str]) -> list[int]:
            table = vocab[view]
            return [table.setdefault(t, len(table)) for t in tokens]

        pass_docs = {v: [] for v in VIEWS}
        body_docs = {v: [] for v in VIEWS}
        about_docs = []
        pstart = [0]
        pclass = []
        for c in self.cases:
            body = {v: [] for v in VIEWS}
            about = []
            for p in passages(c):
                a, flat = analysed(p.text)
                tset = set(a.terms)
                concepts = [name for name, members in groups
                            if any((len(w) >= 2 and w in flat) or (len(ts) == 1 and ts[0] in tset) for w, ts in members)]
                toks = {"terms": a.terms + concepts, "senses": a.senses, "grams": a.grams}
                for v in VIEWS:
                    tid = ids(v, toks[v])
                    pass_docs[v].append(tid)
                    body[v] += tid
                if p.field in ABOUT_FIELDS:
                    about += pass_docs["terms"][-1]
                pclass.append(1 if p.field in STORY_FIELDS else 2 if p.field in COMMENT_FIELDS else 0)
            for v in VIEWS:
                body_docs[v].append(body[v])
            about_docs.append(about)
            pstart.append(len(pass_docs["terms"]))
        del cache
        self._vocab = {v: list(vocab[v]) for v in VIEWS}
        self._levels = {}
        for v in VIEWS:
            n = len(self._vocab[v])
            case_m = bm25.weigh(body_docs[v], n, bld.k1, bld.b)
            pass_m = bm25.weigh(pass_docs[v], n, bld.k1, bld.b)
            self._levels[v] = {"case": case_m.csc, "passage": pass_m.csr, "idf": pass_m.idf}
        self._about = bm25.weigh(about_docs, len(self._vocab["terms"]), bld.k1, bld.b).csc
        self._pstart = np.array(pstart, dtype=np.int64)
        self._pclass = np.array(pclass, dtype=np.int8)
        self._groups = [(name, [[w, list(ts)] for w, ts in members]) for name, members in groups]
        self._finish()

    def _begin(self, cases: Sequence[Case], synonyms: Synonyms | None, columns: dict[str, list],
               params: Params | None = None, build: Build | None = None) -> None:
        self.cases = cases
        self.build = build or BUILD
        self.synonyms = synonyms or Synonyms.load()
        self.params = params or PARAMS
        self._columns = columns
        self.by_id = {case_id: i for i, case_id in enumerate(columns["id"])}
        self._queries: OrderedDict[str, Query] = OrderedDict()  # the last questions, analysed
        self._queries_lock = threading.Lock()
        self._shown: OrderedDict[int, list] = OrderedDict()  # the passages of the cases last shown
        self._scored: OrderedDict[str, dict] = OrderedDict()  # the passage scores of the last searches

    def _finish(self) -> None:
        """What follows cheaply from the cases and the built parts, on both paths alike."""
        self._ids = {v: {t: i for i, t in enumerate(self._vocab[v])} for v in VIEWS}
        # Synonym-group members: by their single term, and the spellings looked for in a question.
        self._by_term: dict[str, list[str]] = {}
        self._spellings: list[tuple[str, str]] = []
        for name, members in self._groups:
            for w, ts in members:
                if len(ts) == 1:
                    self._by_term.setdefault(ts[0], []).append(name)
                if len(w) >= 2:
                    self._spellings.append((w, name))
        self.vocab = set(self._vocab["terms"])
        self._vocab_list = sorted(t for t in self.vocab if len(t) >= 3 and not t.startswith("@"))
        self._field_terms = frozenset(t for w in self.synonyms.field_terms for t in analyze(w).terms)
        n_passages = int(self._pstart[-1])
        # The idf of a term no passage has: what an unknown word of a question would weigh.
        self._idf_unseen = float(np.log1p((n_passages + 0.5) / 0.5))
        # From the columns, not the cases: a loaded index reads a case's record only to show it.
        col = self._columns
        self.area_names = area_names(list(dict.fromkeys(col["area"])))  # each area once
        self._level = np.array(col["level"])
        self._pop = np.array([p if p is not None else np.nan for p in col["population"]], dtype=float)
        places: dict[str, list[int]] = {}
        for i, (prefecture, area) in enumerate(zip(col["prefecture"], col["area"])):
            places.setdefault(prefecture + "|" + area, []).append(i)
        self._places = {k: np.array(v) for k, v in places.items()}
        self._pcase = np.repeat(np.arange(len(self.cases)), np.diff(self._pstart))

    # -- saving and loading (see knowledge.index_store) ------------------------------------------
    def saved_parts(self) -> dict:
        """Everything building made, as plain data: lists of strings and numpy arrays."""
        arrays = {}
        for v in VIEWS:
            for level in ("case", "passage"):
                for k, a in self._levels[v][level].items():
                    arrays[f"{v}.{level}.{k}"] = a
            arrays[f"{v}.idf"] = self._levels[v]["idf"]
        for k, a in self._about.items():
            arrays[f"about.{k}"] = a
        arrays["pstart"] = self._pstart
        arrays["pclass"] = self._pclass
        return {"arrays": arrays, "vocab": self._vocab, "columns": self._columns, "groups": self._groups}

    @classmethod
    def from_parts(cls, cases: Sequence[Case], synonyms: Synonyms, parts: dict,
                   params: Params | None = None) -> "CaseIndex":
        """An index from :meth:`saved_parts` of one built from the same cases and synonyms.
        ``cases`` may be any sequence (a saved index reads each case when it is first shown)."""
        self = cls.__new__(cls)
        self._begin(cases, synonyms, parts["columns"], params)
        a = parts["arrays"]
        self._vocab = {v: list(parts["vocab"][v]) for v in VIEWS}
        self._levels = {v: {level: {k: a[f"{v}.{level}.{k}"] for k in ("indptr", "indices", "data")}
                            for level in ("case", "passage")} | {"idf": a[f"{v}.idf"]} for v in VIEWS}
        self._about = {k: a[f"about.{k}"] for k in ("indptr", "indices", "data")}
        self._pstart = a["pstart"]
        self._pclass = a["pclass"]
        self._groups = [(name, [[w, list(ts)] for w, ts in members]) for name, members in parts["groups"]]
        self._finish()
        return self

    def with_params(self, params: Params) -> "CaseIndex":
        """The same index scoring with other weights (the benchmark's cross-validation)."""
        other = self.__class__.__new__(self.__class__)
        other.__dict__.update(self.__dict__)
        other.params = params
        other._queries = OrderedDict()
        other._queries_lock = threading.Lock()
        other._shown = OrderedDict()
        other._scored = OrderedDict()
        return other

    # -- question analysis -------------------------------------------------------------------
    def query(self, question: str) -> Query:
        """``question`` analysed (the last few are kept: a card and the next page ask again)."""
        with self._queries_lock:
            q = self._queries.get(question)
            if q is not None:
                self._queries.move_to_end(question)
                return q
        q = self._analyse(question)
        with self._queries_lock:
            self._queries[question] = q
            while len(self._queries) > 32:
                self._queries.popitem(last=False)
        return q

    def _analyse(self, question: str) -> Query:
        filters, rest = read_filters(question, self.area_names)
        a = analyze(rest, self.build.gram)
        qterms = list(dict.fromkeys(a.terms))
        fixed = self._correct(qterms)
        flat = normalize(rest).replace(" ", "")
        tset = set(qterms) | set(fixed)
        named = {name for w, name in self._spellings if w in flat}
        named.update(name for t in tset for name in self._by_term.get(t, ()))
        concepts = [name for name, _ in self._groups if name in named]  # in the file's order
        p = self.params
        weighted = {"terms": [(t, 1.0) for t in qterms] + [(t, 1.0) for t in fixed if t not in qterms]
                    + [(c, p.expansion) for c in concepts],
                    "senses": [(t, 1.0) for t in dict.fromkeys(a.senses)],
                    "grams": [(t, 1.0) for t in dict.fromkeys(a.grams)]}
        ids = {}
        for v in VIEWS:
            table = self._ids[v]
            pairs = [(table[t], w) for t, w in weighted[v] if t in table]
            ids[v] = (np.array([i for i, _ in pairs], dtype=np.int64), np.array([w for _, w in pairs]))
        # The scope signals read the question's words and the synonym groups they name, all at
        # weight 1: the signals stay the same whatever the ranking weights.
        own = [self._ids["terms"][t] for t in dict.fromkeys(qterms + fixed + concepts) if t in self._ids["terms"]]
        ids["own"] = (np.array(own, dtype=np.int64), np.ones(len(own)))
        known = tuple(self._known(w, a, fixed) for w in a.words)
        # Read once with the rest of the analysis: it tokenises again, and a question is searched
        # again for every page and card of its answer.
        illness = asks_what_illness_is(normalize(question))
        return Query(question, filters, tuple(qterms), ids, a, known, tuple(fixed), illness, clinical_counts(question))

    def _known(self, word: str, a: Analysis, fixed) -> bool:
        """Does the case base have this word of the question: itself, all its parts, a word of
        its synonym group (SudachiDict's or the field's), or as the correction of a typo?"""
        table = self._ids["terms"]
        if word in table or word in self._field_terms:
            return True
        parts = analyze(word)
        if parts.terms and all(t in table or t in self._field_terms for t in parts.terms):
            return True
        if any(s in self._ids["senses"] for s in parts.senses):
            return True
        flat = normalize(word)
        if any(t in self._by_term for t in parts.terms) or any(w in flat for w, _ in self._spellings):
            return True
        return any(fuzz.ratio(f, word) >= TYPO_CUTOFF for f in fixed)

    def _correct(self, qterms: list[str]) -> list[str]:
        fixed: list[str] = []
        for t in qterms:
            if t in self._ids["terms"] or len(t) < 3 or not self._vocab_list:
                continue
            m = process.extractOne(t, self._vocab_list, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
            if m and m[0] not in fixed:
                fixed.append(m[0])
        return fixed

    # -- searching -----------------------------------------------------------------------------
    def search(self, question: str, *, limit: int | None = None) -> SearchResult:
        q = self.query(question)
        filters = q.filters
        mask = self._mask(filters) if filters else None
        if not q.analysis.words and not q.terms:  # only conditions: list the cases that meet them
            if not filters:
                return SearchResult(question, (), filters, (), "out_of_scope")
            hits = tuple(self._hit(int(i), 1.0) for i in np.flatnonzero(mask)[:limit or MAX_HITS])
            return SearchResult(question, hits, filters, (), None if hits else "filtered_out")
        f = self.features(q, mask)
        self._keep_scored(question, f)
        scores = self.fuse(f)
        signals = self.signals(q, f)
        if (why := decline_reason(signals, self.params)) is not None:
            return SearchResult(question, (), filters, q.terms, why, signals)
        if mask is not None:
            if not mask.any():
                return SearchResult(question, (), filters, q.terms, "filtered_out", signals)
            scores = np.where(mask, scores, 0.0)
        hits = self._rank(scores, limit, relevance=self.relevance(f, mask))
        return SearchResult(question, hits, filters, q.terms, None if hits else "no_match", signals)

    def features(self, q: Query, mask: np.ndarray | None = None, *, every_view: bool = False) -> dict:
        """The raw scores a ranking is fused from: per view, every case's whole-case score and the
        passage scores of the candidate cases (a view of weight 0 is skipped unless ``every_view``)."""
        n = len(self.cases)
        p = self.params
        views = [v for v in VIEWS if every_view or getattr(p, v) > 0 or v != "senses"]
        out = {"case": {v: np.zeros(n) for v in VIEWS}}
        for v in views:
            tid, w = q.ids[v]
            out["case"][v] = bm25.column_sums(self._levels[v]["case"], tid, w, n)
        tid, w = q.ids["terms"]
        out["about"] = bm25.column_sums(self._about, tid, w, n)
        # How much of the question a case has at all, each term by its idf (a coordination factor):
        # a case that says every part of the question beats one that says one part many times.
        # A loop over the terms on every search; skipped while its weight is 0 (as shipped): zeros
        # then add nothing to the whole-case score, exactly as 0 × the factor did.
        out["coord"] = np.zeros(n)
        if every_view or p.coord:
            csc, idf = self._levels["terms"]["case"], self._levels["terms"]["idf"]
            total = float((w * idf[tid]).sum())
            if total > 0:
                for t, wt in zip(tid, w):
                    out["coord"][csc["indices"][csc["indptr"][t]:csc["indptr"][t + 1]]] += wt * idf[t] / total
        out["mask"] = mask
        whole = self._whole(out, p)  # the cases the conditions rule out are 0 (they take no rank)
        out["whole"] = (p, whole)  # fuse() with the same parameters reuses it
        if n > CANDIDATES:
            cand = np.sort(np.argpartition(-whole, CANDIDATES - 1)[:CANDIDATES])
        else:
            cand = np.arange(n)
        rows = _ranges(self._pstart[cand], self._pstart[cand + 1])
        out["rows"] = rows
        out["cand"] = cand
        out["passage"] = {v: np.zeros(len(rows)) for v in VIEWS}
        for v in views:
            tid, w = q.ids[v]
            if len(tid):  # a view the question has no term of scores zeros
                out["passage"][v] = bm25.score_rows(self._levels[v]["passage"], rows, self._qvec(v, tid, w))
        out["scored"] = tuple(views)
        return out

    def _qvec(self, view: str, tid: np.ndarray, w: np.ndarray) -> np.ndarray:
        """The question's weight per term id of ``view`` (what score_rows reads)."""
        qvec = np.zeros(len(self._vocab[view]))
        qvec[tid] = w
        return qvec

    def _whole(self, f: dict, p: Params) -> np.ndarray:
        """The whole-case part of every case's score: each part's reciprocal rank, weighted."""
        kept = f.get("whole")
        if kept is not None and kept[0] is p:  # computed by features() with these parameters
            return kept[1]
        parts = ((p.terms, f["case"]["terms"]), (p.senses, f["case"]["senses"]), (p.grams, f["case"]["grams"]),
                 (p.about, f["about"]), (p.coord, f["coord"]))
        out = np.zeros(len(self.cases))
        for weight, x in parts:
            if weight:
                out += weight * reciprocal_rank(_allowed(x, f), p.rank_k)
        return out

    def relevance(self, f: dict, mask: np.ndarray | None = None) -> np.ndarray:
        """How much of the question each case holds, on one scale: each part's score as a share of
        its best case's, weighted and added (score fusion), the best passage as one more part.
        Ranks order the hits but cannot say that the twentieth case shares only one common word
        with the question; this decides which cases are listed at all (:data:`KEEP_RELATIVE`)."""
        p = self.params
        whole = (p.terms * _unit(f["case"]["terms"]) + p.senses * _unit(f["case"]["senses"])
                 + p.grams * _unit(f["case"]["grams"]) + p.about * _unit(f["about"]) + p.coord * f["coord"])
        best = np.zeros(len(self.cases))
        if len(f["rows"]):
            ps = f["passage"]
            s = p.terms * _unit(ps["terms"]) + p.senses * _unit(ps["senses"]) + p.grams * _unit(ps["grams"])
            np.maximum.at(best, self._pcase[f["rows"]], s * np.array([1.0, p.story, p.comment])[self._pclass[f["rows"]]])
        out = (1 - p.passage) * _unit(whole) + p.passage * _unit(best)
        return out if mask is None else np.where(mask, out, 0.0)

    def _best_passages(self, f: dict, p: Params) -> dict:
        """Per view, each candidate case's best passage (a story or commentary passage weighed down)."""
        classes = np.array([1.0, p.story, p.comment])[self._pclass[f["rows"]]]
        cases = self._pcase[f["rows"]]
        out = {}
        for v in VIEWS:
            best = np.zeros(len(self.cases))
            if len(f["rows"]) and getattr(p, v):
                np.maximum.at(best, cases, f["passage"][v] * classes)
            out[v] = best
        return out

    def fuse(self, f: dict, params: Params | None = None) -> np.ndarray:
        """Every case's score: reciprocal-rank fusion of its whole-case parts and its best passage in
        each view.  Ranks, not scores, are added: the parts' scores have different scales and tails
        (one view's runner-up may sit at 0.9 of its best where another's sits at 0.3), and
        cross-validation preferred the ranks (benchmarks/bench_quality.py)."""
        p = params or self.params
        best = self._best_passages(f, p)
        passage = np.zeros(len(self.cases))
        for v in VIEWS:
            weight = getattr(p, v)
            if weight:
                passage += weight * reciprocal_rank(_allowed(best[v], f), p.rank_k)
        return (1 - p.passage) * self._whole(f, p) + p.passage * passage

    def signals(self, q: Query, f: dict) -> Signals:
        """What the scope decision reads: how much of the question the case base knows, how well
        its best passage matches against a perfect one, and words of other trades."""
        words = q.analysis.words
        coverage = (sum(q.known) / len(words)) if words else 0.0
        strength = {}
        for v, level in (("own", "terms"), ("grams", "grams")):
            tid, w = q.ids[v]
            idf = self._levels[level]["idf"]
            ideal = float((w * idf[tid]).sum()) + self._unknown_count(q, level) * self._idf_unseen
            best = 0.0
            if len(f["rows"]) and len(tid):
                same = self._same_query(q.ids[level], (tid, w))  # then the ranking's scores serve
                scores = f["passage"][level] if same else None
                if scores is None:
                    scores = bm25.score_rows(self._levels[level]["passage"], f["rows"], self._qvec(level, tid, w))
                best = float(scores.max())
            strength[level] = best / ideal if ideal > 0 else 0.0
        return Signals(coverage=coverage, words=len(words), passage=strength["terms"], grams=strength["grams"],
                       offdomain=offdomain_words(words, q.analysis.terms),
                       illness=q.illness, clinical=q.clinical[0], care=q.clinical[1])

    @staticmethod
    def _same_query(a, b) -> bool:
        return len(a[0]) == len(b[0]) and dict(zip(a[0].tolist(), a[1].tolist())) == dict(zip(b[0].tolist(), b[1].tolist()))

    def _unknown_count(self, q: Query, view: str) -> int:
        if view == "terms":
            return sum(1 for t in q.terms if t not in self._ids["terms"] and t not in q.fixed)
        return sum(1 for g in dict.fromkeys(q.analysis.grams) if g not in self._ids["grams"])

    def _keep_scored(self, question: str, f: dict) -> None:
        """Keep the passage scores of this search's candidates: the cards of its answer score
        the same passages of the same question (matches()), and a case's rows score alike
        whichever other rows are scored with them."""
        kept = {"cand": f["cand"], "start": np.concatenate([[0], np.cumsum(np.diff(self._pstart)[f["cand"]])]),
                "passage": {v: f["passage"][v] for v in f["scored"]}}
        with self._queries_lock:
            self._scored[question] = kept
            self._scored.move_to_end(question)
            while len(self._scored) > 8:
                self._scored.popitem(last=False)

    def _scored_passages(self, question: str, i: int) -> dict:
        """The raw passage scores per view of case ``i`` from the last search of ``question``,
        if it was one of that search's candidates (else {}: matches() scores them itself)."""
        with self._queries_lock:
            kept = self._scored.get(question)
        if kept is None:
            return {}
        k = int(np.searchsorted(kept["cand"], i))
        if k == len(kept["cand"]) or kept["cand"][k] != i:
            return {}
        a, z = int(kept["start"][k]), int(kept["start"][k + 1])
        return {v: s[a:z] for v, s in kept["passage"].items()}

    def matches(self, question: str, case_id: str) -> list[Match]:
        """The passages of one case, each scored against ``question`` as the search fuses them.
        A case the last search of ``question`` took as a candidate has its passages scored
        already (an answer's cards always are): those scores serve, the same bits."""
        i = self.by_id[case_id]
        with self._queries_lock:
            ps = self._shown.get(i)
        if ps is None:
            ps = passages(self.cases[i])
            with self._queries_lock:
                self._shown[i] = ps
                while len(self._shown) > 64:
                    self._shown.popitem(last=False)
        rows = np.arange(self._pstart[i], self._pstart[i + 1])
        if len(rows) != len(ps):  # the record and the index disagree: show the card as it is
            return []
        if not question:
            return [Match(p.field, p.item, p.text, p.heading, p.group, 0.0, k) for k, p in enumerate(ps)]
        q = self.query(question)
        p = self.params
        total = np.zeros(len(rows))
        views = (("terms", p.terms), ("senses", p.senses), ("grams", p.grams))
        weights = sum(weight for _, weight in views) or 1.0
        scored = self._scored_passages(question, i)
        for v, weight in views:
            if not weight:
                continue
            tid, w = q.ids[v]
            s = scored.get(v)
            if s is None:
                s = bm25.score_rows(self._levels[v]["passage"], rows, self._qvec(v, tid, w))
            # Scaled by the view's ideal score, so that passages of different cases compare alike.
            idf = self._levels[v]["idf"]
            ideal = float((w * idf[tid]).sum())
            if ideal > 0:  # averaged over the views: the card's thresholds do not move with the weights
                total += weight * s / ideal / weights
        return [_match(pa, score, k) for k, (pa, score) in enumerate(zip(ps, total.tolist()))]

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

    def _rank(self, scores: np.ndarray, limit: int | None, exclude: set[int] = frozenset(),
              relevance: np.ndarray | None = None) -> tuple[Hit, ...]:
        """The hits by ``scores``, best first, without those whose ``relevance`` (by default the
        scores themselves) is under :data:`KEEP_RELATIVE` of the best."""
        top = float(scores.max()) if len(scores) else 0.0
        if top <= 0:
            return ()
        relevance = scores if relevance is None else relevance
        keep = np.flatnonzero((scores > 0) & (relevance >= float(relevance.max()) * KEEP_RELATIVE))
        k = (limit or MAX_HITS) + len(exclude)
        if len(keep) > k:  # only the best k need sorting
            keep = keep[np.argpartition(-scores[keep], k - 1)[:k]]
        order = keep[np.lexsort((keep, -scores[keep]))]  # by score, ties in case order
        order = [int(i) for i in order if i not in exclude]
        order = spread(order, self._columns["area"])
        return tuple(self._hit(i, round(float(scores[i]), 4)) for i in order[:limit or MAX_HITS])

    def _hit(self, i: int, score: float) -> Hit:
        return Hit(self._columns["id"][i], score, self.cases, i)

    def similar(self, case_id: str, *, limit: int = 3) -> tuple[Hit, ...]:
        """Cases close to one case: its title, keywords and section as the question."""
        i = self.by_id[case_id]
        c = self.cases[i]
        text = "\n".join(field_text(c.data.get(n)) for n in ABOUT_FIELDS)
        table = self._ids["terms"]
        tid = np.array([table[t] for t in dict.fromkeys(analyze(text).terms) if t in table], dtype=np.int64)
        scores = np.zeros(len(self.cases))
        bm25.add_columns(scores, self._levels["terms"]["case"], tid, np.ones(len(tid)))
        bm25.add_columns(scores, self._about, tid, np.ones(len(tid)))
        scores[i] = 0.0
        return self._rank(scores, limit, exclude={i})


def spread(order: list[int], areas: Sequence[str], page: int = PAGE) -> list[int]:
    """``order`` with each page of ``page`` hits drawn from different areas where the list allows.

    Staff ask how *other* areas handled something: three cards of three areas answer more than two
    cards of one city (尾道 has two cases in the guide) and one of another.  A hit whose area is
    already on its page moves to the next page, ahead of the hits below it; the order is otherwise
    the ranking's."""
    rest = list(order)
    out: list[int] = []
    while rest:
        taken: list[int] = []
        seen: set[str] = set()
        for i in rest:
            if len(taken) == page:
                break
            if areas[i] not in seen:
                taken.append(i)
                seen.add(areas[i])
        if len(taken) < page:  # too few areas left: fill the page in ranking order
            taken += [i for i in rest if i not in taken][:page - len(taken)]
        out += taken
        chosen = set(taken)
        rest = [i for i in rest if i not in chosen]
    return out


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """start..end-1 of every pair, concatenated (the passage rows of the candidate cases)."""
    counts = ends - starts
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    return np.arange(total) + offsets


def _unit(x: np.ndarray) -> np.ndarray:
    """Scaled so the best is 1 (all zeros stay zeros)."""
    top = float(x.max()) if len(x) else 0.0
    return x / top if top > 0 else x


def _allowed(x: np.ndarray, f: dict) -> np.ndarray:
    """``x`` with the cases the question's conditions rule out at 0: they take no rank."""
    mask = f.get("mask")
    return x if mask is None else np.where(mask, x, 0.0)


RANKED = 100  # a part's ranks are counted among its best this many cases; below them it adds nothing


def reciprocal_rank(x: np.ndarray, k: float) -> np.ndarray:
    """1 / (k + 1 + rank) for every positive entry of ``x`` among its :data:`RANKED` best, 0 elsewhere.

    The rank is the number of entries strictly greater, so equal scores share a rank whatever the
    order of the cases.  Only the best few are ranked (a partition, not a sort, of 10,000 cases): with
    k of a few units, a part's hundredth case adds under 1 % of what its first adds."""
    out = np.zeros(len(x))
    top = np.flatnonzero(x > 0)
    if len(top) > RANKED:
        top = top[np.argpartition(-x[top], RANKED - 1)[:RANKED]]
    if len(top):
        values = x[top]
        ranks = np.searchsorted(np.sort(-values), -values, side="left")
        out[top] = 1.0 / (k + 1.0 + ranks)
    return out


def _match(pa, score: float, order: int) -> Match:
    """``Match(pa.field, pa.item, pa.text, pa.heading, pa.group, score, order)``, built at half the
    cost: a card scores every passage of its case (over a hundred in the long ones, three cards an
    answer), and a frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``.
    The fields are set at once instead; the object is the same (equal, hashable, frozen)."""
    m = object.__new__(Match)
    m.__dict__.update(field=pa.field, item=pa.item, text=pa.text, heading=pa.heading, group=pa.group,
                      score=score, order=order)
    return m
