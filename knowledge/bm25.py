"""BM25 weights of token lists as sparse matrices, in numpy alone.

The search needs the same term ids at two levels (whole cases and their passages) and both
orientations: by term (CSC: one term's weight in every case, summed over the question's terms) and by
row (CSR: the terms of one passage, read for the few candidate cases).  Building them here from one
vocabulary per view keeps those ids shared and needs no scipy.  The weights are Lucene's BM25 (the
idf that is never negative), the variant bm25s uses by default.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

K1, B = 2.0, 0.9  # chosen by cross-validation with the n-gram size (knowledge.search.Build, benchmarks/bench_quality.py)


@dataclass
class Matrix:
    """Sparse BM25 weights of ``rows`` documents over a vocabulary, kept both ways round."""

    rows: int
    csr: dict   # indptr (rows + 1), indices (term ids), data (weights)
    csc: dict   # indptr (terms + 1), indices (row ids), data (weights)
    idf: np.ndarray  # per term id (0 where the term never occurs at this level)


def weigh(docs: list[list[int]], n_terms: int, k1: float = K1, b: float = B) -> Matrix:
    """BM25 weights of ``docs`` (each a list of term ids below ``n_terms``)."""
    n = len(docs)
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=n)
    doc = np.repeat(np.arange(n, dtype=np.int64), lengths)
    term = np.fromiter((t for d in docs for t in d), dtype=np.int64, count=int(lengths.sum()))
    keys, tf = np.unique(doc * n_terms + term, return_counts=True)  # sorted by row, then term
    row, col = keys // n_terms, keys % n_terms
    df = np.bincount(col, minlength=n_terms)
    idf = np.log1p((n - df + 0.5) / (df + 0.5)) * (df > 0)
    avg = lengths.mean() if n and lengths.sum() else 1.0
    norm = k1 * (1 - b + b * lengths[row] / avg)
    w = (idf[col] * tf * (k1 + 1) / (tf + norm)).astype(np.float32)
    csr = {"indptr": np.concatenate([[0], np.cumsum(np.bincount(row, minlength=n))]).astype(np.int64),
           "indices": col.astype(np.int32), "data": w}
    order = np.argsort(col, kind="stable")  # by term, rows ascending within a term
    csc = {"indptr": np.concatenate([[0], np.cumsum(df)]).astype(np.int64),
           "indices": row[order].astype(np.int32), "data": w[order]}
    return Matrix(n, csr, csc, idf.astype(np.float32))


def add_columns(out: np.ndarray, csc: dict, term_ids, weights) -> None:
    """out[row] += weight × BM25(term, row) for each (term, weight): a question's score in every row."""
    indptr, indices, data = csc["indptr"], csc["indices"], csc["data"]
    for t, w in zip(term_ids, weights):
        a, z = indptr[t], indptr[t + 1]
        if z > a:
            out[indices[a:z]] += w * data[a:z]


def column_sums(csc: dict, term_ids, weights, n: int) -> np.ndarray:
    """A new array of ``n`` rows holding what :func:`add_columns` adds into zeros, bit for bit.

    One gather of every term's postings (contiguous slices, copied whole) and one ``bincount``
    instead of a fancy-indexed add per term: at 10,000 cases a question's terms have tens of
    thousands of postings and the per-term adds cost more than the arithmetic.  ``bincount``
    adds the entries in the order given, term after term, so each row sums its terms in the
    order the loop does.
    """
    indptr, indices, data = csc["indptr"], csc["indices"], csc["data"]
    term_ids = np.asarray(term_ids, dtype=np.int64)
    # numpy float64 weights, not Python floats: a Python float times float32 data stays float32
    spans = [(wt, a, z) for wt, a, z in zip(np.asarray(weights, dtype=np.float64),
                                            indptr[term_ids].tolist(), indptr[term_ids + 1].tolist()) if z > a]
    if not spans:
        return np.zeros(n)
    rows = np.concatenate([indices[a:z] for _, a, z in spans])
    vals = np.concatenate([wt * data[a:z] for wt, a, z in spans])  # float64, as the loop's products
    return np.bincount(rows, weights=vals, minlength=n)


def score_rows(csr: dict, rows: np.ndarray, qvec: np.ndarray) -> np.ndarray:
    """The question's score in each of ``rows`` (CSR rows), ``qvec`` holding a weight per term id.

    ``rows`` are mostly runs of consecutive rows (the passages of a few cases), whose entries are
    contiguous: they are copied as slices, one per run, rather than gathered entry by entry.
    """
    indptr, indices, data = csr["indptr"], csr["indices"], csr["data"]
    rows = np.asarray(rows, dtype=np.int64)
    out = np.zeros(len(rows))
    if not len(rows):
        return out
    starts, ends = indptr[rows], indptr[rows + 1]
    counts = ends - starts
    if not counts.any():
        return out
    # runs of consecutive rows: a run's entries are one slice of indices and data
    brk = np.flatnonzero(rows[1:] != rows[:-1] + 1) + 1
    first = np.concatenate([[0], brk])
    last = np.concatenate([brk, [len(rows)]]) - 1
    spans = list(zip(starts[first].tolist(), ends[last].tolist()))
    if len(spans) == 1:
        (a, z), = spans
        term, weight = indices[a:z], data[a:z]
    else:
        term = np.concatenate([indices[a:z] for a, z in spans])
        weight = np.concatenate([data[a:z] for a, z in spans])
    vals = np.take(qvec, term) * weight  # take: the same gather as qvec[term], in half the time
    nonempty = counts > 0
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out[nonempty] = np.add.reduceat(vals, offsets[nonempty])
    return out
