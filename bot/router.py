"""Which handler takes a message.  Buttons send the same words a user could type, so a postback
and a typed command take one path."""
from __future__ import annotations

import re

from knowledge.tokens import normalize

from . import messages
from .access import get_user
from .core import Choice, Incoming, Reply, Text
from .handlers import ask as ask_h
from .handlers.help import help_
from .handlers.register import register

_HELP = re.compile(r"^(ヘルプ|へるぷ|help|使い方|つかいかた|\?|？|メニュー)$")
_DETAIL = re.compile(r"^(詳しく|くわしく|詳細|全文)\s*(\S*)$")
_MORE = re.compile(r"^(次|つぎ|次へ|続き|つづき|もっと|他には|ほかには)$")
_SIMILAR = re.compile(r"^(似た事例|にた事例|似てる事例|類似事例)\s*(\S*)$")
_REGISTER = re.compile(r"^登録\s*([A-Za-z0-9\- ]{4,20})$")
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
    if _HELP.match(t):
        return help_(app, msg)
    if t == "質問する":  # the rich menu's first button
        return [Text(messages.ASK_PROMPT, tuple(Choice(e, e) for e in messages.EXAMPLES[:4]))]
    if t in messages.NOT_YET:
        return [Text(messages.NOT_YET[t])]
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
