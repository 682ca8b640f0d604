"""Messages in and replies out, with no platform types.

A handler takes an :class:`Incoming` and returns a list of replies; adapters (terminal, LINE,
Slack) turn those into what their platform shows.  Keeping these small and frozen is what lets a
capability be written once and tested without a network.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping, Union

from casebase.card import CaseCard  # the search's type; re-exported for the adapters

__all__ = ["Incoming", "Choice", "CaseCard", "Text", "Cards", "Form", "Reply"]


@dataclass(frozen=True)
class Incoming:
    platform: str          # "terminal", "line", "slack"
    user: str              # the platform's user id
    conversation: str      # where to answer (user, group, channel)
    text: str = ""
    direct: bool = True    # a 1:1 chat: only there may personal data be shown
    postback: str | None = None  # button data, when a button was pressed
    event_id: str | None = None  # the platform's id of this event (LINE webhookEventId, Slack event_id)
    photo: bytes | None = None   # an image the user sent, already downloaded by the adapter
    # what happened: 'message' (text or a button), 'image', 'non_text' (a sticker...), 'follow' (Nimo
    # added as a friend), 'join' (Nimo added to a group), 'open_form' (the user asks for the form
    # ``text`` names, e.g. Slack's 「報告」 button), 'form' (a form filled in and sent, its fields in
    # ``form``); the router has routes for each kind, so who may do what is decided there for all
    kind: str = "message"
    # an image not yet downloaded: the platform's download, called only once the sender is known to
    # be registered; it returns None when the platform could not give it
    fetch_photo: Callable[[], bytes | None] | None = field(default=None, compare=False, repr=False)
    # a submitted form's fields (name → what was entered, None when left empty); read-only, like
    # the rest of the message.  Left out of repr: it is what the user typed.
    form: Mapping[str, str | None] | None = field(default=None, hash=False, repr=False)

    def __post_init__(self):
        if self.photo is not None and self.kind == "message":  # a photo given is an image event
            object.__setattr__(self, "kind", "image")
        if self.form is not None:
            object.__setattr__(self, "form", MappingProxyType(dict(self.form)))

    def texts(self) -> tuple[str, ...]:
        """Everything the user typed into this message (its text, a button's data, a form's
        fields): what the router's shape checks read, whichever way it came."""
        values = tuple(v for v in (self.form or {}).values() if isinstance(v, str))
        return tuple(v for v in (self.text, self.postback) if v) + values

    def image(self) -> bytes | None:
        return self.photo if self.photo is not None or self.fetch_photo is None else self.fetch_photo()


@dataclass(frozen=True)
class Choice:
    """A button or quick reply; ``text`` is what typing would do the same.

    With ``pick_date`` the button opens a date picker, and ``text`` holds ``{date}`` where the
    chosen day (YYYY-MM-DD) goes: 「延期 {date} #12」.
    """

    label: str
    text: str
    pick_date: bool = False


@dataclass(frozen=True)
class Text:
    text: str
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Cards:
    """An answer: a lead line, the cards, a closing line with the follow-ups."""

    lead: str
    cards: tuple[CaseCard, ...]
    footer: str
    choices: tuple[Choice, ...] = field(default=())


@dataclass(frozen=True)
class Form:
    """A form for the user to fill in, with what its fields start as (Slack's report modal: the
    date and the user's area).  Only an ``open_form`` message is answered with one, and only an
    adapter that can show forms sends those; it shows the form, and any other reply beside it as
    usual."""

    name: str
    values: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self):
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))


Reply = Union[Text, Cards, Form]
