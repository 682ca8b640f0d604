"""Why a text goes where it goes: ``nimo routes`` lists the routes in the order they are tried, and
``nimo routes --explain "TEXT"`` runs one message through the real router (:func:`bot.chat.router.route`
with a trace) and says which route took it, by which pattern or predicate, in which group, what was
tried before it, and which access rules apply.

For an operator, in a terminal: names of code as they are, the rest in short Japanese.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import groupby

from bot.chat.core import Cards, Incoming, Reply, Text
from bot.chat.registry import Registry
from bot.chat.router import CHAIN, ROUTE_RULES, Step, route
from bot.chat.routes import Route

PATTERN_SHOWN = 70  # characters of a pattern shown; the rest is in the handler module


def matcher(r: Route) -> str:
    """How a route recognises its messages: its pattern, its list of words, or its predicate."""
    if isinstance(r.match, re.Pattern):
        p = r.match.pattern
        p = p if len(p) <= PATTERN_SHOWN else p[:PATTERN_SHOWN] + "…"
        return f"パターン {p}（{'入力のまま' if r.typed else 'NFKC 正規化後'}に照合）"
    words = getattr(r.match, "words", None)
    if words is not None:
        return "言葉が次のどれか: " + " / ".join(words)
    fn = r.match
    doc = (fn.__doc__ or "").strip().splitlines()
    return f"関数 {getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', fn)}" + (f"（{doc[0]}）" if doc else "")


def rules(r: Route) -> str:
    """The access rules a route declares, in the order the router applies them."""
    said = []
    if r.public:
        said.append("登録の確認より前（だれでも）")
    if r.direct_only:
        said.append("1対1のトークのみ")
    if r.roles is not None:
        said.append("役割: " + ", ".join(r.roles) + "（terminal は常に可）")
    if r.kind != "message":
        said.append(f"出来事の種類: {r.kind}")
    return "、".join(said) or "なし"


def table(registry: Registry) -> list[str]:
    """Every route in the order the router tries them, group by group."""
    lines = ["メッセージの流れ: " + " → ".join(step.__name__ for step in CHAIN),
             "ルートごとの利用の条件（この順に確かめる）: " + " → ".join(rule.__name__ for rule in ROUTE_RULES), ""]
    n = 0
    for i, g in enumerate(registry.groups, start=1):
        lines.append(f"[{i}] {g.name}: {g.says}")
        for r in (r for r in registry.routes if r.group == g.name):
            n += 1
            lines.append(f"  {n:2}. {r.name}  {matcher(r)}")
            if (said := rules(r)) != "なし":
                lines.append(f"      条件: {said}")
    for conv in registry.conversations.values():
        if conv.captures:
            lines.append(f"入力中の会話 {conv.name}: 有効な間はルートより先にメッセージを受ける"
                         f"（先に試す出口: {', '.join(f.name for f in conv.fallbacks) or 'なし'}）")
    return lines


@dataclass(frozen=True)
class Explanation:
    steps: tuple[Step, ...]
    replies: tuple[Reply, ...]

    @property
    def final(self) -> Step | None:
        """The step that answered: a route that took it or refused it, a conversation, or a check."""
        return next((s for s in self.steps if _ends(s)), None)

    @property
    def taken_by(self) -> str:
        """A route's name, or (conversation NAME), (refusal), (registration), (sorry), (error Type)."""
        s = self.final
        if s is None:
            return "(none)"
        if s.kind == "route":
            return s.name
        if s.kind == "conversation":
            return f"(conversation {s.name})"
        return {"shape": "(refusal)", "registration": "(registration)", "no route": "(sorry)"}.get(
            s.name, f"(error {s.outcome})")

    @property
    def refused(self) -> str | None:
        """The rule that refused the route which matched ('direct_only', 'role'), or None."""
        s = self.final
        return s.outcome.removeprefix("refused: ") if s is not None and s.outcome.startswith("refused: ") else None

    def lines(self, registry: Registry) -> list[str]:
        s = self.final
        out = []
        if s is not None and s.kind == "route" and s.route is not None:
            r = s.route
            groups = [g.name for g in registry.groups]
            where = (f"グループ {groups.index(r.group) + 1}/{len(groups)} {r.group}: {registry.group(r.group).says}"
                     if r.group in groups else "入力中の会話の出口")
            out += [f"→ {r.name}（{where}）", f"  合う条件: {matcher(r)}", f"  利用の条件: {rules(r)}"]
            if self.refused:
                out.append(f"  結果: 利用の条件 {self.refused} で断られる")
        elif s is not None and s.kind == "conversation":
            out.append(f"→ 入力中の会話 {s.name} が受ける（有効な間はルートより先）")
        else:
            out.append(f"→ {self.taken_by}")
        out.append("経路:")
        for (kind, outcome), run in groupby(self.steps, key=lambda x: (x.kind, x.outcome)):
            run = list(run)
            if kind == "route":
                out.append(f"  ルート {', '.join(x.name for x in run)}: {_outcome(outcome)}")
            else:
                out += [f"  {_CHECK.get(x.name, x.name)}: {_outcome(x.outcome)}" for x in run]
        out.append("返答（空のデータベースで試した結果）:")
        out += ["  " + line for line in _said(self.replies)]
        return out


def _ends(s: Step) -> bool:
    if s.kind in ("route", "conversation"):
        return s.outcome == "took" or s.outcome.startswith("refused")
    return s.name in ("shape", "safety net", "no route") or (s.name == "registration" and s.outcome == "not registered")


_CHECK = {"shape": "形の確認（長さ・結合文字）", "registration": "登録の確認", "expired dialogs": "時間切れの会話",
          "safety net": "処理中のエラー", "no route": "どのルートも受けなかった"}
_OUTCOME = {"no match": "合わない", "declined": "合ったが譲った（次を試す）", "took": "受けた",
            "refused": "断った", "not registered": "未登録（登録を案内）", "terminal": "terminal（登録不要）"}


def _outcome(outcome: str) -> str:
    if outcome.startswith("registered: "):
        return f"登録済み（{outcome.removeprefix('registered: ')}）"
    if outcome.startswith("refused: "):
        return f"断った（{outcome.removeprefix('refused: ')}）"
    return _OUTCOME.get(outcome, outcome)


def _said(replies) -> list[str]:
    lines = []
    for r in replies:
        text = r.text if isinstance(r, Text) else r.lead if isinstance(r, Cards) else str(r)
        lines += text.splitlines()[:3]
    return [line[:80] for line in lines[:6]]


def explain(app, msg: Incoming) -> Explanation:
    """``msg`` routed by ``app`` for real (its handler runs: give it an app of its own), traced."""
    steps: list[Step] = []
    replies = route(app, msg, trace=steps.append)
    return Explanation(tuple(steps), tuple(replies))
