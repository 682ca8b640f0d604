"""The shape of a case record, declared once.

Each case is one YAML file under ``casebase/cases/``.  The field names are English so that code
reads plainly; the comment beside each gives the guide's own heading, which is what a curator
looks for when mending a record.  ``TEXT`` fields hold the guide's words (checked against the
source by :mod:`casebase.faithful`); ``META`` fields are facts about the case that the check
does not look for in the text (numbers parsed from it, the level we classify it under).
"""
from __future__ import annotations

LEVELS = ("市町村", "圏域", "都道府県", "政令市", "保健所", "医療機関")
PARTS = (1, 2, 3)

# name -> (type, required, guide heading).  type: "str", "int", "list" (of str), "forum", "stages".
FIELDS: dict[str, tuple[str, bool, str]] = {
    "id": ("str", True, "識別子（c01 など。ローカル事例は任意の英数字）"),
    "part": ("int", True, "第4章の項（1: 構築推進事業の実施例, 2: 事例, 3: 研究より）"),
    "section": ("str", True, "事業区分（例: 1-(3) 精神障害者の住まいの確保支援に係る事業）"),
    "title": ("str", True, "事例テーマ（事業名）"),
    "area": ("str", True, "自治体名（圏域名）"),
    "prefecture": ("str", False, "都道府県（匿名事例は「A県」など、ガイドの表記のまま）"),
    "level": ("str", True, "市町村 / 圏域 / 都道府県 / 政令市 / 保健所 / 医療機関"),
    "population": ("int", False, "人口（数値）"),
    "population_text": ("str", False, "人口の表記（時点を含む、ガイドのまま）"),
    "municipalities": ("int", False, "市町村数"),
    "hospitals": ("int", False, "精神科医療機関の数: 病院"),
    "clinics": ("int", False, "精神科医療機関の数: 診療所"),
    "keywords": ("list", False, "Ｋｅｙ Ｗｏｒｄ"),
    "appeal_points": ("list", False, "アピールポイント"),
    "forum": ("forum", False, "活用している協議の場（協議の場・事務局・参加機関・留意点）"),
    "regional_challenges": ("list", False, "解決が必要な地域課題"),
    "system_challenges": ("list", False, "支援体制上の課題"),
    "actions": ("list", False, "取組内容（事業の内容）"),
    "innovations": ("list", False, "体制づくりの工夫・内容"),
    "outcomes": ("list", False, "取組による効果（事業の成果）"),
    "system_effects": ("list", False, "支援体制上の効果"),
    # part 2
    "case_summary": ("list", False, "個別ケースの概要"),
    "key_points": ("list", False, "地域課題及び基盤整備の要点"),
    "results": ("list", False, "基盤整備の成果・効果"),
    "stages": ("stages", False, "事例内容（課題発生 → 検証 → 解決 → さらなる基盤整備）"),
    "points": ("list", False, "基盤整備のポイント / 事業推進のポイント"),
    "provider_comments": ("list", False, "事例提供者コメント"),
    "point_notes": ("list", False, "～Point～（手引きの囲み解説）"),
    # part 3
    "introduction": ("list", False, "取組の紹介（表の前の本文）"),
    "challenge_recognition": ("list", False, "直面する課題認識"),
    "driving_forces": ("list", False, "課題解決への推進力となった事項"),
    "resources": ("list", False, "利用できるリソース"),
    "continuity": ("list", False, "継続のポイント"),
    "effects": ("list", False, "取組の効果"),
    "transfer_points": ("list", False, "他の自治体で実施するためのポイント"),
    "commentary": ("list", False, "解説（表の後の本文）"),
    "source": ("str", True, "出典（例: 第4章 1-(3)）"),
}

FORUM_FIELDS = {
    "name": "活用している協議の場",
    "secretariat": "事務局",
    "members": "参加機関",
    "notes": "留意点",
}
STAGE_FIELDS = {"name": "段階の見出し", "text": "本文（段落のリスト）"}

# Fields whose text is not looked for in the guide: numbers, classifications, identifiers, and the
# area, which is the catalogue's name for the case (the guide often writes it shorter: 川崎市).
META = {"id", "part", "section", "level", "area", "population", "municipalities", "hospitals", "clinics",
        "source", "prefecture"}
