"""Every sentence Nimo says to a user, in one place, so that it can be reviewed and kept natural.

Functions, not templates, where a sentence depends on numbers or names.  Keep sentences short:
most people read them on a phone between visits.
"""
from __future__ import annotations

EXAMPLES = ("住まいの確保で困っている", "家族教室のやり方", "ピアサポーターの活用", "8050問題の相談", "千葉県の事例")

HELP = (
    "Nimo（にも）は、にも包括の他地域の取組事例を探してお答えします。\n"
    "\n"
    "■ 聞き方の例\n"
    "・住まいの確保で困っている。他の地域はどうした？\n"
    "・家族教室を始めたい\n"
    "・ピアサポーターの活用\n"
    "・アウトリーチを専門職を増やさずに始めたい\n"
    "・千葉県の事例／人口10万人以下の市町村／県の取組\n"
    "\n"
    "■ 答えのあとで\n"
    "・「詳しく 1」… 1番の事例の全文\n"
    "・「次」… 続きの3件\n"
    "・「似た事例」… 1番に近い取組（「似た事例 2」も可）\n"
    "・👍／👎 … 役に立ったかどうか（事例集の改善に使います）\n"
    "\n"
    "事例は厚生労働省の手引き 第4章 の25事例です。答えの文はすべて手引きの文そのままです。"
)

EMPTY = "質問を入力してください。\n例：「住まいの確保で困っている」「家族教室のやり方」"
NO_TEXT = "文字が読み取れませんでした。言葉で質問してください。\n例：「ピアサポーターの活用」"
NEXT_NONE = "これ以上の事例はありません。別の言葉で聞いてみてください。"
NOTHING_SHOWN = "まだ事例を表示していません。先に質問してください。\n例：「住まいの確保で困っている」"
THANKS_UP = "ありがとうございます。役に立ったと記録しました。"
THANKS_DOWN = "ありがとうございます。合わなかったと記録しました。事例集を直す手がかりにします。"
FOOTER = "「詳しく 1」で全文、「次」で続き、「似た事例」で近い取組を表示します。役に立ったら 👍、違ったら 👎 を。"


def too_long(n: int, limit: int) -> str:
    return f"質問が長すぎます（{n:,}字）。{limit:,}字以内で、知りたいことを短く書いてください。"


def no_match(filters: str | None = None) -> str:
    where = f"（条件：{filters}）" if filters else ""
    return (
        f"該当する事例が見つかりませんでした{where}。\n"
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
    "はじめまして、Nimo（にも）です。にも包括の他地域の取組事例を探してお答えします。\n"
    "例：「住まいの確保で困っている」「家族教室を始めたい」\n"
    "「ヘルプ」で使い方を表示します。"
)
GROUP_HINT = "グループでは「Nimo」への@メンションか、文頭に「にも」を付けて質問してください。例：にも 家族教室"
NON_TEXT = "Nimo は文字の質問にお答えします。知りたいことを言葉で送ってください。"


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
REPORT_TYPES = ("訪問", "電話", "同行受診", "会議・協議の場", "ピア活動", "その他")
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


# -- reports branch: a report set aside, one-line reports that keep the draft, 「報告一覧 K-012」,
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
