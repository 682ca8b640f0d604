"""Signed LINE webhooks through ``nimo serve``, beside a bare server that only checks the signature.

Both run as real processes under waitress with the same thread count; the load comes from this
process over keep-alive connections on 127.0.0.1.  Each webhook carries one text message of a
registered user, so Nimo's workers search and reply to a LINE stand-in while the load goes on.
Prints events per second (and the ratio to the bare server), and p50 / p95 time to acknowledge.
With ``--kind report`` every user sends a field report and then 「確定」 (two events per report),
and the run waits until every report is saved in SQLite.

    python benchmarks/bench_webhook.py [--requests 2000] [--clients 8] [--kind question|report]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes import LineStandIn, line_signature  # noqa: E402

SECRET = "bench-secret"
TOKEN = "test-line-token"
QUESTIONS = ["住まいの確保", "家族教室", "ピアサポーターの活用", "アウトリーチ", "措置入院の退院後支援", "今日の天気は？"]

BARE = textwrap.dedent(f"""
    import base64, hashlib, hmac, sys, waitress
    SECRET = {SECRET!r}.encode()
    def app(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        sig = base64.b64encode(hmac.new(SECRET, body, hashlib.sha256).digest())
        ok = hmac.compare_digest(sig, environ.get("HTTP_X_LINE_SIGNATURE", "").encode())
        start_response("200 OK" if ok else "401 Unauthorized", [("Content-Length", "0")])
        return [b""]
    waitress.serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8, _quiet=True)
""")


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, path: str = "/healthz", timeout: float = 30) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path)
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


KIND = "question"


def body_for(i: int) -> bytes:
    if KIND == "report":  # user i // 2: the report, then 「確定」
        user, text = f"Urep{i // 2:06d}", (f"報告 訪問 K-{i // 2:04d} 服薬確認できた。表情明るい。" if i % 2 == 0 else "確定")
    else:
        user, text = "Ubench", QUESTIONS[i % len(QUESTIONS)]
    ev = {"type": "message", "mode": "active", "timestamp": 1700000000000 + i,
          "source": {"type": "user", "userId": user}, "webhookEventId": f"01BENCH{i:020d}",
          "deliveryContext": {"isRedelivery": False}, "replyToken": f"rt{i:030d}",
          "message": {"id": str(10_000 + i), "type": "text", "quoteToken": "q", "text": text}}
    return json.dumps({"destination": "Ubot", "events": [ev]}, ensure_ascii=False).encode()


def load(port: int, n: int, clients: int, first: int = 0) -> tuple[float, list[float], int]:
    bodies = [body_for(first + i) for i in range(n)]
    sigs = [line_signature(b, SECRET) for b in bodies]
    lat: list[float] = []
    bad = [0]
    lock = threading.Lock()
    step = 2 if KIND == "report" else 1  # a user's two events go through one client, in order

    def client(k: int) -> None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for i in (j for start in range(k * step, n, clients * step) for j in range(start, min(start + step, n))):
            t0 = time.perf_counter()
            c.request("POST", "/line/webhook", body=bodies[i],
                      headers={"Content-Type": "application/json", "X-Line-Signature": sigs[i]})
            r = c.getresponse()
            r.read()
            mine.append(time.perf_counter() - t0)
            if r.status != 200:
                with lock:
                    bad[0] += 1
        with lock:
            lat.extend(mine)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, sorted(lat), bad[0]


def pct(xs, p):
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--kind", choices=["question", "report"], default="question")
    a = ap.parse_args()
    global KIND
    KIND = a.kind
    tmp = Path(tempfile.mkdtemp())
    line = LineStandIn(access_token=TOKEN)
    line.start()
    env = dict(os.environ, NIMO_WORKERS=os.environ.get("NIMO_WORKERS", "4"), NIMO_DB=str(tmp / "bench.db"), LINE_CHANNEL_SECRET=SECRET, LINE_CHANNEL_ACCESS_TOKEN=TOKEN,
               LINE_API_BASE_URL=line.url, SLACK_SIGNING_SECRET="", SLACK_BOT_TOKEN="")
    from bot.access import add_user
    from bot.db import open_db
    from datetime import datetime, timezone
    db = open_db(tmp / "bench.db")
    with db.conn:
        for u in ["Ubench"] + [f"Urep{i:06d}" for i in range(a.requests)] + [f"Urep{i:06d}" for i in range(5 * 10**6, 5 * 10**6 + 100)]:
            add_user(db, "line", u, "staff", "bench", datetime.now(timezone.utc))
    rows = []
    saved = 0
    for name, cmd in (("bare (signature only)", [sys.executable, "-c", BARE]),
                      ("nimo serve", [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"])):
        port = free_port()
        proc = subprocess.Popen(cmd + ([str(port)] if name.startswith("bare") else ["--port", str(port)]),
                                env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        answered = None
        try:
            wait_up(port)
            load(port, 100, a.clients, first=10**7)  # warm-up, with event ids of its own
            t0 = time.perf_counter()
            wall, lat, bad = load(port, a.requests, a.clients)
            if name == "nimo serve":  # every event asked a question: wait for every answer
                if line.wait_for(lambda l: len(l.delivered) >= a.requests + 100, timeout=300):
                    answered = time.perf_counter() - t0
                saved = db.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
        finally:
            proc.terminate()
            proc.wait(10)
        rows.append((name, a.requests / wall, pct(lat, 50) * 1000, pct(lat, 95) * 1000, bad))
    line.stop()
    base = rows[0][1]
    what = "field reports (a report, then 「確定」: two events each)" if KIND == "report" else "questions"
    print(f"Signed LINE webhooks carrying {what}, {a.requests} requests from {a.clients} keep-alive clients on 127.0.0.1\n")
    print("| server | events/s | ratio to bare | ack p50 ms | ack p95 ms | non-200 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rate, p50, p95, bad in rows:
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f} | {p50:.1f} | {p95:.1f} | {bad} |")
    if KIND == "report":
        print(f"\nReports accepted per second (two events each): {rows[1][1] / 2:,.0f}, ratio to the bare server's "
              f"events/2 {rows[1][1] / base:.2f}; reports saved in SQLite when all answers were in: {saved}")
    kinds = {k: sum(1 for d in line.delivered if d["kind"] == k) for k in ("reply", "push")}
    print(f"\nAnswers at the LINE stand-in: {kinds['reply']} replies, {kinds['push']} pushes for "
          f"{a.requests + 100} events; " + (f"all answered {answered:.1f} s after the load began "
          f"({(a.requests + 100) / answered:,.0f} answers/s, by the `nimo worker` process)" if answered
          else "not all answered within 300 s"))


if __name__ == "__main__":
    main()
