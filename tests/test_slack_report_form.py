"""Slack's report form goes through the router like any message: the modal asked for (App Home's
button, 「/nimo 報告」) and sent back filled in are messages of their own kinds, so registration,
the shape checks and the roles are decided in one place for every platform.  Signed requests into
the real web process and worker; the Slack stand-in records what Nimo sends."""
from __future__ import annotations

import json

from bot import messages
from bot.people.access import add_user
from scheduler.workdays import TZ

from .test_web import NOW, register, stack  # noqa: F401  (fixture)


def form_values(summary="受診に同行した。主治医と相談。", rtype="同行受診", case="K-7"):
    return {"type": {"v": {"type": "static_select", "selected_option": {"value": rtype}}},
            "date": {"v": {"type": "datepicker", "selected_date": "2026-11-20"}},
            "case": {"v": {"type": "plain_text_input", "value": case}},
            "area": {"v": {"type": "plain_text_input", "value": "千葉市"}},
            "summary": {"v": {"type": "plain_text_input", "value": summary}},
            "next_action": {"v": {"type": "plain_text_input", "value": None}},
            "next_date": {"v": {"type": "datepicker", "selected_date": None}}}


def submit(stack, user, values, trigger="1.2.3"):
    payload = {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": user}, "api_app_id": "A1",
               "trigger_id": trigger, "view": {"id": "V1", "type": "modal", "callback_id": "nimo_report",
                                               "state": {"values": values}}}
    return stack.slack_post({"payload": json.dumps(payload, ensure_ascii=False)}, form=True)


def home_button(stack, user, trigger="7.7.7"):
    """「報告を書く（フォーム）」 pressed on App Home: no channel and no response_url to answer in."""
    payload = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": user}, "api_app_id": "A1",
               "trigger_id": trigger, "container": {"type": "view", "view_id": "VHOME"},
               "view": {"id": "VHOME", "type": "home"},
               "actions": [{"type": "button", "action_id": "nimo_report_form", "block_id": "b1", "value": "報告",
                            "action_ts": "1764000000.2"}]}
    return stack.slack_post({"payload": json.dumps(payload, ensure_ascii=False)}, form=True)


def slash_report(stack, user, trigger="8.8.8"):
    cmd = {"token": "x", "team_id": "T1", "channel_id": "C1", "channel_name": "general", "user_id": user,
           "command": "/nimo", "text": "報告", "response_url": stack.slack.url + "/response/r1",
           "trigger_id": trigger, "api_app_id": "A1"}
    return stack.slack_post(cmd, form=True)


def sent(slack, method):
    """What Nimo called ``method`` with, in the Slack stand-in."""
    return [p for p in slack.posted if p["method"] == method]


def nothing_kept(stack) -> bool:
    return stack.count("dialog_state") == 0 and stack.count("reports") == 0


def test_a_registered_users_form_goes_to_the_review_in_their_dm(stack):
    register(stack, "slack", "Uslack")
    assert submit(stack, "Uslack", form_values()) == 200
    assert stack.slack.wait_for(lambda s: sent(s, "chat.postMessage"))
    [review] = sent(stack.slack, "chat.postMessage")
    assert review["channel"] == "DUslack"
    for line in ("種類：同行受診", "ケース：K-7", "地域：千葉市", "内容：受診に同行した。主治医と相談。", "次回：なし"):
        assert line in review["text"]
    assert stack.count("dialog_state") == 1 and stack.count("reports") == 0  # kept as a draft until 「確定」


def test_a_form_sent_while_a_typed_report_waits_for_its_type_goes_to_the_review(stack):
    """A report being written takes the user's messages, not a form: the form's draft replaces
    the typed one, as a new 「報告 …」 would."""
    from .test_web import dm, slack_event
    register(stack, "slack", "Uslack")
    stack.slack_post(slack_event(dm("報告"), event_id="EvSteps"))
    assert stack.slack.wait_for(lambda s: sent(s, "chat.postMessage"))
    assert messages.REPORT_ASK_TYPE in sent(stack.slack, "chat.postMessage")[0]["text"]
    assert submit(stack, "Uslack", form_values()) == 200
    assert stack.slack.wait_for(lambda s: len(sent(s, "chat.postMessage")) == 2)
    review = sent(stack.slack, "chat.postMessage")[1]["text"]
    assert "種類：同行受診" in review and "内容：受診に同行した。主治医と相談。" in review
    [(state,)] = stack.app.db.execute("SELECT name FROM dialog_state").fetchall()
    assert state == "report_review"


def test_an_unregistered_users_form_gets_the_register_prompt_and_nothing_is_kept(stack):
    assert submit(stack, "Unobody", form_values()) == 200
    assert stack.slack.wait_for(lambda s: sent(s, "chat.postMessage"))
    [said] = sent(stack.slack, "chat.postMessage")
    assert said["channel"] == "DUnobody" and said["text"] == messages.REGISTER_PROMPT
    assert nothing_kept(stack)


def test_an_unregistered_users_home_button_gets_the_register_prompt_and_no_form(stack):
    assert home_button(stack, "Unobody") == 200
    assert stack.slack.wait_for(lambda s: sent(s, "chat.postMessage"))
    [said] = sent(stack.slack, "chat.postMessage")
    assert said["channel"] == "DUnobody" and said["text"] == messages.REGISTER_PROMPT
    assert sent(stack.slack, "views.open") == [] and nothing_kept(stack)


def test_an_unregistered_users_slash_report_gets_the_register_prompt_and_no_form(stack):
    assert slash_report(stack, "Unobody") == 200
    assert stack.slack.wait_for(lambda s: sent(s, "response_url"))
    [said] = sent(stack.slack, "response_url")
    assert said["text"] == messages.REGISTER_PROMPT and said["response_type"] == "ephemeral"
    assert sent(stack.slack, "views.open") == [] and nothing_kept(stack)


def test_a_registered_users_home_button_opens_the_form_dated_today_in_their_area(stack):
    register(stack, "slack", "Uslack")
    assert home_button(stack, "Uslack", trigger="5.5.5") == 200
    assert stack.slack.wait_for(lambda s: sent(s, "views.open"))
    [opened] = sent(stack.slack, "views.open")
    assert opened["args"]["trigger_id"] == "5.5.5"
    fields = {b["block_id"]: b["element"] for b in opened["view"]["blocks"]}
    assert fields["date"]["initial_date"] == stack.clock().astimezone(TZ).date().isoformat()
    assert fields["area"]["initial_value"] == "千葉市"
    assert sent(stack.slack, "chat.postMessage") == [] and nothing_kept(stack)


def test_a_too_long_form_field_gets_the_routers_refusal_and_nothing_is_kept(stack):
    register(stack, "slack", "Uslack")
    assert submit(stack, "Uslack", form_values(summary="a" * 40_001)) == 200
    assert stack.slack.wait_for(lambda s: sent(s, "chat.postMessage"))
    [said] = sent(stack.slack, "chat.postMessage")
    assert said["text"] == messages.message_too_long(40_001, 40_000)
    assert nothing_kept(stack)


def test_a_peer_supporters_visit_form_is_refused_by_the_same_rule_as_a_typed_one(stack):
    add_user(stack.app.db, "slack", "Upeer", "peer", "千葉市", NOW)
    assert slash_report(stack, "Upeer") == 200   # a peer supporter may open the form ...
    assert stack.slack.wait_for(lambda s: sent(s, "views.open"))
    assert submit(stack, "Upeer", form_values(rtype="訪問")) == 200   # ... and write activity reports only
    assert stack.slack.wait_for(lambda s: sent(s, "chat.postMessage"))
    [said] = sent(stack.slack, "chat.postMessage")
    assert said["text"] == messages.PEER_REPORT_TYPES and nothing_kept(stack)
