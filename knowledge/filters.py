"""Conditions read from a question: where (prefecture or area), how large (population), what level.

Staff narrow a question the way they would ask a colleague: 「千葉県の事例」「人口10万人以下の町」
「県の取組」「…してる県ある？」.  Only explicit phrasings are read, so a topic word such as 保健所 in
「保健所が市町村を支援する例」, or 市町村 in 「保健所と市町村の役割分担」, is never mistaken for a condition.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .tokens import normalize

PREFECTURES = (
    "北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 東京都 神奈川県 "
    "新潟県 富山県 石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県 滋賀県 京都府 大阪府 兵庫県 "
    "奈良県 和歌山県 鳥取県 島根県 岡山県 広島県 山口県 徳島県 香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 "
    "熊本県 大分県 宮崎県 鹿児島県 沖縄県"
).split()

# Possessive white space and digits: what follows each run never starts with what the run holds,
# and greedy runs side by side backtrack over every split of a run of spaces.
_NUM = r"([0-9]++(?:\.[0-9]++)?)\s*+(?:(万|千)\s*+)?(?:人\s*+)?"
_POP = re.compile(r"人口\s*+(?:が\s*+)?" + _NUM + r"(以下|未満|以上|超|より少ない|より多い|くらい|程度|前後)")
POPULATION_MAX = 10 ** 10  # more people than there are: 「人口999…9人以下」 is read as this, not as infinity
# A level word is a condition only where it is used as one (「市町村の相談体制」「県の取組」「…してる県ある？」),
# not where it is the topic of the question: named beside another actor (「保健所と市町村の役割分担」
# 「県や市町村」), as the one acted on or with (「市町村への支援」「市町村と連携」), or with its role,
# relation or difference asked about (「市町村の役割」).
_TOPIC_BEFORE = r"(?<![とや・、])"
_TOPIC_AFTER = r"(?![とや・、へにを]|から|の(?:役割|連携|関係|支援|協力|分担|違い|間))"
_LEVELS = (
    (re.compile(r"(都道府県|(?<![市町村])県|都|府)(レベル|単位)?(の|が|で)(取組|取り組み|事例|例|施策|主導)"), "都道府県"),
    (re.compile(r"県(レベル|単位)"), "都道府県"),
    (re.compile(r"(?:都道府県|(?<![市町村])県)(?:で|は|って)?\s*+(?:ある|あります|ない)(?:か|かな)?[?？]?$"), "都道府県"),
    (re.compile(r"政令(指定)?(都)?市"), "政令市"),
    (re.compile(_TOPIC_BEFORE + r"市町村(レベル|単位)?" + _TOPIC_AFTER + r"(の|が|で)?"), "市町村"),
    (re.compile(r"圏域(レベル|単位)(の|が|で)?"), "圏域"),
    (re.compile(r"(保健所)(レベル|単位)(の|が|で)?"), "保健所"),
    (re.compile(r"(病院|医療機関)(レベル|単位)(の|が|で)?"), "医療機関"),
)


@dataclass(frozen=True)
class Filters:
    places: tuple[str, ...] = ()        # prefecture or area names, any of which may match
    levels: tuple[str, ...] = ()
    population_max: int | None = None
    population_min: int | None = None
    said: tuple[str, ...] = field(default=())  # the words the conditions were read from

    def __bool__(self) -> bool:
        return bool(self.places or self.levels or self.population_max or self.population_min)

    def admits(self, case) -> bool:
        if self.places and not any(p in case.get("prefecture", "") or p in case.area for p in self.places):
            return False
        if self.levels and case.get("level") not in self.levels:
            return False
        pop = case.get("population")
        if self.population_max is not None and (pop is None or pop > self.population_max):
            return False
        if self.population_min is not None and (pop is None or pop < self.population_min):
            return False
        return True

    def describe(self) -> str:
        parts = list(self.places) + list(self.levels)
        if self.population_max is not None:
            parts.append(f"人口{self.population_max:,}人以下")
        if self.population_min is not None:
            parts.append(f"人口{self.population_min:,}人以上")
        return "・".join(parts)


def area_names(areas: list[str]) -> list[str]:
    """The part of each area name a user would type (船橋 for 千葉県船橋圏域), longest first;
    computed once per case base."""
    cores = set()
    for area in areas:
        core = re.sub(r"^(" + "|".join(PREFECTURES) + ")", "", normalize(area))
        core = re.sub(r"(圏域|保健所.*|精神保健福祉センター)$", "", core)
        if len(core) >= 2:
            cores.add(core)
    return sorted(cores, key=len, reverse=True)


# Each prefecture as a user writes it (千葉 or 千葉県), compiled once: a question is read against
# all 47 before it is searched.
_PREFECTURE_PATTERNS = [(pref, re.compile(re.escape(pref if pref == "北海道" else pref[:-1]) + "(県|都|府)?"))
                        for pref in PREFECTURES]


def read_filters(question: str, names: list[str]) -> tuple[Filters, str]:
    """The conditions in ``question`` and the question with their words taken out.
    ``names`` are the area names of the case base, from :func:`area_names`."""
    q = normalize(question)
    said: list[str] = []
    places: list[str] = []
    for pref, pattern in _PREFECTURE_PATTERNS:
        m = pattern.search(q)
        if m and not (pref == "京都府" and "東京都" in q):
            places.append(pref)
            said.append(m.group(0))
            q = q.replace(m.group(0), " ")  # so that 千葉県 is not also read as 「県の」
    for core in names:
        if core in q:
            places.append(core)
            said.append(core)
            q = q.replace(core, " ")
    levels: list[str] = []
    for pattern, level in _LEVELS:
        m = pattern.search(q)
        if m and level not in levels:
            levels.append(level)
            said.append(m.group(0))
            q = q.replace(m.group(0), " ")
    if "市町村" in levels:  # 政令市 and 市 are 市町村 to a user who asks for 市町村
        levels.append("政令市")
    pmax = pmin = None
    m = _POP.search(q)
    if m:
        n = min(float(m.group(1)) * {"万": 10000, "千": 1000, None: 1}[m.group(2)], POPULATION_MAX)
        kind = m.group(3)
        if kind in ("以下", "未満", "より少ない"):
            pmax = int(n)
        elif kind in ("以上", "超", "より多い"):
            pmin = int(n)
        else:  # about: half to double
            pmin, pmax = int(n / 2), int(n * 2)
        said.append(m.group(0))
        q = q.replace(m.group(0), " ")
    return Filters(tuple(places), tuple(levels), pmax, pmin, tuple(said)), q
