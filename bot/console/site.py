"""The Flask app of the console: sign-in, sessions, CSRF, security headers, errors, and the pages.

Every request but the sign-in pages and the stylesheet needs a live session, and every page
checks the role again on the server (:func:`need`).  Templates are Jinja2 with autoescaping, and
every POST carries the session's CSRF token.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable
from urllib.parse import urlsplit

from flask import Flask, abort, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from scheduler.workdays import TZ

from bot import messages
from bot.config import Settings
from bot.people.access import ROLE_LABELS
from bot.console import MAX_REQUEST, audit, auth, text  # MAX_REQUEST: an upload over 1 MB still gets its page

COOKIE = "nimo_console"
LOGIN_COOKIE = "nimo_login"  # the login page's own cookie (auth.form_token); SameSite=Strict
OPEN = {"signin", "login", "login_post", "static"}


class BoundedInt(IntegerConverter):
    """``<int:…>`` in every console URL: at most 18 digits, so an id too large for SQLite (2**63)
    is a page not found, never an error inside a query."""
    regex = r"\d{1,18}"


@dataclass
class Ctx:
    db: object
    clock: Callable[[], datetime]
    secure: bool

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().astimezone(TZ).date()


def need(*roles: str):
    """The page is for these roles only; anyone else gets 403 (checked on every request)."""
    def wrap(view):
        @functools.wraps(view)
        def inner(*a, **kw):
            if g.user.role not in roles:
                g.allowed = roles  # the refusal page says who may see it
                abort(403)
            return view(*a, **kw)
        return inner
    return wrap


def who() -> str:
    return f"{g.user.platform}:{g.user.user_id}"


def build(db, clock, settings: Settings) -> Flask:
    app = Flask(__name__)
    app.url_map.converters["int"] = BoundedInt
    public = settings.public_url or ""
    ctx = Ctx(db, clock, secure=public.lower().startswith("https://"))
    app.extensions["nimo"] = ctx
    app.config.update(MAX_CONTENT_LENGTH=MAX_REQUEST, TEMPLATES_AUTO_RELOAD=False)
    app.jinja_env.filters.update(day=_day, when=_when, role=lambda r: ROLE_LABELS.get(r, r))

    def log(action: str, target: str | None = None, detail: str | None = None) -> None:
        audit.record(db, who(), action, target, detail, now=ctx.now())

    ctx.log = log

    @app.before_request
    def signed_in():
        if request.endpoint in OPEN:
            return None
        found = auth.session(db, request.cookies.get(COOKIE), ctx.now())
        if found is None:
            return redirect(url_for("signin"))
        g.user, g.csrf = found
        if request.method == "POST" and not auth.csrf_ok(g.csrf, request.form.get("csrf")):
            return render_template("message.html", title="もう一度どうぞ", message=text.CSRF_BAD, back=_again(),
                                   back_label=messages.CONSOLE_OPEN_AGAIN), 400
        return None

    @app.after_request
    def headers(resp):
        resp.headers["Content-Security-Policy"] = ("default-src 'self'; img-src 'self'; style-src 'self'; "
                                                   "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        if request.endpoint != "static":
            resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.context_processor
    def common():
        return {"me": getattr(g, "user", None), "csrf": getattr(g, "csrf", ""), "ROLE_LABELS": ROLE_LABELS}

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if isinstance(e, RequestEntityTooLarge):
            return render_template("message.html", title="大きすぎます", message=text.TOO_LARGE,
                                   back=_again()), 413
        message = {403: text.FORBIDDEN, 404: text.NOT_FOUND}.get(e.code, e.name)
        return render_template("message.html", title=message, message=message, who=_who_sees(e.code),
                               back=url_for("reports") if getattr(g, "user", None) else url_for("signin"),
                               back_label=messages.CONSOLE_BACK_TO_TOP), e.code

    def _again() -> str:
        """The page a refused form was on, to open it afresh: with the console's own prefix
        (/console/…, which request.path leaves out); for a form posted to an address of its own
        (the sign-out button, the YAML upload), the page it sits on."""
        page = {"logout": "reports", "case_upload": "case_new"}.get(request.endpoint)
        if page:
            return url_for(page)
        return request.script_root + request.path

    def _who_sees(code: int) -> str | None:
        """Who may see what was refused: the roles of a page (403); for a report or a proposal
        outside one's scope, which is "not found" so as not to tell that it exists, who may see
        such a page (404)."""
        if code == 403 and getattr(g, "allowed", None):
            return messages.console_who_can_see([ROLE_LABELS[r] for r in g.allowed])
        if code == 404 and request.endpoint in ("report", "photo"):
            return messages.CONSOLE_REPORT_WHO
        if code == 404 and request.endpoint == "proposal":
            return messages.CONSOLE_PROPOSAL_WHO
        return None

    # -- sign-in -----------------------------------------------------------------------------------
    @app.get("/signin")
    def signin():
        return render_template("signin.html", message=text.SESSION_NEEDED, again=text.LINK_AGAIN)

    def _origins() -> set[str]:
        """Where a sign-in may be posted from: the public address when one is set (behind a proxy
        the request's own scheme may differ), else the address the request was sent to."""
        if public:
            u = urlsplit(public)
            return {f"{u.scheme}://{u.netloc}".lower()}
        return {request.host_url.rstrip("/").lower()}

    def _login_page(token: str, notice: str | None = None, status: int = 200):
        nonce = auth.new_nonce()
        resp = app.make_response((render_template("login.html", token=token, form=auth.form_token(nonce, token),
                                                  notice=notice), status))
        resp.set_cookie(LOGIN_COOKIE, nonce, max_age=auth.LINK_MINUTES * 60, path=request.script_root + "/login/",
                        httponly=True, samesite="Strict", secure=ctx.secure)
        return resp

    @app.get("/login/<token>")
    def login(token: str):
        """Shows a button, and spends nothing: link previews (LINE, Slack) fetch URLs on their own."""
        state = auth.check_link(db, token, ctx.now())
        if state != "ok":
            return _bad_link(state)
        return _login_page(token)

    @app.post("/login/<token>")
    def login_post(token: str):
        """Spends the link, only when pressed on our page in this browser (see bot/console/auth.py)."""
        state = auth.check_link(db, token, ctx.now())
        if state != "ok":
            return _bad_link(state)
        if not auth.same_origin(request.headers.get("Origin"), request.headers.get("Sec-Fetch-Site"), _origins()):
            return render_template("signin.html", message=messages.LOGIN_ELSEWHERE, again=text.LINK_AGAIN,
                                   error=True), 403
        if not auth.form_ok(request.cookies.get(LOGIN_COOKIE), token, request.form.get("form")):
            return _login_page(token, messages.LOGIN_PRESS_AGAIN, 400)  # nothing spent: the button again
        state, user = auth.use_link(db, token, ctx.now())
        if state != "ok":
            return _bad_link(state)
        sid = auth.start_session(db, user, ctx.now())
        audit.record(db, f"{user.platform}:{user.user_id}", "login", None, None, now=ctx.now())
        resp = redirect(url_for("reports"), code=303)
        resp.delete_cookie(LOGIN_COOKIE, path=request.script_root + "/login/", httponly=True, samesite="Strict",
                           secure=ctx.secure)
        resp.set_cookie(COOKIE, sid, max_age=auth.SESSION_HOURS * 3600, path=request.script_root + "/",
                        httponly=True, samesite="Lax", secure=ctx.secure)
        return resp

    def _bad_link(state: str):
        if state == "refused":
            return render_template("signin.html", message=messages.PEER_NO_CONSOLE, again="", error=True), 403
        message = {"used": text.LINK_USED, "expired": text.LINK_EXPIRED}.get(state, text.LINK_UNKNOWN)
        return render_template("signin.html", message=message, again=text.LINK_AGAIN, error=True), \
            410 if state != "unknown" else 404

    @app.post("/logout")
    def logout():
        auth.end_session(db, request.cookies.get(COOKIE), ctx.now())
        log("logout")
        resp = render_template("signin.html", message=text.SIGNED_OUT, again=text.LINK_AGAIN)
        out = app.make_response(resp)
        out.delete_cookie(COOKIE, path=request.script_root + "/", httponly=True, samesite="Lax", secure=ctx.secure)
        return out

    @app.get("/")
    def home():
        return redirect(url_for("reports"))

    from bot.console import views_admin, views_cases, views_plans, views_proposals, views_reports
    for module in (views_reports, views_plans, views_cases, views_proposals, views_admin):
        module.register(app, ctx)
    return app


def _day(iso: str | None) -> str:
    if not iso:
        return ""
    d = date.fromisoformat(iso[:10])
    return f"{d.year}/{d.month}/{d.day}（{'月火水木金土日'[d.weekday()]}）"


def _when(iso: str | None) -> str:
    """A stored UTC time in Japan's time, to the minute."""
    if not iso:
        return ""
    t = datetime.fromisoformat(iso)
    if t.tzinfo is None:
        return iso[:16].replace("T", " ")
    t = t.astimezone(TZ)
    return f"{t.year}/{t.month}/{t.day} {t:%H:%M}"
