"""How long ``nimo backup`` takes on a database of N reports (with their audit rows and 1 photo in
50), idle and while a writer adds reports, and how long ``nimo restore`` takes.  Each is the whole
command (a new process: interpreter start, the database check, the copy), median of ``--rounds``.
Never run as a test.

    python benchmarks/bench_backup.py [--reports 10000] [--rounds 5]
    python benchmarks/bench_backup.py --smoke     # 300 reports, 1 round: for CI

The exit status is 1 when a command fails, the writer added nothing while the backups ran, or a
backup or a restored copy lacks the reports or fails SQLite's integrity check.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.connections import open_db  # noqa: E402


def make(path: Path, n: int) -> None:
    db = open_db(path)
    conn = db.conn
    conn.execute("BEGIN")
    for i in range(n):
        rid = conn.execute(
            "INSERT INTO reports (platform, author, area, type, date, case_code, summary, next_action, created_at, "
            "updated_at) VALUES ('line', ?, ?, '訪問', '2026-11-20', ?, ?, '次回訪問', '2026-11-20T00:00:00+00:00', "
            "'2026-11-20T00:00:00+00:00')",
            [f"U{i % 200:032x}", f"地域{i % 50}", f"K-{i % 900:03d}", f"服薬確認できた。表情明るい。{i} " + "経過" * 60]).lastrowid
        conn.execute("INSERT INTO report_audit (report_id, action, by, after, at) VALUES (?, 'create', 'x', ?, 't')",
                     [rid, "{}" * 100])
        if i % 50 == 0:
            photo = path.parent / "photos" / f"line-{i:06d}-{i:012x}.jpg"
            photo.parent.mkdir(mode=0o700, exist_ok=True)
            photo.write_bytes(os.urandom(200_000))
            conn.execute("INSERT INTO report_photos (report_id, path, bytes, created_at) VALUES (?, ?, 200000, 't')",
                         [rid, str(photo)])
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def nimo(db: Path, *args: str) -> float:
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "bot", *args], env=dict(os.environ, NIMO_DB=str(db)),
                       capture_output=True, text=True, cwd=ROOT)
    took = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    return took


def reports_in(path: Path) -> tuple[str, int]:
    """(SQLite's integrity check, the number of reports) of the database file at ``path``."""
    check = sqlite3.connect(path)
    try:
        return check.execute("PRAGMA integrity_check").fetchone()[0], check.execute(
            "SELECT COUNT(*) FROM reports").fetchone()[0]
    finally:
        check.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--smoke", action="store_true", help="300 reports, 1 round (for CI)")
    a = ap.parse_args()
    if a.smoke:
        a.reports, a.rounds = 300, 1
    tmp = Path(tempfile.mkdtemp(prefix="nimo-bench-backup-"))
    try:
        db = tmp / "live" / "nimo.db"
        make(db, a.reports)
        size = db.stat().st_size
        idle, busy, restore = [], [], []
        for r in range(a.rounds):
            idle.append(nimo(db, "backup", str(tmp / f"idle{r}.db")))
        stop = threading.Event()

        written = [0]

        def writer():
            w = open_db(db)
            while not stop.is_set():
                written[0] += 1
                w.execute("INSERT INTO reports (platform, author, area, type, date, summary, created_at, updated_at) "
                          "VALUES ('line', 'U', '地域', '電話', '2026-11-21', '電話で確認', 't', 't')")
            w.close()

        t = threading.Thread(target=writer)
        t.start()
        try:
            for r in range(a.rounds):
                busy.append(nimo(db, "backup", str(tmp / f"busy{r}.db")))
        finally:
            stop.set()
            t.join()
        for r in range(a.rounds):
            target = tmp / f"restored{r}" / "nimo.db"
            restore.append(nimo(target, "restore", str(tmp / "idle0.db")))
        base = nimo(db, "--help")
        print(f"reports {a.reports:,}, database {size / 1e6:.1f} MB, photos {len(list((db.parent / 'photos').iterdir()))}"
              f" ({sum(f.stat().st_size for f in (db.parent / 'photos').iterdir()) / 1e6:.1f} MB); median of {a.rounds}")
        print("| command | seconds |")
        print("|---|---|")
        print(f"| nimo --help (interpreter start, for reference) | {base:.2f} |")
        print(f"| nimo backup, idle | {statistics.median(idle):.2f} |")
        print(f"| nimo backup, while a writer adds reports | {statistics.median(busy):.2f} |")
        print(f"| nimo restore (into a new path) | {statistics.median(restore):.2f} |")
        busy_check, busy_reports = reports_in(tmp / "busy0.db")
        print("integrity of a backup taken while writing:", busy_check)
        problems = [] if written[0] else ["the writer added nothing while the backups ran"]
        for name, (check, n) in (("backup taken idle", reports_in(tmp / "idle0.db")),
                                 ("backup taken while writing", (busy_check, busy_reports)),
                                 ("restored copy", reports_in(tmp / "restored0" / "nimo.db"))):
            if check != "ok" or n < a.reports:
                problems.append(f"{name}: integrity {check}, {n} reports of at least {a.reports}")
        from benchmarks import verdict
        return verdict(problems)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
