"""Search as staff write: spelling variants, abbreviations, typos, conditions, and out-of-scope questions."""
from __future__ import annotations

import pytest

from knowledge.search import CaseIndex, Synonyms


def ids(index, q, n=3):
    return [h.case.id for h in index.search(q).hits[:n]]


@pytest.mark.parametrize("variants", [
    ("ひきこもりの家族支援", "引きこもりの家族支援", "引き篭もりの家族支援"),
    ("障がい者の住まい", "障害者の住まい"),
    ("子どもへの普及啓発", "子供への普及啓発"),
    ("ｱｳﾄﾘｰﾁ支援", "アウトリーチ支援"),
])
def test_spelling_variants_give_the_same_answer(index, variants):
    first = ids(index, variants[0])
    assert first
    for v in variants[1:]:
        assert ids(index, v) == first, v


@pytest.mark.parametrize("short, forms", [
    ("PSW", ("精神保健福祉士", "PSW", "ソーシャルワーカー")),
    ("GH", ("グループホーム", "共同生活援助")),
    ("ケアマネ", ("介護支援専門員", "ケアマネ")),
    ("ピアさん", ("ピアサポーター", "ピアサポート", "当事者")),
])
def test_abbreviations_and_colloquial_words(index, short, forms):
    """The short word alone finds cases that write it out in full."""
    from knowledge.search import field_text
    hits = index.search(short).hits
    assert hits, short
    for h in hits[:3]:
        text = " ".join(field_text(v) for v in h.case.data.values())
        assert any(f in text for f in forms), (short, h.case.id)


def test_8050_finds_the_consultation_system_case(index):
    assert "c15" in ids(index, "8050問題")


@pytest.mark.parametrize("typo, right", [
    ("ピアサポータ―の活用", "ピアサポーターの活用"),
    ("アウトリーツ支援", "アウトリーチ支援"),
    ("チェックリストの活用ほうほう", "チェックリストの活用"),
])
def test_typos(index, typo, right):
    assert ids(index, typo)[:1] == ids(index, right)[:1]


def test_prefecture_filter(index):
    r = index.search("千葉県の事例")
    assert r.hits and {h.case.get("prefecture") for h in r.hits} == {"千葉県"}
    assert {h.case.id for h in r.hits} == {"c01", "c02", "c03", "c04"}
    r = index.search("千葉の家族支援")
    assert r.hits and all(h.case.get("prefecture") == "千葉県" for h in r.hits)


def test_population_filter(index):
    r = index.search("人口50万人以下の家族支援")
    assert r.hits
    assert all(h.case.get("population") is not None and h.case.get("population") <= 500_000 for h in r.hits)


def test_level_filter(index):
    r = index.search("県の取組でアウトリーチ")
    assert r.hits and all(h.case.get("level") == "都道府県" for h in r.hits)
    r = index.search("市町村の相談体制")
    assert r.hits and all(h.case.get("level") in ("市町村", "政令市") for h in r.hits)


def test_a_condition_nothing_meets_says_so(index):
    r = index.search("沖縄県の事例")
    assert not r.hits and r.reason == "filtered_out"


def test_a_topic_word_is_not_a_condition(index):
    """保健所 is a topic here, not a level filter: cases of every level may answer."""
    r = index.search("精神保健福祉センターが保健所を支援している例")
    assert r.filters.levels == ()
    assert r.hits


@pytest.mark.parametrize("q", [
    "今日の天気は？", "有給の申請方法", "有給休暇の申請方法", "パソコンのパスワードを忘れた",
    "お昼ごはんのおすすめ", "交通費の精算はどうする", "プリンターが動かない", "会議室の予約", "hello",
])
def test_out_of_scope_is_declined(index, q):
    r = index.search(q)
    assert r.hits == () and r.reason == "out_of_scope"


def test_a_phrase_quoted_from_a_case_is_in_scope(index):
    assert ids(index, "生活サポートシート")[:1] == ["c11"]


def test_synonyms_come_from_the_editable_file(tmp_path, index):
    """A group added to the file widens the search; without it the word is unknown."""
    f = tmp_path / "syn.yaml"
    f.write_text("groups: []\nfield_terms: []\n", encoding="utf-8")
    bare = CaseIndex(index.cases, Synonyms.load(f))
    assert bare.search("ねぐら探し").hits == ()
    f.write_text("groups:\n  - [ねぐら探し, 住まい, 住居, 住宅]\nfield_terms: []\n", encoding="utf-8")
    taught = CaseIndex(index.cases, Synonyms.load(f))
    assert taught.search("ねぐら探し").hits


def test_similar_cases_exclude_the_case_itself(index):
    hits = index.similar("c05")
    assert hits and "c05" not in [h.case.id for h in hits]
