"""How LINE and LINE WORKS send a list of replies: the same shape, each with its own card format.

Texts are packed into as few messages as fit, an answer goes as its lead line then its carousel,
and at most ``max_messages`` go out (a long case in full is cut, saying where the rest is).  The
choices of the last reply that offers any become the quick replies.
"""
from __future__ import annotations

from typing import Callable

from knowledge.answer import pack

from .. import messages
from ..core import Cards, CaseCard, Choice, Reply, Text


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
