"""Memory of ``nimo serve`` and its worker, as deployed, after answering questions.

Starts ``nimo serve`` (which starts ``nimo worker``) against a LINE stand-in, sends signed webhooks
with 20 questions of a registered user, waits until all are answered, and reads both processes'
resident memory (VmRSS now, VmHWM the peak) from /proc.  In the same run it measures a bare
``python -c pass`` and the imports alone of each process, so the figures can be read against the
interpreter and the libraries.  Floors: web ≤ 120 MB, web + worker ≤ 350 MB.

    python benchmarks/bench_memory.py [--questions 20] [--json]
    python benchmarks/bench_memory.py --smoke     # 3 questions: for CI

The exit status is 1 when a question is not answered or a floor is broken (memory, unlike time,
is not made noisy by a shared machine, so the floors hold in a smoke run too).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes import LineStandIn, line_signature  # noqa: E402
from tests.procs import Nimo, wait_for  # noqa: E402

SECRET = "bench-memory-secret"
QUESTIONS = ["住まいの確保", "家族教室", "ピアサポーターの活用", "アウトリーチ", "措置入院の退院後支援",
             "8050問題", "ひきこもりの支援", "協議の場の運営", "精神科病院との連携", "地域移行"]
WEB_LIMIT_MB = 120
TOTAL_LIMIT_MB = 350


def mem(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def baseline(code: str) -> float:
    """Peak RSS (MB) of a fresh interpreter running ``code`` (VmHWM: ru_maxrss would carry this
    process's own peak across fork and exec)."""
    probe = "\nimport pathlib\nprint([l for l in pathlib.Path('/proc/self/status').read_text().splitlines() " \
            "if l.startswith('VmHWM')][0].split()[1])"
    out = subprocess.run([sys.executable, "-c", code + probe], capture_output=True, text=True, check=True, cwd=ROOT)
    return int(out.stdout.split()[-1]) / 1024


BENCH_USER = "U" + "be" * 16  # `nimo users add` takes only ids of the shape LINE issues


def event(text: str, n: int) -> bytes:
    ev = {"type": "message", "mode": "active", "timestamp": 1764000000000 + n,
          "source": {"type": "user", "userId": BENCH_USER}, "webhookEventId": f"01MEM{n:021d}",
          "deliveryContext": {"isRedelivery": False}, "replyToken": f"reply-{n}",
          "message": {"id": str(n), "type": "text", "quoteToken": "q", "text": text}}
    return json.dumps({"destination": "U", "events": [ev]}, ensure_ascii=False).encode()


def run(questions: int) -> dict:
    import http.client
    with tempfile.TemporaryDirectory() as tmp, LineStandIn() as line:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "SLACK_", "NIMO_"))}
        env.update(NIMO_DB=f"{tmp}/n.db", LINE_CHANNEL_SECRET=SECRET, LINE_CHANNEL_ACCESS_TOKEN=line.access_token,
                   LINE_API_BASE_URL=line.url)
        subprocess.run([sys.executable, "-m", "bot", "users", "add", "--platform", "line", "--id", BENCH_USER,
                        "--area", "千葉市"], env=env, check=True, capture_output=True, cwd=ROOT)
        with Nimo(env) as nimo:
            if not wait_for(lambda: nimo.worker() is not None and nimo.ready()["ready"], timeout=120):
                raise RuntimeError("the worker did not start")
            for i in range(questions):
                body = event(QUESTIONS[i % len(QUESTIONS)], i)
                c = http.client.HTTPConnection("127.0.0.1", nimo.port, timeout=10)
                c.request("POST", "/line/webhook", body=body, headers={"X-Line-Signature": line_signature(body, SECRET)})
                assert c.getresponse().status == 200
            if not line.wait_for(lambda l: len(l.delivered) >= questions, timeout=300):
                raise RuntimeError(f"answered {len(line.delivered)} of {questions}")
            time.sleep(1.0)
            web_rss, web_peak = mem(nimo.proc.pid)
            worker_rss, worker_peak = mem(nimo.worker())
            os.kill(nimo.proc.pid, signal.SIGTERM)
            nimo.proc.wait(30)
    bare = baseline("pass")
    web_imports = baseline("import bot.cli, storage.connections, bot.serve.process, bot.serve.web, bot.serve.webhooks, waitress")
    worker_imports = baseline("import bot.cli, bot.serve.worker, bot.chat.router, knowledge.search, scheduler.service")
    return {"questions": questions, "answered": questions,
            "web_rss_mb": round(web_rss, 1), "web_peak_mb": round(web_peak, 1),
            "worker_rss_mb": round(worker_rss, 1), "worker_peak_mb": round(worker_peak, 1),
            "total_rss_mb": round(web_rss + worker_rss, 1),
            "bare_python_mb": round(bare, 1), "web_imports_mb": round(web_imports, 1),
            "worker_imports_mb": round(worker_imports, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--smoke", action="store_true", help="3 questions (for CI)")
    a = ap.parse_args()
    if a.smoke:
        a.questions = 3
    r = run(a.questions)
    ok = r["web_rss_mb"] <= WEB_LIMIT_MB and r["total_rss_mb"] <= TOTAL_LIMIT_MB
    r["within_floors"] = ok
    if a.json:
        print(json.dumps(r))
    else:
        print(f"nimo serve + nimo worker after answering {r['answered']} questions "
              f"({datetime.now(timezone.utc):%Y-%m-%d})\n")
        print("| process | RSS MB | peak MB | imports alone MB | bare python MB | RSS / bare |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, key, imp in (("web (nimo serve)", "web", "web_imports_mb"), ("worker", "worker", "worker_imports_mb")):
            print(f"| {name} | {r[key + '_rss_mb']:.1f} | {r[key + '_peak_mb']:.1f} | {r[imp]:.1f} | "
                  f"{r['bare_python_mb']:.1f} | {r[key + '_rss_mb'] / r['bare_python_mb']:.1f} |")
        print(f"| web + worker | {r['total_rss_mb']:.1f} | | | | |")
        print(f"\nfloors: web ≤ {WEB_LIMIT_MB} MB, web + worker ≤ {TOTAL_LIMIT_MB} MB: {'met' if ok else 'NOT MET'}")
    from benchmarks import verdict
    return verdict([] if ok else ["a memory floor is broken"])


if __name__ == "__main__":
    sys.exit(main())
