"""訪問・予定: follow-up visits by due window (overdue first) with their outcomes, and events
with who answered 参加 / 不参加.  Staff see their own, a supervisor the area, an admin all."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import g, render_template, request

from scheduler import store
from scheduler.workdays import TZ

from bot.people.access import may_see_event
from bot.console import queries
from bot.console.site import Ctx

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
        open_rows = store.open_visits_in(db, cond, params, today, LIMIT)
        since = datetime.combine(today - timedelta(days=60), time(), tzinfo=TZ)
        done_rows = store.closed_visits_in(db, cond, params, since, LIMIT)
        plans = store.load_plans()
        for r in open_rows + done_rows:
            r["plan_label"] = plans.get(r["plan"], {}).get("label", r["plan"])
            r["overdue"] = r["status"] == "open" and r["window_end"] < today.isoformat()
            r["outcome"] = ("計画終了" if r["plan_status"] == "closed" and r["status"] == "cancelled"
                            else OUTCOMES.get(r["status"], ""))
            r["who"] = queries.person(r["platform"], r["owner"], r["display_name"])
        ctx.log("view_visits", None, f"area={area}" if area else "all")
        return render_template("visits.html", open_rows=open_rows, done_rows=done_rows, events=_events(ctx),
                               today=today.isoformat(), area=area,
                               areas=queries.areas(db) if g.user.role == "admin" else [])


def _events(ctx: Ctx) -> list[dict]:
    """Events from 30 days ago on, with answers by name; scoped by the owner's area (events have none)."""
    db = ctx.db
    since = datetime.combine(ctx.today() - timedelta(days=30), time(), tzinfo=TZ)
    if g.user.role == "admin":
        rows = store.events_since(db, since, LIMIT)
    elif g.user.role == "supervisor":
        rows = store.events_since(db, since, LIMIT, area=g.user.area)
    else:
        # A 1:1 event answered before answers were checked stays hidden from other areas (a group
        # event is answered from its group only, and being there is being a member).
        rows = [e for e in store.events_since(db, since, LIMIT, member=(g.user.platform, g.user.user_id))
                if e["is_group"] or may_see_event(db, e, g.user.platform, g.user.user_id, "")]
    for e in rows:
        e["yes"], e["no"] = [], []
        for a in store.event_answers(db, e["id"]):
            e["yes" if a["answer"] == "yes" else "no"].append(queries.person(a["platform"], a["user"], a["display_name"]))
        e["who"] = queries.person(e["platform"], e["owner"], e["display_name"])
    return rows

