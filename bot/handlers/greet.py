"""What Nimo says to chat events that are not a question, the same on every platform: being added
as a friend (a LINE follow, LINE WORKS' start button), being added to a group, and a sticker or
other message it cannot read.  Adapters only say which kind of event came (``Incoming.kind``).

Also a greeting or a thank-you typed on its own (「お疲れ様です！」「ありがとうございました」): staff
write them as they would to a colleague, and searching them as questions answered 「該当する事例が
見つかりませんでした」 and logged them in the gaps list that curators read."""
from __future__ import annotations

import re

from .. import messages
from ..access import get_user
from ..core import Choice, Incoming, Reply, Text
from ..routes import Route, always

GROUP_HINTS = {"lineworks": messages.LINEWORKS_GROUP_HINT}


def follow(app, msg: Incoming, m) -> list[Reply]:
    known = get_user(app.db, msg.platform, msg.user) is not None
    return [Text(messages.GREETING if known else messages.GREETING + "\n\n" + messages.REGISTER_PROMPT)]


def join(app, msg: Incoming, m) -> list[Reply]:
    return [Text(messages.GREETING + "\n" + GROUP_HINTS.get(msg.platform, messages.GROUP_HINT))]


# Which greeting each is (after NFKC, lower case, and without spaces, punctuation, 〜 or emoji:
# 「こんにちは！」「おはようございます😊」); messages.GREET_BACK says what each is answered with.
HELLO = {
    **dict.fromkeys(("こんにちは", "こんにちわ", "もしもし", "hello", "hi", "ハロー"), "day"),
    **dict.fromkeys(("こんばんは", "こんばんわ"), "evening"),
    **dict.fromkeys(("おはよう", "おはようございます", "おはよございます"), "morning"),
    **dict.fromkeys(("おつかれさまです", "お疲れ様です", "お疲れさまです", "おつかれさま", "お疲れ様", "お疲れさま",
                     "おつかれ", "お疲れ", "おつかれさまでした", "お疲れ様でした", "お疲れさまでした"), "work"),
    **dict.fromkeys(("はじめまして", "初めまして"), "first"),
    **dict.fromkeys(("よろしく", "よろしくお願いします", "よろしくおねがいします", "よろしくお願いいたします",
                     "よろしくお願い致します"), "regards"),
}
THANKS = frozenset(("ありがとう", "ありがとうございます", "ありがとうございました", "どうも", "どうもありがとう",
                    "どうもありがとうございます", "どうもありがとうございました", "助かりました", "助かります",
                    "たすかりました", "たすかります", "サンキュー", "thanks", "thankyou", "thx", "感謝します", "感謝です"))
ACK = frozenset(("了解", "了解です", "了解しました", "りょうかい", "りょうかいです", "わかりました", "分かりました",
                 "承知しました", "承知です", "かしこまりました"))
_NOISE = re.compile(r"[\W_]+")
SMALLTALK_CHOICES = (Choice("家族教室を始めたい", "家族教室を始めたい"), Choice("ヘルプ", "ヘルプ"))


def _bare(words) -> str:
    return _NOISE.sub("", words.norm).lower()


def _hello(app, msg, words):
    return HELLO.get(_bare(words))


def hello(app, msg: Incoming, kind: str) -> list[Reply]:
    """A greeting, returned in kind, with what Nimo does.  Not a public route: someone not yet
    registered gets the registration prompt, and a dialog waiting for its next step (a report's
    date) takes the message first, as it takes any other."""
    return [Text(messages.hello(kind), SMALLTALK_CHOICES)]


ROUTES = (
    Route(_hello, hello, "hello"),
    Route(lambda app, msg, w: _bare(w) in THANKS, lambda app, msg, m: [Text(messages.THANKS_REPLY)], "thanks"),
    Route(lambda app, msg, w: _bare(w) in ACK, lambda app, msg, m: [Text(messages.ACK_REPLY)], "ack"),
    Route(always, follow, "follow", kind="follow", public=True),
    Route(always, join, "join", kind="join", public=True),
    Route(always, lambda app, msg, m: [Text(messages.NON_TEXT)], "non_text", kind="non_text"),
)
