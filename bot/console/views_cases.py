"""事例 and 未回答: the case list with search, a case's page, adding a local case (form or YAML
upload, through the validator of ``nimo cases check``), withdrawing one after a confirmation and
restoring it from the list of withdrawn cases; the questions Nimo could not answer and the 👎
answers, with a button to mark a group handled."""
from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for

from casebase.cases import load_all
from casebase.schema import FIELDS, FORUM_FIELDS, LEVELS, PARTS

from bot.people.access import acts_on_area
from bot.people.names import display
from bot.curation.gaps import gap_groups, mark_handled
from bot.console import localcases, text
from bot.console.site import Ctx, need, who

CURATORS = ("supervisor", "admin")
# The form: the fields a local case usually has.  (name, widget, limit); lists are one item a line.
FORM = (("id", "line", 40), ("part", "part", 1), ("section", "line", 200), ("title", "line", 200),
        ("area", "line", 100), ("prefecture", "line", 20), ("level", "level", 10), ("population", "number", 12),
        ("keywords", "lines", 1000), ("appeal_points", "lines", 4000), ("regional_challenges", "lines", 4000),
        ("actions", "lines", 8000), ("innovations", "lines", 8000), ("outcomes", "lines", 4000),
        ("points", "lines", 4000), ("source", "line", 200))
REASONS = {"no_match": "該当なし", "filtered_out": "条件に合う事例なし", "too_long": "長すぎる質問",
           "no_text": "文字なし", "empty": "空", "thumbs_down": "👎 合わなかった",
           "out_of_scope": "事例集の範囲外", "clinical": "医療の質問（主治医・薬剤師へ）"}
GAP_KINDS = {"gap": "答えられなかった質問", "down": "👎 合わなかった答え"}
SORTS = {"count": "多い順", "new": "新しい順"}


LABELS = {"level": "自治体の種類", "id": "識別子"}  # where the schema's heading is a list of values, not a name


def heading(name: str) -> str:
    if name in LABELS:
        return LABELS[name]
    return FIELDS[name][2].split("（")[0] if name in FIELDS else "ファイル全体"


def register(app, ctx: Ctx) -> None:
    db = ctx.db
    app.jinja_env.globals.update(heading=heading)

    # -- 未回答 --------------------------------------------------------------------------------------
    @app.route("/gaps", methods=["GET", "POST"])
    @need(*CURATORS)
    def gaps():
        notice = None
        if request.method == "POST":
            kind, key = request.form.get("kind", ""), request.form.get("key", "")
            if len(key) <= 2000 and mark_handled(db, kind, key, by=who(), now=ctx.now(), area=_gap_area()):
                ctx.log("gap_handled", kind)
                notice = text.GAP_HANDLED
        show_all = request.args.get("all") == "1"
        kind = request.args.get("kind", "") if request.args.get("kind") in GAP_KINDS else ""
        sort = request.args.get("sort", "count") if request.args.get("sort") in SORTS else "count"
        rows = gap_groups(db, include_handled=show_all, area=_gap_area())  # newest first
        if kind:
            rows = [r for r in rows if r["kind"] == kind]
        if sort == "count":  # as `nimo gaps` lists them: what comes up most is worth a case first
            rows.sort(key=lambda r: -r["count"])
        titles = {c.id: f"{c.area}：{c.title}" for c in load_all(db)}
        return render_template("gaps.html", rows=rows, titles=titles, reasons=REASONS, notice=notice, show_all=show_all,
                               kind=kind, sort=sort, kinds=GAP_KINDS, sorts=SORTS)

    # -- 事例 ---------------------------------------------------------------------------------------
    @app.get("/cases")
    def cases():
        q = request.args.get("q", "").strip()
        error = None
        if len(q) > 100:
            error, q = text.SEARCH_TOO_LONG, ""
        found = [c for c in load_all(db) if not q or all(w in _haystack(c) for w in q.split())]
        notice = None
        if request.args.get("added", "")[:40]:
            notice = text.CASE_ADDED.format(id=request.args["added"][:40])
        return render_template("cases.html", cases=found, q=q, error=error, notice=notice,
                               can_edit=g.user.role in CURATORS)

    @app.get("/cases/c/<case_id>")
    def case(case_id: str):
        found = [c for c in load_all(db) if c.id == case_id]
        if not found:
            # A withdrawn case's old address (a bookmark, the browser's back button) tells its
            # curators where it went rather than a bare 404.
            key = localcases.latest_withdrawal(db, case_id) if g.user.role in CURATORS else None
            if key is not None and _may_see(localcases.withdrawn_one(db, key)):
                return redirect(url_for("case_withdrawn", key=key), code=303)
            abort(404)
        row = db.execute("SELECT imported_at, area FROM local_cases WHERE id = ?", [case_id]).fetchone()
        notice = None
        if request.args.get("restored") == "1" and row is not None:
            notice = text.CASE_RESTORED.format(title=found[0].title)
        return render_template("case.html", c=found[0], fields=FIELDS, forum_fields=FORUM_FIELDS,
                               imported_at=row[0] if row else None, notice=notice,
                               can_edit=row is not None and acts_on_area(g.user, row[1]))

    @app.route("/cases/new", methods=["GET", "POST"])
    @need(*CURATORS)
    def case_new():
        values = {name: "" for name, _, _ in FORM}
        problems: dict[str, list[str]] = {}
        if request.method == "POST":
            values = {name: request.form.get(name, "") for name, _, _ in FORM}
            data, problems = _from_form(values)
            for field, said in localcases.check(db, data).items():
                problems.setdefault(field, said)
            for name, _, _ in FORM:  # the label is right above: no need to repeat the file format's heading
                if FIELDS[name][1] and not values[name].strip() and name in problems:
                    problems[name] = [text.REQUIRED_FIELD]
            if "id" in problems:  # a ready id to take beats only being told what is wrong
                free = localcases.suggest_id(db, [values["prefecture"], values["area"], g.user.area], ctx.today())
                problems["id"] = [*problems["id"], text.ID_SUGGESTED.format(id=free)]
            if not problems:
                try:
                    added = localcases.add(db, data, now=ctx.now(), area=g.user.area)
                except localcases.CaseRejected as e:
                    problems = e.problems
                else:
                    ctx.log("add_case", added.id, "form")
                    return redirect(url_for("cases", added=added.id), code=303)
        return _form(values, problems)

    @app.post("/cases/upload")
    @need(*CURATORS)
    def case_upload():
        file = request.files.get("file")
        raw = file.read(localcases.MAX_BYTES + 1) if file else b""
        if not file or not file.filename:
            return _form({n: "" for n, _, _ in FORM}, {}, upload_problems={"-": [text.NO_FILE]})
        try:
            data = localcases.parse_upload(raw)
            added = localcases.add(db, data, now=ctx.now(), area=g.user.area)
        except localcases.CaseRejected as e:
            return _form({n: "" for n, _, _ in FORM}, {}, upload_problems=e.problems)
        ctx.log("add_case", added.id, "yaml")
        return redirect(url_for("cases", added=added.id), code=303)

    @app.route("/cases/c/<case_id>/withdraw", methods=["GET", "POST"])
    @need(*CURATORS)
    def case_withdraw(case_id: str):
        """GET: what withdrawing does, and a button; POST: withdraw, then the page saying so."""
        local, area = localcases.area_of(db, case_id)
        if local and not acts_on_area(g.user, area):  # another area's case: its own curators decide
            abort(403)
        found = [c for c in load_all(db) if c.id == case_id]
        if request.method == "GET":
            if not found:
                abort(404)
            if not local:
                return _not_local(), 400
            return render_template("case_withdraw.html", c=found[0])
        if not localcases.withdraw(db, case_id, by=who(), now=ctx.now()):
            return _not_local(), 400
        ctx.log("withdraw_case", case_id)
        return redirect(url_for("case_withdrawn", key=localcases.latest_withdrawal(db, case_id), done=1), code=303)

    @app.get("/cases/withdrawn")
    @need(*CURATORS)
    def cases_withdrawn():
        rows = localcases.withdrawn(db, g.user.area, everyone=g.user.role == "admin")
        for r in rows:
            r["by"] = _person(db, r["by"])
        return render_template("cases_withdrawn.html", rows=rows, everyone=g.user.role == "admin")

    @app.get("/cases/withdrawn/<int:key>")
    @need(*CURATORS)
    def case_withdrawn(key: int):
        """One withdrawn case: where a withdrawal lands, and where 「元に戻す」 is confirmed."""
        row = localcases.withdrawn_one(db, key)
        if not _may_see(row):
            abort(404)
        row["by"] = _person(db, row["by"])
        notice = text.CASE_WITHDRAWN.format(id=row["title"]) if request.args.get("done") == "1" else None
        return render_template("case_withdrawn.html", w=row, notice=notice)

    @app.post("/cases/withdrawn/<int:key>/restore")
    @need(*CURATORS)
    def case_restore(key: int):
        row = localcases.withdrawn_one(db, key)
        if row is not None and not _may_see(row):  # another area's case: its own curators decide
            abort(403)
        # withdrawn_cases has no key of its own (rowid): the form names the case it was shown for,
        # so a page left open while rows changed never restores a different case.
        why = "gone" if row is None or request.form.get("case") != row["id"] else localcases.restore(db, key)
        if why:
            said = text.CASE_ID_TAKEN.format(id=row["id"]) if why == "taken" else text.CASE_GONE
            return render_template("message.html", title="元に戻せません", message=said,
                                   back=url_for("cases_withdrawn")), 409
        ctx.log("restore_case", row["id"])
        return redirect(url_for("case", case_id=row["id"], restored=1), code=303)


def _may_see(row: dict | None) -> bool:
    """A withdrawn case is its area's curators' (an admin's: every area's), as withdrawing was."""
    return row is not None and acts_on_area(g.user, row["area"])


def _person(db, by: str) -> str:
    """'line:U123' as the person's name, as the other pages name people."""
    platform, _, user_id = by.partition(":")
    return display(db, platform, user_id) if user_id else by


def _not_local():
    return render_template("message.html", title="取り下げられません", message=text.CASE_NOT_LOCAL,
                           back=url_for("cases"))


def _gap_area() -> str | None:
    """Whose questions a curator reads: an admin every area's, a supervisor their own area's (a
    question can name a person or a place only its own area should see)."""
    return None if g.user.role == "admin" else g.user.area


def _form(values: dict, problems: dict, *, upload_problems: dict | None = None):
    status = 400 if problems or upload_problems else 200
    return render_template("case_new.html", form=FORM, values=values, problems=problems,
                           upload_problems=upload_problems or {}, levels=LEVELS, parts=PARTS,
                           part_names=text.PART_NAMES, labels=text.FORM_LABELS, fields=FIELDS, hints=text.FORM_HINTS,
                           lines_hint=text.LINES_HINT), status


def _from_form(values: dict) -> tuple[dict, dict[str, list[str]]]:
    """The form as a case record, with the form's own mistakes (length, numbers) by field."""
    data: dict = {}
    problems: dict[str, list[str]] = {}
    for name, widget, limit in FORM:
        raw = values[name].replace("\r\n", "\n")
        if len(raw) > limit:
            problems[name] = [text.FIELD_TOO_LONG.format(limit=limit, n=len(raw))]
            continue
        raw = raw.strip()
        if not raw:
            continue
        if widget in ("number", "part"):
            if not raw.isdigit():
                problems[name] = [text.NOT_A_NUMBER]
                continue
            data[name] = int(raw)
        elif widget == "lines":
            data[name] = [line.strip() for line in raw.split("\n") if line.strip()]
        else:
            data[name] = raw
    return data, problems


def _haystack(c) -> str:
    parts = [c.id, c.area, c.title, c.section, c.get("prefecture") or ""]
    parts += c.get("keywords") or []
    return " ".join(parts)
