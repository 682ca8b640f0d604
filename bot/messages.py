"""Every sentence Nimo says to a user, in one place, so that it can be reviewed and kept natural.

Functions, not templates, where a sentence depends on numbers or names.  Keep sentences short:
most people read them on a phone between visits.
"""
from __future__ import annotations

EXAMPLES = ("住まいの確保で困っている", "家族教室のやり方", "ピアサポーターの活用", "8050問題の相談", "千葉県の事例")

# ヘルプ: what Nimo does, one example each, short enough for a phone screen; each topic has its own
# page (「ヘルプ リマインド」).  The README's 使い方 section lists the same examples (tests/test_help.py).
HELP = (
    "Nimo（にも）でできること（例をそのまま送れます）\n"
    "■ 他の地域の事例を聞く　例：家族教室を始めたい\n"
    "■ リマインド　例：リマインド 明日14時 ケース会議の資料\n"
    "■ イベントの参加確認　例：イベント 12/5 14時 ピア交流会\n"
    "■ 退院後・措置解除後の訪問　例：退院 K-012 12/1\n"
    "■ 予定の一覧　例：予定\n"
    "■ 活動の報告　例：報告\n"
    "\n"
    "詳しくは「ヘルプ 質問」「ヘルプ リマインド」「ヘルプ 予定」「ヘルプ 報告」。"
    "LINE では画面下のメニューからも使えます。"
)
HELP_TOPICS = {
    "質問": (
        "■ 事例の聞き方\n"
        "・住まいの確保で困っている\n"
        "・ピアサポーターの活用\n"
        "・千葉県の事例／人口10万人以下の市町村／県の取組\n"
        "■ 答えのあとで\n"
        "・詳しく 1 … 1番の事例の全文（「1」だけでも）\n"
        "・次 … 続きの3件\n"
        "・似た事例 … 近い取組\n"
        "・👍／👎 … 役に立ったかどうか\n"
        "事例は厚生労働省の手引き 第4章 の25事例です。答えの文はすべて手引きの文そのままです。"
    ),
    "リマインド": (
        "■ リマインド（時刻は読み上げて確認します）\n"
        "・リマインド 明日14時 ケース会議の資料\n"
        "・リマインド 毎週金曜16時 週報\n"
        "■ イベント（前日17時と1時間前にお知らせ、参加・不参加のボタンつき）\n"
        "・イベント 12/5 14時 ピア交流会\n"
        "■ 退院後・措置解除後の訪問計画（ケースコードで。名前は書かないでください）\n"
        "・退院 K-012 12/1\n"
        "・措置 K-015 12/1\n"
        "■ お知らせが来たら\n"
        "・完了 1／延期 明日 1／変更 1 明日10時／取消 1\n"
        "・朝の通知 7:30 … 朝のまとめの時刻"
    ),
    "予定": (
        "■ 予定の一覧\n"
        "・予定 … 自分のリマインド・イベント・訪問\n"
        "・予定 K-012 … ケースごとの訪問\n"
        "・予定 全体 … 地域の訪問（スーパーバイザー）\n"
        "■ 訪問計画を終える・引き継ぐ（「はい」で確定）\n"
        "・計画終了 K-012 再入院 … 理由は 再入院・転居・支援終了・その他\n"
        "・引継ぎ K-012 佐藤 … 同じ地域の人へ（名前はボタンでも選べます）"
    ),
    "報告": (
        "■ 活動の報告（1対1のトークで）\n"
        "・報告 … 種類・日付・ケース・内容・次回を順に聞きます\n"
        "・報告 訪問 K-012 今日 服薬を確認。次回 来週火曜 … 1通で\n"
        "写真は報告の入力中に送れます。\n"
        "・報告一覧 … 自分の最近の報告\n"
        "・報告修正 R-12／報告取消 R-12\n"
        "入力の途中は「やめる」でいつでも中止できます。"
    ),
}


def help_topic_unknown(topic: str) -> str:
    return f"「{topic}」のヘルプはありません。「ヘルプ 質問」「ヘルプ リマインド」「ヘルプ 予定」「ヘルプ 報告」から選んでください。"


EMPTY = "質問を入力してください。\n例：「住まいの確保で困っている」「家族教室のやり方」"
NO_TEXT = "文字が読み取れませんでした。言葉で質問してください。\n例：「ピアサポーターの活用」"
NEXT_NONE = "これ以上の事例はありません。別の言葉で聞いてみてください。"
NOTHING_SHOWN = "まだ事例を表示していません。先に質問してください。\n例：「住まいの確保で困っている」"
THANKS_UP = "ありがとうございます。役に立ったと記録しました。"
THANKS_DOWN = "ありがとうございます。合わなかったと記録しました。事例集を直す手がかりにします。"
def footer(first: int, more: bool) -> str:
    """The closing line of an answer page: its first number (「詳しく 4」 after 「次」), and 「次」 only
    when there is a next page."""
    nxt = "、「次」で続き" if more else ""
    return f"「詳しく {first}」で全文{nxt}、「似た事例 {first}」で近い取組を表示します。役に立ったら 👍、違ったら 👎 を。"



def too_long(n: int, limit: int) -> str:
    return f"質問が長すぎます（{n:,}字）。{limit:,}字以内で、知りたいことを短く書いてください。"


def no_match(filters: str | None = None) -> str:
    where = f"（条件：{filters}）" if filters else ""
    return (
        f"該当する事例が見つかりませんでした{where}。\n" +
        "Nimo が答えられるのは、にも包括（精神障害にも対応した地域包括ケアシステム）の他地域の取組です。\n"
        "たとえば次のように聞いてください：\n" + "\n".join(f"・{e}" for e in EXAMPLES) +
        "\n\nこの質問は、事例集に足りない事例として記録しました。"
    )


def filtered_out(filters: str) -> str:
    return (f"「{filters}」に当てはまる事例はありません。条件を外すか、ゆるめて聞いてみてください。\n"
            "例：「人口20万人以下」「市町村の取組」")


def lead(question: str, count: int, filters: str | None) -> str:
    q = " ".join(question.split())
    q = q if len(q) <= 24 else q[:23] + "…"
    cond = f"（条件：{filters}）" if filters else ""
    return f"「{q}」に近い事例が{count}件あります{cond}。"


def lead_listing(filters: str, count: int) -> str:
    return f"「{filters}」の事例が{count}件あります。"


def lead_similar(area: str, count: int) -> str:
    return f"「{area}」の取組に近い事例が{count}件あります。"


def lead_more(start: int, end: int, total: int) -> str:
    return f"続きです（{start}〜{end}件目／全{total}件）。"


def bad_number(n: str, shown: int) -> str:
    return f"「{n}」番の事例は表示していません。1〜{shown}の番号を指定してください。例：「詳しく 1」"


# -- registration and greetings (LINE / Slack) ------------------------------------------------
REGISTER_PROMPT = (
    "Nimo を使うには登録が必要です。\n"
    "管理者から受け取った招待コードを、Nimo との1対1のトークで「登録 コード」と送ってください。\n"
    "例：登録 ABCD2345"
)
REGISTER_BAD = "その招待コードは使えません（間違い・使用済み・期限切れのいずれか）。管理者に確かめてください。"
REGISTER_DIRECT_ONLY = "登録は、Nimo との1対1のトークで送ってください（グループでは受け付けません）。"
ALREADY_REGISTERED = "登録済みです。質問をどうぞ。「ヘルプ」で使い方を表示します。"
GREETING = (
    "はじめまして、Nimo（にも）です。にも包括の他地域の取組事例を探してお答えするほか、"
    "リマインド・訪問予定のお知らせ・活動の報告ができます。\n"
    "例：「家族教室を始めたい」「リマインド 明日14時 ケース会議」「報告」\n"
    "「ヘルプ」で使い方を表示します。"
)
GROUP_HINT = "グループでは「Nimo」への@メンションか、文頭に「にも」を付けて質問してください。例：にも 家族教室"
NON_TEXT = "Nimo は文字の質問にお答えします。知りたいことを言葉で送ってください。"
# A greeting or a thank-you sent on its own (bot/handlers/greet.py): answered as a person would,
# not searched as a question nor logged as a gap in the case base.
SMALLTALK_INTRO = (
    "Nimo（にも）です。他の地域の取組事例を探すほか、リマインドや活動の報告ができます。\n"
    "例：「家族教室を始めたい」「リマインド 明日14時 ケース会議」「報告」"
)
THANKS_REPLY = "どういたしまして。ほかにも聞きたいことがあれば、そのまま送ってください。"
ACK_REPLY = "はい。ほかにもあれば、そのまま送ってください。"


GREET_BACK = {"day": "こんにちは。", "evening": "こんばんは。", "morning": "おはようございます。",
              "work": "お疲れさまです。", "first": "はじめまして。", "regards": "よろしくお願いします。"}


def hello(kind: str) -> str:
    """The answer to a greeting of ``kind`` (bot/handlers/greet.py: HELLO)."""
    return f"{GREET_BACK[kind]}{SMALLTALK_INTRO}"


def registered(area: str, role: str) -> str:
    who = {"supervisor": "スーパーバイザー", "admin": "管理者", "peer": "ピアサポーター"}.get(role, "スタッフ")
    return f"登録しました（地域：{area}／{who}）。質問をどうぞ。「ヘルプ」で使い方を表示します。"

ASK_PROMPT = "知りたいことを、そのまま送ってください。\n例：「住まいの確保で困っている」「家族教室を始めたい」「千葉県の事例」"


# -- reminders, events, visit plans ---------------------------------------------------------------
WEEKDAYS = "月火水木金土日"
REMIND_EXAMPLE = "例：「リマインド 明日14時 ピアサポーター交流会の準備」「リマインド 毎週金曜16時 週報」"
EVENT_EXAMPLE = "例：「イベント 12/5 14時 ピアサポーター交流会」"
PLAN_EXAMPLE = "例：「退院 K-012 12/1」（ケースコードと退院日）"
CONFIRM = "よろしいですか？「はい」で登録、「いいえ」でやめます。"
CANCELLED_INPUT = "やめました。何も登録していません。"
NOTHING_TO_CONFIRM = "確認待ちのものはありません。"
NO_TITLE = "何をリマインドするかを書いてください。" + REMIND_EXAMPLE
NO_PLANS = "登録されている予定はありません。" + REMIND_EXAMPLE
NAME_NOT_CODE = "名前ではなく、ケースコード（例：K-012）を使ってください。個人を特定できる情報は書かないでください。"
NO_CASE_CODE = "ケースコードが読み取れません。" + PLAN_EXAMPLE
NO_RECENT = "対象のリマインドが見つかりません。「予定」で一覧を出し、番号で指定してください。例：「取消 2」"
SNOOZE_MINUTES = 30
UNMET_WHY = "会えなかった理由を選んでください（記録に残します）。"
EVENT_ONCE = "イベントは1回ごとに登録してください。繰り返しのお知らせは「リマインド 毎週金曜16時 …」で登録できます。"
EVENT_NO_TITLE = "イベントの名前を書いてください。" + EVENT_EXAMPLE
EVENT_NOT_FOUND = "そのイベントは見つかりません。"
POSTPONE_EXAMPLE = "例：「延期 明日」「延期 来週」「延期 12/10 10時」"
POSTPONE_PAST = "過ぎた日時には延期できません。例：「延期 明日」「延期 12/10 10時」"
DIGEST_TIME_BAD = "時刻が読み取れません。例：「朝の通知 8:30」"


def change_example(number: str) -> str:
    return f"例：「変更 {number} 明日15時」"


def confirm_change(title: str, when: str) -> str:
    return f"「{title}」を {when} に変更します。{CONFIRM}"


def area_visits_none(area: str) -> str:
    return f"{area}の未完了の訪問予定はありません。"


def area_visits(area: str, lines: list[str]) -> str:
    return f"{area}の訪問予定（未完了、31日以内）：\n" + "\n".join(lines)
NOT_ALLOWED = "この操作は、スーパーバイザーまたは管理者として登録された人だけが使えます。"
SUPERVISOR_ONLY = "地域全体の予定は、スーパーバイザーとして登録された人だけが見られます。"
DIRECT_ONLY = "この内容は個人の情報を含むため、Nimo との1対1のトークでだけ表示します。"


def fmt_when(t) -> str:
    return f"{t.month}月{t.day}日({WEEKDAYS[t.weekday()]}) {t:%H:%M}"


def fmt_day(d) -> str:
    return f"{d.month}月{d.day}日({WEEKDAYS[d.weekday()]})"


def confirm_reminder(when: str, title: str, group: bool) -> str:
    where = "このグループに" if group else ""
    return f"{when} に{where}「{title}」をリマインドします。{CONFIRM}"


def confirm_event(when: str, title: str, notices: list[str]) -> str:
    n = "・".join(notices) if notices else "（もう時間が近いため、事前のお知らせはありません）"
    return f"イベント「{title}」を {when} に登録します。お知らせ：{n}。{CONFIRM}"


def confirm_plan(case: str, label: str, anchor: str, visits: list[str]) -> str:
    lines = "\n".join(f"・{v}" for v in visits)
    return f"{case} の{label}（基準日 {anchor}）を登録します。訪問予定：\n{lines}\n{CONFIRM}"


def saved(number: int) -> str:
    return f"登録しました（番号 {number}）。「予定」で一覧、「取消 {number}」で取り消せます。"


def saved_plan(n: int) -> str:
    return f"訪問計画を登録しました（訪問{n}回）。各訪問日の朝にお知らせします。「予定」で一覧を表示します。"


def reminder_text(when: str, title: str, late: bool) -> str:
    return ("【遅延】" if late else "") + f"⏰ リマインド（{when}）\n{title}"


def event_text(when: str, title: str, yes: int, no: int, late: bool) -> str:
    return ("【遅延】" if late else "") + f"📅 イベントのお知らせ：{when}\n{title}\n参加 {yes}人・不参加 {no}人"


def visit_text(title: str, window: str, late: bool) -> str:
    return ("【遅延】" if late else "") + f"🏠 今日は訪問予定日です：{title}\n訪問できる期間：{window}"


def listing(lines: list[str]) -> str:
    return "登録中の予定：\n" + "\n".join(lines) + "\n\n「取消 番号」で取り消し、「変更 番号 明日15時」で時刻を変えられます。"


def done_action(action: str, title: str) -> str:
    return {"done": f"「{title}」を完了にしました。",
            "unmet": f"「{title}」は会えなかったと記録しました。",
            "later": f"「{title}」はあとで記録する、と控えました。朝の通知に残します。",
            "cancel": f"「{title}」を取り消しました。"}[action]


UNDO_NOTHING = "元に戻せる取り消しはありません。「予定」で登録中の予定を表示します。"
UNDO_EVENT = "イベントの取り消しは戻せません。もう一度「イベント …」で登録してください。"


def undo_past(title: str, when: str) -> str:
    return f"「{title}」の時刻（{when}）を過ぎているため戻せません。もう一度「リマインド …」で登録してください。"


def undone(title: str, when: str) -> str:
    return f"「{title}」を元に戻しました（{when}）。"


def postponed(title: str, when: str) -> str:
    return f"「{title}」を {when} に延期しました。"


def rsvp_counts(title: str, answer: str, yes: int, no: int) -> str:
    a = "参加" if answer == "yes" else "不参加"
    return f"「{title}」に{a}と記録しました（参加 {yes}人・不参加 {no}人）。"


def digest(day: str, today: list[str], overdue: list[str], week: list[str], missed: list[str]) -> str:
    parts = [f"おはようございます。{day}の予定です。"]
    for head, items in (("今日の訪問", today), ("期限を過ぎた訪問", overdue), ("今週のイベント", week),
                        ("届けられなかったリマインド", missed)):
        if items:
            parts.append(f"■{head}\n" + "\n".join(f"・{i}" for i in items))
    return "\n".join(parts)


def digest_time_set(t: str) -> str:
    return f"朝の通知を {t} にしました（平日のみ、祝日は休み）。"


# -- field reports ----------------------------------------------------------------------------
REPORT_EXAMPLE = "例：「報告 訪問 K-012 服薬確認できた。表情明るい。次回12/10」"
REPORT_NEXT_EXAMPLE = "例：「12/10 再訪」。なければ「なし」"
REPORT_DIRECT_ONLY = "報告は個人の情報を含むため、Nimo との1対1のトークで送ってください。"
REPORT_TIMED_OUT = "前の報告の入力は、30分操作がなかったため取り消しました（何も保存していません）。"
REPORT_CANCELLED = "報告の入力をやめました。何も保存していません。"
REPORT_ASK_TYPE = "報告を書きます。種類を選んでください（「やめる」でいつでも中止）。"
REPORT_ASK_DATE = "いつのことですか？（例：今日、昨日、11/20）"
REPORT_ASK_CASE = "ケースコードは？（例：K-012。なければ「なし」）名前は書かないでください。"
REPORT_ASK_AREA = "地域は？"
REPORT_ASK_SUMMARY = "内容を短く書いてください。名前・電話番号・住所は書かず、ケースコードを使ってください。"
REPORT_ASK_NEXT = "次の予定は？（例：「12/10 再訪」。なければ「なし」）"
REPORT_BAD_TYPE = "種類はボタンから選ぶか、訪問・電話・同行受診・会議・ピア活動・その他 のどれかを送ってください。"
REPORT_BAD_CASE = "ケースコードが読み取れません。例：K-012。なければ「なし」。"
REPORT_EMPTY = "内容が空です。短くてよいので書いてください。"
REPORT_WAITING = "報告の確認中です。「確定」「修正」「取消」のどれかを送ってください。"
REPORT_FIX_WHICH = "どこを直しますか？"
REPORT_PRIVACY_CHOOSE = "個人情報の扱いを選んでください：「伏せて確定」「そのまま確定」「修正」「取消」。"
REPORT_NOT_EDITABLE = "その報告は直せません（自分の報告で、保存から24時間以内のものだけ直せます）。"
REPORT_NONE = "報告はまだありません。" + REPORT_EXAMPLE
REPORT_FIELDS = {"type": "種類", "date": "日付", "case_code": "ケース", "area": "地域", "summary": "内容", "next": "次回"}


def report_review(lines: list[str], findings: str | None, editing: str | None) -> str:
    head = f"{editing} をこの内容に直しますか？" if editing else "この内容で保存しますか？"
    text = head + "\n" + "\n".join(lines)
    if findings:
        text += (f"\n\n⚠ 個人を特定できる情報が含まれているようです：{findings}\n"
                 "伏せ字にして保存するか、そのまま保存するかを選んでください。選ぶまで何も保存しません。")
    return text


def report_next_unread(reason: str) -> str:
    return f"次回の日付が読み取れません：{reason}\n{REPORT_EXAMPLE}"


def report_saved(num: str, extra: list[str]) -> str:
    return "\n".join([f"保存しました（{num}）。"] + extra + [f"24時間以内なら「報告修正 {num}」で直し、「報告取消 {num}」で取り下げられます。"])


def report_updated(num: str) -> str:
    return f"{num} を直しました（変更の記録を残しています）。"


def report_withdrawn(num: str) -> str:
    return f"{num} を取り下げました（記録は残ります）。"

PHOTO_NO_REPORT = "写真は報告の入力中に送ってください（「報告」で始めます）。この写真は保存していません。"
PHOTO_NOT_HERE = "ここでは写真を保存できません。"
PHOTO_FAILED = "写真を受け取れませんでした。少し待ってから、もう一度送ってください。"


def photo_kept(n: int) -> str:
    return f"写真を受け取りました（{n}枚目。位置情報などは消して保存します）。報告を続けてください。"


def weekly_summary(span: str, total: int, by_type: list[tuple[str, int]], by_area: list[tuple[str, int]]) -> str:
    if not total:
        return f"📊 先週（{span}）の報告はありませんでした。"
    t = "・".join(f"{k} {n}" for k, n in by_type)
    a = "・".join(f"{k or '地域なし'} {n}" for k, n in by_area)
    return f"📊 先週（{span}）の報告：計 {total}件\n種類別：{t}\n地域別：{a}"


# -- Slack App Home (beside HELP) ----------------------------------------------------------------
SLACK_HOME_MORE = ("■ 予定\n「リマインド 明日14時 …」「イベント 12/5 14時 …」「退院 K-012 12/1」「予定」\n"
                   "■ 報告\n「報告 訪問 K-012 …」または上のボタン（フォーム）。報告は DM でだけ受け付けます。")

# -- Slack report form: mistakes shown beside their fields ---------------------------------------
FORM_BAD_CASE_CODE = "ケースコードの形ではありません（例：K-012）"
FORM_NO_SUMMARY = "内容を書いてください"


# -- LINE WORKS ---------------------------------------------------------------------------------
LINEWORKS_GROUP_HINT = "トークルームでは、文頭に「にも」を付けて質問してください。例：にも 家族教室"
LINEWORKS_MENU = ("質問する", "予定", "報告")   # the persistent menu: each button sends its own words
CUT_SHORT = "…（続きは省略しました。全文は管理者の `nimo cases show` で見られます）"


def typed_date(label: str, example: str) -> str:
    """Where LINE shows a date picker: LINE WORKS has none, so say what to type."""
    return f"{label}：「{example}」のように日付を書いて送ってください。"


# -- local cases (nimo cases withdraw) -------------------------------------------------------------
def no_local_case(case_id: str) -> str:
    return f"ローカル事例「{case_id}」はありません（組み込みの事例は取り下げられません）。`nimo cases` で一覧を見られます。"


def local_case_withdrawn(case_id: str) -> str:
    return f"ローカル事例「{case_id}」を取り下げました。動いている worker は再起動すると反映します。"


# -- the web console (its pages' own text is in bot/console/) --------------------------------------
CONSOLE_DIRECT_ONLY = "管理画面のリンクは、Nimo との1対1のトークでだけ使えます。"
CONSOLE_NO_URL = "管理画面の URL が設定されていません。管理者に NIMO_PUBLIC_URL の設定を頼んでください。"


def console_link(url: str, minutes: int) -> str:
    return (f"管理画面へのリンクです（{minutes}分間、1回だけ有効）。\n{url}\n"
            "ほかの人には送らないでください。")


# -- 「事例提案」: a case proposed from the field ------------------------------------------------------
PROPOSAL_DIRECT_ONLY = "事例提案は、Nimo との1対1のトークで送ってください。"
PROPOSAL_START = ("事例提案を書きます（「やめる」でいつでも中止）。名前・電話番号・住所は書かないでください。\n"
                  "どの地域の取組ですか？")
PROPOSAL_ASK = {
    "problem": "どんな課題がありましたか？（短くてかまいません）",
    "action": "何をしましたか？",
    "outcome": "どうなりましたか？",
    "contact": "問い合わせ先の役職・部署は？（例：〇〇保健所 精神保健福祉担当。個人名は書かないでください）",
}
PROPOSAL_EMPTY = "空のままでは進めません。短くてよいので書いてください。"
PROPOSAL_CANCELLED = "事例提案の入力をやめました。何も保存していません。"
PROPOSAL_WAITING = "事例提案の確認中です。「確定」か「取消」を送ってください。"
PROPOSAL_PRIVACY_CHOOSE = "個人情報の扱いを選んでください：「伏せて確定」「そのまま確定」「取消」。"
PROPOSAL_FIELDS = {"area": "地域", "problem": "課題", "action": "取組", "outcome": "結果", "contact": "問い合わせ先"}


def proposal_too_long(limit: int) -> str:
    return f"{limit}字以内にしてください。"


def proposal_review(lines: list[str], findings: str | None) -> str:
    text = "この内容で提案しますか？\n" + "\n".join(lines)
    if findings:
        text += (f"\n\n⚠ 個人を特定できる情報が含まれているようです：{findings}\n"
                 "伏せ字にして送るか、そのまま送るかを選んでください。選ぶまで何も保存しません。")
    return text


def proposal_saved(number: str) -> str:
    return f"事例提案を受け付けました（{number}）。スーパーバイザーか管理者が確認し、結果をここでお知らせします。"


def proposal_published(number: str, title: str) -> str:
    return f"ご提案の事例（{number}）を「{title}」として公開しました。チャットの答えにも出ます。ありがとうございました。"


def proposal_declined(number: str, reason: str) -> str:
    return f"ご提案の事例（{number}）は、今回は見送りになりました。\n理由：{reason}"

# -- limits and failures: what a sender is told instead of silence ---------------------------------
MESSAGE_UNREADABLE = ("記号（結合文字）が長く続いていて、読み取れません。普通の文章で送ってください。\n"
                      "例：「住まいの確保で困っている」")
SORRY = ("すみません、うまく処理できませんでした。少し待ってから、もう一度送ってください。"
         "続くときは管理者に知らせてください。")
PLAN_DATE_OUT_OF_RANGE = "その日付からは訪問予定の日を計算できません。退院日を確かめてください。" + PLAN_EXAMPLE


def message_too_long(n: int, limit: int) -> str:
    return f"メッセージが長すぎます（{n:,}字）。{limit:,}字以内に分けて送ってください。"


def shorten(s: str, keep: int = 12) -> str:
    """A number or word from the user, cut short for a reply: 「922337203685…」."""
    return s if len(s) <= keep else s[:keep] + "…"


def no_such_number(number: str) -> str:
    return (f"番号「{shorten(number)}」のリマインドはありません。「予定」で一覧を出し、表示された番号で指定してください。"
            "例：「取消 2」")


def no_such_event(number: str) -> str:
    return (f"番号「#e{shorten(number)}」のイベントはありません。お知らせに付いたボタンか、その番号で答えてください。"
            "例：「参加 #e3」")

# -- 「予定 K-012」: one case's visits -----------------------------------------------------------
VISIT_STATES = {"open": "予定", "done": "完了", "unmet": "会えず", "cancelled": "取消"}


def case_visits(code: str, lines: list[str]) -> str:
    return f"{code} の訪問予定：\n" + "\n".join(lines)


def case_visits_none(code: str) -> str:
    return f"{code} の訪問予定は見つかりませんでした（ご自身の担当分だけ表示します）。"


# -- the weekly summary's chart ------------------------------------------------------------------
WEEKLY_CHART_TITLE = "報告件数（直近8週）"  # the title of the weekly summary's chart on Slack


# -- what Nimo keeps of what users type goes through the privacy guard -----------------------------
MASKED_NOTICE = "※お名前・電話番号などは伏せて記録しました。"
MASKED_PENDING = "※お名前・電話番号などは伏せて登録します。"


def with_notice(text: str, notice: str) -> str:
    return f"{text}\n{notice}"

# -- hints: a command word whose message Nimo could not read (never logged as a missing case) ----
REPORT_SUPERVISOR_ONLY = "地域全体の報告一覧は、スーパーバイザーまたは管理者として登録された人だけが見られます。「報告一覧」で自分の報告を表示します。"
HINTS = {
    "参加": "イベントのお知らせの「参加」「不参加」ボタンを押してください（番号つきで「参加 #E3」とも送れます）。",
    "変更": "「変更 1 明日10時」のように、予定の番号と新しい日時を続けて送ってください。番号は「予定」で確かめられます。",
    "延期": "「延期 明日 1」「延期 1 12/10 10時」のように、いつへ延ばすかと予定の番号を送ってください。",
    "朝の通知": "「朝の通知 7:30」のように、朝のまとめを受け取る時刻を送ってください。",
    "完了": "「完了 1」のように予定の番号をつけて送ってください。番号は「予定」で確かめられます。",
    "取消": "「取消 1」のように予定の番号をつけて送ってください。番号は「予定」で確かめられます。",
    "予定": "「予定」で自分の予定、「予定 K-012」でケースごとの訪問を表示します。",
    "報告一覧": "「報告一覧」で自分の最近の報告を表示します。",
    "リマインド": REMIND_EXAMPLE,
    "イベント": EVENT_EXAMPLE,
}



# -- reminders, events and visit plans as staff use them in a day ------------------------------------
def plan_needs_date(code: str, word: str) -> str:
    return f"{code} の退院日はいつですか？ 日付を付けて送ってください。例：「{word} {code} 12/1」「{word} {code} 昨日」"


def plan_visit_line(label: str, due: str, window: str, moved: str | None, remind: str | None, past_due: bool) -> str:
    """One visit in the read-back of a plan: its day, why it moved, and whether and when it is announced."""
    s = f"{label}：{due}"
    if moved:
        s += f"（{moved}のため移動）"
    s += f"　期間 {window}"
    if remind is None:
        return s + "\n　→ 期間を過ぎています。お知らせしません"
    if past_due:
        return s + f"\n　→ 予定日は過ぎましたが期間内です。{remind} にお知らせ"
    return s + f"\n　→ {remind} にお知らせ"


def saved_plan_visits(reminded: list[str], not_reminded: list[str]) -> str:
    s = "訪問計画を登録しました。"
    s += ("お知らせする訪問：" + "、".join(reminded) + "。") if reminded else "お知らせする訪問はありません。"
    if not_reminded:
        s += "期間を過ぎた訪問（お知らせしません）：" + "、".join(not_reminded) + "。"
    return s + "「予定」で一覧を表示します。"


def night_question(hour: int, minute: int, alt: str | None) -> str:
    """「午前3時でよいですか？ 15時なら「15時にする」を送ってください。」"""
    said = (f"午前{hour}時" if hour < 12 else f"夜{hour - 12}時（{hour}時）") + (f"{minute}分" if minute else "")
    return f"{said}でよいですか？" + (f" {alt}なら「{alt}にする」を送ってください。" if alt else "")


def ask_night(confirm_text: str, question: str) -> str:
    """A read-back whose time is in the night: the question replaces 「よろしいですか？」."""
    return confirm_text.replace(CONFIRM, question + "「はい」で登録、「いいえ」でやめます。")


def confirm_change_next(title: str, when: str, rule: str) -> str:
    return f"「{title}」の次回を {when} に変更します（そのあとは {rule} のままです）。{CONFIRM}"


def changed(title: str, when: str) -> str:
    return f"「{title}」を {when} に変更しました。"


def event_saved(number: int, title: str, when: str, group: bool) -> str:
    head = f"📅 イベント「{title}」{when}\n"
    ask = "参加できる方は「参加」、できない方は「不参加」を押してください。\n" if group else ""
    return head + ask + f"登録しました（番号 E{number}）。「予定」で一覧、「取消 E{number}」で取り消せます。"


EVENT_NIGHT_NOTICE = "（夜間にかかるため、1時間前のお知らせは送りません）"


def event_cancelled(title: str, when: str) -> str:
    return f"イベント「{title}」（{when}）を取り消しました。お知らせもすべて止めました。"


def event_owner_only(number: int) -> str:
    return f"イベントを取り消せるのは登録した人だけです。参加をやめるときは「不参加 #E{number}」を送ってください。"


RSVP_LISTED = "「予定」に表示します。"


def listing_events(lines: list[str]) -> str:
    return listing(lines) + "\nイベント（E番号）は「取消 E3」のように取り消せます。"


def changed_next(title: str, when: str, rule: str) -> str:
    return f"「{title}」の次回を {when} に変更しました（そのあとは {rule} のままです）。"



# -- people and exports: names, id shapes, token shapes, export files -----------------------------
NAME_UNSET = "（名前未設定）"
USERS_HEADER = "名前\t種類\tID\t役割\t地域"
PLATFORM_NAMES = {"line": "LINE", "slack": "Slack", "lineworks": "LINE WORKS"}
ID_EXAMPLES = {"line": "「U」と32桁の英数字（0〜9・a〜f）です。例：U8189cf6745fc0d808977bdb0b9f22995",
               "slack": "「U」か「W」で始まる大文字の英数字です。例：U024BE7LH",
               "lineworks": "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx の形です（ログインID・メールアドレスではありません）"}


def bad_user_id(platform: str, user_id: str) -> str:
    name = PLATFORM_NAMES.get(platform, platform)
    return (f"「{shorten(user_id, 40)}」は {name} のユーザーIDの形ではありません。{name} のユーザーIDは"
            f"{ID_EXAMPLES[platform]}。分からないときは招待コード（nimo invite create）を渡せば、"
            "本人が「登録 コード」と送るだけで登録できます。")


def registered_name(name: str) -> str:
    return f"名前は「{name}」と表示します（変えたいときは管理者に伝えてください）。"


def renamed(platform: str, user_id: str, name: str) -> str:
    return f"名前を変えました：{platform} {user_id} →「{name}」"


def not_registered(platform: str, user_id: str) -> str:
    return f"{platform} の {user_id} は登録されていません（nimo users list で確かめられます）"


NAME_EMPTY = "名前を入れてください（例：nimo users rename line U… 佐藤（保健師））"


def name_too_long(limit: int) -> str:
    return f"名前は{limit}字以内にしてください"


def export_format_mismatch(fmt: str, suffix: str) -> str:
    return (f"--format {fmt} なのに、書き出し先の拡張子が「{suffix}」です。"
            f"拡張子を .{fmt} にするか、--format を合わせてください。何も書き出していません。")


# `nimo serve --check`: what is wrong with a value's shape (never the value itself)
SHAPE_SPACES = "前後や途中に空白・改行・引用符が入っています"
SHAPE_HEX32 = "32桁の英数字（0〜9・a〜f）のはずです"
SHAPE_SLACK_BOT = "Bot User OAuth Token（xoxb- で始まる）のはずです"
SHAPE_SLACK_USER_TOKEN = "xoxp- はユーザーのトークンです。Bot User OAuth Token（xoxb-…）を設定してください"
SHAPE_SLACK_APP_TOKEN_HERE = "xapp- は App-Level Token です（SLACK_APP_TOKEN に設定します）。ここには xoxb-… を設定してください"
SHAPE_SLACK_APP = "App-Level Token（xapp- で始まる）のはずです"
SHAPE_LINE_TOKEN = "チャネルアクセストークン（長期）は英数字と + / = . - _ の100字以上のはずです（チャネルシークレットやチャネルIDではありませんか）"


def shape_wrong(name: str, why: str) -> str:
    return f"{name} の形が違います：{why}"


def how_to_name(platform: str, user_id: str) -> str:
    return f"名前は「nimo users rename {platform} {user_id} 名前」で付けられます"


# -- reports: a report set aside, one-line reports that keep the draft, 「報告一覧 K-012」,
# the peer-supporter role ------------------------------------------------------------------------
REPORT_STOP_HINT = "（やめるときは「やめる」、ほかの操作をするときは「中断」）"
REPORT_ASIDE_ASK = "報告の入力を中断しますか？書きかけの報告は30分残り、「報告」で続きから書けます。"
REPORT_ASIDE_DONE = "報告の入力を中断しました。書きかけの報告は30分残ります。「報告」で続きから書けます。"
REPORT_CONTINUE = "報告を続ける"
REPORT_ASIDE_TIMED_OUT = "中断していた報告は、30分たったため取り消しました（何も保存していません）。"
REPORT_RESUME_WHICH = "「続ける」か「新しく書く」を選んでください（「やめる」で書きかけの報告も消します）。"
PEER_REPORT_TYPES = ("ピアサポーターの方が書ける報告は「ピア活動」（活動報告）です。"
                     "例：「報告 ピア活動 サロンで体験を話した」")
PEER_NO_PLANS = "訪問計画と訪問予定は、スタッフとして登録された人だけが使えます。"
PEER_NO_CONSOLE = "管理画面は、スタッフとして登録された人だけが使えます。"


def report_resume_ask(what: str) -> str:
    return f"書きかけの報告があります（{what}）。続けますか？"


def report_next_missing(unread: str, reason: str) -> str:
    return (f"次回の日付が読み取れません：「{shorten(unread, 20)}」（{reason}）\n"
            "ほかの内容はそのまま残しています。次回だけ送ってください。例：「12/10 再訪」「12/10 14時 再訪」。"
            "なければ「なし」")


def case_reports(code: str, lines: list[str]) -> str:
    return f"{code} の報告：\n" + "\n".join(lines)


def case_reports_none(code: str, area: str | None) -> str:
    whose = f"{area}の報告" if area else "ご自身の報告"
    return f"{code} の報告は見つかりませんでした（{whose}を表示します）。"


# -- 計画終了 and 引継ぎ of a case's visit plans ---------------------------------------------------------
PLAN_REASONS = ("再入院", "転居", "支援終了", "その他")
PLAN_CLOSE_EXAMPLE = "例：「計画終了 K-012 再入院」"
PLAN_HANDOVER_EXAMPLE = "例：「引継ぎ K-012 佐藤」"
PLAN_STAFF_ONLY = "訪問計画の終了・引継ぎは、スタッフ・スーパーバイザー・管理者として登録された人だけが使えます。"
PLAN_NONE_TO_MANAGE = ("終了・引継ぎできる訪問計画はありません（自分が担当する計画、スーパーバイザーは地域の計画が対象です）。"
                       "「予定」で確かめられます。")
PLAN_UNCHANGED = "やめました。訪問計画は変えていません。"
HANDOVER_NO_ONE = "同じ地域に、引き継げる人（スタッフ・スーパーバイザー・管理者）が登録されていません。管理者に登録を頼んでください。"
HANDOVER_SAME_NAMES = ("同じ名前で登録された人が複数いて、区別できません。管理者に名前を分けてもらってください"
                       "（nimo users rename）。")


def close_which_case() -> str:
    return f"どのケースの訪問計画を終了しますか？ケースコードを押してください。{PLAN_CLOSE_EXAMPLE}"


def handover_which_case() -> str:
    return f"どのケースの訪問計画を引き継ぎますか？ケースコードを押してください。{PLAN_HANDOVER_EXAMPLE}"


def plan_not_yours(code: str) -> str:
    return (f"{code} の訪問計画で、あなたが終了・引継ぎできるものはありません。できるのは担当者と、"
            f"地域のスーパーバイザーです。「予定 {code}」で確かめられます。")


def close_why(code: str, unknown: bool) -> str:
    head = "その理由は選べません。" if unknown else ""
    return f"{head}{code} の訪問計画を終了する理由を選んでください（{'・'.join(PLAN_REASONS)}）。"


def plan_part(label: str, remaining: int, owner: str | None) -> str:
    """One plan in a read-back: 「退院後の訪問（残り2回）」, with its owner when not the reader's."""
    left = f"残り{remaining}回" if remaining else "残りの訪問なし"
    return f"{label}（{left}{f'、担当 {owner}さん' if owner else ''}）"


def confirm_close(code: str, parts: list[str], reason: str) -> str:
    return (f"{code} の{'と'.join(parts)}を終了します。よろしいですか？\n"
            f"理由：{reason}。残りの訪問はお知らせしなくなります。「はい」で終了、「いいえ」でやめます。")


def plan_closed(code: str, reason: str, cancelled: int) -> str:
    rest = f"残りの訪問{cancelled}回のお知らせは送りません。" if cancelled else ""
    return f"{code} の訪問計画を終了しました（理由：{reason}）。{rest}"


def plan_closed_notice(code: str, by: str, reason: str) -> str:
    return f"{code} の訪問計画を{by}さんが終了しました（理由：{reason}）。残りの訪問はお知らせしません。"


def plan_changed_meanwhile(code: str) -> str:
    return f"{code} の訪問計画は、すでに終了したか担当が変わっています。何も変えていません。「予定 {code}」で確かめてください。"


def handover_who(code: str) -> str:
    return f"{code} の訪問計画を誰に引き継ぎますか？同じ地域の人から選んでください。"


def handover_not_found(name: str, code: str) -> str:
    return f"「{shorten(name, 20)}」という人は同じ地域に登録されていません。{code} を引き継ぐ人を次から選んでください。"


def handover_ambiguous(name: str) -> str:
    return f"「{shorten(name, 20)}」に当てはまる人が複数います。次から選んでください。"


def handover_other_area(name: str, their_area: str, area: str) -> str:
    return (f"{name}さんは「{their_area}」の登録なので、引き継げません。訪問計画を引き継げるのは同じ地域"
            f"（{area}）の人です。")


def handover_not_staff(name: str) -> str:
    return f"{name}さんは訪問計画を受け持てません。引き継げるのはスタッフ・スーパーバイザー・管理者です。"


def handover_already(code: str, name: str) -> str:
    return f"{code} の訪問計画は、すでに{name}さんの担当です。"


def confirm_handover(code: str, parts: list[str], to: str, channel_kept: bool) -> str:
    where = "（チャンネルへのお知らせはそのチャンネルのままです）" if channel_kept else ""
    return (f"{code} の{'と'.join(parts)}を{to}さんに引き継ぎます。よろしいですか？\n"
            f"これからの訪問のお知らせは{to}さんに届きます{where}。「はい」で引き継ぎ、「いいえ」でやめます。")


def handed_over(code: str, to: str) -> str:
    return f"{code} の訪問計画を{to}さんに引き継ぎました。{to}さんにもお知らせします。"


def handover_notice(code: str, previous: str) -> str:
    return f"{code} の訪問計画を{previous}さんから引き継ぎました。訪問の予定は「予定 {code}」で見られます。"


def handover_notice_previous(code: str, by: str, to: str) -> str:
    return f"{code} の訪問計画を{by}さんが{to}さんに引き継ぎました。これからのお知らせは{to}さんに届きます。"


# -- a visit report that says the person was not met ------------------------------------------------
def visit_not_met(label: str) -> str:
    return f"会えなかった訪問として記録しました。訪問計画の「{label}」は未完了のままです（期間内にもう一度どうぞ）。"
# -- a person who leaves: deactivation and hand-over; delivery failures shown --------------------
SUCCESSOR_SELF = "引き継ぐ人には、登録を解除する本人以外を選んでください。"
REMOVE_CANCEL_AND_TO = "--to と --cancel はどちらか一方だけを指定してください。"


def successor_unknown(to: str) -> str:
    return f"引き継ぐ人（{to}）は登録されていません。nimo users list で確かめてください。"


def successor_other_platform(name: str, platform: str) -> str:
    return f"{name}さんは別の種類（{platform} 以外）の登録なので、引き継げません。同じ {platform} の人を選んでください。"


def open_work(name: str, work: dict) -> str:
    return (f"{name}さんには、訪問計画{work['plans']}件（残りの訪問{work['visits']}回）と"
            f"リマインダー{work['reminders']}件が残っています。登録を解除する前に、同じ地域の人に引き継ぐか、"
            "取り消すかを選んでください。\n"
            "・引き継ぐ：--to line:利用者ID\n"
            "・取り消す（記録に残ります）：--cancel")


def user_removed(name: str, work: dict, to: str | None) -> str:
    if to:
        return (f"{name}さんの登録を解除しました。訪問計画{work['plans']}件・リマインダー{work['reminders']}件を"
                f"{to}さんに引き継ぎました。")
    if any(work.values()):
        return (f"{name}さんの登録を解除しました。訪問計画{work['plans']}件・リマインダー{work['reminders']}件を"
                "取り消しました（記録に残っています）。")
    return f"{name}さんの登録を解除しました。これまでの報告は{name}さんの名前のまま残ります。"


def already_active(name: str) -> str:
    return f"{name}さんは登録中です（解除されていません）。"


def user_reactivated(name: str) -> str:
    return f"{name}さんの登録を元に戻しました。引き継いだ計画は、引き継いだ人の担当のままです。"


def delivery_failure(fail: dict | None) -> str:
    """``nimo status``'s line about the last failed delivery: where, what, and whether it goes on."""
    if not fail:
        return "なし"
    if "endpoint" not in fail:
        return f"{fail['platform']} {fail['at'][:19]}"
    status = fail["status"] if fail["status"] is not None else "応答なし"
    again = "再試行します" if fail["retried"] else "再試行しません"
    return (f"{fail['platform']} {fail['endpoint']} HTTP {status}（{fail['error']}、{fail['attempt']}回目、"
            f"{again}） {fail['at'][:19]}")
HANDOVER_CHOOSE = "残っている計画・リマインダーを引き継ぐ人を選ぶか、「取り消す」を選んでください。"


def removal_summary(name: str, work: dict) -> str:
    """The console's confirmation before a person is deactivated."""
    if any(work.values()):
        return (f"{name}さんには、訪問計画{work['plans']}件（残りの訪問{work['visits']}回）とリマインダー"
                f"{work['reminders']}件が残っています。同じ地域の人に引き継ぐか、取り消すかを選んでください。"
                "これまでの報告は名前のまま残り、あとで元に戻せます。")
    return f"{name}さんの登録を解除します。これまでの報告は名前のまま残り、あとで元に戻せます。"
REMOVED_MARK = "解除済み"
# -- access: invite codes, who may see an event or file a report for an area ----------------------
INVITE_SEEN_IN_GROUP = ("この招待コードは無効にしました。グループに貼ったコードは、だれでも使えてしまいます。"
                        "新しいコードを管理者からもらい、Nimo との1対1のトークで送ってください。")


def invite_revoked_notice(hint: str, role: str, area: str) -> str:
    return (f"招待コード {hint}（{area}・{role}）がグループに貼られたため、無効にしました。"
            "登録する人には、新しいコードを1対1で渡してください。")


def register_locked(until) -> str:
    return (f"招待コードの間違いが続いたため、しばらく受け付けません。{until.month}月{until.day}日 {until:%H:%M} "
            "以降にもう一度送ってください。")


def report_area_own(area: str) -> str:
    return f"報告の地域は、登録された地域（{area}）になります。ほかの地域の報告は、その地域の人に書いてもらってください。"


CONSOLE_LINK_PEER = "ピアサポーターには管理画面のリンクを作れません（管理画面はスタッフ・スーパーバイザー・管理者用です）。"
# the console's sign-in (bot/console/site.py)
LOGIN_ELSEWHERE = "このログインは受け付けられません。Nimo から届いたリンクを開き、そのページの「ログイン」を押してください。"
LOGIN_PRESS_AGAIN = "ページの有効期限が切れました。もう一度「ログイン」を押してください。"
# -- 医療の質問（薬・診断・治療・入院の判断）: Nimo gives no medical advice; it says so, says who
# answers (the attending doctor, a pharmacist, the 精神保健福祉センター) and offers the questions
# about organising care it can answer.
CLINICAL_DECLINED = (
    "薬・診断・治療・入院の判断についての助言は、Nimo ではお答えできません。\n"
    "ご本人の主治医か薬剤師に相談してください。迷うときは精神保健福祉センターにも相談できます。\n"
    "服薬支援や医療との連携など、地域での支え方の事例ならお答えできます。")
CLINICAL_ILLNESS = (
    "病気そのもの（症状・違い・原因・治し方など）の説明は、この事例集にはありません。\n"
    "病気のことは主治医に、一般的な相談は精神保健福祉センターにどうぞ。\n"
    "その病気のある人を地域でどう支えたかの事例ならお答えできます。")
CLINICAL_CARE_EXAMPLES = ("服薬支援の仕組み", "治療中断を防ぐ連携", "退院後の通院継続の支え方")
# -- uploads and the console's share of the web threads ---------------------------------------------
CONSOLE_BUSY = "混み合っています。少し待ってからもう一度お試しください。"
# A whole page, because the web process answers it before the console (Flask) is reached.
CONSOLE_BUSY_PAGE = ('<!doctype html><html lang="ja"><head><meta charset="utf-8">'
                     '<meta name="viewport" content="width=device-width,initial-scale=1">'
                     f"<title>混み合っています</title></head><body><p>{CONSOLE_BUSY}</p></body></html>")
PHOTO_TOO_MANY_PIXELS = "写真の画素数が多すぎます（4000万画素まで）。小さくしてから送ってください。"
CONSOLE_PHOTO_REFUSED = "この写真は確認できなかったため、表示しません（壊れているか、大きすぎます）。"
# -- the service's state: /readyz and nimo status say why Nimo is not ready -----------------------
STATUS_NO_WORKER = "worker が動いていません（応答の記録が古いか、ありません）。"
STATUS_NO_SCHEDULER = "スケジューラーを動かしているプロセスがありません。リマインドが送られません。"
# -- the chat as busy people type it: a finished reminder, and what was meant ---------------------
def postpone_closed(title: str, status: str, rid: int) -> str:
    """延期 of a reminder already done or cancelled: it stays as it is."""
    if status == "done":
        return f"「{title}」は完了済みのため延期できません。また必要なら「リマインド …」で登録してください。"
    return f"「{title}」は取り消し済みのため延期できません。戻すときは「元に戻す #{rid}」。"


def next_reminders_cancelled(ids: list[int], withdrawn: bool = False) -> str:
    """A report withdrawn, or its 「次回」 corrected: the reminder of the old 「次回」 is gone too."""
    numbers = "・".join(map(str, ids))
    return (f"次回のお知らせ（番号 {numbers}）も取り消しました。" if withdrawn
            else f"前の次回のお知らせ（番号 {numbers}）は取り消しました。")


def report_unchanged(num: str) -> str:
    return f"変更はありませんでした。{num} はそのままです。"


def month_end_once(month: int) -> str:
    """「月末」 read as the coming month-end only; the button 「毎月末にする」 makes it repeat."""
    return f"{month}月末の1回だけです。毎月なら「毎月末にする」。"


def report_of_type(rtype: str) -> str:
    """A report started from 「ピア活動の報告したい」: its type is taken, the date asked next."""
    return f"{rtype}の報告を書きます。"


# ヘルプ 報告 for a peer supporter: the one-message report of their own type (the staff line is a visit).
HELP_PEER_REPORT_LINE = "・報告 ピア活動 今日 交流会で体験を話した … 1通で"


# 「予定 K-012」 and 「予定 全体」: a visit whose window closed unmade, a plan ended, the terminal's area
VISIT_OVERDUE = "期限切れ"
NO_AREA = "地域未登録"


def case_plan_ended(code: str, label: str, day: str | None, reason: str | None) -> str:
    """「予定 K-012」 after 「計画終了 K-012」: the plan ended (when, and why), not 「見つかりません」."""
    when = f"{day}に" if day else ""
    why = f"（理由：{reason}）" if reason else ""
    return f"{code} の{label or '訪問計画'}は{when}終了しました{why}。これからの訪問予定はありません。"
# -- storage: a damaged or missing database, backup and restore, file permissions ------------------
RESTORE_HINT = "バックアップから戻すには、Nimo を止めて `nimo restore バックアップのファイル` を実行してください。"


def db_empty_file(path: str) -> str:
    return (f"データベース {path} が空（0バイト）です。{RESTORE_HINT}"
            "新しく始めるときだけ NIMO_NEW_DB=1 を付けて起動してください（空のファイルは別名で残します）。")


def db_not_sqlite(path: str) -> str:
    return (f"{path} は SQLite のデータベースではありません。NIMO_DB の場所を確かめてください。{RESTORE_HINT}"
            "新しく始めるときだけ NIMO_NEW_DB=1 を付けて起動してください（今のファイルは別名で残します）。")


def db_foreign(path: str) -> str:
    return (f"{path} は Nimo のデータベースではありません（別のアプリの表があります）。NIMO_DB の場所を確かめてください。"
            "新しく始めるときだけ NIMO_NEW_DB=1 を付けて起動してください（今のファイルは別名で残します）。")


def db_newer(path: str, version: int, known: int) -> str:
    return (f"{path} は新しい版の Nimo のデータベースです（版 {version}、この Nimo は {known} まで）。"
            "Nimo を新しい版にしてから起動してください。")


def db_damaged(path: str) -> str:
    return f"データベース {path} が壊れています。{RESTORE_HINT}"


def db_check_incomplete(seconds: float) -> str:
    return f"注意：データベースの検査は{seconds:.0f}秒で打ち切りました（ファイルが大きいため）。壊れていないことは確かめきれていません。"


def db_moved_aside(path: str, aside: str) -> str:
    return f"{path} を {aside} に移し、新しいデータベースを作りました。"


DB_DAMAGED_KEPT = ("いまシステムの不具合でお答えできません。送っていただいた内容は保存してあり、"
                   "復旧したら改めてお返事します。")


def backup_done(path: str, photos: int) -> str:
    return f"複製しました：{path}（写真 {photos}枚）"


def backup_exists(path: str) -> str:
    return f"{path} はもうあります。別の名前を指定してください。"


def backup_missing(path: str) -> str:
    return f"{path} がありません。ファイルの場所を確かめてください。"


def no_database(path: str) -> str:
    return f"データベース {path} がありません（NIMO_DB を確かめてください）。"


def restore_bad(path: str, why: str) -> str:
    return f"{path} は戻せません：{why}。何も変えていません。"


RESTORE_WORKER_ALIVE = ("Nimo（nimo worker）が動いています。止めてから戻してください。"
                        "止められないときだけ --force を付けてください（動いている間に書かれた分は失われます）。")


def restored(path: str, aside: str, photos: int, carried: int) -> str:
    return (f"{path} から戻しました（写真 {photos}枚）。それまでのデータベースは {aside} に残してあります。"
            + (f"まだ答えていなかったイベント {carried}件を引き継ぎました。" if carried else ""))


def file_mode_open(path: str, mode: int) -> str:
    return f"注意：{path} はほかの利用者も読めます（{mode:o}）。chmod 600（フォルダは 700）にしてください。"

DB_BUSY = "データベースがほかの処理に使われていて、書き込めませんでした。少し待ってから、もう一度実行してください。"
DB_FULL = "ディスクがいっぱいで、データベースに書き込めませんでした。空きを作ってから、もう一度実行してください。"


# -- /readyz and nimo status: why the database cannot be written ------------------------------------
STATUS_DATABASE = {
    "locked": "データベースがほかのプロセスにロックされていて、書き込めません",
    "disk full": "ディスクがいっぱいで、データベースに書き込めません",
    "low disk": "ディスクの空きが少なくなっています（64MB 未満）",
    "damaged": "データベースが壊れています（nimo restore でバックアップから戻してください）",
    "read-only": "データベースが読み取り専用で、書き込めません",
}


def status_database(reason: str) -> str:
    return STATUS_DATABASE.get(reason, f"データベースに書き込めません（{reason}）")


# -- the console's refusal pages: who may see the page, and a way back -------------------------------
CONSOLE_BACK_TO_TOP = "報告の一覧に戻る"
CONSOLE_OPEN_AGAIN = "ページを開き直す"
CONSOLE_REPORT_WHO = "報告を見られるのは、書いた本人と、その地域のスーパーバイザー、管理者です。"
CONSOLE_PROPOSAL_WHO = "事例提案は、その地域のスーパーバイザーと管理者が見られます。"


def console_who_can_see(labels: list[str]) -> str:
    """「このページはスーパーバイザーと管理者が見られます。」 from the roles a page is for."""
    names = "と".join(labels) if len(labels) <= 2 else "、".join(labels[:-1]) + "と" + labels[-1]
    return f"このページは{names}が見られます。"


# -- storage: the Japanese for what the database's checks, backups and restores report as codes ----
# (storage/ holds no words a person reads; these choose the sentence from its codes)
RESTORE_WHY = {"empty": "空のファイルです", "not_sqlite": "SQLite のファイルではありません",
               "foreign": "Nimo のデータベースではありません", "newer": "この Nimo より新しい版のデータベースです",
               "damaged": "壊れています", "not_nimo": "Nimo のデータベースではありません"}
DB_MEMORY_NO_FILE = "NIMO_DB が :memory:（メモリ上のデータベース）なので、ファイルとして複製したり戻したりできません。"
SERVE_NEEDS_FILE = ("nimo serve は web と worker の2つのプロセスで同じデータベースを開くため、"
                    "NIMO_DB に :memory: は使えません。ファイルのパスを指定してください。")


def db_problem(kind: str, path: str, version: int = 0, known: int = 0) -> str:
    """The sentence for a database file that cannot be opened (storage.files.DatabaseProblem)."""
    if kind == "newer":
        return db_newer(path, version, known)
    return {"empty": db_empty_file, "not_sqlite": db_not_sqlite, "foreign": db_foreign}.get(kind, db_damaged)(path)


def db_notice(kind: str, path: str, aside: str = "", seconds: float = 0.0) -> str:
    """The sentence for what the check of a usable file has to tell (storage.files.Notice)."""
    return db_moved_aside(path, aside) if kind == "moved_aside" else db_check_incomplete(seconds)


def backup_problem(code: str, path: str, why: str = "") -> str:
    """The sentence for a backup or restore that was not made (storage.backup.BackupError)."""
    if code == "bad":
        return restore_bad(path, RESTORE_WHY.get(why, why))
    if code == "worker_alive":
        return RESTORE_WORKER_ALIVE
    if code == "memory":
        return DB_MEMORY_NO_FILE
    return {"exists": backup_exists, "missing": backup_missing}.get(code, no_database)(path)
# -- a confirmation whose kind this version does not know (written by another version) --------------
CONFIRM_UNKNOWN = "この確認は受け付けられなくなりました。お手数ですが、もう一度はじめから送ってください。"
# -- settings: a value that cannot be used ----------------------------------------------------------
def setting_not_a_number(name: str, value: str) -> str:
    shown = value if len(value) <= 20 else value[:20] + "…"
    return f"{name} には 1 以上の整数を設定してください（いまの値：「{shown}」）。"


# -- platforms: nimo serve --check says whether each is on ------------------------------------------
def platform_on(label: str) -> str:
    return f"{label}: オン"


def platform_needs(label: str, names: str) -> str:
    return f"{label}: オフ（{names} が必要）"


def platform_off(label: str, why: str) -> str:
    return f"{label}: オフ（{why}）"
# How to call Nimo in a group, where a platform differs from the usual (LINE WORKS has no mention of a bot)
GROUP_HINTS = {"lineworks": LINEWORKS_GROUP_HINT}
