"""The web process stays HTTP only: after every console page has been visited (and its forms
posted), and a signed webhook of every platform taken, it holds no handler, no search, no
tokenizer, no numpy and no SDK.

The web app runs in a fresh Python process of its own (as ``nimo serve`` runs it), over a database
file this test fills with real rows through the domain functions: a report with a photo, a local
case, a withdrawn one, a proposal, a gap and a 👎.  The script walks Flask's own list of the
console's addresses, so a page added later without a visit here fails the test.
"""
from __future__ import annotations

import json
import subprocess
import sys

from bot.console import auth, localcases
from bot.curation import proposals
from bot.curation.gaps import log_feedback, log_gap
from storage.connections import PerThreadDB
from bot.people.access import add_user
from bot.reports import records as rp
from bot.reports.photos import strip_metadata

from .conftest import FIXED_NOW, ROOT
from .test_photos import png_with_metadata

PUBLIC = "https://nimo.example.jp"
# What answering needs and the web process must never load (RSS 20 → 53 MB when the console
# imported a handler).
# ``knowledge`` is the search and its answers: no module of it, not even the package.
HEAVY = ("bot.handlers", "bot.chat.router", "knowledge", "numpy", "rapidfuzz", "sudachipy",
         "linebot", "slack_bolt", "slack_sdk", "jwt")
# The case base (casebase/: records, schema and validator, pure Python and YAML) is what the console
# lists and checks a local case with, the very validator ``nimo cases check`` uses; and the card a
# reply shows (a dataclass, bot/chat/core.py).
CASE_DATA = {"casebase", "casebase.cases", "casebase.schema", "casebase.validate", "casebase.useryaml",
             "casebase.faithful", "casebase.card"}

LOCAL = {"id": "chiba-01", "part": 2, "section": "2-(1) 住まいの確保", "title": "空き家を使った体験宿泊",
         "area": "千葉県千葉市", "level": "政令市", "actions": ["不動産協会と協定を結んだ"],
         "keywords": ["住まい"], "source": "千葉市の取組（令和8年）"}

SCRIPT = r"""
import json, re, sys
from datetime import datetime
from werkzeug.test import Client
from bot.config import Settings
from storage.connections import PerThreadDB
from bot.serve.web import WebApp

db_path, token, now, ids = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3]), json.loads(sys.argv[4])
platforms, hooks = json.loads(sys.argv[5]), json.loads(sys.argv[6])
web = WebApp(PerThreadDB(db_path), lambda: now, Settings.from_env({"NIMO_PUBLIC_URL": "https://nimo.example.jp", **platforms}))
c = Client(web)
BASE = "https://nimo.example.jp"
seen, statuses = set(), []


def go(method, path, **kw):
    r = c.open("/console" + path, method=method, base_url=BASE, buffered=True, **kw)  # read and closed
    statuses.append((method, path, r.status_code))
    seen.add((endpoint(path, method), method))
    return r


def endpoint(path, method):
    return web._console.url_map.bind("x").match(path.split("?")[0], method=method)[0]


def csrf(path):
    return re.search(r'name="csrf" value="([^"]+)"', go("GET", path).get_data(as_text=True)).group(1)


go("GET", "/signin")
shown = go("GET", f"/login/{token}").get_data(as_text=True)
form = re.search(r'name="form" value="([^"]+)"', shown).group(1)
assert go("POST", f"/login/{token}", data={"form": form}, headers={"Origin": BASE}).status_code == 303
for path in ("/", "/reports", f"/reports/{ids['report']}", f"/photos/{ids['photo']}", "/reports/export.csv",
             "/reports/export.xlsx", "/reports/chart.png", "/visits", "/gaps", "/gaps?all=1", "/cases",
             "/cases?q=住まい", f"/cases/c/{ids['case']}", "/cases/c/chiba-01", "/cases/new",
             "/cases/c/chiba-01/withdraw", "/cases/withdrawn", f"/cases/withdrawn/{ids['withdrawn']}",
             "/proposals", f"/proposals/{ids['proposal']}", "/users", "/access", "/static/console.css"):
    go("GET", path)
t = csrf("/gaps")
go("POST", "/gaps", data={"csrf": t, "kind": "gap", "key": ids["gap_key"]})
go("POST", "/cases/new", data={"csrf": t, "id": "chiba-02", "part": "2", "section": "2-(1) 住まいの確保",
                                "title": "見学会", "area": "千葉県千葉市", "level": "政令市",
                                "actions": "見学会を開いた", "source": "千葉市の取組（令和8年）"})
go("POST", "/cases/upload", data={"csrf": t, "file": (__import__("io").BytesIO(b"id: x\n"), "x.yaml")})
go("POST", "/cases/c/chiba-01/withdraw", data={"csrf": t})
go("POST", f"/cases/withdrawn/{ids['withdrawn']}/restore", data={"csrf": t, "case": "chiba-03"})
go("POST", f"/proposals/{ids['proposal']}", data={"csrf": t, "op": "publish", "id": "proposal-1", "title": "借り上げ",
                                                  "area": "千葉県千葉市", "level": "市町村", "actions": "借り上げた",
                                                  "source": "ローカル事例（千葉市）"})
go("POST", f"/proposals/{ids['other_proposal']}", data={"csrf": t, "op": "decline", "reason": "同じ取組があります"})
go("POST", "/users", data={"csrf": t, "op": "invite", "role": "staff", "area": "千葉市", "days": "7"})
go("POST", "/users", data={"csrf": t, "op": "remove", "platform": "line", "user_id": ids["staff"]})
go("POST", "/logout", data={"csrf": t})
# every platform's hook, with a request that makes it do all it can in this process (a modal's check)
hooked = [(h["path"], c.post(h["path"], data=h["body"].encode(), headers=h["headers"]).status_code) for h in hooks]
every = {(rule.endpoint, m) for rule in web._console.url_map.iter_rules() for m in rule.methods - {"HEAD", "OPTIONS"}}
print(json.dumps({"modules": sorted(sys.modules), "statuses": statuses, "hooked": hooked,
                  "missed": sorted(f"{e} {m}" for e, m in every - seen)}))
"""


def _world(tmp_path) -> tuple[str, dict]:
    db = PerThreadDB(tmp_path / "n.db")
    admin, staff = "U" + "a" * 32, "U" + "b" * 32
    add_user(db, "line", admin, "admin", "千葉県", FIXED_NOW)
    add_user(db, "line", staff, "staff", "千葉市", FIXED_NOW)
    (tmp_path / "photos").mkdir()
    photo = tmp_path / "photos" / "a.png"
    photo.write_bytes(strip_metadata(png_with_metadata()))
    rid, _ = rp.save(db, rp.Draft(type="訪問", date="2026-11-20", case_code="K-012", area="千葉市", summary="表情明るい",
                                  photos=(str(photo),)), platform="line", author=staff, source_key="s1", now=FIXED_NOW)
    localcases.add(db, LOCAL, now=FIXED_NOW, area="千葉市")
    localcases.add(db, dict(LOCAL, id="chiba-03", title="体験宿泊の延長"), now=FIXED_NOW, area="千葉市")
    localcases.withdraw(db, "chiba-03", by=f"line:{admin}", now=FIXED_NOW)
    draft = {"area": "千葉市", "problem": "課題", "action": "空き家を借り上げた", "outcome": "3人が移れた", "contact": "保健所"}
    chat = _Chat(db)
    log_gap(chat, "line", "グループホームの見学はどう進めた？", "no_match", user=staff)
    log_feedback(chat, "line", staff, "退院の支援は？", ["c01"], -1)
    ids = {"report": rid, "photo": db.execute("SELECT id FROM report_photos").fetchone()[0], "case": "c01",
           "withdrawn": localcases.latest_withdrawal(db, "chiba-03"), "staff": staff,
           "proposal": proposals.add(db, "line", staff, draft, FIXED_NOW),
           "other_proposal": proposals.add(db, "line", staff, draft, FIXED_NOW),
           "gap_key": db.execute("SELECT key FROM gaps").fetchone()[0]}
    return auth.new_link(db, "line", admin, FIXED_NOW), ids


class _Chat:
    """The two things the gap log takes from the chat's App: its database and its clock."""

    def __init__(self, db):
        self.db, self.clock = db, lambda: FIXED_NOW


# Every platform on, for its hook to take a signed request (LINE WORKS's key is the worker's to read).
PLATFORMS = {"LINE_CHANNEL_SECRET": "l" * 32, "LINE_CHANNEL_ACCESS_TOKEN": "t", "SLACK_SIGNING_SECRET": "s" * 32,
             "SLACK_BOT_TOKEN": "xoxb-t", "LINEWORKS_BOT_ID": "2001", "LINEWORKS_BOT_SECRET": "w" * 32,
             "LINEWORKS_CLIENT_ID": "c", "LINEWORKS_CLIENT_SECRET": "cs", "LINEWORKS_SERVICE_ACCOUNT": "a.serviceaccount@x",
             "LINEWORKS_PRIVATE_KEY": "/nonexistent.key"}


def signed_webhooks() -> list[dict]:
    """One signed request per platform (signed here: the stand-ins' modules load the SDKs)."""
    from datetime import datetime, timezone
    from urllib.parse import urlencode
    from .fakes import line_signature, slack_headers
    from .fakes.lineworks import lineworks_headers
    line = json.dumps({"destination": "U", "events": []})
    modal = urlencode({"payload": json.dumps({"type": "view_submission", "user": {"id": "U1"}, "trigger_id": "1.2",
                                              "view": {"callback_id": "nimo_report", "state": {"values": {}}}})})
    issued = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    works = json.dumps({"type": "message", "source": {"userId": "0" * 8 + "-0000-0000-0000-" + "0" * 12},
                        "issuedTime": issued, "content": {"type": "text", "text": "ヘルプ"}}, ensure_ascii=False)
    return [
        {"path": "/line/webhook", "body": line,
         "headers": {"Content-Type": "application/json", "X-Line-Signature": line_signature(line.encode(), "l" * 32)}},
        {"path": "/slack/events", "body": modal,
         "headers": slack_headers(modal.encode(), "s" * 32, content_type="application/x-www-form-urlencoded")},
        {"path": "/lineworks/callback", "body": works, "headers": lineworks_headers(works.encode(), "w" * 32, "2001")},
    ]


def visit_every_page(tmp_path) -> tuple[dict, dict]:
    token, ids = _world(tmp_path)
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "n.db"), token, FIXED_NOW.isoformat(),
                        json.dumps(ids), json.dumps(PLATFORMS), json.dumps(signed_webhooks())],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout), ids


def test_the_web_process_holds_no_handler_search_or_numpy_after_every_console_page(tmp_path):
    out, ids = visit_every_page(tmp_path)
    assert out["missed"] == []  # every page of the console, and every form posted
    failed = [s for s in out["statuses"] if s[2] >= 500]
    assert failed == []
    by_path = {(m, p): code for m, p, code in out["statuses"]}
    # the visits did what they say: signed in, pages shown, forms taken (a 303 is a form that worked)
    assert by_path[("GET", "/reports")] == 200 and by_path[("GET", "/cases/c/c01")] == 200
    assert by_path[("POST", "/cases/new")] == 303 and by_path[("POST", "/cases/upload")] == 400
    decided = [by_path[("POST", f"/proposals/{ids[k]}")] for k in ("proposal", "other_proposal")]
    assert decided == [303, 303]  # published, declined
    assert by_path[("POST", f"/cases/withdrawn/{ids['withdrawn']}/restore")] == 303
    # each platform's hook took its request: LINE's connectivity check, Slack's modal (its mistakes
    # said in the answer), a LINE WORKS message
    assert out["hooked"] == [["/line/webhook", 200], ["/slack/events", 200], ["/lineworks/callback", 200]]
    stored = PerThreadDB(tmp_path / "n.db").execute("SELECT platform, sender FROM inbox").fetchall()
    assert [tuple(r) for r in stored] == [("lineworks", "0" * 8 + "-0000-0000-0000-" + "0" * 12)]  # the modal was not kept
    modules = set(out["modules"])
    assert {"bot.adapters.line_hook", "bot.adapters.slack_hook", "bot.adapters.slack_form"} <= modules
    assert "flask" in modules and "bot.console.views_cases" in modules  # the console really ran
    loaded = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert loaded == []
    assert {m for m in modules if m == "casebase" or m.startswith("casebase.")} <= CASE_DATA
