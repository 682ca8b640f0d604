"""Shared fixtures: a fresh in-memory database per test, a fixed clock, one case index per run,
and a guard that fails any test trying to reach the network beyond 127.0.0.1."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXED_NOW = datetime(2026, 11, 24, 0, 30, tzinfo=timezone.utc)  # 09:30 in Tokyo, a Tuesday

_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
        raise RuntimeError(f"tests must not use the network: {host}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(scope="session")
def index():
    from casebase.cases import load_builtin
    from knowledge.search import CaseIndex
    return CaseIndex(load_builtin())


class Clock:
    def __init__(self, now: datetime = FIXED_NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock()


class RunningClock:
    """Starts at a fixed instant and moves at the real pace.  For tests where APScheduler really
    fires (after real seconds) while the dates, weekday and hour the engine sees stay those of
    ``start``, whatever the wall clock says."""

    def __init__(self, start: datetime = FIXED_NOW):
        self.start = start
        self.t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0)


@pytest.fixture
def app(index, clock):
    from bot.app import build_app
    from storage.connections import open_db
    return build_app(db=open_db(":memory:"), clock=clock, index=index)


@pytest.fixture
def nimo(tmp_path):
    """Run the installed ``nimo`` command with its own database file."""
    env = dict(os.environ, NIMO_DB=str(tmp_path / "nimo.db"), PYTHONIOENCODING="utf-8")

    def run(*args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        p = subprocess.run([sys.executable, "-m", "bot", *args], input=input, capture_output=True,
                           text=True, env=env, cwd=tmp_path, timeout=120)
        if check and p.returncode != 0:
            raise AssertionError(f"nimo {' '.join(args)} exited {p.returncode}: {p.stderr}")
        return p

    run.db_path = tmp_path / "nimo.db"
    return run
