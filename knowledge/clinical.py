"""Does a question ask for a clinical judgement about someone?  Then Nimo must not answer it.

Nimo gives no medical advice.  A question about one person's medicine, its dose, an interaction, a
side effect, stopping it, a diagnosis, a treatment or whether to admit someone (「山田さんのリスパダール
増やしていい？」, 「この人は統合失調症？」, 「入院させるべき？」) is for the attending doctor or a
pharmacist; cases that share a word with it would look like an answer, and in mental health acting
on that is a risk to the person.  Questions about how areas organised care around medicine
(「服薬支援の仕組み」, 「治療中断を防ぐ連携」, 「措置入院者の退院後支援」) are the case base's own and are
answered.

The signal is a count of cues, each a word class of the field, so that a decision can be explained
by naming the cues it found:

- clinical cues (one point each): a medicine (a drug's brand or generic name, 睡眠薬, 頓服, LAI),
  a change or use of it (増やす, 減らす, 追加, やめる, 飲み忘れ, mg, 錠), its effects (副作用,
  飲み合わせ, お酒, 効く), a diagnosis of someone (a condition's name with この人, 〜かな, 診断),
  a treatment or admission choice (ECT, 入院させる, 主治医を変える), one person (山田さん, Aさん,
  この人, 利用者の母親), and a form asking for a judgement (〜していい？, 大丈夫？, 〜べき？).
- care cues (``care`` points each, subtracted): words of organising care (仕組み, 体制, 連携, 事例,
  地域, 取組, 会議, 支え方, 他の地域はどうしてる).

A question whose count reaches ``threshold`` is declined.  ``care`` and ``threshold`` were chosen by
k-fold cross-validation over tests/data/clinical_questions.jsonl, tests/data/care_questions.jsonl
and every other question file (benchmarks/bench_quality.py), a care or in-scope question declined
weighing more than a clinical one answered; of values equally good on the questions, the highest
threshold (the one that declines least) is kept.
"""
from __future__ import annotations

import re

from .tokens import normalize

CARE_WEIGHT = 1.5         # what one care cue takes off the count
CLINICAL_THRESHOLD = 2.0  # the count from which a question is declined

# Names of drugs as staff type them (brand and generic), in katakana: hiragana is read as katakana
# first, so 「りすぱだーる」 is リスパダール.
DRUGS = """リスパダール リスペリドン セロクエル クエチアピン ビプレッソ エビリファイ アリピプラゾール ジプレキサ
    オランザピン デパス エチゾラム レキサルティ ブレクスピプラゾール インヴェガ インベガ パリペリドン ゼプリオン ロナセン
    ブロナンセリン リーマス リチウム デパケン バルプロ ラミクタール ラモトリギン ハロペリドール セレネース
    クロザリル クロザピン コントミン レボトミン ヒルナミン ソラナックス ワイパックス リーゼ レキソタン
    レンドルミン マイスリー ハルシオン ロヒプノール サイレース ベルソムラ デエビゴ ロゼレム ルネスタ
    ジェイゾロフト パキシル レクサプロ サインバルタ リフレックス トリンテリックス イフェクサー ルボックス
    デプロメール ドグマチール コンサータ ストラテラ インチュニブ アキネトン シアナマイド ノックビン レグテクト
    アリドネ アリセプト メマリー""".split()
_DRUG = re.compile("|".join(DRUGS) + r"|炭酸リチウム|(?:睡眠|抗うつ|抗鬱|抗不安|抗精神病|抗酒|向精神|安定|精神|眠)(?:薬|剤)"
                   r"|[^服]薬|^薬|頓服|持効性注射|持続性注射|注射|lai|デポ|テープ|内用液|漢方")
_USE = re.compile(r"増や|減ら|増量|減量|追加|倍に|半分|変え|かえ|切り替|切りかえ|やめ|止め|断薬|減薬|再開|飲み忘|のみ忘"
                  r"|飲ませ|のませ|飲み続|のみつづ|飲んで|のんで|飲む|のむ|飲ん|何回|何mg|\d+(?:\.\d+)?(?:mg|ミリ|錠)|錠|量"
                  r"|出て|あげて|始める|はじめる|貼り忘|間隔|続け|つづけ|いつまで|何包|\d+包")
_EFFECT = re.compile(r"副作用|飲み合わせ|のみあわせ|併用|一緒に(?:飲|の)|いっしょに(?:飲|の)|お酒|酒|アルコール|眠気"
                     r"|震え|ふるえ|離脱|くせになる|癖になる|依存する|体重|太る|糖尿|腎臓|肝臓|妊娠|授乳|アカシジア|だるい"
                     r"|効く|効か|効果|効いて|きく\?|寝れる|眠れる|落ち着く")
_CONDITION = re.compile(r"(?:うつ|双極|統合失調|発達障害|認知症|躁|パニック|適応障害|境界性|人格障害|パーソナリティ障害"
                        r"|依存症|摂食障害|ptsd|adhd|自閉)")
_DIAGNOSE = re.compile(r"診断|可能性|だと思う|だよね|ですか|かな|じゃない|っぽい|疑い|どんな病気|どういう病気|病名"
                       r"|治す|治し|治る|なおす|なおる")
_TREATMENT = re.compile(r"ect|電気けいれん|電気痙攣|修正型|入院させ|入院に(?:すべき|した|する)|入院(?:が|は)?必要|入院した方"
                        r"|入院したほう|入院(?:に)?なる\?|措置(?:に|入院に)(?:すべき|した|する)|医療保護入院に|主治医(?:を)?変え|病院(?:を)?変え"
                        r"|転院|治療(?:法)?(?:を)?変え|どっちが効|どれが効")
_PERSON = re.compile(r"[一-龥ァ-ヴー]{1,4}(?:さん|様|さま|くん|ちゃん)|[a-z](?:さん|氏)|この人|あの人|その人|本人|利用者"
                     r"|母親|父親|お母さん|お父さん|息子|娘|妻が|夫が|旦那|奥さん")
_ASK = re.compile(r"(?:て|で)も?(?:いい|良い|よい|ok|大丈夫|平気)|していい|いいの|いいか|大丈夫|平気|べき|ほうがいい"
                  r"|方がいい|ほうが良|方が良|どっち|どれが|効く|まずい|危ない|あぶない|ok\??$|必要\?|必要か|ですか\??$"
                  r"|どうしたら|どうする|判断|思う\?|かな|だよね|何に|なる\?|多い\?|多すぎ|強いの|何mg|いい\?$")
_CARE = re.compile(r"仕組み|しくみ|体制|連携|事例|例$|例を|例は|した例|取組|取り組|地域|自治体|市町村|圏域|保健所が"
                   r"|会議|協議|ネットワーク|チーム|支え方|支える|支援体制|支援の|フォロー|教室|家族会|計画|構築|作った|つくった"
                   r"|どうしてる|他の|ほかの|研修|者の|者へ|者を|者に|人への|人を支")
CUES = {"drug": _DRUG, "use": _USE, "effect": _EFFECT, "treatment": _TREATMENT, "person": _PERSON, "ask": _ASK}


def _katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def cues(text: str) -> tuple[tuple[str, ...], int]:
    """The clinical cues of ``text`` (their class names) and how many care cues it has."""
    t = re.sub(r"\?+", "?", normalize(text).replace(" ", ""))  # NFKC has made ？ a ?
    k = _katakana(t)
    found = [name for name, rx in CUES.items() if rx.search(k if name == "drug" else t)]
    if _CONDITION.search(t) and _DIAGNOSE.search(t):
        found.append("diagnosis")
    return tuple(found), len(_CARE.findall(t))


def counts(text: str) -> tuple[int, int]:
    """(clinical cues, care cues) of ``text``: what :func:`is_clinical` weighs.  A question
    with no medicine, diagnosis or treatment cue counts 0 clinical cues whatever else it says."""
    found, ncare = cues(text)
    if not {"drug", "diagnosis", "treatment"} & set(found):
        return 0, ncare
    return len(found), ncare


def is_clinical(clinical: int, care: int, care_weight: float = CARE_WEIGHT,
                threshold: float = CLINICAL_THRESHOLD) -> bool:
    """Is a question with these counts one for a doctor or pharmacist?"""
    return clinical > 0 and clinical - care_weight * care >= threshold
