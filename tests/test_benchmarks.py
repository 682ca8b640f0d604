"""The benchmarks cannot rot unseen: every script in benchmarks/ takes ``--smoke``, and the runner
(``python -m benchmarks --smoke``, which CI runs) finds scripts by name and fails when one fails,
lacks ``--smoke`` or overruns.  The real smoke runs are in CI (.ci/run), not here: they start
servers and take a minute or two."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks.__main__ import HERE, ROOT, scripts, takes_smoke
from tests.procs import alive

SCRIPTS = scripts()


def test_the_runner_finds_every_script_of_the_folder():
    names = {p.name for p in SCRIPTS}
    assert {"bench_webhook.py", "bench_faults.py", "lineworks_load.py"} <= names
    # A file kept out as a helper (``_*.py``) must not be a script: it would never run in CI.
    for helper in HERE.glob("_*.py"):
        if helper.name not in ("__init__.py", "__main__.py"):
            assert "__main__" not in helper.read_text(encoding="utf-8"), helper.name


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_script_takes_smoke(script):
    assert takes_smoke(script), f"{script.name} --help does not list --smoke"


def _runner(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "benchmarks", "--smoke", "--dir", str(folder), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def _write(folder: Path, name: str, body: str) -> None:
    (folder / name).write_text(textwrap.dedent(body), encoding="utf-8")


def test_the_runner_fails_on_a_failing_script_and_on_one_without_smoke(tmp_path):
    marks = tmp_path / "marks"
    marks.mkdir()
    scripts_dir = tmp_path / "scripts"
    scripts_dir.mkdir()
    _write(scripts_dir, "bench_good.py", f"""
        import argparse, pathlib
        ap = argparse.ArgumentParser()
        ap.add_argument("--smoke", action="store_true")
        a = ap.parse_args()
        pathlib.Path({str(marks / "good")!r}).write_text("smoke" if a.smoke else "full")
    """)
    _write(scripts_dir, "bench_broken.py", """
        import argparse, sys
        ap = argparse.ArgumentParser()
        ap.add_argument("--smoke", action="store_true")
        ap.parse_args()
        sys.exit(3)
    """)
    _write(scripts_dir, "bench_forgotten.py", f"""
        import argparse, pathlib
        ap = argparse.ArgumentParser()
        ap.add_argument("--rounds", type=int, default=5)
        ap.parse_args()
        pathlib.Path({str(marks / "forgotten")!r}).write_text("ran at full size")
    """)
    _write(scripts_dir, "_helper.py", "X = 1\n")

    out = _runner(scripts_dir)

    assert out.returncode == 1, out.stdout + out.stderr
    assert "| bench_good.py | ok |" in out.stdout
    assert "| bench_broken.py | exit 3 |" in out.stdout
    assert "| bench_forgotten.py | no --smoke |" in out.stdout
    assert "_helper.py" not in out.stdout
    assert (marks / "good").read_text() == "smoke"
    # The runner has exited: a script without --smoke was never started at its full size.
    assert not (marks / "forgotten").exists()


def test_the_runner_passes_when_every_script_passes(tmp_path):
    _write(tmp_path, "bench_good.py", """
        import argparse
        ap = argparse.ArgumentParser()
        ap.add_argument("--smoke", action="store_true")
        ap.parse_args()
    """)
    out = _runner(tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 of 1 benchmarks ran at smoke size" in out.stdout


def test_the_runner_ends_an_overrunning_script_with_its_children(tmp_path):
    pid_file = tmp_path / "child.pid"
    scripts_dir = tmp_path / "scripts"
    scripts_dir.mkdir()
    _write(scripts_dir, "bench_hangs.py", f"""
        import argparse, pathlib, subprocess, sys, time
        ap = argparse.ArgumentParser()
        ap.add_argument("--smoke", action="store_true")
        ap.parse_args()
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        pathlib.Path({str(pid_file)!r}).write_text(str(child.pid))
        time.sleep(600)
    """)
    out = _runner(scripts_dir, "--timeout", "8")  # room for a slow start on a busy machine
    assert out.returncode == 1, out.stdout + out.stderr
    assert "| bench_hangs.py | timeout |" in out.stdout
    child = int(pid_file.read_text())
    assert not alive(child), "the script's own child outlived the runner"


def test_the_runner_fails_a_script_that_leaves_a_process_behind(tmp_path):
    pid_file = tmp_path / "child.pid"
    scripts_dir = tmp_path / "scripts"
    scripts_dir.mkdir()
    _write(scripts_dir, "bench_leaks.py", f"""
        import argparse, pathlib, subprocess, sys
        ap = argparse.ArgumentParser()
        ap.add_argument("--smoke", action="store_true")
        ap.parse_args()
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        pathlib.Path({str(pid_file)!r}).write_text(str(child.pid))
    """)
    out = _runner(scripts_dir)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "| bench_leaks.py | left a process behind |" in out.stdout
    assert not alive(int(pid_file.read_text())), "the runner did not end what the script left"
