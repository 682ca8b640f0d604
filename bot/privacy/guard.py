"""Personal data in a field report: find it, name it for a warning, and mask it on request.

Staff write reports on their phones, in Japanese, with case codes (K-012) standing in for names.
This module looks for what should not be stored unless it is really meant:

* ``name``      a person's name with an honorific (田中さん, 佐藤様, タナカさん, 花子ちゃん, 田中 太郎さん)
* ``phone``     Japanese phone numbers (090-1234-5678, 03(1234)5678, +81 90-1234-5678, ０９０…)
* ``email``     e-mail addresses
* ``address``   postal codes (〒123-4567) and street addresses (船橋市本町2-1-1, 中央4丁目5番1号)
* ``number12``  a run of exactly 12 digits (a My Number), also written 1234 5678 9012
* ``birthdate`` a date that is marked as a birth date (生年月日…, …生まれ, S25.1.2生, 誕生日は3月5日)

Matching runs on an NFKC-normalised copy of the text (full-width digits and letters become ASCII,
dashes between digits become "-"), and every finding is reported with offsets into the ORIGINAL
string, so ``text[f.start:f.end] == f.text`` always holds.

Field notes are full of role and kinship words used with さん (本人さん, お母さん, ケアマネさん,
相談員さん, 包括さん …); those are not names and are not flagged.  Detection is heuristic: it is
tuned to warn about real names without nagging on every ordinary report.

Standard library only.
"""
from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Finding", "KIND_LABELS", "find", "mask", "describe"]


@dataclass(frozen=True)
class Finding:
    kind: str   # "name", "phone", "email", "address", "number12", "birthdate"
    text: str   # the matched text as it appears in the input
    start: int  # offsets into the original input string
    end: int


KIND_LABELS = {"name": "名前", "phone": "電話番号", "email": "メールアドレス", "address": "住所",
               "number12": "12桁の番号", "birthdate": "生年月日"}

_MASKS = {"phone": "***-****-****", "email": "***@***", "address": "（住所）",
          "number12": "*" * 12, "birthdate": "（生年月日）"}
NAME_MASK = "〇〇"

# When two findings overlap, the longer one wins; on equal length, the more specific kind.
_PRIORITY = {"email": 6, "phone": 5, "number12": 4, "address": 3, "birthdate": 2, "name": 1}


# --- normalisation with an offset map --------------------------------------------------------------

_DASHES = "-‐‑‒–—―−﹣－"
_LONG_VOWELS = "ーｰ"   # typed by Japanese IMEs in phone numbers: 090ー1234ー5678


# Characters that NFKC leaves as they are, alone and next to each other, and that carry no combining
# mark: most of a Japanese text.  Runs of them are copied as they are (tests check the claim).
SIMPLE_CHARS = "\t\n\x20-\x7e\u3001\u3002\u3005\u3006\u300c\u300d\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fb-\u30fe\u4e00-\u9fff"
_SIMPLE_RUN = re.compile(f"[{SIMPLE_CHARS}]+")
_DASH_TABLE = str.maketrans(dict.fromkeys(_DASHES, "-"))
_VOWEL_DASH = re.compile(f"(?<=[0-9])[{_LONG_VOWELS}](?=[0-9])")
_MARKS_MAX = 30   # combining marks kept with one base character; NFKC of a longer run costs its square


class _Norm:
    """An NFKC copy of a text, each character remembering the span of the original it came from.

    Runs of SIMPLE_CHARS are copied in one step; only the rest is normalised one character (with its
    combining marks, at most _MARKS_MAX of them) at a time, so a long text costs little more than a
    copy of it."""

    def __init__(self, text: str):
        chars: list[str] = []
        starts: list[int] = []   # for each character of the copy, the span of the original
        ends: list[int] = []
        n, done = len(text), 0
        for run in _SIMPLE_RUN.finditer(text):
            a, b = run.span()
            if b < n and _joins(text[b]):
                b -= 1   # the last character belongs with the marks after it (ｶﾞ → ガ)
            self._each(text, done, a, chars, starts, ends)
            chars.append(text[a:b])
            starts.extend(range(a, b))
            ends.extend(range(a + 1, b + 1))
            done = max(a, b)
        self._each(text, done, n, chars, starts, ends)
        # dashes: one "-" for all; a long-vowel mark between digits is a dash too
        self.s = _VOWEL_DASH.sub("-", "".join(chars).translate(_DASH_TABLE))
        self.starts, self.ends = starts, ends

    @staticmethod
    def _each(text: str, i: int, stop: int, chars: list[str], starts: list[int], ends: list[int]) -> None:
        """Normalise text[i:stop] one character (with its combining marks) at a time."""
        stretch = text[i:stop]
        if not stretch:
            return
        if not any(bytes(map(unicodedata.combining, stretch))) and "\uff9e" not in stretch and "\uff9f" not in stretch:
            norms = [_nfkc_char(c) for c in stretch]   # no marks: each character on its own
            chars.extend(norms)
            if sum(map(len, norms)) == len(stretch):
                starts.extend(range(i, stop))
                ends.extend(range(i + 1, stop + 1))
            else:
                for k, norm in enumerate(norms, i):
                    starts.extend([k] * len(norm))
                    ends.extend([k + 1] * len(norm))
            return
        n = len(text)
        while i < stop:
            j = i + 1
            # keep a base character together with its combining marks (ｶﾞ → ガ)
            while j < n and j - i <= _MARKS_MAX and _joins(text[j]):
                j += 1
            seg = text[i:j]
            norm = _nfkc_segment(seg)
            chars.append(norm)
            starts.extend([i] * len(norm))
            ends.extend([j] * len(norm))
            i = j

    def orig(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end - 1]


def _nfkc_segment(seg: str) -> str:
    norm = unicodedata.normalize("NFKC", seg)
    if norm != seg and any(c.isdigit() for c in norm) and not all(_is_decimal(c) or not c.isdigit() for c in seg):
        return seg   # ① ² ½ …: do not turn them into digits that merge with their neighbours
    return norm


_nfkc_char = functools.lru_cache(maxsize=4096)(_nfkc_segment)


def _joins(c: str) -> bool:
    """A combining mark, or a half-width voicing mark: it belongs to the character before it."""
    return bool(unicodedata.combining(c)) or c in "\uff9e\uff9f"


def _is_decimal(c: str) -> bool:
    try:
        unicodedata.decimal(c)
        return True
    except ValueError:
        return False


# --- character classes ------------------------------------------------------------------------------

_K = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆"     # kanji
_KATA = "ァ-ヺーヽヾ"                                    # katakana (NFKC makes half-width full-width)
_HIRA = "ぁ-ゖゝゞ"


# Called for every honorific of a text: compiled once, matched directly.
_is_kanji = re.compile(f"[{_K}]").match
_is_kata = re.compile(f"[{_KATA}]").match
_is_hira = re.compile(f"[{_HIRA}]").match
_is_ascii_alpha = re.compile("[A-Za-z]").match
# a run of such characters that ends where the search stops (``endpos``)
_RUN_OF = {_is_kanji: re.compile(f"[{_K}]+\\Z"), _is_kata: re.compile(f"[{_KATA}]+\\Z"),
           _is_hira: re.compile(f"[{_HIRA}]+\\Z"), _is_ascii_alpha: re.compile("[A-Za-z]+\\Z")}


# --- e-mail --------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")


def _emails(s: str):
    for m in _EMAIL.finditer(s):
        yield "email", m.start(), m.end()


# --- phone numbers -------------------------------------------------------------------------------

_SEP = r"(?:\s?-\s?|\s)"
_AREA = r"0[1-9]\d{0,3}"
_PHONE = re.compile(rf"""
    (?<![0-9+])(?<![A-Za-z]-)
    (?:
        \({_AREA}\)\s?\d{{1,4}}{_SEP}?\d{{3,4}}          # (03)1234-5678
      | {_AREA}\s?\(\d{{1,4}}\)\s?\d{{3,4}}              # 03(1234)5678
      | {_AREA}{_SEP}\d{{1,4}}{_SEP}\d{{3,4}}            # 090-1234-5678, 090 1234 5678
      | {_AREA}{_SEP}\d{{6,8}}                           # 03-12345678
      | 0[1-9]\d{{8,9}}                                  # 09012345678
    )
    (?!\d)(?!\s?-\s?\d)
""", re.X)
_PHONE_INTL = re.compile(rf"""
    \+\s?81[\s\-]?(?:\(0\)\s?)?
    (?:
        [1-9]\d{{0,3}}{_SEP}\d{{1,4}}{_SEP}\d{{3,4}}
      | [1-9]\d{{0,3}}{_SEP}\d{{6,8}}
      | [1-9]\d{{8,9}}
    )
    (?!\d)(?!\s?-\s?\d)
""", re.X)


def _phones(s: str):
    for m in _PHONE.finditer(s):
        if len(re.sub(r"\D", "", m.group())) in (10, 11):
            yield "phone", m.start(), m.end()
    for m in _PHONE_INTL.finditer(s):
        national = re.sub(r"\D", "", m.group().replace("(0)", ""))[2:]   # drop the 81
        if len(national) in (9, 10):
            yield "phone", m.start(), m.end()


# --- 12-digit numbers ----------------------------------------------------------------------------

_NUMBER12 = re.compile(r"(?<!\d)(?<!\d[\s\-])\d{4}([\s\-]?)\d{4}\1\d{4}(?!\d)(?![\s\-]\d)")


def _numbers12(s: str):
    for m in _NUMBER12.finditer(s):
        yield "number12", m.start(), m.end()


# --- birth dates ---------------------------------------------------------------------------------

_N = r"(?:\d{1,2}|[〇一二三四五六七八九十]{1,3})"
_MD_SEP = r"(?:/\d{1,2}/\d{1,2}|\.\d{1,2}\.\d{1,2}|-\d{1,2}-\d{1,2})(?!\d)"   # 1/2, .1.2, -1-2
_YMD_WEST = rf"(?<!\d)(?:18|19|20)\d{{2}}\s?(?:年\s?{_N}\s?月\s?{_N}\s?日|{_MD_SEP})"
_YMD_ERA = (rf"(?:明治|大正|昭和|平成|令和|[明大昭平令])\s?(?:{_N}|元)\s?"
            rf"(?:年\s?{_N}\s?月\s?{_N}\s?日|{_MD_SEP})")
_YMD_ABBR = (rf"(?<![A-Za-z])[MTSHRmtshr]\s?(?:\d{{1,2}}|元)"
             rf"(?:年\s?\d{{1,2}}\s?月\s?\d{{1,2}}\s?日|{_MD_SEP})")
_MD = r"(?<!\d)(?:\d{1,2}\s?月\s?\d{1,2}\s?日|\d{1,2}/\d{1,2}(?![\d/]))"
_DATE = rf"(?:{_YMD_WEST}|{_YMD_ERA}|{_YMD_ABBR}|{_MD})"
# possessive white space: what follows it never starts with white space, and a greedy run followed by
# another one backtracks over every way of splitting the run (the square of its length)
_BIRTH_BEFORE = r"(?:生年月日|誕生日|出生日|生年|DOB|D\.O\.B\.?)\s*+(?:(?:[:=]|は|が|も)\s*+)?(?:\((?:西暦|和暦)\)\s*+)?"
# 「生」 alone after a date marks a birth date, unless it starts another word (生活, 生保 …)
_BIRTH_AFTER = r"\s?(?:生まれ|生れ|産まれ|誕生|生(?![活徒協計存命涯産保理育成物態前後地家薬鮮花き]))"
_BIRTH = re.compile(rf"{_BIRTH_BEFORE}{_DATE}(?:{_BIRTH_AFTER})?|{_DATE}{_BIRTH_AFTER}")


def _birthdates(s: str):
    for m in _BIRTH.finditer(s):
        yield "birthdate", m.start(), m.end()


# --- addresses -----------------------------------------------------------------------------------

_PREFECTURES = (
    "北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 東京都 神奈川県 "
    "新潟県 富山県 石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県 滋賀県 京都府 大阪府 兵庫県 "
    "奈良県 和歌山県 鳥取県 島根県 岡山県 広島県 山口県 徳島県 香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 "
    "熊本県 大分県 宮崎県 鹿児島県 沖縄県").split()
# municipalities whose names are (partly) in hiragana, which the kanji scan would cut short
_KANA_CITIES = sorted((
    "さいたま つくばみらい つくば いわき ひたちなか みどり あきる かすみがうら うきは えびの いちき "
    "みやま 南あわじ 伊豆の むつ つがる かほく あま みよし たつの さぬき いすみ せたな むかわ "
    "ときがわ みなかみ いの").split(), key=len, reverse=True)
_PREF_RE = re.compile("|".join(_PREFECTURES))
_MUNI_RE = re.compile(rf"[{_K}{_KATA}ヶケ]{{1,6}}?[市区町村郡](?!分|域|間|別|民|場|販|立|営|議|長|役|内|外)")
_ADDRESS_LEADS = sorted("住所 現住所 新住所 旧住所 自宅 本人宅 実家 宅 居所 住居 転居先 所在地 在住".split(),
                        key=len, reverse=True)
_NUM = r"\d{1,5}"
_KNUM = r"[一二三四五六七八九十]{1,3}"
_BLOCK = re.compile(rf"""
    (?<!\d)(?<!\d-)(?<![一二三四五六七八九十])
    (?:
        (?:{_NUM}|{_KNUM})丁目(?:\s?{_NUM}(?:番地?|-)?(?:\s?{_NUM}号?)?)?
      | {_NUM}番地(?:の?{_NUM}号?)?
      | {_NUM}番{_NUM}号?
      | {_NUM}(?:-{_NUM}){{1,3}}
    )
    (?!\d)(?!-\d)(?![件人回名時分秒歳代月日年倍点枚本個台週%]|か所|ヶ所|カ所|箇所)
""", re.X)
_POSTAL = re.compile(r"〒\s?\d{3}-?\d{4}(?!\d)|(?<=郵便番号)\s*+(?:(?::|は)\s*+)?\d{3}-?\d{4}(?!\d)")
_ADDR_CHARS = re.compile(f"[{_K}{_KATA}ヶケノ0-9]")


_ADDRESS_LEAD_SET = set(_ADDRESS_LEADS)
_ADDRESS_LEAD_MAX = max(map(len, _ADDRESS_LEADS))
_KANA_CITY_FIRST = {k[0] for k in _KANA_CITIES}


def _address_lead(window: str) -> int:
    """The length of the longest of _ADDRESS_LEADS that starts ``window`` and leaves something after it."""
    for k in range(min(_ADDRESS_LEAD_MAX, len(window) - 1), 0, -1):
        if window[:k] in _ADDRESS_LEAD_SET:
            return k
    return 0


def _addresses(s: str):
    found: list[tuple[int, int]] = []
    for m in _BLOCK.finditer(s):
        b = m.start()
        j = b - 1 if b > 0 and s[b - 1] == " " else b
        w = j
        while True:
            while w > 0 and j - w < 40 and (_ADDR_CHARS.match(s[w - 1])
                                             or (w > 1 and s[w - 1] == "る" and s[w - 2] in "上下入")):
                w -= 1   # 北1条西2丁目; 京都の「御池上る」
            kana = s[w] in "市町村" and next((k for k in _KANA_CITIES if w >= len(k) and s[w - len(k):w] == k), None)
            if not kana:
                break
            w -= len(kana)   # さいたま市…: the scan stopped at the kana; go on in front of it
        window = s[w:j]
        while k := _address_lead(window):
            window, w = window[k:], w + k
        kana_city = window[:1] in _KANA_CITY_FIRST and any(
            window.startswith(k) and window[len(k):len(k) + 1] in ("市", "町", "村") for k in _KANA_CITIES)
        p = _PREF_RE.search(window)
        if p:
            start = w + p.start()
        else:
            mu = _MUNI_RE.search(window)
            if not mu and not kana_city:
                continue
            start = w if kana_city else w + mu.start()
        found.append((start, m.end()))
    postal = [(m.start() + len(m.group()) - len(m.group().lstrip(" :は")), m.end())
              for m in _POSTAL.finditer(s)]
    # 〒123-4567 東京都… is one address: the first address (in the order found) that starts after
    # the postal code with only white space between.  The white space after one postal code ends
    # before the next one starts, so each address is looked at for one postal code at most.
    by_start: dict[int, list[int]] = {}
    for idx, (a, _) in enumerate(found):
        by_start.setdefault(a, []).append(idx)
    used: set[int] = set()
    merged = []
    for ps, pe in postal:
        ws = pe
        while ws < len(s) and s[ws].isspace():
            ws += 1
        near = [idx for at in range(pe, ws + 1) for idx in by_start.get(at, ()) if idx not in used]
        if near:
            used.add(min(near))
            merged.append((ps, found[min(near)][1]))
        else:
            merged.append((ps, pe))
    for a, b in [f for idx, f in enumerate(found) if idx not in used] + merged:
        yield "address", a, b


# --- names -------------------------------------------------------------------------------------

# the honorific, and what must not follow it for it to be one (様子, 氏名, ちゃんこ, さんぽ …)
_HONORIFIC = re.compile(r"""
      ちゃん(?!こ|ぽん|ばら)
    | さん(?!ぽ|ぼ|ま(?!で)|ざん|せい|すう|かく|ぷる|らん|ばし|そ)
    | さま(?!ざま|よ|たげ|す|し|せ|さ)
    | くん(?!だ|です|でしょ|じゃ|なら)
    | 様(?!子|々|式|相|態|な|に|で|だ|変|化|似)
    | 氏(?!名|族|家|神|子)
    | 君(?!子|主|臨|たち|達|ら|が代|江|代|枝|香|恵|夫|雄|彦|島|塚)
""", re.X)
_HONORIFICS = ("ちゃん", "さん", "さま", "くん", "様", "氏", "君")

# Role, kinship and organisation words: 「○○さん」 with these is not a name.
# A run of kanji is a role when it IS one of _ROLE_EXACT, or ENDS with one of _ROLE_WORDS or a
# character of _ROLE_SUFFIX_CHARS (相談員, 看護師, 福祉士, 支援者, 係長, 事業所, 病院, 不動産屋 …).
_ROLE_EXACT = set("""
    子 夫 奥 赤 彼 皆 客 宅 隣 市 町 村 王 神 仏 殿 若 姫 諸 貴 細 暴 名 幼 某 両 同 各 他 無 多 模 仕 異 一 有
    文 今 坊 嬢 孫 嫁 婿 甥 姪 旦那 息子 子供 家内 身内 内縁 主人 本人 当人 他人 友人 知人 恋人 隣人 住人 家人
    元夫 前夫 亡夫 先夫 皆様 上記 前記 当該 同上
""".split())
_ROLE_WORDS = sorted(set("""
    本人 当人 主人 他人 友人 知人 恋人 隣人 住人 家人 同居人 管理人 後見人 保佐人 補助人 保証人 代理人
    世話人 仲人 一人 二人 三人 老人 大人 病人 外国人 職人 役人 証人 婦人 夫人 美人 素人 玄人 新人 別人
    故人 個人 法人 求人 芸能人 家族 親族 親戚 兄弟 姉妹 息子 子供 旦那 家内 身内 内縁 彼女 彼氏 相方 相棒
    長男 次男 三男 長女 次女 三女 女将 袋 親御 仲間 友達 同僚 上司 部下 先輩 後輩 近所 隣 客 孫 嫁 婿
    学生 先生 実習生 研修生 同級生 高校生 中学生 小学生 大学生 留学生 生徒 園児 児童
    包括 社協 生保 地活 訪看 訪介 訪問看護 行政 警察 消防 機関 関係機関 医療機関 施設 病棟 外来 窓口 受付
    担当 事務 福祉 保健 障害 高齢 医事 医療 介護 看護 相談支援 計画相談 就労 作業 地域 基幹 不動産 銀行
    年金 役場 民生 主任 苦労 世話 馳走 愁傷 陰 神 仏 王 殿 奥 皆 諸 猫 犬 代表 保護司 宅配 配達 配食 弁当
    児相 先方 相手方 当方 双方 常連 運送 引越 清掃 電気 水道 新聞 郵便 牛乳 宅急便 救急 主治医
""".split()), key=len, reverse=True)
_ROLE_SUFFIX_CHARS = set("員師士者係長医官手工職所院屋課局室園会社協館寮校部科業組団隊家族主母父兄姉弟妹妻娘"
                         "孫嫁婿甥姪嬢坊婦女親店堂庁署省府県区")
_KATA_ROLES = sorted(set("""
    ピア ケアマネ ケアマネジャー ケアマネージャー ワーカー ケースワーカー ソーシャルワーカー ヘルパー スタッフ
    サポーター ピアサポーター ボランティア ドクター ナース センター ステーション クリニック ホーム ショップ
    コンビニ カウンセラー コーディネーター マネージャー マネジャー リーダー オーナー ドライバー トレーナー ママ
    パパ ワン ニャン ネコ イヌ ワンコ オバ オジ バア ジイ メンバー ケア デイ デイケア ショートステイ ファン
    ゲスト ユーザー クライアント パート バイト パートナー ワーク ハローワーク グループホーム ナイトケア
    ソーシャル オフィス サービス チーム ホスト ファミリー ベビー キッズ シスター ブラザー マスター
    ヤクルト ガス エアコン ショップ スーパー ポリス ベテラン ショート
""".split()), key=len, reverse=True)
_HIRA_ROLES = set("""
    たく みな みんな おかあ かあ おとう とう おにい にい おねえ ねえ おばあ ばあ おじい じい おば おじ
    おく あか おじょう じょう ぼっ ぼう ごくろう くろう おつかれ つかれ ごちそう ちそう おかげ かげ
    おたがい たがい ごしゅうしょう おきのどく きのどく おせわ せわ おまちどお おまちどう かみ ほとけ
    おひ ひ おつき おほし おいなり おてんと おてんとう おかみ おやご おこ こ おまわり まわり おいしゃ
    おきゃく きゃく おとなり となり ごきんじょ きんじょ おはよう おおきに おかえり おひとり おふくろ
    ふくろ おやじ やじ あちら そちら こちら どちら おたく ども こども いとこ まご むすこ むすめ よめ
    ぼっちゃ ねこ いぬ わん わんこ にゃん うさ くま ぞう おさる さる おうじ おひめ ひめ だんな
    いっぱい なに どなた あなた おれ おう との あん おまえ あんた かんごし ほけんし はいしゃ ぎょう
    おふたり ふたり ひとり おっ ちび
""".split())
# a longer kana run ending in these is an ordinary phrase: とてもたくさん, いつもみなさん
_HIRA_ROLE_ENDS = ("たく", "みな", "みんな", "かあ", "にい", "ねえ", "ばあ", "じい", "ちそう", "くろう", "つかれ",
                   "かげ", "たがい", "せわ", "きのどく")
_ASCII_ROLES = {"dr", "ns", "psw", "msw", "cw", "sw", "cm", "ot", "pt", "st", "staff", "nurse", "doctor",
                "helper", "mr", "ms", "mrs", "miss", "san", "chan", "kun"}

# Common surnames: used to find where a name starts inside a longer run of kanji (本日田中さん),
# to join 「田中 太郎さん」, and to keep the name in 「田中看護師さん」.
_SURNAMES = set("""
    佐藤 鈴木 高橋 田中 伊藤 渡辺 渡部 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 清水 林
    斎藤 斉藤 山崎 阿部 森 池田 橋本 山下 石川 中島 前田 藤田 後藤 小川 岡田 村上 長谷川 近藤 石井 坂本
    遠藤 青木 藤井 西村 福田 太田 三浦 藤原 岡本 松田 中川 中野 原田 小野 田村 竹内 金子 和田 中山 石田
    上田 森田 小島 柴田 原 宮崎 酒井 工藤 横山 宮本 内田 高木 安藤 島田 谷口 大野 高田 丸山 今井 河野
    藤本 村田 武田 上野 杉山 増田 小山 大塚 平野 菅原 久保 松井 千葉 岩崎 桜井 木下 野口 松尾 菊地 菊池
    野村 新井 渡部 佐野 杉本 古川 大西 市川 五十嵐 小松 水野 浅野 北村 平田 東 松岡 川口 大橋 荒木 飯田
    辻 関 本田 須藤 西田 中西 吉川 岩田 小池 高野 熊谷 桑原 樋口 秋山 小田 永井 中田 中尾 川村 安田
    内藤 堀 福島 矢野 星野 大久保 田口 大川 堀内 望月 吉村 片山 小西 西川 岡崎 吉岡 岩本 宮田 土屋 服部
    早川 松下 川上 福井 広瀬 菅野 武藤 平井 浜田 野田 大石 竹田 荒井 川崎 松村 小沢 足立 水谷 上原 黒田
    山中 小松 村井 石原 森本 福本 宮下 千田 大谷 佐久間 岩井 桑田 川田 富田 村山 坂口 本間 米田 松浦
    西山 北川 河合 栗原 関口 大島 宮川 西野 竹中 大竹 滝沢 滝口 吉野 土井 三宅 小倉 平山 奥村 奥田 中井
    根本 松永 山内 江口 藤川 若林 内山 青山 篠原 一ノ瀬 田辺 田部 荒川 細川 高山 岡 藤岡 深沢 福岡 三上
    神田 杉浦 植田 今村 堀田 永田 松島 柳田 大木 浅井 岡村 成田 菅 森下 川島 千葉 田所 岡部 矢部 磯部
    氏家 日下部 安部 長谷部 綾部 南部 井手 早乙女 守屋 古屋 長屋 氷室 御園 花園 古家 三宅 大宅
""".split())
# last characters that make a kanji word look like a given name (for 「田中 太郎さん」, 「花子ちゃんと」)
_GIVEN_END = set("子美恵江代枝香奈菜乃花音華葉希衣依里理莉佳加央緒那実未海愛咲紗沙彩織絵帆穂歩瑠琴鈴玲怜"
                 "優結唯夢郎朗太汰介輔助也哉弥彦人斗翔樹輝貴紀雄男夫平吉司治次二三蔵造作一亮明昭博宏弘"
                 "浩洋隆隼翼大光仁真誠健和剛豊勇勝学悟聡秀英俊信伸進徹哲直修茂稔正清淳純敦篤晃陽悠蓮颯"
                 "湊陸凛凜桜杏千百萌舞望瞳遥静順智知保康幸孝武猛満豪充道朋友典則範章彰節義嘉喜圭慶啓"
                 "敬恒寛晴春秋冬夏雪空凪")
# words that come before a name inside one run of kanji (本日田中さん, 訪問時鈴木さん, 母花子さん)
_LEADS = sorted(set("""
    本日 今日 昨日 明日 先日 前日 翌日 当日 毎日 今朝 昨夜 今夜 今回 前回 次回 初回 先週 今週 来週 先月
    今月 来月 訪問時 訪問 同行 面談 面接 電話 連絡 担当 同席 来所 来談 受診 入院 退院 相談 対応 会議 報告
    確認 依頼 紹介 本人 家族 母 父 兄 姉 弟 妹 妻 娘 孫 長男 長女 次男 次女 友人 知人 隣人 近所 宛 宛先
    主治医 担当医 後見人
""".split()), key=len, reverse=True)
# kanji words that stand before ちゃんと (毎日ちゃんと飲めている) or are otherwise not names
_NOT_NAMES = set("""
    毎日 本日 今日 昨日 明日 最近 今回 前回 今度 薬 服薬 内服 食事 自分 一人 二人 毎朝 毎晩 朝 昼 夜 仕事
    通所 通院 受診 睡眠 連絡 返事 挨拶 掃除 洗濯 金銭 管理 全部 結構 意外 案外 一応 前 今 次 以前 先週
    今週 来週 毎週 毎回 家事 料理 生活 支払 片付 整理 準備 予約 服用 入浴 外出 散歩 運動 勉強
""".split())
# kana words that come before ちゃんと (properly): まだちゃんと, いつもちゃんと
_HIRA_ADVERBS = ("まだ", "もっと", "いつも", "かなり", "わりと", "わりかし", "けっこう", "ずっと", "もう", "あまり",
                 "ほぼ", "だいぶ", "とても", "すこし", "ちょっと", "なかなか", "しっかり", "きちんと", "そこそこ",
                 "だいたい", "たいてい", "ほとんど", "まあまあ", "まあ", "いちおう", "ちゃんと", "みんな", "あと",
                 "また", "やっと", "ようやく", "ふだん", "いま", "きょう", "あした", "きのう", "まいにち", "ひとりで",
                 "じぶんで", "よく", "すごく", "ちゃんと", "ぜんぶ", "いつもより", "前より", "より")
_PARTICLES = ("から", "より", "まで", "の", "と", "は", "が", "を", "に", "も", "へ", "や", "で")
_KANJI_NUMERAL_CHARS = "〇一二三四五六七八九十百千万"
# The word lists as sets, looked up by the length of the word (a name check runs for every honorific
# in a text, so it must not loop over hundreds of surnames each time).
_SURNAMES_2 = {sn for sn in _SURNAMES if len(sn) > 1}
_ROLE_WORD_SET = set(_ROLE_WORDS)
_LEAD_SET = set(_LEADS)
_KATA_ROLE_SET = set(_KATA_ROLES)
_SURNAME_MAX, _ROLE_WORD_MAX, _LEAD_MAX, _KATA_ROLE_MAX = (max(map(len, w)) for w in (_SURNAMES, _ROLE_WORDS, _LEADS,
                                                                                     _KATA_ROLES))


def _ends_with(run: str, words: set[str], longest: int, shortest: int = 1) -> bool:
    """``any(run.endswith(w) for w in words)`` for words of ``shortest`` to ``longest`` characters."""
    return any(run[-k:] in words for k in range(shortest, longest + 1))


def _starts_with(run: str, words: set[str], at: int, longest: int, shortest: int = 1) -> bool:
    """``any(run.startswith(w, at) for w in words)`` for words of ``shortest`` to ``longest`` characters."""
    return any(run[at:at + k] in words for k in range(shortest, longest + 1))


def _lead_at(run: str, at: int) -> int:
    """The length of the longest word of _LEADS at ``at`` in ``run`` that leaves something after it."""
    for k in range(min(_LEAD_MAX, len(run) - at - 1), 0, -1):
        if run[at:at + k] in _LEAD_SET:
            return k
    return 0


def _kanji_role(run: str) -> bool:
    if _ends_with(run, _SURNAMES_2, _SURNAME_MAX, 2):
        return False   # 阿部, 土屋, 田所: surnames that end like a role word
    if run in _ROLE_EXACT or run[-1] in _ROLE_SUFFIX_CHARS:
        return True
    return _ends_with(run, _ROLE_WORD_SET, _ROLE_WORD_MAX)


def _surname_before_role(run: str) -> int:
    """「田中看護師」 → 2: the length of a known surname that starts the run before a role word."""
    for k in (3, 2):
        head, rest = run[:k], run[k:]
        if head in _SURNAMES and rest and rest[0] not in "市区町村郡県都府" and _kanji_role(rest):
            return k
    return 0


def _trim_kanji(run: str) -> int:
    """How many leading characters of a kanji run are not part of the name (本日田中 → 2)."""
    i = 0
    if not _starts_with(run, _SURNAMES, 0, _SURNAME_MAX):
        while k := _lead_at(run, i):
            i += k
    # a known surname further in, after a word of two or more characters
    if not _starts_with(run, _SURNAMES, i, _SURNAME_MAX):
        for k in range(max(i + 1, 2), len(run) - 1):
            if _starts_with(run, _SURNAMES_2, k, _SURNAME_MAX, 2) and len(run) - k <= 6:
                return k
    if len(run) - i > 6:   # an unknown long run: keep the last four characters
        i = len(run) - 4
    return i


def _run_back(s: str, end: int, limit: int, pred, longest: int = 16) -> int:
    """Where the run of characters of one kind that ends at ``end`` starts (at most ``longest`` back,
    never before ``limit``)."""
    m = _RUN_OF[pred].search(s, max(limit, end - longest, 0), end)
    return m.start() if m else end


# _name_before reads at most this far back from the honorific (two runs of 16 and their edges).
_NAME_LOOKBACK = 40


def _names(s: str):
    """Each honorific with the name before it.  A text that repeats the same words (「田中さん」
    ten thousand times) is read once per distinct context: the answer for an honorific depends only
    on the _NAME_LOOKBACK characters before it, the honorific, the character after it and where the
    previous honorific ended, so it is remembered by those (within this call)."""
    prev_end = 0
    seen: dict[tuple[str, int], tuple[int, int] | None] = {}
    for m in _HONORIFIC.finditer(s):
        p, e = m.start(), m.end()
        if p > _NAME_LOOKBACK:   # not near the start of the text, where a > 0 tests would differ
            key = (s[p - _NAME_LOOKBACK:e + 1], max(prev_end - p, -_NAME_LOOKBACK - 1))
            if key in seen:
                rel = seen[key]
                span = (p + rel[0], p + rel[1]) if rel else None
            else:
                span = _name_before(s, p, prev_end, m.group(), s[e:e + 1])
                seen[key] = (span[0] - p, span[1] - p) if span else None
        else:
            span = _name_before(s, p, prev_end, m.group(), s[e:e + 1])
        if span:
            a, b = span
            yield "name", a, (e if b == p else b)
        prev_end = e   # a rejected honorific (本人さん) is not part of the next name either


def _name_before(s: str, p: int, limit: int, hon: str, after: str) -> tuple[int, int] | None:
    """The span of the name in front of an honorific at p (end == p when the honorific belongs
    to it), or None when what stands there is not a name."""
    if p <= limit:
        return None
    c = s[p - 1]
    chan_to = hon == "ちゃん" and after == "と"   # ちゃんと (properly) or 花子ちゃんと
    if _is_kanji(c):
        a = _run_back(s, p, limit, _is_kanji)
        run = s[a:p]
        if not run.strip(_KANJI_NUMERAL_CHARS):   # all numerals
            return None
        if _kanji_role(run):
            k = _surname_before_role(run)
            return (a, a + k) if k else None
        # 「お客さん」「ご近所さん」: お/ご in front makes it a polite noun, never a name
        if a > limit and s[a - 1] in "おご御" and (a - 1 == 0 or not _is_hira(s[a - 2]) or s[a - 2] in "はがをにとのもへやで"):
            return None
        # A男さん, B子さん: a letter with a kanji is an anonymised name
        if len(run) == 1 and a > 0 and s[a - 1].isascii() and s[a - 1].isalnum():
            return None
        a += _trim_kanji(run)
        name = s[a:p]
        if name in _NOT_NAMES or name in _ROLE_EXACT or not name:
            return None
        if chan_to and name[-1] not in _GIVEN_END:
            return None
        return _join_full_name(s, a, name, limit), p
    if _is_kata(c):
        a = _run_back(s, p, limit, _is_kata)
        run = s[a:p]
        if not 2 <= len(run) <= 12 or run.strip("ー") == "" or _ends_with(run, _KATA_ROLE_SET, _KATA_ROLE_MAX):
            return None
        return _join_full_name(s, a, run, limit), p
    if _is_hira(c):
        a = _run_back(s, p, limit, _is_hira)
        run = s[a:p]
        bounded = a > 0 and a > limit and not _is_hira(s[a - 1]) and s[a - 1] not in " 、。,.!?！？「」（）()・\n\t"
        bounded = bounded or (a == limit and limit > 0)   # right after another name: 田中さんとさとうさん
        if bounded:
            # after a noun, a leading particle is not part of the name: 母とさとうさん
            for part in _PARTICLES:
                if run.startswith(part) and len(run) - len(part) >= 2:
                    a += len(part)
                    run = run[len(part):]
                    break
            else:
                if a > 0 and (_is_kanji(s[a - 1]) or _is_kata(s[a - 1])):
                    return None   # okurigana of a word: 子どもさん, お巡りさん, お手伝いさん
        if len(run) < 2 or len(run) > 6 or (chan_to and run.endswith(_HIRA_ADVERBS)):
            return None
        if run in _HIRA_ROLES or (run[0] in "おご" and run[1:] in _HIRA_ROLES) or run.endswith(_HIRA_ROLE_ENDS):
            return None
        return _join_full_name(s, a, run, limit), p
    if _is_ascii_alpha(c):
        a = _run_back(s, p, limit, _is_ascii_alpha)
        run = s[a:p]
        if a > 0 and (s[a - 1].isdigit() or s[a - 1] in "-_"):
            return None   # a code
        if len(run) < 3 or run.isupper() or run.lower() in _ASCII_ROLES:
            return None   # Aさん, PSWさん, Drさん
        return a, p
    return None


def _join_full_name(s: str, a: int, name: str, limit: int) -> int:
    """「田中 太郎さん」, 「タナカ タロウさん」: take the family name before a space too."""
    if a - 2 < limit or s[a - 1] != " ":
        return a
    c = s[a - 2]
    if _is_kanji(c):
        b = _run_back(s, a - 1, limit, _is_kanji)
        prev = s[b:a - 1]
        if prev in _SURNAMES:
            return b
        if (1 <= len(prev) <= 3 and _is_kanji(name[0]) and len(name) <= 3 and name[-1] in _GIVEN_END
                and not _kanji_role(prev) and prev not in _NOT_NAMES and prev not in _LEAD_SET
                and prev.strip(_KANJI_NUMERAL_CHARS)):
            return b
    elif _is_kata(c) and _is_kata(name[0]):
        b = _run_back(s, a - 1, limit, _is_kata)
        prev = s[b:a - 1]
        if 2 <= len(prev) <= 8 and not _ends_with(prev, _KATA_ROLE_SET, _KATA_ROLE_MAX):
            return b
    return a


# --- putting it together -------------------------------------------------------------------------

_DETECTORS = (_emails, _phones, _numbers12, _addresses, _birthdates, _names)


def find(text: str, *, person_names: bool = True) -> list[Finding]:
    """Personal data in text, sorted by position and not overlapping (the longer match wins).

    ``person_names=False`` leaves out the SudachiDict name reader (bot/privacy/names.py) and keeps
    only the honorific rules of this module: the guard as it was, for benchmarks/bench_names.py."""
    if not text:
        return []
    norm = _Norm(text)
    first, last = norm.starts, norm.ends
    found = [c for detect in _DETECTORS for c in detect(norm.s)]
    if person_names:
        from bot.privacy.names import names
        found = _merge_names(found + [("name", a, b) for a, b in names(norm.s, _is_role_word)])
    cands = [(kind, first[a], last[b - 1]) for kind, a, b in found if b > a]
    cands.sort(key=lambda c: (-(c[2] - c[1]), -_PRIORITY[c[0]], c[1]))
    # The spans taken so far do not overlap, so kept sorted by start they are sorted by end too, and
    # a new span overlaps one of them exactly when it overlaps the last one that starts before its end.
    taken: list[tuple[str, int, int]] = []
    starts: list[int] = []
    ends: list[int] = []
    for kind, a, b in cands:
        k = bisect.bisect_left(starts, b)
        if k and ends[k - 1] > a:
            continue
        starts.insert(k, a)
        ends.insert(k, b)
        taken.append((kind, a, b))
    taken.sort(key=lambda c: c[1])
    return [Finding(kind, text[a:b], a, b) for kind, a, b in taken]


def _is_role_word(word: str) -> bool:
    """A role or kinship word by this module's lists (本人, 長男, 大家, ヘルパー, おかあ …), for the
    dictionary reader: SudachiDict knows some of them as names too."""
    if not word:
        return True
    if _is_kanji(word[-1]):
        return word in _ROLE_EXACT or word in _NOT_NAMES or _kanji_role(word)
    if _is_kata(word[-1]):
        return _ends_with(word, _KATA_ROLE_SET, _KATA_ROLE_MAX)
    if word.isascii():   # PSW, Dr, CW: capitals and short words are titles, as for the rules
        return len(word) < 3 or word.isupper() or word.lower() in _ASCII_ROLES
    return word in _HIRA_ROLES or word.endswith(_HIRA_ROLE_ENDS)


def _merge_names(found: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Overlapping name spans as one (the rules found 花子さん, the dictionary 田中花子さん), so a
    name is masked whole whichever reader saw more of it."""
    spans = sorted((a, b) for kind, a, b in found if kind == "name")
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [c for c in found if c[0] != "name"] + [("name", a, b) for a, b in merged]


def _replacement(f: Finding) -> str:
    if f.kind == "name":
        for hon in _HONORIFICS:
            if f.text.endswith(hon):
                return NAME_MASK + hon
        return NAME_MASK
    return _MASKS[f.kind]


def mask(text: str, findings: list[Finding] | None = None) -> str:
    """text with every finding replaced: 田中さん → 〇〇さん, 090-1234-5678 → ***-****-**** …"""
    if findings is None:
        findings = find(text)
    out, pos = [], 0
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if f.start < pos:
            continue   # overlaps one already replaced
        if text[f.start:f.end] != f.text:
            raise ValueError(f"finding {f!r} does not match the text")
        out.append(text[pos:f.start])
        out.append(_replacement(f))
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


def describe(findings: list[Finding]) -> str:
    """「田中さん（名前）、090-1234-5678（電話番号）」, for the warning shown before saving."""
    return "、".join(f"{f.text}（{KIND_LABELS[f.kind]}）" for f in findings)


def guard(text: str) -> tuple[str, bool]:
    """What Nimo may keep of something a user typed outside a report (a question for the gaps log,
    a reminder title, a dialog state): ``text`` with every finding masked, and whether that changed
    it, so the reply can tell the user.  Reports ask first instead (伏せて確定 / そのまま)."""
    found = find(text)
    return (mask(text, found), True) if found else (text, False)
