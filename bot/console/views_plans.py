"""訪問・予定: follow-up visits by due window (overdue first) with their outcomes, and events
with who answered 参加 / 不参加.  Staff see their own, a supervisor the area, an admin all."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import g, render_template, request

from scheduler.store import load_plans, utc
from scheduler.workdays import TZ

from . import queries
from .site import Ctx

LIMIT = 300
OUTCOMES = {"done": "完了", "unmet": "会えなかった", "cancelled": "取消"}


def register(app, ctx: Ctx) -> None:
    db = ctx.db

    @app.get("/visits")
    def visits():
        today = ctx.today()
        area = ""
        if g.user.role == "admin":
            area = request.args.get("area", "").strip()[:queries.MAX_FILTER]
        cond, params = queries.scope(g.user, platform_col="p.platform", owner_col="p.owner", area_col="p.area")
        if area:
            cond, params = cond + " AND p.area = ?", params + [area]
        base = ("SELECT v.*, p.case_code, p.plan, p.area, p.platform, p.owner, u.display_name, "
                "(SELECT detail FROM reminder_actions a WHERE a.visit_id = v.id AND a.action = 'postpone' "
                " ORDER BY a.id DESC LIMIT 1) AS postponed_to "
                "FROM visits v JOIN plans p ON p.id = v.plan_id "
                "LEFT JOIN users u ON u.platform = p.platform AND u.user_id = p.owner "
                f"WHERE p.status = 'active' AND {cond} ")
        open_rows = list(db.query(base + "AND v.status = 'open' ORDER BY (v.window_end < ?) DESC, v.due, v.id LIMIT ?",
                                  params + [today.isoformat(), LIMIT]))
        since = utc(datetime.combine(today - timedelta(days=60), time(), tzinfo=TZ))
        done_rows = list(db.query(base + "AND v.status != 'open' AND v.updated_at >= ? ORDER BY v.updated_at DESC LIMIT ?",
                                  params + [since, LIMIT]))
        plans = load_plans()
        for r in open_rows + done_rows:
            r["plan_label"] = plans.get(r["plan"], {}).get("label", r["plan"])
            r["overdue"] = r["status"] == "open" and r["window_end"] < today.isoformat()
            r["outcome"] = OUTCOMES.get(r["status"], "")
            r["who"] = queries.person(r["platform"], r["owner"], r["display_name"])
        ctx.log("view_visits", None, f"area={area}" if area else "all")
        return render_template("visits.html", open_rows=open_rows, done_rows=done_rows, events=_events(ctx),
                               today=today.isoformat(), area=area,
                               areas=queries.areas(db) if g.user.role == "admin" else [])


def _events(ctx: Ctx) -> list[dict]:
    """Events from 30 days ago on, with answers by name; scoped by the owner's area (events have none)."""
    db = ctx.db
    since = utc(datetime.combine(ctx.today() - timedelta(days=30), time(), tzinfo=TZ))
    if g.user.role == "admin":
        cond, params = "1 = 1", []
    elif g.user.role == "supervisor":
        cond, params = "ou.area = ?", [g.user.area]
    else:
        cond = ("((e.platform = ? AND e.owner = ?) OR EXISTS (SELECT 1 FROM rsvps x WHERE x.event_id = e.id "
                "AND x.platform = ? AND x.user = ?))")
        params = [g.user.platform, g.user.user_id] * 2
    rows = list(db.query(
        "SELECT e.id, e.title, e.starts_at, e.is_group, e.platform, e.owner, ou.display_name FROM events e "
        "LEFT JOIN users ou ON ou.platform = e.platform AND ou.user_id = e.owner "
        f"WHERE e.status = 'active' AND e.starts_at >= ? AND {cond} ORDER BY e.starts_at LIMIT ?",
        [since] + params + [LIMIT]))
    for e in rows:
        answers = db.query("SELECT r.answer, r.platform, r.user, u.display_name FROM rsvps r LEFT JOIN users u "
                           "ON u.platform = r.platform AND u.user_id = r.user WHERE r.event_id = ? "
                           "ORDER BY r.updated_at", [e["id"]])
        e["yes"], e["no"] = [], []
        for a in answers:
            e["yes" if a["answer"] == "yes" else "no"].append(queries.person(a["platform"], a["user"], a["display_name"]))
        e["who"] = queries.person(e["platform"], e["owner"], e["display_name"])
    return rows

