"""Case search speed and memory at 25, 1,000 and 10,000 cases: index build, warm start from the
saved index, answer latency, memory, and start-up of ``nimo ask``.  Prints a Markdown table (or one
JSON object per size with ``--json``); never run as a test.

Each size gets its own database file: the 25 built-in cases plus synthetic local cases stored as
YAML in ``local_cases``, as ``nimo cases import`` would store them.  A synthetic case takes the
fields of one real case and the keywords and appeal points of another, so the vocabulary and
lengths stay those of the guide (but texts repeat, so tokenising each distinct text once makes the
build here faster than it would be for 10,000 truly different cases).

- ``index_build_s``: a fresh process with no saved index builds it and saves it (load_index).
- ``warm_start_s``: a fresh process started until its first answer, the index loaded from the
  saved one (median of ``--warm-runs``); ``rss_mb`` is that process's peak RSS after all its answers.
- ``answer_p50_ms``/``answer_p95_ms``: ``--repeat`` answers (search + cards) in the warm process;
  ``warm_start_cpu_s`` and ``answer_cpu_*`` are the same in CPU time, which other load does not inflate.
Baselines in the same run: a plain substring scan over the case texts, and ``python -c pass``.
``nimo ask`` start-up (25 cases) is timed with a cold cache (the saved index removed before each
run), warm, and with an in-memory database (no saved index: what every start did before).

    python benchmarks/bench_search.py [--cases 25 1000 10000] [--repeat 200] [--json]
    python benchmarks/bench_search.py --smoke     # 25 and 200 cases, 20 answers, 1 run each: for CI

The exit status is 1 when a child process fails, the warm start does not load the saved index, no
question finds a case, or a figure is missing; times are reported, not judged.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = [  # field vocabulary, not the evaluation questions
    "住まいの確保で困っている", "家族会との連携", "ピアサポーターの養成", "アウトリーチ支援の体制",
    "長期入院者の地域移行", "措置入院後の支援", "協議の場の運営", "保健所と市町村の連携",
    "普及啓発の研修会", "ひきこもりの相談", "グループホームを増やしたい", "精神科病院との連携",
    "千葉県の家族支援", "人口10万人以下の市町村", "今日の天気は？", "ケアマネとの連携",
]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def synthetic(cases, n):
    from casebase.cases import Case
    out = []
    for i in range(n):
        base, other = cases[i % len(cases)], cases[(i * 7 + 3) % len(cases)]
        data = dict(base.data, id=f"s{i:05d}")
        for f in ("keywords", "appeal_points"):
            if f in other.data:
                data[f] = other.data[f]
        out.append(Case(data["id"], data, local=True))
    return out


def make_db(path: Path, n: int) -> None:
    """A database with the built-in cases and ``n - 25`` synthetic local ones."""
    import yaml
    from storage.connections import open_db
    from casebase.cases import load_builtin
    db = open_db(path)
    real = load_builtin()
    extra = synthetic(real, max(0, n - len(real)))
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    db["local_cases"].insert_all(
        ({"id": c.id, "yaml": yaml.dump(c.data, Dumper=dumper, allow_unicode=True), "imported_at": "2026-11-24"}
         for c in extra), batch_size=500)
    db.conn.close()


def child(mode: str, db_path: str, repeat: int) -> None:
    """Run in a fresh interpreter: ``cold`` builds and saves the index; ``warm`` says "ready"
    after its first answer, then answers ``repeat`` questions."""
    import resource
    from bot.app import build_app
    from bot.handlers.ask import search as answer
    app = build_app(db_path=db_path)
    if mode == "cold":
        t0 = time.perf_counter()
        app.index  # noqa: B018 - builds and saves
        build_s = time.perf_counter() - t0
        print(json.dumps({"build_s": build_s, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    else:
        answer(app, QUESTIONS[0])
        print("ready", flush=True)
        start_cpu = sum(os.times()[:2])
        lat, cpu, found = [], [], 0
        for r in range(repeat):
            t0, c0 = time.perf_counter(), time.thread_time()
            result, _, _ = answer(app, QUESTIONS[r % len(QUESTIONS)])
            found += bool(result is not None and result.hits)
            lat.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the baseline's texts
        status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
        # now, not the peak: anonymous memory (the heap) and file pages (the memory-mapped index,
        # which the kernel can drop and read again)
        anon, filed = (int(status[k].split()[0]) / 1024 for k in ("RssAnon", "RssFile"))
        from knowledge.search import field_text
        from knowledge.tokens import normalize
        texts = [normalize(" ".join(field_text(v) for v in c.data.values())) for c in app.index.cases]
        base = []
        for r in range(repeat):
            nq = normalize(QUESTIONS[r % len(QUESTIONS)])
            t0 = time.perf_counter()
            sum(nq in t for t in texts)
            base.append((time.perf_counter() - t0) * 1000)
        out = {"lat": lat, "cpu": cpu, "base": base, "rss_mb": rss, "rss_anon_mb": anon, "rss_file_mb": filed,
               "start_cpu_s": start_cpu, "found": found,
               "loaded": getattr(app.index, "loaded_from", None) is not None}
        print(json.dumps(out), flush=True)


def run_child(mode: str, db_path: Path, repeat: int = 0) -> tuple[float, dict]:
    """(seconds from spawn to "ready", the child's JSON)."""
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_search", "--child", mode, str(db_path),
                          "--repeat", str(repeat)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        ready = result = None
        for line in p.stdout:
            if line.strip() == "ready":
                ready = time.perf_counter() - t0
            elif line.startswith("{"):
                result = json.loads(line)
        if p.wait() != 0 or result is None:
            raise SystemExit(f"bench child {mode} failed")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return (ready if ready is not None else time.perf_counter() - t0), result


def measure(n: int, repeat: int, warm_runs: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="nimo-bench-"))
    try:
        db_path = tmp / "bench.db"
        make_db(db_path, n)
        _, cold = run_child("cold", db_path)
        starts, warm = [], []
        for _ in range(warm_runs):
            s, w = run_child("warm", db_path, repeat)
            if not w["loaded"]:
                raise SystemExit("the warm start did not load the saved index")
            starts.append(s)
            warm.append(w)
        lat = [x for w in warm for x in w["lat"]]
        cpu = [x for w in warm for x in w["cpu"]]
        base = [x for w in warm for x in w["base"]]
        return {"cases": n, "index_build_s": round(cold["build_s"], 2), "build_peak_rss_mb": round(cold["rss_mb"]),
                "warm_start_s": round(statistics.median(starts), 2),
                "warm_start_cpu_s": round(statistics.median(w["start_cpu_s"] for w in warm), 2),
                "answer_p50_ms": round(pct(lat, 50), 2), "answer_p95_ms": round(pct(lat, 95), 2),
                "answer_cpu_p50_ms": round(pct(cpu, 50), 2), "answer_cpu_p95_ms": round(pct(cpu, 95), 2),
                "scan_p50_ms": round(pct(base, 50), 3), "scan_p95_ms": round(pct(base, 95), 3),
                "rss_mb": round(max(w["rss_mb"] for w in warm)),
                "rss_anon_mb": round(max(w["rss_anon_mb"] for w in warm)),
                "rss_file_mb": round(max(w["rss_file_mb"] for w in warm)),
                "found": sum(w["found"] for w in warm), "asked": len(lat)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ask_startup(runs: int) -> dict:
    """``nimo ask`` to first answer at 25 cases: cold cache, warm cache, no cache; bare Python."""
    tmp = Path(tempfile.mkdtemp(prefix="nimo-bench-"))
    try:
        db = tmp / "ask.db"

        def ask(db_value: str) -> float:
            env = dict(os.environ, NIMO_DB=db_value)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "bot", "ask", "住まいの確保"], env=env, cwd=ROOT,
                           capture_output=True, check=True)
            return time.perf_counter() - t0

        def bare() -> float:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=True)
            return time.perf_counter() - t0

        cold, warm, none, plain = [], [], [], []
        ask(str(db))  # creates the database (and a first saved index)
        for _ in range(runs):  # interleaved, so a busy moment of the machine weighs on all alike
            shutil.rmtree(str(db) + ".index", ignore_errors=True)
            cold.append(ask(str(db)))
            warm.append(ask(str(db)))
            none.append(ask(":memory:"))
            plain.append(bare())
        med = statistics.median
        return {"ask_cold_p50_s": round(med(cold), 2), "ask_warm_p50_s": round(med(warm), 2),
                "ask_no_saved_index_p50_s": round(med(none), 2), "bare_python_p50_s": round(med(plain), 3)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, nargs="+", default=[25, 1000, 10000], help="sizes (at least 25)")
    ap.add_argument("--repeat", type=int, default=200, help="answers timed per warm process")
    ap.add_argument("--warm-runs", type=int, default=3, help="warm starts per size")
    ap.add_argument("--ask-runs", type=int, default=10, help="`nimo ask` starts of each kind (0: skip)")
    ap.add_argument("--json", action="store_true", help="one JSON object per size")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "DB"), help=argparse.SUPPRESS)
    ap.add_argument("--smoke", action="store_true", help="25 and 200 cases, 20 answers, 1 run of each (for CI)")
    a = ap.parse_args()
    if a.child:
        return child(a.child[0], a.child[1], a.repeat)
    if a.smoke:
        a.cases, a.repeat, a.warm_runs, a.ask_runs = [25, 200], 20, 1, 1
    if min(a.cases) < 25:
        ap.error("--cases: each size is at least the 25 built-in cases")

    ask = ask_startup(a.ask_runs) if a.ask_runs and 25 in a.cases else None
    rows = []
    for n in a.cases:
        row = measure(n, a.repeat, a.warm_runs)
        if n == 25 and ask:
            row.update(ask)
        rows.append(row)
        if a.json:
            print(json.dumps(row), flush=True)
    from benchmarks import absent, verdict
    problems = []
    for r in rows:
        if not r["found"]:
            problems.append(f"{r['cases']} cases: no question found a case")
        problems += [f"{r['cases']} cases: {w}" for w in absent(r, "index_build_s", "warm_start_s", "answer_p50_ms",
                                                                "answer_p95_ms", "scan_p95_ms")]
    if ask:
        problems += absent(ask, "ask_cold_p50_s", "ask_warm_p50_s", "ask_no_saved_index_p50_s")
    if a.json:
        return verdict(problems)

    print(f"Case search ({a.repeat} answers in each of {a.warm_runs} warm processes per size; "
          "answer = search + cards)\n")
    print("| cases | index build s | build peak RSS MB | warm start s (CPU s) | answer p50 ms | answer p95 ms "
          "| answer CPU p95 ms | substring scan p50 ms | p95 ms | p95 ratio to scan | warm RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['cases']:,} | {r['index_build_s']:.2f} | {r['build_peak_rss_mb']} "
              f"| {r['warm_start_s']:.2f} ({r['warm_start_cpu_s']:.2f}) | {r['answer_p50_ms']:.2f} | {r['answer_p95_ms']:.2f} "
              f"| {r['answer_cpu_p95_ms']:.2f} | {r['scan_p50_ms']:.3f} | {r['scan_p95_ms']:.3f} "
              f"| {r['answer_p95_ms'] / max(r['scan_p95_ms'], 1e-6):.1f} | {r['rss_mb']} |")
    print("\nCPU figures are the process's own (user + system) or the thread's: what the work costs when "
          "other processes share the cores, as wall times on a busy machine do not show.")
    if ask:
        print(f"\n`nimo ask` start-up to first answer, 25 cases, p50 of {a.ask_runs}: "
              f"cold cache {ask['ask_cold_p50_s']:.2f} s, warm {ask['ask_warm_p50_s']:.2f} s, "
              f"no saved index (in-memory database) {ask['ask_no_saved_index_p50_s']:.2f} s "
              f"(bare `python -c pass`: {ask['bare_python_p50_s']:.3f} s)")
    return verdict(problems)


if __name__ == "__main__":
    sys.exit(main())
