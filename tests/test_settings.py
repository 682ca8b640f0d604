"""The one typed Settings object: every declared setting is on it, it is read from the environment
in bot/config.py only (and handed out by the commands), and a value it cannot use is said in
Japanese before anything starts."""
from __future__ import annotations

import ast
from dataclasses import fields

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import FLAGS, NUMBERS, SECRETS, SETTINGS, Settings, SettingError

from .conftest import ROOT

NAMES = {s.name for s in SETTINGS}
# Modules that may name a setting by its environment name: the declarations, the command that
# builds Settings (``nimo serve --check`` lists and checks each by name) and the shape checks it uses.
BY_NAME = {"bot/config.py", "bot/cli.py", "bot/adapters/config_check.py"}


def sample(name: str) -> str:
    return "1" if name in FLAGS else "12" if name in NUMBERS else f"value-of-{name.lower()}"


def test_every_declared_setting_is_a_field_of_settings_and_carries_its_value():
    assert {f.name for f in fields(Settings)} == {s.attr for s in SETTINGS}
    for s in SETTINGS:
        got = getattr(Settings.from_env({s.name: sample(s.name)}), s.attr)
        assert got == (True if s.name in FLAGS else 12 if s.name in NUMBERS else sample(s.name)), s.name


def test_defaults_apply_when_a_setting_is_unset_or_empty(tmp_path):
    blank = Settings.from_env({s.name: "" for s in SETTINGS} | {"XDG_DATA_HOME": str(tmp_path)})
    assert blank == Settings.from_env({"XDG_DATA_HOME": str(tmp_path)})
    assert blank.port == 8000 and blank.workers == 4 and blank.backup_keep == 7 and blank.new_db is False
    assert blank.db == str(tmp_path / "nimo" / "nimo.db") and blank.public_url is None
    assert blank.line_api_base_url == "https://api.line.me" and blank.line_api_data_base_url == "https://api-data.line.me"


def test_line_content_follows_the_api_when_only_the_api_is_moved():
    moved = Settings.from_env({"LINE_API_BASE_URL": "http://127.0.0.1:9"})
    assert moved.line_api_data_base_url == "http://127.0.0.1:9"
    both = Settings.from_env({"LINE_API_BASE_URL": "http://127.0.0.1:9", "LINE_API_DATA_BASE_URL": "http://127.0.0.1:8"})
    assert both.line_api_data_base_url == "http://127.0.0.1:8"


def test_a_platform_is_on_only_with_all_of_its_settings():
    line = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}
    slack = {"SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-t"}
    works = {n: "x" for n in ("LINEWORKS_BOT_ID", "LINEWORKS_BOT_SECRET", "LINEWORKS_CLIENT_ID",
                              "LINEWORKS_CLIENT_SECRET", "LINEWORKS_SERVICE_ACCOUNT", "LINEWORKS_PRIVATE_KEY")}
    on = Settings.from_env(line | slack | works)
    assert on.line_on and on.slack_on and on.lineworks_on
    for group in (line, slack, works):
        for name in group:
            off = Settings.from_env({k: v for k, v in (line | slack | works).items() if k != name})
            assert [off.line_on, off.slack_on, off.lineworks_on] == [group is not line, group is not slack,
                                                                     group is not works], name


def test_secrets_never_show_in_the_settings_repr():
    values = {name: f"secret-{i}-value" for i, name in enumerate(sorted(SECRETS))}
    shown = repr(Settings.from_env(values))
    assert not [v for v in values.values() if v in shown]
    assert "port=8000" in shown  # the rest is shown, so a log of the settings still helps


@pytest.mark.parametrize("name, value", [("PORT", "http"), ("NIMO_WORKERS", "0"), ("NIMO_BACKUP_KEEP", "7日"),
                                         ("PORT", "-1")])
def test_a_number_that_is_not_one_is_said_in_japanese(name, value):
    with pytest.raises(SettingError) as e:
        Settings.from_env({name: value})
    assert name in str(e.value) and "整数" in str(e.value)


def test_the_commands_say_a_bad_setting_in_japanese_before_starting(tmp_path):
    env = {"NIMO_DB": str(tmp_path / "n.db"), "NIMO_WORKERS": "four"}
    r = CliRunner().invoke(main, ["users", "list"], env=env)
    assert r.exit_code == 1 and "NIMO_WORKERS には 1 以上の整数" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "n.db").exists()  # nothing was opened
    r = CliRunner().invoke(main, ["serve", "--check"], env=env)
    assert r.exit_code == 1 and "NIMO_WORKERS" in r.output and "NIMO_WORKERS には 1 以上の整数" in r.output


# -- only bot/config.py reads the environment --------------------------------------------------------
def environment_reads(source: str, path: str) -> list[str]:
    """Where ``source`` reads the environment (``os.environ``, ``os.getenv``) other than to hand all
    of it to ``Settings.from_env`` or ``all_settings`` (in bot/cli.py), or names a declared setting
    as a key (``x["PORT"]``, ``x.get("NIMO_DB")``) outside the modules in BY_NAME."""
    tree = ast.parse(source)
    handed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in (
                "from_env", "all_settings") and path == "bot/cli.py":
            handed.update(id(a) for a in node.args)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and id(node) not in handed \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            found.append(f"{path}:{node.lineno} os.{node.attr}")
        if path in BY_NAME:
            continue
        key = None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            key = node.slice.value
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("get", "getenv") and node.args \
                and isinstance(node.args[0], ast.Constant):
            key = node.args[0].value
        if key in NAMES:
            found.append(f"{path}:{node.lineno} {key}")
    return found


def test_no_module_but_config_reads_the_environment_or_a_setting_by_name():
    found = []
    for p in sorted((ROOT / "bot").rglob("*.py")):
        rel = p.relative_to(ROOT).as_posix()
        if rel != "bot/config.py":
            found += environment_reads(p.read_text(encoding="utf-8"), rel)
    assert found == []


@pytest.mark.parametrize("source", [
    'import os\nx = os.environ.get("NIMO_DB")\n', 'import os\nx = os.getenv("PORT")\n',
    'import os\nenv = os.environ\n', 'x = settings["LINE_CHANNEL_SECRET"]\n', 'x = settings.get("NIMO_PUBLIC_URL")\n',
])
def test_the_environment_check_finds_a_read(source):
    assert environment_reads(source, "bot/serve/web.py")


@pytest.mark.parametrize("source", [
    'x = settings.public_url\n', 'x = environ.get("PATH_INFO")\n', 'x = payload["events"]\n',
])
def test_the_environment_check_lets_other_code_be(source):
    assert environment_reads(source, "bot/serve/web.py") == []


def test_the_commands_hand_the_whole_environment_to_settings_only():
    assert environment_reads("import os\ns = Settings.from_env(os.environ)\n", "bot/cli.py") == []
    assert environment_reads("import os\nx = os.environ['PORT']\n", "bot/cli.py")
