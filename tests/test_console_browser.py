"""The console in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright,
against the real server (waitress, the web app, the worker threads and the LINE stand-in).

A supervisor registered through an invite asks for 「管理画面」 in the LINE 1:1 chat, opens the link,
filters the area's reports, opens one, downloads the CSV and reads it, sees an overdue visit, adds
a local case with a mistake and sees the error beside the field, fixes it, and a staff member finds
the case by asking in chat; another area's report is refused.  Screenshots go to screenshots/
(ignored by git).

Without Chromium or Playwright the tests skip with the reason; with ``NIMO_REQUIRE_BROWSER=1`` (CI)
that skip is a failure.  Playwright's own browser download is never used.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from dataclasses import replace
from datetime import date, time as dtime, timedelta

import pytest

from bot.reports import records as rp
from bot.people.access import add_user, create_invite, get_user, set_display_name
from scheduler import store

from .conftest import FIXED_NOW, ROOT
from .fakes import LineStandIn, SlackStandIn
from .test_web import Stack, text_event

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--lang=ja-JP"]


def _browser_or_skip():
    why = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        why = "playwright is not installed (pip install -e '.[test]')"
    if why is None and not os.path.exists(CHROMIUM):
        why = "chromium is not installed (apt-get install -y chromium)"
    if why:
        if os.environ.get("NIMO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"NIMO_REQUIRE_BROWSER=1 but {why}")
        pytest.skip(why)
    return sync_playwright


@pytest.fixture
def browser():
    sync_playwright = _browser_or_skip()
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        # The browser keeps the real clock even when a run moves the wall clock with libfaketime
        # (../shared/tools/at-instant): Chromium under a preloaded fake clock does not start in
        # time, and what the pages say about dates comes from the server's injected clock anyway.
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, env=env)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def stack(tmp_path, index):
    with LineStandIn() as line, SlackStandIn() as slack:
        s = Stack(tmp_path, index, line, slack)
        try:
            # The address is known once the server listens; nothing has read the setting yet (the
            # console is built on its first request, the link when someone asks for one).
            public = replace(s.server.web.settings, public_url=f"http://127.0.0.1:{s.port}")
            s.app.settings = s.server.web.settings = public
            yield s
        finally:
            s.stop()


def chat(stack, text, user) -> list[dict]:
    """Send a LINE 1:1 message and return the messages of Nimo's answer."""
    before = len(stack.line.delivered)
    assert stack.line_post([text_event(text, user=user)]) == 200
    assert stack.line.wait_for(lambda l: len(l.delivered) > before, timeout=10)
    return stack.line.delivered[before]["messages"]


def link_from_chat(stack, user) -> str:
    said = chat(stack, "管理画面", user)[0]["text"]
    return re.search(r"http://\S+", said).group(0)


def seed(db):
    """Reports in two areas and visit plans; the clock is Tuesday 2026-11-24 in Tokyo."""
    for uid, role, area in (("Ustaff", "staff", "千葉市"), ("Ufuna", "staff", "船橋市")):
        add_user(db, "line", uid, role, area, FIXED_NOW)
    rows = [("Ustaff", "千葉市", "2026-11-24", "訪問", "服薬確認できた。表情明るい"),
            ("Ustaff", "千葉市", "2026-11-23", "電話", "家族から相談。来週訪問"),
            ("Ustaff", "千葉市", "2026-11-17", "訪問", "不在。手紙を置いた"),
            ("Ufuna", "船橋市", "2026-11-24", "訪問", "船橋の記録")]
    ids = {}
    for i, (uid, area, day, rtype, summary) in enumerate(rows):
        d = rp.Draft(type=rtype, date=day, case_code=f"K-{i + 10:03d}", area=area, summary=summary)
        ids[summary], _ = rp.save(db, d, platform="line", author=uid, source_key=f"seed{i}", now=FIXED_NOW)
    import random
    rnd = random.Random(3)  # earlier weeks, so that the chart and the list look like a real area's
    add_user(db, "line", "Ustaff2", "staff", "千葉市", FIXED_NOW)
    set_display_name(db, "line", "Ustaff", "佐藤（保健師）")
    set_display_name(db, "line", "Ustaff2", "鈴木（PSW）")
    for i in range(40):
        day = (date(2026, 10, 1) + timedelta(days=rnd.randrange(52))).isoformat()
        d = rp.Draft(type=rnd.choice(rp.TYPES), date=day, case_code=f"K-{rnd.randrange(100, 200)}", area="千葉市",
                     summary=rnd.choice(("服薬は続いている。表情は穏やか", "家族と面談。次回は同行受診", "デイケアに通えている",
                                         "ピア交流会に参加した", "地域移行の協議の場に出席")))
        rp.save(db, d, platform="line", author=rnd.choice(("Ustaff", "Ustaff2")), source_key=f"more{i}", now=FIXED_NOW)
    for owner, area, code, anchor in (("Ustaff", "千葉市", "K-010", date(2026, 11, 1)),
                                      ("Ustaff", "千葉市", "K-011", date(2026, 11, 20))):
        store.add_plan(db, platform="line", owner=owner, target=owner, area=area, case_code=code,
                       plan_key="discharge", anchor=anchor, digest_time=dtime(8, 30), now=FIXED_NOW)
    return ids


def test_a_supervisor_signs_in_from_line_and_works_through_the_console(stack, browser, tmp_path):
    db = stack.app.db
    ids = seed(db)
    code = create_invite(db, "supervisor", "千葉市", stack.clock())
    assert "登録しました" in chat(stack, f"登録 {code}", "Usv")[0]["text"]
    assert get_user(db, "line", "Usv").role == "supervisor"
    url = link_from_chat(stack, "Usv")
    base = f"http://127.0.0.1:{stack.port}/console"

    page = browser.new_page(viewport={"width": 1200, "height": 900}, accept_downloads=True, locale="ja-JP")
    page.goto(url)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{base}/reports")
    body = page.inner_text("main")
    assert "先週のまとめ" in body and "R-000003" in body and "船橋の記録" not in body  # 千葉市 only
    page.screenshot(path=str(SHOTS / "reports.png"), full_page=True)
    page.set_viewport_size({"width": 1000, "height": 820})
    page.screenshot(path=str(SHOTS / "readme-reports.png"))  # docs/console-reports.png is a copy
    page.set_viewport_size({"width": 1200, "height": 900})

    # filter: this week's 訪問 reports
    assert "R-000004" not in body
    page.get_by_label("種類").select_option("訪問")
    page.get_by_label("いつから").fill("2026-11-23")
    page.get_by_role("button", name="絞り込む").click()
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1 and "R-000001" in rows.first.inner_text()

    # the CSV of exactly these rows
    with page.expect_download() as dl:
        page.get_by_role("link", name="CSV で書き出す").click()
    data = open(dl.value.path(), "rb").read()
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r[0] for r in table[1:]] == ["R-000001"] and table[1][5] == "服薬確認できた。表情明るい"

    # one report, with its audit trail
    page.get_by_role("link", name="R-000001").click()
    assert "服薬確認できた。表情明るい" in page.inner_text("main") and "作成" in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "report.png"), full_page=True)

    # another area's report: refused
    resp = page.goto(f"{base}/reports/{ids['船橋の記録']}")
    assert resp.status == 404 and "見つかりませんでした" in page.inner_text("main")
    assert "船橋の記録" not in page.content()

    # an overdue visit (K-010: discharged 11/1, the one-week visit's window ended 11/15)
    page.goto(f"{base}/visits")
    first = page.locator("table.list tbody tr").first
    assert "K-010" in first.inner_text() and "期限切れ" in first.inner_text()
    page.screenshot(path=str(SHOTS / "visits.png"), full_page=True)

    # a local case: a mistake first, the error beside its field, nothing saved
    page.goto(f"{base}/cases/new")
    page.fill("#f-id", "chiba-akiya")
    page.select_option("#f-part", "2")
    page.fill("#f-section", "2-(1) 住まいの確保")
    page.fill("#f-area", "千葉県千葉市")
    page.select_option("#f-level", "政令市")
    page.fill("#f-actions", "空き家を借り上げて退院前の体験宿泊に使った\n不動産協会と協定を結んだ")
    page.fill("#f-source", "千葉市の取組（令和8年）")
    page.get_by_role("button", name="検査して追加").click()
    problem = page.locator("#field-title .problem")
    assert problem.is_visible() and "必須の項目がありません" in problem.inner_text()
    assert db.execute("SELECT COUNT(*) FROM local_cases").fetchone()[0] == 0
    page.screenshot(path=str(SHOTS / "case-error.png"), full_page=True)
    page.fill("#f-title", "空き家を活かした退院前の体験宿泊")
    page.get_by_role("button", name="検査して追加").click()
    page.wait_for_url(re.compile(r".*/cases\?added=chiba-akiya$"))
    assert "chiba-akiya" in page.inner_text("main") and "追加しました" in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "cases.png"), full_page=True)
    page.goto(f"{base}/cases?q=千葉県千葉市")
    page.set_viewport_size({"width": 1000, "height": 440})
    page.screenshot(path=str(SHOTS / "readme-cases.png"))  # docs/console-cases.png is a copy
    page.set_viewport_size({"width": 1200, "height": 900})

    # a staff member finds it by asking in chat, with nothing restarted
    answer = chat(stack, "空き家の体験宿泊", "Ustaff")
    flex = json.dumps([m for m in answer if m["type"] == "flex"], ensure_ascii=False)
    assert "空き家を活かした退院前の体験宿泊" in flex

    # the phone view of the reports page, and signing out
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP")
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{base}/reports")
    phone.screenshot(path=str(SHOTS / "reports-phone.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    phone.close()
    page.get_by_role("button", name="ログアウト").click()
    assert "ログアウトしました" in page.inner_text("main")
    page.goto(f"{base}/reports")
    assert page.url == f"{base}/signin"


def test_a_proposal_from_chat_is_published_in_the_browser_and_the_proposer_told(stack, browser):
    from bot.serve.notices import NoticeSender
    db = stack.app.db
    add_user(db, "line", "Ustaff", "staff", "千葉市", FIXED_NOW)
    add_user(db, "line", "Usv", "supervisor", "千葉市", FIXED_NOW)
    for text in ("事例提案", "千葉市", "退院後の住まいが見つからない", "空き家を借り上げて体験宿泊に使った",
                 "3人が地域に移れた", "千葉市保健所 精神保健福祉担当"):
        chat(stack, text, "Ustaff")
    assert "P-1" in chat(stack, "確定", "Ustaff")[0]["text"]
    sender = NoticeSender(db, stack.server.answerer.pushers(), clock=stack.clock, every=0.1)
    sender.start()
    try:
        page = browser.new_page(locale="ja-JP")
        page.goto(link_from_chat(stack, "Usv"))
        page.get_by_role("button", name="ログイン").click()
        page.get_by_role("link", name="事例提案").click()
        page.get_by_role("link", name="P-1").click()
        page.fill("#f-title", "空き家を借り上げた体験宿泊")
        page.screenshot(path=str(SHOTS / "proposal.png"), full_page=True)
        page.get_by_role("button", name="検査して公開").click()
        assert "公開しました" in page.inner_text("main")
        before = len(stack.line.delivered)
        assert stack.line.wait_for(lambda l: any("公開しました" in t for t in l.texts()), timeout=10)
        told = [d for d in stack.line.delivered if d.get("to") == "Ustaff" and "公開しました" in json.dumps(
            d["messages"], ensure_ascii=False)]
        assert len(told) == 1 and before >= 1
        flex = json.dumps(chat(stack, "空き家の借り上げで体験宿泊", "Ustaff"), ensure_ascii=False)
        assert "空き家を借り上げた体験宿泊" in flex and "現場からの提案" in flex  # marked local, with area and date
    finally:
        sender.stop()


def test_a_used_link_and_a_group_chat_are_refused_in_the_browser(stack, browser):
    db = stack.app.db
    add_user(db, "line", "Usv", "supervisor", "千葉市", FIXED_NOW)
    src = {"type": "group", "groupId": "Cgroup", "userId": "Usv"}
    before = len(stack.line.delivered)
    stack.line_post([text_event("にも 管理画面", source=src)])
    assert stack.line.wait_for(lambda l: len(l.delivered) > before)
    said = stack.line.delivered[before]["messages"][0]["text"]
    assert "1対1のトークでだけ使えます" in said and "http" not in said
    url = link_from_chat(stack, "Usv")
    page = browser.new_page()
    page.goto(url)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(re.compile(r".*/reports$"))
    other = browser.new_page()  # someone else opening the same link afterwards
    other.goto(url)
    assert "もう使われています" in other.inner_text("main")
    assert other.get_by_role("button", name="ログイン").count() == 0
    stack.clock.now = FIXED_NOW + timedelta(minutes=11)
    late = link_from_chat(stack, "Usv")
    stack.clock.now = FIXED_NOW + timedelta(minutes=22)
    other.goto(late)
    assert "有効期限" in other.inner_text("main")
    other.screenshot(path=str(SHOTS / "link-used.png"))


def test_without_chromium_the_browser_tests_skip_unless_ci_requires_them(monkeypatch):
    from _pytest.outcomes import Failed, Skipped
    import tests.test_console_browser as me
    monkeypatch.setattr(me, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("NIMO_REQUIRE_BROWSER", raising=False)
    with pytest.raises(Skipped, match="chromium is not installed"):
        me._browser_or_skip()
    monkeypatch.setenv("NIMO_REQUIRE_BROWSER", "1")
    with pytest.raises(Failed, match="NIMO_REQUIRE_BROWSER=1"):
        me._browser_or_skip()


def test_an_admin_reads_the_access_log_on_a_phone(stack, browser):
    """At 390×844 the log is one card a row that fits the screen, in names and Japanese."""
    db = stack.app.db
    seed(db)
    add_user(db, "line", "Uadmin", "admin", "千葉市", FIXED_NOW)
    set_display_name(db, "line", "Uadmin", "山本（管理者）")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(link_from_chat(stack, "Uadmin"))
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(re.compile(r".*/reports$"))
    page.goto(page.url.replace("/reports", "/reports?area=千葉市&type=訪問"))
    page.goto(page.url.split("/reports")[0] + "/access")
    main = page.inner_text("main")
    assert "山本（管理者）" in main and "ログイン" in main and "報告一覧を見た" in main and "地域：千葉市" in main
    assert "line:U" not in main and "view_reports" not in main and "page=1" not in main
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "access-phone.png"), full_page=True)


def test_on_a_phone_the_reports_start_on_the_first_screen_and_this_week_filters_the_counts(stack, browser):
    """At 390×844 the filters and then the list come first (the week's counts after them), and
    「今週」 changes what the counts say; at 1280×800 the chart sits beside the counts."""
    db = stack.app.db
    seed(db)
    add_user(db, "line", "Usv", "supervisor", "千葉市", FIXED_NOW)
    url = link_from_chat(stack, "Usv")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(url)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(re.compile(r".*/reports$"))
    first_row = page.locator("table.cards tbody tr").first
    assert first_row.bounding_box()["y"] + 40 < 844
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "reports-phone.png"))
    before = page.inner_text("section.summary")
    page.get_by_role("link", name="今週").click()
    page.wait_for_url(re.compile(r".*since=.*"))
    after = page.inner_text("section.summary")
    assert "この条件のまとめ" in after and after != before
    page.get_by_role("link", name="K-010").first.click()
    page.wait_for_url(re.compile(r".*case=K-010.*"))
    assert page.locator("table.cards tbody tr").count() >= 1
    assert all("K-010" in t for t in page.locator("table.cards tbody td[data-label='ケース']").all_inner_texts())
    wide = browser.new_page(viewport={"width": 1280, "height": 800})
    wide.context.add_cookies(page.context.cookies())
    wide.goto(page.url.split("/reports")[0] + "/reports")
    assert wide.locator("img.chart").is_visible()
    wide.screenshot(path=str(SHOTS / "reports-wide.png"))
def test_login_from_another_site_is_refused_in_the_browser(stack, browser):
    """A page on another site posts the attacker's own link from the victim's browser (login CSRF):
    refused, no session in that browser, and the link still the attacker's unspent one."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from bot import messages
    from bot.console import auth
    db = stack.app.db
    add_user(db, "line", "Uattacker", "staff", "船橋市", FIXED_NOW)
    url = link_from_chat(stack, "Uattacker")
    token = url.rsplit("/", 1)[1]
    trap = (f'<!doctype html><form id="f" method="post" action="{url}"><input type="hidden" name="form" value="x">'
            '</form><script>document.getElementById("f").submit()</script>').encode()

    class Trap(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(trap)))
            self.end_headers()
            self.wfile.write(trap)

        def log_message(self, *a):
            pass

    evil = ThreadingHTTPServer(("127.0.0.1", 0), Trap)
    thread = threading.Thread(target=evil.serve_forever, daemon=True)
    thread.start()
    try:
        victim = browser.new_context()
        page = victim.new_page()
        page.goto(f"http://localhost:{evil.server_address[1]}/")  # another site
        page.wait_for_url(re.compile(r".*/console/login/.*"))
        assert messages.LOGIN_ELSEWHERE in page.inner_text("main")
        assert "nimo_console" not in {c["name"] for c in victim.cookies()}
        assert auth.check_link(db, token, stack.clock()) == "ok"
        page.goto(f"http://127.0.0.1:{stack.port}/console/reports")
        assert page.url.endswith("/signin")
        victim.close()
        own = browser.new_page()  # the link's owner, on our page: the form works as before
        own.goto(url)
        own.get_by_role("button", name="ログイン").click()
        own.wait_for_url(re.compile(r".*/reports$"))
        assert "nimo_console" in {c["name"] for c in own.context.cookies()}
    finally:
        evil.shutdown()
        evil.server_close()
        thread.join(timeout=10)


# Cells whose words must never break inside: report and proposal numbers, areas, case codes, dates.
UNBROKEN = ("table.list td.lead a[href*='/reports/'], table.list td.lead a[href*='/proposals/'], "
            "table.list td[data-label='地域'], table.list td[data-label='ケース'], table.list td[data-label='日付'], "
            "table.list td[data-label='予定日'], table.list td[data-label='届いた日時']")
LINES = """els => els.filter(e => e.getClientRects().length).map(e => {
  const r = document.createRange(); r.selectNodeContents(e);
  const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
  return [e.textContent.trim(), getComputedStyle(e).whiteSpace, tops.size]; })"""
EMPTY_CARDS = """els => els.filter(e => getComputedStyle(e).display !== 'none' && !e.textContent.trim())
  .map(e => e.getAttribute('data-label') || '(no label)')"""


def test_numbers_areas_and_dates_stay_on_one_line_and_the_skip_link_comes_first(stack, browser):
    """At 1280×800 and 390×844 no report number, area, case code or date breaks inside its cell; on
    phone cards no cell shows a label with nothing after it; the first Tab reaches 「本文へ移動」,
    which moves to the content; refusals and a bad link look as they should."""
    db = stack.app.db
    seed(db)
    add_user(db, "line", "Uadmin", "admin", "千葉県", FIXED_NOW)
    add_user(db, "line", "Uchuo", "staff", "千葉市中央区", FIXED_NOW)
    set_display_name(db, "line", "Uchuo", "高橋（相談支援専門員）")
    for i in range(3):  # long words squeeze the other columns; one report without a case code
        d = rp.Draft(type="訪問", date=f"2026-11-2{i}", case_code=None if i == 0 else f"K-{300 + i}",
                     area="千葉市中央区", summary="退院後の生活について本人と家族と一緒に話し合い、次回は同行受診を予定" * 2)
        rp.save(db, d, platform="line", author="Uchuo", source_key=f"long{i}", now=FIXED_NOW)
    now = FIXED_NOW.isoformat()
    db.execute("INSERT INTO case_proposals (platform, user_id, area, problem, action, outcome, contact, created_at, "
               "updated_at) VALUES ('line', 'Uchuo', '千葉市中央区', '退院後の住まいが見つからない', '空き家を借り上げた', "
               "'3人が移れた', '保健所', ?, ?)", [now, now])
    url = link_from_chat(stack, "Uadmin")
    base = f"http://127.0.0.1:{stack.port}/console"
    wide = browser.new_page(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    wide.goto(url)
    wide.get_by_role("button", name="ログイン").click()
    wide.wait_for_url(f"{base}/reports")
    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP")
    phone.context.add_cookies(wide.context.cookies())
    for p, size in ((wide, "wide"), (phone, "phone")):
        for path in ("reports", "visits", "proposals"):
            p.goto(f"{base}/{path}")
            cells = p.locator(UNBROKEN).evaluate_all(LINES)
            assert cells, path
            broken = [(t, ws, n) for t, ws, n in cells if ws != "nowrap" or n != 1]
            assert not broken, (size, path, broken)
            if size == "phone":
                assert not p.locator("table.cards td").evaluate_all(EMPTY_CARDS), path
                assert p.evaluate("document.documentElement.scrollWidth") <= 390, path
            p.screenshot(path=str(SHOTS / f"edges-{path}-{size}.png"), full_page=True)
        assert "千葉市中央区" in p.inner_text("main")
        # the skip link: the first Tab stop, visible when focused, and it moves to the content
        p.goto(f"{base}/reports")
        p.keyboard.press("Tab")
        skip = p.locator("a.skip")
        assert p.evaluate("document.activeElement.className") == "skip" and skip.is_visible()
        assert skip.inner_text() == "本文へ移動"
        p.screenshot(path=str(SHOTS / f"edges-skip-{size}.png"))
        p.keyboard.press("Enter")
        p.wait_for_function("document.activeElement && document.activeElement.id === 'main'")
        # a report that does not exist: who may see reports, and the way back
        resp = p.goto(f"{base}/reports/999999")
        assert resp.status == 404 and "報告を見られるのは" in p.inner_text("main")
        p.screenshot(path=str(SHOTS / f"edges-404-{size}.png"))
        p.get_by_role("link", name="報告の一覧に戻る").click()
        p.wait_for_url(f"{base}/reports")
    wide.goto(f"{base}/proposals/1")
    assert "高橋（相談支援専門員）（千葉市中央区）" in wide.inner_text("main")
    wide.screenshot(path=str(SHOTS / "edges-proposal-wide.png"))
    wide.goto(f"{base}/cases/new")
    assert wide.get_by_label("事例の YAML ファイル").get_attribute("type") == "file"
    # a used link, in a browser without a session: an error box, not the green notice
    other = browser.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP")
    other.goto(url)
    box = other.get_by_role("alert")
    assert "もう使われています" in box.inner_text() and box.get_attribute("class") == "error"
    assert other.evaluate("getComputedStyle(document.querySelector('p.error')).backgroundColor") == "rgb(253, 236, 234)"
    other.screenshot(path=str(SHOTS / "edges-bad-link-phone.png"))
def test_a_supervisor_withdraws_a_case_on_a_phone_and_restores_it(stack, browser):
    """At 390×844: the case page's 取り下げる asks first, lands on a page saying it was withdrawn,
    the withdrawn list names who did it, and 元に戻す (confirmed) puts it back into the chat answers.
    The same pages and the local-case form are also shot at 1280×800."""
    from bot.console import localcases
    db = stack.app.db
    for uid, role in (("Ustaff", "staff"), ("Usv", "supervisor")):
        add_user(db, "line", uid, role, "千葉市", FIXED_NOW)
    set_display_name(db, "line", "Usv", "佐藤（保健所）")
    localcases.add(db, {"id": "chiba-akiya", "part": 2, "section": "2-(1) 住まいの確保",
                        "title": "空き家を活かした退院前の体験宿泊", "area": "千葉県千葉市", "level": "政令市",
                        "actions": ["空き家を借り上げて退院前の体験宿泊に使った"], "source": "千葉市の取組（令和8年）"},
                   now=FIXED_NOW, area="千葉市")

    def asked() -> str:
        return json.dumps([m for m in chat(stack, "空き家の体験宿泊", "Ustaff") if m["type"] == "flex"], ensure_ascii=False)
    assert "空き家を活かした退院前の体験宿泊" in asked()

    phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP")
    phone.goto(link_from_chat(stack, "Usv"))
    phone.get_by_role("button", name="ログイン").click()
    phone.wait_for_url(re.compile(r".*/reports$"))
    base = phone.url.rsplit("/reports", 1)[0]
    wide = browser.new_page(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    wide.context.add_cookies(phone.context.cookies())

    def fits() -> bool:
        return phone.evaluate("document.documentElement.scrollWidth") <= 390

    phone.goto(f"{base}/cases/c/chiba-akiya")
    phone.get_by_role("link", name="この事例を取り下げる").click()
    main = phone.inner_text("main")
    assert "空き家を活かした退院前の体験宿泊" in main and "チャットの答えに出なくなります" in main and "元に戻せます" in main
    assert db.execute("SELECT COUNT(*) FROM local_cases").fetchone()[0] == 1 and fits()
    phone.screenshot(path=str(SHOTS / "case-withdraw-phone.png"), full_page=True)
    wide.goto(phone.url)
    wide.screenshot(path=str(SHOTS / "case-withdraw-wide.png"), full_page=True)

    phone.get_by_role("button", name="取り下げる").click()
    assert "取り下げました" in phone.locator(".notice").inner_text() and fits()
    phone.screenshot(path=str(SHOTS / "case-withdrawn-phone.png"), full_page=True)
    assert "空き家を活かした退院前の体験宿泊" not in asked()

    phone.get_by_role("link", name="取り下げた事例の一覧へ").click()
    row = phone.locator("table.list tbody tr")
    assert row.count() == 1 and "佐藤（保健所）" in row.first.inner_text() and fits()
    phone.screenshot(path=str(SHOTS / "cases-withdrawn-phone.png"), full_page=True)
    wide.goto(phone.url)
    wide.screenshot(path=str(SHOTS / "cases-withdrawn-wide.png"), full_page=True)

    row.first.get_by_role("link", name="元に戻す").click()
    phone.get_by_role("button", name="この事例を元に戻す").click()
    assert "元に戻しました" in phone.locator(".notice").inner_text()
    assert db.execute("SELECT id FROM local_cases").fetchall() == [("chiba-akiya",)]
    assert "空き家を活かした退院前の体験宿泊" in asked()
    phone.goto(f"{base}/cases/withdrawn")
    assert "取り下げた事例はありません" in phone.inner_text("main")

    # the form a curator fills, before and after a Japanese id
    for p, name in ((phone, "phone"), (wide, "wide")):
        p.goto(f"{base}/cases/new")
        p.fill("#f-id", "千葉の住まい")
        p.get_by_role("button", name="検査して追加").click()
        assert "URL やファイル名に使うため" in p.locator("#field-id .problem").first.inner_text()
        p.screenshot(path=str(SHOTS / f"case-form-{name}.png"), full_page=True)
        p.locator("#field-id").scroll_into_view_if_needed()
        p.screenshot(path=str(SHOTS / f"case-form-id-{name}.png"))
    assert fits()
    phone.close()
    wide.close()
