"""A person who leaves: deactivated (never erased), their plans, visits and reminders handed to a
colleague or cancelled with a record, and nothing pushed to them afterwards.

Plans and reminders are set up through the router (the chat), removal through ``nimo users remove``
(click's CliRunner on a database file) and the console (Flask's test client); the reminder engine
pushes to the LINE stand-in for real.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner

from bot.config import Settings
from bot.chat import reminder_texts
from bot.reports import records as rp
from bot.people.access import add_user, get_user, list_users, set_display_name
from bot.app import build_app
from bot.cli import main
from bot.console import auth, create_app
from bot.chat.core import Incoming
from bot.people.names import display
from scheduler import store
from scheduler.service import ReminderService

from .conftest import FIXED_NOW, Clock, RunningClock
from .console_signin import sign_in
from .fakes import LineStandIn
from .waiting import wait_until

SATO = "U" + "5a70" * 8     # leaves
SUZUKI = "U" + "b2c3" * 8   # a colleague of the same area
PEER = "U" + "7e7e" * 8     # a peer supporter of the same area: may not hold visit plans
CHIBA = "U" + "0c0c" * 8    # staff of another area
ADMIN = "U" + "adad" * 8


def say(app, text: str, user: str) -> str:
    return "\n".join(getattr(r, "text", "") for r in app.handle(Incoming("line", user, user, text, direct=True)))


@pytest.fixture
def world(tmp_path, index, monkeypatch):
    """Sato holds a visit plan for K-077 and a reminder of their own, and wrote a report."""
    monkeypatch.setenv("NIMO_DB", str(tmp_path / "nimo.db"))
    app = build_app(db_path=str(tmp_path / "nimo.db"), clock=Clock(), index=index)
    for uid, role, area, name in ((SATO, "staff", "船橋市", "佐藤"), (SUZUKI, "staff", "船橋市", "鈴木"),
                                  (PEER, "peer", "船橋市", "ピア田"), (CHIBA, "staff", "千葉市", "千葉"),
                                  (ADMIN, "admin", "船橋市", "管理者")):
        add_user(app.db, "line", uid, role, area, FIXED_NOW)
        set_display_name(app.db, "line", uid, name)
    say(app, "退院 K-077 11/20", SATO)
    say(app, "はい", SATO)
    say(app, "リマインド 明日14時 書類の準備", SATO)
    rp.save(app.db, rp.Draft(type="訪問", date="2026-11-20", case_code="K-077", area="船橋市", summary="服薬確認できた"),
            platform="line", author=SATO, source_key="k1", now=FIXED_NOW)
    work = store.owner_work(app.db, "line", SATO)
    assert work["plans"] == 1 and work["visits"] >= 1 and work["reminders"] >= 2, work
    return app


def nimo(*args: str):
    return CliRunner().invoke(main, list(args))


def rows(app, sql, params=()):
    return app.db.execute(sql, list(params)).fetchall()


def test_removing_someone_with_open_work_is_refused_with_the_counts_and_the_two_options(world):
    before = rows(world, "SELECT * FROM users ORDER BY user_id") + rows(world, "SELECT * FROM reminders ORDER BY id")
    r = nimo("users", "remove", "--platform", "line", "--id", SATO)
    assert r.exit_code == 1 and "Traceback" not in r.output
    work = store.owner_work(world.db, "line", SATO)
    assert f"訪問計画{work['plans']}件" in r.output and f"リマインダー{work['reminders']}件" in r.output
    assert "--to" in r.output and "--cancel" in r.output
    assert rows(world, "SELECT * FROM users ORDER BY user_id") + rows(world, "SELECT * FROM reminders ORDER BY id") == before
    assert get_user(world.db, "line", SATO) is not None


@pytest.mark.parametrize("to, said", [(f"line:{PEER}", "受け持てません"), (f"line:{CHIBA}", "千葉市"),
                                      (f"line:{SATO}", "本人以外"), ("line:Unobody", "登録されていません"),
                                      (f"slack:{SUZUKI}", "登録されていません")])
def test_a_hand_over_to_someone_who_cannot_take_it_changes_nothing(world, to, said):
    before = rows(world, "SELECT * FROM plans") + rows(world, "SELECT * FROM reminders ORDER BY id")
    r = nimo("users", "remove", "--platform", "line", "--id", SATO, "--to", to)
    assert r.exit_code == 1 and said in r.output and "Traceback" not in r.output
    assert rows(world, "SELECT * FROM plans") + rows(world, "SELECT * FROM reminders ORDER BY id") == before
    assert get_user(world.db, "line", SATO) is not None


def test_removal_hands_plans_visits_and_reminders_to_a_colleague_and_keeps_the_name(world):
    work = store.owner_work(world.db, "line", SATO)
    r = nimo("users", "remove", "--platform", "line", "--id", SATO, "--to", f"line:{SUZUKI}")
    assert r.exit_code == 0, r.output
    assert "鈴木さんに引き継ぎました" in r.output
    assert store.owner_work(world.db, "line", SATO) == {"plans": 0, "visits": 0, "reminders": 0}
    assert store.owner_work(world.db, "line", SUZUKI) == work
    assert rows(world, "SELECT DISTINCT target FROM reminders WHERE status = 'active'") == [(SUZUKI,)]
    assert rows(world, "SELECT COUNT(*) FROM reminder_actions WHERE action = 'hand_over'")[0][0] == work["reminders"]
    # deactivated, not erased: no longer registered, still named on their report
    assert get_user(world.db, "line", SATO) is None
    answer = say(world, "予定", SATO)
    assert "登録" in answer and "K-077" not in answer
    assert display(world.db, "line", SATO) == "佐藤"
    assert SATO not in [u.user_id for u in list_users(world.db)]
    assert "佐藤" in nimo("users", "list", "--all").output


def test_removal_with_cancel_records_the_reason_and_restore_undoes_the_deactivation(world):
    work = store.owner_work(world.db, "line", SATO)
    r = nimo("users", "remove", "--platform", "line", "--id", SATO, "--cancel")
    assert r.exit_code == 0 and "取り消しました" in r.output, r.output
    assert rows(world, "SELECT status FROM plans") == [("cancelled",)]
    assert {s for (s,) in rows(world, "SELECT status FROM visits")} <= {"cancelled", "done", "unmet"}
    assert rows(world, "SELECT DISTINCT reason FROM visits WHERE status = 'cancelled'") == [("担当者の登録解除",)]
    assert rows(world, "SELECT COUNT(*) FROM reminders WHERE status IN ('active', 'missed')")[0][0] == 0
    assert rows(world, "SELECT COUNT(*) FROM reminder_actions WHERE action = 'cancel' AND detail = '担当者の登録解除'"
                )[0][0] == work["reminders"]
    assert get_user(world.db, "line", SATO) is None
    assert nimo("users", "remove", "--platform", "line", "--id", SATO, "--cancel").exit_code == 1
    r = nimo("users", "restore", "--platform", "line", "--id", SATO)
    assert r.exit_code == 0 and "元に戻しました" in r.output
    assert get_user(world.db, "line", SATO).area == "船橋市"
    assert nimo("users", "restore", "--platform", "line", "--id", SATO).exit_code == 1


def test_to_and_cancel_together_are_refused(world):
    r = nimo("users", "remove", "--platform", "line", "--id", SATO, "--cancel", "--to", f"line:{SUZUKI}")
    assert r.exit_code == 1 and "どちらか一方" in r.output and get_user(world.db, "line", SATO) is not None


# -- the console ---------------------------------------------------------------------------------
def console(world):
    app = create_app(world.db, world.clock, Settings.from_env({"NIMO_PUBLIC_URL": "https://nimo.example.jp"}))
    c = app.test_client()
    assert sign_in(c, auth.new_link(world.db, 'line', ADMIN, world.clock())).status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/users").get_data(as_text=True)).group(1)
    return c, csrf


def test_console_asks_first_offers_colleagues_then_deactivates_and_can_undo(world):
    c, csrf = console(world)
    page = c.post("/users", data={"csrf": csrf, "op": "remove", "platform": "line", "user_id": SATO}).get_data(as_text=True)
    assert "登録の解除：佐藤" in page and "訪問計画1件" in page
    assert f'value="line:{SUZUKI}"' in page and f'value="line:{PEER}"' not in page and f'value="line:{CHIBA}"' not in page
    assert get_user(world.db, "line", SATO) is not None  # only asked
    form = {"csrf": csrf, "op": "remove", "confirm": "yes", "platform": "line", "user_id": SATO}
    page = c.post("/users", data={**form, "handover": ""}).get_data(as_text=True)
    assert "選んでください" in page and get_user(world.db, "line", SATO) is not None
    page = c.post("/users", data={**form, "handover": f"line:{SUZUKI}"}).get_data(as_text=True)
    assert "鈴木さんに引き継ぎました" in page and get_user(world.db, "line", SATO) is None
    assert "登録を解除した人（1人）" in page and "元に戻す" in page
    # past reports keep the name: list, filter and CSV
    reports = c.get("/reports").get_data(as_text=True)
    assert "佐藤" in reports and "line:U5a70" not in reports
    rid = world.db.execute("SELECT id FROM reports").fetchone()[0]
    assert "佐藤" in c.get(f"/reports/{rid}").get_data(as_text=True)
    assert re.search(r"<option[^>]*>佐藤</option>", reports)  # still in the 報告者 filter
    csv_text = c.get("/reports/export.csv").get_data(as_text=True)
    assert "佐藤" in csv_text and SATO not in csv_text
    page = c.post("/users", data={"csrf": csrf, "op": "restore", "platform": "line", "user_id": SATO}).get_data(as_text=True)
    assert "元に戻しました" in page and get_user(world.db, "line", SATO) is not None


# -- the reminder engine ------------------------------------------------------------------------------
def test_a_reminder_to_a_deactivated_person_is_cancelled_not_pushed(tmp_path, index, caplog):
    from bot.adapters.line import LineMessenger, LinePusher
    clock = RunningClock(FIXED_NOW)
    with LineStandIn() as line:
        app = build_app(db_path=str(tmp_path / "n.db"), clock=clock, index=index)
        for uid in (SATO, SUZUKI):
            add_user(app.db, "line", uid, "staff", "船橋市", FIXED_NOW)
        soon = clock() + timedelta(seconds=1)
        gone = store.add_reminder(app.db, kind="reminder", platform="line", owner=SATO, target=SATO, is_group=False,
                                  title="書類", due=soon, recurrence=None, asked=True, now=clock())
        kept = store.add_reminder(app.db, kind="reminder", platform="line", owner=SUZUKI, target=SUZUKI,
                                  is_group=False, title="電話", due=soon, recurrence=None, asked=True, now=clock())
        # deactivated by an older Nimo, with a reminder left behind: the guard must stop it
        app.db.execute("UPDATE users SET removed_at = ? WHERE user_id = ?", [store.utc(clock()), SATO])
        svc = ReminderService(app.db, {"line": LinePusher(LineMessenger(access_token=line.access_token, base_url=line.url))},
                              reminder_texts, clock=clock)
        try:
            assert svc.start()
            assert line.wait_for(lambda s: len(s.delivered) >= 1, timeout=15)
            # both reminders were dealt with (one sent, one cancelled): nothing of them is left to fire
            assert wait_until(lambda: "active" not in {store.get(app.db, r).status for r in (gone, kept)}, timeout=15)
        finally:
            svc.stop()
        assert [d["to"] for d in line.delivered] == [SUZUKI]
        assert store.get(app.db, gone).status == "cancelled" and store.get(app.db, kept).status == "done"
        assert app.db.execute("SELECT detail FROM reminder_actions WHERE reminder_id = ?", [gone]).fetchone()[0] \
            == "target removed"
        assert any(f"reminder {gone} cancelled" in r.getMessage() for r in caplog.records)
