"""Nothing unmasked at rest: a report naming a person with a phone number, sent as a signed LINE
webhook through the real web app and worker (the LINE stand-in on 127.0.0.1), leaves neither the
name nor the number in the database files once it is answered: not in the inbox, not in the
draft waiting for 伏せて確定 / そのまま確定, not in the -wal or -shm files, in any encoding SQLite
or JSON might hold them in."""
from __future__ import annotations

import json
import os
import stat

from bot import inbox as inbox_mod

from .test_web import register, stack, text_event  # noqa: F401  (fixture)

NAME = "田中花子"
PHONE = "090-1234-5678"
REPORT = f"報告 訪問 K-012 {NAME}さんの携帯 {PHONE} に電話。服薬できている。"
SECRETS = (NAME, "花子", PHONE, "09012345678", "1234-5678")


def _forms(secret: str) -> list[bytes]:
    """The bytes ``secret`` may sit in a file as: UTF-8 (SQLite's text, JSON with
    ensure_ascii=False), UTF-16 (a UTF-16 database) and JSON's \\u escapes (ensure_ascii=True)."""
    escaped = json.dumps(secret)[1:-1]
    return sorted({secret.encode("utf-8"), secret.encode("utf-16-le"), secret.encode("utf-16-be"),
                   escaped.encode("ascii"), escaped.upper().replace("\\U", "\\u").encode("ascii")})


def _files(stack) -> dict[str, bytes]:
    base = str(stack.db_path)
    return {p: open(p, "rb").read() for p in (base, base + "-wal", base + "-shm") if os.path.exists(p)}


def _found(stack) -> list[tuple[str, str]]:
    files = _files(stack)
    assert str(stack.db_path) in files
    return [(os.path.basename(p), s) for p, data in files.items() for s in SECRETS
            for form in _forms(s) if form in data]


def _said(stack) -> list[str]:
    return [m["text"] for d in stack.line.delivered for m in d["messages"] if m["type"] == "text"]


def test_raw_webhook_text_is_gone_once_answered(stack):
    register(stack)
    stack.line_post([text_event(REPORT)])
    stack.line_post([text_event("伏せて確定")])
    assert stack.line.wait_for(lambda l: len(l.delivered) == 2)
    assert "保存しました（R-000001）" in _said(stack)[1]
    assert stack.server.workers.wait_settled(15)
    assert _found(stack) == []
    summary = stack.app.db.execute("SELECT summary FROM reports").fetchone()[0]
    assert "〇〇さん" in summary and "***-****-****" in summary and "服薬できている" in summary
    rows = stack.app.db.execute("SELECT platform, event_id, sender, status, payload FROM inbox ORDER BY id").fetchall()
    assert [(r[0], r[2], r[3]) for r in rows] == [("line", "Ustaff", "done")] * 2
    kept = json.loads(rows[0][4])
    assert set(kept) == {"scrubbed", "type", "sha256"} and kept["type"] == "message.text"
    assert len(kept["sha256"]) == 64 and rows[0][1].startswith("01TEST")


def test_a_redelivered_event_is_still_known_once_scrubbed(stack):
    register(stack)
    ev = text_event("ヘルプ")
    stack.line_post([ev])
    assert stack.line.wait_for(lambda l: len(l.delivered) == 1)
    stack.line_post([ev])  # LINE redelivers: the scrubbed row still holds its event id
    assert stack.server.workers.wait_settled(15)
    assert stack.count("inbox") == 1 and len(stack.line.delivered) == 1


def test_a_failed_event_is_scrubbed_too(tmp_path):
    from bot.db import open_db
    from .conftest import Clock
    db = open_db(tmp_path / "n.db")
    box = inbox_mod.Inbox(db, Clock())
    row = box.add("line", "e1", {"type": "message", "message": {"type": "text", "text": REPORT}}, sender="U1")
    assert box.claim(row) is not None
    box.finish(row, "failed")
    assert box.settle()
    payload = db.execute("SELECT payload FROM inbox").fetchone()[0]
    assert NAME not in payload and json.loads(payload)["type"] == "message.text"
    assert not any(form in (tmp_path / "n.db").read_bytes() for s in SECRETS for form in _forms(s))
