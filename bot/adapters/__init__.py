"""One adapter per platform: parse what arrives into an Incoming, render replies the platform's way.

``CONNECTORS`` is the one list of platforms: the web process routes webhooks by it and the worker
builds each platform's answering and pushing from it (bot/serve/ names no platform).  A platform is
a hook for the web process (``*_hook.py``: standard library only, so the web process stays small)
and its adapter for the worker (loaded only when the platform is on), declared by the hook's
``CONNECTOR``; adding one is its modules here and a line below.
"""
from bot.adapters import line_hook, lineworks_hook, slack_hook

CONNECTORS = (line_hook.CONNECTOR, slack_hook.CONNECTOR, lineworks_hook.CONNECTOR)
