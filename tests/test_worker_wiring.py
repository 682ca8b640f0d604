"""The worker module is the inbox loop and its wiring only: each platform's adapter (and its SDK)
lives in bot/adapters/ and is loaded when that platform is on, not by importing the worker."""
from __future__ import annotations

import json
import subprocess
import sys

from .conftest import ROOT

SDKS = ("linebot", "slack_bolt", "slack_sdk", "jwt", "bot.adapters.line", "bot.adapters.slack",
        "bot.adapters.lineworks")

SCRIPT = """
import json, sys
from bot.app import build_app
from bot.config import Settings
from storage.connections import open_db
import bot.serve.worker, bot.serve.runtime
sdks = json.loads(sys.argv[1])
loaded = lambda: sorted(m for m in sys.modules if any(m == s or m.startswith(s + ".") for s in sdks))
print(json.dumps(loaded()))
answerer = bot.serve.worker.Answerer(build_app(db=open_db(":memory:")), Settings.from_env({}), threads=1)
assert not answerer.on
print(json.dumps(loaded()))
answerer = bot.serve.worker.Answerer(build_app(db=open_db(":memory:")), Settings.from_env(
    {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "LINE_API_BASE_URL": "http://127.0.0.1:9"}), threads=1)
assert answerer.on and type(answerer.parts["line"]).__module__ == "bot.adapters.line"
print(json.dumps(loaded()))
"""


def test_the_worker_loads_a_platform_sdk_only_for_a_platform_that_is_on():
    p = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(SDKS)], capture_output=True, text=True, cwd=ROOT,
                       timeout=60)
    assert p.returncode == 0, p.stderr[-2000:]
    imported, none_on, line_on = (json.loads(line) for line in p.stdout.split("\n")[:3])
    assert imported == [] and none_on == []
    assert "linebot" in line_on and "bot.adapters.line" in line_on  # the check above can fail
    assert not [m for m in line_on if m.startswith(("slack", "jwt", "bot.adapters.slack", "bot.adapters.lineworks"))]
