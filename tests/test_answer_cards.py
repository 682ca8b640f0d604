"""Cards that answer the question: the case's own sentences that match it, cut only at sentence ends,
from the field that tells what was done, what came of it and what to take from it; never a heading;
the same lines on every platform."""
from __future__ import annotations

import json

import pytest

from bot.adapters import line, lineworks, slack, terminal
from bot.chat.core import Cards
from knowledge.answer import CARD_MAX, card, card_text
from casebase.faithful import norm
from knowledge.passages import HEADING, passages, sentences
from knowledge.search import field_text

QUESTIONS = ("会議がマンネリ化・形骸化している。立て直した例は？", "家族同士が交流できる場をつくりたい",
             "救急隊と精神科の連携", "ピアサポーターの体験談を家族が聞いた成果", "34条移送を減らしたい",
             "委託先に任せきりにしないための工夫", "支援")


def lines(c):
    return [*c.did, *(x for x in (c.result, c.tip) if x)]


def say(app, text):
    from bot.adapters.terminal import incoming
    return app.handle(incoming(text))


def test_sentences_are_cut_at_sentence_ends_only():
    assert sentences("チーム会議（以下「会議」と言う。）を開いた。参加者は10名。") == \
        ["チーム会議（以下「会議」と言う。）を開いた。", "参加者は10名。"]
    assert sentences("「地域の風を入れる。」ことを目的に\n養成した。") == ["「地域の風を入れる。」ことを目的に", "養成した。"]


def test_every_passage_is_the_cases_own_words(index):
    for c in index.cases:
        text = norm("".join(field_text(v) for v in c.data.values()))
        for p in passages(c):
            assert norm(p.text) in text, (c.id, p.text)


@pytest.mark.parametrize("q", QUESTIONS)
def test_card_lines_are_whole_sentences_of_the_case_never_headings(index, q):
    for c in index.cases:
        got = card(c, 1, index.matches(q, c.id))
        # a sentence, or a whole bullet (the first lines shown when nothing matches)
        own = [norm(p.text) for p in passages(c)] + [norm(x) for v in c.data.values() if isinstance(v, list)
                                                      for x in v if isinstance(x, str)]
        for ln in lines(got):
            assert not HEADING.match(ln), (c.id, ln)
            body = norm(ln.removesuffix("…"))
            # the line is one sentence, or its beginning cut at a comma (「…」) when it is too long
            assert any(s.endswith(body) or s.lstrip("⇒→・").startswith(body) for s in own), (c.id, ln)
            if not ln.endswith("…"):  # whole, or its first sentences
                assert any(s.lstrip("⇒→・") == body or s == body
                           or (body.endswith("。") and s.lstrip("⇒→・").startswith(body)) for s in own), (c.id, ln)
        assert len(card_text(got)) <= CARD_MAX


def test_the_lines_that_answer_the_question_are_shown(index):
    """A detail of a case: the line that tells it, not the case's first lines."""
    c14 = index.cases[index.by_id["c14"]]
    q = "会議がマンネリ化・形骸化している。立て直した例は？"
    answered = card(c14, 1, index.matches(q, "c14"))
    # the problem 「包括支援会議」が…形骸化 brings the ⇒ line that answers it
    assert any("目的の再設定" in d for d in answered.did), answered.did
    c02 = index.cases[index.by_id["c02"]]
    got = card(c02, 1, index.matches("ピアサポーターの体験談を家族が聞いた成果", "c02"))
    assert got.result and "体験談を家族が聞く" in got.result
    assert got.result != card(c02, 1).result  # not the line the card shows without a question


def test_a_matched_heading_shows_the_sentence_under_it(index):
    """「＜会議開催における工夫＞」 is a heading of c15's points: the tip is the sentence after it."""
    c15 = index.cases[index.by_id["c15"]]
    got = card(c15, 1, index.matches("会議開催における工夫", "c15"))
    assert got.tip and "会議開催における工夫" not in got.tip and not got.tip.startswith("＜")
    assert "柔軟な発想" in got.tip


def test_without_a_question_a_card_shows_the_first_lines(index):
    c05 = index.cases[index.by_id["c05"]]
    assert card(c05, 1, index.matches("", "c05")) == card(c05, 1)
    assert card(c05, 1).did[0].startswith("平成19年頃から")


def test_every_platform_carries_the_matched_lines(app):
    replies = say(app, "会議がマンネリ化・形骸化している。立て直した例は？")
    [ans] = [r for r in replies if isinstance(r, Cards)]
    first = ans.cards[0]
    assert first.case_id == "c14"
    want = first.did[0]
    assert want in terminal.render(replies)
    for rendered in (line.render(replies), lineworks.render(replies), slack.render(replies)):
        assert want in json.dumps(rendered, ensure_ascii=False)


def test_ask_json_carries_the_matched_lines(nimo):
    out = nimo("ask", "--json", "会議がマンネリ化・形骸化している。立て直した例は？")
    obj = json.loads(out.stdout)
    assert obj["answered"] and obj["results"][0]["id"] == "c14"
    assert "目的の再設定" in obj["answer"]


def test_the_next_page_answers_the_same_question(app):
    say(app, "家族会との連携")
    nxt = say(app, "次")[0]
    assert isinstance(nxt, Cards)
    for c in nxt.cards:
        matched = card(app.index.cases[app.index.by_id[c.case_id]], c.number, app.index.matches("家族会との連携", c.case_id))
        assert c == matched


# -- the 工夫 line -----------------------------------------------------------
def test_the_tip_line_gives_advice_and_is_never_a_heading_or_a_problem():
    from knowledge.answer import BRACKETED, advises, card
    from casebase.cases import load_builtin
    cases = load_builtin()
    tips = {c.id: card(c, 1).tip for c in cases}
    assert sum(t is not None for t in tips.values()) >= 20
    for cid, tip in tips.items():
        if tip:
            assert not BRACKETED.match(tip) and "可能性もある。" not in tip, cid
    # 「形骸化してしまう可能性もある」 states the problem; the guide's advice on it is what shows
    assert "見直し" in tips["c14"] and "必要" in tips["c14"]
    assert not advises("points", "地域において長年継続的に開催されている各種会議は、ともすれば形骸化してしまう可能性もある。")
    assert not advises("innovations", "【取組の工夫】")
    assert advises("transfer_points", "精神保健福祉士の保健所への常勤配置")


def test_population_is_not_said_twice_in_the_detail():
    from knowledge.answer import detail_sections
    from casebase.cases import load_builtin
    for c in load_builtin():
        assert "人口：人口" not in detail_sections(c)[0], c.id


def test_a_did_line_tells_what_was_done_not_a_problem(index):
    """A sentence that states a problem (「連携が不足していることが課題として挙げられた」) matches a
    question about that problem well, but the 取組 line is what the area did about it."""
    from knowledge.answer import states_problem
    assert states_problem("院内スタッフからは地域の相談支援事業所等との連携が不足していることが課題として挙げられた。")
    assert states_problem("病院スタッフがいつまでこの支援ができるのか疑問であり、他サービスで対応できないか模索中である。")
    assert not states_problem("病院内で地域移行に関する障害福祉サービス等についての勉強会を実施。")
    assert not states_problem("支援体制の構築が重要である。")  # advice that names a difficulty is not a problem
    for q in ("院内スタッフと相談支援事業所の連携が不足している", "病院スタッフの意識を変えたい"):
        for h in index.search(q).hits[:3]:
            c = card(h.case, 1, index.matches(q, h.case.id))
            assert c.did and not any(states_problem(d) for d in c.did if d not in card(h.case, 1).did), (q, c.did)
