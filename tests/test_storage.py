"""The database file under stress: a lock or a full disk answers 503 (redelivered, stored once),
a damaged, empty, truncated or foreign file is refused in Japanese, a damaged page met while
answering keeps the event, backup and restore while reports are written, and owner-only files."""
from __future__ import annotations

import copy
import http.client
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from waitress.server import create_server

from bot.config import Settings
from bot import messages
from bot.people.access import add_user
from bot.adapters.terminal import render
from bot.app import build_app
from bot.chat.core import Incoming
from storage.connections import PerThreadDB, open_db
from bot.serve.status import readiness
from bot.serve.web import WebApp
from bot.serve.worker import Server

from .conftest import Clock
from .procs import wait_for
from .test_lineworks import key_pair  # noqa: F401  (a fixture: one RSA key for the module)
from .fakes import LineStandIn, line_signature
from .test_reports import NOW as REPORT_NOW, ONE_LINE
from .test_web import LINE_SECRET, NOW, text_event

ENV = dict(os.environ, PYTHONIOENCODING="utf-8")
ENV.pop("NIMO_NEW_DB", None)


def nimo(db_path, *args, env=None, input="") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], input=input, capture_output=True, text=True,
                          env=dict(ENV, NIMO_DB=str(db_path), **(env or {})), timeout=120)


def refused(p: subprocess.CompletedProcess, words: str) -> None:
    assert p.returncode != 0, p.stdout
    assert words in p.stderr, p.stderr
    assert "Traceback" not in p.stderr + p.stdout


def healthy_db(path: Path, reports: int = 200) -> None:
    """A Nimo database with reports spread over several pages, every change in the main file."""
    db = open_db(path)
    add_user(db, "line", "Ustaff", "staff", "千葉市", NOW)
    for i in range(reports):
        db.execute("INSERT INTO reports (platform, author, area, type, date, summary, created_at, updated_at) "
                   "VALUES ('line', 'Ustaff', '千葉市', '訪問', '2026-11-20', ?, 't', 't')", [f"服薬確認 {i} " + "あ" * 80])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def damage_reports(path: Path) -> None:
    """Garbage over the root page of the reports table (in the middle of the file), as a failing
    disk leaves it: every read of reports meets it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'reports'").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.execute("BEGIN IMMEDIATE")  # no writer may move the WAL's frames while they are damaged
    try:
        _garbage(path, root, size)
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def _garbage(path: Path, root: int, size: int) -> None:
    garbage = b"\xa5\x5a" * (size // 2)
    with open(path, "r+b") as f:
        f.seek((root - 1) * size)
        f.write(garbage)
    wal = Path(f"{path}-wal")  # a running Nimo may still read the page from the WAL: damage it there too
    if wal.exists():
        with open(wal, "r+b") as f:
            data = f.read()
            for at in range(32, len(data) - 24 - size + 1, 24 + size):
                if int.from_bytes(data[at:at + 4], "big") == root:
                    f.seek(at + 24)
                    f.write(garbage)


# -- refusing a file that is not a healthy Nimo database ---------------------------------------------
def _zero(p: Path) -> None:
    p.write_bytes(b"")


def _not_sqlite(p: Path) -> None:
    p.write_bytes("利用者一覧\n佐藤,千葉市\n".encode() * 40)


def _bad_header(p: Path) -> None:
    healthy_db(p)
    with open(p, "r+b") as f:
        f.write(b"not a header....")


def _foreign(p: Path) -> None:
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO notes (body) VALUES ('another app')")
    conn.commit()
    conn.close()


def _truncated(p: Path) -> None:
    healthy_db(p)
    with open(p, "r+b") as f:
        f.truncate(p.stat().st_size // 2)


def _damaged(p: Path) -> None:
    healthy_db(p)
    damage_reports(p)


def _newer(p: Path) -> None:
    healthy_db(p)
    conn = sqlite3.connect(p)
    conn.execute("PRAGMA user_version = 9999")
    conn.close()


CASES = {"zero": (_zero, "0バイト"), "not_sqlite": (_not_sqlite, "SQLite のデータベースではありません"),
         "bad_header": (_bad_header, "SQLite のデータベースではありません"),
         "foreign": (_foreign, "Nimo のデータベースではありません"),
         "truncated": (_truncated, "壊れています"), "damaged": (_damaged, "壊れています"),
         "newer": (_newer, "（版 9999、この Nimo は ")}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("command", [("users", "list"), ("chat",), ("worker",)])
def test_a_file_that_is_not_a_healthy_nimo_database_is_refused_in_japanese(tmp_path, case, command):
    make, words = CASES[case]
    db = tmp_path / "nimo.db"
    make(db)
    before = db.read_bytes()
    p = nimo(db, *command, env={"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"})
    refused(p, words)
    assert db.read_bytes() == before  # nothing was migrated into it or written over it
    if case in ("zero", "truncated", "damaged"):
        assert "nimo restore" in p.stderr


def test_serve_refuses_a_zero_byte_database_before_starting_a_worker(tmp_path):
    db = tmp_path / "nimo.db"
    db.write_bytes(b"")
    p = nimo(db, "serve", "--port", "0", env={"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"})
    refused(p, "0バイト")


@pytest.mark.parametrize("case", ["zero", "foreign"])
def test_a_new_database_replaces_an_empty_or_foreign_file_only_when_asked_and_keeps_it(tmp_path, case):
    make, _ = CASES[case]
    db = tmp_path / "nimo.db"
    make(db)
    before = db.read_bytes()
    p = nimo(db, "users", "list", env={"NIMO_NEW_DB": "1"})
    assert p.returncode == 0, p.stderr
    [aside] = [f for f in tmp_path.iterdir() if f.name.startswith("nimo.db.replaced-")]
    assert aside.read_bytes() == before and "別名" not in p.stdout and str(aside) in p.stderr
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] > 0


def test_a_missing_file_is_still_created(tmp_path):
    db = tmp_path / "new" / "nimo.db"
    assert nimo(db, "users", "list").returncode == 0 and db.is_file()


def test_a_damaged_backup_is_not_restored_and_nothing_changes(tmp_path):
    db, bad = tmp_path / "nimo.db", tmp_path / "bad.db"
    healthy_db(db)
    _damaged(bad)
    before = db.read_bytes()
    refused(nimo(db, "restore", str(bad)), "壊れています")
    assert db.read_bytes() == before and [f.name for f in tmp_path.iterdir() if "before-restore" in f.name] == []


# -- a lock or a full disk: 503, redelivered, stored once ---------------------------------------------
class WebStack:
    """The web path with the web process's short lock wait (or a page limit), and a real worker
    answering through the LINE stand-in, all on 127.0.0.1."""

    def __init__(self, tmp_path, index, line, *, busy_timeout=0.3, setup=None, settings=None):
        self.db_path = tmp_path / "nimo.db"
        settings = settings or {"LINE_CHANNEL_SECRET": LINE_SECRET, "LINE_CHANNEL_ACCESS_TOKEN": line.access_token,
                                "LINE_API_BASE_URL": line.url}
        self.app = build_app(db_path=str(self.db_path), index=index, clock=Clock())
        settings = Settings.from_env(settings)
        self.server = Server(self.app, settings, threads=1)
        self.web = WebApp(PerThreadDB(self.db_path, busy_timeout=busy_timeout, setup=setup), Clock(), settings,
                          on_stored=self.server.answerer.submit)
        self.server.start_workers()
        self.http = create_server(self.web, host="127.0.0.1", port=0, threads=2, asyncore_loop_timeout=0.05)
        self.thread = threading.Thread(target=self.http.run, daemon=True)
        self.thread.start()

    def stop(self):
        channels = list(self.http._map.values())
        self.http._map.clear()
        self.thread.join(5)
        for ch in channels:
            ch.close()
        self.http.task_dispatcher.shutdown()
        self.server.stop()

    def call(self, method, path, body=b"", headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.http.effective_port, timeout=30)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()

    def post_line(self, body: bytes):
        return self.call("POST", "/line/webhook", body, {"Content-Type": "application/json",
                                                         "X-Line-Signature": line_signature(body, LINE_SECRET)})

    def stored(self) -> int:
        return self.app.db.execute("SELECT COUNT(*) FROM inbox").fetchone()[0]


@contextmanager
def web_stack(tmp_path, index, **kw):
    with LineStandIn() as line:
        s = WebStack(tmp_path, index, line, **kw)
        try:
            yield s, line
        finally:
            s.stop()
        assert line.errors == []


def test_a_lock_held_elsewhere_answers_503_and_the_redelivery_is_stored_once_and_answered(tmp_path, index, caplog):
    with web_stack(tmp_path, index) as (s, line):
        add_user(s.app.db, "line", "Ustaff", "staff", "千葉市", NOW)
        body = json.dumps({"destination": "Ubot", "events": [text_event("ヘルプ")]}).encode()
        other = sqlite3.connect(s.db_path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # another process writing for a long time
        try:
            status, headers, _ = s.post_line(body)
            assert status == 503 and int(headers["Retry-After"]) > 0
            ready, _, report = s.call("GET", "/readyz")
            assert ready == 503 and json.loads(report)["database_error"] == "locked"
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert any("locked" in r.getMessage() for r in caplog.records if r.name == "nimo.web")
        assert not any("ヘルプ" in r.getMessage() for r in caplog.records)
        assert s.stored() == 0
        for _ in range(2):  # LINE's redelivery, then once more
            assert s.post_line(body)[0] == 200
            assert s.server.workers.wait_idle(10)
        assert s.stored() == 1
        assert len(line.delivered) == 1


def test_a_full_disk_answers_503_and_says_so_in_the_log(tmp_path, index, caplog):
    def limit(conn):  # SQLite's own page limit: a genuine SQLITE_FULL on the web's connections
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")

    with web_stack(tmp_path, index, setup=limit) as (s, line):
        body = json.dumps({"destination": "Ubot", "events": [text_event("報告 " + "訪問した。" * 900)]}).encode()
        status, headers, _ = s.post_line(body)
        assert status == 503 and "Retry-After" in headers
        assert s.stored() == 0
        assert any("disk full" in r.getMessage() for r in caplog.records if r.name == "nimo.web")
        assert not any("訪問した" in r.getMessage() for r in caplog.records)


def test_lineworks_never_resends_so_a_callback_met_by_a_lock_is_kept_in_the_spool_and_answered(
        tmp_path, index, key_pair, caplog):
    from .fakes import LineWorksStandIn, lineworks_headers
    from .test_lineworks import BOT_ID, BOT_SECRET, USER, lw_settings, text_event as works_text
    key = tmp_path / "private.key"
    key.write_bytes(key_pair[0])
    with LineWorksStandIn(public_key=key_pair[1], bot_id=BOT_ID) as works:
        s = WebStack(tmp_path, index, None, settings=lw_settings(works, key))
        try:
            add_user(s.app.db, "lineworks", USER, "staff", "千葉市", NOW)
            body = json.dumps(works_text("ヘルプ"), ensure_ascii=False).encode()
            other = sqlite3.connect(s.db_path, isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")
            try:
                status, _, _ = s.call("POST", "/lineworks/callback", body, lineworks_headers(body, BOT_SECRET, BOT_ID))
                assert status == 200
                [kept] = list((tmp_path / "spool").glob("*.json"))
                assert kept.stat().st_mode & 0o777 == 0o600 and s.stored() == 0
            finally:
                other.execute("ROLLBACK")
                other.close()
            assert wait_for(lambda: works.delivered)  # moved into the inbox and answered once the lock is gone
            assert s.server.workers.wait_idle(10)
            assert s.stored() == 1 and list((tmp_path / "spool").glob("*.json")) == []
            assert len(works.delivered) == 1
            assert not any("ヘルプ" in r.getMessage() for r in caplog.records)
        finally:
            s.stop()
        assert works.errors == []


def test_readyz_writes_a_probe_row(tmp_path, index):
    with web_stack(tmp_path, index) as (s, line):
        assert s.app.db.execute("SELECT COUNT(*) FROM health WHERE name = 'readyz_probe'").fetchone()[0] == 0
        s.call("GET", "/readyz")
        assert s.app.db.execute("SELECT checked_at FROM health WHERE name = 'readyz_probe'").fetchone() is not None
        report = readiness(s.app.db, Clock())
        assert report["database_writable"] is True and "readyz_probe" not in report["platforms"]


# -- a damaged page met while answering ---------------------------------------------------------------
def test_a_damaged_page_while_answering_keeps_the_event_says_so_and_restore_brings_it_back(tmp_path, index, caplog):
    from bot.serve.inbox import Inbox, Workers
    db_path = tmp_path / "nimo.db"
    app = build_app(db_path=str(db_path), clock=Clock(REPORT_NOW), index=index)
    add_user(app.db, "line", "Uline", "staff", "千葉市", REPORT_NOW)
    said: list[str] = []

    def answer(platform, payload, row_id):  # the router, as every platform's answer() calls it
        said.append(render(app.handle(Incoming(platform, payload["user"], payload["user"], payload["text"], True,
                                                event_id=payload["id"]))))

    inbox = Inbox(app.db, app.clock)
    workers = Workers(inbox, answer, threads=1)
    workers.start()
    try:
        workers.submit(inbox.add("line", "e1", {"user": "Uline", "text": ONE_LINE, "id": "e1"}, sender="Uline"))
        assert workers.wait_idle(10) and "確定" in said[-1]
        backup = tmp_path / "before.db"
        assert nimo(db_path, "backup", str(backup)).returncode == 0
        damage_reports(db_path)
        row = inbox.add("line", "e2", {"user": "Uline", "text": "確定", "id": "e2"}, sender="Uline")
        workers.submit(row)
        assert workers.wait_idle(10)
        assert said[-1] == messages.DB_DAMAGED_KEPT
        assert app.db.execute("SELECT status FROM inbox WHERE id = ?", [row]).fetchone() == ("working",)
        assert any("damaged" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
        assert not any("確定" in r.getMessage() or "服薬" in r.getMessage() for r in caplog.records)
        report = readiness(app.db, app.clock)
        assert report["ready"] is False and report["database_error"] == "damaged"
        workers.submit(row)  # the poll offers it again: it is not answered twice while damaged
        assert workers.wait_idle(10) and said.count(messages.DB_DAMAGED_KEPT) == 1
    finally:
        workers.stop()
    # the operator stops Nimo and restores the backup: what the user sent is there to answer
    p = nimo(db_path, "restore", str(backup))
    assert p.returncode == 0, p.stderr
    assert "1件" in p.stdout
    restored = sqlite3.connect(db_path)
    assert restored.execute("SELECT status FROM inbox WHERE event_id = 'e2'").fetchone() == ("new",)
    assert restored.execute("PRAGMA quick_check").fetchone() == ("ok",)
    assert restored.execute("SELECT COUNT(*) FROM health WHERE name = 'database'").fetchone()[0] == 0


# -- backup and restore -------------------------------------------------------------------------------
def test_a_backup_during_a_burst_of_reports_holds_every_report_acknowledged_before_it(tmp_path, index):
    app = build_app(db_path=str(tmp_path / "live.db"), clock=Clock(REPORT_NOW), index=index)
    add_user(app.db, "line", "Uline", "staff", "千葉市", REPORT_NOW)
    acked: list[str] = []
    stop = threading.Event()
    seq = iter(range(1, 1_000_000))

    def writer():
        while not stop.is_set():
            for text in (ONE_LINE, "確定"):
                out = render(app.handle(Incoming("line", "Uline", "Uline", text, True, event_id=f"e{next(seq)}")))
            if "保存しました（" in out:
                acked.append(out.split("保存しました（", 1)[1].split("）", 1)[0])

    t = threading.Thread(target=writer)
    t.start()
    try:
        assert wait_for(lambda: len(acked) >= 20 or not t.is_alive(), timeout=120)
        assert t.is_alive()  # the writer is still writing while the backup is made
        before = list(acked)
        p = nimo(tmp_path / "live.db", "backup", str(tmp_path / "b.db"))
    finally:
        stop.set()
        t.join()
    assert p.returncode == 0, p.stderr
    p = nimo(tmp_path / "restored.db", "restore", str(tmp_path / "b.db"))
    assert p.returncode == 0, p.stderr
    restored = sqlite3.connect(tmp_path / "restored.db")
    have = {f"R-{i:06d}" for (i,) in restored.execute("SELECT id FROM reports")}
    assert set(before) <= have
    assert restored.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_backup_copies_the_photos_and_restore_puts_them_back(tmp_path):
    from bot.reports import photos
    from .test_photos import png_with_metadata
    db_path = tmp_path / "a" / "nimo.db"
    healthy_db(db_path, reports=1)
    stored = photos.store(png_with_metadata(), db_path.parent / "photos", name_hint="line-abc")
    draft = photos.store(png_with_metadata() + b"", db_path.parent / "photos", name_hint="line-draft")
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO report_photos (report_id, path, bytes, created_at) VALUES (1, ?, 10, 't')", [str(stored)])
    conn.commit()
    conn.close()
    p = nimo(db_path, "backup", str(tmp_path / "bk" / "b.db"))
    assert p.returncode == 0 and "写真 1枚" in p.stdout, p.stderr
    assert (tmp_path / "bk" / "b.db.photos" / stored.name).read_bytes() == stored.read_bytes()
    assert not (tmp_path / "bk" / "b.db.photos" / draft.name).exists()  # a draft's photo is no report's
    shutil.rmtree(db_path.parent / "photos")
    p = nimo(db_path, "restore", str(tmp_path / "bk" / "b.db"))
    assert p.returncode == 0, p.stderr
    assert stored.read_bytes() == (tmp_path / "bk" / "b.db.photos" / stored.name).read_bytes()


def test_restore_is_refused_while_a_worker_is_alive_unless_forced(tmp_path):
    from bot.serve.inbox import Inbox
    from bot.app import utc_now
    db_path = tmp_path / "nimo.db"
    healthy_db(db_path)
    assert nimo(db_path, "backup", str(tmp_path / "b.db")).returncode == 0
    Inbox(open_db(db_path), utc_now).heartbeat("w1")
    refused(nimo(db_path, "restore", str(tmp_path / "b.db")), "動いています")
    assert not [f for f in tmp_path.iterdir() if "before-restore" in f.name]
    assert nimo(db_path, "restore", "--force", str(tmp_path / "b.db")).returncode == 0
    assert [f for f in tmp_path.iterdir() if "before-restore" in f.name and not f.name.endswith(("-wal", "-shm"))]


def test_a_newer_database_is_not_restored(tmp_path):
    db_path, newer = tmp_path / "nimo.db", tmp_path / "newer.db"
    healthy_db(db_path)
    healthy_db(newer)
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 9999")
    conn.close()
    refused(nimo(db_path, "restore", str(newer)), "新しい版")


def test_the_daily_backup_is_made_once_a_day_and_only_the_newest_are_kept(tmp_path):
    from datetime import timedelta
    from storage.backup import daily
    db_path = tmp_path / "nimo.db"
    healthy_db(db_path)
    out = tmp_path / "daily"
    made = [daily(db_path, out, 3, NOW + timedelta(days=d)) for d in range(5)]
    assert daily(db_path, out, 3, NOW + timedelta(days=4, hours=5)) is None  # the day's is there
    assert sorted(f.name for f in out.glob("*.db")) == [m.name for m in made[-3:]]
    assert (out.stat().st_mode & 0o777) == 0o700 and all((f.stat().st_mode & 0o777) == 0o600 for f in out.iterdir())


def _refusal(case: str, tmp_path: Path):
    """(what to run, the words its sentence has) for each way a backup or restore is refused."""
    from storage.backup import backup, restore
    from storage.migrations import MIGRATIONS
    db, out = tmp_path / "nimo.db", tmp_path / "b.db"

    def restore_from(src):
        return lambda: restore(db, src, known_version=len(MIGRATIONS), now=NOW)

    if case == "exists":
        out.write_bytes(b"an earlier backup")
        return lambda: backup(db, out), "もうあります"
    if case == "missing":
        return restore_from(tmp_path / "none.db"), "がありません。ファイルの場所"
    if case == "no_database":
        return lambda: backup(tmp_path / "none.db", out), "NIMO_DB を確かめて"
    if case == "foreign":
        _foreign(out)
        return restore_from(out), "Nimo のデータベースではありません"
    if case == "not_nimo":  # a versioned SQLite file without Nimo's tables
        conn = sqlite3.connect(out)
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("PRAGMA user_version = 1")
        conn.close()
        return restore_from(out), "Nimo のデータベースではありません"
    if case == "memory":
        return lambda: restore(":memory:", out, known_version=len(MIGRATIONS), now=NOW), ":memory:"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["exists", "missing", "no_database", "foreign", "not_nimo", "memory"])
def test_a_refused_backup_or_restore_is_said_in_japanese_from_its_code_and_changes_nothing(tmp_path, case):
    from storage.backup import BackupError
    db = tmp_path / "nimo.db"
    healthy_db(db, reports=1)
    run, words = _refusal(case, tmp_path)
    before = {f.name: f.read_bytes() for f in tmp_path.iterdir() if f.is_file()}
    with pytest.raises(BackupError) as e:
        run()
    said = messages.backup_problem(e.value.code, e.value.path, e.value.why)
    assert words in said and "Traceback" not in said
    assert {f.name: f.read_bytes() for f in tmp_path.iterdir() if f.is_file()} == before


# -- owner-only files ----------------------------------------------------------------------------------
@pytest.fixture
def umask022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_the_database_its_wal_and_shm_and_backups_are_owner_only_under_umask_022(tmp_path, umask022):
    db_path = tmp_path / "data" / "nimo.db"
    db = open_db(db_path)
    add_user(db, "line", "Ustaff", "staff", "千葉市", NOW)
    for f in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        assert f.exists() and (f.stat().st_mode & 0o777) == 0o600, f
    assert (db_path.parent.stat().st_mode & 0o777) == 0o700
    db.close()
    from storage.backup import backup
    backup(db_path, tmp_path / "bk" / "b.db")
    assert (tmp_path / "bk" / "b.db").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "bk").stat().st_mode & 0o777 == 0o700


def test_serve_check_warns_about_files_others_can_read(tmp_path):
    db_path = tmp_path / "nimo.db"
    healthy_db(db_path)
    quiet = nimo(db_path, "serve", "--check")
    assert "ほかの利用者も読めます" not in quiet.stdout
    os.chmod(db_path, 0o644)
    loud = nimo(db_path, "serve", "--check")
    assert f"{db_path} はほかの利用者も読めます（644）" in loud.stdout and "Traceback" not in loud.stderr


def test_a_check_cut_short_on_a_large_file_says_so_and_does_not_refuse(tmp_path):
    from storage.migrations import MIGRATIONS
    from storage.files import check
    db_path = tmp_path / "nimo.db"
    healthy_db(db_path, reports=2000)
    assert check(db_path, known_version=len(MIGRATIONS)) == []
    [notice] = check(db_path, known_version=len(MIGRATIONS), budget=0.0)
    assert (notice.kind, notice.path) == ("incomplete", str(db_path))
    warning = messages.db_notice(notice.kind, notice.path, notice.aside, notice.seconds)
    assert "打ち切りました" in warning and "確かめきれていません" in warning
