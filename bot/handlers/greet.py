"""What Nimo says to chat events that are not a question, the same on every platform: being added
as a friend (a LINE follow, LINE WORKS' start button), being added to a group, and a sticker or
other message it cannot read.  Adapters only say which kind of event came (``Incoming.kind``).

Also a greeting or a thank-you typed on its own (「お疲れ様です！」「ありがとうございました」): staff
write them as they would to a colleague, and searching them as questions answered 「該当する事例が
見つかりませんでした」 and logged them in the gaps list that curators read."""
from __future__ import annotations

import re

from bot import messages
from bot.people.access import get_user
from bot.chat.core import Choice, Incoming, Reply, Text
from bot.chat.routes import Route, always

def follow(app, msg: Incoming, m) -> list[Reply]:
    known = get_user(app.db, msg.platform, msg.user) is not None
    return [Text(messages.GREETING if known else messages.GREETING + "\n\n" + messages.REGISTER_PROMPT)]


def join(app, msg: Incoming, m) -> list[Reply]:
    return [Text(messages.GREETING + "\n" + messages.GROUP_HINTS.get(msg.platform, messages.GROUP_HINT))]


# What each short message is (after NFKC, lower case, and without spaces, punctuation, 〜 or emoji:
# 「こんにちは！」「おはようございます😊」): a greeting by its kind (messages.GREET_BACK says what each
# is answered with), a thank-you, or an acknowledgement.
SMALLTALK = {
    **dict.fromkeys(("こんにちは", "こんにちわ", "もしもし", "hello", "hi", "ハロー"), "day"),
    **dict.fromkeys(("こんばんは", "こんばんわ"), "evening"),
    **dict.fromkeys(("おはよう", "おはようございます", "おはよございます"), "morning"),
    **dict.fromkeys(("おつかれさまです", "お疲れ様です", "お疲れさまです", "おつかれさま", "お疲れ様", "お疲れさま",
                     "おつかれ", "お疲れ", "おつかれさまでした", "お疲れ様でした", "お疲れさまでした"), "work"),
    **dict.fromkeys(("はじめまして", "初めまして"), "first"),
    **dict.fromkeys(("よろしく", "よろしくお願いします", "よろしくおねがいします", "よろしくお願いいたします",
                     "よろしくお願い致します"), "regards"),
    **dict.fromkeys(("ありがとう", "ありがとうございます", "ありがとうございました", "どうも", "どうもありがとう",
                     "どうもありがとうございます", "どうもありがとうございました", "助かりました", "助かります",
                     "たすかりました", "たすかります", "サンキュー", "thanks", "thankyou", "thx", "感謝します", "感謝です"),
                    "thanks"),
    **dict.fromkeys(("了解", "了解です", "了解しました", "りょうかい", "りょうかいです", "わかりました", "分かりました",
                     "承知しました", "承知です", "かしこまりました"), "ack"),
}
# Longer than any of them with a few marks, long vowels and emoji: every message passes here first,
# and a long one is not scanned to find out it is no greeting.
_LONGEST = max(map(len, SMALLTALK)) + 12
_NOISE = re.compile(r"[\W_]+")
# How the same words are typed casually (「おはよー」「ありがと😊」「りょーかいでーす」「了解っす笑」): a
# long vowel written ー or 〜, or as the う after an お-row kana, is one sound whichever way or whether
# written at all; 「っす」 is 「です」; a laugh (笑, w) at the end is a tone, not a word.
_LONG_VOWEL = re.compile(r"[ー～~]++|(?<=[おこそとのほもよろをごぞどぼぽょォオコソトノホモヨロヲゴゾドボポョ])う")
_LAUGH = re.compile(r"(?<=[^\x00-\x7f])[w笑]++$")


def _canonical(text: str) -> str:
    """One spelling of a short message for the table: marks and emoji away, then the casual ways."""
    t = _LAUGH.sub("", _NOISE.sub("", text).lower())
    t = _LONG_VOWEL.sub("", t)
    return t[:-2] + "です" if t.endswith("っす") else t


_SMALLTALK = {_canonical(k): kind for k, kind in SMALLTALK.items()}
SMALLTALK_CHOICES = (Choice("家族教室を始めたい", "家族教室を始めたい"), Choice("ヘルプ", "ヘルプ"))


def _smalltalk(app, msg, words) -> str | None:
    if len(words.norm) > _LONGEST:
        return None
    t = _canonical(words.norm)
    return _SMALLTALK.get(t) or _SMALLTALK.get(t.removesuffix("です"))  # 「よろしくです」「ありがとです」


def smalltalk(app, msg: Incoming, kind: str) -> list[Reply]:
    """A greeting returned in kind, with what Nimo does; a thank-you or an acknowledgement, one short
    line.  Not a public route: someone not yet registered gets the registration prompt, and a dialog
    waiting for its next step (a report's date) takes the message first, as it takes any other."""
    if kind == "thanks":
        return [Text(messages.THANKS_REPLY)]
    if kind == "ack":
        return [Text(messages.ACK_REPLY)]
    return [Text(messages.hello(kind), SMALLTALK_CHOICES)]


ROUTES = (
    Route(_smalltalk, smalltalk, "smalltalk", group="menu"),
    Route(always, follow, "follow", kind="follow", public=True, group="events"),
    Route(always, join, "join", kind="join", public=True, group="events"),
    Route(always, lambda app, msg, m: [Text(messages.NON_TEXT)], "non_text", kind="non_text", group="events"),
)
