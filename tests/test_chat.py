"""The conversation, in-process through the router exactly as every adapter uses it."""
from __future__ import annotations

import json

import pytest

from bot.adapters.terminal import incoming, render
from bot.chat.core import Cards, Text
from knowledge.answer import CARD_MAX, card_text


def say(app, text):
    return app.handle(incoming(text))


def test_an_answer_has_three_phone_sized_cards_with_their_source(app):
    replies = say(app, "住まいの確保で困っている。他の地域はどうした？")
    assert len(replies) == 1 and isinstance(replies[0], Cards)
    ans = replies[0]
    assert len(ans.cards) == 3
    assert [c.number for c in ans.cards] == [1, 2, 3]
    for c in ans.cards:
        assert len(card_text(c)) <= CARD_MAX
        assert c.source.startswith("第4章 ")
        assert 1 <= len(c.did) <= 3
    assert {"詳しく 1", "詳しく 3", "👍", "👎"} <= {ch.text for ch in ans.choices}


def test_every_card_of_every_case_fits_a_phone(app, index):
    from knowledge.answer import card
    for case in index.cases:
        for q in ("", "支援", "会議が形骸化している", "家族会と連携して研修会を開いた成果と工夫"):
            assert len(card_text(card(case, 1, index.matches(q, case.id)))) <= CARD_MAX, (case.id, q)


def test_details_next_and_similar_follow_the_last_answer(app):
    first = say(app, "家族会との連携")[0]  # a question with more than one page of cases
    shown = [c.case_id for c in first.cards]
    detail = say(app, "詳しく 2")
    text = "\n".join(r.text for r in detail)
    case = app.index.cases[app.index.by_id[shown[1]]]
    assert case.title in text and case.get("source") in text
    nxt = say(app, "次")[0]
    assert isinstance(nxt, Cards)
    assert [c.number for c in nxt.cards][0] == 4
    assert not set(c.case_id for c in nxt.cards) & set(shown)
    sim = say(app, "似た事例")[0]
    assert isinstance(sim, Cards) and shown[0] not in [c.case_id for c in sim.cards]


def test_a_long_case_in_detail_comes_in_several_messages(app):
    say(app, "生活サポートシート")
    parts = say(app, "詳しく 1")
    assert len(parts) > 1 and all(len(p.text) <= 2000 for p in parts)


def test_follow_ups_without_an_answer_say_what_to_do(app):
    for t in ("詳しく 1", "次", "似た事例", "👍"):
        r = say(app, t)
        assert isinstance(r[0], Text) and "先に質問" in r[0].text


def test_detail_of_a_number_not_shown(app):
    say(app, "家族教室")
    assert "1〜3" in say(app, "詳しく 9")[0].text


def test_feedback_is_stored_with_the_cases_shown(app):
    ans = say(app, "ピアサポーターの活用")[0]
    say(app, "👍")
    say(app, "👎")
    rows = list(app.db["feedback"].rows)
    assert [r["vote"] for r in rows] == [1, -1]
    assert json.loads(rows[0]["case_ids"]) == [c.case_id for c in ans.cards]
    assert rows[0]["question"] == "ピアサポーターの活用"


def test_help_lists_what_can_be_asked(app):
    r = say(app, "ヘルプ 質問")[0]
    assert "詳しく" in r.text and "次" in r.text and "似た事例" in r.text and r.choices


@pytest.mark.parametrize("text, reason, says", [
    ("今日の天気は？", "out_of_scope", "見つかりませんでした"),
    ("x" * 10_000, "too_long", "長すぎます"),
    ("😀😀😀", "no_text", "文字が読み取れません"),
    ("\x00\x1b[31m\x07", "no_text", "文字が読み取れません"),
    ("'; DROP TABLE gaps; --", "out_of_scope", "見つかりませんでした"),
    ("<script>alert(1)</script>", "out_of_scope", "見つかりませんでした"),
])
def test_bad_input_gets_a_clear_message_and_is_logged_as_typed(app, text, reason, says):
    r = say(app, text)
    assert len(r) == 1 and isinstance(r[0], Text) and says in r[0].text
    rows = list(app.db["gaps"].rows)
    assert [(g["question"], g["reason"]) for g in rows] == [(text, reason)]


def test_empty_input_asks_for_a_question(app):
    assert "質問を入力" in say(app, "   ")[0].text


def test_half_width_kana_is_understood(app):
    a = say(app, "ﾋﾟｱｻﾎﾟｰﾀｰの活用")[0]
    b = say(app, "ピアサポーターの活用")[0]
    assert [c.case_id for c in a.cards] == [c.case_id for c in b.cards]


def test_control_characters_inside_a_question_are_ignored(app):
    """A NUL, a bare ESC, a terminal colour code and a bell (a paste from a terminal) count as a
    space: the answer is exactly the one to the question without them, and quotes none of them."""
    dirty = say(app, "ピア\x00サポーター\x1b[31mの活用\x1b[0m\x07")
    clean = say(app, "ピア サポーター の活用")
    assert isinstance(dirty[0], Cards) and len(dirty[0].cards) == 3
    assert render(dirty) == render(clean)
    assert not any(ch in render(dirty) for ch in "\x00\x1b\x07")


def test_the_answer_state_expires(app, clock):
    from datetime import timedelta
    say(app, "家族教室")
    clock.now += timedelta(hours=25)
    assert "先に質問" in say(app, "詳しく 1")[0].text


def test_rendered_answer_reads_like_the_design(app):
    text = render(say(app, "住まいの確保"))
    assert text.startswith("「住まいの確保」に近い事例が3件あります。")
    assert "\n1) " in text and "出典：第4章" in text and "「詳しく 1」で全文" in text
