"""From a case to what a phone shows: a short card, or every field in full.

Everything shown is the guide's own words, shortened only by cutting: a line ends at a sentence
end (。) when one fits, otherwise at a comma with 「…」.  Which lines a card shows depends on the
part of the chapter the case comes from, because the three parts name the same ideas differently
(取組内容 / 地域課題及び基盤整備の要点 / 推進力となった事項 …).
"""
from __future__ import annotations

import re

from bot.core import CaseCard

from .cases import Case
from .schema import FIELDS, FORUM_FIELDS
from .tokens import normalize

LINE_MAX = 110          # characters of one line of a card
CARD_MAX = 700          # characters of a whole card, as the issue asks

# (what they did, result, tip) fields in order of preference, per part of the chapter.
CARD_FIELDS = {
    1: (("actions", "innovations"), ("outcomes", "system_effects"), ("innovations", "appeal_points")),
    2: (("key_points", "case_summary"), ("results",), ("points",)),
    3: (("driving_forces", "introduction"), ("effects",), ("transfer_points", "continuity")),
}


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


_HEADING = re.compile(r"^[＜〈【〇◯■].{0,40}$")


def _items(case: Case, names: tuple[str, ...]) -> list[str]:
    """The first of ``names`` that the case has, without the sub-headings inside it."""
    for n in names:
        v = case.get(n)
        items = [x for x in (v if isinstance(v, list) else [v] if v else []) if x.strip()]
        items = [x for x in items if not (_HEADING.match(x) and "。" not in x)]
        if items:
            return items
    return []


def _best(items: list[str], words: tuple[str, ...], n: int) -> list[str]:
    """The ``n`` items that share most words with the question, in the guide's order."""
    if not words:
        return items[:n]
    normed = [normalize(it) for it in items]
    scored = [(sum(w in n for w in words), i) for i, n in enumerate(normed)]
    top = sorted(scored, key=lambda s: (-s[0], s[1]))[:n]
    return [items[i] for _, i in sorted(top, key=lambda s: s[1])]


def _strip_mark(text: str) -> str:
    return text.lstrip("⇒→・ ").strip()


def population_label(case: Case) -> str | None:
    text = case.get("population_text")
    if not text:
        return None
    head = text.split("（")[0].strip()
    return head if head.startswith("人口") else "人口 " + head


def card(case: Case, number: int, words: tuple[str, ...] = ()) -> CaseCard:
    did_f, res_f, tip_f = CARD_FIELDS.get(case.get("part"), CARD_FIELDS[1])
    did_items = _items(case, did_f)
    if case.get("part") == 2:  # the ⇒ lines of the key points are what was done
        arrows = [x for x in did_items if x.lstrip().startswith(("⇒", "→"))]
        did_items = arrows or did_items
    did = tuple(cut(_strip_mark(x)) for x in _best(did_items, words, 2))
    result = _items(case, res_f)
    tip = _items(case, tip_f)
    return CaseCard(
        number=number, case_id=case.id, area=case.area, population=population_label(case),
        title=case.title, did=did,
        result=cut(_strip_mark(_best(result, words, 1)[0])) if result else None,
        tip=cut(_strip_mark(_best(tip, words, 1)[0])) if tip else None,
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
        facts.append(f"人口：{case.get('population_text')}")
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
