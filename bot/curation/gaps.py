"""The curators' log: questions Nimo could not answer, and 👍 / 👎 on answers.

Every question that got no case is stored as typed but with names, phone numbers and the like
masked by the privacy guard (〇〇さん, ***-****-****), with a normalised key so that repeats are
counted together in ``nimo gaps``.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

from bot.privacy.guard import guard


def gap_key(question: str) -> str:
    from knowledge.tokens import normalize  # here, so the console (web process) can read gaps without the tokenizer
    return "".join(normalize(question).split())[:200]


def log_gap(app, platform: str, question: str, reason: str, *, user: str | None = None) -> bool:
    """Store an unanswered question, masked, with the asker's area (a supervisor reads their own
    area's; not the asker); True when masking changed it (the user is told)."""
    from bot.people.access import get_user
    question, hidden = guard(question)
    asker = get_user(app.db, platform, user) if user else None
    app.db["gaps"].insert({"question": question, "key": gap_key(question), "reason": reason,
                           "platform": platform, "created_at": app.clock().isoformat(),
                           "area": asker.area if asker else None})
    return hidden


def log_feedback(app, platform: str, user: str, question: str, case_ids: list[str], vote: int) -> bool:
    """Store 👍 / 👎 with the question, masked; True when masking changed it."""
    question, hidden = guard(question)
    app.db["feedback"].insert({"platform": platform, "user": user, "question": question,
                               "case_ids": json.dumps(case_ids, ensure_ascii=False), "vote": vote,
                               "created_at": app.clock().isoformat()})
    return hidden


def gap_report(db) -> list[dict]:
    """Unanswered questions and 👎 answers, most frequent first."""
    rows = list(db.query(
        "SELECT key, reason, COUNT(*) AS n, MAX(created_at) AS last, "
        "(SELECT question FROM gaps g2 WHERE g2.key = g.key ORDER BY id DESC LIMIT 1) AS question "
        "FROM gaps g GROUP BY key, reason"))
    rows = [{"kind": "未回答", "count": r["n"], "last": r["last"], "question": r["question"],
             "reason": r["reason"]} for r in rows]
    for r in db.query("SELECT question, COUNT(*) AS n, MAX(created_at) AS last, "
                      "GROUP_CONCAT(case_ids, ' ') AS cases FROM feedback WHERE vote = -1 "
                      "GROUP BY question"):
        rows.append({"kind": "👎", "count": r["n"], "last": r["last"], "question": r["question"],
                     "reason": "thumbs_down"})
    rows.sort(key=lambda r: r["last"] or "", reverse=True)  # ties: the most recent first
    rows.sort(key=lambda r: -r["count"])
    return rows


def gap_groups(db, *, include_handled: bool = False, area: str | None = None) -> list[dict]:
    """What the console lists: unanswered questions and 👎 answers grouped, newest first, each with
    its count, the cases that were shown for a 👎, and whether a curator marked it handled (a
    group handled before its latest occurrence is open again).  ``area``: only the questions
    asked by users of that area (None: all)."""
    handled = {(k, key): at for k, key, at in db.execute("SELECT kind, key, handled_at FROM gaps_handled")}
    gap_where, down_where = _area_conditions(area)
    params = [area] if area is not None else []
    rows = [{"kind": "gap", "key": r["key"], "count": r["n"], "last": r["last"], "question": r["question"],
             "reason": r["reason"], "case_ids": []} for r in db.query(
        "SELECT key, MAX(reason) AS reason, COUNT(*) AS n, MAX(created_at) AS last, "
        f"(SELECT question FROM gaps g2 WHERE g2.key = g.key{gap_where.replace('g.', 'g2.')} "
        f"ORDER BY id DESC LIMIT 1) AS question FROM gaps g WHERE 1 = 1{gap_where} GROUP BY key", params * 2)]
    for r in db.query("SELECT question, COUNT(*) AS n, MAX(created_at) AS last, "
                      "GROUP_CONCAT(case_ids, '\n') AS cases FROM feedback f WHERE vote = -1"
                      f"{down_where} GROUP BY question", params):
        ids: list[str] = []
        for chunk in (r["cases"] or "").split("\n"):
            for cid in json.loads(chunk or "[]"):
                if cid not in ids:
                    ids.append(cid)
        rows.append({"kind": "down", "key": r["question"], "count": r["n"], "last": r["last"],
                     "question": r["question"], "reason": "thumbs_down", "case_ids": ids})
    for r in rows:
        at = handled.get((r["kind"], r["key"]))
        r["handled"] = at is not None and _utc(at) >= _utc(r["last"])
    if not include_handled:
        rows = [r for r in rows if not r["handled"]]
    rows.sort(key=lambda r: _utc(r["last"]), reverse=True)
    return rows


def _area_conditions(area: str | None) -> tuple[str, str]:
    """The extra WHERE of gaps (alias g) and of 👎 feedback (alias f, by the voter's area)."""
    if area is None:
        return "", ""
    return (" AND g.area = ?", " AND EXISTS (SELECT 1 FROM users u WHERE u.platform = f.platform "
                               "AND u.user_id = f.user AND u.area = ?)")


def mark_handled(db, kind: str, key: str, *, by: str, now: datetime, area: str | None = None) -> bool:
    """A curator dealt with this group (added a case, say); False when there is no such group (of
    ``area``, when given: a supervisor marks their own area's only)."""
    gap_where, down_where = _area_conditions(area)
    params = [area] if area is not None else []
    if kind == "gap":
        found = db.execute(f"SELECT 1 FROM gaps g WHERE key = ?{gap_where} LIMIT 1", [key, *params]).fetchone()
    elif kind == "down":
        found = db.execute(f"SELECT 1 FROM feedback f WHERE vote = -1 AND question = ?{down_where} LIMIT 1",
                           [key, *params]).fetchone()
    else:
        return False
    if not found:
        return False
    db.execute("INSERT INTO gaps_handled (kind, key, handled_at, handled_by) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (kind, key) DO UPDATE SET handled_at = excluded.handled_at, handled_by = excluded.handled_by",
               [kind, key, now.astimezone(timezone.utc).isoformat(), by])
    return True


def _utc(iso: str | None) -> str:
    """Stored times come from app.clock() in any zone; compare them in UTC."""
    if not iso:
        return ""
    t = datetime.fromisoformat(iso)
    return t.astimezone(timezone.utc).isoformat() if t.tzinfo else iso
