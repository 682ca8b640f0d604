"""Reports through the real server and the stand-ins: a photo from LINE and from Slack joins the
report stripped of its metadata; the weekly summary reaches a Slack channel (with its chart) and a
LINE group once."""
from __future__ import annotations

import struct
import zlib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bot.people.access import add_user
from bot.adapters.line import LineMessenger, LinePusher
from bot.adapters.slack import SlackPusher, web_client
from storage.connections import open_db
from bot.chat import reminder_texts
from bot.reports import records as rp
from scheduler.service import ReminderService
from scheduler.workdays import TZ

from .conftest import Clock
from .fakes import LineStandIn, SlackStandIn
from .test_web import Stack, register, slack_event, stack, text_event  # noqa: F401  (fixture)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_location() -> bytes:
    raw = b"".join(b"\x00" + bytes([200, 30, 30]) * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + _chunk(b"eXIf", b"MM\x00*GPS 35.6895N 139.6917E") + _chunk(b"tEXt", b"Comment\x00home of K-012")
            + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b""))


def _photo_rows(app):
    return app.db.execute("SELECT report_id, path FROM report_photos").fetchall()


def test_a_line_photo_joins_the_report_without_its_metadata(stack):
    register(stack)
    stack.line.put_content("img-1", png_with_location(), content_type="image/png")
    stack.line_post([text_event("報告 訪問 K-012 玄関先で面談。")])
    img = text_event("x")
    img["message"] = {"id": "img-1", "type": "image", "contentProvider": {"type": "line"}, "quoteToken": "q"}
    stack.line_post([img])
    stack.line_post([text_event("確定")])
    assert stack.line.wait_for(lambda l: len(l.delivered) == 3)
    said = [m["text"] for d in stack.line.delivered for m in d["messages"] if m["type"] == "text"]
    assert "写真を受け取りました" in said[1] and "保存しました（R-000001）" in said[2]
    [(rid, path)] = _photo_rows(stack.app)
    data = Path(path).read_bytes()
    assert rid == 1 and b"eXIf" not in data and b"GPS" not in data and b"home of" not in data and b"IDAT" in data


def test_a_photo_with_no_report_is_not_kept(stack):
    register(stack)
    stack.line.put_content("img-2", png_with_location(), content_type="image/png")
    img = text_event("x")
    img["message"] = {"id": "img-2", "type": "image", "contentProvider": {"type": "line"}, "quoteToken": "q"}
    stack.line_post([img])
    assert stack.line.wait_for(lambda l: len(l.delivered) == 1)
    assert "保存していません" in stack.line.delivered[0]["messages"][0]["text"]
    assert _photo_rows(stack.app) == []


def test_a_slack_file_joins_the_report(stack):
    register(stack, "slack", "Uslack")
    f = stack.slack.put_file("F1", png_with_location(), mimetype="image/png", name="visit.png", user="Uslack")

    def dm(text, eid, files=None):
        ev = {"type": "message", "channel_type": "im", "channel": "D0001", "user": "Uslack", "text": text,
              "ts": f"1764000000.{eid[-4:]}"}
        if files:
            ev.update(subtype="file_share", files=files)
        return slack_event(ev, event_id=eid)

    stack.slack_post(dm("報告 電話 K-003 家族から相談", "Ev0001"))
    stack.slack.wait_for(lambda s: len(s.posted) == 1)
    stack.slack_post(dm("", "Ev0002", files=[f]))
    stack.slack.wait_for(lambda s: len(s.posted) == 2)
    stack.slack_post(dm("確定", "Ev0003"))
    assert stack.slack.wait_for(lambda s: len(s.posted) == 3)
    assert "保存しました" in stack.slack.posted[2]["text"]
    [(rid, path)] = _photo_rows(stack.app)
    assert b"eXIf" not in Path(path).read_bytes()


def test_weekly_summary_reaches_slack_with_a_chart_and_line_once(tmp_path):
    db = open_db(tmp_path / "n.db")
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
    for i, (t, area) in enumerate([("訪問", "千葉市"), ("訪問", "千葉市"), ("電話", "船橋市")]):
        rp.save(db, rp.Draft(type=t, date=(date(2026, 11, 24) + timedelta(days=i)).isoformat(), area=area,
                             summary="記録"), platform="line", author="U1", source_key=f"k{i}", now=monday)
    with LineStandIn() as line, SlackStandIn() as slack:
        pushers = {"line": LinePusher(LineMessenger(access_token=line.access_token, base_url=line.url)),
                   "slack": SlackPusher(web_client(slack.bot_token, slack.url + "/api/"))}
        svc = ReminderService(db, pushers, reminder_texts, clock=Clock(monday), summary_to={"slack": "C0SUM", "line": "Cgroup"})
        assert svc.weekly_summary() == 2
        assert svc.weekly_summary() == 0  # once a week
        [up] = slack.uploads
        assert up["channel"] == "C0SUM" and up["bytes"].startswith(b"\x89PNG") and "計 3件" in up["initial_comment"]
        assert "訪問 2・電話 1" in up["initial_comment"] and "千葉市 2" in up["initial_comment"]
        [push] = line.delivered
        assert push["to"] == "Cgroup" and "計 3件" in push["messages"][0]["text"]
        assert line.errors == [] and slack.errors == []


def test_slack_report_form_opens_and_its_submission_goes_to_the_review(stack):
    import json as _json
    register(stack, "slack", "Uslack")
    cmd = {"token": "x", "team_id": "T1", "channel_id": "C1", "channel_name": "general", "user_id": "Uslack",
           "command": "/nimo", "text": "報告", "response_url": stack.slack.url + "/response/r1",
           "trigger_id": "13345224609.738474920.8088930838d88f008e0", "api_app_id": "A1"}
    assert stack.slack_post(cmd, form=True) == 200
    assert stack.slack.wait_for(lambda s: any(p["method"] == "views.open" for p in s.posted))
    view = [p for p in stack.slack.posted if p["method"] == "views.open"][0]["view"]
    assert view["callback_id"] == "nimo_report" and len(view["blocks"]) == 7

    def submit(case, summary):
        values = {"type": {"v": {"type": "static_select", "selected_option": {"value": "同行受診"}}},
                  "date": {"v": {"type": "datepicker", "selected_date": "2026-11-20"}},
                  "case": {"v": {"type": "plain_text_input", "value": case}},
                  "area": {"v": {"type": "plain_text_input", "value": "千葉市"}},
                  "summary": {"v": {"type": "plain_text_input", "value": summary}},
                  "next_action": {"v": {"type": "plain_text_input", "value": None}},
                  "next_date": {"v": {"type": "datepicker", "selected_date": None}}}
        payload = {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": "Uslack"}, "api_app_id": "A1",
                   "trigger_id": "1.2.3", "view": {"id": "V1", "type": "modal", "callback_id": "nimo_report",
                                                   "state": {"values": values}}}
        return stack.slack_post({"payload": _json.dumps(payload, ensure_ascii=False)}, form=True)

    assert submit("田中", "受診に同行した") == 200   # not a case code: the form says so, nothing else happens
    assert stack.statuses() == {"done": 1}  # only the command was stored; slack_post waited for the workers
    assert not any(p["method"] == "chat.postMessage" for p in stack.slack.posted)
    assert submit("k-7", "受診に同行した。主治医と相談。") == 200
    assert stack.slack.wait_for(lambda s: any(p["method"] == "chat.postMessage" for p in s.posted))
    review = [p for p in stack.slack.posted if p["method"] == "chat.postMessage"][0]
    assert "種類：同行受診" in review["text"] or "種類：同行受診" in _json.dumps(review["blocks"], ensure_ascii=False)
    ev = {"type": "message", "channel_type": "im", "channel": review["channel"], "user": "Uslack", "text": "確定",
          "ts": "1764000001.000001"}
    stack.slack_post(slack_event(ev, event_id="EvFormOK"))
    assert stack.slack.wait_for(lambda s: sum(p["method"] == "chat.postMessage" for p in s.posted) == 2)
    [row] = stack.app.db.execute("SELECT type, date, case_code, summary FROM reports").fetchall()
    assert row == ("同行受診", "2026-11-20", "K-7", "受診に同行した。主治医と相談。")
