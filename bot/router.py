"""Which handler takes a message.  Buttons send the same words a user could type, so a postback
and a typed command take one path.

Before any pattern runs, a message is checked for length and shape (issue 14: one message must not
be able to stall the service): longer than its platform allows, more than twice as long after NFKC,
or a long run of combining marks, and it gets a short reply and nothing else.  Every pattern here is
anchored, and no two unbounded quantifiers next to each other can share a character (possessive
quantifiers where they could), so the patterns stay linear also on Slack's 40,000 characters.  A
handler that fails all the same gets an apology, not silence, and the log says which handler and
what kind of error, never the text.
"""
from __future__ import annotations

import logging
import re

from knowledge.tokens import normalize
from scheduler.timeparse import long_mark_run

from . import messages
from .access import get_user
from .casesync import refresh as refresh_cases
from .core import Choice, Incoming, Reply, Text
from .handlers import ask as ask_h
from .handlers import console_link
from .handlers import proposal
from .handlers import remind as rem
from .handlers import report as rep
from .handlers.help import help_
from .handlers.register import register
from scheduler.store import load_plans

_HELP = re.compile(r"^(ヘルプ|へるぷ|help|使い方|つかいかた|\?|？|メニュー)$")
_DETAIL = re.compile(r"^(詳しく|くわしく|詳細|全文)\s*(\S*)$")
_MORE = re.compile(r"^(次|つぎ|次へ|続き|つづき|もっと|他には|ほかには)$")
_SIMILAR = re.compile(r"^(似た事例|にた事例|似てる事例|類似事例)\s*(\S*)$")
_REGISTER = re.compile(r"^登録\s*([A-Za-z0-9\- ]{4,20})$")
_YES = {"はい", "はい。", "ok", "ｏｋ", "うん", "お願いします", "おねがいします"}
_NO = {"いいえ", "いいえ。", "やめる", "やめます", "キャンセル", "no"}
# Possessive (*+, ++): white space, digits and the rest never overlap, so giving characters back
# could not help a match, and greedy runs side by side cost the cube of a run of spaces.
_ACT = re.compile(r"^(完了|会えなかった|あとで記録|スヌーズ|取消|取り消し|キャンセル|削除)\s*+(?:#?([0-9]++))?\s*+(.*+)$")
_CHANGE = re.compile(r"^変更\s*+#?([0-9０-９]++)\s++(.+)$")  # on the text as typed: full-width digits too
_RSVP = re.compile(r"^(参加|不参加)\s*+#e([0-9]++)$")
_DIGEST = re.compile(r"^朝の通知\s*+([0-9]{1,2}[:：][0-9]{2})$")
_ACTIONS = {"完了": "done", "会えなかった": "unmet", "あとで記録": "later", "取消": "cancel", "取り消し": "cancel",
            "キャンセル": "cancel", "削除": "cancel"}
_UP = {"👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "役に立った", "よかった", "良かった"}
_DOWN = {"👎", "👎🏻", "👎🏼", "👎🏽", "👎🏾", "👎🏿", "違った", "ちがった", "役に立たなかった"}

# The most characters one text message can have on each platform (LINE: 5,000; Slack: 40,000).
# The terminal has no limit of its own; it takes Slack's, the largest any platform lets through,
# which every parser must handle anyway (a pasted document there is still answered, as too long a
# question).  A platform not listed here gets the smallest.
MAX_CHARS = {"line": 5000, "slack": 40000, "terminal": 40000,
             "lineworks": 5000}  # LINE WORKS documents 2,000 for what a bot sends; people are held to LINE's
log = logging.getLogger("nimo.router")


def refusal(msg: Incoming) -> str | None:
    """Why this message is not read at all, or None: too long for its platform, or a run of
    combining marks that Unicode normalisation would take the square of its length to sort."""
    limit = MAX_CHARS.get(msg.platform, min(MAX_CHARS.values()))
    for raw in (msg.text, msg.postback):
        if raw and len(raw) > limit:
            return messages.message_too_long(len(raw), limit)
        if raw and long_mark_run(raw):
            return messages.MESSAGE_UNREADABLE
    return None


def route(app, msg: Incoming) -> list[Reply]:
    if why := refusal(msg):
        return [Text(why)]
    text = (msg.postback or msg.text or "").strip()
    t = normalize(text).strip()
    limit = MAX_CHARS.get(msg.platform, min(MAX_CHARS.values()))
    if len(t) > 2 * limit:  # ﷺ is 18 characters after NFKC: no one types a text that more than doubles
        return [Text(messages.message_too_long(len(t), limit))]
    try:
        if msg.platform != "terminal":  # the terminal user is the local staff member, no registration
            if m := _REGISTER.match(t):
                return register(app, msg, m.group(1))
            if get_user(app.db, msg.platform, msg.user) is None:
                return [Text(messages.REGISTER_PROMPT)]
        refresh_cases(app)  # a local case added in the console is searchable at once
        expired = app.dialogs.pop_expired(msg.platform, msg.user, app.clock()) or ""
        replies = _route(app, msg, text, t)
    except Exception as e:  # a safety net, not a way of handling input: each case found is fixed where it arises
        log.error("message not handled: %s in %s", type(e).__name__, _handler_of(e))
        return [Text(messages.SORRY)]
    if expired.startswith("report"):  # say that the half-written report was dropped, and why
        replies = [Text(messages.REPORT_TIMED_OUT)] + replies
    return replies


def _handler_of(e: BaseException) -> str:
    """The function _route handed the message to (``bot.handlers.remind.act``), from the traceback;
    only names of code, nothing of the message."""
    frames = []
    tb = e.__traceback__
    while tb is not None:
        frames.append(f"{tb.tb_frame.f_globals.get('__name__', '?')}.{tb.tb_frame.f_code.co_name}")
        tb = tb.tb_next
    for i, name in enumerate(frames):
        if name == f"{__name__}._route" and i + 1 < len(frames):
            return frames[i + 1]
    return frames[-1] if frames else "?"


def _postpone(t: str) -> tuple[str, str | None] | None:
    """「延期 12/10 10時 #3」 → ("12/10 10時", "3"); None when the text is no 延期 command.

    What ``^延期\\s*(.*?)\\s*(?:#(\\d+))?$`` matched (the rest, without white space and a final
    「#number」, on one line), without its lazy group backtracking over a run of spaces for every
    place where it might end."""
    if not t.startswith("延期"):
        return None
    rest = t[2:].lstrip()
    k = len(rest)
    while k and rest[k - 1] in "0123456789":
        k -= 1
    number = None
    if 0 < k < len(rest) and rest[k - 1] == "#":
        number, rest = rest[k:], rest[:k - 1]
    rest = rest.rstrip()
    return None if "\n" in rest else (rest, number)


def _route(app, msg: Incoming, text: str, t: str) -> list[Reply]:
    if msg.photo is not None:
        return rep.attach_photo(app, msg)
    if rep.active(app, msg):  # a report being written takes every message until it ends
        return rep.handle(app, msg, text)
    if proposal.active(app, msg):  # so does a case proposal
        return proposal.handle(app, msg, text)
    if _HELP.match(t):
        return help_(app, msg)
    if t == "管理画面":
        return console_link.link(app, msg)
    if t == "事例提案":
        return proposal.start(app, msg)
    if t == "質問する":  # the rich menu's first button
        return [Text(messages.ASK_PROMPT, tuple(Choice(e, e) for e in messages.EXAMPLES[:4]))]
    if m := rep.REPORT_LIST.match(t):
        return rep.listing(app, msg, everyone=bool(m.group(1)))
    if rep.REPORT_EDIT.match(text):
        return rep.edit(app, msg, text)
    if rep.REPORT_WITHDRAW.match(text):
        return rep.withdraw(app, msg, text)
    if m := rep.REPORT_START.match(text):
        return rep.start(app, msg, m.group(1) or "")
    if t in _YES or t in _NO:
        done = rem.confirm(app, msg, t in _YES)
        if done is not None:
            return done
        if t in _NO:
            return [Text(messages.NOTHING_TO_CONFIRM)]
    for key, p in load_plans().items():
        for word in p.get("words", []):
            if m := re.match(rf"^{word}\s+(\S.*)$", text):
                return rem.plan(app, msg, key, m.group(1))
    if rem.EVENT_PREFIX.match(text):
        return rem.event(app, msg, text)
    if rem.wants_reminder(text):
        return rem.reminder(app, msg, text)
    if t in ("予定", "よてい", "予定一覧"):
        return rem.listing(app, msg)
    if t in ("予定 全体", "予定全体", "地域の予定"):
        return rem.listing(app, msg, everyone=True)
    if (m := rem.NIGHT_ALT.match(t)) and (done := rem.use_alternative(app, msg, t)) is not None:
        return done
    if m := rem.EVENT_CANCEL.match(t):
        return rem.cancel_event(app, msg, m.group(1))
    if m := _RSVP.match(t):
        return rem.answer_event(app, msg, "yes" if m.group(1) == "参加" else "no", m.group(2))
    if m := _DIGEST.match(t):
        return rem.set_digest(app, msg, m.group(1))
    if m := _CHANGE.match(text):
        return rem.change(app, msg, m.group(1), m.group(2))
    if (p := _postpone(t)) is not None:
        return rem.postpone(app, msg, p[0] or "明日", p[1])
    if m := _ACT.match(t):
        word, number, detail = m.groups()
        if word == "スヌーズ":
            return rem.postpone(app, msg, "スヌーズ", number)
        if number or not detail or word == "会えなかった":
            return rem.act(app, msg, _ACTIONS[word], number, detail)
    if text in _UP or t in _UP:
        return ask_h.feedback(app, msg, 1)
    if text in _DOWN or t in _DOWN:
        return ask_h.feedback(app, msg, -1)
    if m := _DETAIL.match(t):
        return ask_h.detail(app, msg, m.group(2) or "1")
    if _MORE.match(t):
        return ask_h.more(app, msg)
    if m := _SIMILAR.match(t):
        return ask_h.similar(app, msg, m.group(2) or None)
    if msg.postback is not None:  # a button carrying a question: ask it as if typed
        msg = Incoming(msg.platform, msg.user, msg.conversation, msg.postback, msg.direct)
    return ask_h.ask(app, msg)
