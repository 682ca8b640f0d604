"""One user intent per module.  Handlers take an App and an Incoming and return replies; they never
import a platform SDK.

Each module declares its commands as ``ROUTES`` (see :mod:`bot.chat.routes`), each route naming its
group; its dialogs as ``CONVERSATIONS``; and what 「はい」 does to its read-backs as
``CONFIRMATIONS``.  Importing a module registers nothing: :func:`registry` (called by ``build_app``)
collects the modules listed here.

:data:`GROUPS` is the one statement of the order routes are tried in: every route of a group before
any of the next (within a group, in the order of :data:`MODULES`, then as each module lists them).
tests/test_route_table.py holds a table of texts and the route that takes each, and fails if two
groups whose routes can take the same text change places.  ``nimo routes --explain "TEXT"`` says
which route takes a text and why.
"""
from __future__ import annotations

from bot.chat.registry import Group, Registry
from bot.handlers import ask, console_link, greet, help, hints, plans, proposal, register, remind, report

GROUPS = (
    Group("events", "文字でない出来事: 友だち追加・グループ参加（登録の確認より前）、写真、スタンプ"),
    Group("registration", "「登録 コード」（登録の確認より前）"),
    Group("menu", "メニューの決まった言葉とあいさつ: ヘルプ、質問する、管理画面、事例提案、お疲れ様です"),
    Group("reports", "現場報告: 報告、報告一覧、報告修正、報告取消"),
    Group("reminders", "確認への「はい」、リマインド、イベント、予定、訪問計画の登録、完了・延期・変更"),
    Group("plans", "訪問計画の終了と引継ぎ"),
    Group("hints", "コマンドの言葉で始まるのに読めなかったメッセージへの一言"),
    Group("follow-ups", "表示した回答の続き: 詳しく、次、似た事例、👍／👎"),
    Group("questions", "残りすべて: 事例の検索（最後）"),
)
# The modules whose declarations are collected; within a group their routes keep this order.
MODULES = (greet, register, help, console_link, proposal, report, remind, plans, hints, ask)


def registry(groups: tuple[Group, ...] = GROUPS) -> Registry:
    """Every module's routes, in the order of ``groups``, with their conversations and confirmations."""
    return Registry.build(groups, MODULES)
