"""The web console (bot/console) through Flask's test client: every security rule, scoping by
role, the filters and their mistakes, downloads, cases, gaps, visits and users.

Real parts: our code, SQLite, Flask and openpyxl.  The clock is injected (tests/conftest.py)."""
from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone

import pytest

from bot.config import Settings
from bot.reports import records as rp
from bot.people.access import add_user, create_invite, get_user, redeem
from bot.console import auth, create_app
from bot.chat.core import Incoming
from storage.connections import open_db
from storage.migrations import MIGRATIONS, migrate

from .conftest import FIXED_NOW, ROOT
from .console_signin import sign_in

PUBLIC = "https://nimo.example.jp"


class Console:
    """The console app over a database, with helpers to sign in as a registered user."""

    def __init__(self, db, clock, public=PUBLIC):
        self.db, self.clock = db, clock
        self.app = create_app(db, clock, Settings.from_env({"NIMO_PUBLIC_URL": public}))

    def client(self, platform="line", user=None):
        c = self.app.test_client()
        if user:
            token = auth.new_link(self.db, platform, user, self.clock())
            r = sign_in(c, token)
            assert r.status_code == 303, r.data
        return c

    def csrf(self, client, path="/reports") -> str:
        return re.search(r'name="csrf" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def report(db, author, area, day, summary="服薬確認できた", rtype="訪問", platform="line", key=None, now=FIXED_NOW):
    d = rp.Draft(type=rtype, date=day, case_code="K-012", area=area, summary=summary)
    rid, _ = rp.save(db, d, platform=platform, author=author, source_key=key or f"k{author}{day}{summary}{rtype}",
                     now=now)
    return rid


@pytest.fixture
def con(clock):
    db = open_db(":memory:")
    for uid, role, area in (("Ustaff", "staff", "千葉市"), ("Ustaff2", "staff", "千葉市"), ("Usv", "supervisor", "千葉市"),
                            ("Ufuna", "staff", "船橋市"), ("Uadmin", "admin", "千葉県")):
        add_user(db, "line", uid, role, area, FIXED_NOW)
    return Console(db, clock)


def page(r) -> str:
    return r.get_data(as_text=True)


# -- sign-in -------------------------------------------------------------------------------------
def test_console_link_in_a_one_to_one_chat(app):
    app.settings = Settings.from_env({"NIMO_PUBLIC_URL": PUBLIC})
    add_user(app.db, "line", "Ustaff", "staff", "千葉市", FIXED_NOW)
    text = app.handle(Incoming("line", "Ustaff", "Ustaff", "管理画面"))[0].text
    url = re.search(r"https://\S+", text).group(0)
    assert url.startswith(f"{PUBLIC}/console/login/") and "10分" in text
    assert auth.check_link(app.db, url.rsplit("/", 1)[1], app.clock()) == "ok"


def test_console_link_refused_in_a_group_and_to_strangers(app):
    app.settings = Settings.from_env({"NIMO_PUBLIC_URL": PUBLIC})
    add_user(app.db, "line", "Ustaff", "staff", "千葉市", FIXED_NOW)
    group = app.handle(Incoming("line", "Ustaff", "Cgroup", "管理画面", direct=False))[0].text
    assert "1対1のトークでだけ使えます" in group and "http" not in group
    assert "登録" in app.handle(Incoming("line", "Unobody", "Unobody", "管理画面"))[0].text
    assert app.db.execute("SELECT COUNT(*) FROM console_links").fetchone()[0] == 0


def test_console_link_without_a_public_url_says_so(app):
    app.settings = Settings.from_env({})
    add_user(app.db, "line", "Ustaff", "staff", "千葉市", FIXED_NOW)
    assert "NIMO_PUBLIC_URL" in app.handle(Incoming("line", "Ustaff", "Ustaff", "管理画面"))[0].text


def test_opening_a_link_spends_nothing_until_the_button(con):
    token = auth.new_link(con.db, "line", "Usv", con.clock())
    c = con.app.test_client()
    for _ in range(2):  # a link preview fetching it does not use it up
        assert c.get(f"/login/{token}").status_code == 200
    r = sign_in(c, token)
    assert r.status_code == 303 and r.headers["Location"].endswith("/reports")
    assert c.get("/reports").status_code == 200


def test_used_expired_and_forged_links_get_a_japanese_page_and_no_session(con):
    used = auth.new_link(con.db, "line", "Usv", con.clock())
    sign_in(con.app.test_client(), used)
    old = auth.new_link(con.db, "line", "Usv", con.clock())
    con.clock.now = FIXED_NOW + timedelta(minutes=10, seconds=1)
    for token, said in ((used, "もう使われています"), (old, "有効期限"), ("x" * 43, "使えません"),
                        ("<script>", "使えません")):
        c = con.app.test_client()
        for r in (c.get(f"/login/{token}"), c.post(f"/login/{token}")):
            assert said in page(r) and r.status_code in (404, 410)
            assert "Set-Cookie" not in r.headers
            assert "「管理画面」と送ると" in page(r)


def test_a_link_of_a_removed_user_does_not_work(con):
    token = auth.new_link(con.db, "line", "Ustaff", con.clock())
    con.db.execute("DELETE FROM users WHERE user_id = 'Ustaff'")
    assert "使えません" in page(con.app.test_client().post(f"/login/{token}"))


def test_session_cookie_is_httponly_lax_secure_for_https_and_lasts_eight_hours(con, clock):
    token = auth.new_link(con.db, "line", "Usv", clock())
    cookie = session_cookie(sign_in(con.app.test_client(), token))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie and "Max-Age=28800" in cookie
    plain = Console(con.db, clock, public="http://localhost:8000")
    token = auth.new_link(con.db, "line", "Usv", clock())
    assert "Secure" not in session_cookie(sign_in(plain.app.test_client(), token, origin="http://localhost:8000"))


def session_cookie(r) -> str:
    [cookie] = [c for c in r.headers.getlist("Set-Cookie") if c.startswith("nimo_console=")]
    return cookie


def test_a_session_ends_after_eight_hours_and_on_logout(con):
    c = con.client(user="Usv")
    con.clock.now = FIXED_NOW + timedelta(hours=7, minutes=59)
    assert c.get("/reports").status_code == 200
    con.clock.now = FIXED_NOW + timedelta(hours=8, minutes=1)
    assert c.get("/reports").headers["Location"].endswith("/signin")
    con.clock.now = FIXED_NOW
    c = con.client(user="Usv")
    sid = c.get_cookie("nimo_console").value
    r = c.post("/logout", data={"csrf": con.csrf(c)})
    assert "ログアウトしました" in page(r)
    again = con.app.test_client()
    again.set_cookie("nimo_console", sid)  # the old cookie, kept by someone: no longer works
    assert again.get("/reports").headers["Location"].endswith("/signin")


def test_without_a_session_every_page_sends_to_the_explanation(con):
    c = con.app.test_client()
    for path in ("/", "/reports", "/reports/1", "/reports/export.csv", "/visits", "/gaps", "/cases", "/users",
                 "/access", "/cases/new", "/proposals", "/proposals/1", "/photos/1", "/reports/chart.png"):
        r = c.get(path)
        assert r.status_code == 302 and r.headers["Location"].endswith("/signin"), path
    r = c.post("/cases/new", data={"id": "x"})
    assert r.headers["Location"].endswith("/signin")
    explained = page(c.get("/signin"))
    assert "1対1のトーク" in explained and "「<strong>管理画面</strong>」" in explained


def test_a_removed_user_or_changed_role_takes_effect_on_the_next_click(con):
    c = con.client(user="Uadmin")
    assert c.get("/users").status_code == 200
    add_user(con.db, "line", "Uadmin", "supervisor", "千葉県", FIXED_NOW)
    assert c.get("/users").status_code == 403
    con.db.execute("DELETE FROM users WHERE user_id = 'Uadmin'")
    assert c.get("/reports").status_code == 302


# -- CSRF, escaping, headers --------------------------------------------------------------------
def test_forms_without_the_csrf_token_change_nothing(con):
    c = con.client(user="Uadmin")
    for data in ({}, {"csrf": "forged-token-value"}):
        r = c.post("/users", data={**data, "op": "update", "platform": "line", "user_id": "Ustaff", "role": "admin",
                                   "area": "千葉市"})
        assert r.status_code == 400 and "有効期限が切れました" in page(r)
    assert get_user(con.db, "line", "Ustaff").role == "staff"
    r = c.post("/users", data={"csrf": con.csrf(c), "op": "update", "platform": "line", "user_id": "Ustaff",
                               "role": "supervisor", "area": "千葉市"})
    assert r.status_code == 200 and get_user(con.db, "line", "Ustaff").role == "supervisor"


def test_another_sessions_csrf_token_is_refused(con):
    a, b = con.client(user="Uadmin"), con.client(user="Usv")  # one user has one session (signing in ends the other)
    r = a.post("/users", data={"csrf": con.csrf(b), "op": "remove", "platform": "line", "user_id": "Ustaff"})
    assert r.status_code == 400 and get_user(con.db, "line", "Ustaff") is not None


def test_templates_escape_what_users_typed(con):
    rid = report(con.db, "Ustaff", "千葉市", "2026-11-20", summary='<script>alert(1)</script><img src=x onerror=1>')
    c = con.client(user="Usv")
    for path in ("/reports", f"/reports/{rid}"):
        body = page(c.get(path))
        assert "<script>alert" not in body and "<img src=x" not in body and "&lt;script&gt;alert(1)" in body


def test_security_headers_and_no_caching_of_pages(con):
    r = con.client(user="Usv").get("/reports")
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert "script-src" not in r.headers["Content-Security-Policy"]  # default-src 'self': no inline scripts
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Referrer-Policy"] == "no-referrer"


# -- reports: scope, filters, downloads ------------------------------------------------------------
@pytest.fixture
def many(con):
    ids = {
        "mine": report(con.db, "Ustaff", "千葉市", "2026-11-20"),
        "mine_old": report(con.db, "Ustaff", "千葉市", "2026-10-01", rtype="電話"),
        "colleague": report(con.db, "Ustaff2", "千葉市", "2026-11-21"),
        "funa": report(con.db, "Ufuna", "船橋市", "2026-11-22"),
    }
    return ids


def numbers(body: str) -> set[str]:
    return set(re.findall(r">(R-\d{6})<", body))


def test_staff_see_their_own_reports_supervisors_the_area_admins_all(con, many):
    n = {k: rp.number(v) for k, v in many.items()}
    assert numbers(page(con.client(user="Ustaff").get("/reports"))) == {n["mine"], n["mine_old"]}
    assert numbers(page(con.client(user="Usv").get("/reports"))) == {n["mine"], n["mine_old"], n["colleague"]}
    assert numbers(page(con.client(user="Uadmin").get("/reports"))) == set(n.values())


def test_another_area_or_another_persons_report_is_not_found(con, many):
    sv, staff = con.client(user="Usv"), con.client(user="Ustaff")
    assert sv.get(f"/reports/{many['funa']}").status_code == 404
    assert staff.get(f"/reports/{many['colleague']}").status_code == 404
    assert staff.get(f"/reports/{many['funa']}").status_code == 404
    assert staff.get("/reports/999999").status_code == 404
    assert sv.get(f"/reports/{many['colleague']}").status_code == 200
    # a supervisor cannot widen the area through the query string either
    assert rp.number(many["funa"]) not in page(sv.get("/reports?area=船橋市"))
    assert rp.number(many["funa"]) not in page(sv.get("/reports/export.csv?area=船橋市"))


def test_reports_newest_first_and_filtered(con, many):
    c = con.client(user="Uadmin")
    body = page(c.get("/reports"))
    order = re.findall(r">(R-\d{6})<", body)
    assert order == [rp.number(many[k]) for k in ("funa", "colleague", "mine", "mine_old")]
    assert numbers(page(c.get("/reports?area=船橋市"))) == {rp.number(many["funa"])}
    assert numbers(page(c.get("/reports?type=電話"))) == {rp.number(many["mine_old"])}
    assert numbers(page(c.get("/reports?since=2026-11-21&until=2026-11-21"))) == {rp.number(many["colleague"])}
    key = re.search(r'<option value="([0-9a-f]{16})"[^>]*>line:Ustaff2', page(c.get("/reports?area=千葉市"))).group(1)
    assert numbers(page(c.get(f"/reports?area=千葉市&author={key}"))) == {rp.number(many["colleague"])}


def test_no_user_id_or_report_text_in_any_link(con, many):
    body = page(con.client(user="Uadmin").get("/reports?area=千葉市"))
    for href in re.findall(r'(?:href|src|action)="([^"]*)"', body):
        assert "Ustaff" not in href and "服薬" not in href


@pytest.mark.parametrize("query, said", [
    ("since=2026-11-30&until=2026-11-01", "入れ替えてください"),
    ("since=11/30", "日付が読めません"),
    ("type=散歩", "一覧から選んで"),
    ("author=0123456789abcdef", "その報告者は選べません"),
    ("area=" + "あ" * 101, "100字以内"),
    ("page=0", "1以上の数字"),
    ("page=abc", "1以上の数字"),
])
def test_bad_filters_get_a_japanese_message_on_the_same_page_and_no_rows(con, many, query, said):
    r = con.client(user="Uadmin").get(f"/reports?{query}")
    assert r.status_code == 200 and said in page(r) and not numbers(page(r))
    assert "絞り込む" in page(r)  # the same page, with its form


def test_a_page_out_of_range_says_so_and_shows_the_first(con, many):
    body = page(con.client(user="Uadmin").get("/reports?page=7"))
    assert "7ページ目はありません（全1ページ）" in body and len(numbers(body)) == 4


def test_paging_fifty_a_page(con):
    for i in range(120):
        report(con.db, "Ustaff", "千葉市", (date(2026, 8, 1) + timedelta(days=i)).isoformat(), key=f"p{i}")
    c = con.client(user="Usv")
    first, third = page(c.get("/reports")), page(c.get("/reports?page=3"))
    assert len(numbers(first)) == 50 and len(numbers(third)) == 20 and "3 / 3 ページ" in third
    assert not numbers(first) & numbers(third)


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_and_xlsx_hold_exactly_the_filtered_rows(con, many):
    from openpyxl import load_workbook
    c = con.client(user="Usv")
    r = c.get("/reports/export.csv?since=2026-11-01")
    assert r.status_code == 200 and r.headers["Content-Disposition"].startswith("attachment")
    rows = read_csv(r.data)
    assert rows[0][:3] == ["番号", "日付", "種類"]
    assert [x[0] for x in rows[1:]] == [rp.number(many["colleague"]), rp.number(many["mine"])]
    x = c.get("/reports/export.xlsx?since=2026-11-01")
    ws = load_workbook(io.BytesIO(x.data)).active
    assert [row[0] for row in ws.iter_rows(min_row=2, values_only=True)] == [x[0] for x in rows[1:]]
    mine = read_csv(con.client(user="Ustaff").get("/reports/export.csv").data)
    assert {x[0] for x in mine[1:]} == {rp.number(many["mine"]), rp.number(many["mine_old"])}


def test_a_download_with_a_bad_filter_sends_nothing(con, many):
    r = con.client(user="Uadmin").get("/reports/export.csv?since=2026-12-01&until=2026-11-01")
    assert r.status_code == 400 and "入れ替えてください" in page(r) and "R-0" not in page(r)


def test_report_page_has_text_audit_trail_and_photos(tmp_path, clock):
    from storage.connections import PerThreadDB
    db = PerThreadDB(tmp_path / "nimo.db")
    add_user(db, "line", "Ustaff", "staff", "千葉市", FIXED_NOW)
    add_user(db, "line", "Usv", "supervisor", "千葉市", FIXED_NOW)
    add_user(db, "line", "Ufuna", "supervisor", "船橋市", FIXED_NOW)
    (tmp_path / "photos").mkdir()
    photo = tmp_path / "photos" / "a.png"
    from bot.reports.photos import strip_metadata
    from .test_photos import png_with_metadata
    photo.write_bytes(strip_metadata(png_with_metadata()))  # the console sends only a photo it can check
    d = rp.Draft(type="訪問", date="2026-11-20", case_code="K-012", area="千葉市", summary="表情明るい", photos=(str(photo),))
    rid, _ = rp.save(db, d, platform="line", author="Ustaff", source_key="s1", now=FIXED_NOW)
    rp.update(db, rid, rp.Draft(type="訪問", date="2026-11-20", case_code="K-012", area="千葉市", summary="表情とても明るい"),
              by="line:Ustaff", now=FIXED_NOW + timedelta(hours=1))
    con = Console(db, clock)
    c = con.client(user="Usv")
    body = page(c.get(f"/reports/{rid}"))
    assert "表情とても明るい" in body and "作成" in body and "修正" in body and "<del>表情明るい</del>" in body
    pid = db.execute("SELECT id FROM report_photos").fetchone()[0]
    assert f"/photos/{pid}" in body
    r = c.get(f"/photos/{pid}")
    assert r.status_code == 200 and r.data == photo.read_bytes() and r.mimetype == "image/png"
    assert con.client(user="Ufuna").get(f"/photos/{pid}").status_code == 404
    db.execute("UPDATE report_photos SET path = '/etc/passwd'")  # a path outside the photo folder is never sent
    assert c.get(f"/photos/{pid}").status_code == 404


def test_weekly_summary_and_chart_on_the_reports_page(con, many):
    body = page(con.client(user="Usv").get("/reports"))
    # last week (Mon 11/16 to Sun 11/22): Ustaff's 11/20 and Ustaff2's 11/21 in 千葉市; 船橋市's is not in scope
    assert "先週のまとめ（2026/11/16（月）〜2026/11/22（日））" in body and "<strong>2件</strong>" in body
    png = con.client(user="Usv").get("/reports/chart.png")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    assert "グラフの色" in body


# -- the access log ----------------------------------------------------------------------------------
def test_views_downloads_and_changes_are_logged_and_the_log_cannot_be_edited(con, many):
    c = con.client(user="Usv")
    c.get(f"/reports/{many['mine']}")
    c.get("/reports/export.csv?type=訪問")
    a = con.client(user="Uadmin")
    a.post("/users", data={"csrf": con.csrf(a), "op": "update", "platform": "line", "user_id": "Ustaff",
                           "role": "staff", "area": "船橋市", "display_name": ""})
    rows = con.db.execute("SELECT who, action, target, detail FROM access_log ORDER BY id").fetchall()
    assert ("line:Usv", "view_report", rp.number(many["mine"]), None) in rows
    assert any(w == "line:Usv" and act == "download_csv" and "type=訪問" in d and "rows=2" in d for w, act, _, d in rows)
    assert any(w == "line:Uadmin" and act == "user_update" and "area=船橋市" in d for w, act, _, d in rows)
    assert not any("Ustaff" in (t or "") + (d or "") for _, _, t, d in rows)  # ids are keyed, not written
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.db.execute("UPDATE access_log SET who = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.db.execute("DELETE FROM access_log")
    body = page(a.get("/access"))
    assert "報告を開いた" in body and "CSV に書き出した" in body
    assert con.client(user="Usv").get("/access").status_code == 403


def test_the_access_log_reads_as_names_and_japanese_not_ids_and_codes(con, many):
    """An admin reads who did what in words: a name (or role and area), a Japanese action, details
    without ``key=value`` or a first page; the stored rows stay terse for scripts."""
    from bot.people.access import set_display_name
    set_display_name(con.db, "line", "Usv", "田中（保健所）")
    c = con.client(user="Usv")
    c.get("/reports?area=千葉市&type=訪問")
    a = con.client(user="Uadmin")
    a.post("/users", data={"csrf": con.csrf(a), "op": "update", "platform": "line", "user_id": "Ustaff",
                           "role": "supervisor", "area": "船橋市", "display_name": ""})
    body = page(a.get("/access"))
    assert "田中（保健所）" in body and "報告一覧を見た" in body and "地域：千葉市" in body and "種類：訪問" in body
    assert "利用者の設定を変えた" in body and "権限：スーパーバイザー" in body and "地域：船橋市" in body
    assert "スーパーバイザー・船橋市（LINE）" in body  # the changed user, named by role and area
    for raw in ("line:U", "view_reports", "user_update", "page=1", "area=", "role="):
        assert raw not in body
    stored = con.db.execute("SELECT who, action, detail FROM access_log WHERE action = 'view_reports'").fetchone()
    assert stored[0] == "line:Usv" and "area=千葉市" in stored[2]


def test_every_action_the_console_records_has_a_japanese_label():
    """A new ``ctx.log("…")`` without a label would show its code to the admin."""
    import re
    from bot.console import text
    from tests.conftest import ROOT
    used = set()
    for path in (ROOT / "bot" / "console").glob("*.py"):
        used |= set(re.findall(r'ctx\.log\(f?"([a-z_{}]+)"', path.read_text(encoding="utf-8")))
    used = {u for u in used if "{" not in u} | {"download_csv", "download_xlsx", "login"}
    assert used and used <= set(text.ACTION_LABELS), used - set(text.ACTION_LABELS)


# -- roles on every page -------------------------------------------------------------------------
@pytest.mark.parametrize("user, path, status", [
    ("Ustaff", "/users", 403), ("Usv", "/users", 403), ("Uadmin", "/users", 200),
    ("Ustaff", "/access", 403), ("Uadmin", "/access", 200),
    ("Ustaff", "/gaps", 403), ("Usv", "/gaps", 200),
    ("Ustaff", "/cases/new", 403), ("Usv", "/cases/new", 200),
    ("Ustaff", "/cases", 200), ("Ustaff", "/visits", 200),
    ("Ustaff", "/proposals", 403), ("Usv", "/proposals", 200), ("Uadmin", "/proposals", 200),
])
def test_each_page_checks_the_role_on_the_server(con, user, path, status):
    r = con.client(user=user).get(path)
    assert r.status_code == status
    if status == 403:
        assert "権限がありません" in page(r)


def test_staff_cannot_post_to_curator_or_admin_forms(con):
    c = con.client(user="Ustaff")
    token = con.csrf(c)
    assert c.post("/users", data={"csrf": token, "op": "remove", "platform": "line", "user_id": "Usv"}).status_code == 403
    assert c.post("/cases/new", data={"csrf": token, "id": "x"}).status_code == 403
    assert c.post("/gaps", data={"csrf": token, "kind": "gap", "key": "x"}).status_code == 403
    assert get_user(con.db, "line", "Usv") is not None


# -- users and invites ---------------------------------------------------------------------------------
def test_admin_changes_role_area_and_name_and_removes(con):
    c = con.client(user="Uadmin")
    t = con.csrf(c, "/users")
    r = c.post("/users", data={"csrf": t, "op": "update", "platform": "line", "user_id": "Ustaff", "role": "supervisor",
                               "area": "船橋市", "display_name": "佐藤（保健師）"})
    assert "保存しました" in page(r)
    assert get_user(con.db, "line", "Ustaff") == get_user(con.db, "line", "Ustaff").__class__(
        "line", "Ustaff", "supervisor", "船橋市")
    assert "佐藤（保健師）" in page(c.get("/users"))
    r = c.post("/users", data={"csrf": t, "op": "remove", "platform": "line", "user_id": "Ustaff"})
    assert "登録の解除" in page(r) and get_user(con.db, "line", "Ustaff") is not None  # asked first
    r = c.post("/users", data={"csrf": t, "op": "remove", "confirm": "yes", "handover": "none", "platform": "line",
                               "user_id": "Ustaff"})
    assert "登録を解除しました" in page(r) and get_user(con.db, "line", "Ustaff") is None


@pytest.mark.parametrize("form, said", [
    ({"op": "update", "user_id": "Usv", "role": "boss", "area": "千葉市"}, "一覧から選んで"),
    ({"op": "update", "user_id": "Usv", "role": "staff", "area": ""}, "地域を入れて"),
    ({"op": "update", "user_id": "Usv", "role": "staff", "area": "あ" * 51}, "50字以内"),
    ({"op": "update", "user_id": "Unobody", "role": "staff", "area": "x"}, "登録されていません"),
    ({"op": "update", "user_id": "Uadmin", "role": "staff", "area": "x"}, "自分自身"),
    ({"op": "remove", "user_id": "Uadmin"}, "自分自身"),
    ({"op": "invite", "role": "staff", "area": "x", "days": "0"}, "1〜90"),
])
def test_user_form_mistakes_change_nothing(con, form, said):
    c = con.client(user="Uadmin")
    before = con.db.execute("SELECT * FROM users ORDER BY user_id").fetchall()
    r = c.post("/users", data={"csrf": con.csrf(c, "/users"), "platform": "line", **form})
    assert said in page(r)
    assert con.db.execute("SELECT * FROM users ORDER BY user_id").fetchall() == before
    assert con.db.execute("SELECT COUNT(*) FROM invites").fetchone()[0] == 0


def test_admin_creates_and_revokes_invites_including_admin_ones(con, clock):
    c = con.client(user="Uadmin")
    t = con.csrf(c, "/users")
    body = page(c.post("/users", data={"csrf": t, "op": "invite", "role": "admin", "area": "千葉県", "days": "3"}))
    code = re.search(r"招待コード ([A-Z0-9]{8}) を作りました", body).group(1)
    assert redeem(con.db, "slack", "UNEW", code, clock()).role == "admin"
    other = create_invite(con.db, "staff", "千葉市", clock())
    assert "無効にしました" in page(c.post("/users", data={"csrf": t, "op": "revoke", "code": other}))
    assert redeem(con.db, "line", "Ulate", other, clock()) is None
    assert "無効にできません" in page(c.post("/users", data={"csrf": t, "op": "revoke", "code": other}))


def test_migration_keeps_users_and_invites_and_allows_admin(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for sql in MIGRATIONS[:6]:
        conn.executescript(f"BEGIN; {sql}; COMMIT;")
    conn.execute("PRAGMA user_version = 6")
    conn.execute("INSERT INTO users VALUES ('line', 'U1', 'supervisor', '千葉市', '2026-01-01')")
    conn.execute("INSERT INTO invites VALUES ('ABCD2345', 'staff', '船橋市', '2026-01-01', '2027-01-01', NULL, NULL)")
    conn.close()
    db = open_db(path)
    assert get_user(db, "line", "U1").role == "supervisor"
    assert redeem(db, "line", "U2", "ABCD2345", FIXED_NOW).area == "船橋市"
    add_user(db, "line", "U3", "admin", "千葉県", FIXED_NOW)
    assert migrate(db) == len(MIGRATIONS)


# -- cases -----------------------------------------------------------------------------------------
GOOD = {"id": "chiba-01", "part": "2", "section": "2-(1) 住まいの確保", "title": "空き家を使った体験宿泊",
        "area": "千葉県千葉市", "level": "政令市", "actions": "不動産協会と協定を結んだ\n体験宿泊を始めた",
        "keywords": "住まい\n空き家", "source": "千葉市の取組（令和8年）"}


def test_a_case_with_a_mistake_is_not_saved_and_the_error_is_beside_its_field(con):
    c = con.client(user="Usv")
    r = c.post("/cases/new", data={**GOOD, "csrf": con.csrf(c, "/cases/new"), "title": "", "level": "町内会"})
    body = page(r)
    assert r.status_code == 400 and con.db.execute("SELECT COUNT(*) FROM local_cases").fetchone()[0] == 0
    title = re.search(r'<div class="field bad" id="field-title">(.*?)</div>', body, re.S).group(1)
    assert "必須の項目がありません" in title
    assert "使えません" in re.search(r'id="field-level">(.*?)</div>', body, re.S).group(1)
    assert 'value="空き家を使った' not in body and "不動産協会と協定を結んだ" in body  # what was typed stays


def test_form_limits_and_numbers(con):
    c = con.client(user="Usv")
    body = page(c.post("/cases/new", data={**GOOD, "csrf": con.csrf(c, "/cases/new"), "title": "あ" * 201,
                                           "population": "十万"}))
    assert "200字以内にしてください（いま201字）" in body and "数字で入れてください" in body
    assert con.db.execute("SELECT COUNT(*) FROM local_cases").fetchone()[0] == 0


def test_a_case_added_in_the_console_is_found_in_chat_without_a_restart(con, index, clock):
    from bot.app import build_app
    chat = build_app(db=con.db, clock=clock, index=index)  # the worker, started before the case existed
    add_user(con.db, "line", "Uchat", "staff", "千葉市", FIXED_NOW)
    def found(q):
        return [c.case_id for r in chat.handle(Incoming("line", "Uchat", "Uchat", q)) for c in getattr(r, "cards", ())]
    assert "chiba-01" not in found("空き家を使った体験宿泊")
    c = con.client(user="Usv")
    r = c.post("/cases/new", data={**GOOD, "csrf": con.csrf(c, "/cases/new")})
    assert r.status_code == 303 and "chiba-01" in page(c.get(r.headers["Location"]))
    assert found("空き家を使った体験宿泊")[0] == "chiba-01"
    body = page(c.get("/cases/c/chiba-01"))
    assert "不動産協会と協定を結んだ" in body and "ローカル事例" in body
    r = c.post("/cases/c/chiba-01/withdraw", data={"csrf": con.csrf(c, "/cases/c/chiba-01")})
    assert "取り下げました" in page(c.get(r.headers["Location"]))
    assert "chiba-01" not in found("空き家を使った体験宿泊")
    assert con.db.execute("SELECT id FROM withdrawn_cases").fetchall() == [("chiba-01",)]
    assert c.post("/cases/c/c01/withdraw", data={"csrf": con.csrf(c)}).status_code == 400  # built-in: no


def test_the_first_look_at_the_local_cases_does_not_load_the_index(con, clock):
    """A worker's first message must not read every case record of a saved index (10,000 of them)
    only to learn that nothing changed: an index not loaded yet will be read as the cases are now."""
    from bot.app import build_app
    from bot.chat.casesync import refresh
    chat = build_app(db=con.db, clock=clock)
    assert refresh(chat) is False and chat._index is None
    c = con.client(user="Usv")
    assert c.post("/cases/new", data={**GOOD, "csrf": con.csrf(c, "/cases/new")}).status_code == 303
    assert refresh(chat) is True   # the counter moved: the next search reads the index anew


def _visible(body: str) -> str:
    """What a person reads on the page: the text outside tags, without scripts and styles."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def test_withdrawing_asks_first_lands_on_a_page_and_restoring_brings_the_case_back(con, index, clock):
    from bot.people.access import set_display_name
    from bot.app import build_app
    chat = build_app(db=con.db, clock=clock, index=index)  # the worker, running all along
    add_user(con.db, "line", "Uchat", "staff", "千葉市", FIXED_NOW)
    set_display_name(con.db, "line", "Usv", "佐藤（保健所）")

    def found(q):
        return [c.case_id for r in chat.handle(Incoming("line", "Uchat", "Uchat", q)) for c in getattr(r, "cards", ())]
    c = con.client(user="Usv")
    assert c.post("/cases/new", data={**GOOD, "csrf": con.csrf(c, "/cases/new")}).status_code == 303
    assert found("空き家を使った体験宿泊")[0] == "chiba-01"

    # the case page's button only leads to a confirmation that names the case and says what happens
    assert 'href="/cases/c/chiba-01/withdraw"' in page(c.get("/cases/c/chiba-01"))
    r = c.get("/cases/c/chiba-01/withdraw")
    body = page(r)
    assert r.status_code == 200 and "空き家を使った体験宿泊" in body
    assert "チャットの答えに出なくなります" in body and "元に戻せます" in body
    assert con.db.execute("SELECT id FROM local_cases").fetchall() == [("chiba-01",)]  # looking changes nothing
    assert c.post("/cases/c/chiba-01/withdraw").status_code == 400  # no CSRF token: refused
    assert "ローカル事例" in page(c.get("/cases/c/c01/withdraw"))  # a case of the guide: told why not
    assert c.get("/cases/c/nope/withdraw").status_code == 404
    assert con.db.execute("SELECT id FROM local_cases").fetchall() == [("chiba-01",)]

    r = c.post("/cases/c/chiba-01/withdraw", data={"csrf": con.csrf(c, "/cases/c/chiba-01/withdraw")})
    assert r.status_code == 303
    landed = c.get(r.headers["Location"])
    body = page(landed)
    assert landed.status_code == 200 and "「空き家を使った体験宿泊」を取り下げました" in body
    assert 'href="/cases/withdrawn"' in body
    assert "chiba-01" not in found("空き家を使った体験宿泊")
    old = c.get("/cases/c/chiba-01")  # the old address (a bookmark, the back button): not a bare 404
    assert old.status_code == 303 and old.headers["Location"] == r.headers["Location"].split("?")[0]

    listed = _visible(page(c.get("/cases/withdrawn")))
    assert "空き家を使った体験宿泊" in listed and "佐藤（保健所）" in listed and "元に戻す" in listed
    assert "2026/11/24 09:30" in listed and "line:" not in listed and "Usv" not in listed
    key = re.search(r'href="/cases/withdrawn/(\d+)"', page(c.get("/cases/withdrawn"))).group(1)
    confirm = page(c.get(f"/cases/withdrawn/{key}"))
    assert "元に戻すと、チャットの答えにまた出る" in confirm

    token = con.csrf(c, f"/cases/withdrawn/{key}")
    r = c.post(f"/cases/withdrawn/{key}/restore", data={"csrf": token, "case": "another-case"})
    assert r.status_code == 409 and con.db.execute("SELECT COUNT(*) FROM local_cases").fetchone()[0] == 0
    r = c.post(f"/cases/withdrawn/{key}/restore", data={"csrf": token, "case": "chiba-01"})
    assert r.status_code == 303 and "「空き家を使った体験宿泊」を元に戻しました" in page(c.get(r.headers["Location"]))
    assert con.db.execute("SELECT id, area FROM local_cases").fetchall() == [("chiba-01", "千葉市")]
    assert con.db.execute("SELECT COUNT(*) FROM withdrawn_cases").fetchone()[0] == 0
    assert "空き家を使った体験宿泊" not in page(c.get("/cases/withdrawn"))
    assert found("空き家を使った体験宿泊")[0] == "chiba-01"  # the worker sees it again, nothing restarted
    assert con.db.execute("SELECT action, target FROM access_log WHERE action LIKE '%_case' ORDER BY id").fetchall() == [
        ("add_case", "chiba-01"), ("withdraw_case", "chiba-01"), ("restore_case", "chiba-01")]


def test_another_areas_supervisor_neither_sees_nor_restores_a_withdrawn_case(con):
    add_user(con.db, "line", "Usvfuna", "supervisor", "船橋市", FIXED_NOW)
    c = con.client(user="Usv")
    c.post("/cases/new", data={**GOOD, "csrf": con.csrf(c, "/cases/new")})
    c.post("/cases/c/chiba-01/withdraw", data={"csrf": con.csrf(c, "/cases/c/chiba-01/withdraw")})
    key = con.db.execute("SELECT rowid FROM withdrawn_cases").fetchone()[0]

    other = con.client(user="Usvfuna")
    assert "空き家を使った体験宿泊" not in page(other.get("/cases/withdrawn"))
    assert other.get(f"/cases/withdrawn/{key}").status_code == 404
    assert other.get("/cases/c/chiba-01").status_code == 404
    r = other.post(f"/cases/withdrawn/{key}/restore", data={"csrf": con.csrf(other, "/cases/withdrawn"),
                                                            "case": "chiba-01"})
    assert r.status_code == 403
    assert con.db.execute("SELECT COUNT(*) FROM local_cases").fetchone()[0] == 0
    assert con.db.execute("SELECT id FROM withdrawn_cases").fetchall() == [("chiba-01",)]
    assert con.client(user="Ustaff").get("/cases/withdrawn").status_code == 403
    assert "空き家を使った体験宿泊" in page(con.client(user="Uadmin").get("/cases/withdrawn"))  # admins: every area


def test_a_withdrawn_case_whose_id_was_taken_again_is_not_restored_over_the_new_one(con):
    c = con.client(user="Usv")
    c.post("/cases/new", data={**GOOD, "csrf": con.csrf(c, "/cases/new")})
    c.post("/cases/c/chiba-01/withdraw", data={"csrf": con.csrf(c, "/cases/c/chiba-01/withdraw")})
    key = con.db.execute("SELECT rowid FROM withdrawn_cases").fetchone()[0]
    assert c.post("/cases/new", data={**GOOD, "title": "新しい事例", "csrf": con.csrf(c, "/cases/new")}).status_code == 303
    r = c.post(f"/cases/withdrawn/{key}/restore", data={"csrf": con.csrf(c, "/cases/withdrawn"), "case": "chiba-01"})
    assert r.status_code == 409 and "「chiba-01」はいま別の事例が使っている" in page(r)
    assert "新しい事例" in con.db.execute("SELECT yaml FROM local_cases").fetchone()[0]
    assert con.db.execute("SELECT COUNT(*) FROM withdrawn_cases").fetchone()[0] == 1


def test_the_case_form_speaks_to_a_curator_and_shows_each_format_up_front(con):
    body = page(con.client(user="Usv").get("/cases/new"))
    seen = _visible(body)
    for developer in ("nimo cases check", "casebase/cases", "YAML のマッピング"):
        assert developer not in seen
    assert not re.search(r"(?<![\w-])(id|part|section|population)(?![\w-])", seen), re.findall(
        r"(?<![\w-])(?:id|part|section|population)(?![\w-])", seen)
    field = lambda name: _visible(re.search(rf'id="field-{name}">(.*?)</div>', body, re.S).group(1))  # noqa: E731
    assert "識別子" in field("id") and "半角英数字とハイフン（例：chiba-2026-01）" in field("id")
    assert "1 構築推進事業の実施例" in field("part") and "2 事例" in field("part") and "3 研究より" in field("part")
    assert "数字だけ" in field("population") and "1行に1項目" in field("actions")
    assert 'aria-describedby="h-id"' in body
    c = con.client(user="Usv")
    empty = _visible(page(c.post("/cases/new", data={"csrf": con.csrf(c, "/cases/new")})))
    assert "ここに入れてください" in empty  # a missing field: not the file format's heading again
    assert "c01 など" not in empty and "1: 構築推進事業の実施例" not in empty


def test_a_japanese_id_is_refused_with_the_reason_and_a_free_id_to_use(con):
    c = con.client(user="Usv")
    r = c.post("/cases/new", data={**GOOD, "id": "千葉の住まい", "csrf": con.csrf(c, "/cases/new")})
    said = _visible(re.search(r'id="field-id">(.*?)</div>', page(r), re.S).group(1))
    assert r.status_code == 400 and con.db.execute("SELECT COUNT(*) FROM local_cases").fetchone()[0] == 0
    assert "URL やファイル名に使うため" in said and "半角の英数字とハイフン" in said
    assert "「chiba-2026-11-01」はまだ使われていません" in said  # from the area 千葉県千葉市 and the month
    r = c.post("/cases/new", data={**GOOD, "id": "chiba-2026-11-01", "csrf": con.csrf(c, "/cases/new")})
    assert r.status_code == 303
    r = c.post("/cases/new", data={**GOOD, "id": "ちば", "area": "船橋市", "csrf": con.csrf(c, "/cases/new")})
    assert "「chiba-2026-11-02」はまだ使われていません" in page(r)  # the next free one; 千葉市 is the curator's area
    con.clock.now = datetime(2026, 11, 30, 15, 30, tzinfo=timezone.utc)  # already 12/1 in Japan
    c = con.client(user="Usv")
    r = c.post("/cases/new", data={**GOOD, "id": "ちば", "csrf": con.csrf(c, "/cases/new")})
    assert "「chiba-2026-12-01」はまだ使われていません" in page(r)


def upload(c, con, data: bytes, name="case.yaml"):
    return c.post("/cases/upload", data={"csrf": con.csrf(c, "/cases/new"), "file": (io.BytesIO(data), name)},
                  content_type="multipart/form-data")


@pytest.mark.parametrize("data, said", [
    (b"x" * (1024 * 1024 + 1), "1MB までにしてください"),
    ("id: a\ntitle: 住まい".encode("shift_jis"), "UTF-8"),
    (b"id: [unclosed\n  title: x", "YAML として読めません（"),
    (b"- a\n- b\n", "マッピング"),
    ("id: c01\npart: 9\nnickname: x\n".encode(), "もう使われています"),
])
def test_bad_uploads_get_a_message_and_save_nothing(con, data, said):
    c = con.client(user="Uadmin")
    r = upload(c, con, data)
    assert r.status_code == 400 and said in page(r)
    assert con.db.execute("SELECT COUNT(*) FROM local_cases").fetchone()[0] == 0


def test_an_upload_problem_names_its_field(con):
    import yaml
    c = con.client(user="Uadmin")
    body = page(upload(c, con, yaml.safe_dump({**GOOD, "part": 9, "nickname": "x"}, allow_unicode=True).encode()))
    assert re.search(r"<th>ガイドの区分 .*?ファイルでは part.*?</th><td>1, 2, 3 のいずれか", body)  # as the file spells it
    assert re.search(r"<th>nickname</th><td>知らない項目", body)


def test_a_good_upload_is_added(con):
    import yaml
    data = {k: v for k, v in GOOD.items()}
    data.update(part=2, actions=GOOD["actions"].split("\n"), keywords=["住まい"])
    c = con.client(user="Uadmin")
    r = upload(c, con, yaml.safe_dump(data, allow_unicode=True).encode())
    assert r.status_code == 303
    assert con.db.execute("SELECT id FROM local_cases").fetchall() == [("chiba-01",)]
    assert con.db.execute("SELECT action, target FROM access_log WHERE action = 'add_case'").fetchall() == [
        ("add_case", "chiba-01")]


def test_an_upload_over_the_request_limit_gets_the_japanese_page(con):
    c = con.client(user="Uadmin")
    r = upload(c, con, b"x" * (9 * 1024 * 1024))
    assert r.status_code == 413 and "1MB" in page(r)


def test_case_list_search_and_page(con):
    c = con.client(user="Ustaff")
    body = page(c.get("/cases?q=千葉市"))
    assert "c01" in body and "全" not in body[:0]
    assert len(re.findall(r'href="/cases/c/', body)) < 25
    assert "100字以内" in page(c.get("/cases?q=" + "あ" * 101))
    assert "千葉市精神障害にも対応した地域包括ケア構築推進事業" in page(c.get("/cases/c/c01"))
    assert c.get("/cases/c/nope").status_code == 404


# -- gaps ------------------------------------------------------------------------------------------
def test_gaps_grouped_counted_newest_first_with_the_answer_of_a_thumbs_down(con, clock):
    db = con.db
    for i, (q, at) in enumerate((("猫の飼い方", 1), ("猫の飼い方", 3), ("宇宙旅行", 2))):
        db["gaps"].insert({"question": q, "key": q, "reason": "no_match", "platform": "line", "area": "千葉市",
                           "created_at": (FIXED_NOW + timedelta(minutes=at)).isoformat()})
    db["feedback"].insert({"platform": "line", "user": "Ustaff", "question": "家族教室", "case_ids": json.dumps(["c01"]),
                           "vote": -1, "created_at": (FIXED_NOW + timedelta(minutes=5)).isoformat()})
    c = con.client(user="Usv")
    body = page(c.get("/gaps?sort=new"))
    assert body.index("家族教室") < body.index("猫の飼い方") < body.index("宇宙旅行")
    assert re.search(r"回数\">2</td>\s*<td[^>]*>[^<]*</td>\s*<td class=\"text lead\">猫の飼い方", body)
    assert "千葉県千葉市：千葉市精神障害にも対応した地域包括ケア構築推進事業" in body  # the answer that got 👎
    clock.now = FIXED_NOW + timedelta(minutes=10)
    r = c.post("/gaps", data={"csrf": con.csrf(c, "/gaps"), "kind": "gap", "key": "猫の飼い方"})
    assert "対応済み」にしました" in page(r)
    assert "猫の飼い方" not in page(c.get("/gaps")) and "猫の飼い方" in page(c.get("/gaps?all=1"))
    db["gaps"].insert({"question": "猫の飼い方", "key": "猫の飼い方", "reason": "no_match", "platform": "line", "area": "千葉市",
                       "created_at": (FIXED_NOW + timedelta(days=1)).isoformat()})
    assert "猫の飼い方" in page(c.get("/gaps"))  # asked again after it was handled: open again


def test_gaps_read_in_japanese_most_asked_first_and_filter_no_case_from_thumbs_down(con, clock):
    """未回答 says why in Japanese (never a code such as out_of_scope), lists what is asked most first
    as `nimo gaps` does, and shows the questions with no case apart from the 👎 answers."""
    db = con.db
    for q, reason, at in (("今日の天気", "out_of_scope", 1), ("グループホームの夜間体制", "no_match", 2),
                          ("グループホームの夜間体制", "no_match", 3), ("グループホームの夜間体制", "no_match", 4)):
        db["gaps"].insert({"question": q, "key": q, "reason": reason, "platform": "line", "area": "千葉市",
                           "created_at": (FIXED_NOW + timedelta(minutes=at)).isoformat()})
    db["feedback"].insert({"platform": "line", "user": "Ustaff", "question": "家族教室", "case_ids": json.dumps(["c01"]),
                           "vote": -1, "created_at": (FIXED_NOW + timedelta(minutes=9)).isoformat()})
    c = con.client(user="Usv")
    body = page(c.get("/gaps"))
    assert "out_of_scope" not in body and "事例集の範囲外" in body
    assert body.index("グループホームの夜間体制") < body.index("家族教室")  # 3 times before once, however recent
    only_gaps = page(c.get("/gaps?kind=gap"))
    assert "グループホームの夜間体制" in only_gaps and "今日の天気" in only_gaps and "家族教室" not in only_gaps
    only_down = page(c.get("/gaps?kind=down"))
    assert "家族教室" in only_down and "今日の天気" not in only_down
    assert "今日の天気" in page(c.get("/gaps?kind=nonsense"))  # an unknown filter shows everything


def test_every_reason_a_question_goes_unanswered_has_a_label():
    import re as _re
    from bot.console.views_cases import REASONS
    from tests.conftest import ROOT
    said = set(_re.findall(r'SearchResult\([^)]*"([a-z_]+)"', (ROOT / "knowledge" / "search.py").read_text(encoding="utf-8")))
    assert said and said <= set(REASONS), said - set(REASONS)


# -- visits and events -------------------------------------------------------------------------------
def test_overdue_visits_first_with_outcomes_and_event_answers(con, clock):
    from datetime import time as dtime
    from scheduler import store
    db = con.db
    add = lambda owner, area, code, anchor: store.add_plan(  # noqa: E731
        db, platform="line", owner=owner, target=owner, area=area, case_code=code, plan_key="discharge",
        anchor=anchor, digest_time=dtime(8, 30), now=FIXED_NOW)
    late = add("Ustaff", "千葉市", "K-001", date(2026, 11, 1))     # 1週間後 due 11/8, window to 11/15: overdue
    add("Ustaff2", "千葉市", "K-002", date(2026, 11, 20))           # due 11/27: upcoming
    add("Ufuna", "船橋市", "K-900", date(2026, 11, 1))
    vid = db.execute("SELECT id FROM visits WHERE plan_id = ? AND seq = 2", [late]).fetchone()[0]
    store.set_visit(db, vid, "unmet", FIXED_NOW, reason="不在")
    eid, _ = store.add_event(db, platform="line", owner="Usv", target="Cgroup", is_group=True, title="ピア交流会",
                             starts=FIXED_NOW + timedelta(days=3), now=FIXED_NOW)
    store.rsvp(db, eid, "line", "Ustaff", "yes", FIXED_NOW)
    store.rsvp(db, eid, "line", "Ustaff2", "no", FIXED_NOW)
    body = page(con.client(user="Usv").get("/visits"))
    assert body.index("K-001") < body.index("K-002") and "期限切れ" in body and "K-900" not in body
    assert "会えなかった：不在" in body
    assert "ピア交流会" in body and "line:Ustaff" in body and re.search(r"<strong>1人</strong>", body)
    staff = page(con.client(user="Ustaff").get("/visits"))
    assert "K-001" in staff and "K-002" not in staff and "ピア交流会" in staff  # answered it
    assert "K-900" in page(con.client(user="Uadmin").get("/visits?area=船橋市"))


# -- mounting and the CLI --------------------------------------------------------------------------
def test_the_web_app_mounts_the_console_lazily(tmp_path):
    code = f"""
import sys
from datetime import datetime, timezone
from storage.connections import open_db
from bot.config import Settings
from bot.serve.web import WebApp
web = WebApp(open_db({str(tmp_path / 'n.db')!r}), lambda: datetime(2026, 11, 24, tzinfo=timezone.utc), Settings.from_env({{}}))
out = []
def start(status, headers): out.append(status)
web({{"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"}}, start)
assert "flask" not in sys.modules, "flask loaded for a webhook path"
body = b"".join(web({{"PATH_INFO": "/console/reports", "REQUEST_METHOD": "GET", "SCRIPT_NAME": "",
                     "SERVER_NAME": "x", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
                     "wsgi.input": __import__("io").BytesIO()}}, lambda s, h: out.append((s, dict(h)))))
assert "flask" in sys.modules
print(out[1][0], out[1][1]["Location"])
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["302", "FOUND", "/console/signin"]


def test_cli_console_link_and_admin_role(nimo):
    uadm = "U" + "adadadad" * 4  # `users add` takes only ids of the shape LINE issues
    assert "admin" in nimo("users", "add", "--platform", "line", "--id", uadm, "--role", "admin",
                           "--area", "千葉県").stdout
    code = nimo("invite", "create", "--role", "admin", "--area", "千葉県").stdout.strip()
    assert len(code) == 8
    out = nimo("console", "link", "--platform", "line", "--id", uadm).stdout.strip().splitlines()
    assert re.fullmatch(r"http://localhost:8000/console/login/[A-Za-z0-9_-]{40,}", out[-1])
    bad = nimo("console", "link", "--platform", "line", "--id", "Unobody", check=False)
    assert bad.returncode != 0 and "登録されていません" in bad.stderr and "Traceback" not in bad.stderr


# -- case proposals ----------------------------------------------------------------------------------
def propose(app, user="Ustaff", answers=("千葉市", "退院後の住まいがない", "空き家を借り上げた", "3人が地域に移れた",
                                           "千葉市保健所 精神保健福祉担当")):
    said = [app.handle(Incoming("line", user, user, "事例提案"))[0].text]
    for a in answers:
        said.append(app.handle(Incoming("line", user, user, a))[0].text)
    return said


def test_a_case_proposal_from_chat_is_stored_as_a_draft(app):
    add_user(app.db, "line", "Ustaff", "staff", "千葉市", FIXED_NOW)
    said = propose(app)
    assert "どの地域" in said[0] and "課題" in said[1] and "この内容で提案しますか" in said[-1]
    assert app.db.execute("SELECT COUNT(*) FROM case_proposals").fetchone()[0] == 0  # nothing before 確定
    done = app.handle(Incoming("line", "Ustaff", "Ustaff", "確定"))[0].text
    assert "P-1" in done
    row = app.db.execute("SELECT area, problem, contact, status FROM case_proposals").fetchone()
    assert row == ("千葉市", "退院後の住まいがない", "千葉市保健所 精神保健福祉担当", "draft")


def test_a_case_proposal_goes_through_the_privacy_guard(app):
    add_user(app.db, "line", "Ustaff", "staff", "千葉市", FIXED_NOW)
    said = propose(app, answers=("千葉市", "田中さんが退院先に困った", "090-1234-5678 に電話した", "住めた", "保健所"))
    assert "個人を特定できる情報" in said[-1] and "田中さん" in said[-1]
    assert "伏せて確定" in app.handle(Incoming("line", "Ustaff", "Ustaff", "確定"))[0].text  # must choose
    app.handle(Incoming("line", "Ustaff", "Ustaff", "伏せて確定"))
    problem, action = app.db.execute("SELECT problem, action FROM case_proposals").fetchone()
    assert "田中" not in problem and "090" not in action


def test_a_case_proposal_only_in_a_one_to_one_chat_and_can_be_stopped(app):
    add_user(app.db, "line", "Ustaff", "staff", "千葉市", FIXED_NOW)
    assert "1対1" in app.handle(Incoming("line", "Ustaff", "Cg", "事例提案", direct=False))[0].text
    app.handle(Incoming("line", "Ustaff", "Ustaff", "事例提案"))
    assert "やめました" in app.handle(Incoming("line", "Ustaff", "Ustaff", "やめる"))[0].text
    assert app.db.execute("SELECT COUNT(*) FROM case_proposals").fetchone()[0] == 0


def draft(con, area="千葉市", user="Ustaff"):
    now = FIXED_NOW.isoformat()
    return con.db.execute("INSERT INTO case_proposals (platform, user_id, area, problem, action, outcome, contact, "
                          "created_at, updated_at) VALUES ('line', ?, ?, '課題', '空き家を借り上げた', '3人が移れた', "
                          "'保健所', ?, ?)", [user, area, now, now]).lastrowid


def test_publishing_a_proposal_makes_a_local_case_and_tells_the_proposer(con):
    pid = draft(con)
    assert con.client(user="Ustaff").get(f"/proposals/{pid}").status_code == 403
    other = draft(con, area="船橋市", user="Ufuna")
    c = con.client(user="Usv")
    assert c.get(f"/proposals/{other}").status_code == 404
    body = page(c.get(f"/proposals/{pid}"))
    assert 'value="proposal-1"' in body and "2026年11月24日の現場からの提案" in body
    t = con.csrf(c, f"/proposals/{pid}")
    form = {"csrf": t, "op": "publish", "id": f"proposal-{pid}", "title": "", "area": "千葉県千葉市", "level": "市町村",
            "actions": "空き家を借り上げた", "outcomes": "3人が移れた", "source": "ローカル事例（千葉市）"}
    r = c.post(f"/proposals/{pid}", data=form)
    assert r.status_code == 400 and "必須" in re.search(r'id="field-title">(.*?)</div>', page(r), re.S).group(1)
    assert con.db.execute("SELECT COUNT(*) FROM chat_notices").fetchone()[0] == 0
    r = c.post(f"/proposals/{pid}", data={**form, "title": "空き家の借り上げ"})
    assert r.status_code == 303
    assert con.db.execute("SELECT status, case_id FROM case_proposals WHERE id = ?", [pid]).fetchone() == (
        "published", "proposal-1")
    user, said = con.db.execute("SELECT user_id, text FROM chat_notices").fetchone()
    assert user == "Ustaff" and "空き家の借り上げ" in said and "公開しました" in said
    assert "もう公開または見送り済み" in page(c.post(f"/proposals/{pid}", data={**form, "op": "decline", "reason": "x"}))


def test_declining_needs_a_reason_which_goes_back_to_the_proposer(con):
    pid = draft(con)
    c = con.client(user="Uadmin")
    t = con.csrf(c, f"/proposals/{pid}")
    assert "理由を書いてください" in page(c.post(f"/proposals/{pid}", data={"csrf": t, "op": "decline", "reason": " "}))
    assert "500字以内" in page(c.post(f"/proposals/{pid}", data={"csrf": t, "op": "decline", "reason": "あ" * 501}))
    assert con.db.execute("SELECT status FROM case_proposals").fetchone() == ("draft",)
    c.post(f"/proposals/{pid}", data={"csrf": t, "op": "decline", "reason": "同じ取組がもう載っています"})
    assert "同じ取組がもう載っています" in con.db.execute("SELECT text FROM chat_notices").fetchone()[0]


def test_notices_are_pushed_once_through_line(con, clock):
    from bot.serve.notices import NoticeSender, add
    from .fakes import PushRecorder
    add(con.db, "line", "Ustaff", "ご提案は見送りになりました", clock())
    pusher = PushRecorder(check_line=True)
    sender = NoticeSender(con.db, {"line": pusher}, clock=clock)
    assert sender.send_due() == 1 and sender.send_due() == 0
    assert [(p.target, p.text) for p in pusher.sent] == [("Ustaff", "ご提案は見送りになりました")] and pusher.errors == []
    assert con.db.execute("SELECT sent_at IS NOT NULL FROM chat_notices").fetchone() == (1,)


# -- following one case, and counts under the filters ---------------------------------------------
def test_a_supervisor_follows_one_case_code_however_it_is_typed(con):
    k34 = report(con.db, "Ustaff", "千葉市", "2026-11-20", summary="K-034 の訪問")
    con.db.execute("UPDATE reports SET case_code = 'K-034' WHERE id = ?", [k34])
    other = report(con.db, "Ustaff", "千葉市", "2026-11-21", summary="別のケース")
    con.db.execute("UPDATE reports SET case_code = 'K-035' WHERE id = ?", [other])
    c = con.client(user="Usv")
    for typed in ("K-034", "k034", "Ｋ－０３４", "K‐034"):
        body = page(c.get("/reports", query_string={"case": typed}))
        assert numbers(body) == {rp.number(k34)}, typed
    body = page(c.get("/reports", query_string={"case": "山田"}))
    assert "ケースコードの形ではありません" in body and not numbers(body)
    listed = page(c.get("/reports"))
    assert re.search(r'href="/reports\?[^"]*case=K-034"', listed)  # each row's code opens that case's history


def test_the_summary_and_chart_follow_the_filters(con):
    for i, area in enumerate(("花見川区", "中央区", "中央区", "中央区")):
        report(con.db, "Ustaff", area, (FIXED_NOW.date() - timedelta(days=7 + i % 2)).isoformat(), rtype="訪問",
               key=f"filtered{i}")
    a = con.client(user="Uadmin")
    all_areas = page(a.get("/reports"))
    assert "中央区 3件" in all_areas
    one = page(a.get("/reports?area=花見川区"))
    assert "花見川区 1件" in one and "中央区" not in one.split("直近8週")[0]
    monday = FIXED_NOW.date() - timedelta(days=FIXED_NOW.date().weekday())
    report(con.db, "Ustaff", "中央区", monday.isoformat(), rtype="電話", key="this-week")
    week = page(a.get(f"/reports?since={monday}&until={monday + timedelta(days=6)}"))
    assert "この条件のまとめ" in week and "1件" in week.split("この条件のまとめ")[1][:80]
    chart_all = a.get("/reports/chart.png").data
    chart_one = a.get("/reports/chart.png?area=花見川区").data
    assert chart_all.startswith(b"\x89PNG") and chart_one.startswith(b"\x89PNG") and chart_all != chart_one
