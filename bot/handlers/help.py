"""「ヘルプ」: what Nimo can do, one example each, and a page per topic (「ヘルプ 報告」) with the
rest; every example is a message that works as it is (tests/test_help.py sends each)."""
from __future__ import annotations

import re

from .. import messages
from ..core import Choice, Incoming, Reply, Text
from ..routes import Route, exact

EXAMPLE_CHOICES = tuple(Choice(e, e) for e in messages.EXAMPLES[:4])
TOPIC_CHOICES = tuple(Choice(f"ヘルプ {t}", f"ヘルプ {t}") for t in messages.HELP_TOPICS)
HELP_WORDS = r"(?:ヘルプ|へるぷ|help|使い方|つかいかた)"
# 「ヘルプ リマインダー」 and 「ヘルプ 予定一覧」 find their page too
TOPIC_ALIASES = {"リマインダー": "リマインド", "イベント": "リマインド", "退院": "リマインド", "措置": "リマインド",
                 "訪問": "リマインド", "予定一覧": "予定", "報告一覧": "報告", "事例": "質問", "聞き方": "質問"}


def help_(app, msg: Incoming) -> list[Reply]:
    return [Text(messages.HELP, TOPIC_CHOICES)]


def topic(app, msg: Incoming, m) -> list[Reply]:
    name = TOPIC_ALIASES.get(m.group(1), m.group(1))
    if name not in messages.HELP_TOPICS:
        return [Text(messages.help_topic_unknown(messages.shorten(m.group(1))), TOPIC_CHOICES)]
    return [Text(messages.HELP_TOPICS[name], EXAMPLE_CHOICES if name == "質問" else TOPIC_CHOICES)]


ROUTES = (
    Route(re.compile(rf"^({HELP_WORDS}|\?|？|メニュー)$", re.I), lambda app, msg, m: help_(app, msg), "help"),
    Route(re.compile(rf"^{HELP_WORDS}\s*+(\S{{1,20}})$", re.I), topic, "help_topic"),
    Route(exact("質問する"),  # the rich menu's first button
          lambda app, msg, m: [Text(messages.ASK_PROMPT, tuple(Choice(e, e) for e in messages.EXAMPLES[:4]))], "ask_prompt"),
)
