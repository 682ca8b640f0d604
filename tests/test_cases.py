"""The case base: every catalogue case is there, every record is valid, and every text is the guide's."""
from __future__ import annotations

import json
import re
import unicodedata

import pytest
import yaml

from casebase.cases import CASES_DIR, ImportError_, import_local, load_all, load_builtin, load_local, withdraw_local
from casebase.faithful import Source, norm
from casebase.schema import FIELDS, META
from casebase.validate import SOURCE_PATH, check_file, check_record

CATALOGUE = json.loads((CASES_DIR.parent / "source" / "catalogue.json").read_text(encoding="utf-8"))["cases"]
GUIDE = SOURCE_PATH.read_text(encoding="utf-8")


def _n(s):
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s or ""))


def test_every_catalogue_case_is_in_the_case_base():
    cases = {c.id: c for c in load_builtin()}
    assert len(cases) == len(CATALOGUE) == 25
    for entry in CATALOGUE:
        case = cases[entry["ref"]]
        assert re.search(entry["match"], _n(case.area) + "|" + _n(case.title)), entry["ref"]
        assert case.section == entry["section"]
        assert case.get("source", "").endswith(entry["section"])


def test_the_guide_copy_is_the_shared_source():
    shared = CASES_DIR.parent.parent.parent / "shared" / "source" / "guide-chapter4.txt"
    if not shared.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert shared.read_text(encoding="utf-8") == GUIDE


@pytest.mark.parametrize("path", sorted(CASES_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_record_is_valid_and_found_in_the_guide(path):
    assert check_file(path) == []


def _texts(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _texts(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _texts(v)


def test_every_sentence_of_every_record_is_in_the_guide():
    """Independent of the validator: each sentence (split at 。) of each text, normalised,
    is a substring of the normalised guide, unless it spans a rejoined sidebar cut."""
    guide = norm(GUIDE)
    missing = []
    total = 0
    for case in load_builtin():
        for name, value in case.data.items():
            if name in META:
                continue
            for text in _texts(value):
                for sentence in re.split(r"(?<=。)", text):
                    s = norm(sentence).lstrip("・⇒")
                    if len(s) < 8:
                        continue
                    total += 1
                    if s not in guide:
                        missing.append((case.id, name, s[:30]))
    assert total > 600
    # A sentence the PDF broke with a sidebar is rejoined in the record; those are few.
    assert len(missing) <= total * 0.03, missing[:20]


def test_fields_the_guide_lacks_are_absent_not_empty():
    for case in load_builtin():
        for name, value in case.data.items():
            assert value not in (None, "", [], {}), (case.id, name)
            assert name in FIELDS


def test_a_paraphrase_is_caught():
    src = Source(GUIDE)
    honest = "住宅関係者と福祉関係者との共通言語を探りながら関係性を深めてきた"
    assert src.misses(honest) == []
    assert src.misses("住宅関係者と福祉関係者が、同じ言葉を見つけて仲良くなった")
    assert src.misses("不動産屋さんと一緒にポスターを作った")


def test_a_mended_line_break_and_pdf_spaces_pass():
    src = Source(GUIDE)
    assert src.misses("市内4病院の対象者からニーズを聞き取り、日中活動や宿泊型施設の体験等のプログラムを実施した。") == []


def _record(**over):
    base = yaml.safe_load((CASES_DIR / "c01.yaml").read_text(encoding="utf-8"))
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def test_validator_names_file_field_and_problem():
    probs = check_record(_record(colour="red", level="県", title=None, hospitals="9"), "x.yaml")
    said = {(p.file, p.field) for p in probs}
    assert ("x.yaml", "colour") in said
    assert ("x.yaml", "level") in said
    assert ("x.yaml", "title") in said
    assert ("x.yaml", "hospitals") in said
    assert all(p.message for p in probs)


def test_validator_finds_invented_text_in_a_nested_field():
    rec = _record()
    rec["forum"] = dict(rec["forum"], members="市長と町内会長と商店街の皆さま")
    probs = check_record(rec, "x.yaml")
    assert [p.field for p in probs] == ["forum.members"]


def test_import_local_case(app, tmp_path):
    good = tmp_path / "local.yaml"
    good.write_text(yaml.safe_dump({
        "id": "chiba-local-1", "part": 1, "section": "ローカル事例", "title": "夜間の電話相談の試行",
        "area": "千葉県X市", "prefecture": "千葉県", "level": "市町村", "source": "千葉県 独自事例 2026",
        "actions": ["夜間に保健師が電話相談に応じる体制を試行した。"],
    }, allow_unicode=True), encoding="utf-8")
    case = import_local(app.db, good, now="2026-11-24T00:00:00+00:00")
    assert case.id == "chiba-local-1"
    assert [c.id for c in load_local(app.db)] == ["chiba-local-1"]
    with pytest.raises(ImportError_) as e:  # the same id twice
        import_local(app.db, good, now="2026-11-24T00:00:00+00:00")
    assert e.value.problems[0].field == "id"


def test_withdraw_local_case(app, tmp_path):
    good = tmp_path / "local.yaml"
    good.write_text(yaml.safe_dump({
        "id": "chiba-local-1", "part": 1, "section": "ローカル事例", "title": "夜間の電話相談の試行",
        "area": "千葉県X市", "prefecture": "千葉県", "level": "市町村", "source": "千葉県 独自事例 2026",
        "actions": ["夜間に保健師が電話相談に応じる体制を試行した。"],
    }, allow_unicode=True), encoding="utf-8")
    import_local(app.db, good, now="2026-11-24T00:00:00+00:00")
    assert not withdraw_local(app.db, "c01")  # a built-in case is not withdrawn
    assert not withdraw_local(app.db, "no-such-case")
    assert withdraw_local(app.db, "chiba-local-1")
    assert load_local(app.db) == [] and [c.id for c in load_all(app.db)] == [c.id for c in load_builtin()]
    import_local(app.db, good, now="2026-11-24T00:00:00+00:00")  # its id is free again
    assert [c.id for c in load_local(app.db)] == ["chiba-local-1"]


@pytest.mark.parametrize("content, field", [
    ("id: [unclosed", "-"),
    ("- just\n- a list\n", "-"),
    ("id: x\npart: 1\n", "section"),
    ("id: c01\npart: 1\nsection: s\ntitle: t\narea: a\nlevel: 市町村\nsource: s\n", "id"),
])
def test_import_refuses_bad_files_and_stores_nothing(app, tmp_path, content, field):
    bad = tmp_path / "bad.yaml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(ImportError_) as e:
        import_local(app.db, bad, now="2026-11-24T00:00:00+00:00")
    assert field in [p.field for p in e.value.problems]
    assert app.db["local_cases"].count == 0
