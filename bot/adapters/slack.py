"""Slack through Bolt: app mentions, direct messages, ``/nimo``, buttons and the App Home tab.

The web process verifies each request on its raw bytes, keeps it in the SQLite inbox (a retried
``event_id`` is recognised there and does nothing) and acknowledges at once (bot/serve/web.py); the
worker then hands the stored payload to Bolt's listeners here, as Bolt's Socket Mode does.  So a
Slack answer survives a crash between the acknowledgement and the answer, as a LINE one does.

Each request, the report form included (asked for: an ``open_form`` message; sent: a ``form``
message), becomes an :class:`Incoming` for the router, which alone decides who may do what; this
module only reads Slack's shapes and shows the replies (a :class:`Form` as a modal).
"""
from __future__ import annotations

import logging
import re
import urllib.request

from slack_bolt import App as BoltApp
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot import messages
from bot.chat.core import Cards, CaseCard, Choice, Form, Incoming, Reply, Text
from bot.adapters.slack_form import CALLBACK_ID, check_form, form_values, report_form

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


def modal_of(form: Form) -> dict:
    """The modal that shows a :class:`Form` (the report form is the one Nimo has)."""
    if form.name != "report":
        raise ValueError(f"no Slack modal for the form {form.name!r}")
    return report_form(form.values.get("date") or "", form.values.get("area") or "")


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


FILE_HOSTS = ("files.slack.com",)


def file_url_ok(url: object, api_base: str | None = None) -> bool:
    """Only Slack's own file host over https gets the bot token (a ``url_private`` is whatever the
    event says; ``file://`` or another host would read local files or leak the token).  A test or
    proxy that moves the Web API (``SLACK_API_BASE_URL``) moves the file host with it."""
    from urllib.parse import urlsplit
    if not isinstance(url, str):
        return False
    u = urlsplit(url)
    if u.scheme == "https" and u.hostname in FILE_HOSTS and u.port in (None, 443):
        return True
    if api_base:
        b = urlsplit(api_base)
        return u.scheme == b.scheme and u.scheme in ("http", "https") and (u.hostname, u.port) == (b.hostname, b.port)
    return False


def download(file: dict, bot_token: str, api_base: str | None = None, limit: int = 10 * 1024 * 1024) -> bytes | None:
    """A file's bytes from its private URL (at most ``limit`` + 1, so a too-large file is refused
    by the photo check instead of being read whole); None when the URL is not Slack's."""
    url = file.get("url_private_download") or file.get("url_private")
    if not file_url_ok(url, api_base):
        log.warning("slack file skipped: not on Slack's file host")
        return None
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {bot_token}"})
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(req, timeout=30) as r:
        return r.read(limit + 1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would carry the token to wherever it points: refuse it."""

    def redirect_request(self, *args, **kwargs):
        return None


def build_bolt(app, *, bot_token: str, base_url: str | None = None) -> BoltApp:
    """The Bolt app with Nimo's listeners, run by the worker on requests the web process has
    already verified and stored (``dispatch``).  So Bolt checks no signature (it would log the body
    of one that fails), calls no ``auth.test`` at start (Slack being down must not stop Nimo) and
    runs each listener to its end before the inbox row is marked done.
    ``base_url`` points the Web API client elsewhere (tests)."""
    client = web_client(bot_token, base_url)
    # held at INFO (slack_hook.CONNECTOR.loggers): Bolt logs bodies at DEBUG
    quiet = logging.getLogger("nimo.slack.bolt")
    bolt = BoltApp(client=client, signing_secret="verified-by-the-web-process", logger=quiet,
                   process_before_response=True, request_verification_enabled=False,
                   token_verification_enabled=False, url_verification_enabled=False)

    @bolt.error
    def on_error(error, body):
        """Bolt's own handler logs the exception's text; ours logs only its kind, or for a Web
        API refusal which method, its status and Slack's error code."""
        from slack_sdk.errors import SlackApiError
        if isinstance(error, SlackApiError):
            log.error("slack listener failed: %s", slack_failure(error, None))
        else:
            log.error("slack listener failed: %s", type(error).__name__)

    def answer(incoming: Incoming) -> tuple[str, list[dict]]:
        return render(app.handle(incoming))

    @bolt.event("app_mention")
    def on_mention(event, say):
        text = MENTION.sub("", str(event.get("text") or "")).strip()
        incoming = Incoming("slack", event["user"], event["channel"], text, direct=False)
        fallback, blocks = answer(incoming)
        say(text=fallback, blocks=blocks, thread_ts=event.get("thread_ts") or event.get("ts"))

    @bolt.event("message")
    def on_message(body, event, say):
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype") not in (None, "file_share"):
            return  # only people's own direct messages; channel talk needs a mention
        photo = None
        files = event.get("files") if isinstance(event.get("files"), list) else []
        images = [f for f in files if isinstance(f, dict) and str(f.get("mimetype", "")).startswith("image/")]
        if images:  # downloaded at once, with the bot token; the report handler strips and keeps it
            photo = download(images[0], bot_token, base_url)
        incoming = Incoming("slack", event["user"], event["channel"], str(event.get("text") or ""), direct=True,
                            event_id=body.get("event_id"), photo=photo, kind="image" if photo else "message")
        fallback, blocks = answer(incoming)
        say(text=fallback, blocks=blocks)

    def show(replies: list[Reply], client, trigger_id: str, say_rest) -> None:
        """A form among the replies opens as a modal (first: its trigger lasts 3 seconds); the rest
        is said through ``say_rest(text, blocks)``."""
        for r in replies:
            if isinstance(r, Form):
                client.views_open(trigger_id=trigger_id, view=modal_of(r))
        rest = [r for r in replies if not isinstance(r, Form)]
        if rest:
            say_rest(*render(rest))

    def in_dm(client, user: str):
        """Say something in the user's DM (opened on demand): for what has no channel of its own,
        a modal's submission and App Home's button."""
        def say(fallback: str, blocks: list[dict]) -> None:
            channel = client.conversations_open(users=user)["channel"]["id"]
            client.chat_postMessage(channel=channel, text=fallback, blocks=blocks)
        return say

    @bolt.action("nimo_report_form")
    def on_form_button(ack, body, client):
        """App Home's 「報告を書く」: whether the form opens is the router's to say, as for 「報告」."""
        ack()
        user = body["user"]["id"]
        incoming = Incoming("slack", user, user, "報告", direct=True, kind="open_form")
        show(app.handle(incoming), client, body["trigger_id"], in_dm(client, user))

    @bolt.view(CALLBACK_ID)
    def on_form(ack, body, view, client):
        """Checked by the web process (mistakes go back in the acknowledgement); here the form's
        fields go to the router like any message, and its answer (the same review as the chat's,
        then 「確定」) to the user's DM."""
        ack()
        if check_form(view):
            return
        user = body["user"]["id"]
        channel = client.conversations_open(users=user)["channel"]["id"]
        incoming = Incoming("slack", user, channel, "", direct=True, kind="form", form=form_values(view))
        fallback, blocks = answer(incoming)
        client.chat_postMessage(channel=channel, text=fallback, blocks=blocks)

    @bolt.command("/nimo")
    def on_command(ack, command, respond, client):
        ack()
        text = str(command.get("text") or "")
        # The answer is ephemeral: only the user who typed the command sees it, as in a 1:1 chat.
        incoming = Incoming("slack", command["user_id"], str(command.get("channel_id") or command["user_id"]), text,
                            direct=True, kind="open_form" if text.strip() == "報告" else "message")

        def say(fallback: str, blocks: list[dict]) -> None:
            respond(text=fallback, blocks=blocks, response_type="ephemeral", replace_original=False)
        show(app.handle(incoming), client, str(command.get("trigger_id") or ""), say)

    @bolt.action(re.compile(r"^nimo:"))
    def on_button(ack, body, action, respond):
        ack()
        channel = body.get("channel") if isinstance(body.get("channel"), dict) else {}
        channel = channel.get("id") if isinstance(channel.get("id"), str) else body["user"]["id"]
        container = body.get("container") if isinstance(body.get("container"), dict) else {}
        direct = bool(container.get("is_ephemeral")) or channel.startswith("D")
        value = action.get("value")
        value = value if isinstance(value, str) else ""
        if action.get("type") == "datepicker":
            picked = action.get("selected_date")
            value = str(action["action_id"]).removeprefix("nimo:date:").replace(
                "{date}", picked if isinstance(picked, str) else "")
        incoming = Incoming("slack", body["user"]["id"], channel, value, direct=direct,
                            postback=value, event_id=f"action:{action.get('action_ts', '')}:{body['user']['id']}")
        fallback, blocks = answer(incoming)
        respond(text=fallback, blocks=blocks, response_type="ephemeral", replace_original=False)

    @bolt.event("app_home_opened")
    def on_home(event, client):
        if event.get("tab") == "home":
            client.views_publish(user_id=event["user"], view=HOME)

    return bolt


def dispatch(bolt: BoltApp, payload: dict) -> None:
    """Answer one stored Slack request (the inbox row's payload) through Bolt's listeners; raises
    when a listener failed, so the row is not counted as answered."""
    from slack_bolt.request import BoltRequest
    resp = bolt.dispatch(BoltRequest(body=payload["body"], mode="socket_mode"))
    if resp.status >= 500:
        raise RuntimeError(f"slack listener answered {resp.status}")


def slack_failure(e, method: str | None) -> str:
    """A Web API refusal described for an operator: platform, method, HTTP status, Slack's error
    code (``channel_not_found``, ``ratelimited``…), never the channel or the text.  Slack's client
    retries only 429s (after Retry-After), so what reaches here is not tried again."""
    from bot.serve.delivery import describe
    resp = getattr(e, "response", None)
    status = getattr(resp, "status_code", None)
    if method is None:  # which method failed, from the request's URL path
        url = getattr(resp, "api_url", "") or ""
        method = url.rstrip("/").rsplit("/", 1)[-1] or "unknown"
    code = (resp.get("error") if resp is not None else None) or type(e).__name__
    return describe("slack", f"/api/{method}", status, str(code)[:60], 1, False)


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
        except SlackApiError as e:  # 429s were already retried by the client
            log.error("delivery failed: %s", slack_failure(e, "chat.postMessage"))
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


def display_name(client: WebClient, user_id: str) -> str | None:
    """The name Slack shows for ``user_id`` (``users.info``, scope ``users:read``): the display
    name the person chose, else their full name."""
    user = client.users_info(user=user_id)["user"]
    profile = user.get("profile") or {}
    return profile.get("display_name") or profile.get("real_name") or user.get("real_name") or None


class SlackPart:
    """Slack for the worker (bot/serve/worker.py): Bolt answering the stored requests when Slack is
    on, pushes with the bot token (also when only the token is set), names for new users, and a
    watch on Slack's API for ``/readyz``."""

    name = "slack"

    def __init__(self, app, settings, bolt: BoltApp | None):
        self.app = app
        self.bolt = bolt
        self.answers = bolt is not None
        self.settings = settings

    def process(self, payload: dict) -> None:
        dispatch(self.bolt, payload)

    def pusher(self) -> SlackPusher | None:
        if not self.settings.slack_bot_token:
            return None
        return SlackPusher(web_client(self.settings.slack_bot_token, self.settings.slack_api_base_url))

    @property
    def display_name(self):
        if self.bolt is None:
            return None
        return lambda user_id: display_name(self.bolt.client, user_id)

    def start(self, stopping) -> None:
        if self.bolt is not None:
            import threading
            threading.Thread(target=self._watch, args=(stopping,), name="nimo-slack-check", daemon=True).start()

    def _watch(self, stopping) -> None:
        """Slack's API may be down when Nimo starts: LINE goes on, and this keeps asking Slack
        (``auth.test``) with a growing wait, recording the outcome for ``/readyz``."""
        from bot.serve import status
        wait = 1.0
        while not stopping.is_set():
            try:
                self.bolt.client.auth_test()
                status.record(self.app.db, "slack_api", True, None, self.app.clock())
                wait = 600.0
            except Exception as e:  # any failure: only its kind is kept
                log.warning("slack api check failed: %s", type(e).__name__)
                status.record(self.app.db, "slack_api", False, type(e).__name__, self.app.clock())
                wait = min(wait * 2, 300.0)
            stopping.wait(wait)


def worker_part(app, settings, *, sleep=None) -> SlackPart:
    """Bolt when Slack is on (its signing secret and bot token are set); with the bot token alone,
    only the pusher."""
    bolt = build_bolt(app, bot_token=settings.slack_bot_token, base_url=settings.slack_api_base_url) \
        if settings.slack_on else None
    return SlackPart(app, settings, bolt)
