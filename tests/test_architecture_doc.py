"""docs/architecture.md matches the code: every path it names exists, every name it gives a module
is defined there, and the order of the message's path is the router's."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_every_path_named_exists():
    paths = set(re.findall(r"(?<![\w.])((?:bot|casebase|knowledge|scheduler|storage|tests|benchmarks|docs)/[\w/.*]*)", DOC))
    assert len(paths) >= 20
    for p in paths:
        p = p.rstrip(".,:")
        if "*" in p:
            assert list(ROOT.glob(p)), p
        else:
            assert (ROOT / p).exists(), p


def _folders_block() -> list[str]:
    return DOC.split("## The folders", 1)[1].split("```", 2)[1].splitlines()


def test_the_folders_are_the_folders_there_are():
    """The tree at the top lists every top-level package and folder, every sub-package of bot/
    and every module at bot/'s top level, and nothing else: a package added or moved without the
    doc fails here."""
    top, under_bot = set(), set()
    for line in _folders_block():
        m = re.match(r"^( {0,2})(\w+/|\w+\.py)\s", line + " ")  # an entry, not a description's next line
        if not m:
            continue
        (top if not m.group(1) else under_bot).add(m.group(2))
    shipped = {f"{p.name}/" for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert top == shipped | {"docs/"}
    bot = ROOT / "bot"
    expected = {f"{p.name}/" for p in bot.iterdir() if (p / "__init__.py").exists()}
    expected |= {p.name for p in bot.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    assert under_bot == expected
    assert len([m for m in expected if m.endswith(".py")]) <= 8


def test_the_names_it_gives_are_defined_where_it_says():
    for module, name in [("bot.app", "build_app"), ("bot.serve.runtime", "build_worker"), ("bot.chat.routes", "Route"),
                         ("bot.chat.routes", "Conversation"), ("bot.handlers", "GROUPS"), ("bot.handlers", "MODULES"),
                         ("bot.chat.router", "CHAIN"), ("bot.chat.router", "ROUTE_RULES"),
                         ("scheduler.transactions", "immediate"), ("storage.migrations", "MIGRATIONS"),
                         ("bot.adapters", "CONNECTORS"), ("bot.serve.webhooks", "Connector")]:
        assert f"`{name}" in DOC or name in DOC, name
        assert hasattr(importlib.import_module(module), name), (module, name)


def test_the_router_goes_in_the_order_the_doc_says():
    from bot.chat.router import CHAIN
    steps = [step.__name__ for step in CHAIN]
    assert steps.index("shape") < steps.index("public_routes") < steps.index("registered") \
        < steps.index("expired_dialogs") < steps.index("dialogs_and_routes")
    said = [DOC.index(s) for s in ("shape checks", "public routes", "is this user registered",
                                   "timed-out dialogs", "conversation that captures", "the first route")]
    assert said == sorted(said)
