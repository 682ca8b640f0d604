"""What a chat platform is to Nimo: four things, the same for LINE, LINE WORKS and the terminal.

- ``parse(payload)``: the platform's event → an :class:`Event` (the neutral :class:`Incoming` and
  how to answer it), or None for events that need no answer.  A platform that shows the user that
  an answer is coming (LINE's loading animation) starts it here.
- ``render(replies)``: the neutral replies → what the platform's API takes.
- ``deliver(rendered, event)``: send the answer; raise when the platform could not be reached, so
  the inbox keeps the event and tries again.
- ``pusher()``: what the reminder engine sends through when there is nothing to answer (it has
  ``push(target, replies, key)`` and ``push_user(user, replies, key)``).

:func:`answer` is the one loop every platform's event goes through, so a new platform is these four
methods and its webhook hook, declared together in bot/adapters/ (``CONNECTORS``), and nothing in
the handlers or in bot/serve/ changes.  Slack is the exception:
Bolt's listener matching parses its events (messages, slash commands, buttons, the report form's
modal), which is why its adapter (bot/adapters/slack.py) keeps Bolt and calls the same router.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from bot.chat.core import Incoming, Reply


@dataclass(frozen=True)
class Event:
    incoming: Incoming
    reply_to: Any = None      # the platform's way back: a reply token and a push target, a room id
    key: str = ""             # the delivery's idempotency key (a retry of the same event sends nothing twice)


@runtime_checkable
class Platform(Protocol):
    name: str

    def parse(self, payload: Any) -> Event | None: ...

    def render(self, replies: list[Reply]) -> Any: ...

    def deliver(self, rendered: Any, event: Event) -> None: ...

    def pusher(self) -> Any: ...


def answer(platform: Platform, app, payload: Any) -> None:
    """One event of ``platform``: read it, let the router answer it, send the answer."""
    event = platform.parse(payload)
    if event is not None:
        platform.deliver(platform.render(app.handle(event.incoming)), event)
