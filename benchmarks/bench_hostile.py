"""Hostile text: how each pattern family and each parser grows with the length of its worst input;
hostile uploads: what a crafted local-case YAML file or photo costs and what is stored of it.

A fuzzing pass found chat text that made patterns backtrack quadratically or worse, so
one message could freeze the service.  This script times every parser the chat reaches (the router,
the time parser, the privacy guard, the one-message report, the search conditions) and every
family of compiled patterns, at 1k, 10k and 40k characters (Slack allows 40,000) of the worst
inputs found for it and of random text, and prints p50 / max per size and the growth ratio
40k / 10k: linear is about 4, quadratic 16.  The ratio is taken between the fastest samples of each
size, which the load of other processes on the machine inflates least (the sizes take turns).

Times are the CPU time of this process (``--wall`` for the wall clock): the machine is shared, and
time spent waiting for a core is other processes' cost, not the parser's.  Pattern families are
timed one pattern at a time with ``finditer`` (a search from every position, the harshest use);
their row shows the slowest pattern and the largest ratio of any that takes 0.1 ms or more at the
largest size (below that, a ratio of two tiny times is noise, and nothing can stall).  Parsers are reached only through
route(), which refuses text that NFKC more than doubles, so their rows use growth it lets through.

Floors (exit status 1 when one is broken): every ratio at most 6, and no single call over 0.2 s at
40k characters.  Very fast calls are repeated in a loop until a sample takes a few milliseconds, so
the ratio is not timer noise.  A row that is already over 2 s at a smaller size is not run at the
larger ones (it would only hang) and counts as broken; so does a call that raises.  Never run as a
test.

A second table ("uploads") sends the attacks found on uploads through the real paths: the alias
bomb of a local case (the console's upload and ``nimo cases import``), and photos with a colour
profile carrying text or a header promising 30000×30000 pixels (``bot.reports.photos.store``).  Each row
gives the wall time (median of ``--repeat``), the outcome and the bytes stored; for comparison one
row reads a smaller bomb the way the upload read it before (the safe loader, then dumped again).
Floor: every attack refused or stripped, and none over 1 s.

    python benchmarks/bench_hostile.py [--sizes 1000,10000,40000] [--repeat 7] [--only privacy] [--wall]
    python benchmarks/bench_hostile.py --only uploads
    python benchmarks/bench_hostile.py --smoke    # 200 and 800 characters, one sample: for CI

With ``--smoke`` the floors on time and growth are not judged (at those sizes, on a shared machine,
the ratios are noise): the exit status is 1 only when a call raises or hangs (over 2 s of CPU at
800 characters), or an upload attack is stored.
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import struct
import sys
import tempfile
import time
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.privacy import guard as privacy  # noqa: E402
from bot.reports import records as rp  # noqa: E402
from bot.people.access import add_user  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.chat.core import Incoming  # noqa: E402
from storage.connections import open_db  # noqa: E402
from bot.handlers import ask as ask_h  # noqa: E402
from bot.handlers import remind as rem  # noqa: E402
from bot.chat.router import route  # noqa: E402
from bot.chat.routes import Words  # noqa: E402
from knowledge import filters  # noqa: E402
from scheduler import timeparse  # noqa: E402

NOW = datetime(2026, 11, 24, 0, 30, tzinfo=timezone.utc)  # the tests' fixed clock: 09:30 in Tokyo
RATIO_MAX = 6.0
CALL_MAX = 0.2      # seconds, at the largest size
GIVE_UP = 2.0       # seconds: a call this slow at a smaller size is not tried at a larger one
SAMPLE_MIN = 0.003  # seconds: fast calls are looped until one sample takes at least this long
RATIO_FLOOR = 1e-4  # seconds at the largest size: a pattern of a family faster than this is not compared
# The CPU time this process spends, not the wall clock: the machine these figures are taken on is
# shared, and time spent waiting for a core is the other processes' cost, not the parser's.
# --wall measures the wall clock instead.
CLOCK = time.process_time


# --- inputs ----------------------------------------------------------------------------------------

def fill(head: str, unit: str, tail: str = "") -> Callable[[int], str]:
    """head + unit repeated + tail, n characters in all (about)."""
    def make(n: int) -> str:
        k = max(1, (n - len(head) - len(tail)) // len(unit))
        return head + unit * k + tail
    return make


_POOL = ("あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
         "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモ"
         "日月火水木金土時分年半後前毎週第午朝夜明今来再先田中佐藤様氏君市区町村丁目番号県都府生人口万千"
         "0123456789０１２３４５６７８９ 　\n\t、。，．・-ー－/：:#＃()（）〒@.+~〜")
_WORDS = ("完了", "延期", "変更", "参加", "リマインド", "報告", "詳しく", "明日", "14時", "午前", "さん", "次回",
          "生年月日", "郵便番号", "人口", "#", "12/5", "090-1234-5678")


def random_text(seed: int) -> Callable[[int], str]:
    """Random characters of the kinds the patterns look at, with command and keyword words mixed in."""
    def make(n: int) -> str:
        rnd = random.Random(seed * 1_000_003 + n)
        out, size = [], 0
        while size < n:
            piece = rnd.choice(_WORDS) if rnd.random() < 0.08 else rnd.choice(_POOL)
            out.append(piece)
            size += len(piece)
        return "".join(out)[:n]
    return make


ZALGO = fill("明日", "\u0301\u0316")          # combining marks that NFKC must reorder
EXPANDS = fill("", "\ufdfa")                 # one character, 18 after NFKC: route() refuses it
# The parsers are reached only through route(), which refuses a text that NFKC makes more than twice
# as long; their rows use the largest growth route() lets through.
DOUBLES = fill("明日", "\u3314")             # ㌔ → キロ

ROUTER_WORST = {
    "完了+spaces+LF": fill("完了", " ", "\nx\ny"),
    "取り消し+spaces+LF": fill("取り消し", " ", "\nx\ny"),
    "延期+spaces+LF": fill("延期", " ", "\nx\ny"),
    "延期+tabs+#": fill("延期", "\t", "#"),
    "変更 1+spaces+LF": fill("変更 1", " ", "\nx\ny"),
    "完了 #digits": fill("完了 #", "9"),
    "参加 #e digits": fill("参加 #e", "9"),
    "詳しく digits": fill("詳しく ", "1"),
    "リマインド 午前+spaces": fill("リマインド 午前", " ", "x"),
    "リマインド+spaces+を": fill("リマインド 明日10時", " ", "x を"),
    "報告 生年月日+spaces": fill("報告 訪問 K-012 生年月日", " ", "x"),
    "田中さん×k": fill("", "田中さん"),
    "zalgo": ZALGO,
    "NFKC x18": EXPANDS,
}
TIME_WORST = {
    "午前+spaces": fill("午前", " ", "x"),
    "午前+spaces+LF": fill("明日午前", " ", "\n10"),
    "spaces+を (title)": fill("明日10時 a", " ", "を"),
    "を+spaces (title)": fill("明日10時 ", "を ", "x"),
    "明日×k": fill("", "明日"),
    "10時×k": fill("", "10時 "),
    "12/5 ×k": fill("", "12/5 "),
    "digits": fill("", "1"),
    "12/5+spaces+(": fill("12/5", " ", "(x"),
    "zalgo": ZALGO,
    "NFKC x2": DOUBLES,
}
PRIVACY_WORST = {
    "生年月日+spaces": fill("生年月日", " ", "x"),
    "郵便番号+spaces": fill("郵便番号", " ", "x"),
    "田中さん×k": fill("", "田中さん"),
    "本日田中さん×k": fill("", "本日田中さん、"),
    "さいたま市×k+丁目": fill("", "さいたま市", "1丁目"),
    "市×k+1-1": fill("", "市", "1-1"),
    "〒 1-1×k": fill("", "〒123-4567 千葉市1-1 "),
    "1-1×k": fill("", "1-1 "),
    "phones": fill("", "090-1234-5678 "),
    "a@×k": fill("", "a@"),
    "digits": fill("", "0"),
    "zalgo": ZALGO,
    "NFKC x2": DOUBLES,
    "kana+marks": fill("", "ｶﾞ"),
}
def distinct_dates(n: int) -> str:
    """「2026/1/1 2026/1/2 …」: dates that are all different, so none is read only once."""
    out, day, size = [], datetime(2026, 1, 1), 0
    while size < n:
        out.append(f"{day.year}/{day.month}/{day.day} ")
        size += len(out[-1])
        day += timedelta(days=1)
    return "".join(out)[:n]


REPORT_WORST = {
    "昨日 ×k": fill("", "昨日 "),
    "distinct dates": distinct_dates,
    "次回+spaces": fill("訪問 K-012 内容 次回", " ", "x"),
    "K-012 ×k": fill("", "K-012 "),
    "次回×k": fill("内容", "次回"),
}
FILTER_WORST = {
    "人口+spaces": fill("人口", " ", "x"),
    "人口+digits": fill("人口", "9", "人以下"),
    "県の×k": fill("", "県の"),
}
GENERIC = {
    "spaces+LF": fill("", " ", "\nx\ny"),
    "tabs": fill("", "\t", "x"),
    "digits": fill("", "1"),
    "1-×k": fill("", "1-"),
}


# --- targets ---------------------------------------------------------------------------------------

def _router():
    """route() as a registered Slack user in a DM (Slack allows the longest messages), each message
    starting from no dialog (a report in progress would take the next message whatever it says)."""
    app = build_app(db=open_db(":memory:"), clock=lambda: NOW)
    add_user(app.db, "slack", "U1", "staff", "千葉市", NOW)

    def call(text: str):
        app.dialogs.clear("slack", "U1")
        return route(app, Incoming("slack", "U1", "U1", text, True))
    return call


def _patterns(*modules) -> list[re.Pattern]:
    """Every compiled pattern a module keeps (also inside lists and tables)."""
    found: list[re.Pattern] = []

    def walk(obj, depth=0):
        if isinstance(obj, re.Pattern):
            found.append(obj)
        elif isinstance(obj, (list, tuple)) and depth < 3:
            for x in obj:
                walk(x, depth + 1)
        elif isinstance(getattr(obj, "pattern", None), re.Pattern):
            found.append(obj.pattern)
        elif isinstance(getattr(obj, "match", None), re.Pattern):  # a Route of bot/chat/routes.py
            found.append(obj.match)
    for mod in modules:
        for value in vars(mod).values():
            walk(value)
    return [p for p in dict.fromkeys(found) if isinstance(p.pattern, str)]  # bytes patterns read no chat text


class Family:
    """A family of patterns, each timed on its own the way the harshest caller uses it (a search from
    every position: ``finditer``); the row shows the slowest pattern and the largest ratio."""

    def __init__(self, patterns: list[re.Pattern]):
        self.patterns = patterns

    @staticmethod
    def one(p: re.Pattern):
        def call(text: str):
            for _ in p.finditer(text):
                pass
        return call


def _quiet(f):
    """Parsers refuse with TimeError: a refusal is a result here."""
    def call(text: str):
        try:
            return f(text)
        except timeparse.TimeError:
            return None
    return call


def targets(only: str | None):
    from bot import handlers
    from bot.chat import router
    from bot.handlers import report as rep_h
    rows = []

    def add(name, fn, worst):
        if only and only not in name:
            return
        for label, make in {**worst, "random": random_text(1)}.items():
            rows.append((name, label, fn, make))

    add("router route() [slack]", _router(), ROUTER_WORST)
    # 「延期 …」 is read by the remind module's route predicate (it replaced router._postpone)
    add("remind.postpone_words", lambda s: rem.postpone_words(None, None, Words(s, router.normalize(s))),
        {"延期+spaces+LF": fill("延期", " ", "\nx\ny"), "延期+tabs+#": fill("延期", "\t", "#"),
         "延期 #digits": fill("延期 #", "9")})
    add("router.refusal", lambda s: router.refusal(Incoming("slack", "U1", "U1", s, True)), {"zalgo": ZALGO,
                                                                                           "kana+marks": fill("", "ｶﾞ")})
    add("timeparse.parse_when", _quiet(lambda s: timeparse.parse_when(s, NOW)), TIME_WORST)
    add("timeparse.parse_date", _quiet(lambda s: timeparse.parse_date(s, NOW)), TIME_WORST)
    add("privacy.find", privacy.find, PRIVACY_WORST)
    add("privacy.mask", privacy.mask, PRIVACY_WORST)
    add("reports.parse_one_line", _quiet(lambda s: rp.parse_one_line(s, NOW, "千葉市")), REPORT_WORST)
    add("filters.read_filters", lambda s: filters.read_filters(s, ["船橋", "千葉"]), FILTER_WORST)
    add("ask.clean", ask_h.clean, {"escapes": fill("", "\x1b[", "x"), "escape+digits": fill("\x1b[", "0", "!")})
    add("remind.wants_reminder", rem.wants_reminder, {"spaces+リマインド": fill("a", " ", "リマインドx")})
    # The router's own patterns, and every route's: each module of bot/handlers declares its ROUTES
    add("patterns: router", Family(_patterns(router, *handlers.MODULES)), {**GENERIC, **ROUTER_WORST})
    add("patterns: handlers", Family(_patterns(rem, rep_h, ask_h, rp)), {**GENERIC, **ROUTER_WORST,
                                                                                 **REPORT_WORST})
    add("patterns: timeparse", Family(_patterns(timeparse)), {**GENERIC, **TIME_WORST})
    add("patterns: privacy", Family(_patterns(privacy)), {**GENERIC, **PRIVACY_WORST})
    add("patterns: filters", Family(_patterns(filters)), {**GENERIC, **FILTER_WORST})
    return rows


# --- measuring -------------------------------------------------------------------------------------

def sample(fn, text: str) -> float:
    """CPU seconds per call: one call, or a loop of calls when one is too quick to time."""
    t0 = CLOCK()
    fn(text)
    one = CLOCK() - t0
    if one >= SAMPLE_MIN:
        return one
    loops = min(10_000, int(SAMPLE_MIN / max(one, 1e-7)) + 1)
    t0 = CLOCK()
    for _ in range(loops):
        fn(text)
    return (CLOCK() - t0) / loops


def measure(fn, make, sizes, repeat):
    """Seconds per call at each size.  The sizes take turns within each round, so that a burst of
    load on the machine falls on all of them alike instead of on one size's samples."""
    texts = {n: make(n) for n in sizes}
    out: dict[int, list[float]] = {n: [] for n in sizes}
    live = list(sizes)
    for n in sizes:
        fn(texts[n])  # warm-up: caches, lazy tables
    for _ in range(repeat):
        for n in list(live):
            out[n].append(sample(fn, texts[n]))
            if out[n][-1] > GIVE_UP:  # this size and every larger one would only hang
                live = [m for m in live if m < n]
                break
    return {n: ts for n, ts in out.items() if ts and (n in live or max(ts) > GIVE_UP)}


def measure_family(family: Family, make, sizes, repeat):
    """The slowest pattern's times at each size; its ratio is checked with every other one's."""
    per = [measure(Family.one(p), make, sizes, repeat) for p in family.patterns]
    big, mid = sizes[-1], sizes[-2] if len(sizes) > 1 else sizes[-1]
    # A pattern that reads 40k characters in under RATIO_FLOOR (an anchored one stops at the first) cannot
    # stall anything, and the ratio of two such tiny times is mostly noise: its ratio is left out.
    ratios = [min(r[big]) / min(r[mid]) if min(r[big]) >= RATIO_FLOOR else 1.0 for r in per if big in r and mid in r]
    out = {n: max((r[n] for r in per if n in r), key=statistics.median) for n in sizes
           if all(n in r for r in per)}
    out["ratio"] = max(ratios) if len(ratios) == len(per) else None
    return out


# --- uploads ---------------------------------------------------------------------------------------

UPLOAD_MAX = 1.0  # seconds: no upload attack may hold a thread longer than this
_CASE = {"id": "chiba-01", "part": 2, "section": "2-(1) 住まいの確保", "area": "千葉県千葉市", "level": "政令市",
         "source": "千葉市の取組（令和8年）", "keywords": ["住まい"]}


def alias_bomb(aliases: int = 1000, length: int = 60_000) -> bytes:
    """The attacker's file: one long string anchored in a valid field and a list of aliases to it
    (65 KB at the defaults; expanded, 60 MB)."""
    import yaml
    head = yaml.safe_dump(_CASE, allow_unicode=True)
    return (head + "title: &t " + "あ" * (length // 3) + "\nactions: [" + ", ".join(["*t"] * aliases) + "]\n").encode()


def _seg(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _chunk(ctype: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", zlib.crc32(ctype + payload))


SECRET = b"Tanaka Hanako, 1-2-3 Chiba"
_ICC = struct.pack(">I", 128 + 40) + b"lcms" + bytes(120) + b"desc" + bytes(8) + SECRET + bytes(40 - 12 - len(SECRET))
_JPEG_BODY = (_seg(0xDB, b"\x00" + bytes(range(1, 65))) + _seg(0xC0, b"\x08\x00\x10\x00\x10\x01\x01\x11\x00")
              + _seg(0xC4, b"\x00\x01" + bytes(15) + b"\x00") + _seg(0xDA, b"\x01\x01\x00\x00\x3f\x00")
              + b"\x12\x34\xff\x00\x56" + b"\xff\xd9")
_JFIF = _seg(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
_PNG = b"\x89PNG\r\n\x1a\n"


def jpeg_icc() -> bytes:
    return b"\xff\xd8" + _JFIF + _seg(0xE2, b"ICC_PROFILE\x00\x01\x01" + _ICC) + _JPEG_BODY


def png(width: int, height: int, iccp: bool = False) -> bytes:
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    icc = _chunk(b"iCCP", b"camera\x00\x00" + zlib.compress(_ICC)) if iccp else b""
    return _PNG + ihdr + icc + _chunk(b"IDAT", zlib.compress(bytes(1 + 3 * width) * height if width * height <= 4
                                                                else b"\x00")) + _chunk(b"IEND", b"")


def jpeg_huge(width: int, height: int) -> bytes:
    sof = _seg(0xC0, b"\x08" + struct.pack(">HH", height, width) + b"\x01\x01\x11\x00")
    return b"\xff\xd8" + _JFIF + _JPEG_BODY.replace(_seg(0xC0, b"\x08\x00\x10\x00\x10\x01\x01\x11\x00"), sof)


def upload_rows():
    """(attack, file bytes, path, call, judged) where call() returns (outcome, stored bytes, seconds)."""
    from bot.reports import photos
    from bot.console import localcases
    from casebase.cases import ImportError_, import_local

    def stored(db) -> int:
        return db.execute("SELECT COALESCE(SUM(LENGTH(CAST(yaml AS BLOB))), 0) FROM local_cases").fetchone()[0]

    def console(raw: bytes):
        def call():  # what the upload view does with the file's bytes (the database is made untimed)
            db = open_db(":memory:")
            t0 = time.perf_counter()
            try:
                localcases.add(db, localcases.parse_upload(raw), now=NOW)
                outcome = "stored"
            except localcases.CaseRejected as e:
                outcome = "refused: " + e.problems["-"][0][:24]
            return outcome, stored(db), time.perf_counter() - t0
        return call

    def cli(raw: bytes):
        def call():
            db = open_db(":memory:")
            with tempfile.TemporaryDirectory() as d:
                f = Path(d) / "case.yaml"
                f.write_bytes(raw)
                t0 = time.perf_counter()
                try:
                    import_local(db, f, now=NOW.isoformat())
                    outcome = "stored"
                except ImportError_ as e:
                    outcome = "refused: " + e.problems[0].message[:24]
                took = time.perf_counter() - t0
            return outcome, stored(db), took
        return call

    def unguarded(raw: bytes):
        def call():  # what the upload did before: the safe loader, then dumped again for storage
            import yaml
            t0 = time.perf_counter()
            data = yaml.load(raw.decode(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
            return "would be stored", len(text.encode()), time.perf_counter() - t0
        return call

    def photo(raw: bytes):
        def call():  # stripped, checked, written and fsynced, as a photo sent in a report is
            with tempfile.TemporaryDirectory() as d:
                t0 = time.perf_counter()
                try:
                    path = photos.store(raw, Path(d), name_hint="bench")
                except photos.PhotoError as e:
                    return "refused: " + str(e)[:24], 0, time.perf_counter() - t0
                took = time.perf_counter() - t0
                kept = path.read_bytes()
                said = "ICC/iCCP kept!" if SECRET in kept or b"iCCP" in kept or b"ICC_PROFILE" in kept else "stripped"
                return said, len(kept), took
        return call

    bomb = alias_bomb()
    small = alias_bomb(aliases=50)
    return [
        ("YAML alias bomb (60 KB string × 1000 aliases)", len(bomb), "console upload", console(bomb), True),
        ("YAML alias bomb (60 KB string × 1000 aliases)", len(bomb), "nimo cases import", cli(bomb), True),
        ("YAML alias bomb, 50 aliases", len(small), "before: safe_load + safe_dump", unguarded(small), False),
        ("JPEG APP2 ICC_PROFILE with text", len(jpeg_icc()), "photos.store", photo(jpeg_icc()), True),
        ("PNG iCCP with text", len(png(1, 1, iccp=True)), "photos.store", photo(png(1, 1, iccp=True)), True),
        ("PNG IHDR 30000×30000", len(png(30000, 30000)), "photos.store", photo(png(30000, 30000)), True),
        ("JPEG SOF0 30000×30000", len(jpeg_huge(30000, 30000)), "photos.store", photo(jpeg_huge(30000, 30000)), True),
    ]


def run_uploads(repeat: int, smoke: bool = False) -> list[str]:
    print("uploads: wall clock of the path named (a photo's includes writing and fsync)\n")
    print("| upload attack | file (bytes) | path | p50 / max (ms) | outcome | stored (bytes) | ok |")
    print("|---|---|---|---|---|---|---|")
    broken = []
    for attack, size, path, call, judged in upload_rows():
        times = []
        for _ in range(max(1, repeat)):
            outcome, stored, took = call()
            times.append(took)
        ok = (outcome.startswith("refused") or outcome == "stripped") and (smoke or max(times) <= UPLOAD_MAX)
        if judged and not ok:
            broken.append(f"{attack} / {path}")
        mark = ("yes" if ok else "**NO**") if judged else "(before)"
        print(f"| {attack} | {size:,} | {path} | {statistics.median(times) * 1e3:.1f} / {max(times) * 1e3:.1f} | "
              f"{outcome} | {stored:,} | {mark} |", flush=True)
    print()
    print(f"floor: every upload attack refused or stripped, none over {UPLOAD_MAX} s"
          + (" (smoke: time not judged)" if smoke else ""))
    return broken


def k(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,40000")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--only", default=None, help="only targets whose name contains this ('uploads': only those)")
    ap.add_argument("--wall", action="store_true", help="time the wall clock instead of this process's CPU")
    ap.add_argument("--smoke", action="store_true",
                    help="200 and 800 characters, one sample; only errors and stored attacks fail (for CI)")
    args = ap.parse_args()
    if args.smoke:
        args.sizes, args.repeat = "200,800", 1
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    load = ' '.join(Path('/proc/loadavg').read_text().split()[:3]) if Path('/proc/loadavg').exists() else '?'
    if args.only == "uploads":
        print(f"load average before: {load}\n")
        broken = run_uploads(args.repeat, args.smoke)
        print(f"BROKEN ({len(broken)}): " + "; ".join(broken) if broken else "all floors held")
        return 1 if broken else 0
    print(f"{'wall clock' if args.wall else 'CPU time of this process'}; load average before: {load}\n")
    sizes = [int(x) for x in args.sizes.split(",")]
    big, mid = sizes[-1], sizes[-2] if len(sizes) > 1 else sizes[-1]

    head = "| target | input | " + " | ".join(f"p50 / max {k(n)} (ms)" for n in sizes) + \
           f" | {k(big)}/{k(mid)} | ok |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    broken = []
    for name, label, fn, make in targets(args.only):
        try:
            res = measure_family(fn, make, sizes, args.repeat) if isinstance(fn, Family) \
                else measure(fn, make, sizes, args.repeat)
        except Exception as e:  # a crash is a broken floor too; say which kind, not the text
            broken.append(f"{name} / {label}: {type(e).__name__}")
            print(f"| {name} | {label} | " + " | ".join("error" for _ in sizes) + f" | — | **{type(e).__name__}** |")
            continue
        cells = []
        for n in sizes:
            ts = res.get(n)
            cells.append(f"{statistics.median(ts) * 1e3:.2f} / {max(ts) * 1e3:.2f}" if ts else "not run")
        if "ratio" in res:
            ratio = res.pop("ratio")
        else:
            ratio = min(res[big]) / min(res[mid]) if big in res and mid in res else None
        if args.smoke:  # every size measured: none gave up (over GIVE_UP), none raised
            ok = all(n in res for n in sizes)
        else:
            ok = ratio is not None and ratio <= RATIO_MAX and max(res[big]) <= CALL_MAX
        if not ok:
            broken.append(f"{name} / {label}")
        shown = f"{ratio:.1f}" if ratio is not None else "—"
        print(f"| {name} | {label} | " + " | ".join(cells) + f" | {shown} | " + ("yes |" if ok else "**NO** |"),
              flush=True)
    print()
    if args.smoke:
        print(f"smoke: floors on time not judged; ok means no call raised or took over {GIVE_UP} s")
    print(f"floors: every {k(big)}/{k(mid)} ratio <= {RATIO_MAX}, no call over {CALL_MAX} s at "
          f"{big:,} characters")
    print()
    if not args.only:
        broken += run_uploads(args.repeat, args.smoke)
    if broken:
        print(f"BROKEN ({len(broken)}): " + "; ".join(broken))
        return 1
    print("all floors held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
