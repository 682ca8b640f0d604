"""Nimo's report form in Slack (a modal): how it looks, what it holds, and its mistakes.

Kept apart from the Slack adapter because the web process needs ``check_form`` (Slack wants a
modal's mistakes in the acknowledgement itself, within 3 seconds) and must not load the SDKs.
"""
from __future__ import annotations

from bot import messages
from bot.reports.records import CASE_CODE, TYPES

CALLBACK_ID = "nimo_report"


def _input(block_id: str, label: str, element: dict, optional: bool = False) -> dict:
    return {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
            "element": {**element, "action_id": "v"}, "optional": optional}


def report_form(today: str, area: str) -> dict:
    """The report form: the same fields as the step-by-step chat, then the same review."""
    types = [{"text": {"type": "plain_text", "text": t}, "value": t} for t in TYPES]
    return {
        "type": "modal", "callback_id": CALLBACK_ID,
        "title": {"type": "plain_text", "text": "報告"}, "submit": {"type": "plain_text", "text": "確認へ"},
        "close": {"type": "plain_text", "text": "やめる"},
        "blocks": [
            _input("type", "種類", {"type": "static_select", "options": types, "initial_option": types[0]}),
            _input("date", "日付", {"type": "datepicker", "initial_date": today}),
            _input("case", "ケースコード（名前は書かない）", {"type": "plain_text_input",
                   "placeholder": {"type": "plain_text", "text": "K-012"}}, optional=True),
            _input("area", "地域", {"type": "plain_text_input", **({"initial_value": area} if area else {})}),
            _input("summary", "内容", {"type": "plain_text_input", "multiline": True}),
            _input("next_action", "次の予定", {"type": "plain_text_input",
                   "placeholder": {"type": "plain_text", "text": "再訪"}}, optional=True),
            _input("next_date", "次の予定の日付", {"type": "datepicker"}, optional=True),
        ],
    }


def form_values(view: dict) -> dict:
    """The form's fields as strings (None when empty), whatever shape the state arrived in."""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    values = values if isinstance(values, dict) else {}

    def get(block: str) -> str | None:
        el = values.get(block)
        el = el.get("v") if isinstance(el, dict) else None
        if not isinstance(el, dict):
            return None
        option = el.get("selected_option")
        for v in ((option or {}).get("value") if isinstance(option, dict) else None,
                  el.get("selected_date"), el.get("value")):
            if isinstance(v, str) and v.strip():
                return v.strip()
        return None

    return {k: get(k) for k in ("type", "date", "case", "area", "summary", "next_action", "next_date")}


def check_form(view: dict) -> dict:
    """Mistakes beside their fields, for Slack to show in the modal; empty when there are none."""
    if not isinstance(view, dict) or view.get("callback_id") != CALLBACK_ID:
        return {}
    f = form_values(view)
    errors = {}
    if f["case"] and not CASE_CODE.match(f["case"]):
        errors["case"] = messages.FORM_BAD_CASE_CODE
    if not f["summary"]:
        errors["summary"] = messages.FORM_NO_SUMMARY
    return errors
