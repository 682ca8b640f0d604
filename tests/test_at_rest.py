"""Nothing unmasked at rest: a report naming a person with a phone number, sent as a signed LINE
webhook through the real web app and worker (the LINE stand-in on 127.0.0.1), leaves neither the
name nor the number in the database files once it is answered: not in the inbox, not in the
draft waiting for 伏せて確定 / そのまま確定, not in the -wal or -shm files, in any encoding SQLite
or JSON might hold them in."""
from __future__ import annotations

import json
import os
import stat

import pytest

from bot.serve import inbox as inbox_mod

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


@pytest.mark.parametrize("padding", [0, 600], ids=["short", "spilling_to_overflow_pages"])
def test_raw_webhook_text_is_gone_once_answered(stack, padding):
    register(stack)
    stack.line_post([text_event(REPORT + "表情は明るい。" * padding)])
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


def test_a_draft_waiting_for_the_privacy_choice_holds_no_unmasked_text(stack):
    register(stack)
    stack.line_post([text_event(REPORT)])
    assert stack.line.wait_for(lambda l: len(l.delivered) == 1)
    review = _said(stack)[0]
    assert NAME in review and PHONE in review and "伏せて確定" in json.dumps(stack.line.delivered, ensure_ascii=False)
    assert stack.server.workers.wait_settled(15)
    assert _found(stack) == []
    key = stack.db_path.parent / (stack.db_path.name + ".key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    stack.line_post([text_event("そのまま確定")])  # the user's choice: the words as typed
    assert stack.line.wait_for(lambda l: len(l.delivered) == 2)
    summary = stack.app.db.execute("SELECT summary FROM reports").fetchone()[0]
    assert NAME in summary and PHONE in summary


def test_a_failed_event_is_scrubbed_too(tmp_path):
    from storage.connections import open_db
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


# -- the dialog state, through the router (in-memory database, fixed clock) ----------------------
def _say(app, text, user="Ustaff"):
    from bot.adapters.terminal import render
    from bot.chat.core import Incoming
    return render(app.handle(Incoming("line", user, user, text)))


def _dialog_text(app) -> str:
    return " ".join(r[0] for r in app.db.execute("SELECT data FROM dialog_state").fetchall())


def _staff(app):
    from bot.people.access import add_user
    from .conftest import FIXED_NOW
    add_user(app.db, "line", "Ustaff", "staff", "千葉市", FIXED_NOW)


def test_a_proposal_waiting_for_the_privacy_choice_holds_no_unmasked_text(app):
    _staff(app)
    _say(app, "事例提案")
    for answer in ("千葉市", f"{NAME}さんが退院先に困った", f"{PHONE} に電話した", "住めた", "保健所"):
        _say(app, answer)
        assert not [s for s in SECRETS if s in _dialog_text(app)]
    assert "伏せて確定" in _say(app, "確定")  # the review still names what it found
    _say(app, "そのまま確定")
    problem, action = app.db.execute("SELECT problem, action FROM case_proposals").fetchone()
    assert NAME in problem and PHONE in action  # what the proposer chose, as typed


def test_a_question_set_aside_during_a_report_is_kept_sealed(app):
    _staff(app)
    _say(app, "報告")
    asked = _say(app, f"{NAME}さんの退院後の住まいはどうしたらいい？")
    assert "中断" in asked
    assert not [s for s in SECRETS if s in _dialog_text(app)]
    answered = _say(app, "中断する")
    assert "報告" in answered and len(answered) > len(asked)  # the question waiting is answered now


def test_a_draft_whose_seal_cannot_be_opened_is_kept_masked(app):
    from bot.chat.dialogs import Dialogs
    _staff(app)
    assert NAME in _say(app, REPORT)
    app.dialogs = Dialogs(app.db, app.registry)  # a new process without the key: the seal no longer opens
    review = _say(app, "報告")
    assert NAME not in review and "〇〇さん" in review and "***-****-****" in review
    _say(app, "確定")
    summary = app.db.execute("SELECT summary FROM reports").fetchone()[0]
    assert NAME not in summary and "〇〇さん" in summary


def test_a_reason_typed_after_a_reminder_is_kept_masked(app):
    from bot import messages
    _staff(app)
    _say(app, "リマインド 明日10時 家庭訪問")
    _say(app, "はい")
    out = _say(app, f"会えなかった #1 {NAME}さん入院中 {PHONE}")
    assert messages.MASKED_NOTICE in out
    [detail] = [r[0] for r in app.db.execute("SELECT detail FROM reminder_actions WHERE action = 'unmet'")]
    assert "入院中" in detail and "〇〇さん" in detail and not [s for s in SECRETS if s in detail]
    assert messages.MASKED_NOTICE not in _say(app, "完了 #1 面談できた")  # nothing to mask: kept as typed
    assert [r[0] for r in app.db.execute("SELECT detail FROM reminder_actions WHERE action = 'done'")] == ["面談できた"]


def test_raw_webhook_text_is_gone_from_the_files_of_a_running_nimo_serve(tmp_path):
    """The deployment's own shape: ``nimo serve`` and its ``nimo worker`` as processes, the files
    read while both run (the worker truncates the WAL within seconds of answering)."""
    from .fakes import LineStandIn, line_signature
    from .procs import Nimo, wait_for
    from .test_process import LINE_SECRET, _env, _line_event, _post, _register
    _register(tmp_path, "line", "Ustaff")
    base = str(tmp_path / "n.db")

    def found() -> list[str]:
        files = [open(p, "rb").read() for p in (base, base + "-wal", base + "-shm") if os.path.exists(p)]
        return [s for data in files for s in SECRETS for form in _forms(s) if form in data]

    with LineStandIn() as line, Nimo(_env(tmp_path, line)) as nimo:
        for n, text in enumerate((REPORT, "伏せて確定"), start=1):
            body = _line_event(text, "Ustaff", n)
            assert _post(nimo.port, "/line/webhook", body, {"Content-Type": "application/json",
                                                            "X-Line-Signature": line_signature(body, LINE_SECRET)}) == 200
            assert line.wait_for(lambda l: len(l.delivered) == n)
        assert "保存しました" in json.dumps(line.delivered, ensure_ascii=False)
        assert wait_for(lambda: found() == [], timeout=30), found()


@pytest.mark.parametrize("platform, stored, kind", [
    ("line", {"type": "message", "message": {"type": "text", "text": NAME}}, "message.text"),
    ("lineworks", {"type": "message", "content": {"type": "text", "text": NAME}}, "message.text"),
    ("slack", {"kind": "events_api", "body": {"event": {"type": "message", "text": NAME}}}, "events_api.message"),
    ("slack", {"kind": "interactive", "body": {"type": "view_submission", "view": {"title": NAME}}},
     "interactive.view_submission"),
    ("toy", {"kind": "slash_commands", "body": {"text": NAME}}, "slash_commands"),
    ("line", {"text": NAME}, "?"),
])
def test_what_an_answered_event_keeps_is_its_kind_read_from_the_stored_shape(platform, stored, kind):
    """The kind is read from the shapes platforms store, not from the platform's name, so a new
    platform's rows are scrubbed the same way."""
    kept = json.loads(inbox_mod.at_rest(platform, json.dumps(stored, ensure_ascii=False)))
    assert kept["type"] == kind and NAME not in json.dumps(kept, ensure_ascii=False)
    assert inbox_mod.at_rest(platform, json.dumps(kept)) == json.dumps(kept)  # scrubbing twice changes nothing
