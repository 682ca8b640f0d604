"""Case proposals from the field (table ``case_proposals``): stored from the chat's guided entry
(bot/handlers/proposal.py), then published as a local case or declined by a curator in the
console, the proposer told in chat either way (bot/serve/notices.py sends what is written here).
"""
from __future__ import annotations

from datetime import datetime, timezone

from bot import messages
from bot.serve import notices


def number(pid: int) -> str:
    """How people see a proposal's id (in chat and in the console)."""
    return f"P-{pid}"


def add(db, platform: str, user_id: str, draft: dict, now: datetime) -> int:
    """A new draft proposal (its text already past the privacy guard); its id."""
    at = now.astimezone(timezone.utc).isoformat()
    return db.execute(
        "INSERT INTO case_proposals (platform, user_id, area, problem, action, outcome, contact, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [platform, user_id, draft["area"], draft["problem"], draft["action"],
                                             draft["outcome"], draft["contact"], at, at]).lastrowid


def decline(db, p: dict, reason: str, *, by: str, now: datetime) -> None:
    """Declined with ``reason``; the proposer is told why."""
    _decide(db, p, "declined", by=by, now=now, reason=reason)
    notices.add(db, p["platform"], p["user_id"], messages.proposal_declined(number(p["id"]), reason), now)


def published(db, p: dict, case_id: str, title: str, *, by: str, now: datetime) -> None:
    """Recorded as published as the local case ``case_id`` (already added); the proposer is told."""
    _decide(db, p, "published", by=by, now=now, case_id=case_id)
    notices.add(db, p["platform"], p["user_id"], messages.proposal_published(number(p["id"]), title), now)


def _decide(db, p: dict, status: str, *, by: str, now: datetime, reason: str | None = None,
            case_id: str | None = None) -> None:
    at = now.isoformat()
    db.execute("UPDATE case_proposals SET status = ?, reason = ?, case_id = ?, decided_by = ?, decided_at = ?, "
               "updated_at = ? WHERE id = ? AND status = 'draft'", [status, reason, case_id, by, at, at, p["id"]])
