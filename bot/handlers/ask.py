"""Questions and their follow-ups: 「住まいの確保で困っている」, 「詳しく 2」, 「次」, 「似た事例」.

The ranked list of an answer is kept in the dialog state, so the follow-ups work on what the user
saw, in any chat, on any platform, and after a restart.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

from typing import TYPE_CHECKING

from knowledge.answer import card, detail_sections, pack
from knowledge.tokens import normalize

from bot import messages
from bot.privacy import guard as privacy
from bot.chat.core import Cards, Choice, Incoming, Reply, Text
from bot.chat.routes import Conversation, Route, always, exact
from bot.curation.gaps import log_feedback, log_gap

if TYPE_CHECKING:
    from knowledge.search import SearchResult


def page_size() -> int:
    """Cards per page: the search's (it spreads each page over different areas).  Read when a page
    is shown, so that building the app (which collects this module's routes) loads no search."""
    from knowledge.search import PAGE
    return PAGE

MAX_QUESTION = 1000     # characters; a longer message is a pasted document, not a question
DETAIL_CHARS = 2000     # one message of a detailed case, readable on a phone


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def clean(text: str) -> str:
    """Terminal escapes and control characters out (a paste, a NUL), white space folded."""
    text = _ANSI.sub(" ", text)
    return " ".join("".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text).split())


def has_words(text: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in normalize(text))


def answer_choices(first: int, last: int, more: bool) -> tuple[Choice, ...]:
    details = tuple(Choice(f"詳しく {n}", f"詳しく {n}") for n in range(first, last + 1))
    return details + ((Choice("次", "次"),) if more else ()) + (
        Choice("似た事例", f"似た事例 {first}"), Choice("👍", "👍"), Choice("👎", "👎"))


def present(app, lead: str, ids: list[str], start: int, question: str) -> Cards:
    """Cards for one page of ids from ``start``, numbered from 1 across the whole answer; each shows the
    lines of its case that answer ``question`` ("" for a listing or similar cases)."""
    page = ids[start:start + page_size()]
    index = app.index
    cards = tuple(card(index.cases[index.by_id[cid]], start + i + 1, index.matches(question, cid))
                  for i, cid in enumerate(page))
    more = start + page_size() < len(ids)
    return Cards(lead, cards, messages.footer(start + 1, more), answer_choices(start + 1, start + len(page), more))


def search(app, question: str) -> tuple[SearchResult | None, list[Reply], str | None]:
    """Answer one question: the search result, the replies, and the gap reason if unanswered.

    Shared by the chat handler and ``nimo ask`` so that both say exactly the same thing.
    """
    text = clean(question)
    if not question.strip():
        return None, [Text(messages.EMPTY)], None
    if len(text) > MAX_QUESTION:
        return None, [Text(messages.too_long(len(text), MAX_QUESTION))], "too_long"
    if not has_words(text):
        return None, [Text(messages.NO_TEXT)], "no_text"
    result = app.index.search(text)
    if not result.hits:
        said = result.filters.describe() or None
        if result.reason == "filtered_out":
            return result, [Text(messages.filtered_out(said))], result.reason
        if result.reason == "clinical":
            # No case, however close, is shown: it would look like advice on someone's treatment.
            illness = bool(result.signals and result.signals.illness)
            text = messages.CLINICAL_ILLNESS if illness else messages.CLINICAL_DECLINED
            return result, [Text(text, tuple(Choice(e, e) for e in messages.CLINICAL_CARE_EXAMPLES))], "clinical"
        return result, [Text(messages.no_match(said), tuple(Choice(e, e) for e in messages.EXAMPLES[:4]))], result.reason
    ids = [h.id for h in result.hits]
    said = result.filters.describe() or None
    count = min(len(ids), page_size())
    if result.terms:
        lead = messages.lead(text, count, said)
    else:
        lead = messages.lead_listing(said, len(ids))
    return result, [present(app, lead, ids, 0, text if result.terms else "")], None


def ask(app, msg: Incoming) -> list[Reply]:
    result, replies, gap = search(app, msg.text)
    if gap and log_gap(app, msg.platform, msg.text, gap, user=msg.user):
        replies = _noticed(replies)
    if result is not None and result.hits:
        # kept for a day, and for 👍 / 👎: masked, also the words read from it (田中, 花子 → 〇〇)
        found = privacy.find(clean(msg.text))
        secret = [f.text for f in found]
        words = [privacy.NAME_MASK if any(p in x for p in w.split("+") for x in secret) else w for w in result.terms]
        app.dialogs.set(msg.platform, msg.user, ANSWER, {
            "question": privacy.mask(clean(msg.text), found), "ids": [h.id for h in result.hits],
            "shown": min(page_size(), len(result.hits)), "page_start": 0, "words": words, "masked": bool(found)}, app.clock())
    return replies


def _noticed(replies: list[Reply]) -> list[Reply]:
    """The replies with the notice that names and numbers were masked, at the end of the last text."""
    for i in range(len(replies) - 1, -1, -1):
        if isinstance(replies[i], Text):
            r = replies[i]
            return replies[:i] + [Text(messages.with_notice(r.text, messages.MASKED_NOTICE), r.choices)] + replies[i + 1:]
    return replies + [Text(messages.MASKED_NOTICE)]


def _shown_number(number: str, shown: int) -> int | None:
    """「詳しく 2」's 2 if it is one of the cases shown, else None.  ``isdigit`` is not enough: ፩ and
    ² are digits to it that ``int`` refuses, and ``int`` refuses more than 4,300 digits."""
    if not (number.isascii() and number.isdigit()) or len(number) > 6:
        return None
    n = int(number)
    return n if 1 <= n <= shown else None


def _answer_state(app, msg: Incoming):
    st = app.dialogs.get(msg.platform, msg.user, app.clock(), ANSWER)
    return st.data if st else None


def detail(app, msg: Incoming, number: str) -> list[Reply]:
    st = _answer_state(app, msg)
    if not st:
        return [Text(messages.NOTHING_SHOWN)]
    if (k := _shown_number(number, st["shown"])) is None:
        return [Text(messages.bad_number(messages.shorten(number), st["shown"]))]
    case = app.index.cases[app.index.by_id[st["ids"][k - 1]]]
    parts = pack(detail_sections(case), DETAIL_CHARS)
    return [Text(p) for p in parts[:-1]] + [Text(parts[-1], (Choice("似た事例", f"似た事例 {number}"),
                                                               Choice("👍", "👍"), Choice("👎", "👎")))]


def more(app, msg: Incoming) -> list[Reply]:
    st = _answer_state(app, msg)
    if not st:
        return [Text(messages.NOTHING_SHOWN)]
    start = st["shown"]
    if start >= len(st["ids"]):
        return [Text(messages.NEXT_NONE)]
    end = min(start + page_size(), len(st["ids"]))
    st.update(shown=end, page_start=start)
    app.dialogs.set(msg.platform, msg.user, ANSWER, st, app.clock())
    question = st["question"] if st["words"] else ""  # words: the answer was to a question
    return [present(app, messages.lead_more(start + 1, end, len(st["ids"])), st["ids"], start, question)]


def similar(app, msg: Incoming, number: str | None) -> list[Reply]:
    st = _answer_state(app, msg)
    if not st:
        return [Text(messages.NOTHING_SHOWN)]
    n = number or str(st.get("page_start", 0) + 1)
    if (k := _shown_number(n, st["shown"])) is None:
        return [Text(messages.bad_number(messages.shorten(n), st["shown"]))]
    base = app.index.cases[app.index.by_id[st["ids"][k - 1]]]
    hits = app.index.similar(base.id, limit=10)
    if not hits:
        return [Text(messages.NEXT_NONE)]
    ids = [h.id for h in hits]
    app.dialogs.set(msg.platform, msg.user, ANSWER, {
        "question": f"似た事例: {base.area}", "ids": ids, "shown": min(page_size(), len(ids)), "page_start": 0,
        "words": []}, app.clock())
    return [present(app, messages.lead_similar(base.area, min(page_size(), len(ids))), ids, 0, "")]


def feedback(app, msg: Incoming, vote: int) -> list[Reply]:
    st = _answer_state(app, msg)
    if not st:
        return [Text(messages.NOTHING_SHOWN)]
    shown = st["ids"][st.get("page_start", 0):st["shown"]]
    hidden = log_feedback(app, msg.platform, msg.user, st["question"], shown, vote) or st.get("masked", False)
    thanks = messages.THANKS_UP if vote > 0 else messages.THANKS_DOWN
    return [Text(messages.with_notice(thanks, messages.MASKED_NOTICE) if hidden else thanks)]


# -- routes -------------------------------------------------------------------------------------
# The answer shown stays a day, so 「次」 or 「詳しく 2」 the same afternoon still work.
ANSWER = "answer"
CONVERSATIONS = (Conversation("answer", (ANSWER,), timeout=timedelta(hours=24)),)
UP = ("👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "役に立った", "よかった", "良かった")
DOWN = ("👎", "👎🏻", "👎🏼", "👎🏽", "👎🏾", "👎🏿", "違った", "ちがった", "役に立たなかった")


def _as_question(app, msg: Incoming, m) -> list[Reply]:
    if msg.postback is not None:  # a button carrying a question: ask it as if typed
        msg = Incoming(msg.platform, msg.user, msg.conversation, msg.postback, msg.direct)
    return ask(app, msg)


ROUTES = (
    Route(exact(*UP), lambda app, msg, m: feedback(app, msg, 1), "feedback_up", group="follow-ups"),
    Route(exact(*DOWN), lambda app, msg, m: feedback(app, msg, -1), "feedback_down", group="follow-ups"),
    Route(re.compile(r"^(詳しく|くわしく|詳細|全文)\s*(\S*)$"), lambda app, msg, m: detail(app, msg, m.group(2) or "1"),
          "detail", group="follow-ups"),
    # A number on its own (「2」「②」「2番」) after a list is what 「詳しく 2」 does: on a phone people
    # answer a numbered list with the number.  With no list shown it says so, instead of being
    # searched as a question and logged as a gap.  Two digits at most: 「8050」 and 「630」 are topics
    # (8050問題, 630調査), searched as before.
    Route(re.compile(r"^([0-9]{1,2})\s*(番目?|件目)?$"), lambda app, msg, m: detail(app, msg, m.group(1)), "detail_number",
          group="follow-ups"),
    Route(re.compile(r"^(次|つぎ|次へ|続き|つづき|もっと|他には|ほかには)$"), lambda app, msg, m: more(app, msg), "more",
          group="follow-ups"),
    Route(re.compile(r"^(似た事例|にた事例|似てる事例|類似事例)\s*(\S*)$"),
          lambda app, msg, m: similar(app, msg, m.group(2) or None), "similar", group="follow-ups"),
    Route(always, _as_question, "question", group="questions"),  # the last route of all
)
