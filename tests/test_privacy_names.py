"""Person names in the privacy guard: names as staff write them, role words that must
stay, and a floor on the held-out sentences (tests/data/names_held.jsonl, never tuned on)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.privacy.guard import find, mask

ROOT = Path(__file__).resolve().parent.parent
HELD = ROOT / "tests" / "data" / "names_held.jsonl"

ISSUE = [
    ("田中花子さん宅を訪問。母親の田中よし子さんも同席", "〇〇さん宅を訪問。母親の〇〇さんも同席"),
    ("佐藤さち子さんから電話", "〇〇さんから電話"),
    ("鈴木ヨシ子さん宅を訪問", "〇〇さん宅を訪問"),
    ("田中様より連絡あり", "〇〇様より連絡あり"),
    ("鈴木ケアマネと同行訪問", "〇〇ケアマネと同行訪問"),
    ("田中花子（45）、通院中断", "〇〇（45）、通院中断"),
    ("山本トメさん、デイを休みがち", "〇〇さん、デイを休みがち"),
    ("陽翔くんと結愛ちゃんが来所", "〇〇くんと〇〇ちゃんが来所"),
    ("グエン・ヴァン・アンさんの通訳", "〇〇さんの通訳"),
    ("高橋氏と面談、中村先生に報告、伊藤Drより指示", "〇〇氏と面談、〇〇先生に報告、〇〇Drより指示"),
    ("平田PSWと調整", "〇〇PSWと調整"),
]


@pytest.mark.parametrize("text, expected", ISSUE)
def test_the_names_of_the_issue_are_masked_whole(text, expected):
    assert mask(text) == expected


ROLES = ["本人さんと面談", "ケアマネさんに連絡", "母親が同席", "主治医の意見を確認", "相談員さんと同行",
         "保健師さんが訪問", "民生委員さんから情報", "お父さんが来所", "奥さんが疲れている", "長男さんが同居",
         "大家さんと話す", "ヘルパーさんより報告", "PSWさんと調整", "お孫さんと同居"]


@pytest.mark.parametrize("text", ROLES)
def test_role_words_are_not_names(text):
    assert find(text) == []


def _held():
    with open(HELD, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_held_out_sentences_recall_names_and_spare_role_words():
    rows = _held()
    names = [(r["text"], n) for r in rows for n in r["names"]]
    roles = [r["text"] for r in rows if r["kind"] == "role"]
    assert len(names) >= 100 and len(roles) >= 50
    missed = []
    for text, n in names:
        spans = [(f.start, f.end) for f in find(text) if f.kind == "name"]
        if not any(a <= n["start"] and n["end"] <= b for a, b in spans):
            missed.append(n["text"])
    alarms = [t for t in roles if any(f.kind == "name" for f in find(t))]
    assert 1 - len(missed) / len(names) >= 0.95, missed
    assert len(alarms) / len(roles) <= 0.02, alarms


def test_a_masked_name_is_not_found_again():
    text = "田中花子さん宅を訪問。母親の田中よし子さんも同席"
    assert find(mask(text)) == []


def test_the_web_process_never_loads_the_dictionary():
    """The web process imports the guard's module (through the console) but never calls it; the
    dictionary (about 80 MB) is loaded by the first ``find`` only."""
    code = ("import sys\nimport bot.serve.web, bot.privacy.guard\nassert 'sudachipy' not in sys.modules\n"
            "bot.privacy.guard.find('田中花子さん')\nassert 'sudachipy' in sys.modules\nprint('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]


def test_the_guard_and_the_search_share_one_dictionary():
    from knowledge import tokens
    find("田中花子さん")
    tokens.terms("住まいの確保")
    assert tokens.shared_dictionary() is tokens._dictionary is not None
