"""Case search speed and memory: answer latency at 25, 1,000 and 10,000 cases, index build time,
start-up of ``nimo ask``, and peak memory.  Prints a Markdown table; never run as a test.

Synthetic cases are made from the real ones: each copy takes the fields of one real case and the
keywords and appeal points of another, so the vocabulary and lengths stay those of the guide.
Baselines measured in the same run: a plain substring scan over the same case texts (what a naive
search would cost), and ``python -c pass`` for start-up.

    python benchmarks/bench_search.py [--repeat 200]
"""
from __future__ import annotations

import argparse
import os
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
    from knowledge.cases import Case
    out = []
    for i in range(n):
        base, other = cases[i % len(cases)], cases[(i * 7 + 3) % len(cases)]
        data = dict(base.data, id=f"s{i:05d}")
        for f in ("keywords", "appeal_points"):
            if f in other.data:
                data[f] = other.data[f]
        out.append(Case(data["id"], data))
    return out


def peak_rss_mb(code: str) -> float:
    """Peak resident memory of a fresh interpreter running ``code`` (ru_maxrss of the child)."""
    p = subprocess.run([sys.executable, "-c", code + "\nimport resource;print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"],
                       capture_output=True, text=True, cwd=ROOT, check=True)
    return int(p.stdout.split()[-1]) / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=200)
    a = ap.parse_args()
    from bot.app import build_app
    from bot.db import open_db
    from bot.handlers.ask import search as answer
    from knowledge.cases import load_builtin
    from knowledge.search import CaseIndex, field_text
    from knowledge.tokens import normalize

    real = load_builtin()
    rows = []
    for n in (25, 1000, 10000):
        cases = real if n == len(real) else synthetic(real, n)
        t0 = time.perf_counter()
        index = CaseIndex(cases)
        build = time.perf_counter() - t0
        app = build_app(db=open_db(":memory:"), index=index)
        texts = [normalize(" ".join(field_text(v) for v in c.data.values())) for c in cases]
        lat, base = [], []
        for r in range(a.repeat):
            q = QUESTIONS[r % len(QUESTIONS)]
            t0 = time.perf_counter()
            answer(app, q)
            lat.append((time.perf_counter() - t0) * 1000)
            nq = normalize(q)
            t0 = time.perf_counter()
            sum(nq in t for t in texts)
            base.append((time.perf_counter() - t0) * 1000)
        mem = peak_rss_mb(
            "from knowledge.cases import load_builtin\nfrom knowledge.search import CaseIndex\n"
            "import benchmarks.bench_search as b\n"
            f"c=load_builtin(); c=c if {n}==len(c) else b.synthetic(c,{n}); i=CaseIndex(c); i.search('家族会との連携')")
        rows.append((n, build, pct(lat, 50), pct(lat, 95), pct(base, 50), pct(base, 95), mem))

    env = dict(os.environ, NIMO_DB=str(Path(tempfile.mkdtemp()) / "bench.db"))
    starts, bare = [], []
    for _ in range(7):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot", "ask", "住まいの確保"], env=env, cwd=ROOT,
                       capture_output=True, check=True)
        starts.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=True)
        bare.append(time.perf_counter() - t0)

    print(f"Case search ({a.repeat} questions per size; answer = search + cards, in-process)\n")
    print("| cases | index build s | answer p50 ms | answer p95 ms | substring scan p50 ms | p95 ms | p95 ratio to scan | peak RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, build, p50, p95, b50, b95, mem in rows:
        print(f"| {n:,} | {build:.2f} | {p50:.2f} | {p95:.2f} | {b50:.3f} | {b95:.3f} | {p95 / b95:.1f} | {mem:.0f} |")
    print(f"\n`nimo ask` start-up to first answer: p50 {statistics.median(starts):.2f} s, max {max(starts):.2f} s "
          f"(bare `python -c pass`: p50 {statistics.median(bare):.2f} s; ratio {statistics.median(starts) / statistics.median(bare):.1f})")


if __name__ == "__main__":
    main()
