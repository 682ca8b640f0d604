"""The LINE WORKS bot's persistent menu (質問する / 予定 / 報告), set up by ``nimo lineworks menu``.

LINE WORKS has no rich menu image to upload as LINE has; its persistent menu is up to four
buttons under the input box.  Each is a message action that sends its own words, so a tap does
exactly what typing them does (the router knows 「質問する」, 「予定」 and 「報告」); its ``postback``
marks the words as a button press, which in a room needs no 「にも」.
"""
from __future__ import annotations

from bot import messages
from bot.adapters.lineworks_api import WorksError, from_settings
from bot.config import Settings


def menu_actions() -> list[dict]:
    return [{"type": "message", "label": label, "text": label, "postback": label} for label in messages.LINEWORKS_MENU]


def set_menu(settings: Settings) -> tuple[str, ...]:
    """Set the menu; the labels set.  ValueError (in Japanese) when LINE WORKS refused it."""
    api = from_settings(settings)
    try:
        api.set_menu(menu_actions())
    except WorksError as e:
        raise ValueError(f"LINE WORKS が固定メニューを受け付けませんでした（{e}）") from None
    return messages.LINEWORKS_MENU
