"""Downloads of the filtered reports, streamed: rows are read from the cursor in batches and
written out as they come, so a download's memory does not grow with its row count (see
benchmarks/bench_console.py).  The layout is that of ``nimo reports export`` (bot/report_export.py):
authors named, Japan time to the minute, xlsx dates as dates."""
from __future__ import annotations

import os
import tempfile

from .. import report_export

BATCH = 500
FIELDS = ("id", "platform", "author", "area", "type", "date", "case_code", "summary", "next_action",
          "next_date", "next_time", "status", "created_at", "display_name")  # the order of queries.REPORT_COLUMNS


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
