"""No chat text can stall or crash Nimo.

1. Patterns that backtracked over a run of spaces (seconds to days at a few thousand characters):
   40,000-character hostile messages are answered, in a child process with a generous timeout so
   that a regression fails the test instead of hanging the suite (a regex running in C holds the
   GIL: a thread could not be given up on).  Nothing here measures speed; benchmarks/bench_hostile.py
   does.
2. Length and shape limits before any pattern runs.
3. Values that crashed a handler (year 0, 9999/12/31 plus a month, ids past 2**63 or 4,300 digits,
   digits ``int`` refuses) get a clear Japanese reply.
4. A handler that fails all the same gets an apology; the log names the handler and the kind of
   error, never the text.
"""
from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
import unicodedata

import pytest

from bot import messages
from bot.people.access import add_user
from bot.chat.core import Incoming, Text

from .conftest import FIXED_NOW, ROOT

N = 40_000  # Slack's limit: the longest message the patterns must read
LIMITS = {"line": 5000, "slack": 40000, "terminal": 40000, "lineworks": 5000}  # the terminal takes Slack's (bot/chat/router.py)

# --- 1. backtracking --------------------------------------------------------------------------------

ACT_WORDS = ("完了", "会えなかった", "あとで記録", "スヌーズ", "取消", "取り消し", "キャンセル", "削除")


def fill(head: str, unit: str, tail: str = "", n: int = N) -> str:
    return head + unit * ((n - len(head) - len(tail)) // len(unit)) + tail


HOSTILE_MESSAGES = [fill(w, " ", "\nx\ny") for w in ACT_WORDS] + [
    fill("延期", " ", "\nx\ny"),
    fill("延期", "\t", "#"),
    fill("変更 1", " ", "\nx\ny"),
    fill("リマインド 午前", " ", "x"),
    fill("リマインド 明日10時 a", " ", "を"),
    fill("x", " ", "リマインド"),
    fill("報告 訪問 K-012 生年月日", " ", "x"),
    fill("報告 訪問 K-012 郵便番号", " ", "1"),
    fill("報告 訪問 K-012 ", "田中さん"),
    fill("報告 訪問 K-012 内容 次回", " ", "x"),
    fill("参加 #e", "9"),
]

CHILD = textwrap.dedent("""
    import json, sys
    from datetime import datetime
    from bot.people.access import add_user
    from bot.app import build_app
    from bot.chat.core import Incoming
    from storage.connections import open_db
    from casebase.cases import load_builtin
    from knowledge.search import CaseIndex
    now = datetime.fromisoformat(sys.argv[1])
    app = build_app(db=open_db(":memory:"), clock=lambda: now, index=CaseIndex(load_builtin()))
    add_user(app.db, "slack", "U1", "staff", "千葉市", now)
    for i, text in enumerate(json.load(sys.stdin)):
        app.dialogs.clear("slack", "U1")
        replies = app.handle(Incoming("slack", "U1", "D1", text, True))
        print(json.dumps([i, [getattr(r, "text", getattr(r, "lead", "")) for r in replies]]), flush=True)
""")


def run_child(code: str, payload: list, timeout: float) -> list:
    """Run ``code`` in a child process fed ``payload`` as JSON; its JSON lines, or a failure naming the
    input it was stuck on (the child is killed at the timeout)."""
    try:
        p = subprocess.run([sys.executable, "-c", code, FIXED_NOW.isoformat()], input=json.dumps(payload),
                           capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        done = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        n = len(done.splitlines())
        pytest.fail(f"still working on input {n} ({payload[n][:20]!r}…) after {timeout:.0f} s")
    assert p.returncode == 0, p.stderr[-2000:]
    return [json.loads(line) for line in p.stdout.splitlines()]


def test_hostile_messages_of_40k_characters_are_answered():
    out = run_child(CHILD, HOSTILE_MESSAGES, timeout=120)
    assert [i for i, _ in out] == list(range(len(HOSTILE_MESSAGES)))
    for (i, texts), sent in zip(out, HOSTILE_MESSAGES):
        assert texts and all(texts), sent[:20]
        assert messages.SORRY not in texts, sent[:20]  # answered by its handler, not by the safety net


PARSERS = textwrap.dedent("""
    import json, sys
    from datetime import datetime
    from bot.privacy import guard as privacy
    from bot.reports import records as reports
    from knowledge.filters import read_filters
    from scheduler.timeparse import TimeError, parse_date, parse_when
    now = datetime.fromisoformat(sys.argv[1])
    calls = {"when": lambda s: parse_when(s, now), "date": lambda s: parse_date(s, now), "find": privacy.find,
             "mask": privacy.mask, "report": lambda s: reports.parse_one_line(s, now, "千葉市"),
             "filters": lambda s: read_filters(s, ["船橋"])}
    for i, (name, text) in enumerate(json.load(sys.stdin)):
        try:
            calls[name](text)
            print(json.dumps([i, "ok"]), flush=True)
        except TimeError:
            print(json.dumps([i, "refused"]), flush=True)
""")

HOSTILE_TO_PARSERS = [
    ("when", fill("午前", " ", "x")), ("date", fill("午前", " ", "x")), ("when", fill("明日10時 a", " ", "を")),
    ("when", fill("", "1")), ("when", fill("", "10時 ")), ("date", fill("", "1分")),
    ("find", fill("生年月日", " ", "x")), ("find", fill("郵便番号", " ", "x")), ("find", fill("", "田中さん")),
    ("find", fill("", "さいたま市", "1丁目")), ("find", fill("", "〒123-4567 千葉市1-1 ")), ("mask", fill("", "田中さん")),
    ("find", fill("", "a\u0301\u0316")), ("report", fill("訪問 K-012 内容 次回", " ", "x")),
    ("report", fill("", "昨日 ")), ("filters", fill("人口", " ", "x")), ("filters", fill("人口が", " ", "1万人以下")),
]


def test_parsers_read_40k_characters_of_their_worst_input():
    out = run_child(PARSERS, HOSTILE_TO_PARSERS, timeout=120)
    assert [i for i, _ in out] == list(range(len(HOSTILE_TO_PARSERS)))


# --- 2. length and shape limits -------------------------------------------------------------------

@pytest.fixture
def line_user(app):
    add_user(app.db, "line", "U1", "staff", "千葉市", FIXED_NOW)
    add_user(app.db, "slack", "U1", "staff", "千葉市", FIXED_NOW)
    return app


def send(app, text, platform="terminal", postback=None):
    user = "terminal" if platform == "terminal" else "U1"
    return app.handle(Incoming(platform, user, user, text, True, postback=postback))


@pytest.mark.parametrize("platform", ["line", "slack", "terminal"])
def test_a_message_longer_than_its_platform_allows_gets_one_reply_and_nothing_else(line_user, platform):
    limit = LIMITS[platform]
    head = "リマインド 明日10時 "
    replies = send(line_user, head + "あ" * (limit + 1 - len(head)), platform)
    assert replies == [Text(messages.message_too_long(limit + 1, limit))]
    assert line_user.dialogs.get(platform, "terminal" if platform == "terminal" else "U1", FIXED_NOW) is None
    at_limit = send(line_user, head + "あ" * (limit - len(head)), platform)  # the longest allowed is read
    assert at_limit != [Text(messages.message_too_long(limit, limit))] and "リマインド" in at_limit[0].text


def test_the_limits_are_the_platforms():
    from bot.chat.router import MAX_CHARS
    assert MAX_CHARS == LIMITS


def test_a_long_button_payload_is_refused_too(line_user):
    assert send(line_user, "", "line", postback="完了 " + "1" * 6000) == [Text(messages.message_too_long(6003, 5000))]


def test_a_run_of_combining_marks_is_refused_before_normalisation(line_user):
    zalgo = "明日" + "\u0301\u0316" * 2000
    assert send(line_user, zalgo, "line") == [Text(messages.MESSAGE_UNREADABLE)]
    few = "カフェ\u0301" + "\u0301" * 29  # as many as a letter may carry (stream-safe text: 30): read
    assert send(line_user, few, "line") != [Text(messages.MESSAGE_UNREADABLE)]


def test_text_that_nfkc_makes_more_than_twice_as_long_is_refused(line_user):
    grows = "\ufdfa" * 600  # 600 characters, 10,800 after NFKC
    assert send(line_user, grows, "line") == [Text(messages.message_too_long(10_800, 5000))]


def test_the_characters_that_decompose_into_marks_are_all_known():
    """timeparse.MARK_LIKE lists the characters of combining class 0 whose decomposition starts with
    a mark; a new Unicode version could add one, and a run of it would be quadratic again."""
    from scheduler import timeparse
    found = set()
    for cp in range(0x110000):
        c = chr(cp)
        if unicodedata.decomposition(c) and not unicodedata.combining(c):
            d = unicodedata.normalize("NFKD", c)
            if unicodedata.combining(d[0]):
                found.add(c)
    assert found == set(timeparse.MARK_LIKE)


# --- 3. values that crashed a handler -------------------------------------------------------------

@pytest.mark.parametrize("text, says", [
    ("リマインド 0000/1/1 10時 会議", "「0000/1/1」という日付はありません"),
    ("イベント 〇〇〇〇年1月1日 10時 交流会", "という日付はありません"),
    ("報告 0000/1/1", "この内容で保存しますか"),  # not a date: the word is the report's text
    ("報告 訪問 K-012 内容 次回0000/1/1", "次回の日付が読み取れません"),
    ("退院 K-012 0000/1/1", "「0000/1/1」という日付はありません"),
    ("退院 K-012 9999/12/31", messages.PLAN_DATE_OUT_OF_RANGE),
    ("完了 #9223372036854775808", "番号「922337203685…」のリマインドはありません"),
    ("取消 #" + "9" * 4400, "のリマインドはありません"),
    ("会えなかった #99999999999999999999 不在", "のリマインドはありません"),
    ("スヌーズ #99999999999999999999", "のリマインドはありません"),
    ("延期 明日 #9223372036854775808", "のリマインドはありません"),
    ("変更 #9223372036854775808 明日10時", "のリマインドはありません"),
    ("変更 ９２２３３７２０３６８５４７７５８０８ 明日10時", "のリマインドはありません"),
    ("参加 #e99999999999999999999", "番号「#e999999999999…」のイベントはありません"),
    ("不参加 #e" + "9" * 4400, "のイベントはありません"),
    ("人口" + "9" * 400 + "人以下の事例", "「人口10,000,000,000人以下」の事例が"),
])
def test_values_that_crashed_a_handler_get_a_clear_reply(app, text, says):
    said = [getattr(r, "text", None) or r.lead for r in send(app, text)]  # Text, or an answer's lead line
    assert said and messages.SORRY not in said
    assert says in "\n".join(said)


@pytest.mark.parametrize("command", ["詳しく", "似た事例"])
@pytest.mark.parametrize("number", ["፩", "1" * 4400, "٣"])
def test_a_case_number_int_cannot_read_is_a_bad_number(app, command, number):
    """「詳しく ፩」: ፩ is a digit to str.isdigit() (NFKC leaves it as it is) and int() refuses it;
    Arabic-Indic digits int() reads, but they are not what the buttons send."""
    send(app, "家族教室")
    [reply] = send(app, f"{command} {number}")
    assert reply.text == messages.bad_number(messages.shorten(number), 3)


def test_full_width_and_ascii_numbers_still_work(app):
    send(app, "家族教室")
    assert "似た事例" in send(app, "詳しく ２")[-1].choices[0].text
    send(app, "リマインド 明日10時 会議")
    send(app, "はい")
    assert "延期しました" in send(app, "延期 明後日 #１")[0].text
    assert "取り消しました" in send(app, "取消 #1")[0].text


# --- 4. the safety net ----------------------------------------------------------------------------

def test_a_failing_handler_gets_an_apology_and_a_log_line_without_the_text(app, caplog):
    send(app, "リマインド 明日10時 会議")
    send(app, "はい")
    app.db.execute("DROP TABLE reminder_actions")  # the database breaks under the handler
    with caplog.at_level(logging.DEBUG):
        replies = send(app, "完了 #1 MARKER-7f3a")
    assert replies == [Text(messages.SORRY)]
    [record] = [r for r in caplog.records if r.name == "nimo.router"]
    assert record.levelno == logging.ERROR and record.exc_info is None
    assert record.getMessage() == "message not handled: OperationalError in bot.handlers.remind._act"
    assert not any("MARKER" in r.getMessage() or "MARKER" in str(r.args) for r in caplog.records)


def test_a_dialog_state_of_the_wrong_shape_gets_an_apology(app, caplog):
    app.dialogs.set("terminal", "terminal", "report_step", {"step": "summary"}, FIXED_NOW)  # no draft
    with caplog.at_level(logging.ERROR):
        assert send(app, "MARKER-b2") == [Text(messages.SORRY)]
    assert "KeyError in bot.handlers.report.handle" in caplog.text and "MARKER" not in caplog.text
