"""Japanese text to search terms, the way staff write it.

Sudachi's normalised form folds the spelling variants staff use (引きこもり / ひきこもり /
引き篭もり, 障がい / 障害, 子ども / 子供, half-width kana); we keep content words only, so that
question phrasing (「教えて」「知りたい」「他の地域は？」) does not weigh in the ranking.
Mode A units are the terms (退院後 → 退院, 後, so that 退院 matches); the longer units of modes
B and C are added too, so a compound such as 精神保健福祉士 matches itself more strongly than its
parts alone.

:func:`analyze` gives three views of the same text from one pass of the tokenizer (the search
fuses them, see knowledge.search): those terms; the SudachiDict synonym group ids of its words
(大家 and 家主 share one), so a general synonym matches without a hand-written list; and the
character n-grams (trigrams, GRAM) of its content spans (runs of content words with their suffixes), which match
where the two sides are cut into words differently (形骸化 / 形骸, 救急隊 / 救急隊員) while the
particles and the asking phrases (「〜を教えて」) stay out.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass


def Dictionary(*args, **kwargs):  # noqa: N802 - stands in for sudachipy.Dictionary
    """sudachipy.Dictionary, imported on first use: ``normalize`` is also used by processes that
    never tokenise (the web process), and Sudachi with its dictionary costs about 90 MB."""
    from sudachipy import Dictionary as dictionary
    return dictionary(*args, **kwargs)

CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞", "接頭辞"}
# Words of asking and of the chapter's own framing: present in every question or every case,
# they carry no topic.  Kept short and general on purpose.
STOPWORDS = frozenset("""
する ある 居る いる なる 成る れる られる せる 出来る できる 為る 有る 言う いう 思う 考える 行う 知る 教える
見る 聞く 分かる わかる 欲しい ほしい 良い よい いい 無い ない 困る 悩む 迷う 探す 知れる 下さる くださる 呉れる くれる
こと 事 もの 物 ため 為 よう 様 等 など 方 ところ 所 とき 時 場合 何 なに 誰 どこ どう どの どれ いつ これ それ あれ
他 ほか 別 例 事例 実例 例え 取組 取り組み 取組み 取り組む 方法 やり方 仕方 手 件 今 今日 最近 皆さん 皆 みんな 自分 私 僕
具体 的 中 上 下 前 後 内 外 お 御 ご さん 様 ちゃん くん 君 感じ 一 二 三 つ 個 回 年 月 日 的 化 性 者 たち 達 各
地域 他所 よそ 自治体 市 町 村 県 都 府 道 区 事業 ケース 問題 課題 紹介 情報 参考 知恵
""".split())
_PUNCT = re.compile(r"^[\W_]+$")
# The length of the character n-grams of the third view: 2 and 3 were compared by cross-validation
# (benchmarks/bench_quality.py chooses it with the BM25 constants, knowledge.search.Build).
GRAM = 3
_local = threading.local()


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def normalize(text: str) -> str:
    """NFKC, lower-case Latin, one kind of wave dash, no control or invisible format characters."""
    return _CONTROL.sub("", unicodedata.normalize("NFKC", text or "")).replace("〜", "～").lower()


_dictionary = None
_dictionary_lock = threading.Lock()


def _tokenizer():
    """A tokenizer per thread (it keeps state between calls) over one dictionary per process:
    each ``Dictionary`` loads the whole lexicon again, about 100 MB a thread."""
    global _dictionary
    tok = getattr(_local, "tok", None)
    if tok is None:
        with _dictionary_lock:
            if _dictionary is None:
                _dictionary = Dictionary(dict="core")
        tok = _local.tok = _dictionary.tokenizer()
    return tok


def _keep(m) -> bool:
    pos = m.part_of_speech()
    if pos[0] not in CONTENT_POS or pos[1] in ("数詞",) and not m.surface().isdigit():
        return False
    if pos[1] == "非自立可能" and pos[0] == "動詞":
        return False
    return True


def terms(text: str) -> list[str]:
    """Search terms of ``text``: normalised content words, with compounds added."""
    return analyze(text).terms


@dataclass(frozen=True)
class Analysis:
    terms: list[str]    # normalised content words, their compounds and longer units
    senses: list[str]   # SudachiDict synonym group ids of the content words, as "#123"
    grams: list[str]    # character n-grams (trigrams: GRAM) of the content spans
    words: list[str]    # the longest units (mode C) of the content words: what a question is about


def analyze(text: str, gram: int = GRAM) -> Analysis:
    """All views of ``text`` from one tokenisation in each split mode (n-grams of ``gram`` characters)."""
    t = normalize(text)
    if not t.strip():
        return Analysis([], [], [], [])
    from sudachipy import SplitMode
    tok = _tokenizer()
    out: list[str] = []
    senses: list[str] = []
    grams: list[str] = []
    words: list[str] = []
    for chunk in _chunks(t):
        ms = list(tok.tokenize(chunk, SplitMode.A))
        units = [_term(m) for m in ms if _keep(m)]
        out += units
        # Adjacent nouns as one more term (家族+教室), so a compound the dictionary lacks
        # (家族教室, 医療情報ネットワーク) still matches as a phrase and not only word by word.
        out += [f"{_term(a)}+{_term(b)}" for a, b in zip(ms, ms[1:])
                if a.part_of_speech()[0] == b.part_of_speech()[0] == "名詞" and _keep(a) and _keep(b)
                and _term(a) not in STOPWORDS and _term(b) not in STOPWORDS]
        seen = set(units)
        senses += _senses(m for m in ms if _keep(m))
        grams += _grams(ms, gram)
        for mode in (SplitMode.B, SplitMode.C):
            longer = list(tok.tokenize(chunk, mode))
            for m in longer:
                if _keep(m) and _term(m) not in seen:
                    seen.add(_term(m))
                    out.append(_term(m))
                    if mode == SplitMode.C:
                        senses += _senses([m])
            if mode == SplitMode.C:
                words += [_term(m) for m in longer if _keep(m)]
    return Analysis([w for w in out if _useful(w)], senses, grams, [w for w in words if _useful(w)])


def _useful(w: str) -> bool:
    return bool(w) and w not in STOPWORDS and not _PUNCT.match(w) and not (len(w) == 1 and w.isdigit())


def _senses(ms) -> list[str]:
    """The synonym group ids of content words that carry a topic (not 地域, 事例, する ...)."""
    return [f"#{g}" for m in ms if _term(m) not in STOPWORDS for g in m.synonym_group_ids()]


_SPAN_POS = CONTENT_POS | {"接尾辞"}


def _grams(ms, n: int = GRAM) -> list[str]:
    """Character n-grams inside runs of content words (with their suffixes): as trigrams,
    救急隊員が → 救急隊, 急隊員.  A run made only of stop words (事例, 教える) gives none."""
    out: list[str] = []
    run: list = []
    for m in list(ms) + [None]:
        if m is not None and m.part_of_speech()[0] in _SPAN_POS and not _PUNCT.match(m.surface()) \
                and not (m.part_of_speech()[0] == "動詞" and m.part_of_speech()[1] == "非自立可能"):
            run.append(m)
            continue
        if run and any(_term(x) not in STOPWORDS for x in run):
            # Nouns in their normalised spelling (引きこもり = ひきこもり, 障がい = 障害), so the view
            # folds the same variants as the terms; verbs as written (their stem, not 〜る).
            s = "".join(x.normalized_form() if x.part_of_speech()[0] in ("名詞", "接頭辞", "接尾辞") else x.surface()
                        for x in run).lower()
            # A run shorter than n (家族 for trigrams) is one gram of its own; one character is none.
            out += [s[i:i + n] for i in range(len(s) - n + 1)] if len(s) >= n else [s] if len(s) >= 2 else []
        run = []
    return out


def _term(m) -> str:
    return m.normalized_form().lower()


def _chunks(text: str, size: int = 4000):
    """Sudachi refuses very long input; long record texts are tokenised in pieces at line ends."""
    while len(text.encode("utf-8")) > 40000:
        cut = text.rfind("\n", 0, size)
        cut = cut if cut > 0 else size
        yield text[:cut]
        text = text[cut:]
    yield text


def shared_tokenizer():
    """This thread's tokenizer over the process's one dictionary, loaded on first use: the privacy
    guard (bot/privacy/names.py) reads person names with it, so a worker that searches and guards
    holds SudachiDict once, and a process that does neither never loads it."""
    return _tokenizer()


def shared_dictionary():
    """The process's one SudachiDict (loaded on first use), for looking a word up in it."""
    _tokenizer()
    return _dictionary
