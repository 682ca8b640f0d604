"""Real ``nimo serve`` processes for tests: started in their own process group, waited for, and
always ended with the whole group, also when the start itself fails."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from .waiting import wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (zombies excluded), read from /proc."""
    out = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            stat = (p / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(p.name))
    return out


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(cond, timeout: float = 20.0, step: float = 0.05) -> bool:
    """True once ``cond()`` holds; raises ``WaitTimeout`` (an AssertionError) after ``timeout``."""
    return wait_until(cond, timeout, step=step)


def get(port: int, path: str) -> tuple[int, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", path)
    r = c.getresponse()
    return r.status, r.read()


class Nimo:
    """``nimo serve`` (or any ``nimo`` command) as a real process group."""

    def __init__(self, env: dict, *args: str, port: int | None = None, stderr=subprocess.DEVNULL):
        self.port = port or free_port()
        self.env = env
        self.args = args or ("serve", "--host", "127.0.0.1", "--port", str(self.port))
        self.stderr = stderr
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Nimo":
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", *self.args], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=self.stderr, start_new_session=True)
        try:
            wait_for(self._up, timeout=60)  # raises when nimo serve did not start
        except BaseException:
            self.kill()
            raise
        return self

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"nimo serve exited with {self.proc.returncode}")
        try:
            return get(self.port, "/healthz")[0] == 200
        except OSError:
            return False

    def ready(self) -> dict:
        return json.loads(get(self.port, "/readyz")[1])

    def worker(self) -> int | None:
        kids = children(self.proc.pid)
        return kids[0] if kids else None

    def kill(self) -> None:
        """SIGKILL to the whole group: what is left of it, if anything."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def __exit__(self, *exc) -> None:
        self.kill()
