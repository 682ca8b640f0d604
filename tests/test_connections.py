"""The one connection factory (storage/connections.py): every connection's PRAGMAs, and
``:memory:`` supported everywhere in one process: the App, its threads, the reminder engine, the
console and the CLI all work on the same in-memory database, and nothing is written beside it.
Real SQLite, APScheduler, Flask and the installed ``nimo`` command; the clock is injected."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest

from bot import messages
from bot.config import Settings
from bot.app import build_app
from bot.chat import reminder_texts
from bot.chat.core import Incoming
from bot.people.access import add_user, get_user
from scheduler import store
from scheduler.service import ReminderService
from storage.connections import (LOCK_WAIT_S, PerThreadDB, connect, file_of, is_memory, open_db,
                                 target_of)

from .conftest import FIXED_NOW, Clock, RunningClock
from .fakes import PushRecorder


def in_thread(fn):
    """``fn()`` run in a new thread (so it uses that thread's own connection); its result."""
    out: list = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join(30)
    assert not t.is_alive() and len(out) == 1, "the thread did not finish"
    return out[0]


def pragmas(db) -> dict:
    return {name: db.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("foreign_keys", "secure_delete", "busy_timeout", "journal_mode")}


# -- in memory: one database for every connection of the process --------------------------------
def test_an_in_memory_database_is_one_database_for_every_connection_that_opens_its_target():
    db = open_db(":memory:")
    other = connect(target_of(db))
    assert other.conn is not db.conn
    add_user(db, "line", "U1", "staff", "千葉市", FIXED_NOW)
    assert get_user(other, "line", "U1").area == "千葉市"      # migrated and written: the same database
    add_user(other, "line", "U2", "supervisor", "船橋市", FIXED_NOW)
    assert get_user(db, "line", "U2").role == "supervisor"
    fresh = open_db(":memory:")  # each open_db(":memory:") is a database of its own (one per test)
    assert get_user(fresh, "line", "U1") is None and target_of(fresh) != target_of(db)


def test_an_in_memory_database_lives_while_a_connection_holds_it_and_is_gone_after():
    db = open_db(":memory:")
    target = target_of(db)
    add_user(db, "line", "U1", "staff", "千葉市", FIXED_NOW)
    held = connect(target)
    db.close()
    assert get_user(held, "line", "U1") is not None  # another connection kept it
    held.close()
    again = connect(target)
    assert again.execute("SELECT name FROM sqlite_master").fetchall() == []  # freed, not kept for the process


def test_the_threads_of_an_in_memory_per_thread_db_share_the_migrated_database():
    db = PerThreadDB(":memory:")
    add_user(db, "line", "U1", "staff", "千葉市", FIXED_NOW)

    def other_thread():
        add_user(db, "line", "U2", "staff", "船橋市", FIXED_NOW)
        return get_user(db, "line", "U1"), db.get().conn

    seen, conn = in_thread(other_thread)
    assert seen is not None and seen.area == "千葉市"
    assert conn is not db.get().conn  # a connection of its own, to the same database
    assert get_user(db, "line", "U2").area == "船橋市"
    assert db.path == ":memory:" and is_memory(db.target)


def test_an_app_built_on_memory_answers_from_any_thread_and_every_thread_sees_its_writes(index):
    app = build_app(db_path=":memory:", clock=Clock(), index=index)
    add_user(app.db, "line", "Ustaff", "staff", "千葉市", FIXED_NOW)

    def say(text):
        return "\n".join(r.text for r in app.handle(Incoming("line", "Ustaff", "Ustaff", text)))

    assert "よろしいですか" in in_thread(lambda: say("リマインド 明日14時 ケース会議の資料"))  # the registered user
    assert "登録しました" in in_thread(lambda: say("はい"))  # the pending confirmation, kept by another thread
    [r] = store.active(app.db)
    assert r.title == "ケース会議の資料" and r.owner == "Ustaff"


def test_the_engine_runs_on_an_in_memory_database_with_its_own_connections():
    """The engine's threads open the caller's in-memory database again: they see a reminder the
    caller adds after the start, send it once, and the caller reads what they wrote."""
    clock = RunningClock()
    db = open_db(":memory:")
    pusher = PushRecorder()
    svc = ReminderService(db, {"line": pusher}, reminder_texts, clock=clock, every=0.2)
    try:
        assert svc.start()  # took the lease: written through the engine's own connection
        assert db.execute("SELECT COUNT(*) FROM leases WHERE holder = ?", [svc.holder]).fetchone()[0] == 1
        assert svc.db.conn is not db.conn
        rid = store.add_reminder(db, kind="reminder", platform="line", owner="U1", target="U1", is_group=False,
                                 title="準備", due=clock() + timedelta(seconds=1), recurrence=None, asked=True,
                                 now=clock())
        deadline = time.monotonic() + 20
        while store.get(db, rid).status != "done" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        svc.stop()
    assert store.get(db, rid).status == "done"
    assert len(pusher.sent) == 1 and "準備" in pusher.sent[0][1]
    assert db.execute("SELECT status FROM deliveries").fetchall() == [("sent",)]


def test_the_console_on_an_in_memory_database_serves_every_thread(clock):
    from bot.console import auth, create_app
    from bot.reports import records as rp
    from .console_signin import sign_in
    db = PerThreadDB(":memory:")
    add_user(db, "line", "Usv", "supervisor", "千葉市", FIXED_NOW)
    rid, _ = rp.save(db, rp.Draft(type="訪問", date="2026-11-20", case_code="K-012", area="千葉市", summary="表情明るい"),
                     platform="line", author="Usv", source_key="s1", now=FIXED_NOW)
    console = create_app(db, clock, Settings.from_env({"NIMO_PUBLIC_URL": "https://nimo.example.jp"}))
    client = console.test_client()
    assert sign_in(client, auth.new_link(db, "line", "Usv", clock())).status_code == 303
    r = in_thread(lambda: client.get(f"/reports/{rid}"))  # a request in a thread of its own, as waitress's
    assert r.status_code == 200 and "表情明るい" in r.get_data(as_text=True)


def test_nothing_is_kept_beside_an_in_memory_database():
    """No file: no photos folder, sealing key, saved index or spool next to a name that is not one."""
    from bot.chat.dialogs import key_path
    from bot.reports.records import photo_dir
    from knowledge.index_store import folder
    for db in (open_db(":memory:"), PerThreadDB(":memory:")):
        assert file_of(db) is None and file_of(target_of(db)) is None
        assert key_path(db) is None and photo_dir(db) is None and folder(db) is None
    assert file_of(":memory:") is None


def test_a_file_database_is_its_own_target_and_file(tmp_path):
    db = open_db(tmp_path / "nimo.db")
    assert target_of(db) == file_of(db) == str(tmp_path / "nimo.db") and not is_memory(target_of(db))


# -- one factory: the same PRAGMAs on every connection ---------------------------------------------
@pytest.mark.parametrize("where", ["file", "memory"])
def test_every_connection_has_the_same_pragmas_whoever_opens_it(tmp_path, where):
    path = tmp_path / "nimo.db" if where == "file" else ":memory:"
    db = PerThreadDB(path)
    svc = ReminderService(db, {}, reminder_texts, clock=Clock())
    try:
        seen = [pragmas(db), in_thread(lambda: pragmas(db)), in_thread(lambda: pragmas(svc.db))]
    finally:
        svc.stop()
    expected = {"foreign_keys": 1, "secure_delete": 1, "busy_timeout": int(LOCK_WAIT_S * 1000),
                "journal_mode": "wal" if where == "file" else "memory"}
    assert seen == [expected] * 3


# -- the CLI -----------------------------------------------------------------------------------------
def nimo_in_memory(tmp_path, *args, input=""):
    env = dict(os.environ, NIMO_DB=":memory:", PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "bot", *args], input=input, capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)


def test_the_cli_works_on_memory_and_refuses_what_needs_a_file_in_japanese(tmp_path):
    p = nimo_in_memory(tmp_path, "invite", "create", "--area", "千葉市")
    assert p.returncode == 0, p.stderr
    p = nimo_in_memory(tmp_path, "chat", input="ヘルプ\n")
    assert p.returncode == 0 and p.stdout.strip(), p.stderr
    for args, words in ((("serve", "--port", "0"), messages.SERVE_NEEDS_FILE),
                        (("backup", "b.db"), messages.DB_MEMORY_NO_FILE),
                        (("restore", "b.db"), messages.DB_MEMORY_NO_FILE)):
        p = nimo_in_memory(tmp_path, *args)
        assert p.returncode != 0 and words in p.stderr, (args, p.stderr)
        assert "Traceback" not in p.stderr
    assert sorted(f.name for f in tmp_path.iterdir()) == []  # not a file named ":memory:", no backup
