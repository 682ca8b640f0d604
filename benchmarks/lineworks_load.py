"""Signed LINE WORKS callbacks through ``nimo serve``, beside a bare server that only checks the
signature and the bot id, in the same run.

Both are real processes under waitress (8 threads); the load comes from this process over
keep-alive connections on 127.0.0.1.  Each callback carries one question of one of 20 registered
users, so Nimo's worker searches and answers to the LINE WORKS stand-in (tests/fakes_lineworks.py,
with a token endpoint that checks the service account's JWT) while the load goes on.  Prints acknowledged
callbacks per second (and the ratio to the bare server), p50 / p95 time to acknowledge, and how
long the worker took to answer them all.  Every process started here is ended with its whole
process group, also when the run fails.

    python benchmarks/lineworks_load.py [--requests 2000] [--clients 8]
    python benchmarks/lineworks_load.py --smoke    # 40 requests from 2 clients: for CI

``run(requests, clients)`` returns the rows, for benchmarks/bench_webhook.py --platform lineworks.
The exit status is 1 when a callback answered anything but 200, one was not answered, or the
stand-in refused a request as malformed.
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes_lineworks import LineWorksStandIn, lineworks_headers  # noqa: E402

SECRET = "bench-bot-secret"
BOT_ID = "2000001"
USERS = [f"bench-user-{i:04d}" for i in range(20)]  # answers of one person go in order; 20 people in parallel
QUESTIONS = ["住まいの確保", "家族教室", "ピアサポーターの活用", "8050問題", "措置入院の退院後支援", "今日の天気は？"]

BARE = textwrap.dedent(f"""
    import base64, hashlib, hmac, sys, waitress
    SECRET, BOT = {SECRET!r}.encode(), {BOT_ID!r}
    def app(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        sig = base64.b64encode(hmac.new(SECRET, body, hashlib.sha256).digest())
        ok = environ.get("HTTP_X_WORKS_BOTID") == BOT and hmac.compare_digest(
            sig, environ.get("HTTP_X_WORKS_SIGNATURE", "").encode())
        start_response("200 OK" if ok else "401 Unauthorized", [("Content-Length", "0")])
        return [b""]
    waitress.serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8, _quiet=True)
""")

_ms = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/healthz")
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


def callback(i: int) -> bytes:
    """One question as LINE WORKS sends it: issuedTime is now (older ones are refused as replays),
    a millisecond apart from every other so that none is taken for a redelivery."""
    t = datetime.now(timezone.utc) + timedelta(milliseconds=next(_ms))
    ev = {"type": "message", "source": {"userId": USERS[i % len(USERS)], "domainId": 40029600},
          "issuedTime": t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z",
          "content": {"type": "text", "text": QUESTIONS[i % len(QUESTIONS)]}}
    return json.dumps(ev, ensure_ascii=False).encode("utf-8")


def load(port: int, n: int, clients: int) -> tuple[float, list[float], int]:
    bodies = [callback(i) for i in range(n)]
    headers = [lineworks_headers(b, SECRET, BOT_ID) for b in bodies]
    lat: list[float] = []
    bad = [0]
    lock = threading.Lock()

    def client(k: int) -> None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for i in range(k, n, clients):
            t0 = time.perf_counter()
            c.request("POST", "/lineworks/callback", body=bodies[i], headers=headers[i])
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


def pct(xs: list[float], p: float) -> float:
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def end_group(proc: subprocess.Popen) -> None:
    """SIGTERM to the process group (nimo serve and its worker), then SIGKILL to what is left."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group outlives its leader while a worker is in it
    except ProcessLookupError:
        pass
    proc.wait(10)


def unanswered(db_path: Path) -> int:
    with sqlite3.connect(db_path, timeout=10) as c:
        return c.execute("SELECT COUNT(*) FROM inbox WHERE status IN ('new', 'working')").fetchone()[0]


WARMUP = 100  # callbacks before the timed load


def finished(db_path: Path, status: str) -> int:
    with sqlite3.connect(db_path, timeout=10) as c:
        return c.execute("SELECT COUNT(*) FROM inbox WHERE status = ?", [status]).fetchone()[0]


def run(requests: int = 2000, clients: int = 8, warmup: int = WARMUP) -> list[dict]:
    """Rows for the table: server, rate, ratio, p50/p95 ack in ms, non-200 count, answered_s."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from bot.people.access import add_user
    from storage.connections import open_db

    tmp = Path(tempfile.mkdtemp(prefix="nimo-lw-bench-"))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp / "private.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    db_path = tmp / "bench.db"
    db = open_db(db_path)
    for user in USERS:
        add_user(db, "lineworks", user, "staff", "bench", datetime.now(timezone.utc))
    works = LineWorksStandIn(public_key=key.public_key(), bot_id=BOT_ID)
    works.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE", "SLACK", "NIMO_SUMMARY"))}
    env.update(NIMO_DB=str(db_path), NIMO_WORKERS=os.environ.get("NIMO_WORKERS", "4"),
               LINEWORKS_BOT_ID=BOT_ID, LINEWORKS_BOT_SECRET=SECRET, LINEWORKS_CLIENT_ID=works.client_id,
               LINEWORKS_CLIENT_SECRET=works.client_secret, LINEWORKS_SERVICE_ACCOUNT=works.service_account,
               LINEWORKS_PRIVATE_KEY=str(tmp / "private.key"), LINEWORKS_API_BASE_URL=works.api_url,
               LINEWORKS_AUTH_URL=works.auth_url)
    rows = []
    try:
        for name, cmd in (("bare (signature only)", [sys.executable, "-c", BARE]),
                          ("nimo serve", [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"])):
            port = free_port()
            proc = subprocess.Popen(cmd + ([str(port)] if name.startswith("bare") else ["--port", str(port)]),
                                    env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            answered, failed = None, 0
            try:
                wait_up(port, proc)
                load(port, warmup, clients)
                t0 = time.perf_counter()
                wall, lat, bad = load(port, requests, clients)
                if name == "nimo serve":  # wait until the worker has answered every callback
                    end = time.perf_counter() + 600
                    while time.perf_counter() < end and unanswered(db_path):
                        time.sleep(0.2)
                    if not unanswered(db_path):
                        answered = time.perf_counter() - t0
                    failed = finished(db_path, "failed")
            finally:
                end_group(proc)
            rows.append({"server": name, "rate": requests / wall, "p50_ms": pct(lat, 50) * 1000,
                         "p95_ms": pct(lat, 95) * 1000, "non_200": bad, "answered_s": answered,
                         "failed": failed})
    finally:
        works.stop()
    base = rows[0]["rate"]
    for r in rows:
        r["ratio"] = r["rate"] / base
    rows[-1]["messages"] = len(works.delivered)
    rows[-1]["stand_in_errors"] = len(works.errors)
    return rows


def failures(rows: list[dict], sent: int) -> list[str]:
    """What makes the run a failure, whatever its speed."""
    why = [f"{r['non_200']} callbacks to {r['server']} answered with another status than 200"
           for r in rows if r["non_200"]]
    last = rows[-1]
    if not last["answered_s"]:
        why.append("not every callback was answered")
    if last["failed"]:
        why.append(f"{last['failed']} callbacks whose answer failed (the worker gave up)")
    if last["messages"] < sent:
        why.append(f"{last['messages']} messages at the stand-in for {sent} callbacks")
    if last["stand_in_errors"]:
        why.append(f"{last['stand_in_errors']} requests the LINE WORKS stand-in refused as malformed")
    return why


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=WARMUP, help="callbacks sent before the timed load")
    ap.add_argument("--smoke", action="store_true", help="40 requests from 2 clients, 10 to warm up (for CI)")
    a = ap.parse_args(argv)
    if a.smoke:
        a.requests, a.clients, a.warmup = 40, 2, 10
    rows = run(a.requests, a.clients, a.warmup)
    print(f"Signed LINE WORKS callbacks carrying questions, {a.requests} requests from {a.clients} "
          f"keep-alive clients on 127.0.0.1\n")
    print("| server | callbacks/s | ratio to bare | ack p50 ms | ack p95 ms | non-200 |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['server']} | {r['rate']:,.0f} | {r['ratio']:.2f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
              f"| {r['non_200']} |")
    last = rows[-1]
    sent = a.requests + a.warmup
    done = (f"all {sent} answered {last['answered_s']:.1f} s after the load began "
            f"({sent / last['answered_s']:,.0f} callbacks/s answered by the `nimo worker` process)"
            if last["answered_s"] else "not all answered within 600 s")
    print(f"\nAt the LINE WORKS stand-in: {last['messages']} messages, {last['stand_in_errors']} refused as "
          f"malformed; {done}")
    from benchmarks import verdict
    return verdict(failures(rows, sent))


if __name__ == "__main__":
    sys.exit(main())
