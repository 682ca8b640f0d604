"""The shape of each platform secret, for ``nimo serve --check``.

A value that is set is not yet a value that works: a channel secret pasted into the token field,
a Slack user token (xoxp-) instead of the bot token, a value copied with its quotes or a line
break.  Each of these makes every webhook fail its signature check or every API call fail with
401, long after the admin has left the server.  The shapes are those the platforms document and
issue; the check says which setting is wrong and how, and never shows the value.
"""
from __future__ import annotations

import re

from bot import messages

_HEX32 = re.compile(r"[0-9a-f]{32}")
_SLACK_TOKEN = re.compile(r"xox[a-z]-[0-9A-Za-z-]{10,}")
_SLACK_APP = re.compile(r"xapp-[0-9A-Za-z-]{10,}")
# Long-lived channel access tokens are 172 characters of base64; v2.1 and stateless tokens are
# longer JWTs (letters, digits, '.', '-', '_').  A channel secret (32) or channel ID (10 digits)
# is far shorter.
_LINE_TOKEN = re.compile(r"[A-Za-z0-9+/=._-]{100,}")


def _spaced(value: str) -> bool:
    return value != value.strip() or any(c.isspace() or c in "\"'" for c in value)


def _hex32(value: str) -> str | None:
    return None if _HEX32.fullmatch(value) else messages.SHAPE_HEX32


def _line_token(value: str) -> str | None:
    return None if _LINE_TOKEN.fullmatch(value) else messages.SHAPE_LINE_TOKEN


def _slack_bot(value: str) -> str | None:
    if value.startswith("xoxp-"):
        return messages.SHAPE_SLACK_USER_TOKEN
    if value.startswith("xapp-"):
        return messages.SHAPE_SLACK_APP_TOKEN_HERE
    return None if value.startswith("xoxb-") and _SLACK_TOKEN.fullmatch(value) else messages.SHAPE_SLACK_BOT


def _slack_app(value: str) -> str | None:
    return None if _SLACK_APP.fullmatch(value) else messages.SHAPE_SLACK_APP


CHECKS = {
    "LINE_CHANNEL_SECRET": _hex32,
    "LINE_CHANNEL_ACCESS_TOKEN": _line_token,
    "SLACK_SIGNING_SECRET": _hex32,
    "SLACK_BOT_TOKEN": _slack_bot,
    "SLACK_APP_TOKEN": _slack_app,
}


def shape_problem(name: str, value: str | None) -> str | None:
    """What is wrong with the shape of setting ``name`` (in Japanese), or None (also when unset:
    a missing setting is said elsewhere)."""
    check = CHECKS.get(name)
    if not value or check is None:
        return None
    why = messages.SHAPE_SPACES if _spaced(value) else check(value)
    return messages.shape_wrong(name, why) if why else None


def problems(settings: dict, names: tuple[str, ...]) -> list[str]:
    return [p for n in names if (p := shape_problem(n, settings.get(n)))]


# -- whether a platform is on, for nimo serve --check (each connector names its check) ---------------
def required_and_shapes(settings: dict, connector) -> tuple[bool, str]:
    """On when every required setting is there and of the shape its platform issues; else what is
    missing or wrong, without showing any value."""
    label = messages.PLATFORM_NAMES.get(connector.name, connector.name)
    names = connector.required
    if any(not settings[n] for n in names):
        return False, messages.platform_needs(label, " と ".join(names))
    wrong = problems(settings, names)
    if wrong:
        return False, messages.platform_off(label, "／".join(wrong))
    return True, messages.platform_on(label)


def lineworks_key_usable(settings: dict, connector) -> tuple[bool, str]:
    """On when the six settings are there and the private key can be read (the worker's first token
    would fail otherwise)."""
    label = messages.PLATFORM_NAMES.get(connector.name, connector.name)
    missing = [name for name in connector.required if not settings[name]]
    if missing:
        return False, messages.platform_needs(label, "・".join(missing))
    from bot.adapters.lineworks_api import load_private_key
    try:
        load_private_key(settings["LINEWORKS_PRIVATE_KEY"])
    except ValueError as e:
        return False, messages.platform_off(label, str(e))
    return True, messages.platform_on(label)
