"""The ``nimo`` command.  Every sub-command builds the app the same way (``build_app``) and reads
the database named by ``NIMO_DB``; errors are said in Japanese with a non-zero exit, never as a
traceback."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import config


def _app():
    from .app import build_app
    return build_app(db_path=config.get("NIMO_DB"))


@click.group(help="Nimo（にも）: にも包括の現場のためのチャットボット")
def main() -> None:
    pass


@main.command(help="ターミナルでチャットする（ユーザー terminal として。登録は不要）")
def chat() -> None:
    from .adapters.terminal import chat as run
    app = _app()
    interactive = sys.stdin.isatty()
    if interactive:
        click.echo("Nimo です。質問をどうぞ（「ヘルプ」で使い方、Ctrl-D で終了）。\n> ", nl=False)
    run(app, sys.stdin, sys.stdout, prompt="> " if interactive else "")


@main.command(help="質問に一度だけ答える。QUESTION に - を渡すと標準入力の1行ずつに答える")
@click.argument("question", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="JSON で出力する（- のときは1行に1件）")
def ask(question: tuple[str, ...], as_json: bool) -> None:
    from .adapters.terminal import render
    from .handlers.ask import search
    from .handlers.gaps import log_gap
    app = _app()
    questions = (line.rstrip("\r\n") for line in sys.stdin) if question == ("-",) else [" ".join(question)]
    for q in questions:
        result, replies, gap = search(app, q)
        if gap:
            log_gap(app, "cli", q, gap)
        text = render(replies)
        if as_json:
            hits = result.hits if result is not None else ()
            obj = {"question": q, "answered": bool(hits), "answer": text,
                   "results": [{"id": h.case.id, "area": h.case.area, "title": h.case.title,
                                "section": h.case.section, "score": h.score} for h in hits]}
            click.echo(json.dumps(obj, ensure_ascii=False))
        else:
            click.echo(text)


@main.group(invoke_without_command=True, help="事例集を見る・確かめる・追加する")
@click.option("--json", "as_json", is_flag=True, help="すべての事例を全項目つきの JSON で出力する")
@click.pass_context
def cases(ctx: click.Context, as_json: bool) -> None:
    if ctx.invoked_subcommand:
        return
    from knowledge.cases import load_all
    from .db import open_db
    all_cases = load_all(open_db(config.get("NIMO_DB")))
    if as_json:
        click.echo(json.dumps([dict(c.data, local=c.local) for c in all_cases], ensure_ascii=False, indent=1))
        return
    for c in all_cases:
        click.echo(f"{c.id}\t{c.area}\t{c.title}" + ("\t（ローカル）" if c.local else ""))
    click.echo(f"全{len(all_cases)}件")


@cases.command("show", help="事例の全項目を表示する")
@click.argument("case_id")
def cases_show(case_id: str) -> None:
    from knowledge.answer import detail_sections
    from knowledge.cases import load_all
    from .db import open_db
    found = [c for c in load_all(open_db(config.get("NIMO_DB"))) if c.id == case_id]
    if not found:
        raise click.ClickException(f"事例「{case_id}」はありません。`nimo cases` で一覧を見られます。")
    click.echo("\n\n".join(detail_sections(found[0])))


@cases.command("check", help="すべての事例を検証する（必須項目・型・手引きにない文）")
def cases_check() -> None:
    from knowledge.cases import CASES_DIR
    from knowledge.validate import check_file, check_record
    from knowledge.cases import load_local
    from .db import open_db
    problems = []
    files = sorted(CASES_DIR.glob("*.yaml"))
    for p in files:
        problems += check_file(p)
    local = load_local(open_db(config.get("NIMO_DB")))
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
def cases_import(file: Path) -> None:
    from knowledge.cases import ImportError_, import_local
    from .app import utc_now
    from .db import open_db
    try:
        case = import_local(open_db(config.get("NIMO_DB")), file, now=utc_now().isoformat())
    except ImportError_ as e:
        for p in e.problems:
            click.echo(str(p), err=True)
        click.echo("取り込みませんでした。上の問題を直してからもう一度実行してください。", err=True)
        sys.exit(1)
    click.echo(f"事例「{case.id}」（{case.area}）を追加しました。")


@main.command(help="答えられなかった質問と 👎 の一覧（多い順）")
@click.option("--json", "as_json", is_flag=True, help="JSON で出力する")
def gaps(as_json: bool) -> None:
    from .db import open_db
    from .handlers.gaps import gap_report
    rows = gap_report(open_db(config.get("NIMO_DB")))
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
