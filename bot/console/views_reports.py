"""報告: the filtered list with the weekly summary and chart, one report with its audit trail and
photos, and downloads (CSV with BOM, xlsx) of exactly the filtered rows, streamed."""
from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

from flask import Response, abort, g, render_template, request, url_for

from bot import messages
from bot.reports import photos
from bot.reports.records import TYPES, number
from bot.console import exports, queries, text
from bot.console.site import Ctx

log = logging.getLogger("nimo.console")

AUDIT_ACTIONS = {"create": "作成", "edit": "修正", "withdraw": "取り下げ", "purge": "保存期間による削除"}
FIELD_LABELS = {"type": "種類", "date": "日付", "case_code": "ケース", "area": "地域", "summary": "内容",
                "next_action": "次回の予定", "next_date": "次回の日付"}


def register(app, ctx: Ctx) -> None:
    db = ctx.db

    @app.get("/reports")
    def reports():
        f = queries.read_filters(request.args, g.user, db)
        rows, total, last = [], 0, 1
        errors = list(f.errors)
        if not errors:
            total = queries.count_reports(db, g.user, f)
            last = max(1, -(-total // queries.PAGE_SIZE))
            if f.page > last:
                errors.append(text.page_out_of_range(f.page, last))
                f.page = 1
            rows = queries.report_page(db, g.user, f)
            ctx.log("view_reports", None, f"{f.describe()} page={f.page}")
        return render_template("reports.html", f=f, rows=rows, total=total, last=last, errors=errors,
                               types=TYPES, areas=queries.areas(db) if g.user.role == "admin" else [],
                               authors=queries.author_choices(db, g.user, f),
                               summary=_summary(ctx, f) if not errors else None,
                               quick=_quick(ctx), number=number, person=queries.person,
                               page_size=queries.PAGE_SIZE)

    @app.get("/reports/<int:report_id>")
    def report(report_id: int):
        row = queries.one_report(db, g.user, report_id)
        if row is None:
            abort(404)
        ctx.log("view_report", number(report_id))
        trail = [_audit_row(db, a) for a in queries.audit_trail(db, report_id)]
        return render_template("report.html", r=row, trail=trail, photos=queries.photos(db, report_id),
                               number=number, person=queries.person, labels=FIELD_LABELS)

    @app.get("/photos/<int:photo_id>")
    def photo(photo_id: int):
        p = queries.photo(db, g.user, photo_id)
        path = Path(p["path"]) if p else None
        base = Path(getattr(db, "path", "") or ".").parent / "photos"
        if p is None or not path.is_file() or base.resolve() not in path.resolve().parents:
            abort(404)
        try:  # what is sent is checked again now: a file stored under older rules is stripped anew
            if path.stat().st_size > photos.MAX_BYTES:
                raise photos.PhotoError(photos.TOO_LARGE, "stored file over the size cap")
            data = photos.recheck(path.read_bytes())
        except photos.PhotoError as e:
            log.warning("photo %d not sent: %s", photo_id, e.detail)
            return render_template("message.html", title="表示できません", message=messages.CONSOLE_PHOTO_REFUSED,
                                   back=url_for("report", report_id=p["report_id"])), 404
        ctx.log("view_photo", number(p["report_id"]), f"photo={photo_id}")
        return Response(data, mimetype="image/png" if photos.kind(data) == "png" else "image/jpeg")

    @app.get("/reports/export.<fmt>")
    def export(fmt: str):
        if fmt not in ("csv", "xlsx"):
            abort(404)
        f = queries.read_filters(request.args, g.user, db)
        if f.errors:
            return render_template("message.html", title="書き出せません", message=" ".join(f.errors),
                                   back=url_for("reports", **f.query())), 400
        total = queries.count_reports(db, g.user, f)
        ctx.log(f"download_{fmt}", None, f"{f.describe()} rows={total}")
        cursor = queries.report_cursor(db, g.user, f)
        if fmt == "csv":
            body, mime = exports.csv_stream(cursor), "text/csv; charset=utf-8"
        else:
            body, mime = exports.xlsx_stream(cursor), \
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(body, mimetype=mime,
                        headers={"Content-Disposition": exports.disposition(exports.file_name(f, fmt, ctx.today()))})

    @app.get("/reports/chart.png")
    def chart():
        from bot.reports.charts import weekly_bars
        f = queries.read_filters(request.args, g.user, db)
        png = weekly_bars(queries.weeks(db, g.user, ctx.today(), f=None if f.errors else f))
        return Response(png, mimetype="image/png")


def _summary(ctx: Ctx, f: queries.Filters) -> dict:
    """The counts above the list, under the same filters as the list: for the period asked for
    (「今週」, 「今月」, dates typed), else last week; and the last 8 weeks for the chart."""
    from datetime import date
    from bot.reports.summary import legend
    today = ctx.today()
    if f.since or f.until:
        end = date.fromisoformat(f.until) + timedelta(days=1) if f.until else today + timedelta(days=1)
        start = date.fromisoformat(f.since) if f.since else end - timedelta(days=28)
        this_week = None
    else:
        start = queries.week_start(today) - timedelta(weeks=1)
        end = start + timedelta(days=7)
        this_week = sum(queries.counts(ctx.db, g.user, end, end + timedelta(days=7), "type", f).values())
    by_type = queries.counts(ctx.db, g.user, start, end, "type", f)
    by_area = queries.counts(ctx.db, g.user, start, end, "area", f)
    weeks = queries.weeks(ctx.db, g.user, today, f=f)
    return {"period": bool(f.since or f.until), "start": start.isoformat(), "end": (end - timedelta(days=1)).isoformat(),
            "total": sum(by_type.values()), "by_type": [(t, by_type[t]) for t in TYPES if by_type.get(t)],
            "by_area": list(by_area.items())[:10], "this_week": this_week, "legend": legend(),
            "weeks": [(label, [c.get(t, 0) for t in TYPES]) for label, c in weeks], "types": TYPES,
            "filtered": bool(f.type or f.author or f.case or (f.area and g.user.role == "admin"))}


def _quick(ctx: Ctx) -> list[tuple[str, dict]]:
    """Links for the ranges people ask for most: this week, last week, this month."""
    today = ctx.today()
    monday = queries.week_start(today)
    return [("今週", {"since": monday.isoformat(), "until": (monday + timedelta(days=6)).isoformat()}),
            ("先週", {"since": (monday - timedelta(days=7)).isoformat(), "until": (monday - timedelta(days=1)).isoformat()}),
            ("今月", {"since": today.replace(day=1).isoformat(), "until": today.isoformat()})]


def _who(db, by: str) -> str:
    """'line:U123' as the person's name on the page; 'retention' and the like as they are."""
    platform, _, user_id = by.partition(":")
    if not user_id:
        return {"retention": "保存期間の規則"}.get(by, by)
    row = db.execute("SELECT display_name FROM users WHERE platform = ? AND user_id = ?", [platform, user_id]).fetchone()
    return queries.person(platform, user_id, row[0] if row else None)


def _audit_row(db, a: dict) -> dict:
    before = json.loads(a["before"]) if a["before"] else {}
    after = json.loads(a["after"]) if a["after"] else {}
    changes = [(FIELD_LABELS.get(k, k), before.get(k), after.get(k)) for k in FIELD_LABELS
               if a["action"] == "edit" and before.get(k) != after.get(k)]
    return {"action": AUDIT_ACTIONS.get(a["action"], a["action"]), "by": _who(db, a["by"]), "at": a["at"],
            "changes": changes}
