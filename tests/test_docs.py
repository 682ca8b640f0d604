"""The README keeps its promises: two Quick start commands, CI runs the second, every setting documented."""
from __future__ import annotations

import re

from bot.config import SETTINGS

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands():
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", section, re.S)]


def test_quick_start_is_two_commands():
    cmds = quick_start_commands()
    assert len(cmds) == 2 and all("\n" not in c for c in cmds)
    assert cmds[0].endswith("nimo chat")
    assert cmds[1].endswith("pytest -q")


def test_ci_runs_the_quick_start_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_cmd = quick_start_commands()[1]
    assert test_cmd in ci


def test_every_setting_is_documented():
    for s in SETTINGS:
        assert f"`{s.name}`" in README, s.name


def test_the_layout_the_design_card_names():
    for d in ("bot", "bot/handlers", "knowledge", "scheduler", "tests"):
        assert (ROOT / d).is_dir(), d
    assert (ROOT / "pyproject.toml").is_file() and (ROOT / "Procfile").is_file()


def test_handlers_never_import_a_platform_sdk():
    for p in list((ROOT / "bot" / "handlers").glob("*.py")) + [ROOT / "bot" / "chat" / "router.py", ROOT / "bot" / "chat" / "core.py"]:
        text = p.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+(slack_bolt|slack_sdk|linebot)", text, re.M), p


def test_the_readme_names_every_path_the_web_process_serves():
    """The serve section lists what a deployment must route to Nimo: each platform's webhook (from
    the one list of platforms), the health checks and the console."""
    from bot.adapters import CONNECTORS
    section = README.split("## LINE と Slack で使う", 1)[1].split("\n## ", 1)[0]
    paths = [f"POST {c.path}" for c in CONNECTORS] + ["GET /healthz", "GET /readyz", "/console/"]
    assert len(CONNECTORS) >= 3
    for path in paths:
        assert f"`{path}`" in section, path
