"""The web console under ``/console/``: reports, visits, gaps, cases and users in the browser.

Nothing here is imported by the webhook paths: :func:`create_app` loads Flask on the first
``/console`` request (bot/serve/web.py mounts it lazily), so acknowledging LINE and Slack stays as small
as before.  The modules without Flask (``auth``, ``audit``, ``localcases``) are also used by the
chat handler that hands out sign-in links and by ``nimo console link``.
"""
from __future__ import annotations

# The largest request the console reads: an upload over its 1 MB limit still gets the page that says
# so in Japanese.  waitress spools bodies over 512 KB to a file, so this costs disk, not memory; the
# webhook paths refuse anything over 1 MB unread (bot/serve/webhooks.py MAX_BODY).
MAX_REQUEST = 8 * 1024 * 1024


def create_app(db, clock, settings):
    """The console's Flask app; ``settings``: the one :class:`bot.config.Settings` (its ``public_url``)."""
    from bot.console.site import build
    return build(db, clock, settings)
