"""The card of one case, as the search hands it to the chat: a case base type, not a chat one.

It lives here so that ``knowledge`` (which makes cards) needs nothing from ``bot`` (the layering
rule, checked by tests/test_layering.py); ``bot.chat.core`` re-exports it beside the other reply
types, so adapters keep importing it from there.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CaseCard:
    """One case of an answer, already cut to phone size; every string is the guide's own words."""

    number: int
    case_id: str
    area: str
    population: str | None
    title: str
    did: tuple[str, ...]
    result: str | None
    tip: str | None
    source: str
