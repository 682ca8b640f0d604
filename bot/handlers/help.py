"""「ヘルプ」: what Nimo can do, with examples to copy."""
from __future__ import annotations

import re

from .. import messages

from ..core import Choice, Incoming, Reply, Text
from ..routes import Route, exact

EXAMPLE_CHOICES = tuple(Choice(e, e) for e in messages.EXAMPLES[:4])


def help_(app, msg: Incoming) -> list[Reply]:
    return [Text(messages.HELP, EXAMPLE_CHOICES)]


ROUTES = (
    Route(re.compile(r"^(ヘルプ|へるぷ|help|使い方|つかいかた|\?|？|メニュー)$"), lambda app, msg, m: help_(app, msg), "help"),
    Route(exact("質問する"),  # the rich menu's first button
          lambda app, msg, m: [Text(messages.ASK_PROMPT, tuple(Choice(e, e) for e in messages.EXAMPLES[:4]))], "ask_prompt"),
)
