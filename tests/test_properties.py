"""Property tests (Hypothesis): whatever a sender types, the time parser, the privacy guard and the
router give a result or a clean refusal, never an exception.

Texts are drawn two ways: any Unicode text, and texts built from the words these parsers look for
(command words, dates, times, names, phone numbers, odd digits), which reach far deeper into them.
Examples are few and there is no deadline, so the suite stays quick on a shared machine; the clock
is the tests' fixed one.
"""
from __future__ import annotations

import unicodedata
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import messages
from bot.privacy import guard as privacy
from bot.people.access import add_user
from bot.chat.core import Cards, Incoming, Text
from scheduler import timeparse
from scheduler.timeparse import TimeError, parse_date, parse_when, readback

from .conftest import FIXED_NOW

# No example database: nothing is written into the checkout, and each run draws afresh.
QUICK = settings(max_examples=200, deadline=None, database=None)

TIME_WORDS = [
    "明日", "あした", "今日", "今夜", "明朝", "明後日", "しあさって", "一昨日", "昨日", "14時", "10時半", "午前", "午後", "夕方",
    "夜", "朝", "の", " ", "　", "\n", "12/5", "2026/12/5", "0000/1/1", "9999/12/31", "〇〇〇〇年", "二〇二六年", "12月",
    "5日", "31日", "2/29", "(土)", "（火）", "13:00", "25時", "〜", "から", "3日後", "2時間後", "30分後", "1週間前", "来週",
    "火曜", "第2", "毎月", "毎週", "平日", "毎朝", "一時", "一時保護", "十", "二", "1", "0", "9", "#", "を", "リマインドして",
    "正午", "頃", "日", "月", "曜", "後", "前", "分", "間", "目", "年", "-", ".", ":", "x", "ｶﾞ", "\u0301", "①", "፩", "٣",    "じ", "はん", "pm", "AM", "朝イチ", "隔週", "月末", "末",  # time words staff use
]
time_text = st.lists(st.one_of(st.sampled_from(TIME_WORDS), st.text(max_size=2)), max_size=14).map("".join)

PRIVACY_WORDS = [
    "田中", "さん", "様", "ちゃん", "くん", "氏", "本日", "訪問時", "佐藤", "太郎", "花子", "お母さん", "ケアマネ", "タナカ",
    "ﾀﾅｶ", "090-1234-5678", "０９０ー１２３４ー５６７８", "03(1234)5678", "+81 90-1234-5678", "〒123-4567", "郵便番号",
    "東京都", "さいたま市", "千葉市", "本町", "2-1-1", "4丁目", "5番", "1号", "生年月日", "S25.1.2", "生", "生まれ",
    "1990年1月2日", "a@b.co", "1234 5678 9012", " ", "\n", "、", "と", "の", "①", "e\u0301", "か\u3099", "ｶﾞ", "\u0301",
]
privacy_text = st.lists(st.one_of(st.sampled_from(PRIVACY_WORDS), st.text(max_size=2)), max_size=16).map("".join)

COMMANDS = [
    "完了", "会えなかった", "あとで記録", "スヌーズ", "取消", "取り消し", "キャンセル", "削除", "延期", "変更", "参加 #e",
    "不参加 #e", "詳しく", "似た事例", "次", "報告", "報告一覧", "報告修正 R-", "報告取消 R-", "リマインド", "イベント",
    "退院 K-012", "措置 K-1", "朝の通知", "予定", "予定 全体", "はい", "いいえ", "👍", "👎", "登録", "ヘルプ", "確定", "修正",
    "伏せて確定", "そのまま確定", "やめる", "なし", "人口", "千葉県の",
]
PIECES = TIME_WORDS + PRIVACY_WORDS + ["#", "9" * 25, "#" + "9" * 20, "１２", "R-000001", "K-012", "8:30", "99:99"]
command_text = st.builds(lambda c, rest: c + rest, st.sampled_from(COMMANDS),
                         st.lists(st.sampled_from(PIECES), max_size=8).map("".join))


# --- the time parser ------------------------------------------------------------------------------

@QUICK
@given(st.one_of(st.text(max_size=40), time_text))
def test_parse_when_gives_a_moment_or_a_refusal_with_an_example(text):
    try:
        when, title = parse_when(text, FIXED_NOW)
    except TimeError as e:
        assert "例：「" in str(e)
        return
    assert when.at > FIXED_NOW and when.at.utcoffset() is not None and isinstance(title, str)
    assert readback(when, now=FIXED_NOW)


@QUICK
@given(st.one_of(st.text(max_size=40), time_text))
def test_parse_date_gives_a_date_or_a_refusal_with_an_example(text):
    try:
        day, rest = parse_date(text, FIXED_NOW)
    except TimeError as e:
        assert "例：「" in str(e)
        return
    assert isinstance(day, date) and isinstance(rest, str)


@QUICK
@given(time_text)
def test_every_expression_start_is_found(text):
    """_scan looks for expressions only where timeparse._STARTS matches: it must match wherever a
    head (or a bare time of day other than 「一時」) does."""
    s = timeparse.nfkc(text)
    heads = timeparse._DAY_HEADS + timeparse._REC_HEADS + timeparse._REL_HEADS
    for i in range(len(s)):
        t = timeparse._TIME.match(s, i)
        if any(h.pattern.match(s, i) for h in heads) or (t and t.group(0) != "一時"):
            assert timeparse._STARTS.match(s, i), (s, i)


@QUICK
@given(st.text(max_size=60))
def test_nfkc_is_unicodes_for_any_text_without_a_long_run_of_marks(text):
    if not timeparse.long_mark_run(text):
        assert timeparse.nfkc(text) == unicodedata.normalize("NFKC", text)


# --- the privacy guard ----------------------------------------------------------------------------

@QUICK
@given(st.one_of(st.text(max_size=60), privacy_text))
def test_privacy_findings_are_exact_sorted_spans_and_mask_replaces_them(text):
    found = privacy.find(text)
    for f in found:
        assert text[f.start:f.end] == f.text and f.text and f.kind in privacy.KIND_LABELS
    assert all(a.end <= b.start for a, b in zip(found, found[1:]))
    masked = privacy.mask(text, found)
    assert masked == privacy.mask(text)  # the same findings whether given or found again
    assert len(privacy.describe(found)) >= sum(len(f.text) for f in found)


# --- the router -----------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # one app for all examples: on purpose,
@given(text=st.one_of(st.text(max_size=40), command_text))        # dialogs carry over as in a real chat
def test_route_answers_every_text_without_the_safety_net(app, text):
    add_user(app.db, "line", "U1", "staff", "千葉市", FIXED_NOW)
    for platform, user in (("terminal", "terminal"), ("line", "U1")):
        replies = app.handle(Incoming(platform, user, user, text, True))
        assert replies and all(isinstance(r, (Text, Cards)) for r in replies)
        assert messages.SORRY not in [r.text for r in replies if isinstance(r, Text)], text
