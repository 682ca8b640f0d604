"""A day of use, reports side (「報告一覧 K-012」 and the peer-supporter
role), written as the conversations staff and peer supporters have on their phones."""
from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.people.access import ROLES, add_user, create_invite, get_user
from bot.adapters.terminal import render
from bot.app import build_app
from bot.chat.core import Incoming, Text
from storage.connections import open_db
from storage.migrations import MIGRATIONS, migrate
from scheduler import store
from scheduler.workdays import TZ

from .conftest import Clock
from .test_photos import jpeg_with_metadata

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)   # a Tuesday morning
_n = iter(range(1, 100000))


@pytest.fixture
def rapp(index, tmp_path):
    app = build_app(db_path=str(tmp_path / "n.db"), clock=Clock(NOW), index=index)
    add_user(app.db, "line", "U-staff", "staff", "北区", NOW)
    add_user(app.db, "line", "U-staff2", "staff", "北区", NOW)
    add_user(app.db, "line", "U-super", "supervisor", "北区", NOW)
    add_user(app.db, "line", "U-south", "supervisor", "南区", NOW)
    return app


@pytest.fixture
def papp(rapp):
    """With a peer supporter registered (a role main does not have: there this fails at once)."""
    add_user(rapp.db, "line", "U-peer", "peer", "北区", NOW)
    return rapp


def send(app, text, user="U-staff", direct=True, photo=None):
    return app.handle(Incoming("line", user, user if direct else "G1", text, direct, event_id=f"ev{next(_n)}",
                               photo=photo))


def say(app, text, user="U-staff", direct=True):
    return render(send(app, text, user, direct))


def buttons(replies) -> list[str]:
    return [c.label for r in replies if isinstance(r, Text) for c in r.choices]


def reports(app) -> list[dict]:
    cur = app.db.execute("SELECT * FROM reports ORDER BY id")
    return [dict(zip([c[0] for c in cur.description], r)) for r in cur.fetchall()]


# -- item 8: a started report does not trap the user ------------------------------------------
def test_every_step_says_how_to_stop(rapp):
    prompts = [say(rapp, t) for t in ("報告", "訪問", "今日", "K-012", "北区", "服薬確認できた")]
    assert len(prompts) == 6
    for p in prompts:
        assert "「やめる」" in p, p
    assert "「やめる」" in say(rapp, "そのうち")        # a step asked again after a mistake says it too


def test_a_command_word_asks_to_set_the_report_aside_answers_it_and_the_draft_comes_back(rapp):
    say(rapp, "報告")
    say(rapp, "電話")
    asked = send(rapp, "予定")
    assert "報告の入力を中断しますか" in render(asked)
    assert buttons(asked) == ["中断して予定", "報告を続ける"]
    out = say(rapp, "中断する")
    assert "中断しました" in out and "登録されている予定はありません" in out    # 予定 is answered
    assert "詳しく" in say(rapp, "ひきこもり支援")                     # the next message is no report step
    out = say(rapp, "報告")
    assert "書きかけの報告があります" in out and "電話" in out
    assert "いつのことですか" in say(rapp, "続ける")                     # back at the step it was left at
    for t in ("昨日", "K-034", "北区", "家族から相談", "なし"):
        out = say(rapp, t)
    assert "種類：電話" in out and "日付：11月23日(月)" in out
    say(rapp, "確定")
    [r] = reports(rapp)
    assert (r["type"], r["date"], r["case_code"], r["summary"]) == ("電話", "2026-11-23", "K-034", "家族から相談")


def test_help_and_a_question_mark_question_ask_first_and_continuing_keeps_the_step(rapp):
    say(rapp, "報告")
    for text in ("ヘルプ", "家族教室はどう始めた？", "報告一覧", "管理画面"):
        out = say(rapp, text)
        assert "報告の入力を中断しますか" in out, text
        assert "種類を選んでください" in say(rapp, "報告を続ける")
    assert "いつのことですか" in say(rapp, "訪問")                       # the report goes on as if nothing happened
    say(rapp, "今日")
    say(rapp, "なし")
    say(rapp, "北区")
    assert "次の予定は" in say(rapp, "服薬は続けられているか？")         # a summary may be a question
    out = say(rapp, "なし")
    assert "内容：服薬は続けられているか？" in out


def test_a_question_set_aside_is_answered(rapp):
    say(rapp, "報告")
    asked = send(rapp, "家族教室の運営はどうしたらいい？")
    assert buttons(asked) == ["中断して質問", "報告を続ける"]
    out = say(rapp, "中断する")
    assert "中断しました" in out and "詳しく 1" in out


def test_starting_afresh_or_stopping_drops_the_draft_set_aside(rapp):
    say(rapp, "報告")
    say(rapp, "訪問")
    say(rapp, "中断")
    assert "書きかけ" in say(rapp, "報告")
    assert "種類を選んでください" in say(rapp, "新しく書く")
    say(rapp, "中断")
    say(rapp, "報告")
    assert "やめました" in say(rapp, "やめる")
    assert "種類を選んでください" in say(rapp, "報告")                  # nothing set aside any more


def test_a_draft_set_aside_times_out_with_a_note(rapp):
    say(rapp, "報告")
    say(rapp, "訪問")
    say(rapp, "中断")
    rapp.clock.now += timedelta(minutes=31)
    out = say(rapp, "報告")
    assert "中断していた報告は、30分たった" in out and "種類を選んでください" in out


def test_a_photo_stays_with_the_draft_set_aside_and_is_saved_with_it(rapp):
    say(rapp, "報告")
    say(rapp, "訪問")
    assert "写真" in say_photo(rapp)
    photo_dir = Path(rapp.db.path).parent / "photos"
    [kept] = list(photo_dir.iterdir())
    say(rapp, "予定")
    assert "中断しました" in say(rapp, "中断する")
    assert kept.exists()                                                # setting aside deletes no photo
    assert "書きかけの報告があります" in say(rapp, "報告")
    assert "いつのことですか" in say(rapp, "続ける")
    for t in ("今日", "K-012", "北区", "表情明るい", "なし"):
        out = say(rapp, t)
    assert "写真：1枚" in out
    say(rapp, "確定")
    assert rapp.db.execute("SELECT count(*) FROM report_photos").fetchone()[0] == 1 and kept.exists()


def test_a_photo_of_a_draft_set_aside_goes_when_the_user_starts_afresh(rapp):
    say(rapp, "報告")
    say_photo(rapp)
    photo_dir = Path(rapp.db.path).parent / "photos"
    [kept] = list(photo_dir.iterdir())
    say(rapp, "中断")
    say(rapp, "報告")
    say(rapp, "新しく書く")
    assert not kept.exists()


def say_photo(app, user="U-staff"):
    return render(send(app, "", user, photo=jpeg_with_metadata()))


# -- item 9: one-message reports keep what they read and read more ----------------------------
def test_an_unreadable_next_keeps_the_draft_and_asks_only_for_the_next(rapp):
    out = say(rapp, "報告 訪問 K-012 表情明るい。服薬確認できた。次回は来週")
    assert "次回の日付が読み取れません" in out and "ほかの内容はそのまま残しています" in out
    out = say(rapp, "来週火曜 再訪")
    assert "内容：表情明るい。服薬確認できた。" in out and "次回：12月1日(火) 再訪" in out and "ケース：K-012" in out
    say(rapp, "確定")
    [r] = reports(rapp)
    assert (r["summary"], r["next_date"], r["next_action"]) == ("表情明るい。服薬確認できた。", "2026-12-01", "再訪")


def test_hiragana_type_lower_case_code_and_ashita_are_understood(rapp):
    out = say(rapp, "報告 でんわ k012 家族から相談あり 次回あした")
    assert "種類：電話" in out and "ケース：K-012" in out and "内容：家族から相談あり" in out
    assert "次回：11月25日(水)" in out
    say(rapp, "確定")
    [r] = reports(rapp)
    assert (r["type"], r["case_code"], r["next_date"]) == ("電話", "K-012", "2026-11-25")


def test_a_lower_case_code_resolves_the_plans_visit(rapp):
    store.add_plan(rapp.db, platform="line", owner="U-staff", target="U-staff", area="北区", case_code="K-012",
                   plan_key="discharge", anchor=date(2026, 11, 17), digest_time=store.digest_time(rapp.db, "line", "U-staff"),
                   now=NOW - timedelta(days=7))
    say(rapp, "報告 ほうもん ｋ－０１２ 服薬確認できた")
    assert "1週間後" in say(rapp, "確定")
    assert rapp.db.execute("SELECT status FROM visits WHERE seq = 1").fetchone()[0] == "done"


def test_a_visit_report_that_did_not_meet_the_person_keeps_the_visit_owed(rapp):
    """「不在。置き手紙を残した。」 is not a visit done: met and not met must not look the same."""
    store.add_plan(rapp.db, platform="line", owner="U-staff", target="U-staff", area="北区", case_code="K-034",
                   plan_key="discharge", anchor=date(2026, 11, 17), digest_time=store.digest_time(rapp.db, "line", "U-staff"),
                   now=NOW - timedelta(days=7))
    say(rapp, "報告 訪問 K-034 不在。置き手紙を残した。")
    out = say(rapp, "確定")
    assert "会えなかった訪問として記録しました" in out and "未完了のまま" in out and "完了にしました" not in out
    assert rapp.db.execute("SELECT status FROM visits WHERE seq = 1").fetchone()[0] == "open"
    assert rapp.db.execute("SELECT action FROM reminder_actions WHERE visit_id IS NOT NULL").fetchall() == [("absent",)]
    say(rapp, "報告 訪問 K-034 会えた。服薬確認できた。")
    assert "1週間後" in say(rapp, "確定")
    assert rapp.db.execute("SELECT status FROM visits WHERE seq = 1").fetchone()[0] == "done"


def test_the_time_of_the_next_visit_is_its_time_not_its_action(rapp):
    out = say(rapp, "報告 訪問 K-012 服薬確認できた 次回12/10 14時")
    assert "次回：12月10日(木) 14:00 次回訪問" in out
    out = say(rapp, "確定")
    assert "12月10日 14:00" in out
    [r] = reports(rapp)
    assert (r["next_date"], r["next_time"], r["next_action"]) == ("2026-12-10", "14:00", "次回訪問")
    [rem] = [x for x in store.active(rapp.db) if x.title.startswith("K-012")]
    assert rem.due_at.astimezone(TZ) == datetime(2026, 12, 10, 14, 0, tzinfo=TZ)
    assert "14時" not in rem.title


def test_the_time_typed_at_the_next_step_is_kept_too(rapp):
    for t in ("報告", "訪問", "今日", "なし", "北区", "様子を確認"):
        say(rapp, t)
    assert "次回：12月3日(木) 13:30 再訪" in say(rapp, "12/3 13:30 再訪")
    say(rapp, "確定")
    [r] = reports(rapp)
    assert (r["next_date"], r["next_time"], r["next_action"]) == ("2026-12-03", "13:30", "再訪")


# -- 「報告一覧 K-012」 ---------------------------------------------------------------------------
def test_one_cases_reports_mine_and_the_areas_for_a_supervisor(rapp):
    for user, text in (("U-staff", "報告 訪問 K-012 服薬確認できた"), ("U-staff2", "報告 電話 k012 家族から電話"),
                       ("U-staff", "報告 訪問 K-099 別のケース")):
        say(rapp, text, user)
        say(rapp, "確定", user)
    mine = say(rapp, "報告一覧 k-012")
    assert mine.startswith("K-012 の報告") and "服薬確認できた" in mine
    assert "家族から電話" not in mine and "別のケース" not in mine
    area = say(rapp, "報告一覧 K-012", "U-super")
    assert "服薬確認できた" in area and "家族から電話" in area and "別のケース" not in area
    assert "見つかりませんでした" in say(rapp, "報告一覧 K-012", "U-south")   # another area's supervisor
    assert "1対1" in say(rapp, "報告一覧 K-012", direct=False)


# -- the peer-supporter role ---------------------------------------------------------------------
def test_a_peer_supporter_registers_with_an_invite_and_asks_questions(rapp):
    assert "peer" in ROLES
    code = create_invite(rapp.db, "peer", "北区", NOW)
    assert "ピアサポーター" in say(rapp, f"登録 {code}", "U-new")
    assert get_user(rapp.db, "line", "U-new").role == "peer"
    assert "詳しく 1" in say(rapp, "家族教室を始めたい", "U-new")


def test_a_peer_writes_activity_reports_only(papp):
    first = send(papp, "報告", "U-peer")
    assert buttons(first) == ["ピア活動"]
    assert "ピア活動" in say(papp, "訪問", "U-peer") and "いつのことですか" not in say(papp, "同行", "U-peer")
    assert "いつのことですか" in say(papp, "活動報告", "U-peer")
    say(papp, "やめる", "U-peer")
    refused = say(papp, "報告 訪問 K-012 同行した", "U-peer")
    assert "ピア活動" in refused and "保存しますか" not in refused
    out = say(papp, "報告 サロンで体験を話した", "U-peer")
    assert "種類：ピア活動" in out
    say(papp, "確定", "U-peer")
    say(papp, "報告 活動報告 家族会で話した", "U-peer")
    say(papp, "確定", "U-peer")
    assert [(r["type"], r["author"]) for r in reports(papp)] == [("ピア活動", "U-peer")] * 2


def test_a_peer_never_sees_visit_plans(papp):
    say(papp, "退院 K-012 11/20")
    say(papp, "はい")
    for text in ("退院 K-012 11/20", "予定 K-012", "予定 全体"):
        out = say(papp, text, "U-peer")
        assert "K-012" not in out and ("スタッフ" in out or "スーパーバイザー" in out), text
    assert papp.db.execute("SELECT count(*) FROM plans").fetchone()[0] == 1     # the staff member's only
    assert "K-012" not in say(papp, "予定", "U-peer")
    assert "管理画面" in say(papp, "管理画面", "U-peer") and "スタッフ" in say(papp, "管理画面", "U-peer")


def test_a_peer_answers_an_event(papp):
    eid, _ = store.add_event(papp.db, platform="line", owner="U-staff", target="G1", is_group=True,
                             title="ピア交流会", starts=NOW + timedelta(days=2), now=NOW)
    assert "参加と記録しました" in say(papp, f"参加 #e{eid}", "U-peer", direct=False)  # in the group, where its buttons are
    assert store.rsvp_counts(papp.db, eid)["yes"] == 1


def test_the_peer_role_is_offered_by_the_cli_and_the_console(nimo, clock):
    code = nimo("invite", "create", "--role", "peer", "--area", "北区").stdout.strip()
    assert len(code) == 8
    from .test_console import Console
    db = open_db(":memory:")
    add_user(db, "line", "Uadmin", "admin", "千葉県", NOW)
    con = Console(db, clock)
    c = con.client(user="Uadmin")
    assert "ピアサポーター" in c.get("/users").get_data(as_text=True)
    t = con.csrf(c, "/users")
    body = c.post("/users", data={"csrf": t, "op": "invite", "role": "peer", "area": "北区", "days": "3"}).get_data(as_text=True)
    assert "を作りました" in body and db.execute("SELECT role FROM invites").fetchone()[0] == "peer"


def test_the_migration_keeps_users_and_invites_and_allows_peers(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for number, sql in enumerate(MIGRATIONS[:9], start=1):
        conn.executescript(f"BEGIN; {sql}; PRAGMA user_version = {number}; COMMIT;")
    conn.execute("INSERT INTO users VALUES ('line', 'U1', 'admin', '千葉市', '2026-01-01', '山田')")
    conn.execute("INSERT INTO invites VALUES ('ABCD2345', 'staff', '船橋市', '2026-01-01', '2027-01-01', NULL, NULL, "
                 "'2026-02-01')")
    conn.close()
    db = open_db(path)
    assert db.execute("SELECT role, display_name FROM users").fetchall() == [("admin", "山田")]
    assert db.execute("SELECT revoked_at FROM invites").fetchall() == [("2026-02-01",)]
    add_user(db, "line", "U2", "peer", "千葉市", NOW)
    assert create_invite(db, "peer", "千葉市", NOW)
    assert migrate(db) == len(MIGRATIONS)


def test_a_case_code_is_written_one_way_whatever_is_typed(app):
    """「k012」, 「Ｋ－０１２」 and 「K-012」 are one case: the report written 「報告 でんわ k012 …」 is
    listed under 「報告一覧 K-012」 and resolves the visit of the plan registered as 「退院 K-012 …」."""
    from bot.reports.records import case_code
    assert case_code("k012") == case_code("Ｋ－０１２") == case_code("K-012") == "K-012"
    assert case_code("田中") is None
