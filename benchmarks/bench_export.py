"""What the readable export layout costs: the console's CSV and xlsx downloads (authors named,
Japan time to the minute, xlsx date cells with formats and widths) beside the same rows written
raw (csv.writer / openpyxl write-only, no conversion) in the same run.  Prints p50 / p95 seconds
and the ratio.  Never run as a test.

    python benchmarks/bench_export.py [--csv-rows 50000] [--xlsx-rows 10000] [--rounds 7]
    python benchmarks/bench_export.py --smoke     # 1,000 CSV rows, 300 xlsx rows, 1 round: for CI

The exit status is 1 when a download lacks rows or is not a workbook.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.console import exports  # noqa: E402
from bot.console.exports import FIELDS  # noqa: E402


def database(n: int) -> sqlite3.Connection:
    """``n`` reports as the console's query returns them; a third of the authors have no name, and
    the photo counts run 0 to 3."""
    c = sqlite3.connect(":memory:")
    c.execute(f"CREATE TABLE r ({', '.join(FIELDS)})")
    c.executemany(f"INSERT INTO r VALUES ({', '.join('?' * len(FIELDS))})", [
        (i, "line", f"U{i % 2000:032x}", f"市{i % 50}", "訪問", "2026-11-24", "K-012", "服薬確認できた。表情明るい。" * 3,
         "次回訪問", "2026-12-10", "14:00", "active", "2026-11-24T00:30:12.345678+00:00",
         None if i % 3 else f"佐藤{i % 2000}", i % 4)
        for i in range(1, n + 1)])
    return c


def raw_csv(cursor):
    buf = io.StringIO()
    w = csv.writer(buf)
    while rows := cursor.fetchmany(exports.BATCH):
        w.writerows(rows)
    yield buf.getvalue().encode("utf-8")


def raw_xlsx(cursor):
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("報告")
    while rows := cursor.fetchmany(exports.BATCH):
        for r in rows:
            ws.append(list(r))
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        wb.save(path)
        yield Path(path).read_bytes()
    finally:
        os.unlink(path)


def timed(db, make, rounds: int) -> tuple[list[float], bytes]:
    """Seconds of each round, and what the last one wrote."""
    out, data = [], b""
    for _ in range(rounds):
        chunks = []
        t = time.perf_counter()
        for chunk in make(db.execute("SELECT * FROM r")):
            chunks.append(chunk)
        out.append(time.perf_counter() - t)
        data = b"".join(chunks)
    return out, data


def short(fmt: str, data: bytes, n: int) -> str | None:
    """What is wrong with a download of ``n`` rows, if anything."""
    if fmt == "xlsx":
        from openpyxl import load_workbook
        try:
            rows = sum(1 for _ in load_workbook(io.BytesIO(data), read_only=True).worksheets[0].iter_rows())
        except Exception as e:  # not a workbook at all
            return f"xlsx unreadable: {type(e).__name__}"
    else:
        rows = len(data.decode("utf-8-sig").splitlines())
    return None if rows >= n else f"{fmt}: {rows} lines for {n} rows"


def p95(xs: list[float]) -> float:
    return sorted(xs)[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv-rows", type=int, default=50_000)
    ap.add_argument("--xlsx-rows", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--smoke", action="store_true", help="1,000 CSV rows, 300 xlsx rows, 1 round (for CI)")
    a = ap.parse_args()
    if a.smoke:
        a.csv_rows, a.xlsx_rows, a.rounds = 1_000, 300, 1
    problems = []
    print("| format | rows | raw p50 s | raw p95 s | layout p50 s | layout p95 s | p50 ratio |")
    print("|---|---|---|---|---|---|---|")
    for fmt, n, raw, layout in (("csv", a.csv_rows, raw_csv, exports.csv_stream),
                                ("xlsx", a.xlsx_rows, raw_xlsx, exports.xlsx_stream)):
        db = database(n)
        base, ours = [], []
        for _ in range(a.rounds):  # interleaved, so a busy moment weighs on both alike
            base += timed(db, raw, 1)[0]
            took, data = timed(db, layout, 1)
            ours += took
        problems += [p for p in [short(fmt, data, n)] if p]
        b50, o50 = statistics.median(base), statistics.median(ours)
        print(f"| {fmt} | {n:,} | {b50:.2f} | {p95(base):.2f} | {o50:.2f} | {p95(ours):.2f} | {o50 / b50:.2f} |")
    from benchmarks import verdict
    return verdict(problems)


if __name__ == "__main__":
    sys.exit(main())
