"""The console's small edges, as a supervisor meets them: exports that read as people talk (LINE
WORKS, not ``lineworks``; how many photos; an autofilter; a file name with the area and period),
refusals that say who may see the page and lead back, a bad link shown as an error, proposals
with their proposer, a skip link on every page and a label on the YAML file input.

Real parts: our code, SQLite, Flask, openpyxl and the ``nimo`` command.  The clock is injected."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from urllib.parse import unquote

from openpyxl import load_workbook

from bot import messages
from bot.reports import records as rp
from bot.people.access import add_user, set_display_name
from bot.console import auth
from storage.connections import open_db

from .conftest import FIXED_NOW
from .test_console import Console, draft, page


def _reports(db, tmp_path) -> None:
    """Three reports in 千葉市 from LINE, Slack and LINE WORKS; the LINE WORKS one has two photos."""
    for platform, uid, role in (("line", "Usv", "supervisor"), ("line", "Uline", "staff"),
                                ("slack", "Uslack", "staff"), ("lineworks", "Uworks", "staff")):
        add_user(db, platform, uid, role, "千葉市", FIXED_NOW)
    shots = []
    for name in ("a.jpg", "b.jpg"):
        (tmp_path / name).write_bytes(b"\xff\xd8\xff" + b"0" * 10)
        shots.append(str(tmp_path / name))
    for i, (platform, uid, photos) in enumerate((("line", "Uline", ()), ("slack", "Uslack", ()),
                                                  ("lineworks", "Uworks", tuple(shots)))):
        d = rp.Draft(type="訪問", date=f"2026-11-1{i}", case_code="K-012", area="千葉市", summary=f"記録{i}",
                     photos=photos)
        rp.save(db, d, platform=platform, author=uid, source_key=f"e{i}", now=FIXED_NOW)


def _csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _xlsx(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def test_exports_name_the_platform_and_count_the_photos_with_an_autofilter(clock, tmp_path, nimo):
    db = open_db(":memory:")
    _reports(db, tmp_path)
    c = Console(db, clock).client(user="Usv")
    rows = _csv(c.get("/reports/export.csv").data)
    assert {r["内容"]: (r["送信元"], r["写真"]) for r in rows} == {
        "記録0": ("LINE", "0"), "記録1": ("Slack", "0"), "記録2": ("LINE WORKS", "2")}
    ws = _xlsx(c.get("/reports/export.xlsx").data)
    head = [cell.value for cell in ws[1]]
    got = {row[head.index("内容")]: (row[head.index("送信元")], row[head.index("写真")])
           for row in ws.iter_rows(min_row=2, values_only=True)}
    assert got == {"記録0": ("LINE", 0), "記録1": ("Slack", 0), "記録2": ("LINE WORKS", 2)}
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(head)).column_letter}4"  # the header row, every row below
    # the same layout from the command line
    _reports(open_db(nimo.db_path), tmp_path)
    nimo("reports", "export", "-o", str(tmp_path / "r.csv"))
    nimo("reports", "export", "-o", str(tmp_path / "r.xlsx"))
    cli = _csv((tmp_path / "r.csv").read_bytes())
    assert {(r["送信元"], r["写真"]) for r in cli} == {("LINE", "0"), ("Slack", "0"), ("LINE WORKS", "2")}
    ws = _xlsx((tmp_path / "r.xlsx").read_bytes())
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
    assert "lineworks" not in {v for row in ws.iter_rows(values_only=True) for v in row}


def _file_names(r) -> tuple[str, str]:
    """(filename=, the decoded filename*=) of a download."""
    cd = r.headers["Content-Disposition"]
    assert cd.startswith("attachment;")
    plain = re.search(r'filename="([^"]*)"', cd).group(1)
    star = re.search(r"filename\*=UTF-8''(\S+)", cd).group(1)
    assert plain.isascii() and star.isascii()  # a header carries no raw non-ASCII bytes
    return plain, unquote(star)


def test_a_download_is_named_for_its_area_and_period(clock, tmp_path):
    db = open_db(":memory:")
    _reports(db, tmp_path)
    add_user(db, "line", "Uadmin", "admin", "千葉県", FIXED_NOW)
    con = Console(db, clock)
    sv, admin = con.client(user="Usv"), con.client(user="Uadmin")
    plain, star = _file_names(sv.get("/reports/export.csv?since=2026-11-01&until=2026-11-30"))
    assert star == "nimo-reports-千葉市-20261101-20261130.csv"  # a supervisor's list is always the area's
    assert plain == "nimo-reports-20261101-20261130.csv"
    plain, star = _file_names(admin.get("/reports/export.xlsx?area=千葉市&since=2026-11-01&until=2026-11-30"))
    assert star == "nimo-reports-千葉市-20261101-20261130.xlsx" and plain.endswith(".xlsx")
    plain, star = _file_names(admin.get("/reports/export.csv"))
    assert star == plain == "nimo-reports-20261124.csv"  # nothing filtered: the day it was made
    add_user(db, "line", "Uodd", "staff", 'a/b"c', FIXED_NOW)
    _, star = _file_names(admin.get('/reports/export.csv?area=a/b"c'))
    assert "/" not in star and '"' not in star


def test_refusals_say_who_may_see_the_page_and_lead_back(clock, tmp_path):
    db = open_db(":memory:")
    _reports(db, tmp_path)
    add_user(db, "line", "Ufuna", "supervisor", "船橋市", FIXED_NOW)
    con = Console(db, clock)
    staff, funa = con.client(user="Uline"), con.client(user="Ufuna")
    for path, who in (("/users", "このページは管理者が見られます。"),
                      ("/proposals", "このページはスーパーバイザーと管理者が見られます。")):
        r = staff.get(path)
        assert r.status_code == 403 and who in page(r)
        assert re.search(r'<a href="/reports">報告の一覧に戻る</a>', page(r))
    rid = db.execute("SELECT id FROM reports LIMIT 1").fetchone()[0]
    r = funa.get(f"/reports/{rid}")  # another area's report is "not found", and says who may see reports
    assert r.status_code == 404 and messages.CONSOLE_REPORT_WHO in page(r) and "報告の一覧に戻る" in page(r)
    pid = draft(con)
    r = funa.get(f"/proposals/{pid}")
    assert r.status_code == 404 and messages.CONSOLE_PROPOSAL_WHO in page(r)
    r = staff.get("/no-such-page")
    assert r.status_code == 404 and "報告の一覧に戻る" in page(r) and "見られます" not in page(r)


def test_a_bad_link_is_shown_as_an_error_and_signing_out_as_a_notice(clock, tmp_path):
    db = open_db(":memory:")
    _reports(db, tmp_path)
    con = Console(db, clock)
    old = auth.new_link(db, "line", "Usv", clock())
    clock.now = FIXED_NOW + timedelta(minutes=11)
    for token, said in ((old, "有効期限"), ("x" * 43, "使えません")):
        body = page(con.app.test_client().get(f"/login/{token}"))
        box = re.search(r'<p class="([^"]+)" role="([^"]+)">([^<]*)</p>', body)
        assert box.groups()[:2] == ("error", "alert") and said in box.group(3)
    c = con.client(user="Usv")
    out = page(c.post("/logout", data={"csrf": con.csrf(c)}))
    assert re.search(r'<p class="notice" role="status">ログアウトしました', out)


def test_proposals_name_their_proposer_and_area(clock, tmp_path):
    db = open_db(":memory:")
    _reports(db, tmp_path)
    set_display_name(db, "line", "Uline", "佐藤（保健師）")
    con = Console(db, clock)
    pid = draft(con, user="Uline")
    c = con.client(user="Usv")
    listed = page(c.get("/proposals"))
    assert "<th>提案した人</th>" in listed
    assert re.search(r'data-label="提案した人">佐藤（保健師）<span class="muted nowrap">（千葉市）</span>', listed)
    one = page(c.get(f"/proposals/{pid}"))
    assert "<dt>提案した人</dt><dd>佐藤（保健師）（千葉市）</dd>" in one
    gone = draft(con, user="Ugone")  # a proposer no longer registered is named as other pages name them
    assert "<dt>提案した人</dt><dd>line:Ugone</dd>" in page(c.get(f"/proposals/{gone}"))


def test_every_page_starts_with_a_skip_link_and_the_yaml_input_has_a_label(clock, tmp_path):
    db = open_db(":memory:")
    _reports(db, tmp_path)
    con = Console(db, clock)
    c = con.client(user="Usv")
    for path in ("/reports", "/visits", "/cases", "/cases/new", "/proposals", "/gaps", "/users", "/signin"):
        body = page(c.get(path))
        first = re.search(r"<(a|button|input|select|textarea)\b[^>]*>", body.split("<body>", 1)[1])
        assert first.group(0) == '<a class="skip" href="#main">', (path, first.group(0))
        assert '<main id="main" tabindex="-1">' in body
    body = page(c.get("/cases/new"))
    field = re.search(r'<input type="file" id="([^"]+)" name="file"', body)
    assert field and f'<label for="{field.group(1)}">事例の YAML ファイル</label>' in body


def test_a_refused_form_links_back_to_its_page_under_the_console_prefix(clock, tmp_path):
    """Under ``nimo serve`` the console lives at /console/: a form refused for its token or its
    size links to its own page there, not to the site's root."""
    db = open_db(":memory:")
    _reports(db, tmp_path)
    con = Console(db, clock)
    c = con.client(user="Usv")
    r = c.post("/cases/new", data={"csrf": "stale", "id": "x"}, base_url="http://localhost/console")
    assert r.status_code == 400 and '<a href="/console/cases/new">ページを開き直す</a>' in page(r)
    r = c.post("/logout", data={"csrf": "stale"}, base_url="http://localhost/console")
    assert '<a href="/console/reports">ページを開き直す</a>' in page(r)
    big = {"csrf": con.csrf(c), "file": (io.BytesIO(b"x" * (9 * 1024 * 1024)), "case.yaml")}
    r = c.post("/cases/upload", data=big, content_type="multipart/form-data", base_url="http://localhost/console")
    assert r.status_code == 413 and 'href="/console/cases/new"' in page(r)
