"""What the handler modules declare, collected once by the composition root (``build_app``).

A handler module only declares: its ``ROUTES`` (each naming its group), its ``CONVERSATIONS``
(dialogs with their states, timeout, what is said when one times out, and what must happen when a
state ends) and its ``CONFIRMATIONS`` (what a 「はい」 does for each kind of read-back it asks
for).  Importing a module fills nothing; :meth:`Registry.build` reads those declarations from the
modules it is given and checks them, and the router and :class:`bot.chat.dialogs.Dialogs` get the
result from the app.  So a ``Dialogs`` built without the handlers' conversations says so in its
constructor call (``Registry.empty()``) instead of silently timing every dialog out after 30 minutes
and skipping a draft's photo clean-up.

The routes are tried group by group in the order of the groups given (as python-telegram-bot's
handler groups): the order lives in one table (``bot.handlers.GROUPS``), not in the order modules
are imported or listed.  Within a group, routes keep the order of the modules, then the order each
module lists them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Iterable

from bot.chat.routes import Conversation, Route

DEFAULT_TIMEOUT = timedelta(minutes=30)

# fn(app, msg, data, yes) -> replies: what a 「はい」 (yes=True) or 「いいえ」 does to a read-back
Confirmation = Callable[[Any, Any, dict, bool], Any]
# fn(db, data, next_data): a state ended; next_data is the replacing state's data, or None
EndHook = Callable[[object, dict, "dict | None"], None]


@dataclass(frozen=True)
class Group:
    """A named rank of routes: every route of an earlier group is tried before any of a later one.
    ``says`` is what the group holds, for ``nimo routes``."""

    name: str
    says: str


class Registry:
    """Routes in their order, conversations by slot and state, confirmations by tag."""

    def __init__(self, groups: Iterable[Group], routes: Iterable[Route], conversations: Iterable[Conversation],
                 confirmations: dict[str, Confirmation]):
        self.groups = tuple(groups)
        rank = {g.name: i for i, g in enumerate(self.groups)}
        routes = tuple(routes)
        for r in routes:
            if r.group not in rank:
                raise ValueError(f"route {r.name or r!r} names group {r.group!r}, which is not one of "
                                 f"{', '.join(rank)}")
        self.routes = tuple(sorted(routes, key=lambda r: rank[r.group]))  # sorted() keeps ties in order
        self.conversations = {c.name: c for c in conversations}
        self.confirmations = dict(confirmations)
        self._routes = {r.name: r for r in self.routes}
        self._group = {g.name: g for g in self.groups}
        self._slot = {state: c.name for c in self.conversations.values() for state in c.states}
        self._public = tuple(r for r in self.routes if r.public)
        self._rest = tuple(r for r in self.routes if not r.public)
        if not all(self._routes) or len(self._routes) != len(self.routes):
            raise ValueError("every route needs a name of its own")

    @classmethod
    def build(cls, groups: Iterable[Group], modules: Iterable[Any]) -> "Registry":
        """The registry of ``modules``' declarations; a name declared twice (a route, a conversation,
        a state, a confirmation tag) is an error here rather than one silently winning."""
        routes: list[Route] = []
        conversations: list[Conversation] = []
        confirmations: dict[str, Confirmation] = {}
        seen_states: set[str] = set()
        for module in modules:
            routes.extend(getattr(module, "ROUTES", ()))
            for conv in getattr(module, "CONVERSATIONS", ()):
                if conv.name in {c.name for c in conversations} or seen_states & set(conv.states):
                    raise ValueError(f"conversation {conv.name} ({module.__name__}) repeats a name or state")
                seen_states.update(conv.states)
                conversations.append(conv)
            for tag, fn in getattr(module, "CONFIRMATIONS", {}).items():
                if tag in confirmations:
                    raise ValueError(f"confirmation {tag!r} declared twice ({module.__name__})")
                confirmations[tag] = fn
        return cls(groups, routes, conversations, confirmations)

    @classmethod
    def empty(cls) -> "Registry":
        """No routes, no conversations: every state is a slot of its own that ends after 30 minutes
        and has no end hook.  For code that keeps dialog states without the chat's handlers."""
        return cls((), (), (), {})

    # -- routes ------------------------------------------------------------------------------------
    def route(self, name: str) -> Route:
        """The route called ``name``; a KeyError naming it when there is none (a route named by
        another module's code must exist: tests/test_route_table.py checks every such name)."""
        try:
            return self._routes[name]
        except KeyError:
            raise KeyError(f"no route called {name!r}") from None

    def group(self, name: str) -> Group:
        return self._group[name]

    def public(self) -> tuple[Route, ...]:
        """The routes served before the registration check, in their order."""
        return self._public

    def after_registration(self) -> tuple[Route, ...]:
        """Every other route, in its order: what a registered user's message is tried against."""
        return self._rest

    # -- conversations -----------------------------------------------------------------------------
    def slot_of(self, state: str) -> str:
        """The slot (conversation name) a state is kept in; an undeclared state is its own slot."""
        return self._slot.get(state, state)

    def conversation(self, slot: str) -> Conversation | None:
        return self.conversations.get(slot)

    def timeout_of(self, state: str) -> timedelta:
        conv = self.conversations.get(self.slot_of(state))
        return conv.timeout if conv is not None else DEFAULT_TIMEOUT

    def on_end_of(self, state: str) -> EndHook | None:
        conv = self.conversations.get(self.slot_of(state))
        return conv.on_end if conv is not None else None

    def has_end_hooks(self) -> bool:
        return any(c.on_end for c in self.conversations.values())

    # -- confirmations -----------------------------------------------------------------------------
    def confirmation(self, tag: object) -> Confirmation | None:
        """What 「はい」 does to a read-back tagged ``tag``; None for a tag no module declares."""
        return self.confirmations.get(tag) if isinstance(tag, str) else None
