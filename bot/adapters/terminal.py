"""The terminal chat: plain lines in, plain text out, through the same router as LINE and Slack.

It acts as the local staff user ``terminal``, which needs no registration.  Lines come from stdin,
so a session can be scripted: ``printf '8050問題\\n詳しく 1\\n' | nimo chat``.
"""
from __future__ import annotations

from typing import IO, Iterable

from knowledge.answer import card_text

from bot.chat.core import Cards, Incoming, Reply, Text
from bot.chat.platform import Event, answer

USER = "terminal"


def render(replies: Iterable[Reply]) -> str:
    """Replies as the plain text a terminal (and ``nimo ask``) shows."""
    out = []
    for r in replies:
        if isinstance(r, Cards):
            out.append("\n\n".join([r.lead] + [card_text(c) for c in r.cards] + [r.footer]))
        elif isinstance(r, Text):  # buttons become the words to type
            typed = [c.text.replace("{date}", "12/10") for c in r.choices]  # a picker: an example date
            out.append(r.text + ("\n→ " + " ／ ".join(f"「{t}」" for t in typed) if typed else ""))
    return "\n\n".join(out)


def incoming(line: str) -> Incoming:
    return Incoming(platform="terminal", user=USER, conversation=USER, text=line, direct=True)


class Terminal:
    """The terminal as a :class:`~bot.chat.platform.Platform`: a line typed → the replies printed.
    Reminders have nowhere to go without a chat app, so it has no pusher."""

    name = "terminal"

    def __init__(self, out: IO[str]):
        self.out = out

    def parse(self, line: str) -> Event:
        return Event(incoming(line.rstrip("\r\n")))

    def render(self, replies: list[Reply]) -> str:
        return render(replies)

    def deliver(self, rendered: str, event: Event) -> None:
        print(rendered, file=self.out, end="\n\n", flush=True)

    def pusher(self) -> None:
        return None


def chat(app, lines: Iterable[str], out: IO[str], *, prompt: str = "") -> None:
    terminal = Terminal(out)
    for line in lines:
        if line.strip() in ("exit", "quit", "終了", "おわり"):
            break
        answer(terminal, app, line)
        if prompt:
            print(prompt, end="", file=out, flush=True)
