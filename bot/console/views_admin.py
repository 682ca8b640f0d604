"""利用者 (admin only): users with their role, area and a display name; invite codes made and
revoked; and the access log, which only admins read and no one can change."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import g, render_template, request

from bot.people import access, departures
from bot import messages
from bot.console import audit, queries, text
from bot.console.site import Ctx, need

LOG_PAGE = 100


def register(app, ctx: Ctx) -> None:
    db = ctx.db

    @app.route("/users", methods=["GET", "POST"])
    @need("admin")
    def users():
        notice, error, confirm = None, None, None
        if request.method == "POST":
            if request.form.get("op") == "remove" and request.form.get("confirm") != "yes":
                confirm, error = _removal_question(ctx, request.form)
            else:
                notice, error = _change(ctx, request.form)
        rows = list(db.query("SELECT platform, user_id, role, area, display_name, created_at FROM users "
                             "WHERE removed_at IS NULL ORDER BY area, role, user_id"))
        removed = list(db.query("SELECT platform, user_id, role, area, display_name, removed_at FROM users "
                                "WHERE removed_at IS NOT NULL ORDER BY removed_at DESC LIMIT 200"))
        now = ctx.now().isoformat()
        invites = list(db.query("SELECT id, hint, role, area, created_at, expires_at FROM invites WHERE used_by IS NULL "
                                "AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 200"))
        for i in invites:
            i["live"] = _utc(i["expires_at"]) > _utc(now)
        return render_template("users.html", rows=rows, invites=invites, notice=notice, error=error,
                               roles=access.ROLES, confirm=confirm, removed=removed)

    @app.get("/access")
    @need("admin")
    def access_log():
        page = request.args.get("page", "1")
        error = None
        if not page.isdigit() or int(page) < 1 or len(page) > 9:
            error, page = text.BAD_PAGE, "1"
        total, rows = audit.page(db, limit=LOG_PAGE, offset=(int(page) - 1) * LOG_PAGE)
        last = max(1, -(-total // LOG_PAGE))
        if int(page) > last:
            error = text.page_out_of_range(int(page), last)
            total, rows = audit.page(db, limit=LOG_PAGE, offset=0)
            page = "1"
        return render_template("access.html", rows=audit.readable(db, rows), page=int(page), last=last,
                               total=total, error=error)


def _change(ctx: Ctx, form) -> tuple[str | None, str | None]:
    """One change from the users page: (notice, error); nothing is changed when there is an error."""
    db, now = ctx.db, ctx.now()
    op = form.get("op", "")
    if op in ("update", "remove"):
        platform, user_id = form.get("platform", ""), form.get("user_id", "")
        target = access.get_user(db, platform, user_id)
        if target is None:
            return None, text.USER_NOT_FOUND
        label = queries.author_key(platform, user_id)
        if (platform, user_id) == (g.user.platform, g.user.user_id) and (op == "remove" or form.get("role") != "admin"):
            return None, text.NOT_YOURSELF
        if op == "remove":  # confirmed (see _removal_question): deactivated, work handed over or cancelled
            choice = form.get("handover", "")
            if choice not in ("cancel", "none") and not choice.startswith(f"{platform}:"):
                return None, messages.HANDOVER_CHOOSE
            try:
                gone = departures.deactivate(db, platform, user_id, by=label_of_admin(), now=now,
                                             to=choice if ":" in choice else None, cancel=choice == "cancel")
            except access.AccessError as e:
                return None, str(e)
            ctx.log("user_remove", label, f"handover={'cancel' if gone.to is None else 'colleague'}")
            return messages.user_removed(departures.name_of(gone.user), gone.work,
                                         departures.name_of(gone.to) if gone.to is not None else None), None
        role, area, name = form.get("role", ""), form.get("area", "").strip(), form.get("display_name", "").strip()
        error = _check(role, area) or (text.NAME_TOO_LONG if len(name) > 50 else None)
        if error:
            return None, error
        access.add_user(db, platform, user_id, role, area, now)
        access.set_display_name(db, platform, user_id, name)
        ctx.log("user_update", label, f"role={role} area={area}")
        return text.USER_SAVED, None
    if op == "restore":
        platform, user_id = form.get("platform", ""), form.get("user_id", "")
        try:
            back = departures.reactivate(db, platform, user_id)
        except access.AccessError as e:
            return None, str(e)
        ctx.log("user_restore", queries.author_key(platform, user_id))
        return messages.user_reactivated(departures.name_of(back)), None
    if op == "invite":
        role, area, days = form.get("role", ""), form.get("area", "").strip(), form.get("days", "7").strip()
        error = _check(role, area) or (None if days.isdigit() and 1 <= int(days) <= 90 else text.BAD_DAYS)
        if error:
            return None, error
        code = access.create_invite(db, role, area, now, days=int(days), created_by=f"{g.user.platform}:{g.user.user_id}")
        ctx.log("invite_create", None, f"role={role} area={area} days={days}")
        return text.invite_made(code, area, access.ROLE_LABELS[role], int(days)), None
    if op == "revoke":
        code, row = form.get("code", "")[:20], form.get("invite", "")  # the list has rows, never codes
        if row.isdigit() and len(row) <= 18:
            hint = db.execute("SELECT hint FROM invites WHERE id = ?", [int(row)]).fetchone()
            done = access.revoke_invite(db, None, now, invite_id=int(row))
        else:
            hint, done = [code[:2] + "…"], bool(code) and access.revoke_invite(db, code, now)
        if done:
            ctx.log("invite_revoke", None, hint[0] if hint else None)
            return text.INVITE_REVOKED, None
        return None, text.INVITE_NOT_REVOKED
    return None, text.CSRF_BAD


def label_of_admin() -> str:
    return f"{g.user.platform}:{g.user.user_id}"


def _removal_question(ctx: Ctx, form) -> tuple[dict | None, str | None]:
    """The confirmation step of 「登録を解除」: what the person still holds, and whom it may go to
    (active colleagues of the same platform and area; plans only to those who may hold them)."""
    db = ctx.db
    platform, user_id = form.get("platform", ""), form.get("user_id", "")
    target = access.get_user(db, platform, user_id)
    if target is None:
        return None, text.USER_NOT_FOUND
    if (platform, user_id) == (g.user.platform, g.user.user_id):
        return None, text.NOT_YOURSELF
    work = departures.open_work(db, platform, user_id)
    colleagues = [(f"{u.platform}:{u.user_id}", departures.name_of(u)) for u in access.list_users(db)
                  if u.platform == platform and u.area == target.area and u.user_id != user_id
                  and (not work["plans"] or u.role in access.STAFF_ROLES)]
    return {"platform": platform, "user_id": user_id, "name": departures.name_of(target), "work": work,
            "has_work": departures.has_work(work), "colleagues": colleagues,
            "summary": messages.removal_summary(departures.name_of(target), work)}, None


def _check(role: str, area: str) -> str | None:
    if role not in access.ROLES:
        return text.BAD_ROLE
    if not area:
        return text.AREA_NEEDED
    if len(area) > 50:
        return text.AREA_TOO_LONG
    return None


def _utc(iso: str) -> str:
    t = datetime.fromisoformat(iso)
    return t.astimezone(timezone.utc).isoformat() if t.tzinfo else iso
