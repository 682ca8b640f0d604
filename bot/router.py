"""Which handler takes a message.  Buttons send the same words a user could type, so a postback
and a typed command take one path."""
from __future__ import annotations

import re

from knowledge.tokens import normalize

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
_ACT = re.compile(r"^(完了|会えなかった|あとで記録|スヌーズ|取消|取り消し|キャンセル|削除)\s*(?:#?(\d+))?\s*(.*)$")
_POSTPONE = re.compile(r"^延期\s*(.*?)\s*(?:#(\d+))?$")
_CHANGE = re.compile(r"^変更\s*#?(\d+)\s+(.+)$")
_RSVP = re.compile(r"^(参加|不参加)\s*#e(\d+)$")
_DIGEST = re.compile(r"^朝の通知\s*(\d{1,2}[:：]\d{2})$")
_ACTIONS = {"完了": "done", "会えなかった": "unmet", "あとで記録": "later", "取消": "cancel", "取り消し": "cancel",
            "キャンセル": "cancel", "削除": "cancel"}
_UP = {"👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "役に立った", "よかった", "良かった"}
_DOWN = {"👎", "👎🏻", "👎🏼", "👎🏽", "👎🏾", "👎🏿", "違った", "ちがった", "役に立たなかった"}


def route(app, msg: Incoming) -> list[Reply]:
    text = (msg.postback or msg.text or "").strip()
    t = normalize(text).strip()
    if msg.platform != "terminal":  # the terminal user is the local staff member, no registration
        if m := _REGISTER.match(t):
            return register(app, msg, m.group(1))
        if get_user(app.db, msg.platform, msg.user) is None:
            return [Text(messages.REGISTER_PROMPT)]
    refresh_cases(app)  # a local case added in the console is searchable at once
    expired = app.dialogs.pop_expired(msg.platform, msg.user, app.clock()) or ""
    replies = _route(app, msg, text, t)
    if expired.startswith("report"):  # say that the half-written report was dropped, and why
        replies = [Text(messages.REPORT_TIMED_OUT)] + replies
    return replies


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
    if m := _RSVP.match(t):
        return rem.answer_event(app, msg, "yes" if m.group(1) == "参加" else "no", m.group(2))
    if m := _DIGEST.match(t):
        return rem.set_digest(app, msg, m.group(1))
    if m := _CHANGE.match(text):
        return rem.change(app, msg, m.group(1), m.group(2))
    if m := _POSTPONE.match(t):
        return rem.postpone(app, msg, m.group(1) or "明日", m.group(2))
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
