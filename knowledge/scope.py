"""Is a question one the case base can answer?  Decided from measured signals, not a word list alone.

For the people who use Nimo a confident wrong answer is worse than none: a question about a drug's
side effects, a benefit form, a law's text, pay or a phone number must not get three cases that
share a word with it (精神, 保健所, 申請).  Three signals, computed by knowledge.search:

- ``coverage``: the share of the question's words (its longest content units) that the case base
  has at all, itself, through a synonym group or as the correction of a typo.  「今日の天気」 has none.
- ``passage``: how well the best passage matches, against a passage that held every term of the
  question (the sum of their idf, a term the case base lacks counting as one no passage has).  An
  in-scope question, however it is worded, finds one passage that says much of it.
- ``illness``: the question asks what an illness *is* (「うつ病と双極性障害の違い」, 「統合失調症の症状」,
  「パニック障害の原因は？」): only the names of conditions and a word asking for their difference,
  symptoms, cause, features or definition.  The guide tells what areas did, never what a condition
  is, and cases that name the condition would be a confident wrong answer, so such a question is
  declined whatever its match.  A question that also says what to do (「統合失調症の人の退院支援」)
  is not of this kind.
- ``clinical``: the question asks for a clinical judgement about someone (their medicine, dose,
  side effects, diagnosis, treatment or admission: 「山田さんのリスパダール増やしていい？」); counted
  by knowledge.clinical as cues of the field less cues of organising care.  Nimo gives no medical
  advice, so such a question is declined whatever its match, with its own reason (``clinical``)
  and reply: the attending doctor or a pharmacist answers it.  A question about what an illness is
  is a question for them too and gets the same reason.
- ``offdomain``: words of other trades — prescribing and diagnosing, filling in forms, the text of
  laws, pay and leave, addresses and numbers, office equipment, dates, weather and leisure.  Such
  a word asks for something the case base does not hold (a case may mention a drug or a form in
  passing), so the question needs a much stronger match to be answered.

The thresholds below were chosen by k-fold cross-validation over every question file together with
the off-topic questions of tests/data/offtopic_questions.jsonl (benchmarks/bench_quality.py), with
an in-scope question declined weighing more than an off-topic one answered.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .clinical import CARE_WEIGHT, CLINICAL_THRESHOLD, is_clinical

MIN_COVERAGE = 0.2     # below it, most of what the question asks is unknown to the case base
MIN_PASSAGE = 0.1      # the weakest best-passage strength an in-scope question needs
MIN_PASSAGE_OFFDOMAIN = 0.9   # the same, for a question that uses a word of another trade

# Words of other trades, by kind: each asks for something a case of community care does not hold.
# Words that are also the field's own, or that a question about a case may well use (様式 and シート
# of a tool, 申請 of a service, アクセス to care, 電話 of a consultation, 記入 of a sheet, 異動 of a
# person in charge, 予約 of an outing), are left out on purpose.
OFFDOMAIN = {
    "medicines": """副作用 用量 用法 飲み合わせ 併用 処方 処方箋 錠剤 血中濃度 薬価 ジェネリック 後発医薬品 抗うつ薬
        抗精神病薬 睡眠薬 睡眠導入剤 抗不安薬 向精神薬 気分安定薬 漢方薬 減薬 断薬 離脱症状 投与量 添付文書 禁忌
        相互作用 注射 点滴 打ち方 リスペリドン オランザピン アリピプラゾール クエチアピン ハロペリドール リチウム
        バルプロ酸 ベンゾジアゼピン ssri snri 最大量""",
    "diagnosis": """診断基準 鑑別 鑑別診断 初期症状 症状チェック 検査 心理検査 知能検査 wais dsm icd 病態 予後 治療法
        治療薬 発症率 有病率 遺伝 チェック項目 診断名""",
    "forms": """申請書 申請用紙 書き方 記入例 記入方法 届出 届け出 必要書類 書類 提出期限 申請期限 押印 印鑑
        マイナンバー 証明書 診断書 認定調査票 年金 障害年金 傷病手当金 手当金 要介護認定 更新手続き""",
    "law": """条文 罰則 法改正 改正内容 判例 裁判 訴訟 弁護士 違法 合法 法的責任 損害賠償 施行日 何条""",
    "pay and leave": """給料 給与 年収 月給 時給 手取り 残業 残業代 賞与 ボーナス 有給 有給休暇 休暇 育休 産休 育児休業
        人事異動 昇進 昇給 退職金 採用試験 勤務表 出勤 欠勤 福利厚生 人事評価 労働時間 通勤手当 交通費
        旅費 精算 経費 年末調整 源泉徴収 給料表 診療報酬 ストレスチェック""",
    "addresses and numbers": """電話番号 番号 連絡先 住所 所在地 営業時間 診療時間 受付時間 面会時間 開庁時間 地図 行き方
        最寄り駅 駐車場 メールアドレス url ホームページ""",
    "office": """パスワード パソコン pc プリンター コピー機 紙詰まり wi-fi wifi エクセル ワード 会議室 プロジェクター
        名刺 郵便 送料 宅配 公用車 備品 文房具 レターパック 切手""",
    "calendar": """明日 昨日 明後日 来週 今週 先週 来月 今月 週末 何時""",
    "weather and leisure": """天気 天気予報 予報 雨 雪 台風 気温 晴れ ランチ 昼ごはん 昼食 夕食 飲み会 忘年会 新年会
        歓迎会 送別会 旅行 観光 時刻表 新幹線 電車 ニュース 占い 野球 映画 おすすめ""",
}
# The name of a condition: a word ending in 症, 病 or 障害 (統合失調症, うつ病, 双極性障害,
# アルコール依存症), not a person (精神障害者, 障害児) and not a longer word (症状, 病院, 病棟).
CONDITION = re.compile(r"(?:うつ|[一-龥ァ-ヴー]+)(?:症|病|障害|障がい)(?![一-龥ァ-ヴー])")
# What a question asks about a condition when it asks what the condition is (the words as
# knowledge.tokens.analyze gives them: 見分け方 → 見分ける, 治療法 → 治療 + 法).
DEFINING = frozenset("""病気 治す 治る 違い 症状 初期症状 原因 特徴 定義 意味 見分ける 診断 基準 診断基準 治療 法 治療法 経過 予後 種類
    遺伝 前兆 サイン 兆候 チェック 項目 チェック項目 なりやすい""".split())
_DEFINING_FORM = re.compile("とは|って(?:何|なに|どんな|どういう|どうやって)|治し方|なおし方")
_SUFFIX = re.compile(r".(剤|錠)$")  # a dosage form: 安定剤, 注射剤, 〜錠
_forms: dict[str, str] | None = None


def _lexicon() -> dict[str, str]:
    """Each word of OFFDOMAIN in the forms a question's analysis has (Sudachi's normalised form:
    抗うつ薬 → 抗鬱薬; a compound as its joined parts: 面会時間 → 面会+時間), mapped to the word."""
    global _forms
    if _forms is None:
        from .tokens import analyze, normalize
        forms = {}
        for w in (w for words in OFFDOMAIN.values() for w in words.split()):
            a = analyze(w)
            for f in {normalize(w), "".join(a.words), *(t.replace("+", "") for t in a.terms if "+" in t)}:
                if len(f) >= 2:
                    forms.setdefault(f, w)
        _forms = forms
    return _forms


@dataclass(frozen=True)
class Signals:
    coverage: float            # share of the question's words the case base has
    words: int                 # how many words the question has
    passage: float             # best passage against a perfect one, terms view
    grams: float               # the same, character n-gram view
    offdomain: tuple[str, ...] # words of other trades the case base does not use
    illness: bool = False      # asks what an illness is (see asks_what_illness_is)
    clinical: int = 0          # clinical cues (knowledge.clinical.counts; 0 without a medicine,
    care: int = 0              # diagnosis or treatment cue) and cues of organising care


def offdomain_words(words, terms) -> tuple[str, ...]:
    """The question's words of other trades, from its words and terms (see :func:`_lexicon`)."""
    forms = _lexicon()
    found = []
    for w in dict.fromkeys([*words, *terms, *(t.replace("+", "") for t in terms if "+" in t)]):
        hit = forms.get(w) or (w if _SUFFIX.search(w) else None)
        if hit and hit not in found:
            found.append(hit)
    return tuple(found)


def asks_what_illness_is(text: str) -> bool:
    """Does ``text`` (normalised) ask only what a condition is: its names, and nothing but a word
    of :data:`DEFINING` or a form such as 「〜とは」?"""
    if not CONDITION.search(text):
        return False
    from .tokens import analyze
    rest = CONDITION.sub("、", text)
    words = analyze(rest).words
    return set(words) <= DEFINING and bool(words or _DEFINING_FORM.search(rest))


def decline_reason(s: Signals, t) -> str | None:
    """Why the question is declined: ``clinical`` (a question for a doctor or pharmacist),
    ``out_of_scope`` (the case base does not hold it), or None when the cases should be shown
    (``t``: the thresholds, knowledge.search.Params)."""
    if s.illness or is_clinical(s.clinical, s.care, t.clinical_care, t.clinical_threshold):
        return "clinical"
    if s.words == 0 or s.coverage < t.min_coverage:
        return "out_of_scope"
    if s.offdomain and s.passage < t.min_passage_offdomain:
        return "out_of_scope"
    return None if s.passage >= t.min_passage else "out_of_scope"


def decide(s: Signals, t) -> bool:
    """True when the question is in scope and the cases should be shown."""
    return decline_reason(s, t) is None
