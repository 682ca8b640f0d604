"""Signed LINE webhooks through ``nimo serve``, beside a bare server that only checks the signature.

Both run as real processes under waitress with the same thread count; the load comes from this
process over keep-alive connections on 127.0.0.1.  Each webhook carries one text message of a
registered user (one user per client, so every user's events arrive in order), so Nimo's worker
searches and replies to a LINE stand-in while the load goes on.

Prints, per server, events acknowledged per second (and the ratio to the bare server) and p50 / p95
time to acknowledge; then the answers: answers per second from the start of the load to the last
answer, time to answer p50 / p95 (from the moment this process had the acknowledgement to the
moment the stand-in accepted the reply), how many events were answered, and whether each user's
answers reached the stand-in in the order the user sent the events.  With ``--kind report`` every
user sends a field report and then 「確定」 (two events per report), and the run also counts the
reports saved in SQLite.  ``--json`` prints the same figures as one JSON object instead.

Every server runs in a process group of its own, and the group (``nimo serve`` and its ``nimo
worker``) is sent SIGTERM, then SIGKILL, when the run ends, fails or is interrupted: the benchmark
leaves no process behind.

    python benchmarks/bench_webhook.py [--requests 2000] [--clients 8] [--kind question|report] [--json]
    python benchmarks/bench_webhook.py --platform lineworks   # signed LINE WORKS callbacks instead
    python benchmarks/bench_webhook.py --smoke                # 40 requests from 2 clients: for CI

The exit status is 1 when the run failed: a webhook answered with anything but 200, an event not
answered or answered out of order, a request the stand-in refused, a report not saved.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
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
WARMUP = 100  # events sent (and, to nimo, answered) before the timed load: connections, caches, index
WARMUP_FIRST = 10**7  # the warm-up's events have numbers (ids, reply tokens) of their own

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


class TimedLine(LineStandIn):
    """The LINE stand-in, validating as always, that also notes when it accepted each delivery."""

    def _deliver(self, *args, **kwargs):
        # Whatever the stand-in's own signature is: a copy of it here went stale once and made every
        # delivery answer 500.
        sent = super()._deliver(*args, **kwargs)
        self.delivered[-1]["at"] = time.perf_counter()  # under the stand-in's lock, like the append
        return sent


# -- processes ----------------------------------------------------------------------------------
def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], env: dict, log) -> subprocess.Popen:
    """A server in a session (and so a process group) of its own: its children are in it too, and
    a Ctrl-C at the terminal reaches only this process, whose ``finally`` stops the group."""
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
                            start_new_session=True)


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, read from /proc."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            stat = Path(f"/proc/{d}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(d))
    return out


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds used so far by each process (from /proc; {} elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def role(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    return "worker" if b"worker" in cmd else "web" if b"serve" in cmd else "server"


def _group_alive(pgid: int) -> bool:
    if os.path.isdir("/proc"):
        return bool(_group_members(pgid))
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def _gone(proc: subprocess.Popen, pgid: int, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while True:
        proc.poll()  # reap the leader, so it does not count as alive
        if not _group_alive(pgid):
            return True
        if time.monotonic() > end:
            return False
        time.sleep(0.05)


def stop_group(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """SIGTERM to the whole group (``nimo serve`` and its worker), SIGKILL to what is left after
    ``grace`` seconds."""
    pgid = proc.pid  # a session leader's group id is its pid
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        if _gone(proc, pgid, wait):
            break
    if _group_alive(pgid):
        print(f"warning: process group {pgid} still has {_group_members(pgid)}", file=sys.stderr)


def wait_up(port: int, proc: subprocess.Popen, path: str = "/healthz", timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it answered")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", path)
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


# -- load ---------------------------------------------------------------------------------------
def event_for(g: int, user: str, kind: str) -> bytes:
    """Event number ``g`` (its id and reply token carry the number) from ``user``."""
    if kind == "report":  # the report, then 「確定」
        text = f"報告 訪問 K-{g // 2:04d} 服薬確認できた。表情明るい。" if g % 2 == 0 else "確定"
    else:
        text = QUESTIONS[g % len(QUESTIONS)]
    ev = {"type": "message", "mode": "active", "timestamp": 1700000000000 + g,
          "source": {"type": "user", "userId": user}, "webhookEventId": f"01BENCH{g:020d}",
          "deliveryContext": {"isRedelivery": False}, "replyToken": f"rt{g:030d}",
          "message": {"id": str(10_000 + g), "type": "text", "quoteToken": "q", "text": text}}
    return json.dumps({"destination": "Ubot", "events": [ev]}, ensure_ascii=False).encode()


def plan(n: int, clients: int, first: int, kind: str) -> list[list[tuple[int, str]]]:
    """Each client's events, in sending order, as (event number, user).  A question user is one
    client; a report user's two events go through one client, one after the other."""
    out: list[list[tuple[int, str]]] = [[] for _ in range(clients)]
    if kind == "report":
        for pair in range(0, n, 2):
            for g in range(first + pair, first + min(pair + 2, n)):
                out[(pair // 2) % clients].append((g, f"Urep{g // 2:07d}"))
    else:
        for i in range(n):
            out[i % clients].append((first + i, f"Ubench{i % clients}"))
    return out


def load(port: int, work: list[list[tuple[int, str]]], kind: str):
    """Send every client's events over one keep-alive connection each, all clients at once.
    Returns (wall seconds, sorted ack latencies, non-200 count, {event number: ack time})."""
    bodies = {g: event_for(g, u, kind) for events in work for g, u in events}
    sigs = {g: line_signature(b, SECRET) for g, b in bodies.items()}
    lat: list[float] = []
    acked: dict[int, float] = {}
    bad = [0]
    lock = threading.Lock()

    def client(events) -> None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, times = [], {}
        for g, _ in events:
            t0 = time.perf_counter()
            c.request("POST", "/line/webhook", body=bodies[g],
                      headers={"Content-Type": "application/json", "X-Line-Signature": sigs[g]})
            r = c.getresponse()
            r.read()
            t1 = time.perf_counter()
            mine.append(t1 - t0)
            times[g] = t1
            if r.status != 200:
                with lock:
                    bad[0] += 1
        c.close()
        with lock:
            lat.extend(mine)
            acked.update(times)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(events,), daemon=True) for events in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, sorted(lat), bad[0], acked


def pct(xs, p):
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def token_number(token: str | None) -> int | None:
    return int(token[2:]) if token and token.startswith("rt") else None


def wait_answers(line: TimedLine, numbers: set[int], timeout: float) -> bool:
    """Poll (not on every delivery: the stand-in shares this process with nothing else to do)."""
    end = time.monotonic() + timeout
    seen: set[int] = set()
    done = 0
    while True:
        with line._lock:
            new = line.delivered[done:]
        done += len(new)
        seen.update(n for d in new if (n := token_number(d["reply_token"])) in numbers)
        if len(seen) >= len(numbers):
            return True
        if time.monotonic() > end:
            return False
        time.sleep(0.05)


def answers(line: TimedLine, work, acked: dict[int, float], t_load: float) -> dict:
    """Answers to the measured events, read from the stand-in's record."""
    user_of = {g: u for events in work for g, u in events}
    with line._lock:
        delivered = list(line.delivered)
    at: dict[int, float] = {}
    per_user: dict[str, list[int]] = {}
    pushes = 0
    for d in delivered:
        g = token_number(d["reply_token"])
        if g in user_of:
            at.setdefault(g, d["at"])
            per_user.setdefault(user_of[g], []).append(g)
        elif d["kind"] != "reply":
            pushes += 1
    sent_order = {u: [g for events in work for g, v in events if v == u] for u in set(user_of.values())}
    # In order: the stand-in received each user's answers in the order the user sent the events
    # (and each once); an unanswered event breaks the order check too.
    in_order = all(per_user.get(u, []) == seq for u, seq in sent_order.items())
    tta = sorted(at[g] - acked[g] for g in at if g in acked)
    last = max(at.values(), default=t_load)
    return {"sent": len(user_of), "answered": len(at), "users": len(sent_order),
            "answers_per_s": len(at) / (last - t_load) if at else 0.0,
            "answer_p50_ms": pct(tta, 50) * 1000, "answer_p95_ms": pct(tta, 95) * 1000,
            "answer_max_ms": (tta[-1] * 1000) if tta else float("nan"),
            "all_in_s": (last - t_load) if len(at) == len(user_of) else None,
            "in_order": in_order, "pushes": pushes}


# -- run ----------------------------------------------------------------------------------------
def run(a, tmp: Path, line: TimedLine) -> dict:
    env = dict(os.environ, NIMO_WORKERS=os.environ.get("NIMO_WORKERS", "4"), NIMO_DB=str(tmp / "bench.db"),
               LINE_CHANNEL_SECRET=SECRET, LINE_CHANNEL_ACCESS_TOKEN=TOKEN, LINE_API_BASE_URL=line.url,
               SLACK_SIGNING_SECRET="", SLACK_BOT_TOKEN="")
    from datetime import datetime, timezone
    from bot.people.access import add_user
    from storage.connections import open_db
    warm = plan(a.warmup, a.clients, WARMUP_FIRST, a.kind)
    work = plan(a.requests, a.clients, 0, a.kind)
    db = open_db(tmp / "bench.db")
    with db.conn:
        for u in sorted({u for events in warm + work for _, u in events}):
            add_user(db, "line", u, "staff", "bench", datetime.now(timezone.utc))
    out: dict = {"requests": a.requests, "clients": a.clients, "kind": a.kind,
                 "workers": int(env["NIMO_WORKERS"])}
    for key, cmd in (("bare", [sys.executable, "-c", BARE]),
                     ("nimo", [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"])):
        port = free_port()
        with open(tmp / f"{key}.log", "wb") as log:
            proc = start(cmd + ([str(port)] if key == "bare" else ["--port", str(port)]), env, log)
            try:
                wait_up(port, proc)
                load(port, warm, a.kind)
                if key == "nimo" and not wait_answers(line, {g for ev in warm for g, _ in ev}, a.timeout):
                    raise RuntimeError("the warm-up's events were not all answered")
                pids = _group_members(proc.pid) if os.path.isdir("/proc") else []
                cpu0, self0 = cpu_seconds(pids), os.times()
                saved_before = db.execute("SELECT COUNT(*) FROM reports").fetchone()[0]  # the warm-up's
                t_load = time.perf_counter()
                wall, lat, bad, acked = load(port, work, a.kind)
                out[key] = {"events_per_s": a.requests / wall, "ack_p50_ms": pct(lat, 50) * 1000,
                            "ack_p95_ms": pct(lat, 95) * 1000, "non_200": bad}
                if key == "nimo":
                    wait_answers(line, set(acked), a.timeout)
                    out["answers"] = answers(line, work, acked, t_load)
                    out["reports_saved"] = db.execute("SELECT COUNT(*) FROM reports").fetchone()[0] - saved_before
                    # CPU seconds from the start of the load to the last answer, per process: who
                    # the answering waited for (this process runs the load and the LINE stand-in).
                    cpu1, self1 = cpu_seconds(pids), os.times()
                    used = {role(p): cpu1[p] - cpu0[p] for p in cpu1 if p in cpu0}
                    used["bench (load + stand-in)"] = (self1.user + self1.system) - (self0.user + self0.system)
                    out["cpu_s"] = used
                    out["loadavg_1m"] = os.getloadavg()[0]
            finally:
                stop_group(proc)
    out["nimo"]["ratio"] = out["nimo"]["events_per_s"] / out["bare"]["events_per_s"]
    out["standin_errors"] = len(line.errors)
    return out


def table(r: dict) -> str:
    what = "field reports (a report, then 「確定」: two events each)" if r["kind"] == "report" else "questions"
    ans = r["answers"]
    lines = [f"Signed LINE webhooks carrying {what}, {r['requests']} requests from {r['clients']} keep-alive "
             f"clients ({ans['users']} users) on 127.0.0.1; NIMO_WORKERS={r['workers']}", "",
             "| server | events/s | ratio to bare | ack p50 ms | ack p95 ms | non-200 |", "|---|---:|---:|---:|---:|---:|"]
    for name, key in (("bare (signature only)", "bare"), ("nimo serve", "nimo")):
        s = r[key]
        lines.append(f"| {name} | {s['events_per_s']:,.0f} | {s['events_per_s'] / r['bare']['events_per_s']:.2f} "
                     f"| {s['ack_p50_ms']:.1f} | {s['ack_p95_ms']:.1f} | {s['non_200']} |")
    lines += ["", "Answers (by the `nimo worker` process, at the LINE stand-in):", "",
              "| answered | answers/s | answer p50 ms | answer p95 ms | answer max ms | each user's answers in order |",
              "|---:|---:|---:|---:|---:|---|",
              f"| {ans['answered']:,} of {ans['sent']:,} | {ans['answers_per_s']:,.1f} | {ans['answer_p50_ms']:,.0f} "
              f"| {ans['answer_p95_ms']:,.0f} | {ans['answer_max_ms']:,.0f} | {'yes' if ans['in_order'] else 'NO'} |", ""]
    lines.append(f"Time to answer: from this process having the acknowledgement to the stand-in accepting the "
                 f"reply. answers/s: answered events / time from the start of the load to the last answer"
                 + (f" ({ans['all_in_s']:.1f} s)." if ans["all_in_s"] else " (not all were answered)."))
    if r.get("cpu_s"):
        lines.append("CPU seconds used from the start of the load to the last answer: " + ", ".join(
            f"{k} {v:.1f}" for k, v in r["cpu_s"].items()) + f" (machine load average then: {r['loadavg_1m']:.1f}).")
    if r["kind"] == "report":
        lines.append(f"Reports saved in SQLite when the answers were in: {r['reports_saved']} "
                     f"of {r['requests'] // 2}.")
    if ans["pushes"] or r["standin_errors"]:
        lines.append(f"Pushes instead of replies: {ans['pushes']}; requests the stand-in refused as invalid: "
                     f"{r['standin_errors']}.")
    return "\n".join(lines)


def failures(r: dict) -> list[str]:
    """What makes the run a failure, whatever its speed."""
    from benchmarks import absent
    ans = r["answers"]
    why = [f"{r[k]['non_200']} webhooks to {k} answered with another status than 200"
           for k in ("bare", "nimo") if r[k]["non_200"]]
    if ans["answered"] < ans["sent"]:
        why.append(f"{ans['sent'] - ans['answered']} of {ans['sent']} events not answered")
    elif not ans["in_order"]:
        why.append("a user's answers out of order")
    if r["standin_errors"]:
        why.append(f"{r['standin_errors']} requests the LINE stand-in refused as invalid")
    if r["kind"] == "report" and r["reports_saved"] != r["requests"] // 2:
        why.append(f"{r['reports_saved']} reports saved of {r['requests'] // 2}")
    return why + absent(r["nimo"], "events_per_s", "ack_p50_ms", "ack_p95_ms") + absent(
        ans, "answer_p50_ms", "answer_p95_ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8, help="keep-alive connections; one user each for questions")
    ap.add_argument("--kind", choices=["question", "report"], default="question")
    ap.add_argument("--timeout", type=float, default=300, help="seconds to wait for all answers")
    ap.add_argument("--json", action="store_true", help="print one JSON object with the figures")
    ap.add_argument("--platform", choices=["line", "lineworks"], default="line",
                    help="lineworks: signed LINE WORKS callbacks (benchmarks/lineworks_load.py)")
    ap.add_argument("--warmup", type=int, default=WARMUP, help="events sent before the timed load")
    ap.add_argument("--smoke", action="store_true", help="40 requests from 2 clients, 10 to warm up (for CI)")
    a = ap.parse_args()
    if a.smoke:
        a.requests, a.clients, a.warmup, a.timeout = 40, 2, 10, 120
    if a.platform == "lineworks":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import lineworks_load
        return lineworks_load.main(["--requests", str(a.requests), "--clients", str(a.clients)]
                                   + (["--smoke"] if a.smoke else []))
    # SIGTERM to this process runs the same `finally` as Ctrl-C: no server is left behind.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    line = TimedLine(access_token=TOKEN)
    line.start()
    try:
        r = run(a, tmp, line)
    except BaseException:
        for log in sorted(tmp.glob("*.log")):  # the servers' logs hold no message text
            tail = log.read_text(errors="replace").splitlines()[-15:]
            if tail:
                print(f"--- {log.name} (last lines)\n" + "\n".join(tail), file=sys.stderr)
        raise
    finally:
        line.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(r) if a.json else table(r))
    from benchmarks import verdict
    return verdict(failures(r))


if __name__ == "__main__":
    sys.exit(main())
