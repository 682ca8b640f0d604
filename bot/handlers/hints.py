"""A message that starts with a command word but that no command could read (「参加」 without its
event, 「変更 1」 without a time, 「朝の通知 七時」) gets a one-line hint about that command.

It is the route just before the question search: without it such a message was searched as a
question, answered with unrelated cases and logged as a case the guide lacks, which misleads the
curators who read that log.
"""
from __future__ import annotations

import re

from bot import messages
from bot.chat.core import Incoming, Reply, Text
from bot.chat.routes import Route

# the longest first, so 「不参加」 is not read as 「参加」 and 「報告一覧」 not as 「報告」
WORDS = {"不参加": "参加", "参加": "参加", "変更": "変更", "延期": "延期", "朝の通知": "朝の通知", "完了": "完了",
         "取消": "取消", "取り消し": "取消", "キャンセル": "取消", "削除": "取消", "予定": "予定", "報告一覧": "報告一覧",
         "リマインダー": "リマインド", "リマインド": "リマインド", "イベント": "イベント"}
# followed by nothing, white space, a number or 「#」: 「参加者を増やすには」 and 「予定の立て方」 are questions
COMMAND_WORD = re.compile("^(" + "|".join(sorted(WORDS, key=len, reverse=True)) + r")(?=$|[\s0-9#:])")


def hint(app, msg: Incoming, m) -> list[Reply]:
    return [Text(messages.HINTS[WORDS[m.group(1)]])]


ROUTES = (Route(COMMAND_WORD, hint, "command_hint", group="hints"),)
