"""From a case to what a phone shows: a short card, or every field in full.

Everything shown is the guide's own words, shortened only by cutting: a line ends at a sentence
end (。) when one fits, otherwise at a comma with 「…」.  Which lines a card shows depends on the
question: the 取組 / 成果 / 工夫 lines are the case's own sentences that best match it (their
scores come from the search, knowledge.search.CaseIndex.matches), each taken from the fields that
tell what was done, what came of it and what to take from it; the three parts of the chapter name
those fields differently (取組内容 / 地域課題及び基盤整備の要点 / 推進力となった事項 …).  A matched
sub-heading (＜会議開催における工夫＞) is never shown: the sentences under it are; a matched problem
of the key points (「会議が形骸化」) brings the ⇒ line that answers it.  Without a question (a listing,
似た事例) or a match, a card shows the first lines of those fields.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from casebase.card import CaseCard
from casebase.cases import Case
from .passages import HEADING
from casebase.schema import FIELDS, FORUM_FIELDS

LINE_MAX = 110          # characters of one line of a card
CARD_MAX = 700          # characters of a whole card: one phone screen

# (what they did, result, tip) fields in order of preference, per part of the chapter: the lines
# shown when nothing of the question matches.
CARD_FIELDS = {
    1: (("actions", "innovations"), ("outcomes", "system_effects"), ("innovations", "appeal_points")),
    2: (("key_points", "case_summary"), ("results",), ("points",)),
    3: (("driving_forces", "introduction"), ("effects",), ("transfer_points", "continuity")),
}
# The fields a matched line may come from, per part and line.  Problems and a person's story
# (challenges, case summaries, the first stages) are not among them: they say why, not what.
MATCH_FIELDS = {
    1: (("actions", "forum"), ("outcomes", "system_effects", "appeal_points"), ("innovations",)),
    2: (("key_points", "stages"), ("results",), ("points", "point_notes", "provider_comments")),
    3: (("driving_forces", "introduction", "resources"), ("effects", "continuity"),
        ("transfer_points", "continuity")),
}
# The 工夫 line gives advice.  The guide's 工夫, transfer points and appeal points are advice by what
# they are; the other tip fields (a part-2 ポイント paragraph, continuity) also hold background and
# problems, so a sentence of theirs is taken only when it says what to do or what matters.  A
# sentence that states a problem (「形骸化してしまう可能性もある」) is never a tip.
ADVICE_FIELDS = {"innovations", "transfer_points", "appeal_points"}
ADVICE = re.compile("重要|必要|大切|有効|求められ|望まし|心が[けか]|努め|ようにし|工夫|ことが(?:でき|鍵)|こと[。）)]?$")
PROBLEM = re.compile("可能性[もが]?ある|困難|難し[いか]|不足し|少な[いか]|なかった|できない|懸念|恐れ|疑問|模索中|課題として挙げ")
BRACKETED = re.compile(r"^[【［〔\[＜<〈《（(「『].*[】］〕\]＞>〉》）)」』]$")
_STORY_STAGE = re.compile("課題発生|検証|発見|課題認識")
# A matched line replaces a first line only when it matches at least this share of the case's best
# match: a sentence that shares one common word with the question does not answer it.
MATCH_SHARE = 0.5
# Nor a line that holds little of the question at all (a match's score is the share of the
# question's weight it holds, averaged over the views by their weights, so it does not move when
# the weights do).  0.25 is the 0.5 first set on ../shared/eval/field_expect_72.json when the score
# was summed over two views of weight 1, kept as it was, not chosen again.
MATCH_MIN = 0.25


def cut(text: str, limit: int = LINE_MAX) -> str:
    """Shorten by cutting at a sentence end, else at a comma, else hard; never rewrite."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    for mark in ("。", "、", "，", " "):
        i = head.rfind(mark)
        if i >= limit // 3:
            return head[: i + 1] if mark == "。" else head[:i] + "…"
    return head[: limit - 1] + "…"


def _items(case: Case, names: tuple[str, ...]) -> list[str]:
    """The first of ``names`` that the case has, without the sub-headings inside it."""
    for n in names:
        v = case.get(n)
        items = [x for x in (v if isinstance(v, list) else [v] if v else []) if isinstance(x, str) and x.strip()]
        items = [x for x in items if not (HEADING.match(x) and "。" not in x) and not BRACKETED.match(_strip_mark(x))]
        if items:
            return items
    return []


def _sentences(text: str) -> list[str]:
    """A paragraph's sentences, each as the guide has it (its 「。」 kept)."""
    return [x for x in re.findall(r"[^。]+。?", text) if x.strip()]


def states_problem(text: str) -> bool:
    """Does this sentence tell a problem (「連携が不足していることが課題として挙げられた」) rather than
    what was done or what to do?  Such a sentence is neither a 取組 nor a 工夫 line."""
    return bool(PROBLEM.search(text)) and not re.search("重要|必要|大切|有効", text)


# A figure's or table's caption (「表1 L圏域の協議の場の体制」) names a picture the card cannot show.
CAPTION = re.compile(r"^(?:図|表|資料|写真|別紙|参考)\s*+[0-9０-９一二三四五六七八九十]+(?:[-－‐][0-9０-９]+)?(?:\s|[.:：．]|$)")
# A sentence that ends on what is still needed (「今後のPR方法についての検討が必要。」) says what is
# left to do, not what was done.
# Only kana (and 考/思) may follow the need to the sentence's end: 「必要である」「必要となるだろう」
# 「求められている」「必要と考える」, but not 「課題を共有した」 or 「必要な支援を行った」.
NEED = re.compile(r"(?:必要|求められ|望まれ|課題)(?![なにの])[ぁ-ん考思]{0,12}[。．]?$")


def states_need(text: str) -> bool:
    return bool(NEED.search(text.strip()))


def tells_what_was_done(text: str) -> bool:
    """Can this sentence stand as a 取組 line?  Not a caption nor a need still to meet.  (A line
    matched to the question is also checked with :func:`states_problem`; the first lines of a case are
    not, because 「委託先に丸投げにしなかった」 is what was done, however it reads to that check.)"""
    t = _strip_mark(text)
    return not (CAPTION.match(t) or states_need(t))


def advises(field: str, text: str) -> bool:
    """Can this sentence of ``field`` stand as the 工夫 line?"""
    t = _strip_mark(text)
    if len(t) < 8 or BRACKETED.match(t) or HEADING.match(t):
        return False
    if states_problem(t):
        return False
    return field in ADVICE_FIELDS or bool(ADVICE.search(t))


def _tip(case: Case, fields: tuple[str, ...]) -> list[str]:
    """The first sentence of ``fields`` that gives advice (none rather than one that does not)."""
    for name in fields:
        for item in _items(case, (name,)):
            for sentence in _sentences(item):
                if advises(name, sentence):
                    return [sentence]
    return []


def _strip_mark(text: str) -> str:
    return text.lstrip("⇒→・ ").strip()


def _arrow(text: str) -> bool:
    return text.lstrip().startswith(("⇒", "→"))


def population_label(case: Case) -> str | None:
    text = case.get("population_text")
    if not text:
        return None
    head = text.split("（")[0].strip()
    return head if head.startswith("人口") else "人口 " + head


def _lent(matches) -> list[tuple[float, object]]:
    """Each passage with the score it answers the question with: its own, or that of the heading
    it sits under, or (key points) that of the problem its ⇒ line answers, whichever is best."""
    out = []
    carried = 0.0
    prev = None
    for m in matches:
        if prev is None or prev.field != m.field or (m.field == "stages" and prev.group != m.group):
            carried = 0.0
        if m.heading:
            carried = m.score
        elif m.field == "key_points" and not _arrow(m.text):
            # a problem: the ⇒ lines after it answer it (a problem of two sentences counts as one)
            continued = prev is not None and prev.field == m.field and not _arrow(prev.text)
            carried = max(carried, m.score) if continued else m.score
        out.append((max(m.score, carried), m))
        prev = m
    return out


def _shown(m) -> bool:
    """Can this passage stand on a card as a line of its own?"""
    if m.heading:
        return False
    text = _strip_mark(m.text)
    if len(text) < 8 or BRACKETED.match(text):
        return False
    if m.field == "key_points" and not _arrow(m.text):
        return False  # a problem, not what was done
    if m.field == "stages" and _STORY_STAGE.search(m.group):
        return False
    return True


def _best_shown(scored) -> float:
    """The best score of a passage that is a heading or can stand as a line (the reference for the
    floor): the check runs only on a passage that would raise the best so far, not on every one."""
    top = None
    for s, m in scored:
        if (top is None or s > top) and (m.heading or _shown(m)):
            top = s
    if top is None:
        raise ValueError("no passage of the case can stand on a card")
    return top


def _pick(scored, fields: tuple[str, ...], n: int, taken: set[str], floor: float) -> list[str]:
    """The ``n`` best-matching lines of ``fields`` (score above ``floor``), in the guide's order."""
    pool = [(s, m) for s, m in scored if s > floor and m.field in fields and _shown(m) and m.text not in taken]
    best = sorted(pool, key=lambda sm: (-sm[0], sm[1].order))[:n]
    return [m.text for _, m in sorted(best, key=lambda sm: sm[1].order)]


def card(case: Case, number: int, matches: Sequence = ()) -> CaseCard:
    """The card of ``case``; ``matches`` are its passages scored against the question, if any."""
    part = case.get("part")
    did_f, res_f, tip_f = CARD_FIELDS.get(part, CARD_FIELDS[1])
    did_items = _items(case, did_f)
    if part == 2:  # the ⇒ lines of the key points are what was done
        arrows = [x for x in did_items if _arrow(x)]
        did_items = arrows or did_items
    did_items = [x for x in did_items if tells_what_was_done(x)]
    result_items = _items(case, res_f)
    did = did_items[:2]
    result = result_items[:1]
    tip = None  # the first advice of the tip fields, looked for only when no matched line gives one
    if any(m.score > MATCH_MIN for m in matches):
        scored = _lent(matches)
        floor = max(MATCH_MIN, MATCH_SHARE * _best_shown(scored))
        m_did, m_res, m_tip = MATCH_FIELDS.get(part, MATCH_FIELDS[1])
        taken: set[str] = set()
        found = _pick([(x, m) for x, m in scored if tells_what_was_done(m.text) and not states_problem(_strip_mark(m.text))],
                      m_did, 2, taken, floor)
        did = found + [x for x in did_items if not any(f in x for f in found)][:2 - len(found)]
        taken |= set(found)
        result = _pick(scored, m_res, 1, taken, floor) or result
        taken |= set(result)
        # (_pick keeps only lines above the floor: the advice check runs on those alone)
        tip = _pick([(x, m) for x, m in scored if x > floor and m.field in m_tip and advises(m.field, m.text)],
                    m_tip, 1, taken, floor) or None
    if tip is None:
        tip = _tip(case, tip_f)
    return CaseCard(
        number=number, case_id=case.id, area=case.area, population=population_label(case),
        title=case.title, did=tuple(cut(_strip_mark(x)) for x in did),
        result=cut(_strip_mark(result[0])) if result else None,
        tip=cut(_strip_mark(tip[0])) if tip else None,
        source=case.get("source", ""),
    )


def card_text(c: CaseCard) -> str:
    """The plain-text card (terminal, notifications, alt text without personal data)."""
    head = f"{c.number}) {c.area}" + (f"（{c.population}）" if c.population else "")
    lines = [head, f"   {c.title}"]
    for i, d in enumerate(c.did):
        lines.append(("   取組：" if i == 0 else "         ") + d)
    if c.result:
        lines.append(f"   成果：{c.result}")
    if c.tip:
        lines.append(f"   工夫：{c.tip}")
    lines.append(f"   出典：{c.source}")
    return "\n".join(lines)


DETAIL_ORDER = [n for n in FIELDS if n not in ("id", "part", "title", "area", "source")]
SHOWN_PLAIN = {"section", "prefecture", "level", "population", "population_text", "municipalities", "hospitals",
               "clinics"}


def detail_sections(case: Case) -> list[str]:
    """Every field of a case, one block per heading, in the guide's words."""
    head = [f"【{case.area}】{case.title}"]
    facts = []
    if case.get("population_text"):
        facts.append("人口：" + case.get("population_text").removeprefix("人口").lstrip("：: "))
    if case.get("municipalities") is not None:
        facts.append(f"市町村数：{case.get('municipalities')}")
    if case.get("hospitals") is not None or case.get("clinics") is not None:
        facts.append("精神科医療機関：" + "、".join(
            f"{k}{case.get(n)}か所" for k, n in (("病院", "hospitals"), ("診療所", "clinics"))
            if case.get(n) is not None))
    if facts:
        head.append(" ／ ".join(facts))
    head.append(f"区分：{case.section}（{case.get('level', '')}）")
    blocks = ["\n".join(head)]
    for name in DETAIL_ORDER:
        if name in SHOWN_PLAIN or name not in case.data:
            continue
        label = FIELDS[name][2].split("（")[0].split(" / ")[0]
        blocks.append(f"■{label}\n" + _render(case.data[name]))
    blocks.append(f"出典：{case.get('source', '')}")
    return blocks


def _render(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value and isinstance(value[0], dict):  # stages
        return "\n".join(f"＜{st['name']}＞\n" + "\n".join(st["text"]) for st in value)
    if isinstance(value, list):
        return "\n".join(f"・{v}" for v in value)
    if isinstance(value, dict):  # forum
        return "\n".join(f"{FORUM_FIELDS.get(k, k)}：" + (v if isinstance(v, str) else "／".join(v))
                         for k, v in value.items())
    return str(value)


def pack(blocks: list[str], limit: int) -> list[str]:
    """Blocks joined into messages of at most ``limit`` characters; a longer block is cut at lines."""
    pieces = [p for b in blocks for p in ([b] if len(b) <= limit else _split_lines(b, limit))]
    return _accumulate(pieces, limit, "\n\n")


def _split_lines(text: str, limit: int) -> list[str]:
    lines = [ln[i:i + limit] for ln in text.split("\n") for i in range(0, max(len(ln), 1), limit)]
    return _accumulate(lines, limit, "\n")


def _accumulate(pieces: list[str], limit: int, sep: str) -> list[str]:
    """Pieces (each at most ``limit``) joined with ``sep`` into as few strings of at most ``limit``."""
    out: list[str] = []
    cur: str | None = None
    for p in pieces:
        if cur is not None and len(cur) + len(sep) + len(p) > limit:
            out.append(cur)
            cur = p
        else:
            cur = p if cur is None else f"{cur}{sep}{p}"
    if cur is not None:
        out.append(cur)
    return out
