"""LINE WORKS end to end: signed callbacks to the real server (in process, and one real `nimo serve`),
the worker answering through the LINE WORKS stand-in on 127.0.0.1 with a service-account token
checked against a key pair made here, and the reminder engine driven with a fixed clock."""
from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.config import Settings
from bot.chat import reminder_texts
from bot.reports import records as rp
from bot.people.access import add_user, create_invite, get_user
from bot.adapters import lineworks as lw
from bot.chat.core import CaseCard, Cards, Choice, Text
from scheduler import store
from scheduler.service import ReminderService
from scheduler.workdays import TZ

from .conftest import FIXED_NOW, Clock
from .fakes_lineworks import LineWorksStandIn, lineworks_headers
from .procs import wait_for
from .test_reports_platforms import png_with_location
from .test_web import Stack

BOT_ID = "2000001"
BOT_SECRET = "lineworks-bot-secret-for-tests"
USER = "8f0e2c1a-0d2b-4a7e-9c1f-000000000001"
OTHER = "8f0e2c1a-0d2b-4a7e-9c1f-000000000002"
ROOM = "a1b2c3d4-e5f6-7a8b-9c0d-room00000001"


@pytest.fixture(scope="module")
def key_pair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return pem, key.public_key()


@pytest.fixture
def works(key_pair):
    with LineWorksStandIn(public_key=key_pair[1], bot_id=BOT_ID) as w:
        yield w
        assert w.errors == []


def lw_settings(works, key_path) -> dict:
    return {"LINEWORKS_BOT_ID": BOT_ID, "LINEWORKS_BOT_SECRET": BOT_SECRET,
            "LINEWORKS_CLIENT_ID": works.client_id, "LINEWORKS_CLIENT_SECRET": works.client_secret,
            "LINEWORKS_SERVICE_ACCOUNT": works.service_account, "LINEWORKS_PRIVATE_KEY": str(key_path),
            "LINEWORKS_API_BASE_URL": works.api_url, "LINEWORKS_AUTH_URL": works.auth_url}


class WorksStack(Stack):
    """Nimo served for real (waitress, the web app and an answerer), LINE WORKS only."""

    def __init__(self, tmp_path, index, works, key_pem):
        key_path = tmp_path / "private.key"
        key_path.write_bytes(key_pem)
        self.works = works
        self.settings = dict(lw_settings(works, key_path), NIMO_SUMMARY_LINEWORKS_CHANNEL=ROOM)
        self.db_path = tmp_path / "nimo.db"
        self.index = index
        self.sleeps: list[float] = []
        self.clock = Clock()
        self.start()

    def callback(self, event: dict | None = None, *, raw: bytes | None = None, secret: str = BOT_SECRET,
                 bot_id: str = BOT_ID, signature: str | None = "sign") -> int:
        body = raw if raw is not None else json.dumps(event, ensure_ascii=False).encode("utf-8")
        headers = lineworks_headers(body, secret, bot_id)
        if signature is None:
            del headers["X-WORKS-Signature"]
        status = self.request("/lineworks/callback", body, headers)
        self.wait()
        return status


@pytest.fixture
def stack(tmp_path, index, works, key_pair):
    s = WorksStack(tmp_path, index, works, key_pair[0])
    try:
        yield s
    finally:
        s.stop()


_ms = itertools.count(1)


def issued(delta: timedelta = timedelta(0)) -> str:
    """issuedTime near real time (the web process refuses replays by it), unique per event."""
    t = datetime.now(timezone.utc) + delta + timedelta(milliseconds=next(_ms))
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def source(user: str = USER, room: str | None = None) -> dict:
    s = {"userId": user, "domainId": 40029600}
    if room:
        s["channelId"] = room
    return s


def text_event(text: str, user: str = USER, room: str | None = None, postback: str | None = None) -> dict:
    content = {"type": "text", "text": text}
    if postback is not None:
        content["postback"] = postback
    return {"type": "message", "source": source(user, room), "issuedTime": issued(), "content": content}


def postback_event(data: str, user: str = USER, room: str | None = None) -> dict:
    return {"type": "postback", "source": source(user, room), "issuedTime": issued(), "data": data}


def button(text: str, user: str = USER, room: str | None = None) -> dict:
    """A quick reply tapped: its words in the chat, marked by the action's postback."""
    return text_event(text, user, room, postback=text)


def register(stack, user: str = USER, area: str = "千葉市"):
    add_user(stack.app.db, "lineworks", user, "staff", area, FIXED_NOW)


def flex_areas(content: dict) -> list[str]:
    return [b["header"]["contents"][0]["text"].split(") ", 1)[1] for b in content["contents"]["contents"]]


def expected_areas(stack, q):
    return [h.case.area for h in stack.app.index.search(q).hits[:3]]


def quick_labels(content: dict) -> list[str]:
    return [i["action"]["label"] for i in content.get("quickReply", {}).get("items", [])]


# -- questions ----------------------------------------------------------------------------------
def test_8050_question_gets_a_carousel_naming_the_right_areas(stack, works):
    register(stack)
    assert stack.callback(text_event("8050問題")) == 200
    assert works.wait_for(lambda w: any(c["type"] == "flex" for c in w.contents()))
    sent = works.delivered
    assert {(d["kind"], d["to"]) for d in sent} == {("user", USER)}
    flex = [d["content"] for d in sent if d["content"]["type"] == "flex"][0]
    assert flex["contents"]["type"] == "carousel"
    assert flex_areas(flex) == expected_areas(stack, "8050問題") and len(flex_areas(flex)) == 3
    assert "8050" not in flex["altText"]  # the notification names areas, never the question
    buttons = [b["action"] for bub in flex["contents"]["contents"] for box in bub["footer"]["contents"]
               for b in box["contents"]]
    # message actions carrying postback data: the shape LINE WORKS documents for a flexible template
    assert {(a["type"], a["text"], a["postback"]) for a in buttons} >= {
        ("message", "詳しく 1", "詳しく 1"), ("message", "似た事例 1", "似た事例 1"), ("message", "👍", "👍"),
        ("message", "👎", "👎")}
    assert sent[-1]["content"]["quickReply"]["items"]
    claims = works.assertions[0]  # the JWT the stand-in verified with the public key
    assert claims["iss"] == works.client_id and claims["sub"] == works.service_account
    assert claims["exp"] - claims["iat"] <= 3600


def test_detail_button_answers_with_the_full_case_in_messages_within_the_limit(stack, works):
    register(stack)
    stack.callback(text_event("8050問題"))
    works.wait_for(lambda w: any(c["type"] == "flex" for c in w.contents()))
    before = len(works.delivered)
    # the card's 詳しく button as LINE WORKS sends its press: the words, marked by the postback
    assert stack.callback(text_event("詳しく 1", postback="詳しく 1")) == 200
    assert works.wait_for(lambda w: len(w.delivered) > before)
    texts = works.texts()[-(len(works.delivered) - before):]
    assert "■" in "".join(texts) and "出典" in "".join(texts)
    assert all(len(t) <= 2000 for t in works.texts())


def test_unregistered_user_gets_only_the_registration_prompt(stack, works):
    stack.callback(text_event("8050問題", user=OTHER))
    assert works.wait_for(lambda w: len(w.delivered) == 1)
    assert "登録" in works.texts()[0] and works.delivered[0]["to"] == OTHER


def test_registration_by_invite_code_in_1to1_only(stack, works):
    code = create_invite(stack.app.db, "staff", "船橋市", stack.clock())
    stack.callback(text_event(f"にも 登録 {code}", user=OTHER, room=ROOM))
    assert works.wait_for(lambda w: len(w.delivered) == 1)
    assert "1対1" in works.texts()[0] and "無効にしました" in works.texts()[0] and works.delivered[0] == {
        "kind": "channel", "to": ROOM, "content": works.delivered[0]["content"]}
    assert get_user(stack.app.db, "lineworks", OTHER) is None
    stack.callback(text_event(f"登録 {code}", user=OTHER))  # seen in the room: revoked
    assert works.wait_for(lambda w: len(w.delivered) == 2)
    assert "使えません" in works.texts()[1] and get_user(stack.app.db, "lineworks", OTHER) is None
    fresh = create_invite(stack.app.db, "staff", "船橋市", stack.clock())
    stack.callback(text_event(f"登録 {fresh}", user=OTHER))
    assert works.wait_for(lambda w: len(w.delivered) == 3)
    assert "登録しました" in works.texts()[2]
    assert get_user(stack.app.db, "lineworks", OTHER).area == "船橋市"


def test_the_start_button_greets_and_talk_in_a_room_needs_nimo_s_name(stack, works):
    register(stack)
    stack.callback({"type": "message", "source": source(OTHER), "issuedTime": issued(),
                    "content": {"type": "text", "text": "利用開始", "postback": "start"}})
    stack.callback(text_event("今日は暑いですね", room=ROOM))
    stack.callback(text_event("にも 家族教室", room=ROOM))
    assert stack.statuses() == {"done": 3}  # all three handled (callback waits until the workers are idle)
    greeting = works.contents(to=OTHER)[0]["text"]
    assert "Nimo" in greeting and "登録" in greeting
    room = works.contents(kind="channel", to=ROOM)
    assert any(c["type"] == "flex" for c in room) and len(works.delivered) == 3


# -- reminders, events ---------------------------------------------------------------------------
def engine(stack, now: datetime, **kw) -> ReminderService:
    """The reminder engine with its pushers from the answerer and a fixed clock; its scheduler
    runs paused, so only what the test calls happens."""
    svc = ReminderService(stack.app.db, stack.server.answerer.pushers(), reminder_texts, clock=Clock(now), **kw)
    svc.sched.start(paused=True)
    return svc


def test_a_reminder_set_for_one_minute_ahead_arrives_once(stack, works):
    register(stack)
    stack.callback(text_event("リマインド 1分後 ケース会議の資料"))
    stack.callback(button("はい"))
    assert works.wait_for(lambda w: len(w.delivered) == 2)
    assert "登録しました" in works.texts()[-1]
    [r] = store.active(stack.app.db)
    assert r.platform == "lineworks" and r.target == USER and r.due_at == FIXED_NOW + timedelta(minutes=1)
    svc = engine(stack, r.due_at)
    try:
        svc.fire(r.id)
        svc.fire(r.id)
    finally:
        svc.sched.shutdown(wait=False)
    again = engine(stack, r.due_at + timedelta(seconds=5))  # a restart: the delivery key is taken
    try:
        store.reschedule(stack.app.db, r.id, r.due_at, r.due_at)  # as if it had died before marking it done
        again.fire(r.id)
    finally:
        again.sched.shutdown(wait=False)
    pushed = works.delivered[2:]
    assert len(pushed) == 1 and pushed[0]["to"] == USER
    c = pushed[0]["content"]
    assert "ケース会議の資料" in c["text"] and f"「延期 12/10 #{r.id}」" in c["text"]  # no date picker: type it
    assert {"完了", "延期（明日）"} <= set(quick_labels(c)) and "延期（日付を選ぶ）" not in quick_labels(c)


def test_event_rsvp_in_a_room(stack, works):
    register(stack)
    register(stack, OTHER)
    stack.callback(text_event("にも イベント 12/5 14時 ピアサポーター交流会", room=ROOM))
    stack.callback(button("はい", room=ROOM))
    assert works.wait_for(lambda w: len(w.delivered) == 2)
    assert all(d["kind"] == "channel" and d["to"] == ROOM for d in works.delivered)
    notice = [r for r in store.active(stack.app.db) if r.kind == "event"][0]
    assert notice.target == lw.CHANNEL + ROOM and notice.is_group
    svc = engine(stack, notice.due_at)
    try:
        svc.fire(notice.id)
    finally:
        svc.sched.shutdown(wait=False)
    assert works.wait_for(lambda w: len(w.delivered) == 3)
    pushed = works.delivered[2]
    assert pushed["kind"] == "channel" and pushed["to"] == ROOM and "ピアサポーター交流会" in pushed["content"]["text"]
    items = {i["action"]["label"]: i["action"] for i in pushed["content"]["quickReply"]["items"]}
    assert set(items) == {"参加", "不参加"}
    stack.callback(button(items["参加"]["text"], user=OTHER, room=ROOM))  # a member taps 参加
    assert works.wait_for(lambda w: len(w.delivered) == 4)
    assert "参加 1人" in works.delivered[3]["content"]["text"] and works.delivered[3]["to"] == ROOM
    assert stack.app.db.execute("SELECT user, answer FROM rsvps").fetchall() == [(OTHER, "yes")]


def test_morning_digest_and_weekly_summary_reach_lineworks(stack, works):
    register(stack)
    day = date(2026, 11, 24)
    store.add_plan(stack.app.db, platform="lineworks", owner=USER, target=USER, area="千葉市", case_code="K-001",
                   plan_key="discharge", anchor=day - timedelta(days=7),
                   digest_time=store.digest_time(stack.app.db, "lineworks", USER), now=FIXED_NOW - timedelta(days=8))
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)
    rp.save(stack.app.db, rp.Draft(type="訪問", date="2026-11-25", area="千葉市", summary="記録"),
            platform="lineworks", author=USER, source_key="k1", now=monday)
    svc = engine(stack, datetime.combine(day, datetime.min.time(), tzinfo=TZ).replace(hour=8, minute=35))
    try:
        svc.digest_tick()
        svc.digest_tick()
    finally:
        svc.sched.shutdown(wait=False)
    weekly = engine(stack, monday, summary_to={"lineworks": ROOM})
    try:
        assert weekly.weekly_summary() == 1 and weekly.weekly_summary() == 0
    finally:
        weekly.sched.shutdown(wait=False)
    [digest] = works.contents(kind="user", to=USER)
    assert "K-001" in digest["text"] and "今日の訪問" in digest["text"]
    [summary] = works.contents(kind="channel", to=ROOM)
    assert "計 1件" in summary["text"]


# -- reports ------------------------------------------------------------------------------------
def test_a_one_message_report_with_a_name_is_saved_masked(stack, works):
    register(stack)
    stack.callback(text_event("報告 訪問 K-012 田中さんと面談。服薬確認できた"))
    assert works.wait_for(lambda w: len(w.delivered) == 1)
    review = works.delivered[0]["content"]
    assert "田中さん" in review["text"] and "伏せて確定" in quick_labels(review)
    stack.callback(button("伏せて確定"))
    assert works.wait_for(lambda w: len(w.delivered) == 2)
    assert "保存しました（R-000001）" in works.texts()[1]
    [(summary, platform)] = stack.app.db.execute("SELECT summary, platform FROM reports").fetchall()
    assert "田中" not in summary and "服薬確認できた" in summary and platform == "lineworks"


def test_a_photo_joins_the_report_stripped_of_its_metadata(stack, works):
    register(stack)
    works.put_file("jp1.file.0001", png_with_location(), "image/png")
    stack.callback(text_event("報告 訪問 K-012 玄関先で面談。"))
    stack.callback({"type": "message", "source": source(), "issuedTime": issued(),
                    "content": {"type": "image", "fileId": "jp1.file.0001"}})
    stack.callback(button("確定"))
    assert works.wait_for(lambda w: len(w.delivered) == 3)
    said = works.texts()
    assert "写真を受け取りました" in said[1] and "保存しました（R-000001）" in said[2]
    [(path,)] = stack.app.db.execute("SELECT path FROM report_photos").fetchall()
    data = Path(path).read_bytes()
    assert b"eXIf" not in data and b"GPS" not in data and b"IDAT" in data
    assert any(r["path"].startswith("/files/") for r in works.requests)  # followed the 302, with the token


def test_a_report_in_a_room_is_refused(stack, works):
    register(stack)
    stack.callback(text_event("にも 報告 訪問 K-012 面談", room=ROOM))
    assert works.wait_for(lambda w: len(w.delivered) == 1)
    assert "1対1" in works.texts()[0] and stack.app.db.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 0


# -- what is refused ------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["secret", "body", "bot_id", "unsigned"])
def test_forged_or_unsigned_callbacks_get_401_and_nothing_is_stored(stack, works, how):
    register(stack)
    body = json.dumps(text_event("8050問題"), ensure_ascii=False).encode("utf-8")
    if how == "secret":
        status = stack.callback(raw=body, secret="another-secret")
    elif how == "body":
        good = lineworks_headers(body, BOT_SECRET, BOT_ID)
        status = stack.request("/lineworks/callback", body.replace("8050".encode(), "9060".encode()), good)
    elif how == "bot_id":
        status = stack.callback(raw=body, bot_id="2000002")
    else:
        status = stack.callback(raw=body, signature=None)
    assert status == 401
    assert stack.count("inbox") == 0 and works.requests == []


def test_malformed_callbacks_get_400_and_nothing_is_stored(stack, works):
    for raw in (b"{not json", b"[]", b'"text"', b'{"source": {}}', b'{"type": 5}'):
        assert stack.callback(raw=raw) == 400
    assert stack.count("inbox") == 0 and works.requests == []


def test_a_redelivered_callback_is_answered_once(stack, works):
    register(stack)
    ev = text_event("8050問題")
    assert stack.callback(ev) == 200
    assert stack.callback(ev) == 200
    assert stack.statuses() == {"done": 1}  # the one stored row was answered, and the workers are idle
    assert [c["type"] for c in works.contents()].count("flex") == 1


def test_a_replayed_old_callback_is_skipped(stack, works):
    register(stack)
    ev = text_event("8050問題")
    ev["issuedTime"] = issued(-timedelta(days=2))  # older than the dedupe memory: it would be answered again
    assert stack.callback(ev) == 200
    assert stack.count("inbox") == 0 and works.requests == []


# -- faults at the API ---------------------------------------------------------------------------
def test_the_token_is_renewed_after_a_401_without_losing_the_message(stack, works):
    register(stack)
    stack.callback(text_event("家族教室"))
    assert works.wait_for(lambda w: len(w.delivered) >= 2)
    sent = len(works.delivered)
    works.expire_tokens()  # LINE WORKS now answers 401 to the cached token
    stack.callback(text_event("8050問題"))
    assert works.wait_for(lambda w: any(c["type"] == "flex" and flex_areas(c) == expected_areas(stack, "8050問題")
                                        for c in w.contents()))
    assert any(r["status"] == 401 for r in works.rejections)
    assert len(works.assertions) == 2  # a fresh JWT, a fresh token
    from bot.serve.status import readiness
    assert readiness(stack.app.db, stack.clock)["platforms"]["lineworks_api"]["ok"] is True
    flexes = [c for c in works.contents()[sent:] if c["type"] == "flex"]
    assert len(flexes) == 1


def test_a_refused_token_shows_in_readyz_and_the_event_is_kept_as_failed(stack, works):
    from bot.serve.status import readiness
    register(stack)
    works.client_secret = "rotated-in-the-console"  # the secret Nimo has is no longer the app's
    stack.callback(text_event("8050問題"))
    assert wait_for(lambda: stack.app.db.execute("SELECT status FROM inbox").fetchone()[0] == "failed", timeout=10)
    works.errors.clear()  # the stand-in counts a wrong client secret as a client mistake: here it is the test's
    assert works.delivered == []
    health = readiness(stack.app.db, stack.clock)["platforms"]["lineworks_api"]
    assert health["ok"] is False and health["detail"] == "token refused: 401"


def test_429_waits_for_retry_after_and_sends_once(stack, works):
    register(stack)
    works.fail_next("/messages", 429, retry_after=2)
    stack.callback(text_event("8050問題"))
    assert works.wait_for(lambda w: any(c["type"] == "flex" for c in w.contents()))
    assert 2.0 in stack.sleeps
    assert [c["type"] for c in works.contents()].count("flex") == 1


def test_an_answer_cut_by_500s_is_finished_later_without_repeating_what_was_sent(stack, works):
    register(stack)
    works.fail_next("/messages", None)  # the lead text goes through ...
    works.fail_next("/messages", 503, times=4)  # ... the carousel meets 503 on every try
    ev = text_event("8050問題")
    stack.callback(ev)
    assert wait_for(lambda: stack.app.db.execute("SELECT status FROM inbox").fetchone()[0] == "failed", timeout=10)
    assert len(works.delivered) == 1
    row = stack.app.db.execute("SELECT id FROM inbox").fetchone()
    stack.server.answerer.process("lineworks", ev, row[0])  # tried again (an operator, a restarted worker)
    assert [c["type"] for c in works.contents()] == ["text", "flex"]


def test_a_send_failing_with_503_is_logged_with_its_endpoint_status_and_attempt(stack, works, caplog):
    import logging
    from bot.serve.status import readiness
    register(stack)
    works.fail_next("/messages", 503, times=8)
    with caplog.at_level(logging.WARNING):
        stack.callback(text_event("8050問題で山田さんが"))
        assert wait_for(lambda: stack.app.db.execute("SELECT status FROM inbox").fetchone()[0] == "failed", timeout=10)
    lines = [r.getMessage() for r in caplog.records]
    path = "/bots/{botId}/users/{userId}/messages"
    assert f"delivery failed: lineworks {path} status=503 HTTPError attempt=1 will retry" in lines
    assert f"delivery failed: lineworks {path} status=503 HTTPError attempt=4 gave up" in lines
    assert any(l.startswith("event ") and l.endswith(f"failed: lineworks {path} status=503 HTTPError attempt=4 gave up")
               for l in lines)  # the inbox's line says the same, not only 'RuntimeError'
    assert not any(USER in l or "山田" in l for l in lines)
    fail = readiness(stack.app.db, stack.clock)["last_delivery_failure"]
    assert (fail["platform"], fail["endpoint"], fail["status"], fail["attempt"], fail["retried"]) == (
        "lineworks", path, 503, 4, False)


def test_a_message_whose_answer_was_lost_is_not_sent_again(stack, works):
    register(stack)
    stack.server.answerer.parts["lineworks"].api.timeout = 0.5
    works.fail_next("/messages", None, delay=1.5, deliver=True)  # accepted, but answered too late
    stack.callback(text_event("8050問題"))
    assert stack.statuses() == {"done": 1}  # answered, and the workers are idle
    assert [r["path"].rsplit("/", 1)[-1] for r in works.requests if r["method"] == "POST"].count("messages") == 2
    assert [c["type"] for c in works.contents()] == ["text", "flex"]


# -- admin commands, settings ------------------------------------------------------------------
def run_nimo(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True, timeout=60)


def base_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE", "SLACK", "NIMO_"))}
    env.update(NIMO_DB=str(tmp_path / "n.db"), PYTHONIOENCODING="utf-8")
    return env


def test_menu_users_and_serve_check(tmp_path, works, key_pair):
    key_path = tmp_path / "private.key"
    key_path.write_bytes(key_pair[0])
    env = base_env(tmp_path)
    env.update(lw_settings(works, key_path))
    out = run_nimo(env, "lineworks", "menu")
    assert out.returncode == 0, out.stderr
    assert [a["label"] for a in works.menu["content"]["actions"]] == ["質問する", "予定", "報告"]
    assert all(a["type"] == "message" and a["text"] == a["label"] == a["postback"]
               for a in works.menu["content"]["actions"])
    assert run_nimo(env, "users", "add", "--platform", "lineworks", "--id", USER, "--area", "千葉市").returncode == 0
    assert f"lineworks\t{USER}" in run_nimo(env, "users", "list").stdout
    check = run_nimo(env, "serve", "--check")
    assert check.returncode == 0 and "LINE WORKS: オン" in check.stdout and BOT_SECRET not in check.stdout
    partial = dict(env, LINEWORKS_PRIVATE_KEY="", LINEWORKS_CLIENT_SECRET="")
    check = run_nimo(partial, "serve", "--check")
    assert check.returncode == 1 and "LINEWORKS_CLIENT_SECRET・LINEWORKS_PRIVATE_KEY が必要" in check.stdout
    broken = dict(env, LINEWORKS_PRIVATE_KEY=str(tmp_path / "missing.key"))
    check = run_nimo(broken, "serve", "--check")
    assert check.returncode == 1 and "LINEWORKS_PRIVATE_KEY のファイルを読めません" in check.stdout


def test_nimo_serve_answers_a_signed_callback_for_real(tmp_path, works, key_pair, index):
    """`nimo serve` as deployed, with the eight settings pointing at the stand-in: the web process
    acknowledges, the `nimo worker` it starts answers, and the logs carry no message text."""
    from .procs import Nimo
    key_path = tmp_path / "private.key"
    key_path.write_bytes(key_pair[0])
    env = base_env(tmp_path)
    env.update(lw_settings(works, key_path))
    assert run_nimo(env, "users", "add", "--platform", "lineworks", "--id", USER, "--area", "千葉市").returncode == 0
    with Nimo(env, stderr=subprocess.PIPE) as nimo:
        body = json.dumps(text_event("8050問題"), ensure_ascii=False).encode("utf-8")
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", nimo.port, timeout=5)
        c.request("POST", "/lineworks/callback", body=body, headers=lineworks_headers(body, BOT_SECRET, BOT_ID))
        assert c.getresponse().status == 200
        assert works.wait_for(lambda w: any(x["type"] == "flex" for x in w.contents()), timeout=60)
        os.kill(nimo.proc.pid, signal.SIGTERM)
        _, err = nimo.proc.communicate(timeout=20)
    flex = [x for x in works.contents() if x["type"] == "flex"][0]
    assert flex_areas(flex) == [h.case.area for h in index.search("8050問題").hits[:3]]
    log = err.decode("utf-8", "replace")
    assert "8050" not in log and BOT_SECRET not in log and "lw-access" not in log


def test_no_message_text_or_token_reaches_the_logs(stack, works, caplog):
    import logging
    caplog.set_level(logging.INFO)
    register(stack)
    stack.callback(text_event("田中さんの住まいの確保"))
    stack.callback(raw=b'{"type": "message"}', signature="forged")
    works.wait_for(lambda w: w.delivered)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for s in ("田中", "住まい", BOT_SECRET, works.client_secret, "lw-access"):
        assert s not in logged


# -- rendering, without a network ----------------------------------------------------------------
def card(n: int, size: int = 1) -> CaseCard:
    return CaseCard(n, f"c{n}", f"地域{n}", "人口10万人", "題" * 30, ("取組" * 100 * size,), "成果" * 50, "工夫" * 50,
                    "手引き")


def json_bytes(obj) -> int:
    return len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def test_render_keeps_every_message_within_the_limits():
    long_detail = Text("■ 詳細\n" + "長い説明の一行です。\n" * 2000)
    contents = lw.render([long_detail])
    assert len(contents) == lw.MAX_MESSAGES and all(len(c["text"]) <= 2000 for c in contents)
    assert contents[-1]["text"].endswith("nimo cases show` で見られます）")
    cards = lw.render([Cards("lead", tuple(card(i) for i in range(1, 13)), "footer",
                             tuple(Choice(f"ボタン{i}", f"ボタン{i}") for i in range(20)))])
    flex = cards[1]
    assert 1 <= len(flex["contents"]["contents"]) <= 10 and json_bytes(flex["contents"]) <= 15 * 1024
    assert len(cards[-1]["quickReply"]["items"]) == 13
    big = lw.render([Cards("lead", tuple(card(i, size=6) for i in range(1, 11)), "footer")])[1]
    shown = len(big["contents"]["contents"])
    assert 1 <= shown < 10 and json_bytes(big["contents"]) <= 15 * 1024 and big["altText"].startswith(f"事例{shown}件")
    picked = lw.render([Text("⏰ 準備", (Choice("完了", "完了 #3"), Choice("延期（日付を選ぶ）", "延期 {date} #3", True)))])
    assert "「延期 12/10 #3」" in picked[-1]["text"] and quick_labels(picked[-1]) == ["完了"]


# -- the stand-in refuses what LINE WORKS does not document ---------------------------------------
def _api(works, key_pem, tmp_path):
    from bot.adapters.lineworks_api import from_settings
    key_path = tmp_path / "private.key"
    key_path.write_bytes(key_pem)
    return from_settings(Settings.from_env(lw_settings(works, key_path)), sleep=lambda s: None)


def _flex_of(bubbles: list[dict]) -> dict:
    return {"type": "flex", "altText": "事例", "contents": {"type": "carousel", "contents": bubbles}}


def test_the_stand_in_refuses_postback_buttons_and_carousels_over_15_kb(works, key_pair, tmp_path):
    from bot.adapters.lineworks_api import WorksError
    api = _api(works, key_pair[0], tmp_path)
    ours = lw.bubble(card(1))
    assert api.send(USER, _flex_of([ours])) == "sent"  # the card as Nimo renders it is accepted
    postback = json.loads(json.dumps(ours))
    postback["footer"]["contents"][0]["contents"][0]["action"] = {
        "type": "postback", "label": "詳しく", "data": "詳しく 1", "displayText": "詳しく 1"}
    with pytest.raises(WorksError) as refused:
        api.send(USER, _flex_of([postback]))
    assert refused.value.status == 400
    big = [lw.bubble(card(i, size=3)) for i in range(1, 5)]
    assert 15 * 1024 < json_bytes({"type": "carousel", "contents": big}) <= 30 * 1024
    with pytest.raises(WorksError) as too_big:
        api.send(USER, _flex_of(big))
    assert too_big.value.status == 400
    assert len(works.delivered) == 1
    assert any("postback" in e for e in works.errors) and any("bytes" in e for e in works.errors)
    works.errors.clear()  # refused on purpose: the fixture checks Nimo itself caused none


def test_rendered_cards_of_every_size_are_accepted_by_the_stand_in(works, key_pair, tmp_path):
    api = _api(works, key_pair[0], tmp_path)
    for size in (1, 3, 6):
        contents = lw.render([Cards("lead", tuple(card(i, size=size) for i in range(1, 11)), "footer",
                                    (Choice("次", "次"), Choice("👍", "👍")))])
        assert all(api.send(USER, c) == "sent" for c in contents), size
    assert works.errors == []
