"""Who may touch what: each test is an attack found on the old code, sent the way the attacker
sent it (chat messages through the router, requests to the console), and what must happen now.

Real parts: our code, SQLite, Flask; the clock is injected (tests/conftest.py)."""
from __future__ import annotations

import hashlib
import io
import re
import sqlite3
from datetime import timedelta

import pytest

from bot.config import Settings
from bot import messages
from bot.reports import records as rp
from bot.people.access import add_user, create_invite, get_user, redeem
from bot.adapters.terminal import render
from bot.console import auth, create_app
from bot.chat.core import Incoming
from storage.connections import open_db
from storage.migrations import MIGRATIONS
from bot.curation.gaps import log_gap
from bot.handlers.report import review_draft
from scheduler import store

from .conftest import FIXED_NOW
from .console_signin import PUBLIC, sign_in

CHIBA, FUNA = "千葉市", "船橋市"


def say(app, text, user, conv=None, direct=True) -> str:
    return render(app.handle(Incoming("line", user, conv or user, text, direct)))


@pytest.fixture
def people(app):
    for uid, role, area in (("Uchiba", "staff", CHIBA), ("Uchiba2", "staff", CHIBA), ("Usv", "supervisor", CHIBA),
                            ("Ufuna", "staff", FUNA), ("Usvfuna", "supervisor", FUNA), ("Uadmin", "admin", "千葉県")):
        add_user(app.db, "line", uid, role, area, FIXED_NOW)
    return app


def one_to_one_event(app, user="Uchiba", title="K-012 家族面談") -> int:
    say(app, f"イベント 12/5 14時 {title}", user)
    say(app, "はい", user)
    return app.db.execute("SELECT MAX(id) FROM events").fetchone()[0]


# -- events --------------------------------------------------------------------------------------
def test_other_area_cannot_join_event_by_id(people):
    app = people
    eid = one_to_one_event(app)
    for words in (f"参加 #E{eid}", f"不参加 #E{eid}"):
        out = say(app, words, "Ufuna")
        assert out == say(app, f"参加 #E{eid + 1000}", "Ufuna") == messages.EVENT_NOT_FOUND
        assert "家族面談" not in out
    assert store.event_answers(app.db, eid) == []
    assert "家族面談" not in say(app, "予定", "Ufuna")
    assert "参加と記録しました" in say(app, f"参加 #E{eid}", "Uchiba2")  # the owner's area may answer


def test_other_area_cannot_cancel_or_learn_of_an_event(people):
    eid = one_to_one_event(people)
    out = say(people, f"取消 E{eid}", "Ufuna")
    assert out == messages.no_such_event(str(eid)) and "家族面談" not in out
    assert store.active_event(people.db, eid) is not None


def test_group_event_is_answered_from_its_group_only(people):
    app = people
    say(app, "イベント 12/5 14時 交流会", "Uchiba", conv="Cgroup", direct=False)
    say(app, "はい", "Uchiba", conv="Cgroup", direct=False)
    eid = app.db.execute("SELECT MAX(id) FROM events").fetchone()[0]
    assert say(app, f"参加 #E{eid}", "Ufuna", conv="Cother", direct=False) == messages.EVENT_NOT_FOUND
    assert say(app, f"参加 #E{eid}", "Uchiba2") == messages.EVENT_NOT_FOUND  # not from the group: no telling
    assert "参加と記録しました" in say(app, f"参加 #E{eid}", "Ufuna", conv="Cgroup", direct=False)  # a member
    assert "不参加と記録しました" in say(app, f"不参加 #E{eid}", "Ufuna")  # who answered there may change it


def test_an_event_joined_across_areas_before_is_not_shown_in_chat_or_the_console(people):
    eid = one_to_one_event(people)
    store.rsvp(people.db, eid, "line", "Ufuna", "yes", FIXED_NOW)  # answered when nothing was checked
    assert "家族面談" not in say(people, "予定", "Ufuna")
    con = create_app(people.db, people.clock, Settings.from_env({"NIMO_PUBLIC_URL": PUBLIC}))
    c = con.test_client()
    assert sign_in(c, auth.new_link(people.db, "line", "Ufuna", people.clock())).status_code == 303
    assert "家族面談" not in c.get("/visits").get_data(as_text=True)
    c2 = con.test_client()
    assert sign_in(c2, auth.new_link(people.db, "line", "Uchiba2", people.clock())).status_code == 303
    store.rsvp(people.db, eid, "line", "Uchiba2", "yes", FIXED_NOW)
    assert "家族面談" in c2.get("/visits").get_data(as_text=True)


# -- reports ---------------------------------------------------------------------------------------
def test_report_cannot_be_filed_as_another_area(people):
    app = people
    for words in ("報告", "訪問", "昨日", "K-012"):
        say(app, words, "Uchiba")
    out = say(app, FUNA, "Uchiba")  # the area step, answered with another area
    assert messages.report_area_own(CHIBA) in out
    say(app, "自宅訪問した", "Uchiba")
    assert f"地域：{CHIBA}" in say(app, "なし", "Uchiba")
    assert "保存しました" in say(app, "確定", "Uchiba")
    [(area,)] = app.db.execute("SELECT area FROM reports").fetchall()
    assert area == CHIBA
    assert "R-000001" in say(app, "報告一覧 全体", "Usv") and "R-000001" not in say(app, "報告一覧 全体", "Usvfuna")


def test_a_form_with_another_area_is_filed_under_the_authors(people):
    app = people
    d = rp.Draft(type="訪問", date="2026-11-23", case_code="K-013", area=FUNA, summary="電話で確認")
    out = render(review_draft(app, Incoming("line", "Uchiba", "Uchiba", "", direct=True), d))
    assert messages.report_area_own(CHIBA) in out and f"地域：{CHIBA}" in out
    say(app, "確定", "Uchiba")
    assert app.db.execute("SELECT area FROM reports").fetchall() == [(CHIBA,)]


# -- invite codes ------------------------------------------------------------------------------------
def test_admin_code_pasted_in_group_is_revoked(people):
    app = people
    code = create_invite(app.db, "admin", "千葉県", app.clock(), created_by="line:Uadmin")
    out = say(app, f"登録 {code}", "Ustranger", conv="Cgroup", direct=False)
    assert out == messages.INVITE_SEEN_IN_GROUP
    assert say(app, f"登録 {code}", "Umember") == messages.REGISTER_BAD  # then 1:1: too late
    assert get_user(app.db, "line", "Umember") is None
    [(who, text)] = app.db.execute("SELECT user_id, text FROM chat_notices").fetchall()
    assert who == "Uadmin" and code[:2] in text and code not in text and "グループ" in text
    [(action, by)] = app.db.execute("SELECT action, who FROM access_log").fetchall()
    assert action == "invite_revoked_in_group" and by == "line:Ustranger"


def test_a_group_message_with_no_live_code_revokes_nothing_and_says_where_to_register(people):
    app = people
    code = create_invite(app.db, "staff", CHIBA, app.clock(), created_by="cli")
    assert say(app, "登録 ABCD2345", "Ustranger", conv="Cgroup", direct=False) == messages.REGISTER_DIRECT_ONLY
    assert app.db.execute("SELECT COUNT(*) FROM chat_notices").fetchone()[0] == 0
    assert "登録しました" in say(app, f"登録 {code}", "Unew")


def test_invite_codes_are_stored_only_as_hashes(people):
    code = create_invite(people.db, "staff", CHIBA, people.clock())
    dump = "\n".join(people.db.conn.iterdump())
    assert code not in dump and hashlib.sha256(code.encode()).hexdigest() in dump
    assert redeem(people.db, "line", "Unew", code.lower()[:4] + "-" + code[4:], people.clock()).area == CHIBA


def test_the_migration_hashes_codes_made_before(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for number, sql in enumerate(MIGRATIONS[:10], start=1):  # the schema with codes in plain text
        conn.executescript(f"BEGIN; {sql}; PRAGMA user_version = {number}; COMMIT;")
    conn.execute("INSERT INTO invites VALUES ('ABCD2345', 'staff', '船橋市', '2026-01-01', "
                 "'2026-11-25T09:00:00+09:00', NULL, NULL, NULL)")
    conn.execute("INSERT INTO invites VALUES ('EFGH6789', 'staff', '船橋市', '2026-01-01', '2027-01-01T00:00:00+00:00', "
                 "'line:Uold', '2026-02-01', NULL)")
    conn.close()
    db = open_db(path)
    assert "ABCD2345" not in "\n".join(db.conn.iterdump())
    assert db.execute("SELECT hint FROM invites ORDER BY id").fetchall() == [("AB…",), ("EF…",)]
    assert redeem(db, "line", "Ulate", "EFGH6789", FIXED_NOW) is None  # used stays used
    assert redeem(db, "line", "U2", "ABCD2345", FIXED_NOW).area == FUNA  # 00:30 UTC, before 00:00 UTC next day


def test_guessing_codes_is_held_after_five_failures(people):
    app = people
    code = create_invite(app.db, "staff", CHIBA, app.clock())
    for i in range(5):
        assert say(app, f"登録 WRONG{i:03d}", "Uguess") == messages.REGISTER_BAD
    held = say(app, f"登録 {code}", "Uguess")  # even the right code: the tries are held
    assert "以降にもう一度" in held and "11月24日 09:45" in held
    assert get_user(app.db, "line", "Uguess") is None
    app.clock.now = FIXED_NOW + timedelta(minutes=15, seconds=1)
    assert "登録しました" in say(app, f"登録 {code}", "Uguess")


def test_one_code_tried_by_many_accounts_is_held(people):
    app = people
    code = create_invite(app.db, "staff", CHIBA, app.clock())
    redeem(app.db, "line", "Ufirst", code, app.clock())
    for i in range(5):  # five accounts, one try each, at a code already used
        assert say(app, f"登録 {code}", f"Usock{i}") == messages.REGISTER_BAD
    assert "以降にもう一度" in say(app, f"登録 {code}", "Usock9")


# -- the console: sign-in ------------------------------------------------------------------------------
@pytest.fixture
def con(people):
    return create_app(people.db, people.clock, Settings.from_env({"NIMO_PUBLIC_URL": PUBLIC}))


def test_login_from_another_site_is_refused(people, con):
    db, clock = people.db, people.clock
    token = auth.new_link(db, "line", "Ufuna", clock())  # the attacker's own link
    attacker = con.test_client()
    form = re.search(r'name="form" value="([^"]+)"', attacker.get(f"/login/{token}").get_data(as_text=True)).group(1)
    victim = con.test_client()
    for headers, data in (({"Origin": "https://evil.example"}, {"form": form}),
                          ({"Origin": "null", "Sec-Fetch-Site": "cross-site"}, {"form": form}),
                          ({}, {"form": form}),
                          ({"Origin": PUBLIC}, {"form": form}),  # the attacker's form, not this browser's page
                          ({"Origin": PUBLIC}, {})):
        r = victim.post(f"/login/{token}", data=data, headers=headers)
        assert r.status_code in (400, 403), headers
        assert "nimo_console=" not in " ".join(r.headers.getlist("Set-Cookie"))
        assert "ログイン" in r.get_data(as_text=True)
    assert victim.get("/reports").status_code == 302
    assert auth.check_link(db, token, clock()) == "ok"  # nothing spent: the owner can still use it
    shown = victim.get(f"/login/{token}").get_data(as_text=True)
    own = re.search(r'name="form" value="([^"]+)"', shown).group(1)
    r = victim.post(f"/login/{token}", data={"form": own}, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 303  # our own page, under no-referrer: Origin null but same-origin


def test_signing_in_again_ends_the_earlier_session(people, con):
    first = con.test_client()
    assert sign_in(first, auth.new_link(people.db, "line", "Usv", people.clock())).status_code == 303
    assert first.get("/reports").status_code == 200
    second = con.test_client()
    assert sign_in(second, auth.new_link(people.db, "line", "Usv", people.clock())).status_code == 303
    assert first.get("/reports").headers["Location"].endswith("/signin")
    assert second.get("/reports").status_code == 200


def test_peer_cannot_get_into_the_console_whatever_made_the_link(people, con, nimo):
    add_user(people.db, "line", "Upeer", "peer", CHIBA, FIXED_NOW)
    token = auth.new_link(people.db, "line", "Upeer", people.clock())  # as the CLI used to
    c = con.test_client()
    for r in (c.get(f"/login/{token}"), sign_in(c, token)):
        assert r.status_code == 403 and messages.PEER_NO_CONSOLE in r.get_data(as_text=True)
        assert "nimo_console=" not in " ".join(r.headers.getlist("Set-Cookie"))
    assert c.get("/reports").status_code == 302
    sid = auth.start_session(people.db, get_user(people.db, "line", "Upeer"), people.clock())
    c.set_cookie("nimo_console", sid)  # a session somehow made: refused on every request
    assert c.get("/reports").headers["Location"].endswith("/signin")
    upeer = "U" + "ee" * 16
    nimo("users", "add", "--platform", "line", "--id", upeer, "--role", "peer", "--area", CHIBA)
    bad = nimo("console", "link", "--platform", "line", "--id", upeer, check=False)
    assert bad.returncode != 0 and messages.CONSOLE_LINK_PEER in bad.stderr and "Traceback" not in bad.stderr
    assert "/console/login/" not in bad.stdout


def test_huge_ids_in_console_urls_are_not_found(people, con):
    c = con.test_client()
    assert sign_in(c, auth.new_link(people.db, "line", "Uadmin", people.clock())).status_code == 303
    for path in ("/reports/99999999999999999999", "/proposals/99999999999999999999", "/photos/99999999999999999999",
                 "/reports/9223372036854775808", "/reports/" + "9" * 5000):
        assert c.get(path).status_code == 404, path


# -- the console: supervisors act on their own area --------------------------------------------------
def test_supervisor_sees_only_their_areas_gaps(people, con):
    app = people
    log_gap(app, "line", "船橋の田中さんの件で退院後の住まい", "no_match", user="Ufuna")
    log_gap(app, "line", "千葉でひきこもりの家族教室", "no_match", user="Uchiba")
    c = con.test_client()
    assert sign_in(c, auth.new_link(app.db, "line", "Usv", app.clock())).status_code == 303
    body = c.get("/gaps").get_data(as_text=True)
    assert "ひきこもりの家族教室" in body and "退院後の住まい" not in body
    key = app.db.execute("SELECT key FROM gaps WHERE area = ?", [FUNA]).fetchone()[0]
    token = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    c.post("/gaps", data={"csrf": token, "kind": "gap", "key": key})
    assert app.db.execute("SELECT COUNT(*) FROM gaps_handled").fetchone()[0] == 0
    admin = con.test_client()
    assert sign_in(admin, auth.new_link(app.db, "line", "Uadmin", app.clock())).status_code == 303
    body = admin.get("/gaps").get_data(as_text=True)
    assert "ひきこもりの家族教室" in body and "退院後の住まい" in body


CASE = ("id: funa-01\npart: 2\nsection: 住まい\ntitle: 空き家を借り上げた体験宿泊\narea: 千葉県船橋市\n"
        "prefecture: 千葉県\nlevel: 市町村\nkeywords: [住まい]\nactions: [空き家を借り上げた]\nsource: 船橋市 独自事例\n")


def test_supervisor_cannot_withdraw_another_areas_local_case(people, con):
    db = people.db
    funa = con.test_client()
    assert sign_in(funa, auth.new_link(db, "line", "Usvfuna", people.clock())).status_code == 303
    t = re.search(r'name="csrf" value="([^"]+)"', funa.get("/cases/new").get_data(as_text=True)).group(1)
    r = funa.post("/cases/upload", data={"csrf": t, "file": (io.BytesIO(CASE.encode()), "c.yaml")},
                  content_type="multipart/form-data")
    assert r.status_code == 303, r.get_data(as_text=True)
    chiba = con.test_client()
    assert sign_in(chiba, auth.new_link(db, "line", "Usv", people.clock())).status_code == 303
    assert "取り下げ" not in chiba.get("/cases/c/funa-01").get_data(as_text=True)
    t2 = re.search(r'name="csrf" value="([^"]+)"', chiba.get("/cases").get_data(as_text=True)).group(1)
    assert chiba.post("/cases/c/funa-01/withdraw", data={"csrf": t2}).status_code == 403
    assert db.execute("SELECT area FROM local_cases WHERE id = 'funa-01'").fetchall() == [(FUNA,)]
    assert funa.post("/cases/c/funa-01/withdraw", data={"csrf": t}).status_code == 303
    assert db.execute("SELECT COUNT(*) FROM local_cases").fetchone()[0] == 0


def test_the_console_lists_invites_by_hint_and_revokes_them_without_their_code(people, con):
    code = create_invite(people.db, "admin", "千葉県", people.clock(), created_by="line:Uadmin")
    c = con.test_client()
    assert sign_in(c, auth.new_link(people.db, "line", "Uadmin", people.clock())).status_code == 303
    body = c.get("/users").get_data(as_text=True)
    assert code not in body and f"{code[:2]}…" in body
    invite = re.search(r'name="invite" value="(\d+)"', body).group(1)
    token = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    assert "無効にしました" in c.post("/users", data={"csrf": token, "op": "revoke", "invite": invite}).get_data(as_text=True)
    assert say(people, f"登録 {code}", "Unew") == messages.REGISTER_BAD
    [(hint,)] = people.db.execute("SELECT detail FROM access_log WHERE action = 'invite_revoke'").fetchall()
    assert hint == f"{code[:2]}…"


# -- a code pasted into a group without calling Nimo (as people paste an invitation) -----------------
def test_a_code_pasted_into_a_line_group_without_calling_nimo_is_revoked(tmp_path, index):
    """The attack as it was made: the admin code pasted into a LINE group, Nimo not called by name,
    a signed webhook through the real web app and worker; the group is told, the code is dead."""
    from .fakes import LineStandIn, SlackStandIn
    from .test_web import Stack, text_event
    with LineStandIn() as line, SlackStandIn() as slack:
        s = Stack(tmp_path, index, line, slack)
        try:
            code = create_invite(s.app.db, "admin", "千葉県", s.app.clock(), created_by="cli")
            group = {"type": "group", "groupId": "C" + "1" * 32, "userId": "Upaster"}
            assert s.line_post([text_event(f"これで登録してね　登録　{code}", source=group)]) == 200
            assert line.wait_for(lambda l: l.delivered, timeout=10)
            assert messages.INVITE_SEEN_IN_GROUP in line.delivered[-1]["messages"][0]["text"]
            assert s.line_post([text_event(f"登録 {code}", user="Umember")]) == 200
            assert line.wait_for(lambda l: len(l.delivered) >= 2, timeout=10)
            assert get_user(s.app.db, "line", "Umember") is None
            before = len(line.delivered)
            assert s.line_post([text_event("明日の会議は10時からです", source=group)]) == 200
            s.wait()
            assert len(line.delivered) == before  # people talking to each other are not answered
        finally:
            s.stop()


@pytest.mark.parametrize("text, read", [("登録 ABCD2345", "登録 ABCD2345"), ("登録　ＡＢＣＤ２３４５", "登録 ABCD2345"),
                                        ("これで登録してね 登録:abcd2345 よろしく", "登録 abcd2345"),
                                        ("にも 家族教室", "家族教室"), ("登録はまだです", None), ("明日の会議", None)])
def test_line_works_and_line_read_a_pasted_code_in_a_room_and_nothing_else(text, read):
    from bot.adapters import lineworks
    ev = lineworks.read_event({"type": "message", "source": {"userId": "u1", "channelId": "ch1"},
                               "content": {"type": "text", "text": text}, "createdTime": "2026-11-24T00:00:00Z"})
    assert (ev.incoming.text if ev.kind == "message" else None) == read
