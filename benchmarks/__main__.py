"""Runs every benchmark script at its ``--smoke`` size, one after another, and fails if any fails.

    python -m benchmarks --smoke

Scripts are found by name (every ``*.py`` of this folder but ``_*.py`` helpers and this package's
own files), so a new one cannot be left out; one that does not list ``--smoke`` in its ``--help``
fails the run without being started at full size (which could take an hour).  Each script runs in a
process group of its own, ended with all its children when it overruns ``--timeout`` or this runner
is stopped; one that exits leaving a process of that group running fails too.  Prints each script's own output, then a table: script, exit status, seconds.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OWN = {"__init__.py", "__main__.py"}


def scripts(folder: Path = HERE) -> list[Path]:
    """The benchmark scripts of ``folder``, by name."""
    return sorted(p for p in folder.glob("*.py") if p.name not in OWN and not p.name.startswith("_"))


def takes_smoke(script: Path, timeout: float = 120) -> bool:
    """Whether the script's ``--help`` lists ``--smoke`` (and ``--help`` itself works)."""
    try:
        p = subprocess.run([sys.executable, str(script), "--help"], cwd=ROOT, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return p.returncode == 0 and "--smoke" in p.stdout


def _alive(pgid: int) -> bool:
    """Whether a process of the group still runs (zombies, which nobody may reap here, do not)."""
    if not os.path.isdir("/proc"):
        try:
            os.killpg(pgid, 0)
            return True
        except ProcessLookupError:
            return False
    for d in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{d}/stat").read_text() if d.isdigit() else ""
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split() if stat else []
        if fields and int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _end_group(proc: subprocess.Popen) -> None:
    """SIGTERM to the script's whole process group (its servers too), SIGKILL to what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            proc.poll()  # reap the leader, so that it does not count
            if not _alive(proc.pid):
                return
            time.sleep(0.1)
    print(f"warning: process group {proc.pid} outlived SIGKILL", file=sys.stderr)


def run(script: Path, timeout: float) -> tuple[str, float]:
    """(outcome, seconds): "ok", "exit N", "timeout", "left a process behind" or "no --smoke"."""
    t0 = time.perf_counter()
    if not takes_smoke(script):
        return "no --smoke", time.perf_counter() - t0
    proc = subprocess.Popen([sys.executable, str(script), "--smoke"], cwd=ROOT, start_new_session=True)
    try:
        code = proc.wait(timeout)
        left = _alive(proc.pid)  # a process the script started and did not end
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - t0
    finally:
        _end_group(proc)  # also ends what a script that exited left behind, and on Ctrl-C
    if code == 0 and left:
        return "left a process behind", time.perf_counter() - t0
    return ("ok" if code == 0 else f"exit {code}"), time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", required=True,
                    help="each script at its smoke size (the only mode: full sizes take hours together)")
    ap.add_argument("--timeout", type=float, default=300, help="seconds one script may take")
    ap.add_argument("--dir", type=Path, default=HERE, help=argparse.SUPPRESS)  # another folder of scripts (tests)
    a = ap.parse_args(argv)
    # SIGTERM as Ctrl-C: the running script's group is ended in run()'s `finally`
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    found = scripts(a.dir)
    if not found:
        print(f"no benchmark scripts in {a.dir}", file=sys.stderr)
        return 1
    results = []
    for script in found:
        print(f"\n=== {script.name} --smoke", flush=True)
        outcome, took = run(script, a.timeout)
        sys.stdout.flush()
        results.append((script.name, outcome, took))
    print("\n| script | outcome | seconds |\n|---|---|---:|")
    for name, outcome, took in results:
        print(f"| {name} | {outcome} | {took:.1f} |")
    failed = [name for name, outcome, _ in results if outcome != "ok"]
    total = sum(took for _, _, took in results)
    print(f"\n{len(results) - len(failed)} of {len(results)} benchmarks ran at smoke size in {total:.0f} s"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
