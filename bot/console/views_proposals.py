"""事例提案: drafts proposed from the field, seen by supervisors (their area) and admins (all).
A curator edits one into a local case and publishes it (through the same validator as every local
case), or declines it with a reason; either way the proposer is told in chat."""
from __future__ import annotations

from datetime import datetime

from flask import abort, g, redirect, render_template, request, url_for

from scheduler.workdays import TZ

from bot.curation import proposals as decide
from bot.curation.proposals import number
from bot.console import localcases, queries, text
from bot.console.site import Ctx, need, who

CURATORS = ("supervisor", "admin")
# a proposal with its proposer's name and area, as the other pages name people (queries.person)
SELECT = ("SELECT p.*, u.display_name, u.area AS proposer_area FROM case_proposals p "
          "LEFT JOIN users u ON u.platform = p.platform AND u.user_id = p.user_id")
SECTION = "ローカル事例（現場からの提案）"
FIELDS = (("id", "line", 40), ("title", "line", 200), ("area", "line", 100), ("level", "level", 10),
          ("regional_challenges", "lines", 2000), ("actions", "lines", 2000), ("outcomes", "lines", 2000),
          ("source", "line", 300))


def register(app, ctx: Ctx) -> None:
    db = ctx.db

    def visible(pid: int) -> dict:
        rows = list(db.query(f"{SELECT} WHERE p.id = ?", [pid]))
        if not rows or (g.user.role == "supervisor" and rows[0]["area"] != g.user.area):
            abort(404)
        return rows[0]

    @app.get("/proposals")
    @need(*CURATORS)
    def proposals():
        cond, params = ("p.area = ?", [g.user.area]) if g.user.role == "supervisor" else ("1 = 1", [])
        rows = list(db.query(f"{SELECT} WHERE {cond} ORDER BY p.status = 'draft' DESC, p.id DESC LIMIT 300", params))
        return render_template("proposals.html", rows=rows, number=number, person=queries.person,
                               notice=text.PROPOSAL_DONE.get(request.args.get("done", "")))

    @app.route("/proposals/<int:pid>", methods=["GET", "POST"])
    @need(*CURATORS)
    def proposal(pid: int):
        p = visible(pid)
        values, problems, error = _suggested(p), {}, None
        if request.method == "POST":
            if p["status"] != "draft":
                error = text.PROPOSAL_DECIDED
            elif request.form.get("op") == "decline":
                reason = request.form.get("reason", "").strip()
                if not reason:
                    error = text.REASON_NEEDED
                elif len(reason) > 500:
                    error = text.REASON_TOO_LONG
                else:
                    decide.decline(db, p, reason, by=who(), now=ctx.now())
                    ctx.log("decline_proposal", number(pid))
                    return redirect(url_for("proposals", done="declined"), code=303)
            else:
                values = {name: request.form.get(name, "") for name, _, _ in FIELDS}
                data, problems = _record(values)
                for field, said in localcases.check(db, data).items():
                    problems.setdefault(field, said)
                if not problems:
                    case = localcases.add(db, data, now=ctx.now())
                    decide.published(db, p, case.id, case.title, by=who(), now=ctx.now())
                    ctx.log("publish_proposal", number(pid), f"case={case.id}")
                    return redirect(url_for("proposals", done="published"), code=303)
        status = 400 if (problems or error) else 200
        return render_template("proposal.html", p=p, number=number, person=queries.person, fields=FIELDS, values=values, problems=problems,
                               error=error, levels=_levels()), status


def _levels():
    from casebase.schema import LEVELS
    return LEVELS


def _suggested(p: dict) -> dict:
    day = datetime.fromisoformat(p["created_at"]).astimezone(TZ).date()
    return {"id": f"proposal-{p['id']}", "title": "", "area": p["area"], "level": "市町村",
            "regional_challenges": p["problem"], "actions": p["action"], "outcomes": p["outcome"],
            "source": f"ローカル事例（{p['area']}・{day.year}年{day.month}月{day.day}日の現場からの提案。問い合わせ：{p['contact']}）"}


def _record(values: dict) -> tuple[dict, dict]:
    data: dict = {"part": 1, "section": SECTION}
    problems: dict[str, list[str]] = {}
    for name, widget, limit in FIELDS:
        raw = values[name].replace("\r\n", "\n")
        if len(raw) > limit:
            problems[name] = [text.FIELD_TOO_LONG.format(limit=limit, n=len(raw))]
        elif raw.strip():
            data[name] = [x.strip() for x in raw.split("\n") if x.strip()] if widget == "lines" else raw.strip()
    return data, problems
