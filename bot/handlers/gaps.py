"""The curators' log: questions Nimo could not answer, and 👍 / 👎 on answers.

Every question that got no case is stored exactly as typed (nothing the user typed is lost), with
a normalised key so that repeats are counted together in ``nimo gaps``.
"""
from __future__ import annotations

import json

from knowledge.tokens import normalize


def gap_key(question: str) -> str:
    return "".join(normalize(question).split())[:200]


def log_gap(app, platform: str, question: str, reason: str) -> None:
    app.db["gaps"].insert({"question": question, "key": gap_key(question), "reason": reason,
                           "platform": platform, "created_at": app.clock().isoformat()})


def log_feedback(app, platform: str, user: str, question: str, case_ids: list[str], vote: int) -> None:
    app.db["feedback"].insert({"platform": platform, "user": user, "question": question,
                               "case_ids": json.dumps(case_ids, ensure_ascii=False), "vote": vote,
                               "created_at": app.clock().isoformat()})


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
