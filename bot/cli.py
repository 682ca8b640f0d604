"""The ``nimo`` command.  Every sub-command builds the app the same way (``build_app``) and reads
the database named by ``NIMO_DB``; errors are said in Japanese with a non-zero exit, never as a
traceback."""
from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from bot import config
from bot.adapters import CONNECTORS  # the platforms' declarations only: the standard library
from bot.reports import kinds as report_types

PLATFORMS = [c.name for c in CONNECTORS]


def _settings() -> config.Settings:
    """This run's settings, read from the environment once, on first use (so ``nimo serve --check``
    can still list what is set when one of them is wrong), and passed on from here."""
    root = click.get_current_context().find_root()
    if root.obj is None:
        root.obj = config.Settings.from_env(os.environ)
    return root.obj


def _app():
    from bot.app import build_app
    return build_app(settings=_settings())


def with_db(command):
    """Open the database named by ``NIMO_DB``, pass it as the command's first argument, and close
    it when the command ends, however it ends (an error, ``sys.exit``): each command otherwise
    opened its own connection and left it for the process's exit to drop."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        from storage.connections import open_db
        settings = _settings()
        db = open_db(settings.db, new_db=settings.new_db, warn=_warn)
        try:
            return command(db, *args, **kwargs)
        finally:
            db.close()
    return run


def _warn(notice) -> None:
    """Tell the operator what the database's check found (a storage.files.Notice), in Japanese."""
    from bot import messages
    click.echo(messages.db_notice(notice.kind, notice.path, notice.aside, notice.seconds), err=True)


class _Main(click.Group):
    """Every command opens the database: a file that is not a healthy Nimo database is said in
    Japanese with what to do (storage/files.py), whichever command met it, never as a traceback."""

    def invoke(self, ctx):
        import sqlite3
        from bot import messages
        from storage.failures import storage_failure
        from storage.files import DatabaseProblem
        try:
            return super().invoke(ctx)
        except config.SettingError as e:
            raise click.ClickException(str(e)) from None
        except DatabaseProblem as e:
            raise click.ClickException(messages.db_problem(e.kind, e.path, e.version, e.known)) from None
        except sqlite3.OperationalError as e:  # a lock held past the wait, a full disk: said, not a traceback
            why = storage_failure(e)
            if why == "locked":
                raise click.ClickException(messages.DB_BUSY) from None
            if why == "disk full":
                raise click.ClickException(messages.DB_FULL) from None
            raise


@click.group(cls=_Main, help="Nimo（にも）: にも包括の現場のためのチャットボット")
def main() -> None:
    pass


@main.command(help="ターミナルでチャットする（ユーザー terminal として。登録は不要）")
def chat() -> None:
    from bot.adapters.terminal import chat as run
    app = _app()
    interactive = sys.stdin.isatty()
    if interactive:
        click.echo("Nimo です。質問をどうぞ（「ヘルプ」で使い方、Ctrl-D で終了）。\n> ", nl=False)
    run(app, sys.stdin, sys.stdout, prompt="> " if interactive else "")


@main.command(help="質問に一度だけ答える。QUESTION に - を渡すと標準入力の1行ずつに答える")
@click.argument("question", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="JSON で出力する（- のときは1行に1件）")
def ask(question: tuple[str, ...], as_json: bool) -> None:
    from bot.adapters.terminal import render
    from bot.handlers.ask import search
    from bot.curation.gaps import log_gap
    app = _app()
    questions = (line.rstrip("\r\n") for line in sys.stdin) if question == ("-",) else [" ".join(question)]
    for q in questions:
        result, replies, gap = search(app, q)
        if gap:
            log_gap(app, "cli", q, gap)
        text = render(replies)
        if as_json:
            hits = result.hits if result is not None else ()
            obj = {"question": q, "answered": bool(hits), "reason": None if hits else gap, "answer": text,
                   "results": [{"id": h.case.id, "area": h.case.area, "title": h.case.title,
                                "section": h.case.section, "score": h.score} for h in hits]}
            click.echo(json.dumps(obj, ensure_ascii=False))
        else:
            click.echo(text)


@main.group(invoke_without_command=True, help="事例集を見る・確かめる・追加する")
@click.option("--json", "as_json", is_flag=True, help="すべての事例を全項目つきの JSON で出力する")
@click.pass_context
@with_db
def cases(db, ctx: click.Context, as_json: bool) -> None:
    if ctx.invoked_subcommand:
        return
    from casebase.cases import load_all
    all_cases = load_all(db)
    if as_json:
        click.echo(json.dumps([dict(c.data, local=c.local) for c in all_cases], ensure_ascii=False, indent=1))
        return
    for c in all_cases:
        click.echo(f"{c.id}\t{c.area}\t{c.title}" + ("\t（ローカル）" if c.local else ""))
    click.echo(f"全{len(all_cases)}件")


@cases.command("show", help="事例の全項目を表示する")
@click.argument("case_id")
@with_db
def cases_show(db, case_id: str) -> None:
    from knowledge.answer import detail_sections
    from casebase.cases import load_all
    found = [c for c in load_all(db) if c.id == case_id]
    if not found:
        raise click.ClickException(f"事例「{case_id}」はありません。`nimo cases` で一覧を見られます。")
    click.echo("\n\n".join(detail_sections(found[0])))


@cases.command("check", help="すべての事例を検証する（必須項目・型・手引きにない文）")
@with_db
def cases_check(db) -> None:
    from casebase.cases import CASES_DIR
    from casebase.validate import check_file, check_record
    from casebase.cases import load_local
    problems = []
    files = sorted(CASES_DIR.glob("*.yaml"))
    for p in files:
        problems += check_file(p)
    local = load_local(db)
    for c in local:
        problems += check_record(c.data, f"(ローカル) {c.id}", local=True)
    for p in problems:
        click.echo(str(p))
    if problems:
        click.echo(f"{len(problems)}件の問題があります。", err=True)
        sys.exit(1)
    click.echo(f"OK: {len(files)}件の事例とローカル事例{len(local)}件に問題はありません。")


@cases.command("import", help="自治体独自の事例（YAML）を検証して追加する")
@click.argument("file", type=click.Path(path_type=Path))
@with_db
def cases_import(db, file: Path) -> None:
    from casebase.cases import ImportError_, import_local
    from bot.app import utc_now
    try:
        case = import_local(db, file, now=utc_now().isoformat())
    except ImportError_ as e:
        for p in e.problems:
            click.echo(str(p), err=True)
        click.echo("取り込みませんでした。上の問題を直してからもう一度実行してください。", err=True)
        sys.exit(1)
    _forget_saved_index(db)
    click.echo(f"事例「{case.id}」（{case.area}）を追加しました。")


@cases.command("withdraw", help="自治体独自の事例を取り下げる（組み込みの事例は取り下げられない）")
@click.argument("case_id")
@with_db
def cases_withdraw(db, case_id: str) -> None:
    from casebase.cases import withdraw_local
    from bot import messages
    if not withdraw_local(db, case_id):
        raise click.ClickException(messages.no_local_case(case_id))
    _forget_saved_index(db)
    click.echo(messages.local_case_withdrawn(case_id))


def _forget_saved_index(db) -> None:
    """The saved case index no longer matches the cases: remove it now rather than leave it on disk
    until a worker saves the next one (its key is a hash of the cases, so it is never used again).
    The case base (casebase/) knows nothing of the search's index, so the command does this."""
    from knowledge.index_store import prune
    prune(db)


@main.command(help="答えられなかった質問と 👎 の一覧（多い順）")
@click.option("--json", "as_json", is_flag=True, help="JSON で出力する")
@with_db
def gaps(db, as_json: bool) -> None:
    from bot.curation.gaps import gap_report
    rows = gap_report(db)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo("記録はまだありません。")
        return
    click.echo("回数\t種類\t最後\t質問")
    for r in rows:
        q = " ".join(r["question"].split())
        click.echo(f"{r['count']}\t{r['kind']}\t{(r['last'] or '')[:10]}\t{q[:80] + ('…' if len(q) > 80 else '')}")


@main.command(help="チャットのルートを試す順に一覧する。--explain TEXT で、その文を受けるルートと理由を表示する"
                   "（試し用の空のデータベースで送るので、本番のデータには触れない）")
@click.option("--explain", "text", metavar="TEXT", help="説明する文")
@click.option("--platform", type=click.Choice([*PLATFORMS, "terminal"]), default="line",
              show_default=True, help="送った場所")
@click.option("--group-chat", is_flag=True, help="グループで送ったことにする（既定は1対1のトーク）")
@click.option("--role", type=click.Choice(["staff", "supervisor", "admin", "peer", "unregistered"]), default="staff",
              show_default=True, help="送った人の役割（unregistered: 未登録）")
@click.option("--button", is_flag=True, help="ボタンが送ったことにする")
@click.option("--after", multiple=True, metavar="TEXT", help="先に送っておく文（例: --after 報告）。何度でも指定できる")
def routes(text: str | None, platform: str, group_chat: bool, role: str, button: bool, after: tuple[str, ...]) -> None:
    from bot.handlers import registry
    if text is None:
        if after or button or group_chat:
            raise click.ClickException("--after・--button・--group-chat は --explain と一緒に使います。")
        for line in _explain_table(registry()):
            click.echo(line)
        return
    import tempfile
    from bot.app import build_app, utc_now
    from bot.chat.core import Incoming
    from bot.chat.explain import explain
    from storage.connections import open_db
    from bot.people.access import add_user
    with tempfile.TemporaryDirectory(prefix="nimo-explain-") as scratch:
        db = open_db(Path(scratch) / "explain.db")
        try:
            app = build_app(db=db, clock=utc_now)
            user = "U-explain"
            if role != "unregistered" and platform != "terminal":
                add_user(app.db, platform, user, role, "（試し）", utc_now())
            where = "G-explain" if group_chat else user
            for earlier in after:
                app.handle(Incoming(platform, user, where, earlier, not group_chat))
            msg = Incoming(platform, user, where, "" if button else text, not group_chat,
                           postback=text if button else None)
            said = explain(app, msg)
            click.echo(f"「{_shown(text)}」（{platform}、{'グループ' if group_chat else '1対1'}、{role}"
                       f"{'、ボタン' if button else ''}{'、先に: ' + ' / '.join(map(_shown, after)) if after else ''}）")
            for line in said.lines(app.registry):
                click.echo(line)
        finally:
            db.close()


def _explain_table(reg) -> list[str]:
    from bot.chat.explain import table
    return table(reg)


def _shown(text: str) -> str:
    """A text as an operator can read it on one line: control characters escaped, cut at 60."""
    flat = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    return flat if len(flat) <= 60 else flat[:60] + f"…（{len(text)}文字）"


# -- LINE and Slack ---------------------------------------------------------------------------
@main.command(help="LINE と Slack の webhook を受ける HTTP サーバーを動かす（Procfile の web:）")
@click.option("--check", is_flag=True, help="設定の有無だけを表示して終わる（値は表示しない）")
@click.option("--slack-socket-mode", is_flag=True, help="Slack を Socket Mode でつなぐ（公開 URL のない環境向け）")
@click.option("--host", default="0.0.0.0", show_default=True, help="待ち受けるアドレス")
@click.option("--port", type=int, default=None, help="待ち受けるポート（既定は環境変数 PORT、なければ 8000）")
@click.option("--no-worker", is_flag=True,
              help="nimo worker を起動しない（Procfile や systemd で worker を別に動かすとき）")
def serve(check: bool, slack_socket_mode: bool, host: str, port: int | None, no_worker: bool) -> None:
    import logging
    if check:
        settings = config.all_settings(os.environ)
        width = max(_display_width(s.name) for s in config.SETTINGS)
        for s in config.SETTINGS:
            value = settings[s.name]
            if s.name in config.SECRETS:
                shown = "設定済み" if value else "未設定"
            else:
                shown = value if value else "未設定"
            click.echo(f"{_pad(s.name, width)} {shown}")
        click.echo("")
        on = []
        for c in CONNECTORS:  # each platform says whether it is on, and why not
            state, said = c.checker()(settings, c)
            click.echo(said)
            on.append(state)
        if slack_socket_mode and not settings["SLACK_APP_TOKEN"]:
            click.echo("Socket Mode には SLACK_APP_TOKEN（xapp-…）が必要です")
        elif slack_socket_mode:
            from bot.adapters.config_check import problems
            for p in problems(settings, ("SLACK_APP_TOKEN",)):
                click.echo(p)
        _file_modes_check(settings)
        try:
            _settings()
        except config.SettingError as e:
            click.echo(str(e))
            sys.exit(1)
        sys.exit(0 if any(on) else 1)
    # Every check comes before anything starts, so a mistake never leaves a worker behind.
    settings = _settings()
    from storage.connections import is_memory
    if is_memory(settings.db):  # the web and worker processes cannot share one in memory
        from bot import messages
        raise click.ClickException(messages.SERVE_NEEDS_FILE)
    if slack_socket_mode and not (settings.slack_on and settings.slack_app_token):
        raise click.ClickException("Socket Mode には SLACK_BOT_TOKEN・SLACK_SIGNING_SECRET・SLACK_APP_TOKEN が必要です")
    from bot.serve.logs import configure
    configure()
    import threading
    from storage.connections import WEB_LOCK_WAIT_S, PerThreadDB
    from bot.serve.process import WorkerChild, on_stop_signals, serve_http
    from bot.serve.web import WebApp
    from bot.serve.webhooks import MAX_BODY
    from bot.console import MAX_REQUEST as CONSOLE_MAX
    from datetime import datetime, timezone
    # This process only verifies, stores and acknowledges; a `nimo worker` process answers, so
    # answering never holds up an acknowledgement (see benchmarks/bench_webhook.py).
    db = PerThreadDB(settings.db, new_db=settings.new_db, busy_timeout=WEB_LOCK_WAIT_S, warn=_warn)
    web = WebApp(db, lambda: datetime.now(timezone.utc), settings)
    stop = threading.Event()
    on_stop_signals(stop)
    child = None
    if not no_worker and any(c.on(settings) for c in CONNECTORS):
        child = WorkerChild()
        child.start()
    socket = None
    try:
        if slack_socket_mode:
            from bot.adapters.slack_socket import connect
            socket = connect(web, app_token=settings.slack_app_token, bot_token=settings.slack_bot_token,
                             base_url=settings.slack_api_base_url)
        # The console takes uploads of up to 1 MB in a form (and says so in Japanese above that);
        # the webhook paths still refuse more than MAX_BODY themselves.
        serve_http(web, host=host, port=port or settings.port, max_body=max(MAX_BODY, CONSOLE_MAX), stop=stop)
    finally:
        if socket is not None:
            socket.close()
        if child is not None:
            child.stop()
    logging.getLogger("nimo.process").info("stopped")


def _display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: two for a wide or full-width character (漢字, 「設定済み」)."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` columns (str.ljust counts characters, not columns)."""
    return text + " " * max(width - _display_width(text), 0)


def _file_modes_check(settings: dict) -> None:
    """Warn (never fail) about database, photo and backup files others may read: they hold
    personal data.  Files Nimo creates are owner-only; older ones, or copies, may not be."""
    from bot import messages
    from storage.files import open_files
    extra = [Path(settings["NIMO_BACKUP_DIR"])] if settings.get("NIMO_BACKUP_DIR") else []
    for p, mode in open_files(settings["NIMO_DB"], extra):
        click.echo(messages.file_mode_open(str(p), mode))


@main.command(help="LINE と Slack のイベントに答え、リマインドを送る処理（nimo serve が自動で起動する。"
                   "Procfile の worker: として単独でも動かせる）")
@click.option("--parent-pid", type=int, default=None, hidden=True,
              help="このプロセスが終わったら終わる（nimo serve が自分の pid を渡す）")
def worker(parent_pid: int | None) -> None:
    import os
    import threading
    from bot.serve.process import die_with_parent, on_stop_signals, run_worker
    # First of all, before the slow start: a stop asked while starting is not lost.
    stop = threading.Event()
    on_stop_signals(stop)
    if parent_pid is not None:
        die_with_parent(stop, parent_pid)
    from bot.serve.logs import configure
    from bot.serve.runtime import build_worker
    configure()
    parts = build_worker(_app(), _settings())
    if not parts.on:
        raise click.ClickException("LINE・Slack・LINE WORKS のどの設定もありません（nimo serve --check で確かめられます）")
    # Answering can wait a few milliseconds; acknowledging webhooks (the web process) cannot, so
    # on a small machine the worker yields the CPU to it.
    os.nice(5)
    run_worker(parts.start, parts.stops(), stop)


@main.command(help="動いている Nimo の状態（データベース・worker・スケジューラー・未処理の件数）を表示する")
@click.option("--json", "as_json", is_flag=True, help="JSON で出力する（/readyz と同じ）")
@with_db
def status(db, as_json: bool) -> None:
    from bot import messages
    from bot.app import utc_now
    from bot.serve.status import readiness
    r = readiness(db, utc_now)
    if as_json:
        click.echo(json.dumps(r, ensure_ascii=False, indent=1))
    else:
        age = r.get("worker_heartbeat_age_s")
        click.echo(f"データベース　　　{'書き込める' if r.get('database_writable') else '書き込めない（' + r.get('database_error', '') + '）'}")
        worker_on = "no_worker" not in r.get("problem_keys", ["no_worker"])
        click.echo(f"worker　　　　　　{'動いている' if worker_on else '止まっている'}"
                   + (f"（最後の応答 {age:.0f} 秒前）" if age is not None else "（応答の記録なし）"))
        sched = r.get("scheduler")
        click.echo(f"スケジューラー　　{'動いている（' + sched['holder'] + '）' if r.get('scheduler_running') else '止まっている'}")
        click.echo(f"未処理のイベント　{r.get('inbox_backlog', '?')}件（失敗 {r.get('inbox_failed', '?')}件）")
        fail = r.get("last_delivery_failure")
        click.echo(f"最後の送信失敗　　{messages.delivery_failure(fail)}")
        for name, p in (r.get("platforms") or {}).items():
            click.echo(f"{name}　{'つながる' if p['ok'] else 'つながらない（' + (p['detail'] or '') + '）'}")
        for problem in r.get("problems", []):  # why it is not ready (and why the exit code is 1)
            click.echo(problem)
    sys.exit(0 if r["ready"] else 1)


@main.group(help="利用者の登録・一覧・名前の変更・削除（管理者用）")
def users() -> None:
    pass


@users.command("add", help="利用者を登録する")
@click.option("--platform", type=click.Choice(PLATFORMS), required=True)
@click.option("--id", "user_id", required=True,
              help="LINE の userId（U と32桁）、Slack のユーザーID（U…／W…）、LINE WORKS の userId（xxxxxxxx-xxxx-…）")
@click.option("--role", type=click.Choice(["staff", "supervisor", "admin", "peer"]), default="staff", show_default=True)
@click.option("--area", required=True, help="担当地域（例：千葉市）")
@click.option("--name", default=None, help="一覧や書き出しに出す名前（例：佐藤（保健師））")
@with_db
def users_add(db, platform: str, user_id: str, role: str, area: str, name: str | None) -> None:
    from bot import messages
    from bot.people.access import AccessError, add_user, set_display_name
    from bot.app import utc_now
    from bot.people.names import clean_name, id_problem
    problem = id_problem(platform, user_id)
    if problem:
        raise click.ClickException(problem)
    if name is not None:
        _check_name(name)
    try:
        u = add_user(db, platform, user_id, role, area, utc_now())
    except AccessError as e:
        raise click.ClickException(str(e))
    if name is not None:
        set_display_name(db, u.platform, u.user_id, name)
    click.echo(f"登録しました：{u.platform} {u.user_id}（{u.role}、{u.area}）" + (f"「{clean_name(name)}」" if name else ""))
    if name is None:
        click.echo(messages.how_to_name(u.platform, u.user_id), err=True)


def _check_name(name: str) -> None:
    from bot import messages
    from bot.people.names import NAME_MAX, clean_name
    if clean_name(name) is None:
        raise click.ClickException(messages.NAME_EMPTY)
    if len(name.strip()) > NAME_MAX:
        raise click.ClickException(messages.name_too_long(NAME_MAX))


@users.command("list", help="登録されている利用者（名前・種類・ID・役割・地域）")
@click.option("--all", "everyone", is_flag=True, help="登録を解除した人も出す（最後の列に解除した日時）")
@with_db
def users_list(db, everyone: bool) -> None:
    from bot import messages
    from bot.people.access import list_users
    rows = list_users(db, include_removed=everyone)
    click.echo(messages.USERS_HEADER)
    for u in rows:
        gone = f"\t{messages.REMOVED_MARK} {u.removed_at[:16]}" if u.removed_at else ""
        click.echo(f"{u.display_name or messages.NAME_UNSET}\t{u.platform}\t{u.user_id}\t{u.role}\t{u.area}{gone}")
    click.echo(f"全{len(rows)}人")


@users.command("rename", help="利用者の名前（一覧・書き出し・管理画面に出る）を変える")
@click.argument("platform", type=click.Choice(PLATFORMS))
@click.argument("user_id")
@click.argument("name")
@with_db
def users_rename(db, platform: str, user_id: str, name: str) -> None:
    from bot import messages
    from bot.people.access import set_display_name
    from bot.people.names import clean_name
    _check_name(name)
    if not set_display_name(db, platform, user_id, name):
        raise click.ClickException(messages.not_registered(platform, user_id))
    click.echo(messages.renamed(platform, user_id, clean_name(name)))


@users.command("remove", help="利用者の登録を解除する（報告は名前のまま残る）。残っている計画・リマインダーは"
               "--to で引き継ぐか --cancel で取り消す")
@click.option("--platform", type=click.Choice(PLATFORMS), required=True)
@click.option("--id", "user_id", required=True)
@click.option("--to", "to", default=None, help="引き継ぐ人（PLATFORM:ID、同じ地域の登録中の人）")
@click.option("--cancel", is_flag=True, help="残っている訪問計画・訪問・リマインダーを取り消す（記録に残る）")
@with_db
def users_remove(db, platform: str, user_id: str, to: str | None, cancel: bool) -> None:
    from bot import messages
    from bot.people.access import AccessError
    from bot.app import utc_now
    from bot.people.departures import deactivate, name_of
    if to and cancel:
        raise click.ClickException(messages.REMOVE_CANCEL_AND_TO)
    try:
        gone = deactivate(db, platform, user_id, by="cli", now=utc_now(), to=to, cancel=cancel)
    except AccessError as e:
        raise click.ClickException(str(e))
    click.echo(messages.user_removed(name_of(gone.user), gone.work,
                                     name_of(gone.to) if gone.to is not None else None))


@users.command("restore", help="登録を解除した利用者を元に戻す")
@click.option("--platform", type=click.Choice(PLATFORMS), required=True)
@click.option("--id", "user_id", required=True)
@with_db
def users_restore(db, platform: str, user_id: str) -> None:
    from bot import messages
    from bot.people.access import AccessError
    from bot.people.departures import name_of, reactivate
    try:
        user = reactivate(db, platform, user_id)
    except AccessError as e:
        raise click.ClickException(str(e))
    click.echo(messages.user_reactivated(name_of(user)))


@main.group(help="招待コード（管理者用）")
def invite() -> None:
    pass


@invite.command("create", help="招待コードを作る。受け取った人が1対1のトークで「登録 コード」と送ると登録される")
@click.option("--role", type=click.Choice(["staff", "supervisor", "admin", "peer"]), default="staff", show_default=True)
@click.option("--area", required=True, help="担当地域（例：千葉市）")
@click.option("--days", type=click.IntRange(1, 90), default=7, show_default=True, help="有効な日数")
@with_db
def invite_create(db, role: str, area: str, days: int) -> None:
    from bot.people.access import AccessError, create_invite
    from bot.app import utc_now
    try:
        code = create_invite(db, role, area, utc_now(), days=days, created_by="cli")
    except AccessError as e:
        raise click.ClickException(str(e))
    click.echo(code)
    click.echo(f"（{area}・{role}、{days}日間有効、1回限り。「登録 {code}」と送ってもらってください。"
               "コードは今だけ表示されます。グループに貼られたコードは無効になります）", err=True)


@main.group(help="管理画面（ブラウザ）")
def console() -> None:
    pass


@console.command("link", help="管理画面へのログインリンクを作る（10分間・1回限り）。URL は最後の行に出る")
@click.option("--platform", type=click.Choice(PLATFORMS), required=True)
@click.option("--id", "user_id", required=True, help="登録済みの利用者のID")
@with_db
def console_link(db, platform: str, user_id: str) -> None:
    from bot import messages
    from bot.people.access import get_user
    from bot.app import utc_now
    from bot.console import auth
    user = get_user(db, platform, user_id)
    if user is None:
        raise click.ClickException(f"{platform} の {user_id} は登録されていません（nimo users add で登録できます）")
    if not auth.may_sign_in(user):
        raise click.ClickException(messages.CONSOLE_LINK_PEER)
    base = _settings().public_url
    if not base:
        base = f"http://localhost:{_settings().port}"
        click.echo(f"NIMO_PUBLIC_URL が未設定のため {base} を使います", err=True)
    token = auth.new_link(db, platform, user_id, utc_now())
    click.echo(f"{user.area}・{user.role} としてログインするリンクです（{auth.LINK_MINUTES}分間、1回限り）：")
    click.echo(auth.link_url(base, token))


@main.group(help="LINE の設定（管理者用）")
def line() -> None:
    pass


@line.command("richmenu", help="リッチメニュー（質問する／予定／報告）を作り、全員の既定にする")
@click.option("--image", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="2500×843 の PNG（既定は同梱の画像）")
def line_richmenu(image: Path | None) -> None:
    from bot.adapters.line_richmenu import create_rich_menu
    settings = _settings()
    if not settings.line_channel_access_token:
        raise click.ClickException("LINE_CHANNEL_ACCESS_TOKEN が設定されていません")
    menu_id = create_rich_menu(access_token=settings.line_channel_access_token,
                               base_url=settings.line_api_base_url, data_url=settings.line_api_data_base_url,
                               image=image)
    click.echo(f"リッチメニューを作り、既定にしました：{menu_id}")


@main.group(help="LINE WORKS の設定（管理者用）")
def lineworks() -> None:
    pass


@lineworks.command("menu", help="Bot の固定メニュー（質問する／予定／報告）を設定する")
def lineworks_menu() -> None:
    from bot.adapters.lineworks_menu import set_menu
    settings = _settings()
    if not settings.lineworks_on:
        raise click.ClickException("LINE WORKS の設定が足りません（nimo serve --check で確かめられます）")
    try:
        labels = set_menu(settings)
    except ValueError as e:
        raise click.ClickException(str(e))
    click.echo(f"固定メニューを設定しました：{'／'.join(labels)}")


@main.group(help="リマインド・イベント・訪問予定（管理者用）")
def remind() -> None:
    pass


@remind.command("list", help="登録中のリマインドの一覧")
@click.option("--json", "as_json", is_flag=True, help="JSON で出力する")
@click.option("--user", "user", default=None, help="この利用者（ユーザーID、ターミナルは terminal）の分だけ")
@with_db
def remind_list(db, as_json: bool, user: str | None) -> None:
    from bot import messages
    from scheduler import store
    from scheduler.workdays import TZ
    from bot.people.names import namer
    rows = [r for r in store.active(db) if user is None or r.owner == user]
    name = namer(db)
    if as_json:
        click.echo(json.dumps([{
            "id": r.id, "kind": r.kind, "platform": r.platform, "user": r.owner, "name": name(r.platform, r.owner),
            "target": r.target,
            "group": r.is_group, "title": r.title, "due_at": r.due_at.astimezone(TZ).isoformat(),
            "recurrence": r.recurrence.describe() if r.recurrence else None} for r in rows], ensure_ascii=False, indent=1))
        return
    for r in rows:
        when = r.recurrence.describe() if r.recurrence else messages.fmt_when(r.due_at.astimezone(TZ))
        click.echo(f"{r.id}\t{r.platform}\t{name(r.platform, r.owner)}\t{when}\t{r.title}")
    click.echo(f"全{len(rows)}件")


@remind.command("cancel", help="リマインドを取り消す")
@click.argument("reminder_id", type=int)
@with_db
def remind_cancel(db, reminder_id: int) -> None:
    from scheduler import store
    from bot.app import utc_now
    r = store.get(db, reminder_id)
    if r is None or r.status != "active":
        raise click.ClickException(f"番号 {reminder_id} の登録中のリマインドはありません")
    if r.kind == "event" and r.event_id:  # a notice of an event: the event ends with all its notices, as 取消 in chat
        store.cancel_event(db, r.event_id, utc_now())
        click.echo(f"イベントを取り消しました（お知らせもすべて）：{reminder_id} {r.title}")
        return
    store.set_status(db, reminder_id, "cancelled", utc_now())
    click.echo(f"取り消しました：{reminder_id} {r.title}")


@main.group(help="現場報告の一覧・書き出し・保存期間による削除（管理者用）")
def reports() -> None:
    pass


def _report_rows(db, rows):
    """Reports with their number and their author's name (see bot/people/names.py)."""
    from bot.people.names import namer
    from bot.reports.records import number
    name = namer(db)
    photos = dict(db.execute("SELECT report_id, COUNT(*) FROM report_photos GROUP BY report_id").fetchall())
    return [dict(r, number=number(r["id"]), display_name=name(r["platform"], r["author"]), photos=photos.get(r["id"], 0))
            for r in rows]


@reports.command("list", help="報告の一覧（新しい順）")
@click.option("--json", "as_json", is_flag=True, help="JSON で出力する")
@click.option("--limit", type=int, default=50, show_default=True)
@with_db
def reports_list(db, as_json: bool, limit: int) -> None:
    from bot.reports.records import recent
    from bot.reports.exports import COLUMNS
    rows = _report_rows(db, recent(db, limit=limit))
    if as_json:
        click.echo(json.dumps([dict({k: r[k] for k, _ in COLUMNS}, author_name=r["display_name"]) for r in rows],
                              ensure_ascii=False, indent=1))
        return
    for r in rows:
        click.echo(f"{r['number']}\t{r['date']}\t{r['type']}\t{r['case_code'] or ''}\t{r['summary'][:40]}")
    click.echo(f"{len(rows)}件")


@reports.command("export", help="報告を CSV（Excel で開ける UTF-8 BOM 付き）か xlsx に書き出す")
@click.option("--from", "since", default=None, help="この日から（YYYY-MM-DD）")
@click.option("--to", "until", default=None, help="この日まで（YYYY-MM-DD）")
@click.option("--area", default=None)
@click.option("--type", "rtype", type=click.Choice(report_types.TYPES),
              default=None)
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default=None,
              help="csv か xlsx（既定は書き出し先の拡張子から。.xlsx 以外は csv）")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True, help="書き出すファイル")
@with_db
def reports_export(db, since, until, area, rtype, fmt, output: Path) -> None:
    import datetime as _dt
    from bot.reports import exports as report_export
    from bot.reports.records import query
    for v, name in ((since, "--from"), (until, "--to")):
        if v:
            try:
                _dt.date.fromisoformat(v)
            except ValueError:
                raise click.ClickException(f"{name} は YYYY-MM-DD の形で指定してください（例：2026-11-01）")
    try:
        fmt = report_export.format_for(output, fmt)
    except ValueError as e:
        raise click.ClickException(str(e))
    rows = _report_rows(db, query(db, since=since, until=until, area=area, rtype=rtype))
    if fmt == "csv":
        with open(output, "wb") as f:
            for chunk in report_export.csv_chunks(rows):
                f.write(chunk)
    else:
        report_export.write_xlsx(rows, output)
    click.echo(f"{len(rows)}件を書き出しました：{output}")


@reports.command("summary", help="先週の報告の件数（種類別・地域別）を表示する")
@with_db
def reports_summary(db) -> None:
    from bot.app import utc_now
    from scheduler.workdays import TZ
    from bot.reports.summary import text
    click.echo(text(db, utc_now().astimezone(TZ).date()))


@reports.command("purge", help="保存期間を過ぎた報告を消す（既定は確認だけ。--yes で実行）")
@click.option("--days", type=click.IntRange(1, 36500), required=True, help="この日数より前の報告が対象")
@click.option("--yes", is_flag=True, help="実際に消す")
@with_db
def reports_purge(db, days: int, yes: bool) -> None:
    from bot.app import utc_now
    from bot.chat.dialogs import Dialogs
    from bot.handlers import registry
    from bot.reports.records import number, purge
    ids = purge(db, days=days, now=utc_now(), apply=yes, dialogs=Dialogs(db, registry()))
    verb = "消しました" if yes else "消す対象です（--yes を付けると消します）"
    click.echo(f"{len(ids)}件を{verb}" + (f"：{', '.join(number(i) for i in ids[:20])}" if ids else ""))


@main.command(help="データベースと報告の写真を、動いている間でも一貫した形で PATH と PATH.photos/ に複製する")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    from bot import messages
    from storage.backup import BackupError, backup as run
    db_path = Path(_settings().db)
    try:
        _check_for_backup(db_path)
        done = run(db_path, path)
    except BackupError as e:
        raise click.ClickException(messages.backup_problem(e.code, e.path, e.why))
    click.echo(messages.backup_done(str(done.path), done.photos))


def _check_for_backup(db_path: Path) -> None:
    """A backup of a damaged or foreign file would only look like a backup: refuse it, as a start is."""
    from bot import messages
    from storage.backup import BackupError
    from storage.connections import is_memory
    from storage.files import check
    from storage.migrations import MIGRATIONS
    if is_memory(db_path):
        raise BackupError("memory", str(db_path))
    if not db_path.exists():
        raise click.ClickException(messages.no_database(str(db_path)))
    for notice in check(db_path, known_version=len(MIGRATIONS)):
        _warn(notice)


@main.command(help="nimo backup で作ったバックアップ PATH を NIMO_DB に戻す（確かめてから。今のファイルは別名で残す）")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="worker が動いていても戻す（動いている間に書かれた分は失われる）")
def restore(path: Path, force: bool) -> None:
    from bot import messages
    from bot.app import utc_now
    from storage.backup import BackupError, restore as run
    from storage.migrations import MIGRATIONS
    try:
        done = run(_settings().db, path, known_version=len(MIGRATIONS), now=utc_now(), force=force)
    except BackupError as e:
        raise click.ClickException(messages.backup_problem(e.code, e.path, e.why))
    click.echo(messages.restored(str(path), str(done.aside) if done.aside else "（なし）", done.photos, done.carried))
