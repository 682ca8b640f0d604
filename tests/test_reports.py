"""Field reports: one message and the guided dialog on every platform, the privacy guard, edits with
an audit trail, links to visit plans, exports, retention, and backup."""
from __future__ import annotations

import csv
import json
import sqlite3
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.people.access import add_user
from bot.adapters.terminal import render
from bot.app import build_app
from bot.chat.core import Incoming
from storage.connections import open_db
from scheduler import store
from scheduler.workdays import TZ

from .conftest import Clock
from .test_photos import jpeg_with_metadata, png_with_metadata

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)   # Tuesday
ONE_LINE = "報告 訪問 K-012 服薬確認できた。表情明るい。次回12/10"
_n = iter(range(1, 100000))


def say(app, text, platform="terminal", user="terminal", direct=True):
    msg = Incoming(platform, user, user if platform != "slack" else "D" + user, text, direct,
                   event_id=f"ev{next(_n)}")
    return render(app.handle(msg))


def reports(app):
    return [dict(zip([c[0] for c in cur.description], r)) for cur in [app.db.execute("SELECT * FROM reports")]
            for r in cur.fetchall()]


@pytest.fixture
def rapp(index, tmp_path):
    app = build_app(db_path=str(tmp_path / "n.db"), clock=Clock(NOW), index=index)
    for p, u in (("line", "Uline"), ("slack", "Uslack")):
        add_user(app.db, p, u, "staff", "千葉市", NOW)
    return app


@pytest.mark.parametrize("platform, user", [("terminal", "terminal"), ("line", "Uline"), ("slack", "Uslack")])
def test_one_message_report_is_shown_back_and_saved_on_confirm(rapp, platform, user):
    out = say(rapp, ONE_LINE, platform, user)
    assert "種類：訪問" in out and "ケース：K-012" in out and "内容：服薬確認できた。表情明るい。" in out
    assert "次回：12月10日(木)" in out and "確定" in out
    assert reports(rapp) == []
    out = say(rapp, "確定", platform, user)
    assert "保存しました（R-000001）" in out
    [r] = reports(rapp)
    assert (r["type"], r["case_code"], r["summary"], r["next_date"], r["date"], r["author"]) == \
        ("訪問", "K-012", "服薬確認できた。表情明るい。", "2026-12-10", "2026-11-24", user)
    assert rapp.db.execute("SELECT action FROM report_audit").fetchall() == [("create",)]


@pytest.mark.parametrize("platform, user", [("terminal", "terminal"), ("line", "Uline"), ("slack", "Uslack")])
def test_guided_dialog_report(rapp, platform, user):
    steps = ["報告", "電話", "昨日", "K-034", "千葉市", "家族から相談。来所を勧めた。", "12/1 来所面接"]
    for s in steps:
        out = say(rapp, s, platform, user)
    assert "種類：電話" in out and "日付：11月23日(月)" in out and "次回：12月1日(火) 来所面接" in out
    say(rapp, "確定", platform, user)
    [r] = reports(rapp)
    assert (r["type"], r["date"], r["case_code"], r["area"], r["summary"], r["next_action"], r["next_date"]) == \
        ("電話", "2026-11-23", "K-034", "千葉市", "家族から相談。来所を勧めた。", "来所面接", "2026-12-01")


def test_personal_data_is_not_stored_until_the_user_chooses(rapp):
    out = say(rapp, "報告 訪問 K-012 田中さん 090-1234-5678 に連絡した")
    assert "田中さん（名前）" in out and "090-1234-5678（電話番号）" in out
    assert "伏せて確定" in out
    assert "選んでください" in say(rapp, "確定")
    assert reports(rapp) == []
    say(rapp, "伏せて確定")
    [r] = reports(rapp)
    assert "田中" not in r["summary"] and "090" not in r["summary"] and "〇〇さん" in r["summary"]


def test_keep_as_is_when_really_meant(rapp):
    say(rapp, "報告 会議 佐藤様より助言あり")
    say(rapp, "そのまま確定")
    assert reports(rapp)[0]["summary"] == "佐藤様より助言あり"


def test_fix_a_field_before_saving(rapp):
    say(rapp, ONE_LINE)
    assert "どこを直しますか" in say(rapp, "修正")
    assert "ケースコードは" in say(rapp, "ケース")
    out = say(rapp, "K-099")
    assert "ケース：K-099" in out
    say(rapp, "確定")
    assert reports(rapp)[0]["case_code"] == "K-099"


def test_stop_at_any_step_and_dialog_times_out_with_a_note(rapp):
    say(rapp, "報告")
    say(rapp, "訪問")
    assert "やめました" in say(rapp, "やめる")
    say(rapp, "報告")
    rapp.clock.now = NOW + timedelta(minutes=31)
    out = say(rapp, "訪問")
    assert "30分" in out and reports(rapp) == []


def test_dialog_survives_a_restart(rapp, index):
    say(rapp, "報告")
    say(rapp, "ピア活動")
    again = build_app(db_path=rapp.db.path, clock=rapp.clock, index=index)
    out = say(again, "今日")
    assert "ケースコード" in out


def test_edit_within_24_hours_keeps_an_audit_trail(rapp):
    say(rapp, ONE_LINE)
    say(rapp, "確定")
    out = say(rapp, "報告修正 R-000001")
    assert "R-000001 をこの内容に直しますか" in out
    say(rapp, "修正")
    say(rapp, "内容")
    say(rapp, "服薬確認できた。")
    assert "直しました" in say(rapp, "確定")
    assert reports(rapp)[0]["summary"] == "服薬確認できた。"
    audit = rapp.db.execute("SELECT action, before, after FROM report_audit ORDER BY id").fetchall()
    assert [a[0] for a in audit] == ["create", "edit"] and "表情明るい" in audit[1][1]
    rapp.clock.now = NOW + timedelta(hours=25)
    assert "直せません" in say(rapp, "報告修正 R-000001")
    assert "直せません" in say(rapp, "報告取消 R-000001")


def test_withdraw(rapp):
    say(rapp, ONE_LINE)
    say(rapp, "確定")
    assert "取り下げました" in say(rapp, "報告取消 R-000001")
    assert reports(rapp)[0]["status"] == "withdrawn"
    assert "まだありません" in say(rapp, "報告一覧")


def test_a_visit_report_resolves_the_visit_and_next_makes_a_reminder(rapp):
    store.add_plan(rapp.db, platform="terminal", owner="terminal", target="terminal", area="千葉市", case_code="K-012",
                   plan_key="discharge", anchor=date(2026, 11, 17), digest_time=store.digest_time(rapp.db, "terminal", "terminal"),
                   now=NOW - timedelta(days=7))
    say(rapp, ONE_LINE)
    out = say(rapp, "確定")
    assert "1週間後" in out and "12月10日" in out
    assert rapp.db.execute("SELECT status FROM visits WHERE seq = 1").fetchone()[0] == "done"
    nxt = [r for r in store.active(rapp.db) if r.title.startswith("K-012 次回")]
    assert nxt and nxt[0].due_at.astimezone(TZ).date() == date(2026, 12, 10)


def test_reports_only_in_a_one_to_one_chat(rapp):
    assert "1対1" in say(rapp, ONE_LINE, "line", "Uline", direct=False)


def test_a_redelivered_confirm_saves_once(rapp):
    say(rapp, ONE_LINE, "line", "Uline")
    msg = Incoming("line", "Uline", "Uline", "確定", True, event_id="same-event")
    first = render(rapp.handle(msg))
    second = render(rapp.handle(msg))
    assert "R-000001" in first and len(reports(rapp)) == 1 and "R-000001" not in second


def test_list_export_purge_backup(nimo, tmp_path):
    nimo("chat", input=ONE_LINE + "\n確定\n報告 電話 K-001 家族から電話\n確定\n")
    rows = json.loads(nimo("reports", "list", "--json").stdout)
    assert [r["type"] for r in rows] == ["訪問", "電話"] or [r["type"] for r in rows] == ["電話", "訪問"]
    visit = [r for r in rows if r["type"] == "訪問"][0]
    assert visit["case_code"] == "K-012" and visit["summary"] == "服薬確認できた。表情明るい。" and visit["next_date"]
    out = tmp_path / "r.csv"
    nimo("reports", "export", "--type", "訪問", "-o", str(out))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert table[0][:3] == ["番号", "日付", "種類"] and len(table) == 2 and "表情明るい" in table[1][5]
    xl = tmp_path / "r.xlsx"
    nimo("reports", "export", "--format", "xlsx", "-o", str(xl))
    from openpyxl import load_workbook
    ws = load_workbook(xl).active
    assert ws.cell(1, 6).value == "内容" and {ws.cell(2, 3).value, ws.cell(3, 3).value} == {"訪問", "電話"}
    bad = nimo("reports", "export", "--from", "11/1", "-o", str(tmp_path / "x.csv"), check=False)
    assert bad.returncode != 0 and "YYYY-MM-DD" in bad.stderr
    assert "0件" in nimo("reports", "purge", "--days", "30").stdout
    copy = tmp_path / "copy.db"
    assert "複製しました" in nimo("backup", str(copy)).stdout
    assert sqlite3.connect(copy).execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 2


def test_purge_is_a_dry_run_unless_told(rapp):
    from bot.reports import records as rp
    say(rapp, ONE_LINE)
    say(rapp, "確定")
    later = NOW + timedelta(days=400)
    assert rp.purge(rapp.db, days=365, now=later, apply=False, dialogs=rapp.dialogs) == [1] and len(reports(rapp)) == 1
    assert rp.purge(rapp.db, days=365, now=later, apply=True, dialogs=rapp.dialogs) == [1] and reports(rapp) == []
    assert rapp.db.execute("SELECT action FROM report_audit ORDER BY id").fetchall()[-1] == ("purge",)


def test_backup_while_writing(tmp_path):
    import os
    import subprocess
    import sys
    db_path = tmp_path / "live.db"
    db = open_db(db_path)
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            db.execute("INSERT INTO gaps (question, key, reason, platform, created_at) VALUES (?, ?, 'no_match', 'x', 't')",
                       [f"q{i}", f"q{i}"])
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        env = dict(os.environ, NIMO_DB=str(db_path))
        p = subprocess.run([sys.executable, "-m", "bot", "backup", str(tmp_path / "b.db")], env=env,
                           capture_output=True, text=True)
    finally:
        stop.set()
        t.join()
    assert p.returncode == 0
    c = sqlite3.connect(tmp_path / "b.db")
    assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert c.execute("SELECT COUNT(*) FROM gaps").fetchone()[0] > 0


# --- a step answered with the rest of the report --------------------------------------------------
# Asked one thing, a busy person types everything: the step's answer first, then the report.  It is
# read as a one-line report with what the steps before gave (nothing refused, nothing cut off).

@pytest.mark.parametrize("steps, last, want", [
    (("訪問", "昨日"), "K-012 自宅訪問。服薬できている。次回12/10",
     {"type": "訪問", "date": "2026-11-23", "case_code": "K-012", "summary": "自宅訪問。服薬できている。",
      "next_date": "2026-12-10"}),
    (("電話",), "今日 K-014 本人から電話、眠れないとのこと",
     {"type": "電話", "date": "2026-11-24", "case_code": "K-014", "summary": "本人から電話、眠れないとのこと",
      "next_date": None}),
    (("電話",), "11/20 K-014 家族から相談。次回12/1",
     {"type": "電話", "date": "2026-11-20", "case_code": "K-014", "summary": "家族から相談。", "next_date": "2026-12-01"}),
    ((), "同行受診 K-015 主治医と面談",
     {"type": "同行受診", "date": "2026-11-24", "case_code": "K-015", "summary": "主治医と面談", "next_date": None}),
])
def test_a_step_answered_with_the_whole_report_goes_to_the_review(rapp, steps, last, want):
    say(rapp, "報告")
    for s in steps:
        say(rapp, s)
    out = say(rapp, last)
    assert out.startswith("この内容で保存しますか？"), out
    assert want["summary"] in out
    assert "保存しました" in say(rapp, "確定")
    [row] = reports(rapp)
    assert {k: row[k] for k in want} == want


def test_a_step_answered_alone_still_goes_step_by_step(rapp):
    say(rapp, "報告")
    say(rapp, "訪問")
    assert "ケースコード" in say(rapp, "昨日")
    assert "地域" in say(rapp, "K-012")  # the next step, as before
    assert reports(rapp) == []


def test_nashi_at_the_area_step_means_no_area(rapp):
    for text in ("報告", "訪問", "昨日", "K-012"):
        say(rapp, text)
    say(rapp, "なし")  # the area
    say(rapp, "自宅訪問した")
    assert "地域：—" in say(rapp, "なし")  # no next visit: the review
    say(rapp, "確定")
    assert reports(rapp)[0]["area"] == ""


def test_a_whole_report_at_a_step_with_an_unreadable_next_date_asks_for_it(rapp):
    say(rapp, "報告")
    say(rapp, "訪問")
    say(rapp, "昨日")
    out = say(rapp, "K-012 自宅訪問した。次回そのうち")
    assert "そのうち" in out and "保存しますか" not in out
    assert "この内容で保存しますか" in say(rapp, "なし")
    assert "保存しました" in say(rapp, "確定")
    assert reports(rapp)[0]["summary"] == "自宅訪問した。" and reports(rapp)[0]["date"] == "2026-11-23"


def test_photos_sent_before_a_whole_report_at_a_step_stay_with_it(rapp):
    say(rapp, "報告")
    say(rapp, "訪問")
    assert "写真を受け取りました" in send_photo(rapp, jpeg_with_metadata())
    out = say(rapp, "今日 K-012 玄関前の様子")
    assert "この内容で保存しますか" in out
    assert "保存しました" in say(rapp, "確定")
    [row] = reports(rapp)
    assert len(photo_rows(rapp)) == 1 and photo_rows(rapp)[0][0] == row["id"]
    assert len(photo_files(rapp)) == 1


# --- photos live and die with their draft or report ----------------------------------------------

def send_photo(app, data, platform="terminal", user="terminal"):
    msg = Incoming(platform, user, user if platform != "slack" else "D" + user, "", True,
                   event_id=f"ev{next(_n)}", photo=data)
    return render(app.handle(msg))


def photo_files(app):
    d = Path(app.db.path).parent / "photos"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def photo_rows(app):
    return app.db.execute("SELECT report_id, path FROM report_photos ORDER BY id").fetchall()


@pytest.mark.parametrize("stop", ["やめる", "取消", "キャンセル"])
def test_a_cancelled_draft_leaves_no_photo(rapp, stop):
    say(rapp, "報告")
    say(rapp, "訪問")
    assert "写真を受け取りました" in send_photo(rapp, jpeg_with_metadata())
    say(rapp, "昨日")
    assert "1枚目" not in send_photo(rapp, png_with_metadata())  # the second one
    assert len(photo_files(rapp)) == 2
    assert "やめました" in say(rapp, stop)
    assert photo_files(rapp) == [] and photo_rows(rapp) == [] and reports(rapp) == []


def test_a_cancelled_review_leaves_no_photo(rapp):
    say(rapp, ONE_LINE)
    send_photo(rapp, jpeg_with_metadata())
    assert "やめました" in say(rapp, "取消")
    assert photo_files(rapp) == [] and photo_rows(rapp) == []


def test_an_expired_draft_leaves_no_photo(rapp):
    say(rapp, ONE_LINE)
    send_photo(rapp, jpeg_with_metadata())
    assert len(photo_files(rapp)) == 1
    rapp.clock.now = NOW + timedelta(minutes=29)
    send_photo(rapp, png_with_metadata())  # keeps the draft alive
    rapp.clock.now = NOW + timedelta(minutes=29 + 31)
    out = say(rapp, "予定")
    assert "30分" in out
    assert photo_files(rapp) == [] and photo_rows(rapp) == [] and reports(rapp) == []


def test_an_expired_draft_whose_author_never_returns_is_cleared_by_purge(rapp):
    from bot.reports import records as rp
    say(rapp, ONE_LINE)
    send_photo(rapp, jpeg_with_metadata())
    rapp.clock.now = NOW + timedelta(minutes=20)
    say(rapp, ONE_LINE, "line", "Uline")  # another user's draft, still being written
    send_photo(rapp, png_with_metadata(), "line", "Uline")
    rapp.clock.now = NOW + timedelta(minutes=40)
    say(rapp, "確定", "line", "Uline")  # …and saved
    later = NOW + timedelta(hours=2)
    assert rp.purge(rapp.db, days=365, now=later, apply=True, dialogs=rapp.dialogs) == []  # nothing old enough
    [(rid, path)] = photo_rows(rapp)
    assert photo_files(rapp) == [Path(path).name]  # the saved report's photo stays
    assert rapp.db.execute("SELECT COUNT(*) FROM dialog_state").fetchone()[0] == 0  # the draft text is gone too


def test_a_dry_run_purge_deletes_nothing(rapp):
    from bot.reports import records as rp
    say(rapp, ONE_LINE)
    send_photo(rapp, jpeg_with_metadata())
    rapp.clock.now = NOW + timedelta(hours=2)
    assert rp.purge(rapp.db, days=365, now=rapp.clock.now, apply=False, dialogs=rapp.dialogs) == []
    assert len(photo_files(rapp)) == 1


def test_a_saved_photo_stays_and_a_withdrawn_report_keeps_its_photo_until_purged(rapp):
    from bot.reports import records as rp
    say(rapp, ONE_LINE)
    send_photo(rapp, jpeg_with_metadata())
    say(rapp, "確定")
    [(rid, path)] = photo_rows(rapp)
    assert rid == 1 and photo_files(rapp) == [Path(path).name]
    assert "取り下げました" in say(rapp, "報告取消 R-000001")
    assert photo_files(rapp) == [Path(path).name] and photo_rows(rapp) == [(1, path)]
    later = NOW + timedelta(days=400)
    assert rp.purge(rapp.db, days=365, now=later, apply=True, dialogs=rapp.dialogs) == [1]
    assert reports(rapp) == [] and photo_rows(rapp) == [] and photo_files(rapp) == []
    audit = rapp.db.execute("SELECT report_id, action, by, before, after FROM report_audit ORDER BY id").fetchall()
    assert [a[1] for a in audit] == ["create", "withdraw", "purge"]
    assert audit[-1] == (1, "purge", "retention", None, None)
    assert not any("服薬" in str(a) or "K-012" in str(a) for a in audit)  # no report text outlives the report


def test_purge_goes_on_when_a_photo_file_is_already_gone(rapp):
    from bot.reports import records as rp
    say(rapp, ONE_LINE)
    send_photo(rapp, jpeg_with_metadata())
    send_photo(rapp, png_with_metadata())
    say(rapp, "確定")
    first, second = (Path(p) for _, p in photo_rows(rapp))
    first.unlink()
    assert rp.purge(rapp.db, days=365, now=NOW + timedelta(days=400), apply=True, dialogs=rapp.dialogs) == [1]
    assert not second.exists() and photo_rows(rapp) == [] and reports(rapp) == []


def test_nimo_reports_purge_yes_with_photos(nimo, index, tmp_path):
    """The command an administrator runs: exit 0, and report, photo row and file are gone.  The
    command reads the real clock, so the clocks here are set from it (and the old report is dated
    2001, older than any --days 3650 run from now on)."""
    import os
    from bot.app import utc_now
    app = build_app(db_path=str(nimo.db_path), clock=Clock(utc_now()), index=index)
    say(app, "報告 2001/1/5 訪問 K-012 玄関先で面談。")
    send_photo(app, jpeg_with_metadata())
    say(app, "確定")
    say(app, "報告 電話 K-001 家族から電話")  # a recent one, kept
    send_photo(app, png_with_metadata())
    say(app, "確定")
    [(old, old_path), (new, new_path)] = photo_rows(app)
    assert reports(app)[0]["date"] == "2001-01-05"
    # a draft whose author left two hours ago and never came back
    gone = build_app(db_path=str(nimo.db_path), clock=Clock(utc_now() - timedelta(hours=2)), index=index)
    add_user(gone.db, "line", "Ugone", "staff", "千葉市", gone.clock())
    say(gone, "報告 電話 K-002 折り返し待ち", "line", "Ugone")
    send_photo(gone, jpeg_with_metadata(), "line", "Ugone")
    [left] = [p for p in photo_files(app) if p.startswith("line-")]
    t = gone.clock().timestamp()
    os.utime(Path(nimo.db_path).parent / "photos" / left, (t, t))
    dry = nimo("reports", "purge", "--days", "3650")
    assert "1件" in dry.stdout and "R-000001" in dry.stdout and Path(old_path).exists() and left in photo_files(app)
    done = nimo("reports", "purge", "--days", "3650", "--yes")
    assert done.returncode == 0 and "1件を消しました" in done.stdout and "R-000001" in done.stdout
    assert [r["id"] for r in reports(app)] == [new]
    assert photo_rows(app) == [(new, new_path)]
    assert not Path(old_path).exists() and Path(new_path).exists()
    assert photo_files(app) == [Path(new_path).name]  # the abandoned draft's photo went too
    assert app.db.execute("SELECT COUNT(*) FROM dialog_state WHERE user = 'Ugone'").fetchone()[0] == 0


def test_a_photo_added_while_editing_is_saved_with_the_edit_or_dropped_with_it(rapp):
    say(rapp, ONE_LINE)
    send_photo(rapp, jpeg_with_metadata())
    say(rapp, "確定")
    [(_, first)] = photo_rows(rapp)
    say(rapp, "報告修正 R-000001")
    send_photo(rapp, png_with_metadata())
    assert "やめました" in say(rapp, "やめる")
    assert photo_rows(rapp) == [(1, first)] and photo_files(rapp) == [Path(first).name]
    say(rapp, "報告修正 R-000001")
    send_photo(rapp, png_with_metadata())
    assert "直しました" in say(rapp, "確定")
    rows = photo_rows(rapp)
    assert [r[0] for r in rows] == [1, 1] and sorted(Path(p).name for _, p in rows) == photo_files(rapp)


def test_a_draft_replaced_by_the_slack_form_drops_its_photos(rapp):
    from bot.reports import records as rp
    from bot.handlers.report import review_draft
    say(rapp, ONE_LINE, "slack", "Uslack")
    send_photo(rapp, jpeg_with_metadata(), "slack", "Uslack")
    assert len(photo_files(rapp)) == 1
    review_draft(rapp, Incoming("slack", "Uslack", "DUslack", "", True), rp.Draft(date="2026-11-24", summary="電話"))
    assert photo_files(rapp) == []
    say(rapp, "確定", "slack", "Uslack")
    assert [r["summary"] for r in reports(rapp)] == ["電話"] and photo_rows(rapp) == []


@pytest.mark.parametrize("data, said", [
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "この形式の画像は受け付けていません（JPEG・PNG のみ）。"),
    (b"", "この形式の画像は受け付けていません（JPEG・PNG のみ）。"),
    (b"\xff\xd8\xff" + bytes(10 * 1024 * 1024), "写真が大きすぎます（最大10MB）。"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "画像が壊れているようです。"),
])
def test_a_refused_photo_is_said_in_japanese_and_nothing_is_kept(rapp, data, said):
    say(rapp, ONE_LINE)
    assert send_photo(rapp, data).strip() == said
    assert photo_files(rapp) == []
    say(rapp, "修正")
    say(rapp, "内容")
    review = say(rapp, "玄関先で面談。")
    assert "内容：玄関先で面談。" in review and "写真：" not in review  # the draft holds no photo
    send_photo(rapp, jpeg_with_metadata())
    assert "写真：1枚" in say(rapp, "修正") + say(rapp, "内容") + say(rapp, "玄関先で面談。")


def test_leftover_photo_files_are_swept_by_purge_but_not_a_photo_being_stored(rapp):
    """A file no draft or report names (a crash between storing and remembering it, or a draft
    from before photos were cleaned up) goes with the next purge once it is old enough."""
    import os
    from bot.reports import records as rp
    say(rapp, ONE_LINE)
    send_photo(rapp, jpeg_with_metadata())  # a live draft's photo: kept
    d = Path(rapp.db.path).parent / "photos"
    old, fresh = d / "line-0badc0de-0123456789ab.jpg", d / "line-0badc0df-0123456789ab.png"
    tmp, foreign = d / ".line-12345678-abcd.tmp", d / "notes.txt"
    for p in (old, fresh, tmp, foreign):
        p.write_bytes(b"x")
    now = NOW + timedelta(minutes=10)
    for p, age in ((old, timedelta(hours=2)), (fresh, timedelta(minutes=1)), (tmp, timedelta(hours=2)),
                   (foreign, timedelta(days=9))):
        t = (now - age).timestamp()
        os.utime(p, (t, t))
    rp.purge(rapp.db, days=365, now=now, apply=True, dialogs=rapp.dialogs)
    left = photo_files(rapp)
    assert old.name not in left and tmp.name not in left
    assert fresh.name in left and foreign.name in left and len(left) == 3
