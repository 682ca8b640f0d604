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
    who = "スーパーバイザー" if role == "supervisor" else "スタッフ"
    return f"登録しました（地域：{area}／{who}）。質問をどうぞ。「ヘルプ」で使い方を表示します。"

ASK_PROMPT = "知りたいことを、そのまま送ってください。\n例：「住まいの確保で困っている」「家族教室を始めたい」「千葉県の事例」"
NOT_YET = {
    "予定": "予定（リマインド・訪問予定）の機能は準備中です。いまは事例の質問にお答えできます。",
    "報告": "報告の機能は準備中です。いまは事例の質問にお答えできます。",
}
