"""The checks LINE documents for flex messages, quick replies and actions, shared by the LINE
stand-in and the LINE WORKS one (its flexible template follows LINE's rules with its own limits:
the class attributes).  Each check returns problems as ``"property: what is wrong"``, and accepts
only the kinds of action and component Nimo sends."""
from __future__ import annotations

import json
from typing import Any


def json_size(obj: Any) -> int:
    """Size of ``obj`` as compact UTF-8 JSON, the way the services measure flex messages."""
    return len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def u16(s: str) -> int:
    """Length in UTF-16 code units, the way LINE counts characters."""
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


class FlexRules:
    MAX_BUBBLES, MAX_CAROUSEL_BYTES, MAX_BUBBLE_BYTES = 12, 50 * 1024, 30 * 1024
    MAX_QUICK_REPLY_ITEMS, MAX_QUICK_REPLY_LABEL, MAX_LABEL = 13, 20, 40
    # the actions Nimo sends (quick replies, card buttons, menus): property -> (limit, required)
    ACTIONS = {"postback": {"data": (300, True), "displayText": (300, False)},
               "message": {"text": (300, True)}, "datetimepicker": {"data": (300, True)}}
    COMPONENTS = ("box", "text", "button")

    @staticmethod
    def _check_text(v: Any, where: str, limit: int, required: bool = False) -> list[str]:
        if v is None and not required:
            return []
        if not isinstance(v, str) or not v:
            return [f"{where}: Must be a non-empty string"]
        return [f"{where}: Length must be between 0 and {limit} (got {u16(v)})"] if u16(v) > limit else []

    def _check_container(self, c: Any, where: str) -> list[str]:
        if not isinstance(c, dict) or c.get("type") != "carousel":
            return self._check_bubble(c, where)
        bubbles = c["contents"] if isinstance(c.get("contents"), list) else []
        out = [] if 1 <= len(bubbles) <= self.MAX_BUBBLES else [
            f"{where}.contents: Size must be between 1 and {self.MAX_BUBBLES}"]
        if json_size(c) > self.MAX_CAROUSEL_BYTES:
            out.append(f"{where}: {json_size(c)} bytes; the maximum is {self.MAX_CAROUSEL_BYTES}")
        return out + [p for i, b in enumerate(bubbles) for p in self._check_bubble(b, f"{where}.contents[{i}]")]

    def _check_bubble(self, b: Any, where: str) -> list[str]:
        if not isinstance(b, dict) or b.get("type") != "bubble":
            return [f"{where}.type: a bubble or a carousel of bubbles is required"]
        out = [] if json_size(b) <= self.MAX_BUBBLE_BYTES else [
            f"{where}: {json_size(b)} bytes; the maximum is {self.MAX_BUBBLE_BYTES}"]
        return out + [p for block in ("header", "hero", "body", "footer") if block in b
                      for p in self._check_component(b[block], f"{where}.{block}")]

    def _check_component(self, comp: Any, where: str) -> list[str]:
        t = comp.get("type") if isinstance(comp, dict) else None
        if t not in self.COMPONENTS:
            return [f"{where}.type: {t!r} is not a component Nimo sends"]
        if t == "box":
            if comp.get("layout") not in ("vertical", "horizontal", "baseline") or not isinstance(comp.get("contents"), list):
                return [f"{where}: a box needs a layout and a list of contents"]
            return [p for i, k in enumerate(comp["contents"]) for p in self._check_component(k, f"{where}.contents[{i}]")]
        if t == "text" and not comp.get("text") and not comp.get("contents"):
            return [f"{where}.text: text or contents is required"]
        return self._check_action(comp.get("action"), f"{where}.action", self.MAX_LABEL) if t == "button" else []

    def _check_quick_reply(self, qr: Any, where: str) -> list[str]:
        items = qr.get("items") if isinstance(qr, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= self.MAX_QUICK_REPLY_ITEMS:
            return [f"{where}.items: Size must be between 1 and {self.MAX_QUICK_REPLY_ITEMS}"]
        return [p for i, item in enumerate(items) for p in self._check_action(
            item.get("action") if isinstance(item, dict) else None, f"{where}.items[{i}].action",
            self.MAX_QUICK_REPLY_LABEL)]

    def _check_action(self, a: Any, where: str, label_max: int, allowed: tuple | None = None) -> list[str]:
        allowed = allowed or tuple(self.ACTIONS)
        if not isinstance(a, dict) or a.get("type") not in allowed:
            return [f"{where}.type: one of {allowed} (what Nimo sends)"]
        out = self._check_text(a.get("label"), f"{where}.label", label_max, required=True)
        for prop, (limit, required) in self.ACTIONS[a["type"]].items():
            out += self._check_text(a.get(prop), f"{where}.{prop}", limit, required)
        if a["type"] == "datetimepicker" and a.get("mode") not in ("date", "time", "datetime"):
            out.append(f"{where}.mode: date, time or datetime")
        return out
