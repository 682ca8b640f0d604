"""The BM25 kernels the search runs on every question: the vectorised forms must give what the
simple per-term and per-entry forms give, bit for bit, so that no ranking moves with them."""
from __future__ import annotations

import numpy as np
import pytest

from knowledge import bm25


def random_matrix(rng: np.random.Generator, n_docs: int, n_terms: int) -> bm25.Matrix:
    """Documents of random lengths (some empty) over a vocabulary of which some terms never occur."""
    used = rng.choice(n_terms, size=max(1, n_terms // 2), replace=False)  # the rest: empty columns
    docs = [rng.choice(used, size=int(rng.integers(0, 30))).tolist() for _ in range(n_docs)]
    return bm25.weigh(docs, n_terms)


def loop_reference(csc: dict, term_ids, weights, n: int) -> np.ndarray:
    out = np.zeros(n)
    bm25.add_columns(out, csc, term_ids, weights)
    return out


def gather_reference(csr: dict, rows: np.ndarray, qvec: np.ndarray) -> np.ndarray:
    """score_rows as it was: every entry of the rows gathered by position, then summed per row."""
    indptr, indices, data = csr["indptr"], csr["indices"], csr["data"]
    starts, ends = indptr[rows], indptr[rows + 1]
    counts = ends - starts
    out = np.zeros(len(rows))
    if not counts.sum():
        return out
    pos = np.concatenate([np.arange(a, z) for a, z in zip(starts, ends)]).astype(np.int64)
    vals = qvec[indices[pos]] * data[pos]
    nonempty = counts > 0
    out[nonempty] = np.add.reduceat(vals, np.concatenate([[0], np.cumsum(counts)[:-1]])[nonempty])
    return out


@pytest.mark.parametrize("seed", range(8))
def test_column_sums_equal_the_per_term_loop(seed):
    rng = np.random.default_rng(seed)
    m = random_matrix(rng, n_docs=int(rng.integers(1, 200)), n_terms=int(rng.integers(1, 60)))
    n_terms = len(m.csc["indptr"]) - 1
    for _ in range(10):
        tid = rng.integers(0, n_terms, size=int(rng.integers(0, 12)))  # repeats and empty columns too
        w = rng.choice([1.0, 0.5, 0.25, rng.random()], size=len(tid))
        got = bm25.column_sums(m.csc, tid, w, m.rows)
        assert got.dtype == np.float64 and got.shape == (m.rows,)
        assert np.array_equal(got, loop_reference(m.csc, tid, w, m.rows))


def test_column_sums_of_no_terms_or_only_empty_columns_are_zeros():
    m = bm25.weigh([[0, 0, 2], [], [2]], 4)  # terms 1 and 3 occur nowhere
    assert np.array_equal(bm25.column_sums(m.csc, np.array([], dtype=np.int64), np.array([]), 3), np.zeros(3))
    assert np.array_equal(bm25.column_sums(m.csc, np.array([1, 3]), np.array([1.0, 1.0]), 3), np.zeros(3))
    # a repeated term counts twice, as the loop adds it twice
    twice = bm25.column_sums(m.csc, np.array([2, 2]), np.array([1.0, 1.0]), 3)
    once = bm25.column_sums(m.csc, np.array([2]), np.array([1.0]), 3)
    assert twice[0] > 0 and twice[1] == 0 and np.array_equal(twice, 2 * once)


@pytest.mark.parametrize("seed", range(8))
def test_score_rows_equals_the_entry_by_entry_gather(seed):
    rng = np.random.default_rng(seed)
    m = random_matrix(rng, n_docs=int(rng.integers(1, 300)), n_terms=int(rng.integers(1, 80)))
    n_terms = len(m.csc["indptr"]) - 1
    for _ in range(10):
        qvec = np.zeros(n_terms)
        qvec[rng.integers(0, n_terms, size=int(rng.integers(0, 8)))] = rng.random()
        # runs of consecutive rows (the passages of candidate cases), single rows, repeats, any order
        starts = np.sort(rng.integers(0, m.rows, size=int(rng.integers(0, 6))))
        runs = [np.arange(s, min(m.rows, s + int(rng.integers(1, 40)))) for s in starts]
        rows = np.concatenate(runs + [rng.integers(0, m.rows, size=int(rng.integers(0, 5)))]).astype(np.int64)
        got = bm25.score_rows(m.csr, rows, qvec)
        assert np.array_equal(got, gather_reference(m.csr, rows, qvec))


def test_a_rows_score_does_not_depend_on_the_rows_scored_with_it():
    """What lets the cards reuse the search's passage scores: a case's rows alone score the same."""
    rng = np.random.default_rng(42)
    m = random_matrix(rng, n_docs=400, n_terms=50)
    qvec = np.zeros(50)
    qvec[[3, 7, 11, 20, 21, 30, 44]] = [1.0, 0.5, 1.0, 0.25, 1.0, 1.0, 0.5]
    rows = np.concatenate([np.arange(10, 60), np.arange(100, 180), np.arange(300, 320)])
    together = bm25.score_rows(m.csr, rows, qvec)
    assert together.any()
    alone = np.concatenate([bm25.score_rows(m.csr, r, qvec) for r in
                            (np.arange(10, 60), np.arange(100, 180), np.arange(300, 320))])
    assert np.array_equal(together, alone)


def test_score_rows_of_empty_rows_and_no_rows():
    m = bm25.weigh([[0, 1], [], [1, 1, 2], []], 3)
    qvec = np.array([1.0, 0.0, 2.0])
    assert len(bm25.score_rows(m.csr, np.array([], dtype=np.int64), qvec)) == 0
    assert np.array_equal(bm25.score_rows(m.csr, np.array([1, 3]), qvec), np.zeros(2))
    got = bm25.score_rows(m.csr, np.array([0, 1, 2, 3]), qvec)
    assert got[0] > 0 and got[1] == 0 and got[2] > 0 and got[3] == 0
    assert np.array_equal(got, gather_reference(m.csr, np.array([0, 1, 2, 3]), qvec))
