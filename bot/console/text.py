"""The console's own Japanese sentences (page titles and labels live in the templates).

Each mistake a person can make in the console has one clear sentence here, shown on the page
where it was made.
"""
from __future__ import annotations

from bot.messages import PLATFORM_NAMES

# sign-in
LINK_USED = "このリンクはもう使われています。リンクは1回しか使えません。"
LINK_EXPIRED = "このリンクは有効期限（10分）が切れています。"
LINK_UNKNOWN = "このリンクは使えません。途中で切れていないか確かめてください。"
LINK_AGAIN = "Nimo との1対1のトークで「管理画面」と送ると、新しいリンクが届きます。"
SIGNED_OUT = "ログアウトしました。"
SESSION_NEEDED = "管理画面を使うには、Nimo から届くリンクでログインしてください。"
FORBIDDEN = "このページを見る権限がありません。"
NOT_FOUND = "お探しのページは見つかりませんでした。"
CSRF_BAD = "フォームの有効期限が切れました。ページを開き直してから、もう一度操作してください。"
TOO_LARGE = "送られたデータが大きすぎます。ファイルは1MB までにしてください。"

# report filters
TOO_LONG_FILTER = "絞り込みの条件が長すぎます。100字以内にしてください。"
BAD_TYPE = "種類は一覧から選んでください。"
DATES_REVERSED = "「いつから」が「いつまで」より後になっています。日付を入れ替えてください。"
BAD_AUTHOR = "その報告者は選べません。一覧から選んでください。"
BAD_PAGE = "ページ番号は1以上の数字で指定してください。"
BAD_CASE_CODE = "ケースコードの形ではありません。K-034 のように入れてください。"


def bad_date(label: str) -> str:
    return f"「{label}」の日付が読めません。2026-11-24 の形で入れてください。"


def page_out_of_range(page: int, last: int) -> str:
    return f"{page}ページ目はありません（全{last}ページ）。1ページ目を表示しています。"


# cases
CASE_ADDED = "事例「{id}」を追加しました。チャットの答えにもすぐ出ます。"
CASE_WITHDRAWN = "事例「{id}」を取り下げました。チャットの答えにはもう出ません。"
CASE_NOT_LOCAL = "取り下げられるのは、この自治体で追加した事例（ローカル事例）だけです。"
NO_FILE = "ファイルを選んでください。"
FIELD_TOO_LONG = "{limit}字以内にしてください（いま{n}字）。"
NOT_A_NUMBER = "数字で入れてください。"
SEARCH_TOO_LONG = "検索の言葉は100字以内にしてください。"

# gaps
GAP_HANDLED = "「対応済み」にしました。同じ質問がまた来たら、一覧に戻ります。"

# users and invites
USER_SAVED = "利用者の設定を保存しました。"
USER_REMOVED = "利用者の登録を消しました。"
USER_NOT_FOUND = "その利用者は登録されていません。"
NOT_YOURSELF = "自分自身の権限の変更や削除はできません（別の管理者に頼んでください）。"
AREA_NEEDED = "地域を入れてください。"
AREA_TOO_LONG = "地域は50字以内にしてください。"
NAME_TOO_LONG = "表示名は50字以内にしてください。"
BAD_ROLE = "権限は一覧から選んでください。"
BAD_DAYS = "有効な日数は1〜90の数字で入れてください。"
INVITE_REVOKED = "招待コードを無効にしました。"
INVITE_NOT_REVOKED = "その招待コードは無効にできません（使用済み・期限切れ・見つからない）。"


def invite_made(code: str, area: str, role: str, days: int) -> str:
    return f"招待コード {code} を作りました（{area}・{role}、{days}日間有効、1回限り）。「登録 {code}」と送ってもらってください。コードはこの画面にしか表示されません（保存していません）。"

# case proposals
PROPOSAL_DECIDED = "この提案はもう公開または見送り済みです。"
REASON_NEEDED = "見送る理由を書いてください（提案した人にそのまま届きます）。"
REASON_TOO_LONG = "理由は500字以内にしてください。"
PROPOSAL_DONE = {"published": "公開しました。提案した人にチャットで知らせます。",
                 "declined": "見送りました。理由を提案した人にチャットで知らせます。"}

# the access log, read by an admin: what each recorded action means, and the names of its details
ACTION_LABELS = {
    "login": "ログイン",
    "view_reports": "報告一覧を見た",
    "view_report": "報告を開いた",
    "view_photo": "写真を見た",
    "download_csv": "CSV に書き出した",
    "download_xlsx": "Excel に書き出した",
    "view_visits": "訪問予定を見た",
    "user_remove": "利用者の登録を解除した",
    "user_restore": "利用者の登録を元に戻した",
    "user_update": "利用者の設定を変えた",
    "invite_create": "招待コードを作った",
    "invite_revoke": "招待コードを無効にした",
    "gap_handled": "未回答を対応済みにした",
    "add_case": "事例を追加した",
    "withdraw_case": "事例を取り下げた",
    "restore_case": "取り下げた事例を元に戻した",
    "decline_proposal": "事例提案を見送った",
    "publish_proposal": "事例提案を公開した",
}
DETAIL_LABELS = {"area": "地域", "type": "種類", "since": "いつから", "until": "いつまで", "author": "報告者",
                 "page": "ページ", "rows": "件数", "role": "権限", "days": "日数", "case": "事例", "photo": "写真",
                 "handover": "担当の仕事"}
DETAIL_WORDS = {"all": "条件なし", "form": "フォームから", "yaml": "YAML ファイルから",
                "gap": "答えられなかった質問", "down": "👎 の質問", "cancel": "取り消した",
                "colleague": "同僚に引き継いだ"}
PLATFORM_LABELS = PLATFORM_NAMES  # the one list of platforms' names, with the rest of the Japanese
WHO_UNKNOWN = "{platform} の利用者（登録なし）"

# cases: withdrawing and restoring, and the local-case form
CASE_RESTORED = "事例「{title}」を元に戻しました。チャットの答えにまた出ます。"
CASE_GONE = "この事例は取り下げた事例の一覧にありません（もう元に戻されたのかもしれません）。"
CASE_ID_TAKEN = "識別子「{id}」はいま別の事例が使っているため、元に戻せません。先にそちらを取り下げてください。"
ID_REFUSED = ("識別子は URL やファイル名に使うため、半角の英数字とハイフン（-）だけで40字以内にしてください"
              "（日本語や全角の文字は使えません）。")
ID_SUGGESTED = "たとえば「{id}」はまだ使われていません。"
PART_NAMES = {1: "構築推進事業の実施例", 2: "事例", 3: "研究より"}  # the guide's chapter 4, parts 1-3
FORM_LABELS = {"id": "識別子", "part": "ガイドの区分", "section": "事業区分", "title": "事例テーマ（事業名）",
               "area": "自治体名（圏域名）", "prefecture": "都道府県", "level": "自治体の種類", "population": "人口",
               "keywords": "キーワード", "appeal_points": "アピールポイント", "regional_challenges": "解決が必要な地域課題",
               "actions": "取組内容", "innovations": "体制づくりの工夫", "outcomes": "取組による効果",
               "points": "事業推進のポイント", "source": "出典"}
FORM_HINTS = {
    "id": "半角英数字とハイフン（例：chiba-2026-01）。あとから変えられません。",
    "part": "ガイド第4章のどの部分にあたるか。迷ったら「2 事例」。",
    "section": "例：2-(1) 住まいの確保",
    "title": "例：空き家を使った退院前の体験宿泊",
    "area": "例：千葉県千葉市",
    "prefecture": "例：千葉県",
    "level": "一覧から選んでください。",
    "population": "数字だけ（例：980000）。",
    "source": "どこから得た情報か（例：千葉市の取組（令和8年））",
}
LINES_HINT = "1行に1項目。"
REQUIRED_FIELD = "必須の項目がありません。ここに入れてください。"
