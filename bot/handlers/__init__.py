"""One user intent per module.  Handlers take an App and an Incoming and return replies; they never
import a platform SDK.

Each module declares its commands as ``ROUTES`` (see :mod:`bot.chat.routes`); this is the one list of
modules, in the order the router tries them: events that are not text, registration, the fixed
words of the menus, reports, reminders, hints for a command word no command could read, and last the question search, which takes whatever is left.
A new command is a route in its module; a new module is one line here.
"""
from __future__ import annotations

from bot.handlers import ask, console_link, greet, help, hints, plans, proposal, register, remind, report

MODULES = (greet, register, help, console_link, proposal, report, remind, plans, hints, ask)
ROUTES = tuple(route for module in MODULES for route in module.ROUTES)
