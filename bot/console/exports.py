"""Downloads of the filtered reports, streamed: rows are read from the cursor in batches and
written out as they come, so a download's memory does not grow with its row count (see
benchmarks/bench_console.py).  The columns are those of ``nimo reports export``."""
from __future__ import annotations

import csv
import io
import os
import tempfile

from ..cli import EXPORT_COLUMNS
from ..reports import number

BATCH = 500


def _values(row) -> list[str]:
    r = dict(zip(("id", "platform", "author", "area", "type", "date", "case_code", "summary", "next_action",
                  "next_date", "status", "created_at", "display_name"), row))
    r["number"] = number(r["id"])
    return [r[k] or "" for k, _ in EXPORT_COLUMNS]


def csv_stream(cursor):
    """UTF-8 with a BOM, so that Excel reads the Japanese."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([h for _, h in EXPORT_COLUMNS])
    yield "\ufeff".encode("utf-8") + buf.getvalue().encode("utf-8")
    while True:
        rows = cursor.fetchmany(BATCH)
        if not rows:
            break
        buf.seek(0)
        buf.truncate()
        w.writerows(_values(r) for r in rows)
        yield buf.getvalue().encode("utf-8")


def xlsx_stream(cursor, chunk: int = 64 * 1024):
    """openpyxl's write-only workbook keeps rows on disk, not in memory; the file is sent in chunks."""
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("報告")
    ws.append([h for _, h in EXPORT_COLUMNS])
    while True:
        rows = cursor.fetchmany(BATCH)
        if not rows:
            break
        for r in rows:
            ws.append(_values(r))
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        wb.save(path)
        with open(path, "rb") as f:
            while True:
                data = f.read(chunk)
                if not data:
                    break
                yield data
    finally:
        os.unlink(path)
