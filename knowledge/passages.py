"""A case as its passages: each sentence or bullet of the guide, with the field it sits in.

A question about one detail of a case (a tool, a person's story, how a meeting was run) matches one
paragraph; scored against the whole case, that paragraph is drowned by the length of the rest.  The
search therefore scores passages too, and a card shows the passages that matched.

A passage is cut only at a sentence end (。 outside brackets) or at a line end, so it is always the
guide's own words and can be shown as it is.  Headings inside a field (＜会議開催における工夫＞,
（地域交流会の開催）) are passages too, marked as such: they match a question well, but a card shows
the sentence under them rather than the heading.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from casebase.cases import Case

# The text fields of a record, in the order a card prefers them when scores tie.
TEXT_FIELDS = (
    "title", "keywords", "section", "appeal_points", "forum", "regional_challenges", "system_challenges",
    "actions", "innovations", "outcomes", "system_effects", "case_summary", "key_points", "results",
    "stages", "points", "provider_comments", "point_notes", "introduction", "challenge_recognition",
    "driving_forces", "resources", "continuity", "effects", "transfer_points", "commentary",
)
_OPEN, _CLOSE = "（「『【〈＜《(", "）」』】〉＞》)"
HEADING = re.compile(r"^\s*([＜〈【〇◯■].{0,60}|[（(][^。]{0,40}[）)])\s*$")


@dataclass(frozen=True)
class Passage:
    field: str      # the record field it comes from (stages: "stages")
    item: int       # which item of the field (list element, stage paragraph), in the guide's order
    text: str       # one sentence or bullet, the guide's words
    heading: bool   # a sub-heading, not a sentence
    group: str = "" # the stage it belongs to (stages), else ""


_MARKS = re.compile("[。" + re.escape(_OPEN + _CLOSE) + "]")


def sentences(text: str) -> list[str]:
    """``text`` cut after each 。 that closes a sentence (not one inside 「…。」) and at line ends."""
    out: list[str] = []
    for line in text.split("\n"):
        depth, start = 0, 0
        for m in _MARKS.finditer(line):  # only the marks, not every character
            ch = m.group()
            if ch in _OPEN:
                depth += 1
            elif ch in _CLOSE:
                depth = max(0, depth - 1)
            elif depth == 0:
                out.append(line[start:m.end()])
                start = m.end()
        out.append(line[start:])
    merged: list[str] = []
    for s in (s.strip() for s in out):
        if not s:
            continue
        if merged and (len(s) < 3 or s[0] in _CLOSE):  # 「）」 or a stray tail belongs to the sentence before
            merged[-1] += s
        else:
            merged.append(s)
    return merged


def _items(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [x for v in value for x in _items(v)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _items(v)]
    return []


def passages(case: Case) -> list[Passage]:
    """Every passage of ``case``, field by field in :data:`TEXT_FIELDS` order."""
    out: list[Passage] = []
    for name in TEXT_FIELDS:
        value = case.data.get(name)
        if value is None:
            continue
        if name == "stages":
            items = []
            for st in value:
                stage = str(st.get("name", ""))
                items.append(("heading", stage, stage))
                items += [("text", t, stage) for t in st.get("text", [])]
        else:
            items = [("text", t, "") for t in _items(value)]
        for i, (kind, text, group) in enumerate(items):
            for s in sentences(str(text)):
                out.append(Passage(name, i, s, kind == "heading" or bool(HEADING.match(s)), group))
    return out
