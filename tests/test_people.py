"""People are named, not shown as platform ids, from the user's side.

Registration on LINE and Slack through signed webhooks, the worker and the stand-ins' profile
endpoints (``GET /v2/bot/profile/{userId}``, ``users.info``); 予定 全体 through the router; the
``nimo`` commands through click's CliRunner (users, rename, exports, ``serve --check``); the
console's downloads through Flask's test client.  Files are read back with openpyxl and csv.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from bot.config import Settings
from bot.people.access import add_user, create_invite, get_user, set_display_name
from bot.app import build_app
from bot.cli import main
from bot.chat.core import Incoming
from storage.connections import open_db

from .conftest import FIXED_NOW, Clock
from .test_web import dm, slack_event, stack, text_event  # noqa: F401  (stack: the web stack fixture)

SATO = "U" + "5a70" * 8          # LINE user ids: U + 32 hex digits
SUZUKI = "U" + "b2c3" * 8
SV = "U" + "0f0f" * 8
SLACK_USER = "U024BE7LH"


def say(app, text: str, user: str, platform: str = "line") -> str:
    return "\n".join(getattr(r, "text", "") for r in app.handle(Incoming(platform, user, user, text, direct=True)))


def plan_and_overview(app, staff: str) -> str:
    """``staff`` registers a visit plan; a supervisor of the area asks for 予定 全体."""
    add_user(app.db, "line", SV, "supervisor", "船橋市", FIXED_NOW)
    say(app, "退院 K-077 11/20", staff)
    say(app, "はい", staff)
    return say(app, "予定 全体", SV)


# -- registration takes the name from the platform ---------------------------------------------------
def test_registering_on_line_takes_the_name_from_the_line_profile(stack):
    stack.line.profiles[SATO] = {"displayName": "佐藤 花子"}
    code = create_invite(stack.app.db, "staff", "船橋市", stack.clock())
    stack.line_post([text_event(f"登録 {code}", user=SATO)])
    assert stack.line.wait_for(lambda l: len(l.delivered) == 1)
    said = stack.line.delivered[0]["messages"][0]["text"]
    assert "登録しました" in said and "「佐藤 花子」" in said
    assert get_user(stack.app.db, "line", SATO).display_name == "佐藤 花子"
    assert any(r["path"] == f"/v2/bot/profile/{SATO}" for r in stack.line.requests)
    overview = plan_and_overview(stack.app, SATO)
    assert "担当 佐藤 花子" in overview and SATO not in overview


def test_registering_on_slack_takes_the_display_name_else_the_real_name(stack):
    stack.slack.users[SLACK_USER] = {"profile": {"display_name": "", "real_name": "鈴木 一郎"}}
    code = create_invite(stack.app.db, "staff", "船橋市", stack.clock())
    assert stack.slack_post(slack_event(dm(f"登録 {code}", user=SLACK_USER))) == 200
    assert stack.slack.wait_for(lambda s: any("登録しました" in t for t in s.texts()))
    assert get_user(stack.app.db, "slack", SLACK_USER).display_name == "鈴木 一郎"
    assert any("users.info" in r["path"] for r in stack.slack.requests)


def test_a_profile_that_cannot_be_fetched_never_blocks_registration(stack):
    stack.line.fail_next(f"/v2/bot/profile/{SUZUKI}", 500, times=5)
    code = create_invite(stack.app.db, "staff", "船橋市", stack.clock())
    stack.line_post([text_event(f"登録 {code}", user=SUZUKI)])
    assert stack.line.wait_for(lambda l: len(l.delivered) == 1)
    assert "登録しました" in stack.line.delivered[0]["messages"][0]["text"]
    assert get_user(stack.app.db, "line", SUZUKI).display_name is None
    overview = plan_and_overview(stack.app, SUZUKI)
    assert f"担当 line:{SUZUKI[:9]}…" in overview and SUZUKI not in overview  # shortened, never whole
    stack.line.reset()  # the injected 500s were answered on purpose


# -- the CLI: users ----------------------------------------------------------------------------------
@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("NIMO_DB", str(tmp_path / "nimo.db"))
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        r = runner.invoke(main, list(args))
        assert (r.exit_code == 0) == ok, r.output
        return r
    run.db_path = tmp_path / "nimo.db"
    return run


def test_users_add_refuses_an_id_of_the_wrong_shape_for_its_platform(cli):
    for platform, bad in (("line", "U123"), ("line", "佐藤花子"), ("line", "u" + "5a70" * 8),
                          ("slack", "u024be7lh"), ("slack", "@sato"), ("lineworks", "sato@example.com")):
        r = cli("users", "add", "--platform", platform, "--id", bad, "--area", "千葉市", ok=False)
        assert "ユーザーIDの形ではありません" in r.output and "招待コード" in r.output and "Traceback" not in r.output
    assert "全0人" in cli("users", "list").output
    for platform, good in (("line", SATO), ("slack", SLACK_USER), ("slack", "W012A3CDE"),
                           ("lineworks", "8f0e2c1a-0d2b-4a7e-9c1f-000000000001")):
        assert "登録しました" in cli("users", "add", "--platform", platform, "--id", good, "--area", "千葉市").output
    assert "全4人" in cli("users", "list").output


def test_users_are_listed_by_name_and_renamed(cli):
    cli("users", "add", "--platform", "line", "--id", SATO, "--area", "千葉市", "--name", "佐藤（保健師）")
    cli("users", "add", "--platform", "line", "--id", SUZUKI, "--area", "千葉市")
    listed = cli("users", "list").output
    assert f"佐藤（保健師）\tline\t{SATO}\tstaff\t千葉市" in listed
    assert f"（名前未設定）\tline\t{SUZUKI}" in listed
    assert "名前を変えました" in cli("users", "rename", "line", SUZUKI, "鈴木（PSW）").output
    assert f"鈴木（PSW）\tline\t{SUZUKI}" in cli("users", "list").output
    assert "登録されていません" in cli("users", "rename", "line", SV, "誰か", ok=False).output
    assert "名前を入れてください" in cli("users", "rename", "line", SATO, "  ", ok=False).output
    assert "50字以内" in cli("users", "rename", "line", SATO, "長" * 51, ok=False).output


# -- the CLI: exports --------------------------------------------------------------------------------
@pytest.fixture
def reported(cli, index):
    """Two reports saved through chat at 09:30:12.345678 Tokyo time, one by a named user."""
    app = build_app(db=open_db(cli.db_path), clock=Clock(datetime(2026, 11, 24, 0, 30, 12, 345678, tzinfo=timezone.utc)),
                    index=index)
    add_user(app.db, "line", SATO, "staff", "千葉市", FIXED_NOW)
    add_user(app.db, "line", SUZUKI, "staff", "千葉市", FIXED_NOW)
    set_display_name(app.db, "line", SATO, "佐藤（保健師）")
    for who, text in ((SATO, "報告 訪問 K-012 服薬確認できた。次回12/10"), (SUZUKI, "報告 電話 K-013 家族から電話。次回12/3 14時")):
        say(app, text, who)
        say(app, "確定", who)
    assert app.db.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 2
    return cli


def test_csv_export_names_authors_and_shows_japan_time_to_the_minute(reported, tmp_path):
    out = tmp_path / "r.csv"
    reported("reports", "export", "-o", str(out))
    table = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    head = table[0]
    rows = {r[head.index("種類")]: dict(zip(head, r)) for r in table[1:]}
    assert rows["訪問"]["報告者"] == "佐藤（保健師）"
    assert rows["電話"]["報告者"] == f"line:{SUZUKI[:9]}…"
    assert rows["訪問"]["保存日時"] == "2026-11-24 09:30"
    assert rows["訪問"]["日付"] == "2026-11-24" and rows["訪問"]["次回の日付"] == "2026-12-10"
    assert rows["電話"]["次回の日付"] == "2026-12-03" and rows["電話"]["次回の時刻"] == "14:00"  # the time kept
    assert rows["訪問"]["次回の時刻"] == ""
    assert SATO not in out.read_text(encoding="utf-8-sig")


def test_xlsx_export_has_date_cells_and_readable_widths(reported, tmp_path):
    from openpyxl import load_workbook
    out = tmp_path / "r.xlsx"
    reported("reports", "export", "-o", str(out))  # the format follows the extension
    ws = load_workbook(out).active
    head = [c.value for c in ws[1]]
    visit = next(r for r in ws.iter_rows(min_row=2) if r[head.index("種類")].value == "訪問")
    day, saved, nxt = (visit[head.index(h)] for h in ("日付", "保存日時", "次回の日付"))
    assert day.is_date and day.value == datetime(2026, 11, 24) and day.number_format == "yyyy-mm-dd"
    assert nxt.is_date and nxt.value == datetime(2026, 12, 10)
    assert saved.is_date and saved.value == datetime(2026, 11, 24, 9, 30) and saved.number_format == "yyyy-mm-dd hh:mm"
    assert visit[head.index("報告者")].value == "佐藤（保健師）"
    widths = {h: ws.column_dimensions[chr(ord("A") + i)].width for i, h in enumerate(head)}
    assert widths["内容"] >= 40 and widths["保存日時"] >= 16 and all(w >= 8 for w in widths.values())
    assert ws.freeze_panes == "A2"


@pytest.mark.parametrize("fmt, name", [("xlsx", "r.csv"), ("csv", "r.xlsx")])
def test_an_export_whose_format_and_extension_disagree_is_refused(reported, tmp_path, fmt, name):
    out = tmp_path / name
    r = reported("reports", "export", "--format", fmt, "-o", str(out), ok=False)
    assert "拡張子" in r.output and "何も書き出していません" in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_console_downloads_name_authors_and_use_japan_time(reported, tmp_path):
    from openpyxl import load_workbook
    from bot.console import auth, create_app
    db = open_db(reported.db_path)
    add_user(db, "line", SV, "supervisor", "千葉市", FIXED_NOW)
    console = create_app(db, Clock(), Settings.from_env({"NIMO_PUBLIC_URL": "https://nimo.example.jp"}))
    c = console.test_client()
    from .console_signin import sign_in
    assert sign_in(c, auth.new_link(db, 'line', SV, FIXED_NOW)).status_code == 303
    table = list(csv.reader(io.StringIO(c.get("/reports/export.csv").data.decode("utf-8-sig"))))
    head = table[0]
    assert {r[head.index("報告者")] for r in table[1:]} == {"佐藤（保健師）", f"line:{SUZUKI[:9]}…"}
    assert {r[head.index("保存日時")] for r in table[1:]} == {"2026-11-24 09:30"}
    ws = load_workbook(io.BytesIO(c.get("/reports/export.xlsx").data)).active
    assert all(ws.cell(row, 2).is_date for row in (2, 3))


# -- the CLI: serve --check --------------------------------------------------------------------------
GOOD = {"LINE_CHANNEL_SECRET": "0123456789abcdef" * 2, "LINE_CHANNEL_ACCESS_TOKEN": "aB3+/" * 34 + "x=",
        "SLACK_SIGNING_SECRET": "fedcba9876543210" * 2, "SLACK_BOT_TOKEN": "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"}


def check(monkeypatch, **values) -> tuple[int, str]:
    for name in GOOD:
        monkeypatch.setenv(name, values.get(name, GOOD[name]))
    for name in ("LINEWORKS_BOT_ID", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    r = CliRunner().invoke(main, ["serve", "--check"])
    return r.exit_code, r.output


@pytest.mark.parametrize("name, value, said", [
    ("LINE_CHANNEL_SECRET", "my-line-secret", "32桁"),
    ("LINE_CHANNEL_SECRET", "0123456789ABCDEF0123456789ABCDEZ", "32桁"),
    ("LINE_CHANNEL_ACCESS_TOKEN", "0123456789abcdef" * 2, "100字以上"),  # the channel secret, pasted twice
    ("LINE_CHANNEL_ACCESS_TOKEN", "aB3+/" * 34 + "x=\n", "改行"),
    ("SLACK_BOT_TOKEN", "xoxp-1234567890-1234567890123-AbCdEfGhIjKl", "ユーザーのトークン"),
    ("SLACK_BOT_TOKEN", "xapp-1-A0123456789-1234567890123-abcdef", "SLACK_APP_TOKEN"),
    ("SLACK_BOT_TOKEN", "1234567890-AbCdEfGhIjKl", "xoxb-"),
    ("SLACK_BOT_TOKEN", '"xoxb-1234567890-1234567890123-AbCdEfGh"', "引用符"),
    ("SLACK_SIGNING_SECRET", "xoxb-1234567890-1234567890123-AbCdEfGh", "32桁"),
])
def test_serve_check_says_what_is_wrong_with_a_malformed_value(cli, monkeypatch, name, value, said):
    code, out = check(monkeypatch, **{name: value})
    platform = "LINE" if name.startswith("LINE") else "Slack"
    other = "Slack" if platform == "LINE" else "LINE"
    assert f"{platform}: オフ" in out and f"{platform}: オン" not in out and f"{other}: オン" in out
    assert f"{name} の形が違います" in out and said in out
    assert value.strip().strip('"') not in out  # never the value itself
    code, out = check(monkeypatch, **{name: value, ("SLACK_BOT_TOKEN" if platform == "LINE" else "LINE_CHANNEL_SECRET"): ""})
    assert code == 1  # nothing usable is on


# -- the CLI opens and closes the database -----------------------------------------------------------
@pytest.mark.parametrize("args", [["users", "list"], ["gaps"], ["cases"], ["remind", "list"], ["reports", "list"],
                                  ["reports", "summary"], ["invite", "create", "--area", "千葉市"], ["status"]])
def test_every_command_closes_the_database_it_opened(cli, monkeypatch, args):
    import sqlite3
    from storage import connections as dbmod
    opened = []
    real = dbmod.open_db

    def recording(path, **kw):
        opened.append(real(path, **kw))
        return opened[-1]
    monkeypatch.setattr(dbmod, "open_db", recording)
    CliRunner().invoke(main, args)
    assert opened, "the command opened no database"
    for db in opened:
        with pytest.raises(sqlite3.ProgrammingError):
            db.conn.execute("SELECT 1")
