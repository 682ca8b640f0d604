"""Keeping a long-running process's case index in step with the local cases in SQLite.

The console (in the web process) adds or withdraws a local case; the worker answers chat with an
index built at start.  Before each message the router calls :func:`refresh`: one indexed read of a
counter, and a rebuild only when it moved, so a new local case is found in chat at once without a
restart.
"""
from __future__ import annotations

from casebase.cases import cases_version


def refresh(app) -> bool:
    """Rebuild ``app``'s index when the local cases changed since it was built; True if it was."""
    version = cases_version(app.db)
    seen = getattr(app, "_cases_version", None)
    if seen == version:
        return False
    if seen is None and getattr(app, "_index", None) is None:
        # first look, the index not loaded yet: it will be read as the cases are now, so there is
        # nothing to rebuild (and no need to read 10,000 case records to find that out)
        app._cases_version = version
        return False
    if seen is None:  # first look: the index was built at start; rebuild only if it missed a change
        local_in_db = {r[0] for r in app.db.execute("SELECT id FROM local_cases").fetchall()}
        local_in_index = {c.id for c in app.index.cases if c.local}
        app._cases_version = version
        if local_in_db == local_in_index:
            return False
    app._cases_version = version
    app.reload_cases()
    return True
