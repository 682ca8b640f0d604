"""The work the search saves (cards reusing the search's passage scores, the coordination factor
skipped at weight 0, views without a term of the question) must not change any result."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from knowledge.search import CaseIndex

QUESTIONS = ["家族会との連携", "ピアサポーターの養成", "協議の場の運営", "千葉県の家族支援", "グループホームを増やしたい"]


def fresh(index: CaseIndex) -> CaseIndex:
    """The same index with nothing remembered of earlier searches."""
    return index.with_params(index.params)


@pytest.mark.parametrize("q", QUESTIONS)
def test_cards_after_a_search_score_passages_as_without_it(index, q):
    searched = fresh(index)
    hits = searched.search(q).hits
    assert hits
    unsearched = fresh(index)
    for h in hits[:3]:
        assert searched._scored_passages(q, searched.by_id[h.case.id])  # the search's scores serve
        got = searched.matches(q, h.case.id)
        assert got and any(m.score > 0 for m in got)
        assert got == unsearched.matches(q, h.case.id)  # exactly: same scores, same passages


def test_cards_of_another_question_are_not_taken_from_the_last_search(index):
    ix = fresh(index)
    ix.search("家族会との連携")
    other = "ピアサポーターの養成"
    assert ix.matches(other, "c06") == fresh(index).matches(other, "c06")
    assert ix.matches(other, "c06") != ix.matches("家族会との連携", "c06")


def test_only_the_last_searches_are_remembered(index):
    ix = fresh(index)
    for k in range(20):
        ix.search(f"家族会との連携 {k}")
    assert len(ix._scored) == 8


def test_the_coordination_factor_is_computed_whenever_it_weighs(index):
    q = index.query("家族会と保健所の連携")
    shipped = index.features(q)
    assert index.params.coord == 0 and not shipped["coord"].any()  # skipped: it adds nothing
    every = index.features(q, every_view=True)["coord"]
    weighted = index.with_params(replace(index.params, coord=1.0))
    assert every.any() and np.array_equal(weighted.features(weighted.query(q.text))["coord"], every)
    # and a ranking that weighs it differs from one that does not
    assert not np.array_equal(weighted.fuse(weighted.features(weighted.query(q.text))), index.fuse(shipped))


def test_the_whole_case_score_is_reused_only_with_the_same_parameters(index):
    q = index.query("家族会との連携")
    f = index.features(q, every_view=True)
    other = replace(index.params, about=1.0, coord=2.0)
    recomputed = CaseIndex._whole(index, {k: v for k, v in f.items() if k != "whole"}, other)
    assert np.array_equal(CaseIndex._whole(index, f, other), recomputed)
    assert not np.array_equal(recomputed, CaseIndex._whole(index, f, index.params))
    assert np.array_equal(index.fuse(f, other), index.fuse({k: v for k, v in f.items() if k != "whole"}, other))


def test_a_question_without_terms_of_a_view_scores_zeros_there(index):
    q = index.query("ピアサポーターの養成")
    assert len(q.ids["senses"][0]) == 0 and len(q.ids["terms"][0]) > 0
    f = index.features(q)
    assert not f["passage"]["senses"].any() and f["passage"]["terms"].any()


def test_a_match_built_by_the_fast_path_is_the_dataclass_itself(index):
    import dataclasses

    from knowledge.passages import passages
    from knowledge.search import Match, _match
    pa = passages(index.cases[index.by_id["c14"]])[3]
    fast, slow = _match(pa, 0.5, 3), Match(pa.field, pa.item, pa.text, pa.heading, pa.group, 0.5, 3)
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    assert set(vars(fast)) == {f.name for f in dataclasses.fields(Match)}  # a new field must be set here too
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.score = 1.0
