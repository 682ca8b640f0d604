"""Hostile local-case files: a YAML file can cost no more to read and store than its own size.

An attacker's alias bomb (a list of aliases to one long string) passed validation and was
expanded again on save: 65 KB of file became a 60 MB case and 30 s of a web thread.  Every path
that reads a person's YAML (the console upload, ``nimo cases import``) now refuses anchors and
aliases before anything is built, and caps size, item count and depth.  Real parts: our code,
SQLite, Flask, PyYAML (libyaml), and the ``nimo`` command."""
from __future__ import annotations

import html

import pytest
import yaml

from storage.connections import open_db
from casebase import useryaml
from casebase.cases import ImportError_, import_local

from .test_console import GOOD, Console, upload

NO_ANCHORS = "アンカー（&）とエイリアス（*）は使えません"


def page(r) -> str:
    """The page's text as a person reads it (「&」 is written 「&amp;」 in the HTML)."""
    return html.unescape(r.get_data(as_text=True))


GOOD_RECORD = {**GOOD, "part": 2, "actions": GOOD["actions"].split("\n"), "keywords": ["住まい"]}


def alias_bomb(length: int = 60_000, aliases: int = 1_000) -> bytes:
    """The attacker's file: one long string anchored in a valid field, and a list of aliases to it."""
    head = yaml.safe_dump({k: v for k, v in GOOD_RECORD.items() if k != "actions"}, allow_unicode=True)
    return (head + "title: &t " + "あ" * (length // 3) + "\nactions: [" + ", ".join(["*t"] * aliases) + "]\n").encode()


def good_file(**extra) -> str:
    return yaml.safe_dump({**GOOD_RECORD, **extra}, allow_unicode=True)


HOSTILE = {
    "alias bomb": (alias_bomb(), NO_ANCHORS),
    "an anchor alone": (good_file().replace("title: ", "title: &t ", 1).encode(), NO_ANCHORS),
    "a merge key of an alias": ((good_file() + "x: &m {a: 1}\ny:\n  <<: *m\n").encode(), NO_ANCHORS),
    "billion laughs": (b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n", NO_ANCHORS),
    "ten thousand items": (good_file(keywords=[f"k{i}" for i in range(10_000)]).encode(), "項目が多すぎます"),
    "deep nesting": (b"id: x\nforum: " + b"[" * 500 + b"]" * 500 + b"\n", "入れ子が深すぎます"),
    "a python tag": (b"id: !!python/object/apply:os.system [echo]\n", "YAML として読めません"),
    "over 1 MB": (b"id: x\n" + b"#" * (1024 * 1024), "1MB までにしてください"),
}


@pytest.fixture
def con(clock):
    db = open_db(":memory:")
    from bot.people.access import add_user
    from .conftest import FIXED_NOW
    add_user(db, "line", "Uadmin", "admin", "千葉県", FIXED_NOW)
    return Console(db, clock)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_yaml_upload_is_refused_in_japanese_and_stores_nothing(con, name):
    data, said = HOSTILE[name]
    c = con.client(user="Uadmin")
    r = upload(c, con, data)
    assert r.status_code == 400 and said in page(r)
    assert con.db.execute("SELECT COUNT(*) FROM local_cases").fetchone()[0] == 0


def test_the_alias_bomb_is_refused_at_its_first_anchor_with_its_line(con):
    c = con.client(user="Uadmin")
    body = page(upload(c, con, alias_bomb()))
    line = alias_bomb().decode().splitlines().index(next(l for l in alias_bomb().decode().splitlines()
                                                          if l.startswith("title: &t"))) + 1
    assert f"{NO_ANCHORS}。同じ文は繰り返し書いてください（{line}行目）" in body


def test_the_same_case_without_aliases_is_added(con):
    """The guard refuses the shape, not the content: the file written out in full is accepted."""
    c = con.client(user="Uadmin")
    assert upload(c, con, good_file(actions=["あ" * 100] * 3).encode()).status_code == 303
    assert con.db.execute("SELECT id FROM local_cases").fetchall() == [("chiba-01",)]


@pytest.mark.parametrize("name", HOSTILE)
def test_cases_import_refuses_the_same_files(app, tmp_path, name):
    data, said = HOSTILE[name]
    f = tmp_path / "case.yaml"
    f.write_bytes(data)
    with pytest.raises(ImportError_) as e:
        import_local(app.db, f, now="2026-11-24T00:00:00+00:00")
    assert any(said in p.message for p in e.value.problems)
    assert app.db["local_cases"].count == 0


def test_nimo_cases_import_of_an_alias_bomb_says_why_in_japanese(nimo, tmp_path):
    f = tmp_path / "bomb.yaml"
    f.write_bytes(alias_bomb())
    p = nimo("cases", "import", str(f), check=False)
    assert p.returncode == 1 and NO_ANCHORS in p.stderr and "Traceback" not in p.stderr
    assert "全25件" in nimo("cases").stdout


def test_a_record_built_elsewhere_is_bounded_before_it_is_dumped():
    """A record that shares one long list many times (as an expanded bomb does) is refused at the
    limit, without walking all of what it would expand to."""
    shared = ["あ"] * 100
    with pytest.raises(useryaml.Refused, match="項目が多すぎます"):
        useryaml.check_record_size({"actions": [shared] * 100_000})
    with pytest.raises(useryaml.Refused, match="大きすぎます"):
        useryaml.check_record_size({"actions": ["あ" * 1000] * 2000})
    useryaml.check_record_size(GOOD_RECORD)  # an ordinary record passes
