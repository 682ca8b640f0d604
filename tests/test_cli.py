"""The ``nimo`` command as a user and score.py call it (a real process, its own database file)."""
from __future__ import annotations

import json
import sqlite3

import yaml


def test_ask_json_contract(nimo):
    out = json.loads(nimo("ask", "--json", "住まいの確保").stdout)
    assert set(out) == {"question", "answered", "reason", "answer", "results"}
    assert out["answered"] is True and out["reason"] is None and out["question"] == "住まいの確保"
    assert len(out["results"]) >= 3
    assert set(out["results"][0]) == {"id", "area", "title", "section", "score"}
    assert out["results"][0]["title"] in out["answer"]


def test_ask_json_stdin_one_line_each(nimo):
    p = nimo("ask", "--json", "-", input="8050問題\n今日の天気は？\n\n家族教室\n")
    lines = [json.loads(l) for l in p.stdout.splitlines()]
    assert [l["question"] for l in lines] == ["8050問題", "今日の天気は？", "", "家族教室"]
    assert [l["answered"] for l in lines] == [True, False, False, True]
    assert lines[1]["results"] == [] and "見つかりませんでした" in lines[1]["answer"]


def test_ask_plain(nimo):
    assert "出典：第4章" in nimo("ask", "ピアサポーター").stdout


def test_chat_is_scriptable(nimo):
    out = nimo("chat", input="8050問題\n詳しく 1\n").stdout
    assert "に近い事例が" in out and "■" in out and "出典：第4章" in out


def test_cases_list_json_and_show(nimo):
    assert "全25件" in nimo("cases").stdout
    records = json.loads(nimo("cases", "--json").stdout)
    assert len(records) == 25
    c05 = next(r for r in records if r["id"] == "c05")
    assert c05["area"] == "静岡県志太榛原圏域" and c05["forum"] and c05["population"] > 0
    assert "志太榛原" in nimo("cases", "show", "c05").stdout
    p = nimo("cases", "show", "c99", check=False)
    assert p.returncode != 0 and "ありません" in p.stderr and "Traceback" not in p.stderr


def test_cases_check_passes(nimo):
    assert "OK" in nimo("cases", "check").stdout


def test_cases_import_then_search_finds_it(nimo, tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text(yaml.safe_dump({
        "id": "x-001", "part": 1, "section": "独自事例", "title": "ピアサポーターによる夜間電話相談",
        "area": "千葉県X市", "level": "市町村", "source": "X市 独自事例",
        "actions": ["ピアサポーターが夜間の電話相談に応じる。"]}, allow_unicode=True), encoding="utf-8")
    assert "x-001" in nimo("cases", "import", str(f)).stdout
    assert "全26件" in nimo("cases").stdout
    out = json.loads(nimo("ask", "--json", "夜間電話相談").stdout)
    assert out["results"][0]["id"] == "x-001"
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: y\nlevel: 村\n", encoding="utf-8")
    p = nimo("cases", "import", str(bad), check=False)
    assert p.returncode == 1 and "level" in p.stderr and "title" in p.stderr
    assert "全26件" in nimo("cases").stdout
    assert "取り下げました" in nimo("cases", "withdraw", "x-001").stdout
    assert "全25件" in nimo("cases").stdout
    assert "x-001" not in [r["id"] for r in json.loads(nimo("ask", "--json", "夜間電話相談").stdout)["results"]]
    p = nimo("cases", "withdraw", "c01", check=False)  # a built-in case stays
    assert p.returncode == 1 and "組み込み" in p.stderr


def test_gaps_most_frequent_first(nimo):
    nimo("ask", "--json", "-", input="有給の申請方法\n今日の天気は？\n有給の申請方法\n")
    nimo("chat", input="ピアサポーター\n👎\n")
    lines = nimo("gaps").stdout.splitlines()
    assert lines[1].startswith("2\t") and "有給の申請方法" in lines[1]
    assert any("今日の天気" in l for l in lines[2:])
    assert any("👎" in l and "ピアサポーター" in l for l in lines[2:])


def test_nimo_db_names_the_file(nimo):
    nimo("ask", "今日の天気は？")
    rows = sqlite3.connect(nimo.db_path).execute("SELECT question FROM gaps").fetchall()
    assert rows == [("今日の天気は？",)]


U123 = "U" + "0123456789abcdef" * 2


def test_users_and_invites(nimo):
    assert "登録しました" in nimo("users", "add", "--platform", "line", "--id", U123, "--role", "supervisor",
                                 "--area", "千葉市").stdout
    assert f"{U123}\tsupervisor\t千葉市" in nimo("users", "list").stdout
    bad = nimo("users", "add", "--platform", "line", "--id", U123, "--role", "boss", "--area", "x", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    code = nimo("invite", "create", "--role", "staff", "--area", "船橋市").stdout.strip()
    assert len(code) == 8 and code.isalnum()
    assert "登録を解除しました" in nimo("users", "remove", "--platform", "line", "--id", U123).stdout
    gone = nimo("users", "remove", "--platform", "line", "--id", U123, check=False)
    assert gone.returncode != 0 and "登録されていません" in gone.stderr


def test_serve_check_names_what_is_set_and_hides_values(nimo, monkeypatch):
    p = nimo("serve", "--check", check=False)
    assert p.returncode == 1 and "LINE: オフ" in p.stdout and "Slack: オフ" in p.stdout


def test_serve_check_with_line_set(tmp_path):
    import os
    import subprocess
    import sys
    secret, token = "5ec7e7" + "0" * 26, "t0ken" + "A" * 167  # the shapes LINE issues (32 hex, 172 chars)
    env = dict(os.environ, NIMO_DB=str(tmp_path / "n.db"), LINE_CHANNEL_SECRET=secret,
               LINE_CHANNEL_ACCESS_TOKEN=token)
    env.pop("SLACK_BOT_TOKEN", None)
    p = subprocess.run([sys.executable, "-m", "bot", "serve", "--check"], env=env, capture_output=True, text=True)
    assert p.returncode == 0 and "LINE: オン" in p.stdout
    assert secret not in p.stdout and token not in p.stdout


def test_serve_check_lines_its_values_up_in_one_column(nimo):
    import unicodedata

    def columns(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)

    p = nimo("serve", "--check", check=False)
    rows = p.stdout.split("\n\n")[0].splitlines()
    assert len(rows) >= 20 and any("未設定" in r for r in rows)
    starts = {columns(r[:len(r) - len(r.split(None, 1)[1])]) for r in rows}  # where each value begins
    assert len(starts) == 1, rows
