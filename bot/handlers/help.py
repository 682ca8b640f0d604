"""「ヘルプ」: what Nimo can do, one example each, and a page per topic (「ヘルプ 報告」) with the
rest; every example is a message that works as it is (tests/test_help.py sends each)."""
from __future__ import annotations

import re

from bot import messages
from bot.people.access import OVERSEEING, STAFF_ROLES, get_user
from bot.chat.core import Choice, Incoming, Reply, Text
from bot.chat.routes import Route, exact
from bot.handlers.plans import PLAN_ROLES

EXAMPLE_CHOICES = tuple(Choice(e, e) for e in messages.EXAMPLES[:4])
TOPIC_CHOICES = tuple(Choice(f"ヘルプ {t}", f"ヘルプ {t}") for t in messages.HELP_TOPICS)
HELP_WORDS = r"(?:ヘルプ|へるぷ|help|使い方|つかいかた)"
# 「ヘルプ リマインダー」 and 「ヘルプ 予定一覧」 find their page too
TOPIC_ALIASES = {"リマインダー": "リマインド", "イベント": "リマインド", "退院": "リマインド", "措置": "リマインド",
                 "訪問": "リマインド", "予定一覧": "予定", "報告一覧": "報告", "事例": "質問", "聞き方": "質問"}


# The lines of the help pages (by how they start) that name a command only some roles may use, and
# those roles: a peer supporter is shown no visit plans, staff no area-wide list.
# A line a role is refused would only lead to 「…は使えません」.
ONLY_FOR = (("■ 退院後・措置解除後", PLAN_ROLES), ("・退院 ", PLAN_ROLES), ("・措置 ", PLAN_ROLES),
            ("・予定 K-", STAFF_ROLES), ("・予定 全体", OVERSEEING), ("■ 訪問計画を終える", PLAN_ROLES),
            ("・計画終了", PLAN_ROLES), ("・引継ぎ", PLAN_ROLES))


def for_role(page: str, role: str | None) -> str:
    """``page`` without the lines ``role`` may not use (None: the terminal's local staff member, who
    may use everything)."""
    if role is None:
        return page
    lines = [line for line in page.splitlines()
             if not any(line.startswith(start) and role not in roles for start, roles in ONLY_FOR)]
    if role == "peer":  # their one-message report is of their own type, without a case
        lines = [messages.HELP_PEER_REPORT_LINE if line.startswith("・報告 訪問") else line for line in lines]
    return "\n".join(lines)


def _role(app, msg: Incoming) -> str | None:
    user = get_user(app.db, msg.platform, msg.user) if msg.platform != "terminal" else None
    return user.role if user is not None else None


def help_(app, msg: Incoming) -> list[Reply]:
    return [Text(for_role(messages.HELP, _role(app, msg)), TOPIC_CHOICES)]


def topic(app, msg: Incoming, m) -> list[Reply]:
    name = TOPIC_ALIASES.get(m.group(1), m.group(1))
    if name not in messages.HELP_TOPICS:
        return [Text(messages.help_topic_unknown(messages.shorten(m.group(1))), TOPIC_CHOICES)]
    return [Text(for_role(messages.HELP_TOPICS[name], _role(app, msg)),
                 EXAMPLE_CHOICES if name == "質問" else TOPIC_CHOICES)]


ROUTES = (
    Route(re.compile(rf"^({HELP_WORDS}|\?|？|メニュー)$", re.I), lambda app, msg, m: help_(app, msg), "help", group="menu"),
    Route(re.compile(rf"^{HELP_WORDS}\s*+(\S{{1,20}})$", re.I), topic, "help_topic", group="menu"),
    Route(exact("質問する"),  # the rich menu's first button
          lambda app, msg, m: [Text(messages.ASK_PROMPT, tuple(Choice(e, e) for e in messages.EXAMPLES[:4]))], "ask_prompt",
          group="menu"),
)
