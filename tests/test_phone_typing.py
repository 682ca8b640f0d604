"""What busy staff type on a phone, read as they meant it: full-width and half-width characters,
the dashes an IME puts into a case code, greetings with long vowels and emoji, a reminder that was
already done.  Each test is a chat transcript through the router at a fixed Tokyo time."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from bot import messages
from bot.adapters.terminal import incoming, render
from bot.app import build_app
from storage.connections import open_db
from scheduler import store
from scheduler.workdays import TZ

from .conftest import Clock


def at(y, m, d, hh=9, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def say(app, text):
    return render(app.handle(incoming(text)))


@pytest.fixture
def japp(index):
    """The terminal user's app at Tuesday 2026-11-24 09:30 in Tokyo."""
    return build_app(db=open_db(":memory:"), clock=Clock(at(2026, 11, 24, 9, 30)), index=index)


# -- a case code as a phone types it ------------------------------------------------------------
@pytest.mark.parametrize("text", ["措置　Ｋ－０１５　１１／２０", "措置 Ｋ-015 11/20", "措置 K–015 11/20",
                                  "措置 Kー015 11/20", "措置 k‐015 11/20"])
def test_a_full_width_or_dashed_case_code_starts_the_plan(japp, text):
    out = say(japp, text)
    assert "ケースコードが読み取れません" not in out
    assert "K-015" in out and "11月20日(金)" in out
    say(japp, "はい")
    assert japp.db.execute("SELECT case_code FROM plans").fetchall() == [("K-015",)]


def test_a_full_width_case_code_without_a_day_asks_for_the_day(japp):
    out = say(japp, "措置　Ｋ－０１５")
    assert "K-015" in out and "ケースコードが読み取れません" not in out


# -- half-width katakana commands ---------------------------------------------------------------
@pytest.mark.parametrize("text,title", [("ﾘﾏｲﾝﾄﾞ 明日14時 資料", "資料"),
                                        ("明日14時に資料をﾘﾏｲﾝﾄﾞして", "資料"),
                                        ("ｒｅｍｉｎｄ 明日14時 Ｗｅｂ会議", "Web会議")])
def test_a_half_width_command_word_sets_the_reminder(japp, text, title):
    out = say(japp, text)
    assert out.startswith(f"11月25日(水) 14:00 に「{title}」をリマインドします。"), out
    say(japp, "はい")
    [r] = store.active(japp.db)
    assert r.title == title and r.due_at == at(2026, 11, 25, 14)


# -- greetings as typed between visits ----------------------------------------------------------
def _gaps(app) -> int:
    return app.db.execute("SELECT count(*) FROM gaps").fetchone()[0]


@pytest.mark.parametrize("text,opening", [("おはよー", "おはようございます。"), ("おはようございまーす☀️", "おはようございます。"),
                                          ("こんにちはー！", "こんにちは。"), ("おつかれさまでーす笑", "お疲れさまです。"),
                                          ("よろしくでーす", "よろしくお願いします。")])
def test_a_casual_greeting_is_returned_in_kind_and_not_logged_as_a_gap(japp, text, opening):
    out = say(japp, text)
    assert out.startswith(opening + "Nimo（にも）です。"), out
    assert _gaps(japp) == 0


@pytest.mark.parametrize("text,reply", [("ありがと😊", messages.THANKS_REPLY), ("ありがとーww", messages.THANKS_REPLY),
                                        ("ありがとです", messages.THANKS_REPLY), ("どもです", messages.THANKS_REPLY),
                                        ("了解でーす", messages.ACK_REPLY), ("りょーかい〜", messages.ACK_REPLY),
                                        ("了解っす笑", messages.ACK_REPLY), ("わかりましたー", messages.ACK_REPLY)])
def test_casual_thanks_and_acknowledgements_get_the_short_reply(japp, text, reply):
    assert say(japp, text) == reply
    assert _gaps(japp) == 0


def test_a_question_that_only_starts_like_a_greeting_is_still_searched(japp):
    out = say(japp, "おはようございます、家族教室について知りたい")
    assert "近い事例" in out


# -- postponing: never a finished reminder, never to a day before it --------------------------
@pytest.fixture
def saturday(index):
    return build_app(db=open_db(":memory:"), clock=Clock(at(2026, 11, 28, 9, 30)), index=index)


def _monday_reminder(app):
    say(app, "リマインド 11/30 10時 資料")
    say(app, "はい")
    [r] = store.active(app.db)
    return r


def test_a_completed_reminder_is_not_brought_back_by_a_postpone(saturday):
    r = _monday_reminder(saturday)
    assert "完了" in say(saturday, f"完了 {r.id}")
    out = say(saturday, f"延期 明日 {r.id}")
    assert out == messages.postpone_closed("資料", "done", r.id) and "完了済み" in out
    assert store.get(saturday.db, r.id).status == "done" and store.active(saturday.db) == []
    assert "完了済み" in say(saturday, f"スヌーズ #{r.id}")
    assert store.get(saturday.db, r.id).due_at == at(2026, 11, 30, 10)


def test_a_cancelled_reminder_is_not_postponed_and_the_way_back_is_said(saturday):
    r = _monday_reminder(saturday)
    say(saturday, f"取消 {r.id}")
    out = say(saturday, f"延期 来週 {r.id}")
    assert "取り消し済み" in out and f"元に戻す #{r.id}" in out
    assert store.get(saturday.db, r.id).status == "cancelled"


@pytest.mark.parametrize("to,day", [("明日", date(2026, 12, 1)), ("来週", date(2026, 12, 7))])
def test_a_postpone_of_a_reminder_still_ahead_counts_from_its_own_day(saturday, to, day):
    r = _monday_reminder(saturday)
    out = say(saturday, f"延期 {to} {r.id}")
    new = store.get(saturday.db, r.id).due_at.astimezone(TZ)
    assert (new.date(), new.hour) == (day, 10)
    assert out == messages.postponed("資料", messages.fmt_when(new))


def test_a_postpone_of_a_reminder_already_sent_counts_from_today(japp):
    say(japp, "リマインド 今日9時45分 電話")
    say(japp, "はい")
    [r] = store.active(japp.db)
    japp.clock.now = at(2026, 11, 24, 10, 0)
    say(japp, f"延期 明日 {r.id}")
    assert store.get(japp.db, r.id).due_at == at(2026, 11, 25, 9, 45)


# -- a report's 「次回」 and its reminder follow the report ------------------------------------
REPORT = "報告 訪問 K-012 服薬確認できた。次回12/10"


def _next_reminders(app):
    return [r.due_at.astimezone(TZ).date() for r in store.active(app.db) if r.title.startswith("K-012")]


def _saved(app):
    say(app, REPORT)
    out = say(app, "確定")
    assert "次回（12月10日）の朝にお知らせします" in out
    assert _next_reminders(app) == [date(2026, 12, 10)]
    return store.active(app.db)[0].id


def test_a_withdrawn_report_takes_its_next_reminder_with_it(japp):
    rid = _saved(japp)
    out = say(japp, "報告取消 R-000001")
    assert "取り下げました" in out and f"次回のお知らせ（番号 {rid}）も取り消しました" in out
    assert _next_reminders(japp) == [] and store.get(japp.db, rid).status == "cancelled"


def test_a_corrected_next_moves_the_reminder(japp):
    rid = _saved(japp)
    say(japp, "報告修正 R-000001")
    say(japp, "修正")
    say(japp, "次回")
    say(japp, "12/15 家庭訪問")
    out = say(japp, "確定")
    assert "直しました" in out and f"前の次回のお知らせ（番号 {rid}）は取り消しました" in out
    assert "次回（12月15日）の朝にお知らせします" in out
    assert _next_reminders(japp) == [date(2026, 12, 15)]
    assert store.active(japp.db)[0].title == "K-012 家庭訪問"


def test_a_next_added_by_a_correction_makes_a_reminder(japp):
    say(japp, "報告 訪問 K-012 服薬確認できた。")
    say(japp, "確定")
    assert _next_reminders(japp) == []
    say(japp, "報告修正 R-000001")
    say(japp, "修正")
    say(japp, "次回")
    say(japp, "12/3")
    assert "次回（12月3日）の朝にお知らせします" in say(japp, "確定")
    assert _next_reminders(japp) == [date(2026, 12, 3)]


def test_a_correction_that_removes_the_next_cancels_its_reminder(japp):
    rid = _saved(japp)
    say(japp, "報告修正 R-000001")
    say(japp, "修正")
    say(japp, "次回")
    say(japp, "なし")
    assert f"前の次回のお知らせ（番号 {rid}）は取り消しました" in say(japp, "確定")
    assert _next_reminders(japp) == []


def test_a_correction_of_the_summary_only_leaves_the_reminder(japp):
    rid = _saved(japp)
    say(japp, "報告修正 R-000001")
    say(japp, "修正")
    say(japp, "内容")
    say(japp, "服薬確認できた。表情明るい。")
    out = say(japp, "確定")
    assert "直しました" in out and "お知らせ" not in out
    assert [r.id for r in store.active(japp.db)] == [rid]


# -- a correction confirmed without a change ----------------------------------------------------
def test_a_correction_confirmed_without_a_change_says_nothing_changed(japp):
    _saved(japp)
    say(japp, "報告修正 R-000001")
    out = say(japp, "確定")
    assert out == messages.report_unchanged("R-000001") and "直しました" not in out
    audit = [a for (a,) in japp.db.execute("SELECT action FROM report_audit ORDER BY id")]
    assert audit == ["create"]


@pytest.mark.parametrize("before", [[], ["修正"]])
def test_a_field_named_with_its_new_value_is_taken_as_its_edit(japp, before):
    _saved(japp)
    say(japp, "報告修正 R-000001")
    for t in before:
        say(japp, t)
    out = say(japp, "内容 服薬確認できた。表情明るい。")
    assert "内容：服薬確認できた。表情明るい。" in out and "R-000001 をこの内容に直しますか" in out
    out = say(japp, "次回：12/15 家庭訪問")
    assert "次回：12月15日(火) 家庭訪問" in out
    assert "直しました" in say(japp, "確定")
    row = japp.db.execute("SELECT summary, next_date FROM reports").fetchone()
    assert tuple(row) == ("服薬確認できた。表情明るい。", "2026-12-15")


def test_a_field_edit_with_an_unreadable_value_asks_for_that_field_again(japp):
    say(japp, REPORT)
    out = say(japp, "ケース 田中")
    assert out.startswith(messages.REPORT_BAD_CASE)
    assert "ケース：K-099" in say(japp, "K-099")


# -- the weekend, the month-end, and recurrence words in a reminder -----------------------------
def test_this_weekend_is_read_back_as_its_saturday(japp):
    out = say(japp, "リマインド 今週末10時 報告書")
    assert out.startswith("11月28日(土) 10:00 に「報告書」をリマインドします。"), out
    assert "今週」だけ" not in out
    say(japp, "はい")
    [r] = store.active(japp.db)
    assert (r.title, r.due_at, r.recurrence) == ("報告書", at(2026, 11, 28, 10), None)


def test_month_end_alone_is_once_and_says_so_with_every_month_one_tap_away(japp):
    out = render(japp.handle(incoming("リマインド 月末17時 実績入力")))
    assert "11月30日(月) 17:00" in out and messages.month_end_once(11) in out and "「毎月末にする」" in out
    out = say(japp, "毎月末にする")
    assert out.startswith("毎月月末 17:00（初回 11月30日(月) 17:00） に「実績入力」")
    say(japp, "はい")
    [r] = store.active(japp.db)
    assert r.recurrence is not None and r.recurrence.kind == "monthly_last" and r.title == "実績入力"


def test_month_end_alone_confirmed_as_it_is_fires_once(japp):
    say(japp, "リマインド 月末17時 実績入力")
    say(japp, "はい")
    [r] = store.active(japp.db)
    assert (r.due_at, r.recurrence) == (at(2026, 11, 30, 17), None)
    assert say(japp, "毎月末にする") == messages.NOTHING_TO_CONFIRM


def test_every_weekday_keeps_its_words_out_of_the_title(japp):
    out = say(japp, "リマインド 毎週平日 9時 メールチェック")
    assert "「メールチェック」" in out and "毎週 メールチェック" not in out
    say(japp, "はい")
    [r] = store.active(japp.db)
    assert r.title == "メールチェック" and r.recurrence.kind == "weekdays"


# -- a command said as a sentence ---------------------------------------------------------------
def test_a_change_said_as_a_sentence_is_the_change_and_keeps_the_day(japp):
    say(japp, "リマインド 明日14時 A")
    say(japp, "はい")
    [r] = store.active(japp.db)
    out = say(japp, f"{r.id}の時間15時にして")
    assert out.startswith("「A」を 11月25日(水) 15:00 に変更します。"), out
    say(japp, "はい")
    assert store.get(japp.db, r.id).due_at == at(2026, 11, 25, 15)
    assert "11月27日(金) 10:00" in say(japp, f"#{r.id}を金曜10時に変更してください")


def test_a_change_typed_with_a_time_only_keeps_the_reminders_day(japp):
    say(japp, "リマインド 明後日14時 A")
    say(japp, "はい")
    [r] = store.active(japp.db)
    assert "11月26日(木) 16:00" in say(japp, f"変更 {r.id} 16時")


def test_a_change_said_of_no_reminder_says_so(japp):
    assert say(japp, "9の時間15時にして") == messages.NO_RECENT


@pytest.fixture
def line_app(index):
    from bot.people.access import add_user
    a = build_app(db=open_db(":memory:"), clock=Clock(at(2026, 11, 24, 9, 30)), index=index)
    add_user(a.db, "line", "U-peer", "peer", "北区", at(2026, 11, 24, 9, 30))
    add_user(a.db, "line", "U-staff", "staff", "北区", at(2026, 11, 24, 9, 30))
    return a


def line_say(app, user, text, direct=True):
    from bot.chat.core import Incoming
    return render(app.handle(Incoming("line", user, user, text, direct)))


def test_a_peer_who_wants_to_report_their_activity_starts_the_report(line_app):
    out = line_say(line_app, "U-peer", "ピア活動の報告したい")
    assert out.startswith(messages.report_of_type("ピア活動")) and "いつのことですか" in out
    assert "事例" not in out
    line_say(line_app, "U-peer", "今日")
    line_say(line_app, "U-peer", "なし")
    line_say(line_app, "U-peer", "北区")
    line_say(line_app, "U-peer", "交流会で体験を話した。")
    out = line_say(line_app, "U-peer", "なし")
    assert "種類：ピア活動" in out and "確定" in out
    assert "保存しました" in line_say(line_app, "U-peer", "確定")
    assert line_app.db.execute("SELECT type, author FROM reports").fetchall() == [("ピア活動", "U-peer")]


@pytest.mark.parametrize("text", ["報告したい", "報告を書きたい", "報告します。"])
def test_a_wish_to_report_starts_the_steps(line_app, text):
    out = line_say(line_app, "U-staff", text)
    assert out.startswith(messages.REPORT_ASK_TYPE), out
    assert line_app.db.execute("SELECT count(*) FROM gaps").fetchone()[0] == 0


def test_a_peer_naming_a_type_they_do_not_write_is_told_which_they_do(line_app):
    assert line_say(line_app, "U-peer", "訪問の報告をしたい") == messages.PEER_REPORT_TYPES


def test_a_wish_to_report_in_a_group_is_sent_to_the_one_to_one_chat(line_app):
    assert line_say(line_app, "U-staff", "報告したい", direct=False) == messages.REPORT_DIRECT_ONLY


# -- help shows what the role may use -----------------------------------------------------------
def _help_pages(app, user):
    return "\n".join(line_say(app, user, t) for t in ("ヘルプ", "ヘルプ 予定", "ヘルプ リマインド", "ヘルプ 報告"))


def test_a_peers_help_shows_no_command_a_peer_is_refused(line_app):
    pages = _help_pages(line_app, "U-peer")
    for refused in ("退院 K-012", "措置 K-015", "予定 K-012", "予定 全体", "計画終了", "引継ぎ", "報告 訪問"):
        assert refused not in pages, refused
    assert "リマインド 明日14時" in pages and "報告一覧" in pages
    example = messages.HELP_PEER_REPORT_LINE.removeprefix("・").split(" … ")[0]
    assert example in pages
    out = line_say(line_app, "U-peer", example)  # the example a peer is shown works for a peer
    assert "種類：ピア活動" in out and "確定" in out


def test_staff_help_shows_visit_plans_but_not_the_area_list(line_app):
    pages = _help_pages(line_app, "U-staff")
    assert "退院 K-012" in pages and "予定 K-012" in pages and "計画終了" in pages
    assert "予定 全体" not in pages


def test_a_supervisors_help_is_the_whole_page(line_app):
    from bot.people.access import add_user
    add_user(line_app.db, "line", "U-sv", "supervisor", "北区", at(2026, 11, 24, 9, 30))
    assert line_say(line_app, "U-sv", "ヘルプ 予定").startswith(messages.HELP_TOPICS["予定"])


# -- 予定: a visit not made in its window, a plan ended, the terminal's area -------------------
def _plan_from_nov_10(app):
    say(app, "退院 K-012 11/10")
    say(app, "はい")


def test_a_visit_whose_window_passed_is_shown_as_overdue(japp):
    _plan_from_nov_10(japp)
    japp.clock.now = at(2026, 11, 25, 9, 30)  # the 1週間後 window ended on 11/24
    out = say(japp, "予定 K-012")
    assert "11月17日(火) 1週間後（期限切れ）" in out and "11月24日(火) 2週間後（予定）" in out
    assert "K-012（1週間後・期限切れ）" in say(japp, "予定 全体")


def test_after_the_plan_is_ended_its_case_says_so_and_when(japp):
    _plan_from_nov_10(japp)
    say(japp, "計画終了 K-012 再入院")
    say(japp, "はい")
    japp.clock.now = at(2026, 11, 27, 9, 30)
    out = say(japp, "予定 K-012")
    assert out == messages.case_plan_ended("K-012", "退院後の訪問", "11月24日(火)", "再入院")
    assert "見つかりませんでした" not in out
    assert "見つかりませんでした" in say(japp, "予定 K-099")


def test_the_terminals_area_listing_names_its_area(japp):
    _plan_from_nov_10(japp)
    out = say(japp, "予定 全体")
    assert out.startswith(f"{messages.NO_AREA}の訪問予定")


# -- 報告一覧: a long summary cut where it reads well, and marked ------------------------------
@pytest.mark.parametrize("summary,shown", [
    ("服薬確認できた。表情明るい。家族からの相談あり、来週また訪問する予定。", "服薬確認できた。表情明るい。家族からの相談あり…"),
    ("ピアサポーターと一緒に地域活動支援センターを見学し、グループホームの説明を受けた",
     "ピアサポーターと一緒に地域活動支援センターを見学し…"),
    ("服薬確認できた。", "服薬確認できた。"),
])
def test_the_report_list_cuts_a_long_summary_at_a_boundary_and_marks_it(japp, summary, shown):
    say(japp, f"報告 訪問 K-012 {summary}")
    say(japp, "確定")
    line = next(x for x in say(japp, "報告一覧").splitlines() if x.startswith("R-000001"))
    assert line.endswith(" " + shown), line


def test_a_cut_never_separates_a_character_from_its_marks():
    from bot.handlers.report import excerpt
    text = "あ" * 29 + "👍🏽" + "い" * 10   # the skin tone belongs to the thumb
    assert excerpt(text, 30) in ("あ" * 29 + "…", "あ" * 29 + "👍🏽…")
    cut = excerpt("か\u3099" * 20, 31)  # the 31st character is a voicing mark: it stays with its か
    assert cut.count("\u3099") == cut.count("か") and cut.endswith("\u3099…")


# -- a level word is a condition only when used as one -----------------------------------------
@pytest.fixture
def search_app(index):
    return build_app(db=open_db(":memory:"), clock=Clock(at(2026, 11, 24, 9, 30)), index=index)


@pytest.mark.parametrize("question", ["保健所と市町村の役割分担どうしてる", "県や市町村の連携のしかた", "市町村への支援の例"])
def test_a_level_word_that_is_the_topic_is_not_a_condition(search_app, question):
    out = say(search_app, question)
    assert "近い事例" in out and "条件：" not in out.splitlines()[0], out.splitlines()[0]


@pytest.mark.parametrize("question,condition", [("ピアサポーターを養成してる県ある？", "条件：都道府県"),
                                                ("家族教室をやってる都道府県ありますか", "条件：都道府県"),
                                                ("市町村の相談体制", "条件：市町村")])
def test_a_level_word_used_as_a_condition_is_read_as_one(search_app, question, condition):
    first = say(search_app, question).splitlines()[0]
    assert condition in first, first


# -- the 取組 line tells what was done ---------------------------------------------------------
def _did_lines(app, question):
    from bot.chat.core import Cards
    [cards] = [r for r in app.handle(incoming(question)) if isinstance(r, Cards)]
    return [d for c in cards.cards for d in c.did]


@pytest.mark.parametrize("question", ["協議の場でデータを活用したい", "L圏域の協議の場の体制", "救急医療の連携",
                                      "医療情報ネットワークのPR"])
def test_the_did_line_is_never_a_caption_or_a_need(search_app, question):
    from knowledge.answer import CAPTION
    did = _did_lines(search_app, question)
    assert did
    for line in did:
        assert not CAPTION.match(line), line
        assert not line.endswith(("必要。", "必要となるだろう。")), line
    assert "表1 L圏域の協議の場の体制" not in did and "今後のPR方法についての検討が必要。" not in did


def test_a_case_code_with_an_ime_dash_lists_its_visits(japp):
    say(japp, "退院 K-012 11/20")
    say(japp, "はい")
    for asked in ("予定 K–012", "予定 Ｋ－０１２", "K—012の予定"):
        assert say(japp, asked).startswith("K-012 の訪問予定："), asked


def test_an_invite_code_typed_where_one_is_already_registered_says_so(japp, line_app):
    assert say(japp, "登録 ABCD1234") == messages.ALREADY_REGISTERED  # the terminal's user is the local staff
    assert line_say(line_app, "U-staff", "登録 ABCD1234") == messages.ALREADY_REGISTERED
    assert japp.db.execute("SELECT count(*) FROM gaps").fetchone()[0] == 0


def test_a_field_named_alone_at_the_review_asks_for_it(japp):
    say(japp, REPORT)
    assert say(japp, "内容").startswith(messages.REPORT_ASK_SUMMARY)
    assert "内容：家族と面談した。" in say(japp, "家族と面談した。")
