"""The order of the routes, pinned: a table of texts typed the way busy people type them on a phone
(full-width, with spaces, a button's data, 「はい」 with and without something waiting) and the route
that takes each, run through the real router.  Swapping two groups of bot/handlers/__init__.py
whose routes can take one text changes a row here; `nimo routes --explain` says the same thing to
an operator."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

import pytest

from bot.app import build_app
from bot.chat.core import Incoming
from bot.chat.explain import explain
from bot.chat.router import words_of
from storage.connections import open_db
from bot.handlers import GROUPS, registry
from bot.people.access import add_user
from scheduler.workdays import TZ

from .conftest import Clock

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=TZ)  # a Tuesday morning
USER = "U-1"


@dataclass(frozen=True)
class Row:
    """``text`` sent by ``role`` (None: not registered) after the messages ``before``; ``route`` is
    what takes it: a route's name, (conversation NAME), (registration) or (refusal); ``refused``
    the access rule that turns it down, if one does."""

    text: str
    route: str
    before: tuple[str, ...] = ()
    role: str | None = "staff"
    direct: bool = True
    postback: bool = False
    kind: str = "message"
    platform: str = "line"
    refused: str | None = None
    form: tuple[tuple[str, str], ...] = (("type", "訪問"), ("date", "2026-11-24"), ("area", "北区"),
                                         ("summary", "K-012 宅を訪問。服薬は続いている。"))

    def __str__(self) -> str:
        where = [self.platform, "group" if not self.direct else "", self.role or "unregistered",
                 "button" if self.postback else "", self.kind if self.kind != "message" else "",
                 f"after {'/'.join(self.before)}" if self.before else ""]
        return f"{self.text[:20]!r} ({', '.join(w for w in where if w)})"


R = Row
REPORTING = ("報告",)
ANSWERED = ("家族会との連携",)
ROWS = [
    # events
    R("", "follow", kind="follow", role=None),
    R("", "join", kind="join", direct=False),
    R("", "non_text", kind="non_text"),
    R("", "photo", kind="image"),
    # Slack's report form: asked for by its name, and sent back filled in (``form`` holds its fields)
    R("報告", "report_form_open", kind="open_form", platform="slack"),
    R("報告", "report_form_open", kind="open_form", platform="slack", direct=False, refused="direct_only"),
    R("報告", "(registration)", kind="open_form", platform="slack", role=None),
    R("", "report_form", kind="form", platform="slack"),
    R("", "(registration)", kind="form", platform="slack", role=None),
    R("", "(registration)", kind="non_text", role=None),
    # registration
    R("登録 ABC123", "register", role=None),
    R("登録　ＡＢＣ１２３", "register", role=None),
    R("登録 ABC123", "register"),
    R("登録 ABC123", "register", before=REPORTING),
    R("予定", "(registration)", role=None),
    R("家族会との連携", "(registration)", role=None),
    R("あ" * 5001, "(refusal)"),
    # small talk and menu words
    R("お疲れ様です！", "smalltalk"),
    R("ありがとうございました", "smalltalk"),
    R("了解です", "smalltalk"),
    R("おはよー", "smalltalk"),
    R("ヘルプ", "help"),
    R("へるぷ", "help"),
    R("ｈｅｌｐ", "help"),
    R("？", "help"),
    R("メニュー", "help"),
    R("ヘルプ 報告", "help_topic"),
    R("ヘルプ　リマインド", "help_topic"),
    R("質問する", "ask_prompt"),
    R("質問する", "ask_prompt", postback=True),
    R("管理画面", "console_link"),
    R("管理画面", "console_link", direct=False, refused="direct_only"),
    R("事例提案", "proposal_start"),
    # reports
    R("報告", "report_start"),
    R("報告", "report_start", postback=True),
    R("報告 訪問 K-012 今日 服薬確認できた 次回12/10", "report_start"),
    R("報告　訪問　K-012 今日 様子を確認", "report_start"),
    R("報告したい", "report_wish"),
    R("ピア活動の報告したい", "report_wish"),
    R("報告一覧", "report_list"),
    R("報告一覧 全体", "report_list_area", role="supervisor"),
    R("報告一覧 全体", "report_list_area", refused="role"),
    R("報告一覧 K-012", "report_list_case"),
    R("報告修正 R-3", "report_edit"),
    R("報告取消 R-3", "report_withdraw"),
    R("取り下げ R-3", "report_withdraw"),
    R("報告 明日9時 リマインド", "report_start"),
    # a report being written takes the next message; its way out first
    R("次", "(conversation report)", before=REPORTING),
    R("ヘルプ", "(conversation report)", before=REPORTING),
    R("訪問", "(conversation report)", before=REPORTING),
    R("やめる", "report_stop", before=REPORTING),
    R("キャンセル", "report_stop", before=REPORTING),
    R("やめる", "proposal_stop", before=("事例提案",)),
    R("北区", "(conversation proposal)", before=("事例提案",)),
    # reminders, events, confirmations
    R("はい", "confirm"),
    R("はい", "confirm", before=("リマインド 明日9時 会議",)),
    R("はい", "confirm", before=("リマインド 明日9時 会議",), postback=True),
    R("はい。", "confirm", before=("リマインド 明日9時 会議",)),
    R("OK", "confirm", before=("リマインド 明日9時 会議",)),
    R("いいえ", "confirm", before=("リマインド 明日9時 会議",)),
    R("やめる", "confirm"),
    R("リマインド 明日9時 会議", "reminder"),
    R("ﾘﾏｲﾝﾄﾞ 明日9時 会議", "reminder"),
    R("ｒｅｍｉｎｄ 明日9時 会議", "reminder"),
    R("明日9時に会議をリマインドして", "reminder"),
    R("リマインド 毎週月曜9時 定例", "reminder"),
    R("イベント 12/10 14時 家族会", "event"),
    R("予定", "listing"),
    R("よてい", "listing"),
    R("予定", "listing", postback=True),
    R("予定 全体", "listing_area", role="supervisor"),
    R("予定 全体", "listing_area", refused="role"),
    R("予定 K-012", "case_visits"),
    R("予定　Ｋ－０１２", "case_visits"),
    R("予定 K-012", "case_visits", role="peer", refused="role"),
    R("K-012", "case_visits_asked"),
    R("K-012の予定", "case_visits_asked"),
    R("退院 K-012 11/20", "plan"),
    R("措置 K-012 今日", "plan"),
    R("15時にする", "night_alternative", before=("リマインド 明日3時 夜勤明けの連絡",)),
    R("15時にする", "question"),
    R("毎月末にする", "month_end_every"),
    R("取消 E3", "event_cancel"),
    R("参加 #E3", "rsvp"),
    R("不参加 #E3", "rsvp", postback=True),
    R("朝の通知 7:30", "digest"),
    R("朝の通知 7時半", "digest"),
    R("変更 3 明日10時", "change"),
    R("3を明日10時に変更して", "change_said"),
    R("延期 明日 3", "postpone"),
    R("延期 2026-12-01 #12", "postpone", postback=True),
    R("延期", "postpone"),
    R("完了 3", "act"),
    R("完了", "act"),
    R("スヌーズ", "act"),
    R("会えなかった #3 不在", "act", postback=True),
    R("元に戻す #3", "undo_cancel"),
    # plans
    R("計画終了 K-012 再入院", "plan_close"),
    R("K-012の計画を終了 転居", "plan_close"),
    R("引継ぎ K-012 佐藤", "plan_hand_over"),
    R("K-012を佐藤さんに引き継ぎます", "plan_hand_over"),
    R("計画終了", "plan_close", role="peer", refused="role"),
    # hints for a command word no command could read
    R("参加", "command_hint"),
    R("変更 1", "command_hint"),
    R("朝の通知 七時", "command_hint"),
    R("取消 の仕方", "command_hint"),
    R("イベント", "event"),
    # follow-ups of an answer, and questions
    R("次", "more"),
    R("次", "more", before=ANSWERED),
    R("つぎ", "more", before=ANSWERED),
    R("詳しく 2", "detail", before=ANSWERED),
    R("詳しく 2", "detail", before=ANSWERED, postback=True),
    R("2", "detail_number", before=ANSWERED),
    R("２番", "detail_number", before=ANSWERED),
    R("似た事例", "similar", before=ANSWERED),
    R("👍", "feedback_up", before=ANSWERED),
    R("👎", "feedback_down", before=ANSWERED),
    R("家族会との連携", "question"),
    R("8050問題", "question"),
    R("住まいの確保で困っている？", "question"),
    R("予定の立て方", "question"),
    R("参加者を増やすには", "question"),
    R("家族教室を始めたい", "question", postback=True),
    R("家族会との連携", "question", platform="slack"),
    R("家族会との連携", "question", platform="terminal", role=None),
]


def _app(index, row: Row, reg=None):
    app = build_app(db=open_db(":memory:"), clock=Clock(NOW), index=index, registry=reg)
    if row.role:
        add_user(app.db, row.platform, USER, row.role, "北区", NOW)
    for earlier in row.before:
        app.handle(Incoming(row.platform, USER, USER, earlier, True))
    msg = Incoming(row.platform, USER, USER if row.direct else "G-1", "" if row.postback else row.text, row.direct,
                   postback=row.text if row.postback else None, kind=row.kind,
                   form=dict(row.form) if row.kind == "form" else None)
    return app, msg


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_each_text_goes_to_its_route(index, row):
    app, msg = _app(index, row)
    said = explain(app, msg)
    assert (said.taken_by, said.refused) == (row.route, row.refused)


def test_every_route_and_every_group_has_a_row():
    reg = registry()
    named = {row.route for row in ROWS}
    assert {r.name for r in reg.routes} <= named
    assert {f.name for c in reg.conversations.values() for f in c.fallbacks} <= named
    assert {r.group for r in reg.routes} == {g.name for g in GROUPS}
    assert len(ROWS) >= 60


# Groups whose place says nothing about text: the events are other kinds of message, and the
# public routes (「登録」, follow, join) are tried before the registration check, wherever their
# group stands.
UNORDERED = {"events", "registration"}
# Pairs of groups no text of the table is matched by a route of both: their order is free, since
# nothing would go elsewhere if they changed places.  A route that makes one of them matter needs a
# row here, and then the pair leaves this list (the test below says so).
FREE = {("menu", "reports"), ("menu", "plans"), ("menu", "hints"), ("menu", "follow-ups"), ("reports", "plans"),
        ("reports", "follow-ups"), ("reminders", "plans"), ("reminders", "follow-ups"), ("plans", "hints"),
        ("plans", "follow-ups"), ("hints", "follow-ups")}


def _hits(app, msg, reg) -> set[str]:
    """The groups with a route whose pattern or predicate matches ``msg`` (declining or not)."""
    words = words_of(msg)
    return {r.group for r in reg.routes if r.hit(app, msg, words)}


def _swapped(a: str, b: str):
    groups = list(GROUPS)
    i, j = (next(k for k, g in enumerate(GROUPS) if g.name == name) for name in (a, b))
    groups[i], groups[j] = groups[j], groups[i]
    return registry(tuple(groups))


def test_swapping_two_groups_that_can_take_one_text_changes_the_table(index):
    """For each two groups, the rows that a route of each matches are routed again with the two
    groups swapped: at least one must go elsewhere, or the table would not notice the swap."""
    reg = registry()
    shared: dict[tuple[str, str], list[Row]] = {}
    for row in ROWS:
        app, msg = _app(index, row)
        hit = _hits(app, msg, reg) - UNORDERED
        for a, b in combinations([g.name for g in GROUPS if g.name in hit], 2):
            shared.setdefault((a, b), []).append(row)
    ordered = [g.name for g in GROUPS if g.name not in UNORDERED]
    pairs = list(combinations(ordered, 2))
    assert {pair for pair in pairs if pair not in shared} == FREE
    unnoticed = [(a, b) for a, b in pairs if (a, b) in shared and not any(
        explain(*_app(index, row, _swapped(a, b))).taken_by != row.route for row in shared[(a, b)])]
    assert unnoticed == []


def test_the_routes_a_report_names_by_string_exist():
    """While a report is written, report.py asks whether a text is another command by the names of
    other modules' routes: each name must be a route (a renamed one would raise, not pass silently)."""
    from bot.handlers import report
    names = {r.name for r in registry().routes}
    assert set(report.ALWAYS_ANOTHER + report.UNLESS_AN_ANSWER) <= names
    assert {"help", "listing", "reminder", "case_visits_asked"} <= set(report.ALWAYS_ANOTHER + report.UNLESS_AN_ANSWER)
