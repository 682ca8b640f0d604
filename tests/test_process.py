"""``nimo serve`` and ``nimo worker`` as an operator runs them: real processes, real signals.

Timeouts here are guards against a hang (generous, on a shared machine), not measurements; the
bounds the processes keep are their own (bot/serve/process.py).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone


from bot.people.access import add_user
from storage.connections import open_db

from .fakes import LineStandIn, SlackStandIn, line_signature, slack_headers
from .procs import Nimo, alive, children, get, wait_for

LINE_SECRET = "process-test-line-secret"
SLACK_SECRET = "process-test-slack-secret"
NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)


def _env(tmp_path, line=None, slack=None, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "SLACK_", "NIMO_"))}
    env.update(NIMO_DB=str(tmp_path / "n.db"), PYTHONIOENCODING="utf-8")
    if line is not None:
        env.update(LINE_CHANNEL_SECRET=LINE_SECRET, LINE_CHANNEL_ACCESS_TOKEN=line.access_token,
                   LINE_API_BASE_URL=line.url)
    if slack is not None:
        env.update(SLACK_SIGNING_SECRET=SLACK_SECRET, SLACK_BOT_TOKEN=slack.bot_token,
                   SLACK_API_BASE_URL=slack.url + "/api/")
    env.update(extra)
    return env


def _register(tmp_path, platform: str, user: str) -> None:
    db = open_db(tmp_path / "n.db")
    add_user(db, platform, user, "staff", "千葉市", NOW)
    db.conn.close()


def _line_event(text: str, user: str, n: int) -> bytes:
    ev = {"type": "message", "mode": "active", "timestamp": 1764000000000 + n,
          "source": {"type": "user", "userId": user}, "webhookEventId": f"01PROC{n:020d}",
          "deliveryContext": {"isRedelivery": False}, "replyToken": f"reply-{n}",
          "message": {"id": str(n), "type": "text", "quoteToken": "q", "text": text}}
    return json.dumps({"destination": "U", "events": [ev]}, ensure_ascii=False).encode()


def _post(port: int, path: str, body: bytes, headers: dict) -> int:
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", path, body=body, headers=headers)
    r = c.getresponse()
    r.read()
    return r.status


def _slack_dm(text: str, event_id: str, user: str = "Uslack") -> bytes:
    return json.dumps({"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                       "event_id": event_id, "event_time": int(time.time()),
                       "event": {"type": "message", "channel_type": "im", "channel": "D0001", "user": user,
                                 "text": text, "ts": "1764000000.000100"}}, ensure_ascii=False).encode()


def _slack_post(port: int, body: bytes) -> int:
    return _post(port, "/slack/events", body, slack_headers(body, SLACK_SECRET))


def test_sigterm_stops_serve_and_its_worker_and_exits_0(tmp_path):
    with LineStandIn() as line, Nimo(_env(tmp_path, line)) as nimo:
        assert wait_for(lambda: nimo.worker() is not None)
        worker = nimo.worker()
        assert wait_for(lambda: nimo.ready()["ready"])
        os.kill(nimo.proc.pid, signal.SIGTERM)
        assert nimo.proc.wait(15) == 0
        assert not alive(worker)


def test_sigint_stops_serve_as_sigterm_does(tmp_path):
    with LineStandIn() as line, Nimo(_env(tmp_path, line)) as nimo:
        assert wait_for(lambda: nimo.worker() is not None)
        worker = nimo.worker()
        os.kill(nimo.proc.pid, signal.SIGINT)
        assert nimo.proc.wait(15) == 0
        assert not alive(worker)


def test_a_request_in_flight_is_answered_before_serve_stops(tmp_path):
    """SIGTERM while a webhook's body is still arriving: it is finished, acknowledged, stored."""
    _register(tmp_path, "line", "Uflight")
    with LineStandIn() as line, Nimo(_env(tmp_path, line)) as nimo:
        body = _line_event("家族教室", "Uflight", 1)
        headers = (f"POST /line/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
                   f"X-Line-Signature: {line_signature(body, LINE_SECRET)}\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", nimo.port), timeout=10) as s:
            s.sendall(headers + body[:10])
            time.sleep(0.3)  # the request is in flight when the stop is asked
            os.kill(nimo.proc.pid, signal.SIGTERM)
            time.sleep(0.3)
            s.sendall(body[10:])
            answer = s.recv(1000)
        assert answer.startswith(b"HTTP/1.1 200")
        assert nimo.proc.wait(15) == 0
    db = open_db(tmp_path / "n.db")
    assert db.execute("SELECT COUNT(*) FROM inbox").fetchone()[0] == 1


def test_sigkill_of_serve_leaves_no_worker(tmp_path):
    with LineStandIn() as line, Nimo(_env(tmp_path, line)) as nimo:
        assert wait_for(lambda: nimo.worker() is not None)
        worker = nimo.worker()
        os.kill(nimo.proc.pid, signal.SIGKILL)  # the parent alone: the worker must notice
        nimo.proc.wait(10)
        # it may still be starting (imports, adapters) when told, then has its own stop deadline
        # (WORKER_STOP_SECONDS): on a loaded machine that is more than 10 s
        assert wait_for(lambda: not alive(worker), timeout=40)


def test_a_worker_that_dies_is_started_again(tmp_path):
    with LineStandIn() as line, Nimo(_env(tmp_path, line), stderr=subprocess.PIPE) as nimo:
        assert wait_for(lambda: nimo.worker() is not None)
        first = nimo.worker()
        os.kill(first, signal.SIGKILL)
        assert wait_for(lambda: nimo.worker() not in (None, first), timeout=30)
        assert wait_for(lambda: nimo.ready()["ready"], timeout=30)
        os.kill(nimo.proc.pid, signal.SIGTERM)
        assert nimo.proc.wait(15) == 0
        assert "starting it again" in nimo.proc.stderr.read().decode("utf-8", "replace")


def _no_worker(env) -> Nimo:
    n = Nimo(env)
    n.args = ("serve", "--no-worker", "--host", "127.0.0.1", "--port", str(n.port))
    return n


def _worker(env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot", "worker"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_readyz_says_when_no_worker_answers(tmp_path):
    _register(tmp_path, "line", "Uready")
    with LineStandIn() as line, _no_worker(_env(tmp_path, line)) as nimo:
        assert children(nimo.proc.pid) == []
        body = _line_event("家族教室", "Uready", 2)
        assert _post(nimo.port, "/line/webhook", body, {"X-Line-Signature": line_signature(body, LINE_SECRET)}) == 200
        status, raw = get(nimo.port, "/readyz")
        report = json.loads(raw)
        assert status == 503 and report["ready"] is False
        assert report["database_writable"] is True and report["inbox_backlog"] == 1
        assert "Uready" not in raw.decode("utf-8") and "家族教室" not in raw.decode("utf-8")
        # `nimo worker` started beside it (as the Procfile's worker:) answers what was waiting
        worker = _worker(nimo.env)
        try:
            assert line.wait_for(lambda l: len(l.delivered) == 1, timeout=60)
            assert wait_for(lambda: nimo.ready()["ready"] and nimo.ready()["inbox_backlog"] == 0, timeout=30)
            assert get(nimo.port, "/readyz")[0] == 200
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(15) == 0
        finally:
            _end(worker)


def test_worker_stops_on_sigterm_while_line_does_not_answer(tmp_path):
    """The LINE API accepts connections and never answers: SIGTERM still ends the worker, and the
    event it was answering is answered by the next worker."""
    _register(tmp_path, "line", "Uhang")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(50)
    silent.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:  # accept and say nothing
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    try:
        with LineStandIn() as line, _no_worker(_env(tmp_path, line)) as web:
            body = _line_event("家族教室", "Uhang", 3)
            assert _post(web.port, "/line/webhook", body, {"X-Line-Signature": line_signature(body, LINE_SECRET)}) == 200
            stuck = _worker(dict(web.env, LINE_API_BASE_URL=f"http://127.0.0.1:{silent.getsockname()[1]}"))
            try:
                assert wait_for(lambda: held, timeout=60)  # it is waiting on LINE now
                stuck.send_signal(signal.SIGTERM)
                assert stuck.wait(15) == 0
            finally:
                _end(stuck)
            assert web.ready()["inbox_backlog"] == 1  # not answered, not lost
            second = _worker(web.env)
            try:
                assert line.wait_for(lambda l: len(l.delivered) == 1, timeout=60)
            finally:
                second.send_signal(signal.SIGTERM)
                second.wait(15)
                _end(second)
            assert len(line.delivered) == 1
    finally:
        stop.set()
        t.join(5)
        for s in held:
            s.close()
        silent.close()


def test_a_slack_dm_acknowledged_before_a_kill_is_answered_once_after_restart(tmp_path):
    _register(tmp_path, "slack", "Uslack")
    with SlackStandIn() as slack:
        env = _env(tmp_path, slack=slack)
        with Nimo(env) as first:
            assert wait_for(lambda: first.worker() is not None)
            os.kill(first.worker(), signal.SIGSTOP)  # acknowledged, never answered by this one
            assert _slack_post(first.port, _slack_dm("家族教室", "EvKill")) == 200
            first.kill()  # SIGKILL to web and worker
        assert [p for p in slack.posted if p["method"] == "chat.postMessage"] == []
        with Nimo(env) as second:
            assert slack.wait_for(lambda s: any(p["method"] == "chat.postMessage" for p in s.posted), timeout=60)
            assert _slack_post(second.port, _slack_dm("家族教室", "EvKill")) == 200  # Slack's retry: ignored
            assert wait_for(lambda: second.ready()["inbox_backlog"] == 0, timeout=30)
            # the retry was not stored (same event id) and the one row is answered: nothing more to send
            db = sqlite3.connect(env["NIMO_DB"])
            try:
                assert db.execute("SELECT status FROM inbox").fetchall() == [("done",)]
            finally:
                db.close()
        assert len([p for p in slack.posted if p["method"] == "chat.postMessage"]) == 1
        assert slack.errors == []


def test_slack_down_at_start_does_not_stop_line(tmp_path):
    _register(tmp_path, "line", "Uline")
    with LineStandIn() as line:
        env = _env(tmp_path, line, SLACK_SIGNING_SECRET=SLACK_SECRET, SLACK_BOT_TOKEN="xoxb-unreachable",
                   SLACK_API_BASE_URL=f"http://127.0.0.1:{_closed_port()}/api/")
        with Nimo(env) as nimo:
            body = _line_event("家族教室", "Uline", 4)
            assert _post(nimo.port, "/line/webhook", body,
                         {"X-Line-Signature": line_signature(body, LINE_SECRET)}) == 200
            assert line.wait_for(lambda l: len(l.delivered) == 1, timeout=60)
            assert wait_for(lambda: "slack_api" in nimo.ready()["platforms"], timeout=30)
            assert nimo.ready()["platforms"]["slack_api"]["ok"] is False


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_socket_mode_without_its_token_starts_nothing(tmp_path):
    with SlackStandIn() as slack:
        env = _env(tmp_path, slack=slack)
        p = subprocess.run([sys.executable, "-m", "bot", "serve", "--slack-socket-mode", "--port", "0"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "SLACK_APP_TOKEN" in p.stderr
    # it has exited (and been reaped): anything it had started would be there now
    assert _processes_using(env["NIMO_DB"]) == []


def _processes_using(db_path: str) -> list[int]:
    """Processes whose environment names this database (a worker left behind would)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            env = open(f"/proc/{pid}/environ", "rb").read()
        except OSError:
            continue
        if f"NIMO_DB={db_path}".encode() in env.split(b"\0"):
            out.append(int(pid))
    return out
