"""bot.privacy.guard: personal data in field reports is found (with offsets into the original text),
described for the warning, and masked; the role and kinship words of everyday field notes are not."""
from __future__ import annotations

import dataclasses

import pytest

from bot.privacy.guard import KIND_LABELS, Finding, describe, find, mask

# --- each kind, in several forms: (text, kind, the text that must be found) ------------------------

POSITIVES = [
    # names with honorifics
    ("田中さんと面談", "name", "田中さん"),
    ("佐藤様より助言あり", "name", "佐藤様"),
    ("たなかさんと面談", "name", "たなかさん"),
    ("タナカさんに電話", "name", "タナカさん"),
    ("ﾀﾅｶさんに電話", "name", "ﾀﾅｶさん"),
    ("田中太郎さん来所", "name", "田中太郎さん"),
    ("田中 太郎さん来所", "name", "田中 太郎さん"),
    ("田中\u3000太郎さん来所", "name", "田中\u3000太郎さん"),
    ("タナカ タロウさんと同行", "name", "タナカ タロウさん"),
    ("花子ちゃんと遊ぶ", "name", "花子ちゃん"),
    ("翔くんが来た", "name", "翔くん"),
    ("山田氏より連絡", "name", "山田氏"),
    ("鈴木君の件", "name", "鈴木君"),
    ("たなかさまへ郵送", "name", "たなかさま"),
    ("本日田中さん宅訪問", "name", "田中さん"),
    ("訪問時鈴木さん不在", "name", "鈴木さん"),
    ("母とさとうさんが来所", "name", "さとうさん"),
    ("K-012のともこさんと面談", "name", "ともこさん"),
    ("K-012の母、田中花子さん", "name", "田中花子さん"),
    ("担当の佐藤さんへ", "name", "佐藤さん"),
    ("阿部さんに連絡", "name", "阿部さん"),
    ("土屋さんに連絡", "name", "土屋さん"),
    ("鬼塚さんと面談", "name", "鬼塚さん"),
    ("田中君子さんと面談", "name", "田中君子さん"),
    ("田中様方に郵送", "name", "田中様"),
    ("Tanakaさんと面談", "name", "Tanakaさん"),
    ("田中看護師さんに相談", "name", "田中"),
    # phone numbers
    ("090-1234-5678 に電話", "phone", "090-1234-5678"),
    ("携帯09012345678", "phone", "09012345678"),
    ("TEL 03-1234-5678", "phone", "03-1234-5678"),
    ("0120-123-456 に相談", "phone", "0120-123-456"),
    ("(03)1234-5678 まで", "phone", "(03)1234-5678"),
    ("03(1234)5678 まで", "phone", "03(1234)5678"),
    ("+81 90-1234-5678 に電話", "phone", "+81 90-1234-5678"),
    ("連絡先 03 1234 5678", "phone", "03 1234 5678"),
    ("０９０－１２３４－５６７８ に電話", "phone", "０９０－１２３４－５６７８"),
    ("090ー1234ー5678 に電話", "phone", "090ー1234ー5678"),
    ("0466-12-3456 に電話", "phone", "0466-12-3456"),
    # e-mail
    ("taro.tanaka@example.co.jp に送付", "email", "taro.tanaka@example.co.jp"),
    ("メールはｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "email", "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
    # addresses
    ("〒123-4567 に転居", "address", "〒123-4567"),
    ("〒１２３－４５６７ に転居", "address", "〒１２３－４５６７"),
    ("郵便番号 123-4567", "address", "123-4567"),
    ("東京都八王子市元本郷町3-24-1 に住む", "address", "東京都八王子市元本郷町3-24-1"),
    ("千葉市中央区中央4丁目5番1号 の自宅", "address", "千葉市中央区中央4丁目5番1号"),
    ("船橋市本町2-1-1 に住む", "address", "船橋市本町2-1-1"),
    ("住所：千葉県船橋市本町1丁目2番3号 メゾン101", "address", "千葉県船橋市本町1丁目2番3号"),
    ("さいたま市浦和区高砂3-15-1", "address", "さいたま市浦和区高砂3-15-1"),
    ("船橋市本町一丁目に転居", "address", "船橋市本町一丁目"),
    ("〒260-0001 千葉市中央区都町1-2-3", "address", "〒260-0001 千葉市中央区都町1-2-3"),
    ("長生郡一宮町一宮123番地", "address", "長生郡一宮町一宮123番地"),
    # 12-digit numbers
    ("マイナンバー 123456789012", "number12", "123456789012"),
    ("番号 1234 5678 9012", "number12", "1234 5678 9012"),
    ("番号 1234-5678-9012", "number12", "1234-5678-9012"),
    ("番号１２３４５６７８９０１２", "number12", "１２３４５６７８９０１２"),
    # birth dates
    ("生年月日 1950/1/2", "birthdate", "生年月日 1950/1/2"),
    ("生年月日：昭和25年1月2日", "birthdate", "生年月日：昭和25年1月2日"),
    ("S25.1.2生、男性", "birthdate", "S25.1.2生"),
    ("昭和25年1月2日生まれ", "birthdate", "昭和25年1月2日生まれ"),
    ("1950年1月2日生の男性", "birthdate", "1950年1月2日生"),
    ("H2.3.4生まれ", "birthdate", "H2.3.4生まれ"),
    ("誕生日は3月5日", "birthdate", "誕生日は3月5日"),
    ("平成元年5月6日生まれ", "birthdate", "平成元年5月6日生まれ"),
    ("㍼25年1月2日生まれ", "birthdate", "㍼25年1月2日生まれ"),
]


@pytest.mark.parametrize("text, kind, expected", POSITIVES)
def test_each_kind_is_found_with_offsets_into_the_original(text, kind, expected):
    found = find(text)
    assert [(f.kind, f.text) for f in found] == [(kind, expected)]
    f = found[0]
    assert text[f.start:f.end] == f.text
    assert f.start == text.index(expected)


# --- field notes that must not raise a warning -----------------------------------------------------

NEGATIVES = [
    "本人さんと面談。服薬確認できた。表情明るい。次回12/10",
    "お母さんから電話あり。ピアさんと同行。",
    "ケアマネさん、相談員さんと担当者会議",
    "8050問題の相談。K-012",
    "14:30 訪問。たくさん話せた。",
    "市内4病院と連携",
    "60代男性、45歳の息子さんと同居",
    "千葉市の保健所で会議",
    "皆さんで茶話会",
    "主治医の先生と相談",
    "みなさんによろしく",
    "お父さん、お兄さん、お姉さん、弟さん、妹さん、母さん、父さん",
    "奥さん、旦那さん、ご家族さん、家族さん、娘さん",
    "おばあさん、おじいさん、祖母さん、祖父さん",
    "ヘルパーさん、ワーカーさん、看護師さん、保健師さん、主治医さん",
    "大家さん、民生委員さん、管理人さん、利用者さん、患者さん",
    "担当さん、訪看さん、PSWさん、CWさん、事務さん、支援員さん、職員さん、店員さん",
    "福祉士さん、支援者さん、係長さん、所長さん、課長さん",
    "包括さんに連絡。社協さん、生保さん、地活さんにも相談。",
    "事業所さん、病院さん、クリニックさん、訪問看護ステーションさん、グループホームさん",
    "ケースワーカーさん、ピアサポーターさん、デイケアさん、ハローワークさん",
    "お隣さんが心配している。ご近所さんから苦情。",
    "子どもさんと同居。お巡りさんが来た。",
    "彼氏さんと同居。氏名は未記入。",
    "おばあちゃんと散歩。ワンちゃんの世話。",
    "Aさん、B子さん、A男さんと面談",
    "K-012さん宅訪問",
    "お疲れさまです。ご苦労様でした。おかげさまで元気。",
    "本人の様子を見る。同様に対応。",
    "ちゃんと服薬できている。毎日ちゃんと飲めている。まだちゃんとできない。",
    "いっしょにさんぽした",
    "とてもたくさん話せた",
    "病院に行くんです",
    "次回12月5日に訪問",
    "2024年12月10日 訪問",
    "血圧130/80、体重62.5kg",
    "訪問時間は10:00-11:00、09:30集合",
    "障害支援区分3、要介護2",
    "2-3か所回った。市内2-3件",
    "服薬10-20mg",
    "誕生日が近いので家族で祝う予定",
    "12月5日生活保護申請",
    "3年ぶりに外出",
    "受付番号 1234567890123",
    "お客様、お子様、皆様",
    "ご主人さん、ご本人様、ご両親さん",
    "〇〇さん ***-****-**** に電話。",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_everyday_field_notes_are_not_flagged(text):
    assert find(text) == []


# --- masking -------------------------------------------------------------------------------------

MASKED = [
    ("田中さん 090-1234-5678 に電話。", "〇〇さん ***-****-**** に電話。"),
    ("佐藤様より助言あり", "〇〇様より助言あり"),
    ("花子ちゃんと翔くんが来所", "〇〇ちゃんと〇〇くんが来所"),
    ("山田氏、鈴木君と同席", "〇〇氏、〇〇君と同席"),
    ("たなかさまへ", "〇〇さまへ"),
    ("本日田中さん宅訪問", "本日〇〇さん宅訪問"),
    ("田中看護師さんに相談", "〇〇看護師さんに相談"),
    ("taro@example.com に送付", "***@*** に送付"),
    ("船橋市本町2-1-1 に転居", "（住所） に転居"),
    ("〒260-0001 千葉市中央区都町1-2-3 に転居", "（住所） に転居"),
    ("番号 1234 5678 9012", "番号 ************"),
    ("昭和25年1月2日生まれ、男性", "（生年月日）、男性"),
    ("ＴＥＬ ０９０－１２３４－５６７８。", "ＴＥＬ ***-****-****。"),
    ("本人さんと面談。表情明るい。", "本人さんと面談。表情明るい。"),
]


@pytest.mark.parametrize("text, expected", MASKED)
def test_mask(text, expected):
    assert mask(text) == expected
    assert mask(text, find(text)) == expected


def test_mask_only_the_findings_given():
    text = "田中さん 090-1234-5678 に電話。"
    phone = [f for f in find(text) if f.kind == "phone"]
    assert mask(text, phone) == "田中さん ***-****-**** に電話。"
    assert mask(text, []) == text


def test_mask_refuses_findings_of_another_text():
    with pytest.raises(ValueError):
        mask("佐藤さんに電話", [Finding("name", "田中さん", 0, 4)])


@pytest.mark.parametrize("text", [t for t, _, _ in POSITIVES] + [t for t, _ in MASKED])
def test_masked_text_has_nothing_left_to_find(text):
    assert find(mask(text)) == []


# --- several findings ----------------------------------------------------------------------------

REPORT = ("田中さんが来所。鈴木 一郎さんと同行、TEL 03-1234-5678、〒260-0001 千葉市中央区都町1-2-3、"
          "生年月日 S25.1.2、mail a.b@c.jp、番号 1234 5678 9012")


def test_findings_are_sorted_and_do_not_overlap():
    found = find(REPORT)
    assert [f.kind for f in found] == ["name", "name", "phone", "address", "birthdate", "email", "number12"]
    for a, b in zip(found, found[1:]):
        assert a.end <= b.start
    for f in found:
        assert REPORT[f.start:f.end] == f.text
    assert mask(REPORT) == ("〇〇さんが来所。〇〇さんと同行、TEL ***-****-****、（住所）、"
                            "（生年月日）、mail ***@***、番号 ************")


def test_the_longer_match_wins():
    # 〒 and the street address that follows are one address, not two
    assert [(f.kind, f.text) for f in find("〒100-0001東京都千代田区千代田1-1")] == \
        [("address", "〒100-0001東京都千代田区千代田1-1")]


def test_describe():
    found = find("田中さん 090-1234-5678 に電話。")
    assert describe(found) == "田中さん（名前）、090-1234-5678（電話番号）"
    assert describe([]) == ""
    assert set(KIND_LABELS) == {"name", "phone", "email", "address", "number12", "birthdate"}
    assert describe(find(REPORT)).count("（") == 7


def test_finding_is_frozen_and_empty_text_has_none():
    f = Finding("phone", "090-1234-5678", 0, 13)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.kind = "email"  # type: ignore[misc]
    assert find("") == []
    assert mask("") == ""


# -- hostile text ----------------------------------------------------------------------------------
def test_the_characters_copied_as_they_are_are_left_alone_by_nfkc():
    import re
    import unicodedata
    from bot.privacy.guard import SIMPLE_CHARS
    simple = re.compile(f"[{SIMPLE_CHARS}]")
    chars = [chr(cp) for cp in range(0x10000) if simple.match(chr(cp))]
    assert len(chars) > 20_000
    for c in chars:
        assert unicodedata.normalize("NFKC", c) == c and not unicodedata.combining(c), hex(ord(c))


def test_thousands_of_names_are_all_found_and_masked():
    text = "田中さん" * 3000
    found = find(text)
    assert len(found) == 3000 and {f.text for f in found} == {"田中さん"}
    assert mask(text) == "〇〇さん" * 3000


def test_each_postal_code_joins_the_address_after_it():
    text = "〒123-4567 千葉市1-1 " * 200
    found = find(text)
    assert [f.text for f in found] == ["〒123-4567 千葉市1-1"] * 200


def test_an_address_stays_short_before_endless_city_names():
    [f] = find("さいたま市" * 300 + "1丁目")
    assert f.kind == "address" and f.text.endswith("さいたま市1丁目") and len(f.text) < 60


def test_a_long_run_of_marks_keeps_exact_offsets():
    text = "電話 ０９０ー１２３４ー５６７８" + "\u0301" * 200 + " 田中さん"
    found = find(text)
    assert [f.kind for f in found] == ["phone", "name"]
    for f in found:
        assert text[f.start:f.end] == f.text
