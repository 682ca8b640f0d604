"""Downloads of the filtered reports, streamed: rows are read from the cursor in batches and
written out as they come, so a download's memory does not grow with its row count (see
benchmarks/bench_console.py).  The layout is that of ``nimo reports export`` (bot/reports/exports.py):
authors named, Japan time to the minute, xlsx dates as dates."""
from __future__ import annotations

import os
import re
import tempfile
from datetime import date
from urllib.parse import quote

from bot.reports import exports as report_export

BATCH = 500
FIELDS = ("id", "platform", "author", "area", "type", "date", "case_code", "summary", "next_action",
          "next_date", "next_time", "status", "created_at", "display_name", "photos")  # the order of queries.REPORT_COLUMNS


def _rows(cursor):
    while True:
        rows = cursor.fetchmany(BATCH)
        if not rows:
            return
        for r in rows:
            yield dict(zip(FIELDS, r))


def csv_stream(cursor):
    yield from report_export.csv_chunks(_rows(cursor))


def xlsx_stream(cursor, chunk: int = 64 * 1024):
    """The workbook is written to a temporary file (write-only: rows on disk, not in memory), then
    sent in chunks."""
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        report_export.write_xlsx(_rows(cursor), path)
        with open(path, "rb") as f:
            while True:
                data = f.read(chunk)
                if not data:
                    break
                yield data
    finally:
        os.unlink(path)


def file_name(f, fmt: str, today: date) -> str:
    """What the download is called, so that a folder of them says which is which: the area and
    the period when the list was filtered by them (``nimo-reports-千葉市-20261101-20261130.csv``),
    else the day it was made."""
    parts = ["nimo-reports"]
    if f.area:
        parts.append(re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|\s]+', "_", f.area))
    if f.since or f.until:
        parts.append(f"{f.since.replace('-', '')}-{f.until.replace('-', '')}")
    else:
        parts.append(f"{today:%Y%m%d}")
    return "-".join(parts) + f".{fmt}"


def disposition(name: str) -> str:
    """Content-Disposition with the name in RFC 5987 form (UTF-8, for 千葉市) and an ASCII
    fallback for the rare client that reads only ``filename=`` (the non-ASCII parts left out)."""
    ascii_name = re.sub(r"-{2,}", "-", "".join(c for c in name if c.isascii() and c not in '"\\'))
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
