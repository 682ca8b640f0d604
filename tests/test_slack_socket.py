"""Socket Mode requests take the HTTP path's steps: shape checked, stored once, acknowledged."""
from __future__ import annotations

from bot.config import Settings
from bot.adapters.slack_socket import on_request
from storage.connections import PerThreadDB
from bot.serve.web import WebApp

from .conftest import Clock

SETTINGS = Settings.from_env({"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-t"})


def _web(tmp_path) -> WebApp:
    return WebApp(PerThreadDB(tmp_path / "n.db"), Clock(), SETTINGS)


def _rows(web):
    return web.db.execute("SELECT platform, event_id, sender FROM inbox").fetchall()


def test_an_event_is_stored_once_under_its_event_id(tmp_path):
    web = _web(tmp_path)
    event = {"type": "event_callback", "event_id": "Ev1",
             "event": {"type": "message", "channel_type": "im", "user": "U1", "text": "家族教室"}}
    assert on_request(web, "events_api", event) is None
    assert on_request(web, "events_api", dict(event)) is None  # a redelivery
    assert _rows(web) == [("slack", "event:Ev1", "U1")]


def test_a_report_form_with_mistakes_is_refused_in_the_ack_and_not_stored(tmp_path):
    web = _web(tmp_path)
    payload = {"type": "view_submission", "user": {"id": "U1"}, "trigger_id": "1.2",
               "view": {"callback_id": "nimo_report", "state": {"values": {}}}}
    ack = on_request(web, "interactive", payload)
    assert ack["response_action"] == "errors" and "summary" in ack["errors"]
    assert _rows(web) == []


def test_requests_of_the_wrong_shape_are_acknowledged_and_skipped(tmp_path):
    web = _web(tmp_path)
    assert on_request(web, "events_api", {"type": "event_callback", "event_id": 5, "event": {}}) is None
    assert on_request(web, "interactive", {"type": "block_actions", "user": {"id": "U1"}, "actions": "x"}) is None
    assert on_request(web, "slash_commands", ["not", "a", "dict"]) is None
    deep: dict = {}
    node = deep
    for _ in range(100):
        node["a"] = {}
        node = node["a"]
    assert on_request(web, "events_api", deep) is None
    assert _rows(web) == []


def test_a_slash_command_is_stored_under_its_trigger(tmp_path):
    web = _web(tmp_path)
    cmd = {"command": "/nimo", "text": "家族教室", "user_id": "U2", "channel_id": "C1", "trigger_id": "7.8.9",
           "response_url": "https://hooks.slack.com/commands/x"}
    assert on_request(web, "slash_commands", cmd) is None
    assert _rows(web) == [("slack", "command:7.8.9", "U2")]
