"""Person names found with SudachiDict, for the privacy guard (bot/privacy/guard.py).

The honorific rules of privacy.py read the characters in front of さん/様/…; they cannot tell where
a name written in mixed scripts starts (田中よし子さん, 鈴木ヨシ子さん) and never see a name without
an honorific (鈴木ケアマネ, 田中花子（45）).  SudachiDict is a maintained lexicon that tags person
names (名詞,固有名詞,人名,姓 / 名 / 一般), so no hand list of names is grown here.  A tag alone is not
enough (the dictionary splits 保健師 into 保 and a given name 健師; 大家 and 長男 are also surnames),
so words count as a name only where the context marks a person:

* an honorific after them (さん, 様, 氏, くん, ちゃん …), a title (先生, ケアマネ, Dr, 看護師 …) or an
  age in brackets (田中花子（45）).  Here a word counts when the dictionary knows it as a person's
  name in any of its readings (平田 is read as a place, but is also a family name), and a kana given
  name after such a word goes with it (小松セツさん);
* with no such context, only a family name followed by a given name (田中花子, 渡辺 健太).

Role and kinship words (本人, 長男, 大家, ヘルパー …) are ruled out by privacy.py's own lists, passed in
as ``is_role``.

The tokenizer is the one the search uses (knowledge.tokens), loaded on the first call: only the
worker, which answers messages, pays for the dictionary; the web process, which stores webhooks and
serves the console, never calls the guard.
"""
from __future__ import annotations

import functools
import re

_HONORIFICS = frozenset(("さん", "様", "さま", "氏", "くん", "君", "ちゃん", "殿", "ちゃま"))
# words after a bare name that make it a person's name: titles and jobs staff write after colleagues
_TITLES = frozenset("""
    先生 ケアマネ ケアマネジャー ケアマネージャー ワーカー ケースワーカー ヘルパー ドクター ナース ソーシャルワーカー
    dr dr. ns psw msw sw cw ssw sc cm ot pt st ph
    医師 看護師 保健師 相談員 支援員 指導員 主任 課長 係長 所長 院長 師長 婦長 部長 室長 事務長 管理者 社長 会長
    弁護士 司法書士 行政書士 薬剤師 栄養士 心理士 作業療法士 理学療法士 社会福祉士 精神保健福祉士 介護福祉士
    委員 民生委員 議員 先輩 後輩 専門員 相談支援専門員 保育士 教諭 校長 教頭 医
""".lower().split())
_AGE = re.compile(r"[(（]\s?(?:\d{1,3}\s?(?:歳|才)?|[男女]性?)\s?(?:[,、・]\s?[^)）]{0,6})?[)）]")
_KANA = re.compile("[ぁ-ゖァ-ヺー]+")
_KATA = re.compile("[ァ-ヺー]+")
_KANJI = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]+")
_GIVEN_SUFFIXES = frozenset("子美江代枝乃")   # read as a suffix after a kana given name: ヨシ子, ミヨ子
_JOINS = frozenset(("・", "=", "＝"))
_MASKED = re.compile("[〇○◯*＊●]+")
_CHUNK = 10000   # characters: Sudachi refuses input over 49,149 bytes


def _person(m) -> bool:
    pos = m.part_of_speech()
    return pos[1] == "固有名詞" and pos[2] == "人名"


@functools.lru_cache(maxsize=8192)
def _known_name(surface: str) -> bool:
    """Does the dictionary know the word as a person's name in any reading (平田: place and surname)?"""
    from knowledge.tokens import shared_dictionary
    return any(m.part_of_speech()[2] == "人名" for m in shared_dictionary().lookup(surface))


class _Tok:
    __slots__ = ("s", "a", "b", "pos", "person")

    def __init__(self, m, at: int):
        self.s, self.a, self.b = m.surface(), at + m.begin(), at + m.end()
        self.pos, self.person = m.part_of_speech(), _person(m)


def _tokens(s: str) -> list[_Tok]:
    """The words of s, read in pieces that Sudachi takes (cut after a line or a sentence)."""
    from sudachipy import SplitMode

    from knowledge.tokens import shared_tokenizer
    tok = shared_tokenizer()
    out: list[_Tok] = []
    at = 0
    while at < len(s):
        end = at + _CHUNK
        if end < len(s):
            cut = max(s.rfind("\n", at, end), s.rfind("。", at, end))
            end = cut + 1 if cut > at else end
        out += [_Tok(m, at) for m in tok.tokenize(s[at:end], SplitMode.C)]
        at = end
    return out


def names(s: str, is_role) -> list[tuple[int, int]]:
    """Spans of person names in s (an NFKC-normalised text), each with its honorific when it has
    one.  ``is_role(word)`` says whether a word is a role or kinship word (privacy.py's lists)."""
    if not s.strip():
        return []
    toks = _tokens(s)
    out: list[tuple[int, int]] = []
    used = 0   # tokens before this index are already part of a name
    for h, t in enumerate(toks):
        span = None
        if t.s in _HONORIFICS and t.pos[0] == "接尾辞":
            span = _before(s, toks, h, used, is_role)
            span = span and (span[0], t.b)
        elif t.s.lower() in _TITLES or (t.s in "(（" and _AGE.match(s, t.a)):
            span = _before(s, toks, h, used, is_role)
        if span:
            out.append(span)
            used = h + 1
    # then full names without a mark after them, where no name was found yet (the caller merges
    # the overlapping ones)
    i = 0
    while i < len(toks):
        span, i = _full_name(toks, i, is_role)
        if span:
            out.append(span)
        i += 1
    return out


def _named(t: _Tok) -> bool:
    """A word that can be (part of) a name where the context marks a person."""
    if t.person:
        return True
    if t.pos[0] not in ("名詞", "接頭辞", "形状詞") or not (_KANJI.fullmatch(t.s) or _KANA.fullmatch(t.s)):
        return False
    return _known_name(t.s) or (t.pos[1] == "固有名詞" and _KATA.fullmatch(t.s) is not None)


def _before(s: str, toks: list[_Tok], h: int, used: int, is_role) -> tuple[int, int] | None:
    """The name that ends right before toks[h] (an honorific, a title or an age), if there is one."""
    k = h - 1
    if k >= used and toks[k].s == " " and toks[h].pos[0] != "接尾辞":
        k -= 1   # 田中 先生
    if k < used or toks[k].b != (toks[k + 1].a if k + 1 < len(toks) else len(s)):
        return None
    first = k
    if toks[k].pos[0] == "接尾辞" and toks[k].s in _GIVEN_SUFFIXES and k - 1 >= used:
        first = k - 1   # ヨシ + 子
    last = toks[first]
    word_end = first
    if _named(last):
        pass
    elif _KATA.fullmatch(last.s) and not is_role(last.s):
        pass   # a katakana word before さん: a given name (セツ) or a foreign one (ウェイ)
    else:
        return None
    # back over more name words: 田中 + 花子, 小松 + セツ, ワン + ・ + ウェイ
    while first - 1 >= used:
        p = toks[first - 1]
        if p.s in _JOINS and first - 2 >= used and _KATA.fullmatch(toks[first].s) \
                and (_KATA.fullmatch(toks[first - 2].s) or toks[first - 2].person):
            first -= 2
        elif p.person or (_named(p) and _KANJI.fullmatch(p.s)):
            first -= 1   # 田中 + 花子, 小松 + セツ
        else:
            break
    return _checked(s, toks, first, word_end, k, is_role)


def _full_name(toks: list[_Tok], i: int, is_role) -> tuple[tuple[int, int] | None, int]:
    """A family name followed by a given name with no honorific (田中花子, 渡辺 健太); the span and the
    index of its last word."""
    t = toks[i]
    if t.pos[3] != "姓" or i + 1 >= len(toks):
        return None, i
    j = i + 1
    if toks[j].s == " " and j + 1 < len(toks):
        j += 1
    g = toks[j]
    if g.person and g.pos[3] in ("名", "一般") and not is_role(t.s) and not is_role(g.s):
        if i > 0 and toks[i - 1].b == t.a and toks[i - 1].pos[0] == "名詞" and is_role(toks[i - 1].s + t.s):
            return None, i
        return (t.a, g.b), j
    return None, i


def _checked(s: str, toks: list[_Tok], first: int, word_end: int, last: int, is_role) -> tuple[int, int] | None:
    """toks[first:last + 1] as a name unless it is a role word; toks[word_end] is the last word of
    it before a suffix (ヨシ of ヨシ子)."""
    a, b = toks[first].a, toks[last].b
    word = s[a:b]
    if _MASKED.fullmatch(word) or is_role(s[a:toks[word_end].b]) or is_role(toks[word_end].s):
        return None
    p = toks[first - 1] if first > 0 else None
    # a name word stuck to the word before it is part of that word when the two make a role (保 + 健師)
    if p is not None and p.b == a and _KANJI.fullmatch(p.s) and is_role(p.s + word):
        return None
    return a, b
