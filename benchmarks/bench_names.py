"""Person names in the privacy guard: recall on names, false alarms on role words, time per sentence.

Reads tests/data/names_dev.jsonl (the sentences the name rules were written against) and
tests/data/names_held.jsonl (written before the rules and never tuned on).  A name counts as found
when name findings cover its whole span; a role-word sentence (本人さん, ケアマネさん, 母親 …) is a false
alarm when any name is found in it.  Two guards run in the same process on the same sentences:

* ``rules``: the honorific rules alone (``privacy.find(text, person_names=False)``), the guard as it
  was on main before SudachiDict was used;
* ``sudachi``: the guard as it is (the rules and bot/privacy/names.py).

Time is the wall time of ``privacy.find`` per sentence (after one warm-up pass, so the dictionary
load is not in it; the load is reported apart), p50 and p95 over ``--repeat`` passes, and the ratio
of the new guard to the rules measured in the same run.  Memory: a fresh interpreter imports the
guard, then finds a name once (which loads the dictionary); its VmRSS is read at each step, and
whether ``import bot.serve.web`` (the web process) pulls in sudachipy.

    python benchmarks/bench_names.py [--repeat 5] [--json]
    python benchmarks/bench_names.py --smoke      # 1 timed pass: for CI

The exit status is 1 when a set of sentences is empty or a figure is missing; recall and time are
reported, not judged.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.privacy import guard as privacy  # noqa: E402

DATA = ROOT / "tests" / "data"
SETS = ("dev", "held")


def load(part: str) -> list[dict]:
    with open(DATA / f"names_{part}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score(rows: list[dict], person_names: bool) -> dict:
    """Recall on the names and the false-alarm rate on the role-word sentences."""
    names = found = roles = alarms = 0
    for r in rows:
        spans = [(f.start, f.end) for f in privacy.find(r["text"], person_names=person_names) if f.kind == "name"]
        if r["kind"] == "role":
            roles += 1
            alarms += bool(spans)
        for n in r["names"]:
            names += 1
            found += any(a <= n["start"] and n["end"] <= b for a, b in spans)
    return {"names": names, "found": found, "recall": found / names, "role_sentences": roles,
            "false_alarms": alarms, "false_alarm_rate": alarms / roles}


def timings(texts: list[str], person_names: bool, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        for t in texts:
            t0 = time.perf_counter()
            privacy.find(t, person_names=person_names)
            out.append(time.perf_counter() - t0)
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


_RSS = ("import pathlib\n"
        "def rss():\n"
        "    return int([l for l in pathlib.Path('/proc/self/status').read_text().splitlines()"
        " if l.startswith('VmRSS')][0].split()[1]) / 1024\n")
_MEMORY = _RSS + """
import json, sys, time
before = rss()
from bot.privacy import guard as privacy
imported = rss()
t0 = time.perf_counter()
privacy.find("田中花子さん宅を訪問")
load_s = time.perf_counter() - t0
print(json.dumps({"interpreter": before, "import": imported, "after_first_find": rss(), "load_s": load_s}))
"""
_WEB = "import sys\nimport bot.serve.web, bot.privacy.guard\nprint('sudachipy' in sys.modules)"


def memory() -> dict:
    out = json.loads(subprocess.run([sys.executable, "-c", _MEMORY], capture_output=True, text=True, check=True,
                                    cwd=ROOT).stdout)
    web = subprocess.run([sys.executable, "-c", _WEB], capture_output=True, text=True, check=True, cwd=ROOT)
    out["web_loads_sudachipy"] = web.stdout.strip() == "True"
    return out


def failures(quality: dict, lat: dict, mem: dict) -> list[str]:
    from benchmarks import absent
    why = [f"{part}/{mode}: no sentence with a name or no role-word sentence"
           for (part, mode), q in quality.items() if not q["names"] or not q["role_sentences"]]
    for mode, figures in lat.items():
        why += [f"{mode}: {w}" for w in absent(figures, "p50_ms", "p95_ms")]
    return why + absent(mem, "interpreter", "import", "after_first_find", "load_s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="timed passes over all sentences")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--smoke", action="store_true", help="1 timed pass (for CI)")
    args = ap.parse_args()
    if args.smoke:
        args.repeat = 1
    from benchmarks import verdict
    mem = memory()
    data = {part: load(part) for part in SETS}
    texts = [r["text"] for part in SETS for r in data[part]]
    for pn in (False, True):
        timings(texts, pn, 1)   # warm-up: the dictionary loads here, not in the timed passes
    quality = {(part, mode): score(data[part], pn) for part in SETS for mode, pn in (("rules", False), ("sudachi", True))}
    t = {mode: timings(texts, pn, args.repeat) for mode, pn in (("rules", False), ("sudachi", True))}
    lat = {mode: {"p50_ms": pct(xs, 50) * 1000, "p95_ms": pct(xs, 95) * 1000} for mode, xs in t.items()}
    if args.json:
        print(json.dumps({"quality": {f"{p}/{m}": q for (p, m), q in quality.items()}, "latency": lat, "memory": mem},
                         ensure_ascii=False, indent=1))
        return verdict(failures(quality, lat, mem))
    counts = ", ".join(f"{p}: {sum(bool(r['names']) for r in data[p])} with names, "
                       f"{sum(not r['names'] for r in data[p])} with role words only" for p in SETS)
    print(f"{len(texts)} sentences ({counts})")
    print()
    print("| set | guard | names found | recall | role-word sentences flagged | false-alarm rate |")
    print("|---|---|---|---|---|---|")
    for (part, mode), q in quality.items():
        print(f"| {part} | {mode} | {q['found']}/{q['names']} | {q['recall']:.3f} | "
              f"{q['false_alarms']}/{q['role_sentences']} | {q['false_alarm_rate']:.1%} |")
    print()
    print(f"| guard | p50 ms/sentence | p95 ms/sentence | p50 ratio | p95 ratio |   ({args.repeat} passes × {len(texts)})")
    print("|---|---|---|---|---|")
    for mode in ("rules", "sudachi"):
        print(f"| {mode} | {lat[mode]['p50_ms']:.3f} | {lat[mode]['p95_ms']:.3f} | "
              f"{lat[mode]['p50_ms'] / lat['rules']['p50_ms']:.1f}× | {lat[mode]['p95_ms'] / lat['rules']['p95_ms']:.1f}× |")
    print()
    print(f"RSS (fresh interpreter): {mem['interpreter']:.0f} MB bare, {mem['import']:.0f} MB after importing the guard, "
          f"{mem['after_first_find']:.0f} MB after the first find (dictionary loaded in {mem['load_s']:.2f} s): "
          f"+{mem['after_first_find'] - mem['import']:.0f} MB for SudachiDict")
    print(f"import bot.serve.web + bot.privacy.guard loads sudachipy: {'yes' if mem['web_loads_sudachipy'] else 'no'}")
    return verdict(failures(quality, lat, mem))


if __name__ == "__main__":
    sys.exit(main())
