"""Slack through Bolt: app mentions, direct messages, ``/nimo``, buttons and the App Home tab.

Bolt verifies the signature (and the 5-minute timestamp window) on the raw body before any of our
code runs, acknowledges within the 3 seconds Slack allows, and runs our listeners after the ack.
A retried event (same ``event_id``) is recognised through the same SQLite inbox as LINE's and
acknowledged without doing anything twice.
"""
from __future__ import annotations

import logging
import re

from slack_bolt import App as BoltApp
from slack_bolt import BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from .. import messages
from ..core import Cards, CaseCard, Choice, Incoming, Reply, Text
from ..inbox import Inbox

log = logging.getLogger("nimo.slack")

SECTION_MAX = 3000
BUTTON_MAX = 75
MENTION = re.compile(r"<@[A-Z0-9]+>")


def esc(s: str) -> str:
    """Slack mrkdwn escapes; what users typed must not become a link or a mention."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_MAX]}}


def _button(label: str, value: str, action_id: str, primary: bool = False) -> dict:
    b = {"type": "button", "text": {"type": "plain_text", "text": label[:BUTTON_MAX], "emoji": True},
         "value": value, "action_id": action_id}
    if primary:
        b["style"] = "primary"
    return b


def _element(c: Choice, action_id: str) -> dict:
    if c.pick_date:  # Slack's date picker: the command template rides in the action id
        return {"type": "datepicker", "action_id": f"nimo:date:{c.text}"[:255],
                "placeholder": {"type": "plain_text", "text": c.label[:150]}}
    return _button(c.label, c.text, action_id)


def _actions(choices: tuple[Choice, ...], prefix: str) -> dict | None:
    if not choices:
        return None
    return {"type": "actions", "elements": [_element(c, f"nimo:{prefix}:{i}") for i, c in enumerate(choices[:25])]}


def card_block(c: CaseCard) -> str:
    lines = [f"*{c.number}) {esc(c.area)}*" + (f"（{esc(c.population)}）" if c.population else ""),
             f"*{esc(c.title)}*"]
    for i, d in enumerate(c.did):
        lines.append(("取組：" if i == 0 else "　　　") + esc(d))
    if c.result:
        lines.append("成果：" + esc(c.result))
    if c.tip:
        lines.append("工夫：" + esc(c.tip))
    lines.append(f"_出典：{esc(c.source)}_")
    return "\n".join(lines)


def render(replies: list[Reply]) -> tuple[str, list[dict]]:
    """Replies as (fallback text, Block Kit blocks).  The fallback text is what notifications
    show; like LINE's altText it names areas, never the question."""
    blocks: list[dict] = []
    fallback: list[str] = []
    for r in replies:
        if isinstance(r, Text):
            for i in range(0, len(r.text), SECTION_MAX):
                blocks.append(_section(esc(r.text[i:i + SECTION_MAX])))
            act = _actions(r.choices, f"t{len(blocks)}")
            if act:
                blocks.append(act)
            fallback.append(r.text[:150])
        elif isinstance(r, Cards):
            blocks.append(_section(esc(r.lead)))
            for c in r.cards:
                blocks.append(_section(card_block(c)))
                blocks.append({"type": "actions", "elements": [
                    _button("詳しく", f"詳しく {c.number}", f"nimo:detail:{c.number}", primary=True),
                    _button("似た事例", f"似た事例 {c.number}", f"nimo:similar:{c.number}")]})
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": esc(r.footer)}]})
            rest = tuple(ch for ch in r.choices if not ch.text.startswith(("詳しく", "似た事例")))
            act = _actions(rest, "more")
            if act:
                blocks.append(act)
            fallback.append(f"事例{len(r.cards)}件：" + "、".join(c.area for c in r.cards))
    return "\n".join(fallback)[:3000] or "Nimo", blocks[:50]


HOME = {
    "type": "home",
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Nimo（にも）の使い方"}},
        _section(esc(messages.HELP)),
        {"type": "actions", "elements": [_button("報告を書く（フォーム）", "報告", "nimo_report_form", primary=True)]},
        _section(esc(messages.SLACK_HOME_MORE)),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "DM、チャンネルでの @Nimo、`/nimo 質問` のどれでも使えます。"}]},
    ],
}


def _input(block_id: str, label: str, element: dict, optional: bool = False) -> dict:
    return {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
            "element": {**element, "action_id": "v"}, "optional": optional}


def report_form(today: str, area: str) -> dict:
    """The report form (a modal): the same fields as the step-by-step chat, then the same review."""
    types = [{"text": {"type": "plain_text", "text": t}, "value": t} for t in messages.REPORT_TYPES]
    return {
        "type": "modal", "callback_id": "nimo_report",
        "title": {"type": "plain_text", "text": "報告"}, "submit": {"type": "plain_text", "text": "確認へ"},
        "close": {"type": "plain_text", "text": "やめる"},
        "blocks": [
            _input("type", "種類", {"type": "static_select", "options": types, "initial_option": types[0]}),
            _input("date", "日付", {"type": "datepicker", "initial_date": today}),
            _input("case", "ケースコード（名前は書かない）", {"type": "plain_text_input",
                   "placeholder": {"type": "plain_text", "text": "K-012"}}, optional=True),
            _input("area", "地域", {"type": "plain_text_input", **({"initial_value": area} if area else {})}),
            _input("summary", "内容", {"type": "plain_text_input", "multiline": True}),
            _input("next_action", "次の予定", {"type": "plain_text_input",
                   "placeholder": {"type": "plain_text", "text": "再訪"}}, optional=True),
            _input("next_date", "次の予定の日付", {"type": "datepicker"}, optional=True),
        ],
    }


def form_values(view: dict) -> dict:
    v = view["state"]["values"]

    def get(block):
        el = v.get(block, {}).get("v", {})
        return (el.get("selected_option") or {}).get("value") or el.get("selected_date") or el.get("value")

    return {k: (get(k) or "").strip() or None for k in
            ("type", "date", "case", "area", "summary", "next_action", "next_date")}


def download(file: dict, bot_token: str, limit: int = 10 * 1024 * 1024) -> bytes:
    """A file's bytes from its private URL (at most ``limit`` + 1, so a too-large file is refused
    by the photo check instead of being read whole)."""
    import urllib.request
    req = urllib.request.Request(file.get("url_private_download") or file["url_private"],
                                 headers={"Authorization": f"Bearer {bot_token}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read(limit + 1)


def build_bolt(app, *, bot_token: str, signing_secret: str, base_url: str | None = None) -> BoltApp:
    """The Bolt app with Nimo's listeners; ``base_url`` points the Web API client elsewhere (tests)."""
    client = web_client(bot_token, base_url)
    quiet = logging.getLogger("nimo.slack.bolt")  # Bolt logs request bodies at DEBUG: keep it at INFO+
    quiet.setLevel(max(logging.INFO, quiet.getEffectiveLevel()))
    bolt = BoltApp(client=client, signing_secret=signing_secret, logger=quiet, process_before_response=False)
    inbox = Inbox(app.db, app.clock)

    @bolt.middleware
    def drop_retries(body, next):
        """A retry of an event we already took (same event_id) gets 200 and nothing else."""
        event_id = body.get("event_id") if isinstance(body, dict) else None
        if event_id and inbox.add("slack", event_id, {"type": body.get("event", {}).get("type")}) is None:
            return BoltResponse(status=200, body="")
        return next()

    def answer(incoming: Incoming) -> tuple[str, list[dict]]:
        return render(app.handle(incoming))

    @bolt.event("app_mention")
    def on_mention(event, say):
        text = MENTION.sub("", event.get("text", "")).strip()
        incoming = Incoming("slack", event["user"], event["channel"], text, direct=False)
        fallback, blocks = answer(incoming)
        say(text=fallback, blocks=blocks, thread_ts=event.get("thread_ts") or event.get("ts"))

    @bolt.event("message")
    def on_message(body, event, say):
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype") not in (None, "file_share"):
            return  # only people's own direct messages; channel talk needs a mention
        photo = None
        images = [f for f in event.get("files", []) if str(f.get("mimetype", "")).startswith("image/")]
        if images:  # downloaded at once, with the bot token; the report handler strips and keeps it
            photo = download(images[0], bot_token)
        incoming = Incoming("slack", event["user"], event["channel"], event.get("text", ""), direct=True,
                            event_id=body.get("event_id"), photo=photo)
        fallback, blocks = answer(incoming)
        say(text=fallback, blocks=blocks)

    def open_form(client, trigger_id: str, user: str) -> None:
        from scheduler.workdays import TZ
        from ..access import get_user
        u = get_user(app.db, "slack", user)
        client.views_open(trigger_id=trigger_id, view=report_form(app.clock().astimezone(TZ).date().isoformat(),
                                                                   u.area if u else ""))

    @bolt.action("nimo_report_form")
    def on_form_button(ack, body, client):
        ack()
        from ..access import get_user
        if get_user(app.db, "slack", body["user"]["id"]):
            open_form(client, body["trigger_id"], body["user"]["id"])

    @bolt.view("nimo_report")
    def on_form(ack, body, view, client):
        """Checked like the chat checks it; then the same review (in the user's DM) and 「確定」."""
        from .. import reports as rp
        from ..access import get_user
        from ..handlers.report import review_draft
        f = form_values(view)
        errors = {}
        if f["case"] and not rp.CASE_CODE.match(f["case"]):
            errors["case"] = "ケースコードの形ではありません（例：K-012）"
        if not f["summary"]:
            errors["summary"] = "内容を書いてください"
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        user = body["user"]["id"]
        if get_user(app.db, "slack", user) is None:
            return
        channel = client.conversations_open(users=user)["channel"]["id"]
        draft = rp.Draft(type=f["type"] or "訪問", date=f["date"], case_code=f["case"].upper() if f["case"] else None,
                         area=f["area"] or "", summary=f["summary"],
                         next_action=(f["next_action"] or "次回訪問") if f["next_date"] else None, next_date=f["next_date"])
        fallback, blocks = render(review_draft(app, Incoming("slack", user, channel, "", direct=True), draft))
        client.chat_postMessage(channel=channel, text=fallback, blocks=blocks)

    @bolt.command("/nimo")
    def on_command(ack, command, respond, client):
        ack()
        from ..access import get_user
        if command.get("text", "").strip() == "報告" and get_user(app.db, "slack", command["user_id"]):
            open_form(client, command["trigger_id"], command["user_id"])
            return
        # The answer is ephemeral: only the user who typed the command sees it, as in a 1:1 chat.
        incoming = Incoming("slack", command["user_id"], command["channel_id"], command.get("text", ""),
                            direct=True)
        fallback, blocks = answer(incoming)
        respond(text=fallback, blocks=blocks, response_type="ephemeral", replace_original=False)

    @bolt.action(re.compile(r"^nimo:"))
    def on_button(ack, body, action, respond):
        ack()
        channel = (body.get("channel") or {}).get("id") or body["user"]["id"]
        container = body.get("container") or {}
        direct = bool(container.get("is_ephemeral")) or channel.startswith("D")
        value = action.get("value", "")
        if action.get("type") == "datepicker":
            value = action["action_id"].removeprefix("nimo:date:").replace("{date}", action.get("selected_date") or "")
        incoming = Incoming("slack", body["user"]["id"], channel, value, direct=direct,
                            postback=value, event_id=f"action:{action.get('action_ts', '')}:{body['user']['id']}")
        fallback, blocks = answer(incoming)
        respond(text=fallback, blocks=blocks, response_type="ephemeral", replace_original=False)

    @bolt.event("app_home_opened")
    def on_home(event, client):
        if event.get("tab") == "home":
            client.views_publish(user_id=event["user"], view=HOME)

    return bolt


class SlackPusher:
    """Reminders and digests through chat.postMessage; 429s are retried after Retry-After by the
    client's RateLimitErrorRetryHandler.  A digest goes to the user's DM, opened on demand."""

    def __init__(self, client: WebClient):
        self.client = client

    def push(self, target: str, replies: list[Reply], key: str) -> bool:
        from slack_sdk.errors import SlackApiError
        text, blocks = render(replies)
        try:
            self.client.chat_postMessage(channel=target, text=text, blocks=blocks)
        except SlackApiError as e:
            log.error("slack push failed: %s", e.response.get("error") if e.response else type(e).__name__)
            return False
        return True

    def push_user(self, user: str, replies: list[Reply], key: str) -> bool:
        channel = self.client.conversations_open(users=user)["channel"]["id"]
        return self.push(channel, replies, key)

    def upload(self, channel: str, data: bytes, *, filename: str, title: str, comment: str) -> bool:
        """A file (the weekly chart) with its message, through files_upload_v2."""
        from slack_sdk.errors import SlackApiError
        try:
            self.client.files_upload_v2(channel=channel, file=data, filename=filename, title=title,
                                        initial_comment=comment)
        except SlackApiError as e:
            log.error("slack upload failed: %s", e.response.get("error") if e.response else type(e).__name__)
            return False
        return True


def web_client(bot_token: str, base_url: str | None = None) -> WebClient:
    return WebClient(token=bot_token, base_url=base_url or WebClient.BASE_URL,
                     retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)])
