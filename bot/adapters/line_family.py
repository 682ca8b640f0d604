"""What LINE and LINE WORKS share: how a list of replies becomes messages, and the case card.

LINE WORKS's flexible template is LINE's Flex in all that a card uses, so the card is laid out once;
each platform gives its own button action.  Texts are packed into as few messages as fit, an answer goes as its lead line then its carousel,
and at most ``max_messages`` go out (a long case in full is cut, saying where the rest is).  The
choices of the last reply that offers any become the quick replies.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Callable

from knowledge.answer import pack

from bot import messages
from bot.chat.core import Cards, CaseCard, Choice, Reply, Text


# In a group, Nimo answers only when called by one of these names at the start (or mentioned).
GROUP_PREFIXES = ("にも", "nimo", "ニモ")
# 「登録 ABCD2345」 pasted into a group is read even when Nimo is not called: anyone there could
# redeem the code, so it must reach the registration route, which revokes it and says why.
_PASTED_CODE = re.compile(r"登録[\s:：]*([A-Za-z0-9][A-Za-z0-9-]{3,19})(?![A-Za-z0-9-])")


def group_call(text: str) -> str | None:
    """What a group message says to Nimo: the text after its name, a pasted invite code as
    「登録 CODE」, or None (the message is people talking to each other)."""
    low = text.lower()
    for p in GROUP_PREFIXES:
        if low.startswith(p):
            return text[len(p):].lstrip(" 　、,:：")
    pasted = _PASTED_CODE.search(unicodedata.normalize("NFKC", text))
    return f"登録 {pasted.group(1)}" if pasted else None


def text_message(s: str) -> dict:
    return {"type": "text", "text": s}


def sequence(replies: list[Reply], *, text_limit: int, max_messages: int,
             cards_message: Callable[[tuple[CaseCard, ...]], dict],
             typed: Callable[[tuple[Choice, ...]], list[str]] = lambda choices: []
             ) -> tuple[list[dict], tuple[Choice, ...]]:
    """(messages, the last choices).  ``typed`` turns choices the platform cannot show (a date
    picker on LINE WORKS) into lines of text."""
    out: list[dict] = []
    texts: list[str] = []
    last: tuple[Choice, ...] = ()
    for r in replies:
        if isinstance(r, Text):
            texts.append(r.text)
            last = r.choices or last
        elif isinstance(r, Cards):
            out += [text_message(t) for t in pack(texts, text_limit)]
            texts = []
            out.append(text_message(f"{r.lead}\n{r.footer}"[:text_limit]))
            out.append(cards_message(r.cards))
            last = r.choices
    texts += typed(last)
    out += [text_message(t) for t in pack(texts, text_limit)]
    if len(out) > max_messages:  # a very long case in full: keep the first parts, say where the rest is
        out = out[:max_messages]
        if out[-1]["type"] == "text":
            out[-1]["text"] = out[-1]["text"][:text_limit - len(messages.CUT_SHORT) - 1] + "\n" + messages.CUT_SHORT
    return out, last


def flex_text(s: str, size: str = "sm", **kw) -> dict:
    return {"type": "text", "text": s, "size": size, "wrap": True, **kw}


def bubble(c: CaseCard, button: Callable[[str, str, str], dict], **extra) -> dict:
    """One case as a card: area and population, title, 取組 / 成果 / 工夫, the source, and
    詳しく / 似た事例 / 👍 / 👎 as buttons made by ``button(label, data, style)``."""
    body = [flex_text(c.title, "md", weight="bold")]
    for label, value in (("取組", "\n".join(c.did)), ("成果", c.result), ("工夫", c.tip)):
        if value:
            body += [flex_text(label, "xs", color="#888888"), flex_text(value)]
    body.append(flex_text(f"出典：{c.source}", "xxs", color="#999999"))
    header = [flex_text(f"{c.number}) {c.area}", "sm", weight="bold", color="#1B5E20")]
    if c.population:
        header.append(flex_text(c.population, "xs", color="#666666"))
    return {
        "type": "bubble", **extra,
        "header": {"type": "box", "layout": "vertical", "contents": header},
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
        "footer": {"type": "box", "layout": "vertical", "spacing": "none", "contents": [
            {"type": "box", "layout": "horizontal", "contents": [
                button("詳しく", f"詳しく {c.number}", "primary"), button("似た事例", f"似た事例 {c.number}", "link")]},
            {"type": "box", "layout": "horizontal", "contents": [button("👍", "👍", "link"), button("👎", "👎", "link")]},
        ]},
    }
